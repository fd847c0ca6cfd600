// The Raters panel of the disagreement view: one row per rater (colour, name, object count,
// STAPLE estimates of its label map) and the consensus, each with a visibility toggle.

import { keyText } from '../../viewer/toolDefs';
import { stapleText } from './raters';
import type { RatersState } from './useRaters';

/** The key that shows or hides every rater at once. */
export const RATERS_KEY = 'D';

export function RatersPanel({ raters }: { raters: RatersState }) {
  const { rows, visible } = raters;
  if (rows.length === 0) return null;
  const allOn = rows.every((r) => visible.has(r.key));
  return (
    <section className="raters-panel" aria-label="Raters" data-testid="raters-panel">
      <div className="raters-head">
        <h3>Raters</h3>
        <button type="button" className="link-btn small" onClick={raters.toggleAll} title={`Show or hide all (${keyText(RATERS_KEY)})`} data-testid="raters-toggle-all">
          {allOn ? 'Hide all' : 'Show all'}
        </button>
      </div>
      <ul className="raters-list">
        {rows.map((r) => (
          <li key={r.key} className="rater-row" data-testid="rater-row" data-key={r.key} data-color={r.color} data-visible={visible.has(r.key) ? 'yes' : 'no'}>
            <label>
              <input type="checkbox" checked={visible.has(r.key)} onChange={() => raters.toggle(r.key)} aria-label={`Show ${r.name}`} data-testid="rater-toggle" />
              <span className="rater-swatch" style={{ background: r.color }} aria-hidden />
              <span className="rater-name" title={r.name}>
                {r.name}
              </span>
              <span className="rater-count">{r.count === 1 ? '1 object' : `${r.count} objects`}</span>
            </label>
            {r.staple && (
              <div className="rater-staple small" title="STAPLE estimates of this rater's label map: sensitivity per label, specificity of the background">
                {stapleText(r.staple)}
              </div>
            )}
          </li>
        ))}
      </ul>
      {raters.error && <p className="small rater-error">{raters.error}</p>}
    </section>
  );
}
