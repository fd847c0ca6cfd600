// Measurement values (length, angle, bidirectional, area) from points in voxel index space
// [i, j, k] or image pixels [x, y], through the asset's affine (voxel → patient LPS mm).
// Without an affine the values are in pixels, as the measurement kind allows ("px", "px2").
// Area ROI statistics (mean/std/min/max of the modality values inside an outline) are a
// display-only computation: the measurement kind has no place for them in the saved object.

import { angleDeg, lengthMm, polygonAreaMm2, type Affine } from '@caliper/core/mpr';

export type { Affine };
export type Pt = [number, number];
export type MeasurementType = 'length' | 'angle' | 'area' | 'bidirectional';

export interface MeasuredValue {
  value: number;
  unit: string;
  shortAxis?: number;
}

type V3 = [number, number, number];

/**
 * Image pixel [x, y] (corner origin, on the acquisition plane) or voxel [i, j, k] → voxel
 * index space: pixel x covers voxel column x - 0.5.
 */
function asIndex(p: readonly number[]): V3 {
  return p.length >= 3 ? [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0] : [(p[0] ?? 0) - 0.5, (p[1] ?? 0) - 0.5, 0];
}

/** Distance between two points in mm (px without an affine). */
export function lengthOf(a: readonly number[], b: readonly number[], affine: Affine | null): number {
  return lengthMm(affine, asIndex(a), asIndex(b));
}

/** Angle at `vertex` between the arms to `a` and `b`, degrees 0..180 in patient space (0 for a zero-length arm). */
export function angleOf(a: readonly number[], vertex: readonly number[], b: readonly number[], affine: Affine | null): number {
  const d = angleDeg(affine, asIndex(a), asIndex(vertex), asIndex(b));
  return Number.isFinite(d) ? d : 0;
}

/** Area of a planar polygon in mm² (px² without an affine); works on any plane (Newell). */
export function areaOf(points: readonly (readonly number[])[], affine: Affine | null): number {
  return polygonAreaMm2(affine, points.map(asIndex));
}

/**
 * The value, unit (and short axis) of a measurement from its points. Bidirectional points are
 * long axis end points then short axis end points; if the second pair is the longer one the
 * caller should swap them (`orderBidirectional`).
 */
export function measure(type: MeasurementType, points: readonly (readonly number[])[], affine: Affine | null): MeasuredValue {
  const mm = affine !== null;
  switch (type) {
    case 'length':
      return { value: lengthOf(points[0]!, points[1]!, affine), unit: mm ? 'mm' : 'px' };
    case 'angle':
      return { value: angleOf(points[0]!, points[1]!, points[2]!, affine), unit: 'deg' };
    case 'bidirectional':
      return {
        value: lengthOf(points[0]!, points[1]!, affine),
        shortAxis: lengthOf(points[2]!, points[3]!, affine),
        unit: mm ? 'mm' : 'px',
      };
    case 'area':
      return { value: areaOf(points, affine), unit: mm ? 'mm2' : 'px2' };
  }
}

/** Bidirectional points with the longer pair first (the kind requires shortAxis ≤ value). */
export function orderBidirectional<P extends readonly number[]>(points: P[], affine: Affine | null): P[] {
  if (points.length !== 4) return points;
  const [a, b, c, d] = points as [P, P, P, P];
  return lengthOf(c, d, affine) > lengthOf(a, b, affine) ? [c, d, a, b] : points;
}

const UNIT_TEXT: Record<string, string> = { mm2: 'mm²', cm2: 'cm²', px2: 'px²', mm3: 'mm³', cm3: 'cm³', deg: '°' };

export function unitText(unit: string): string {
  return UNIT_TEXT[unit] ?? unit;
}

function fixed(v: number): string {
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(1) : v.toFixed(2);
}

/** "23.4 mm", "41.2°", "23.4 × 12.1 mm", "312 mm²". */
export function formatMeasured(type: string, m: MeasuredValue): string {
  const u = unitText(m.unit);
  if (type === 'angle') return `${m.value.toFixed(1)}°`;
  if (type === 'bidirectional' && m.shortAxis !== undefined) return `${fixed(m.value)} × ${fixed(m.shortAxis)} ${u}`;
  if (type === 'area') return `${m.value >= 100 ? m.value.toFixed(0) : fixed(m.value)} ${u}`;
  return `${fixed(m.value)} ${u}`;
}

export interface RoiStats {
  count: number;
  mean: number;
  std: number;
  min: number;
  max: number;
}

/**
 * Pixels of a plane image whose CENTRE lies inside a polygon given in plane coordinates
 * (even-odd rule, scanline fill), clipped to width x height. Calls `visit(col, row)`.
 */
export function forEachPixelInPolygon(points: readonly Pt[], width: number, height: number, visit: (c: number, r: number) => void): void {
  if (points.length < 3) return;
  let minY = Infinity;
  let maxY = -Infinity;
  for (const [, y] of points) {
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const r0 = Math.max(0, Math.ceil(minY - 0.5));
  const r1 = Math.min(height - 1, Math.floor(maxY - 0.5));
  const xs: number[] = [];
  for (let r = r0; r <= r1; r++) {
    const yc = r + 0.5;
    xs.length = 0;
    for (let i = 0; i < points.length; i++) {
      const [ax, ay] = points[i]!;
      const [bx, by] = points[(i + 1) % points.length]!;
      if (ay <= yc !== by <= yc) xs.push(ax + ((yc - ay) / (by - ay)) * (bx - ax));
    }
    xs.sort((a, b) => a - b);
    for (let k = 0; k + 1 < xs.length; k += 2) {
      const c0 = Math.max(0, Math.ceil(xs[k]! - 0.5));
      const c1 = Math.min(width - 1, Math.floor(xs[k + 1]! - 0.5));
      for (let c = c0; c <= c1; c++) visit(c, r);
    }
  }
}

/**
 * Statistics of the values at the pixel centres inside an outline (plane coordinates) on one
 * slice. `valueAt(col, row)` returns the modality value or undefined outside the data.
 * Welford's algorithm; std is the population standard deviation.
 */
export function roiStats(
  outline: readonly Pt[],
  width: number,
  height: number,
  valueAt: (c: number, r: number) => number | undefined,
): RoiStats | null {
  let count = 0;
  let mean = 0;
  let m2 = 0;
  let min = Infinity;
  let max = -Infinity;
  forEachPixelInPolygon(outline, width, height, (c, r) => {
    const v = valueAt(c, r);
    if (v === undefined || !Number.isFinite(v)) return;
    count++;
    const d = v - mean;
    mean += d / count;
    m2 += d * (v - mean);
    if (v < min) min = v;
    if (v > max) max = v;
  });
  return count === 0 ? null : { count, mean, std: Math.sqrt(m2 / count), min, max };
}

/** "mean 45 HU ± 12" (with `range`: "… (min 3, max 90)") for ROI statistics. */
export function formatStats(s: RoiStats, valueUnit = '', range = false): string {
  const u = valueUnit ? ` ${valueUnit}` : '';
  const f = (v: number): string => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
  return `mean ${f(s.mean)}${u} ± ${f(s.std)}${range ? ` (min ${f(s.min)}, max ${f(s.max)})` : ''}`;
}
