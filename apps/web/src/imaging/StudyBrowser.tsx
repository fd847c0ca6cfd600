// Study / series browser of a task: studies (pseudonym, date, description) with their series as
// cards: thumbnail, modality, number/description, kind, dimensions, spacing, flags and issues.
// Non-image objects (SEG, RTSTRUCT, SR) are listed as linked objects of their series.

import { useState } from 'react';
import { enc } from '../api';
import type { Asset, Series, Study } from '../types';
import { flagText, flagTone } from './ingest';
import { AssetPreview } from './IngestPanel';
import { imagingOf } from './SliceViewer';

export function thumbnailUrl(assetId: string): string {
  return `/api/assets/${enc(assetId)}/thumbnail`;
}

/** "20240131" → "2024-01-31" (DICOM DA); anything else as is. */
export function formatDicomDate(d: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(d.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}` : d || 'no study date';
}

export function StudyBrowser({ studies }: { studies: Study[] }) {
  const [preview, setPreview] = useState<string | null>(null);
  return (
    <div className="stack" data-testid="study-browser">
      {studies.map((st) => (
        <div className="card" key={st.id} data-testid="study">
          <div className="card-header">
            <h3>
              <span className="mono" data-testid="study-patient">
                {st.patientId || 'Unknown patient'}
              </span>{' '}
              <span className="muted small">· {formatDicomDate(st.studyDate)}</span>
            </h3>
            <span className="muted small">
              {st.description || 'No study description'} · {st.series.length} {st.series.length === 1 ? 'series' : 'series'}
            </span>
          </div>
          <div className="card-body series-grid">
            {st.series.map((se) => (
              <SeriesCard key={se.id} series={se} onView={setPreview} />
            ))}
          </div>
        </div>
      ))}
      {preview && <AssetPreview assetId={preview} onClose={() => setPreview(null)} />}
    </div>
  );
}

function SeriesCard({ series, onView }: { series: Series; onView: (id: string) => void }) {
  const images = series.assets.filter((a) => a.modality !== 'dicom-object');
  const objects = series.assets.filter((a) => a.modality === 'dicom-object');
  const main = images[0];
  return (
    <div className="series-card" data-testid="series-card" data-modality={series.modality}>
      <div className="series-head">
        <span className="badge">{series.modality || 'OT'}</span>
        <strong className="series-title">
          {series.number !== null ? `#${series.number} ` : ''}
          {series.description || 'No series description'}
        </strong>
      </div>
      {images.length === 0 && objects.length > 0 && <div className="muted small">Non-image objects only.</div>}
      {images.map((a) => (
        <AssetSummary key={a.id} asset={a} onView={onView} />
      ))}
      <div className="muted small" data-testid="series-instances">
        {series.instanceCount} {series.instanceCount === 1 ? 'instance' : 'instances'}
      </div>
      {objects.length > 0 && (
        <div className="series-objects" data-testid="series-objects">
          <div className="small muted">Linked objects</div>
          <ul>
            {objects.map((o) => (
              <li key={o.id} className="small">
                <span className="badge">{imagingOf(o)?.modality ?? 'OBJ'}</span> {o.name}
              </li>
            ))}
          </ul>
        </div>
      )}
      {!main && objects.length === 0 && <div className="muted small">No asset was built from this series.</div>}
    </div>
  );
}

function AssetSummary({ asset, onView }: { asset: Asset; onView: (id: string) => void }) {
  const m = imagingOf(asset);
  const [thumbFailed, setThumbFailed] = useState(false);
  const badges: { code: string; text: string; title?: string }[] = [];
  if (asset.hold === 'burned-in') badges.push({ code: 'burned-in', text: 'burned-in: waiting for review' });
  for (const f of m?.flags ?? []) if (f !== 'burned-in') badges.push({ code: f, text: flagText(f) });
  for (const i of m?.issues ?? []) if (!badges.some((b) => b.code === i.code)) badges.push({ code: i.code, text: flagText(i.code), title: i.message });
  return (
    <div className="series-asset" data-testid="series-asset">
      <button type="button" className="series-thumb" onClick={() => onView(asset.id)} title="Open in the slice viewer" data-testid="series-open">
        {asset.hasThumbnail && !thumbFailed ? (
          <img
            src={thumbnailUrl(asset.id)}
            alt={`Thumbnail of ${asset.name}`}
            loading="lazy"
            className={m && Math.max(m.dims[0], m.dims[1]) < 64 ? 'small-thumb' : ''}
            data-testid="series-thumbnail"
            onError={() => setThumbFailed(true)}
          />
        ) : (
          <span className="faint small">No preview</span>
        )}
      </button>
      <div className="series-facts small">
        <div>
          <span className="badge">{m?.kind ?? asset.modality}</span>{' '}
          {m && (
            <span className="mono" data-testid="series-dims">
              {m.dims[0]}×{m.dims[1]}×{m.dims[2]}
              {m.timepoints > 1 ? ` (${m.timepoints} timepoints)` : ''}
            </span>
          )}
        </div>
        {m?.spacing && (
          <div className="muted mono" data-testid="series-spacing">
            {m.spacing.map((s) => fmtMm(s)).join(' × ')} mm
          </div>
        )}
        {m && (
          <div className="muted">
            {m.dtype}
            {m.samples > 1 ? ` · ${m.samples} samples` : ''} · {m.photometric}
          </div>
        )}
        {badges.length > 0 && (
          <div className="row wrap">
            {badges.map((b) => (
              <span key={b.code} className={`badge tone-${flagTone(b.code)}`} title={b.title} data-testid="series-flag" data-flag={b.code}>
                {b.text}
              </span>
            ))}
          </div>
        )}
      </div>
    </div>
  );
}

function fmtMm(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 1 ? 3 : 2);
}
