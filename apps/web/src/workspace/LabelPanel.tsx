import { useEffect, useState, type ReactNode } from 'react';
import type { AttributeDef, AttributeValue, LabelSchema, TagObject } from '../types';
import { checkValue, type TagLabel } from './tags';

interface Props {
  labels: TagLabel[];
  schema: LabelSchema;
  tags: TagObject[];
  onToggle: (label: string, add: boolean) => void;
  onAttribute: (tagId: string, name: string, value: AttributeValue | undefined) => void;
  disabled?: boolean;
}

export function LabelPanel({ labels, schema, tags, onToggle, onAttribute, disabled }: Props) {
  const active = new Set(tags.map((t) => t.label));
  return (
    <div className="ws-panel-scroll">
      <h3>Classification</h3>
      {labels.length === 0 && <p className="ws-empty small">This project has no labels that allow the kind "tag".</p>}
      <div role="group" aria-label="Labels">
        {labels.map(({ label, key }) => (
          <button
            key={label.name}
            type="button"
            className={`label-btn ${active.has(label.name) ? 'active' : ''}`}
            style={{ ['--label-color' as string]: label.color }}
            aria-pressed={active.has(label.name)}
            onClick={(e) => onToggle(label.name, e.shiftKey)}
            disabled={disabled}
            data-testid="label-button"
            data-label={label.name}
            data-active={active.has(label.name) ? 'true' : 'false'}
            title={label.description}
          >
            <span className="swatch" style={{ background: label.color }} />
            <span className="name">{label.name}</span>
            {key && <kbd>{key}</kbd>}
          </button>
        ))}
      </div>
      {labels.length > 1 && (
        <p className="small" style={{ color: '#8d97a5', marginTop: 6 }}>
          <kbd>Shift</kbd> + key adds a second label.
        </p>
      )}
      {tags.map((tag) => {
        const def = schema.labels.find((l) => l.name === tag.label);
        if (!def || !def.attributes?.length) return null;
        return (
          <div className="attr-form" key={tag.id} data-testid="attr-form" data-label={tag.label}>
            <h4>
              <span className="swatch" style={{ background: def.color }} /> {def.name}
            </h4>
            <div className="stack" style={{ gap: 10 }}>
              {def.attributes.map((attr) => (
                <AttributeInput key={attr.name} tagId={tag.id} attr={attr} value={tag.attributes[attr.name]} onChange={(v) => onAttribute(tag.id, attr.name, v)} />
              ))}
            </div>
          </div>
        );
      })}
      {tags.some((t) => !schema.labels.some((l) => l.name === t.label)) && (
        <p className="field-error small">A label on this asset is no longer in the project's schema.</p>
      )}
    </div>
  );
}

export function AttributeInput({ tagId, attr, value, onChange }: { tagId: string; attr: AttributeDef; value: AttributeValue | undefined; onChange: (v: AttributeValue | undefined) => void }) {
  const id = `attr-${tagId}-${attr.name}`.replace(/\s+/g, '_');
  const problem = checkValue(value, attr);
  const labelEl = (
    <span className="label">
      {attr.name}
      {attr.required && (
        <span className="req" aria-label="required">
          *
        </span>
      )}
    </span>
  );
  const errEl = problem ? (
    <span className="field-error" id={`${id}-err`} data-testid="attr-error">
      {problem}
    </span>
  ) : null;
  const common = { 'aria-invalid': !!problem, 'aria-describedby': problem ? `${id}-err` : undefined, 'data-testid': 'attr-input', 'data-attr': attr.name };

  switch (attr.type) {
    case 'select':
      return (
        <label className="field">
          {labelEl}
          <select {...common} className={`select ${problem ? 'invalid' : ''}`} value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}>
            <option value="">Choose…</option>
            {attr.options?.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
          {errEl}
        </label>
      );
    case 'multiselect': {
      const list = Array.isArray(value) ? value : [];
      return (
        <fieldset className="field" style={{ border: 'none', padding: 0, margin: 0 }} {...{ 'data-testid': 'attr-input', 'data-attr': attr.name }}>
          <legend style={{ padding: 0, marginBottom: 4 }}>{labelEl}</legend>
          {attr.options?.map((o) => (
            <label className="checkbox" key={o}>
              <input
                type="checkbox"
                checked={list.includes(o)}
                onChange={(e) => {
                  const next = e.target.checked ? [...list, o] : list.filter((x) => x !== o);
                  onChange(next.length ? next : undefined);
                }}
              />
              {o}
            </label>
          ))}
          {errEl}
        </fieldset>
      );
    }
    case 'checkbox':
      return (
        <label className="checkbox">
          <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
          {attr.name}
          {attr.required && <span className="req">*</span>}
        </label>
      );
    case 'number':
      return <NumberInput attr={attr} value={value} onChange={onChange} labelEl={labelEl} id={id} common={common} />;
    default:
      return (
        <label className="field">
          {labelEl}
          <input
            {...common}
            className={`input ${problem ? 'invalid' : ''}`}
            value={typeof value === 'string' ? value : ''}
            maxLength={attr.maxLength ?? 1000}
            onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
          />
          {errEl}
        </label>
      );
  }
}

function NumberInput({
  attr,
  value,
  onChange,
  labelEl,
  id,
  common,
}: {
  attr: AttributeDef;
  value: AttributeValue | undefined;
  onChange: (v: AttributeValue | undefined) => void;
  labelEl: ReactNode;
  id: string;
  common: Record<string, unknown>;
}) {
  // The text being typed is kept locally; only valid numbers reach the document.
  const [raw, setRaw] = useState(typeof value === 'number' ? String(value) : '');
  useEffect(() => {
    if (typeof value === 'number' ? Number(raw) !== value || raw.trim() === '' : raw !== '' && checkValue(Number(raw), attr) === null) {
      setRaw(typeof value === 'number' ? String(value) : '');
    }
    // Only an outside change of the value (undo, another label) resets what is typed.
  }, [value]);
  const parsed = raw.trim() === '' ? undefined : Number(raw);
  const problem = raw.trim() !== '' && !Number.isFinite(parsed) ? 'Enter a number' : checkValue(parsed, attr);
  const range = [attr.min !== undefined ? `min ${attr.min}` : '', attr.max !== undefined ? `max ${attr.max}` : '', attr.step !== undefined ? `step ${attr.step}` : ''].filter(Boolean).join(', ');
  return (
    <label className="field">
      {labelEl}
      <input
        {...common}
        className={`input ${problem ? 'invalid' : ''}`}
        type="number"
        inputMode="decimal"
        min={attr.min}
        max={attr.max}
        step={attr.step ?? 'any'}
        value={raw}
        aria-invalid={!!problem}
        onChange={(e) => {
          setRaw(e.target.value);
          const n = e.target.value.trim() === '' ? undefined : Number(e.target.value);
          if (n === undefined) onChange(undefined);
          else if (Number.isFinite(n) && checkValue(n, attr) === null) onChange(n);
        }}
      />
      {range && <span className="hint">{range}</span>}
      {problem && (
        <span className="field-error" id={`${id}-err`} data-testid="attr-error">
          {problem}
        </span>
      )}
    </label>
  );
}
