/**
 * Geometry and attribute helpers shared by the interchange-format converters.
 */
import type { EllipseGeometry, Point2 } from '../geometry/geometry.js';
import type { MaskRle } from '../geometry/mask-rle.js';

/** Vertices used when an ellipse is written as a polygon. */
export const ELLIPSE_VERTICES = 64;

/**
 * The ellipse as a polygon of `n` vertices on its outline (rotation clockwise on screen, y down).
 * The polygon's area is slightly below the ellipse's (n = 64: 0.16 % less).
 */
export function ellipsePolygon(e: EllipseGeometry, n = ELLIPSE_VERTICES): [number, number][] {
  const rot = e.rotation ?? 0;
  const cos = Math.cos(rot);
  const sin = Math.sin(rot);
  const out: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    const ex = e.rx * Math.cos(t);
    const ey = e.ry * Math.sin(t);
    out.push([e.cx + ex * cos - ey * sin, e.cy + ex * sin + ey * cos]);
  }
  return out;
}

/** The four corners of a box, clockwise from the top-left. */
export function boxCorners(b: { x: number; y: number; width: number; height: number }): [number, number][] {
  return [
    [b.x, b.y],
    [b.x + b.width, b.y],
    [b.x + b.width, b.y + b.height],
    [b.x, b.y + b.height],
  ];
}

/** Shortest text of a number that reads back to the same float ("-0" written as "0"). */
export function num(value: number): string {
  return Object.is(value, -0) ? '0' : String(value);
}

/** Points as CVAT writes them: "x1,y1;x2,y2". */
export function pointsText(points: readonly Point2[]): string {
  return points.map(([x, y]) => `${num(x)},${num(y)}`).join(';');
}

/** Re-encode a row-major Caliper RLE as a column-major (COCO) run list, starting with zeros. */
export function rowMajorToColumnMajor(rle: MaskRle, pixels: Uint8Array): number[] {
  const [height, width] = rle.size;
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = pixels[y * width + x] ?? 0;
      if (v !== current) {
        counts.push(run);
        run = 0;
        current = v;
      }
      run++;
    }
  }
  counts.push(run);
  return counts;
}

/**
 * Decode a column-major run list (COCO) of an h × w mask into a row-major 0/1 array, or a reason
 * why the runs are malformed.
 */
export function columnMajorToRowMajor(counts: readonly number[], height: number, width: number): Uint8Array | string {
  const total = height * width;
  const out = new Uint8Array(total);
  let pos = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (!Number.isInteger(c) || c < 0) return `run ${i} is not a non-negative integer`;
    if (pos + c > total) return `runs add up to more than ${height} x ${width} pixels`;
    if (i % 2 === 1) {
      for (let p = pos; p < pos + c; p++) out[(p % height) * width + Math.floor(p / height)] = 1;
    }
    pos += c;
  }
  if (pos !== total) return `runs add up to ${pos} pixels but the mask has ${height} x ${width} = ${total}`;
  return out;
}

/** Runs (starting with zeros) of a row-major 0/1 sequence read through `at(i)` for i < n. */
export function runsOf(n: number, at: (i: number) => number): number[] {
  const counts: number[] = [];
  let current = 0;
  let run = 0;
  for (let i = 0; i < n; i++) {
    const v = at(i) === 0 ? 0 : 1;
    if (v !== current) {
      counts.push(run);
      run = 0;
      current = v;
    }
    run++;
  }
  counts.push(run);
  return counts;
}

export type AttributeValue = string | number | boolean | string[];

/**
 * How an attribute value reads back from text-only formats (VOC, CVAT): `true`/`false` become
 * booleans and plain decimal numbers become numbers, unless the declared input type says text.
 */
export function coerceAttribute(raw: string, inputType?: string): string | number | boolean {
  if (inputType === 'text' || inputType === 'select' || inputType === 'radio') return raw;
  if (inputType === 'checkbox' || inputType === undefined) {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
  }
  if (inputType === 'number' || inputType === undefined) {
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw.trim())) return Number(raw);
  }
  return raw;
}

/** Merge one more text value of a (possibly repeated) attribute into a record; repeats form an array. */
export function addAttribute(
  attributes: Record<string, AttributeValue>,
  name: string,
  raw: string,
  inputType?: string,
): void {
  const prior = attributes[name];
  if (prior === undefined) attributes[name] = coerceAttribute(raw, inputType);
  else if (Array.isArray(prior)) prior.push(raw);
  else attributes[name] = [String(prior), raw];
}

/** An attribute value as one or more texts (arrays are written as one element per item). */
export function attributeTexts(value: AttributeValue): string[] {
  return Array.isArray(value) ? value : [String(value)];
}
