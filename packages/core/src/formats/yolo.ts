/**
 * YOLO (Ultralytics) label text files and data.yaml.
 *
 * Each line is `class cx cy w h` (detect) or `class x1 y1 x2 y2 …` (segment), coordinates
 * normalised by the image width / height, written with 6 decimals (so values read back within
 * 0.5e-6 · image size). Ultralytics rejects an image whose labels fall outside [0, 1], so the
 * writer clips to the image; an object with nothing left inside is dropped.
 *
 * What the writer does with each kind:
 * - detect: box → box; polygon, ellipse and mask → their bounding box; everything else dropped.
 * - segment: polygon → polygon; ellipse → 64-vertex polygon; box → its 4 corners; masks are
 *   dropped (a mask with holes or several parts has no single outline); everything else dropped.
 */
import { objectBounds } from '../annotation/object.js';
import type { AnnotationObject } from '../annotation/object.js';
import { boxCorners, ellipsePolygon } from './shapes.js';
import {
  FormatError,
  UNKNOWN_LABEL,
  countDropped,
  type ExportImage,
  type ImportedObject,
  type SkippedItem,
  type WriteStats,
} from './types.js';

const FORMAT = 'YOLO';

export type YoloMode = 'detect' | 'segment';

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
const fmt = (v: number): string => {
  const s = v.toFixed(6);
  return s === '-0.000000' ? '0.000000' : s;
};

function detectLine(object: AnnotationObject, image: ExportImage): string | undefined {
  if (object.kind !== 'box' && object.kind !== 'polygon' && object.kind !== 'ellipse' && object.kind !== 'mask') return undefined;
  const b = objectBounds(object);
  if (b === undefined) return undefined;
  const x0 = clamp01(b.minX / image.width);
  const x1 = clamp01(b.maxX / image.width);
  const y0 = clamp01(b.minY / image.height);
  const y1 = clamp01(b.maxY / image.height);
  if (x1 <= x0 || y1 <= y0) return undefined;
  return `${fmt((x0 + x1) / 2)} ${fmt((y0 + y1) / 2)} ${fmt(x1 - x0)} ${fmt(y1 - y0)}`;
}

function segmentLine(object: AnnotationObject, image: ExportImage): string | undefined {
  let points: readonly (readonly [number, number])[];
  if (object.kind === 'polygon') points = object.points;
  else if (object.kind === 'ellipse') points = ellipsePolygon(object);
  else if (object.kind === 'box') points = boxCorners(object);
  else return undefined;
  const clipped = points.map(([x, y]) => [clamp01(x / image.width), clamp01(y / image.height)] as const);
  const xs = clipped.map((p) => p[0]);
  const ys = clipped.map((p) => p[1]);
  if (Math.max(...xs) <= Math.min(...xs) || Math.max(...ys) <= Math.min(...ys)) return undefined;
  return clipped.map(([x, y]) => `${fmt(x)} ${fmt(y)}`).join(' ');
}

/**
 * One label file's text for one image: one line per object the mode can express (see the module
 * comment), `classIndex` mapping label names to class indices. Lines end with "\n".
 */
export function yoloLabelText(
  objects: AnnotationObject[],
  image: ExportImage,
  classIndex: Map<string, number>,
  mode: YoloMode,
  stats?: WriteStats,
): string {
  let out = '';
  if (stats !== undefined) stats.images++;
  for (const object of objects) {
    const cls = classIndex.get(object.label);
    if (cls === undefined) {
      countDropped(stats, UNKNOWN_LABEL);
      continue;
    }
    const line = mode === 'detect' ? detectLine(object, image) : segmentLine(object, image);
    if (line === undefined) {
      countDropped(stats, object.kind);
      continue;
    }
    out += `${cls} ${line}\n`;
    if (stats !== undefined) stats.objects++;
  }
  return out;
}

/** Quote a YAML scalar: a JSON string is a valid YAML double-quoted scalar. */
const yamlString = (s: string): string => JSON.stringify(s);

/** An Ultralytics data.yaml: `path`, `train`, `val` (= train when absent) and `names` as an index map. */
export function yoloDataYaml(names: string[], opts: { train: string; val?: string }): string {
  const lines = ['path: .', `train: ${yamlString(opts.train)}`, `val: ${yamlString(opts.val ?? opts.train)}`, `nc: ${names.length}`, 'names:'];
  names.forEach((name, i) => lines.push(`  ${i}: ${yamlString(name)}`));
  return `${lines.join('\n')}\n`;
}

/**
 * Read one label file. A line of 5 numbers is a box, an odd count of at least 7 a polygon; blank
 * lines and `#` comments are ignored. Bad lines and unknown class indices are skipped with the
 * line number and the reason.
 */
export function parseYoloLabelText(
  text: string,
  image: { width: number; height: number },
  names: string[],
): { objects: ImportedObject[]; skipped: SkippedItem[] } {
  const objects: ImportedObject[] = [];
  const skipped: SkippedItem[] = [];
  const { width: W, height: H } = image;
  text.split(/\r?\n/).forEach((rawLine, i) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `line ${i + 1}`;
    const tokens = line.split(/\s+/);
    const values = tokens.map(Number);
    if (!tokens.every((t) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t))) {
      skipped.push({ where, reason: 'not all values are numbers' });
      return;
    }
    const cls = values[0] ?? -1;
    if (!Number.isInteger(cls) || cls < 0 || cls >= names.length) {
      skipped.push({ where, reason: `class ${tokens[0] ?? ''} is not among the ${names.length} class names` });
      return;
    }
    const label = names[cls] ?? '';
    const coords = values.slice(1);
    if (coords.length === 4) {
      const [cx = 0, cy = 0, w = 0, h = 0] = coords;
      if (w <= 0 || h <= 0) {
        skipped.push({ where, reason: 'box width and height must be greater than 0' });
        return;
      }
      objects.push({ kind: 'box', label, attributes: {}, x: (cx - w / 2) * W, y: (cy - h / 2) * H, width: w * W, height: h * H });
    } else if (coords.length >= 6 && coords.length % 2 === 0) {
      const points: [number, number][] = [];
      for (let k = 0; k < coords.length; k += 2) points.push([(coords[k] ?? 0) * W, (coords[k + 1] ?? 0) * H]);
      objects.push({ kind: 'polygon', label, attributes: {}, points });
    } else {
      skipped.push({ where, reason: `expected 5 values (box) or an odd count of at least 7 (polygon), found ${tokens.length}` });
    }
  });
  return { objects, skipped };
}

function unquoteYaml(raw: string, where: string): string {
  const s = raw.trim();
  if (s.startsWith('"')) {
    try {
      const v: unknown = JSON.parse(s);
      if (typeof v === 'string') return v;
    } catch {
      // fall through to the error below
    }
    throw new FormatError(FORMAT, `data.yaml ${where}: bad double-quoted name`);
  }
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new FormatError(FORMAT, `data.yaml ${where}: unterminated single-quoted name`);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  return s.replace(/\s+#.*$/, '').trim();
}

function splitFlowList(body: string, where: string): string[] {
  const items: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] ?? '';
    if (quote !== undefined) {
      current += ch;
      if (ch === '\\' && quote === '"') current += body[++i] ?? '';
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
    } else if (ch === ',') {
      items.push(current);
      current = '';
    } else current += ch;
  }
  if (quote !== undefined) throw new FormatError(FORMAT, `data.yaml ${where}: unterminated quote in the names list`);
  if (current.trim() !== '') items.push(current);
  return items.map((item) => unquoteYaml(item, where));
}

/**
 * Class names from an Ultralytics data.yaml. Only `names` is read, in the forms Ultralytics
 * writes: a block map (`  0: person`), a block list (`  - person`) or a flow list
 * (`names: [person, car]`); plain, single- and double-quoted scalars. Anything else in the file
 * is ignored. Missing names or gaps in the index map throw `FormatError`.
 */
export function parseYoloDataYaml(text: string): string[] {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => /^names\s*:/.test(l));
  if (start < 0) throw new FormatError(FORMAT, 'data.yaml has no "names" entry');
  const inline = (lines[start] ?? '').replace(/^names\s*:/, '').trim();
  if (inline !== '' && !inline.startsWith('#')) {
    if (!inline.startsWith('[') || !inline.replace(/\s+#.*$/, '').endsWith(']')) {
      throw new FormatError(FORMAT, `data.yaml line ${start + 1}: names must be a list or an index map`);
    }
    const body = inline.replace(/\s+#.*$/, '');
    return splitFlowList(body.slice(1, -1), `line ${start + 1}`);
  }
  const byIndex = new Map<number, string>();
  const list: string[] = [];
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    if (!/^\s/.test(line)) break;
    const where = `line ${i + 1}`;
    const item = /^\s+-\s*(.*)$/.exec(line);
    const entry = /^\s+(\d+)\s*:\s*(.*)$/.exec(line);
    if (item !== null) list.push(unquoteYaml(item[1] ?? '', where));
    else if (entry !== null) byIndex.set(Number(entry[1]), unquoteYaml(entry[2] ?? '', where));
    else throw new FormatError(FORMAT, `data.yaml ${where}: expected "- name" or "index: name"`);
  }
  if (list.length > 0 && byIndex.size > 0) throw new FormatError(FORMAT, 'data.yaml mixes a names list and an index map');
  if (byIndex.size > 0) {
    const out: string[] = [];
    for (let k = 0; k < byIndex.size; k++) {
      const name = byIndex.get(k);
      if (name === undefined) throw new FormatError(FORMAT, `data.yaml names: index ${k} is missing`);
      out.push(name);
    }
    return out;
  }
  if (list.length === 0) throw new FormatError(FORMAT, 'data.yaml "names" is empty');
  return list;
}
