// Side-panel pieces of the imaging workspace that work on the document directly: tags scoped
// to the series or to the slice/frame in view, and the attribute form of the selected object.

import { voxelToLps } from '@caliper/core/mpr';
import type { AnyObject, AttributeValue, LabelSchema } from '../types';
import { AttributeInput } from '../workspace/LabelPanel';
import { defaultAttributeValues, uuid } from '../workspace/tags';
import type { EditObjects } from './types';

type Scope = { type: 'study' } | { type: 'series' } | { type: 'slice'; k: number } | { type: 'frame'; frame: number };

const sameScope = (a: unknown, b: Scope) => {
  const s = a as { type?: string; k?: number; frame?: number } | undefined;
  if (!s || s.type !== b.type) return false;
  if (b.type === 'slice') return s.k === b.k;
  if (b.type === 'frame') return s.frame === b.frame;
  return true;
};

export function scopeText(scope: unknown): string {
  const s = scope as { type?: string; k?: number; frame?: number } | undefined;
  if (s?.type === 'slice') return `slice ${(s.k ?? 0) + 1}`;
  if (s?.type === 'frame') return `frame ${(s.frame ?? 0) + 1}`;
  if (s?.type === 'series') return 'series';
  if (s?.type === 'study') return 'study';
  return 'asset';
}

/** Toggles of the schema's tag labels for the series and for the current slice (or frame). */
export function ScopedTags(props: {
  schema: LabelSchema;
  objects: AnyObject[];
  slice: number;
  sliceScope: 'slice' | 'frame';
  userId: string;
  editable: boolean;
  onEdit: EditObjects;
  onJump: (slice: number) => void;
}) {
  const labels = props.schema.labels.filter((l) => l.kinds.includes('tag'));
  const here: Scope = props.sliceScope === 'slice' ? { type: 'slice', k: props.slice } : { type: 'frame', frame: props.slice };
  const toggle = (label: string, scope: Scope) =>
    props.onEdit((objects) => {
      const has = objects.some((o) => o.kind === 'tag' && o.label === label && sameScope(o.scope, scope));
      if (has) return objects.filter((o) => !(o.kind === 'tag' && o.label === label && sameScope(o.scope, scope)));
      const now = new Date().toISOString();
      const def = props.schema.labels.find((l) => l.name === label);
      return [...objects, { id: uuid(), kind: 'tag', scope, label, attributes: defaultAttributeValues(def), source: 'manual', createdBy: props.userId, createdAt: now, updatedAt: now }];
    });
  const sliceTags = props.objects.filter((o) => o.kind === 'tag' && ['slice', 'frame'].includes((o.scope as { type?: string } | undefined)?.type ?? ''));
  if (labels.length === 0) return <p className="ws-empty small">No label in this project allows the kind "tag".</p>;
  return (
    <div className="scoped-tags" data-testid="scoped-tags">
      {(
        [
          ['Study', { type: 'study' } as Scope],
          ['Series', { type: 'series' } as Scope],
          [props.sliceScope === 'slice' ? `Slice ${props.slice + 1}` : `Frame ${props.slice + 1}`, here],
        ] as const
      ).map(([title, scope]) => (
        <div key={title} className="scoped-tags-row">
          <span className="small muted">{title}</span>
          <div className="tag-chip-row">
            {labels.map((l) => {
              const on = props.objects.some((o) => o.kind === 'tag' && o.label === l.name && sameScope(o.scope, scope));
              return (
                <button
                  key={l.name}
                  type="button"
                  className={`tag-chip${on ? ' on' : ''}`}
                  style={{ ['--label-color' as string]: l.color }}
                  aria-pressed={on}
                  disabled={!props.editable}
                  onClick={() => toggle(l.name, scope)}
                  data-testid={`scoped-tag-${scope.type}`}
                  data-label={l.name}
                >
                  <span className="swatch" style={{ background: l.color }} />
                  {l.name}
                </button>
              );
            })}
          </div>
        </div>
      ))}
      {sliceTags.length > 0 && (
        <ul className="plain-list small">
          {sliceTags.map((t) => {
            const s = t.scope as { type: string; k?: number; frame?: number };
            const at = s.type === 'slice' ? s.k! : s.frame!;
            return (
              <li key={t.id}>
                <button type="button" className="link-btn" onClick={() => props.onJump(at)}>
                  {t.label} · {scopeText(t.scope)}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

/** The attributes of one object, validated as the annotator types (the server checks again). */
export function ObjectAttributes(props: { schema: LabelSchema; object: AnyObject; editable: boolean; onEdit: EditObjects }) {
  const def = props.schema.labels.find((l) => l.name === props.object.label);
  if (!def) return <p className="field-error small">The label "{props.object.label}" is not in the project's schema.</p>;
  if (def.attributes.length === 0) return <p className="small muted">"{def.name}" has no attributes.</p>;
  const set = (name: string, value: AttributeValue | undefined) =>
    props.onEdit(
      (objects) =>
        objects.map((o) => {
          if (o.id !== props.object.id) return o;
          const attributes = { ...o.attributes };
          if (value === undefined) delete attributes[name];
          else attributes[name] = value;
          return { ...o, attributes, updatedAt: new Date().toISOString() };
        }),
      `attr:${props.object.id}:${name}`,
    );
  return (
    <fieldset className="attr-form" data-testid="object-attributes" disabled={!props.editable}>
      {def.attributes.map((a) => (
        <AttributeInput key={a.name} tagId={props.object.id} attr={a} value={props.object.attributes[a.name]} onChange={(v) => set(a.name, v)} />
      ))}
    </fieldset>
  );
}

/** The points of a landmarks object with their voxel index and patient position (LPS mm). */
export function LandmarkTable(props: { object: AnyObject; affine: number[][] | null; onJump: (slice: number) => void }) {
  const points = (props.object.points as { name: string; i?: number; j?: number; k?: number; x?: number; y?: number }[] | undefined) ?? [];
  return (
    <table className="lm-table small" data-testid="landmark-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Voxel</th>
          <th>{props.affine ? 'LPS (mm)' : 'Pixel'}</th>
        </tr>
      </thead>
      <tbody>
        {points.map((p) => {
          const voxel = p.k !== undefined && p.i !== undefined && p.j !== undefined;
          const lps = voxel && props.affine ? voxelToLps(props.affine, [p.i!, p.j!, p.k!]) : null;
          return (
            <tr key={p.name}>
              <td>
                {voxel ? (
                  <button type="button" className="link-btn" onClick={() => props.onJump(Math.round(p.k!))} title="Show this slice">
                    {p.name}
                  </button>
                ) : (
                  p.name
                )}
              </td>
              <td className="mono">{voxel ? `${p.i!.toFixed(1)}, ${p.j!.toFixed(1)}, ${p.k!.toFixed(1)}` : `${p.x?.toFixed(1)}, ${p.y?.toFixed(1)}`}</td>
              <td className="mono" data-testid="landmark-lps">{lps ? lps.map((v) => v.toFixed(1)).join(', ') : '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
