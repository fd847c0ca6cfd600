/**
 * Segment tables that travel next to a NIfTI label map: ITK-SNAP's "Label Description File" (also read by
 * 3D Slicer and many pipelines) and a plain JSON table.
 *
 * ITK-SNAP layout, one label per line after `#` comment lines:
 *   IDX  -R-  -G-  -B-  -A--  VIS MSH  "LABEL"
 * with IDX the voxel value, R/G/B 0..255, A the opacity 0..1, VIS/MSH 0 or 1, and the label in double
 * quotes. Value 0 is ITK-SNAP's "Clear Label" (background): always written first, never returned as a
 * segment. ITK-SNAP has no escaping; we write `\"` for a quote and `\\` for a backslash inside a label, and
 * the parser takes everything between the first and the last quote, undoing those two escapes.
 */
import { NiftiError } from './errors.js';

export interface SegmentInfo {
  /** Voxel value of the segment in the label map (1..65535; 0 is background). */
  value: number;
  label: string;
  /** `#rrggbb` */
  color: string;
  description?: string;
}

const MAX_VALUE = 65535; // ITK-SNAP label type: unsigned short
const COLOR = /^#[0-9a-fA-F]{6}$/;

const ITK_SNAP_HEADER = [
  '################################################',
  '# ITK-SnAP Label Description File',
  '# File format: ',
  '# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL',
  '# Fields: ',
  '#    IDX:   Zero-based index ',
  '#    -R-:   Red color component (0..255)',
  '#    -G-:   Green color component (0..255)',
  '#    -B-:   Blue color component (0..255)',
  '#    -A-:   Label transparency (0.00 .. 1.00)',
  '#    VIS:   Label visibility (0 or 1)',
  '#    MSH:   Label mesh visibility (0 or 1)',
  '#  LABEL:   Label description ',
  '################################################',
];

/** Checked copies of the segments, sorted by value; throws NiftiError on a bad value, colour or duplicate. */
function checked(segments: readonly SegmentInfo[]): SegmentInfo[] {
  const seen = new Set<number>();
  for (const s of segments) {
    if (!Number.isInteger(s.value) || s.value < 1 || s.value > MAX_VALUE) {
      throw new NiftiError(`A segment value must be an integer from 1 to ${MAX_VALUE} (0 is background); got ${s.value}.`);
    }
    if (seen.has(s.value)) throw new NiftiError(`Two segments use the label value ${s.value}.`);
    seen.add(s.value);
    if (!COLOR.test(s.color)) throw new NiftiError(`The colour of segment ${s.value} must be written #rrggbb.`);
  }
  return [...segments].sort((a, b) => a.value - b.value);
}

function rgb(color: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16)) as [number, number, number];
}

function quote(label: string): string {
  const oneLine = label.replace(/[\r\n]+/g, ' ');
  return `"${oneLine.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function unquote(inner: string): string {
  return inner.replace(/\\(["\\])/g, '$1');
}

function line(value: number, [r, g, b]: [number, number, number], alpha: number, vis: number, msh: number, label: string): string {
  const pad = (v: number | string, w: number): string => String(v).padStart(w);
  return `${pad(value, 5)} ${pad(r, 5)} ${pad(g, 4)} ${pad(b, 4)} ${pad(alpha, 8)} ${pad(vis, 2)} ${pad(msh, 2)}    ${quote(label)}`;
}

/**
 * ITK-SNAP "Label Description File" text for the segments: the standard comment header, the
 * `0 ... "Clear Label"` line, then one visible, opaque line per segment in value order. Descriptions have
 * no place in this format and are left out.
 */
export function itkSnapLabelFile(segments: SegmentInfo[]): string {
  const lines = [...ITK_SNAP_HEADER, line(0, [0, 0, 0], 0, 0, 0, 'Clear Label')];
  for (const s of checked(segments)) lines.push(line(s.value, rgb(s.color), 1, 1, 1, s.label));
  return `${lines.join('\n')}\n`;
}

const NUMBERS = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+([-+0-9.eE]+)\s+(\d+)\s+(\d+)(?:\s+(.*?))?\s*$/;

/**
 * Parse an ITK-SNAP label description file. Blank lines and `#` comments are skipped, spacing is free,
 * the label may be quoted (`\"` and `\\` unescaped) or a bare word. The 0 (background) entry is not
 * returned. Throws NiftiError naming the line number for anything else.
 */
export function parseItkSnapLabelFile(text: string): SegmentInfo[] {
  const out: SegmentInfo[] = [];
  const seen = new Set<number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const where = `line ${index + 1} of the label description file`;
    const m = NUMBERS.exec(raw);
    if (!m) {
      throw new NiftiError(`${where} is not "IDX R G B A VIS MSH LABEL" (seven numbers and a label).`);
    }
    const [value, r, g, b] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
    const alpha = Number(m[5]);
    const [vis, msh] = [Number(m[6]), Number(m[7])];
    if (value > MAX_VALUE) throw new NiftiError(`${where}: label value ${value} is above ${MAX_VALUE}.`);
    if ([r, g, b].some((c) => c > 255)) throw new NiftiError(`${where}: a colour component is above 255.`);
    if (!(alpha >= 0 && alpha <= 1)) throw new NiftiError(`${where}: the opacity must be between 0 and 1.`);
    if (vis > 1 || msh > 1) throw new NiftiError(`${where}: the visibility flags must be 0 or 1.`);
    const rest = m[8] ?? '';
    let label: string;
    if (rest.startsWith('"')) {
      const end = rest.lastIndexOf('"');
      if (end === 0) throw new NiftiError(`${where}: the label's closing quote is missing.`);
      label = unquote(rest.slice(1, end));
    } else {
      label = rest;
    }
    if (seen.has(value)) throw new NiftiError(`${where}: label value ${value} is defined twice.`);
    seen.add(value);
    if (value === 0) return;
    const hex = [r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('');
    out.push({ value, label, color: `#${hex}` });
  });
  return out;
}

/** `{"segments":[{"value":1,"label":"Liver","color":"#aa0000"}, ...]}`, pretty-printed, in value order. */
export function segmentTableJson(segments: SegmentInfo[]): string {
  const rows = checked(segments).map((s) => ({
    value: s.value,
    label: s.label,
    color: s.color.toLowerCase(),
    ...(s.description !== undefined ? { description: s.description } : {}),
  }));
  return `${JSON.stringify({ segments: rows }, null, 2)}\n`;
}
