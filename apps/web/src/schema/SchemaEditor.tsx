import { useState, type KeyboardEvent } from 'react';
import type { FieldError } from '../api';
import { ATTRIBUTE_TYPES, OBJECT_KINDS, type AttributeType } from '../types';
import { newAttr, newLabel, type DraftAttr, type DraftLabel } from './draft';

interface Props {
  labels: DraftLabel[];
  onChange: (labels: DraftLabel[]) => void;
  errors: FieldError[];
  readOnly?: boolean;
}

function errorsAt(errors: FieldError[], path: string): string[] {
  return errors.filter((e) => e.path === path || e.path.startsWith(path + '.')).map((e) => e.message);
}

function FieldErr({ errors, path, exact }: { errors: FieldError[]; path: string; exact?: boolean }) {
  const msgs = exact ? errors.filter((e) => e.path === path).map((e) => e.message) : errorsAt(errors, path);
  if (!msgs.length) return null;
  return (
    <span className="field-error" data-testid="schema-error" data-path={path}>
      {msgs.join(' ')}
    </span>
  );
}

const KIND_HELP: Record<string, string> = { tag: 'tag (classification)' };

export function SchemaEditor({ labels, onChange, errors, readOnly }: Props) {
  const [showAllKinds, setShowAllKinds] = useState(false);
  const update = (i: number, patch: Partial<DraftLabel>) => onChange(labels.map((l, j) => (j === i ? { ...l, ...patch } : l)));
  const updateAttr = (i: number, j: number, patch: Partial<DraftAttr>) =>
    update(i, { attributes: labels[i]!.attributes.map((a, k) => (k === j ? { ...a, ...patch } : a)) });

  // Known paths render inline; anything else is listed above the editor.
  const known = (p: string) => /^labels\.\d+\.(name|color|shortcut|kinds|landmarks|attributes\.\d+\.(name|type|options|min|max|step|required|maxLength|default))/.test(p);
  const general = errors.filter((e) => !known(e.path));
  // The keys the workspace will give labels without their own shortcut (1–9 in order).
  const autoKeys = (() => {
    const taken = new Set(labels.filter((l) => l.kinds.includes('tag')).map((l) => l.shortcut.trim().toLowerCase()).filter(Boolean));
    const free = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].filter((d) => !taken.has(d));
    return labels.map((l) => (l.kinds.includes('tag') && !l.shortcut.trim() ? (free.shift() ?? '') : ''));
  })();
  const kinds = showAllKinds ? OBJECT_KINDS : OBJECT_KINDS.filter((k) => k === 'tag' || labels.some((l) => l.kinds.includes(k)));

  return (
    <div data-testid="schema-editor">
      {general.length > 0 && (
        <div className="alert alert-error" role="alert" style={{ marginBottom: 12 }}>
          <ul style={{ margin: 0 }}>
            {general.map((e, i) => (
              <li key={i}>
                {e.path && <code>{e.path}</code>} {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {labels.length === 0 && <div className="card card-body empty">No labels yet. Add the first label to start.</div>}
      {labels.map((l, i) => (
        <fieldset className="label-card" key={l._key} data-testid="label-row" disabled={readOnly} style={{ padding: 0, margin: '0 0 12px' }}>
          <legend className="sr-only">Label {i + 1}</legend>
          <div className="label-card-head">
            <label className="field">
              <span className="label">Colour</span>
              <input
                className="input"
                type="color"
                value={/^#[0-9a-fA-F]{6}$/.test(l.color) ? l.color : '#888888'}
                onChange={(e) => update(i, { color: e.target.value })}
                data-testid="label-color"
                aria-label={`Colour of label ${i + 1}`}
              />
              <FieldErr errors={errors} path={`labels.${i}.color`} />
            </label>
            <label className="field">
              <span className="label">Name</span>
              <input
                className={`input ${errorsAt(errors, `labels.${i}.name`).length ? 'invalid' : ''}`}
                value={l.name}
                placeholder="e.g. Pneumonia"
                onChange={(e) => update(i, { name: e.target.value })}
                data-testid="label-name"
              />
              <FieldErr errors={errors} path={`labels.${i}.name`} />
            </label>
            <label className="field">
              <span className="label">Shortcut</span>
              <input
                className={`input mono ${errorsAt(errors, `labels.${i}.shortcut`).length ? 'invalid' : ''}`}
                value={l.shortcut}
                maxLength={1}
                placeholder={autoKeys[i] ? `auto: ${autoKeys[i]}` : 'none'}
                onChange={(e) => update(i, { shortcut: e.target.value.toLowerCase() })}
                data-testid="label-shortcut"
                title="One key, 0–9 or a–z. Empty: number keys 1–9 in order."
              />
              <FieldErr errors={errors} path={`labels.${i}.shortcut`} />
            </label>
            <div className="row" style={{ paddingBottom: 4 }}>
              <button type="button" className="btn btn-sm btn-ghost" disabled={i === 0} onClick={() => onChange(move(labels, i, i - 1))} aria-label="Move up" title="Move up">
                ↑
              </button>
              <button type="button" className="btn btn-sm btn-ghost" disabled={i === labels.length - 1} onClick={() => onChange(move(labels, i, i + 1))} aria-label="Move down" title="Move down">
                ↓
              </button>
            </div>
            <div style={{ paddingBottom: 4 }}>
              <button type="button" className="btn btn-sm btn-danger" onClick={() => onChange(labels.filter((_, j) => j !== i))} data-testid="label-remove">
                Remove
              </button>
            </div>
          </div>
          <div className="label-card-body">
            <div className="field">
              <span className="label">Allowed kinds</span>
              <div className="kinds" role="group" aria-label="Allowed kinds">
                {kinds.map((k) => (
                  <label className="checkbox" key={k}>
                    <input
                      type="checkbox"
                      checked={l.kinds.includes(k)}
                      onChange={(e) => update(i, { kinds: e.target.checked ? [...l.kinds, k] : l.kinds.filter((x) => x !== k) })}
                      data-testid={`label-kind-${k}`}
                    />
                    {KIND_HELP[k] ?? k}
                  </label>
                ))}
                {!showAllKinds && (
                  <button type="button" className="btn btn-sm btn-ghost" onClick={() => setShowAllKinds(true)}>
                    More kinds…
                  </button>
                )}
              </div>
              <FieldErr errors={errors} path={`labels.${i}.kinds`} />
            </div>
            {l.kinds.includes('landmarks') && (
              <label className="field">
                <span className="label">Landmark names (one per line)</span>
                <textarea
                  className={`input ${errorsAt(errors, `labels.${i}.landmarks`).length ? 'invalid' : ''}`}
                  rows={Math.min(10, Math.max(3, l.landmarks.split('\n').length + 1))}
                  value={l.landmarks}
                  placeholder={'left femoral head centre\nright femoral head centre'}
                  onChange={(e) => update(i, { landmarks: e.target.value })}
                  data-testid="label-landmarks"
                  aria-label={`Landmark names of label ${i + 1}, one per line`}
                />
                <span className="hint">Leave empty to allow any point names.</span>
                <FieldErr errors={errors} path={`labels.${i}.landmarks`} />
              </label>
            )}
            <div className="field">
              <span className="label">Attributes</span>
              {l.attributes.length === 0 && <span className="hint">No attributes. Annotators only choose the label.</span>}
              {l.attributes.map((a, j) => (
                <AttrRow
                  key={a._key}
                  attr={a}
                  base={`labels.${i}.attributes.${j}`}
                  errors={errors}
                  onChange={(patch) => updateAttr(i, j, patch)}
                  onRemove={() => update(i, { attributes: l.attributes.filter((_, k) => k !== j) })}
                />
              ))}
              <div>
                <button type="button" className="btn btn-sm" onClick={() => update(i, { attributes: [...l.attributes, newAttr()] })} data-testid="attr-add">
                  Add attribute
                </button>
              </div>
            </div>
          </div>
        </fieldset>
      ))}
      {!readOnly && (
        <button type="button" className="btn" onClick={() => onChange([...labels, newLabel(labels.length)])} data-testid="label-add">
          Add label
        </button>
      )}
    </div>
  );
}

function move<T>(list: T[], from: number, to: number): T[] {
  const copy = [...list];
  const [item] = copy.splice(from, 1);
  copy.splice(to, 0, item!);
  return copy;
}

function AttrRow({
  attr,
  base,
  errors,
  onChange,
  onRemove,
}: {
  attr: DraftAttr;
  base: string;
  errors: FieldError[];
  onChange: (patch: Partial<DraftAttr>) => void;
  onRemove: () => void;
}) {
  return (
    <div className="attr-row" data-testid="attr-row">
      <label className="field">
        <span className="label sr-only">Attribute name</span>
        <input
          className={`input input-sm ${errorsAt(errors, `${base}.name`).length ? 'invalid' : ''}`}
          placeholder="Attribute name"
          value={attr.name}
          onChange={(e) => onChange({ name: e.target.value })}
          data-testid="attr-name"
        />
        <FieldErr errors={errors} path={`${base}.name`} />
      </label>
      <label className="field">
        <span className="label sr-only">Type</span>
        <select className="select input-sm" value={attr.type} onChange={(e) => onChange({ type: e.target.value as AttributeType })} data-testid="attr-type">
          {ATTRIBUTE_TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
        <FieldErr errors={errors} path={`${base}.type`} />
      </label>
      <label className="checkbox" style={{ height: 26 }}>
        <input type="checkbox" checked={attr.required} onChange={(e) => onChange({ required: e.target.checked })} data-testid="attr-required" />
        Required
      </label>
      <div style={{ display: 'flex', flexDirection: 'column', gap: 4, alignItems: 'flex-start' }}>
        {(attr.type === 'select' || attr.type === 'multiselect') && (
          <>
            <OptionsEditor options={attr.options} onChange={(options) => onChange({ options })} />
            <FieldErr errors={errors} path={`${base}.options`} />
          </>
        )}
        {attr.type === 'number' && (
          <>
            <div className="num-grid">
              {(['min', 'max', 'step'] as const).map((k) => (
                <input
                  key={k}
                  className={`input input-sm ${errorsAt(errors, `${base}.${k}`).length ? 'invalid' : ''}`}
                  placeholder={k}
                  aria-label={k}
                  inputMode="decimal"
                  value={attr[k]}
                  onChange={(e) => onChange({ [k]: e.target.value })}
                  data-testid={`attr-${k}`}
                />
              ))}
            </div>
            <FieldErr errors={errors} path={`${base}.min`} exact />
            <FieldErr errors={errors} path={`${base}.max`} exact />
            <FieldErr errors={errors} path={`${base}.step`} exact />
            <FieldErr errors={errors} path={`${base}.default`} />
          </>
        )}
        {attr.type === 'text' && (
          <>
            <input
              className={`input input-sm ${errorsAt(errors, `${base}.maxLength`).length ? 'invalid' : ''}`}
              style={{ width: 150 }}
              placeholder="max length (1000)"
              aria-label="Maximum length"
              inputMode="numeric"
              value={attr.maxLength}
              onChange={(e) => onChange({ maxLength: e.target.value })}
              data-testid="attr-maxlength"
            />
            <FieldErr errors={errors} path={`${base}.maxLength`} />
          </>
        )}
        {attr.type === 'checkbox' && <span className="hint">Yes / no</span>}
      </div>
      <button type="button" className="btn btn-sm btn-ghost" onClick={onRemove} aria-label="Remove attribute" title="Remove attribute">
        Remove
      </button>
    </div>
  );
}

function OptionsEditor({ options, onChange }: { options: string[]; onChange: (o: string[]) => void }) {
  const [draft, setDraft] = useState('');
  const add = () => {
    const parts = draft.split(',').map((s) => s.trim()).filter(Boolean);
    if (!parts.length) return;
    onChange([...options, ...parts.filter((p) => !options.includes(p))]);
    setDraft('');
  };
  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter' || e.key === ',') {
      e.preventDefault();
      add();
    } else if (e.key === 'Backspace' && draft === '' && options.length) {
      onChange(options.slice(0, -1));
    }
  };
  return (
    <div className="options-editor" data-testid="options-editor">
      {options.map((o, i) => (
        <span className="chip" key={`${o}-${i}`}>
          {o}
          <button type="button" aria-label={`Remove option ${o}`} onClick={() => onChange(options.filter((_, j) => j !== i))}>
            ×
          </button>
        </span>
      ))}
      <input
        className="input input-sm"
        style={{ width: 150 }}
        placeholder="Add option, Enter"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        onKeyDown={onKey}
        onBlur={add}
        data-testid="option-input"
      />
    </div>
  );
}
