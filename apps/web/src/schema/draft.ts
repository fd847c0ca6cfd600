import type { AttributeDef, AttributeType, LabelDef, LabelSchema } from '../types';
import type { FieldError } from '../api';

// Editor-side copy of the label schema: every row carries a stable `_key` for React; `toSchema`
// strips it and every field the server's strict schema would reject (empty shortcut, options on
// a number attribute, ...).

export interface DraftAttr {
  _key: string;
  name: string;
  type: AttributeType;
  required: boolean;
  options: string[];
  min: string;
  max: string;
  step: string;
  maxLength: string;
  description?: string;
}

export interface DraftLabel {
  _key: string;
  name: string;
  color: string;
  shortcut: string;
  kinds: string[];
  attributes: DraftAttr[];
  description?: string;
  /** Landmark set as edited: one name per line (sent only when the label allows `landmarks`). */
  landmarks: string;
}

/** The label schema's optional landmark set (core `labelDefSchema.landmarks`). */
type LabelDefWithLandmarks = LabelDef & { landmarks?: string[] };

/** Landmark-set limits of the server's label schema. */
export const MAX_LANDMARKS = 100;
const MAX_NAME_LENGTH = 64;

/** The names in the landmark text area: one per line, trimmed, blank lines dropped. */
export function landmarkNames(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((n) => n.trim())
    .filter(Boolean);
}

let counter = 0;
export const newKey = () => `k${++counter}`;

export const PALETTE = ['#e5484d', '#3e63dd', '#30a46c', '#f76b15', '#8e4ec6', '#12a594', '#d6409f', '#ffb224', '#0090ff', '#978365'];

export function newLabel(index: number): DraftLabel {
  return { _key: newKey(), name: '', color: PALETTE[index % PALETTE.length]!, shortcut: '', kinds: ['tag'], attributes: [], landmarks: '' };
}

export function newAttr(): DraftAttr {
  return { _key: newKey(), name: '', type: 'select', required: false, options: [], min: '', max: '', step: '', maxLength: '' };
}

const numStr = (n: number | undefined) => (n === undefined || n === null ? '' : String(n));

export function toDraft(schema: LabelSchema | null | undefined): DraftLabel[] {
  return (schema?.labels ?? []).map((l) => ({
    _key: newKey(),
    name: l.name,
    color: l.color,
    shortcut: l.shortcut ?? '',
    kinds: [...(l.kinds ?? ['tag'])],
    description: l.description,
    landmarks: ((l as LabelDefWithLandmarks).landmarks ?? []).join('\n'),
    attributes: (l.attributes ?? []).map((a) => ({
      _key: newKey(),
      name: a.name,
      type: a.type,
      required: !!a.required,
      options: [...(a.options ?? [])],
      min: numStr(a.min),
      max: numStr(a.max),
      step: numStr(a.step),
      maxLength: numStr(a.maxLength),
      description: a.description,
    })),
  }));
}

function num(s: string): number | undefined {
  if (s.trim() === '') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

export function toSchema(labels: DraftLabel[]): LabelSchema {
  return {
    version: 1,
    labels: labels.map((l) => {
      const out: LabelDefWithLandmarks = { name: l.name.trim(), color: l.color.toLowerCase(), kinds: [...l.kinds], attributes: [] };
      if (l.shortcut.trim()) out.shortcut = l.shortcut.trim().toLowerCase();
      if (l.description) out.description = l.description;
      const landmarks = landmarkNames(l.landmarks);
      if (l.kinds.includes('landmarks') && landmarks.length > 0) out.landmarks = landmarks;
      out.attributes = l.attributes.map((a) => {
        const attr: AttributeDef = { name: a.name.trim(), type: a.type, required: a.required };
        if (a.description) attr.description = a.description;
        if (a.type === 'select' || a.type === 'multiselect') attr.options = a.options.map((o) => o.trim()).filter(Boolean);
        if (a.type === 'number') {
          const min = num(a.min);
          const max = num(a.max);
          const step = num(a.step);
          if (min !== undefined) attr.min = min;
          if (max !== undefined) attr.max = max;
          if (step !== undefined) attr.step = step;
        }
        if (a.type === 'text') {
          const ml = num(a.maxLength);
          if (ml !== undefined) attr.maxLength = ml;
        }
        return attr;
      });
      return out;
    }),
  };
}

/** Client-side checks mirroring the server's rules, so most mistakes show before saving. */
export function validateDraft(labels: DraftLabel[]): FieldError[] {
  const errors: FieldError[] = [];
  const names = new Map<string, number>();
  const shortcuts = new Map<string, string>();
  labels.forEach((l, i) => {
    const p = `labels.${i}`;
    const name = l.name.trim();
    if (!name) errors.push({ path: `${p}.name`, message: 'Name is required.' });
    else if (names.has(name.toLowerCase())) errors.push({ path: `${p}.name`, message: `Duplicate label name "${name}".` });
    else names.set(name.toLowerCase(), i);
    if (!/^#[0-9a-fA-F]{6}$/.test(l.color)) errors.push({ path: `${p}.color`, message: 'Colour must look like #rrggbb.' });
    const sc = l.shortcut.trim().toLowerCase();
    if (sc) {
      if (!/^[0-9a-z]$/.test(sc)) errors.push({ path: `${p}.shortcut`, message: 'One key: 0–9 or a–z.' });
      else if (shortcuts.has(sc)) errors.push({ path: `${p}.shortcut`, message: `Already used by "${shortcuts.get(sc)}".` });
      else shortcuts.set(sc, name || `label ${i + 1}`);
    }
    if (l.kinds.length === 0) errors.push({ path: `${p}.kinds`, message: 'Allow at least one kind.' });
    if (l.kinds.includes('landmarks')) {
      const set = landmarkNames(l.landmarks);
      const seen = new Set<string>();
      const problems: string[] = [];
      if (set.length > MAX_LANDMARKS) problems.push(`At most ${MAX_LANDMARKS} landmark names (${set.length} given).`);
      for (const n of set) {
        if (n.length > MAX_NAME_LENGTH) problems.push(`"${n.slice(0, 20)}…" is longer than ${MAX_NAME_LENGTH} characters.`);
        if (seen.has(n.toLowerCase())) problems.push(`Duplicate landmark "${n}".`);
        seen.add(n.toLowerCase());
      }
      for (const message of problems) errors.push({ path: `${p}.landmarks`, message });
    }
    const attrNames = new Set<string>();
    l.attributes.forEach((a, j) => {
      const ap = `${p}.attributes.${j}`;
      const an = a.name.trim();
      if (!an) errors.push({ path: `${ap}.name`, message: 'Name is required.' });
      else if (attrNames.has(an)) errors.push({ path: `${ap}.name`, message: `Duplicate attribute "${an}".` });
      attrNames.add(an);
      if ((a.type === 'select' || a.type === 'multiselect') && a.options.filter((o) => o.trim()).length === 0) {
        errors.push({ path: `${ap}.options`, message: 'Add at least one option.' });
      }
      if (a.type === 'number') {
        for (const k of ['min', 'max', 'step'] as const) {
          if (a[k].trim() !== '' && !Number.isFinite(Number(a[k]))) errors.push({ path: `${ap}.${k}`, message: 'Not a number.' });
        }
        const min = num(a.min);
        const max = num(a.max);
        const step = num(a.step);
        if (min !== undefined && max !== undefined && min > max) errors.push({ path: `${ap}.max`, message: 'Max is below min.' });
        if (step !== undefined && step <= 0) errors.push({ path: `${ap}.step`, message: 'Step must be greater than 0.' });
      }
    });
  });
  return errors;
}

/** Server paths may be prefixed with the body field (`labelSchema.labels.0.name`). */
export function schemaErrors(errors: FieldError[]): FieldError[] {
  return errors.map((e) => ({ ...e, path: e.path.replace(/^labelSchema\.?/, '') }));
}
