/**
 * Measurements in patient mm from voxel-index points and the asset's affine, so anisotropic,
 * oblique and tilted volumes measure right. Pure, isomorphic; re-exported by `mpr.ts`.
 *
 * Units: with an affine every length is in mm, areas in mm², volumes in mL. With `affine`
 * null (2D images without geometry) points are taken as pixel coordinates: lengths come out in
 * px and areas in px², and callers must label the unit "px" / "px²".
 *
 * Plane pixel points (x, y) use the pixel-corner convention of plane-types.ts.
 */

import type { Affine, PlaneMapping, Vec3 } from './plane-types.js';

export type Point2 = readonly [number, number];

export interface RegionStats {
  /** Number of pixels inside the region. With count 0, mean/std/min/max are NaN. */
  count: number;
  mean: number;
  /** Population standard deviation. */
  std: number;
  min: number;
  max: number;
}

/** Voxel index → LPS mm, or the point unchanged when there is no affine (pixel units). */
function toPatient(affine: Affine | null, v: Vec3): Vec3 {
  if (!affine) return [v[0], v[1], v[2]];
  const r0 = affine[0], r1 = affine[1], r2 = affine[2];
  if (!r0 || !r1 || !r2 || r0.length < 4 || r1.length < 4 || r2.length < 4) throw new RangeError('affine must be a 4x4 matrix (row-major)');
  return [
    r0[0]! * v[0] + r0[1]! * v[1] + r0[2]! * v[2] + r0[3]!,
    r1[0]! * v[0] + r1[1]! * v[1] + r1[2]! * v[2] + r1[3]!,
    r2[0]! * v[0] + r2[1]! * v[1] + r2[2]! * v[2] + r2[3]!,
  ];
}

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const len = (v: Vec3): number => Math.hypot(v[0], v[1], v[2]);

/** Distance between two voxel-index points: mm with an affine, px without. */
export function lengthMm(affine: Affine | null, a: Vec3, b: Vec3): number {
  return len(sub(toPatient(affine, a), toPatient(affine, b)));
}

/**
 * Angle at `vertex` between the rays to `a` and `b`, in degrees (0..180), measured in patient
 * space. NaN when a ray has zero length (e.g. while the user is still placing points).
 */
export function angleDeg(affine: Affine | null, a: Vec3, vertex: Vec3, b: Vec3): number {
  const pv = toPatient(affine, vertex);
  const u = sub(toPatient(affine, a), pv);
  const w = sub(toPatient(affine, b), pv);
  const lu = len(u), lw = len(w);
  if (lu === 0 || lw === 0) return Number.NaN;
  // atan2(|u × w|, u · w) is accurate near 0° and 180°, unlike acos.
  const cx = u[1] * w[2] - u[2] * w[1];
  const cy = u[2] * w[0] - u[0] * w[2];
  const cz = u[0] * w[1] - u[1] * w[0];
  const dotUW = u[0] * w[0] + u[1] * w[1] + u[2] * w[2];
  return (Math.atan2(Math.hypot(cx, cy, cz), dotUW) * 180) / Math.PI;
}

/**
 * Area of a simple polygon whose voxel-index vertices lie on one plane, in patient mm²
 * (Newell's formula: half the length of the sum of cross products of consecutive LPS vertices).
 * Fewer than 3 points give 0. Self-intersecting polygons give the net (signed-sum) area.
 */
export function polygonAreaMm2(affine: Affine | null, points: readonly Vec3[]): number {
  if (points.length < 3) return 0;
  const p = points.map((v) => toPatient(affine, v));
  // Subtract the first vertex to keep the sums small (less cancellation far from the origin).
  const o = p[0]!;
  let nx = 0, ny = 0, nz = 0;
  for (let idx = 1; idx + 1 < p.length; idx++) {
    const a = sub(p[idx]!, o);
    const b = sub(p[idx + 1]!, o);
    nx += a[1] * b[2] - a[2] * b[1];
    ny += a[2] * b[0] - a[0] * b[2];
    nz += a[0] * b[1] - a[1] * b[0];
  }
  return Math.hypot(nx, ny, nz) / 2;
}

/** Area of an axis-aligned ellipse drawn on a plane with radii in plane pixels, in mm² (px² without geometry: spacing 1). */
export function ellipseAreaMm2(m: PlaneMapping, rx: number, ry: number): number {
  const pixelArea = m.pixelAreaMm2 ?? m.pixelSpacing[0] * m.pixelSpacing[1];
  return Math.PI * Math.abs(rx) * Math.abs(ry) * pixelArea;
}

/** RECIST-style bidirectional measurement: lengths of the long and the short axis (mm, px without geometry). */
export function bidirectional(affine: Affine | null, longA: Vec3, longB: Vec3, shortA: Vec3, shortB: Vec3): { long: number; short: number } {
  return { long: lengthMm(affine, longA, longB), short: lengthMm(affine, shortA, shortB) };
}

/**
 * Count, mean, population standard deviation, min and max of the pixels of a width × height
 * row-major image inside a region given as a predicate on integer pixel indices (x, y) or as a
 * mask (non-zero = inside, same layout as the image).
 */
export function regionStats(
  values: ArrayLike<number>,
  width: number,
  height: number,
  inside: ((x: number, y: number) => boolean) | Uint8Array,
): RegionStats {
  const n = width * height;
  if (values.length < n) throw new RangeError(`regionStats: ${values.length} values for a ${width}x${height} image`);
  if (inside instanceof Uint8Array && inside.length < n) throw new RangeError(`regionStats: mask has ${inside.length} entries for a ${width}x${height} image`);
  // Sums shifted by the first value inside (stable for large offsets such as CT's -1024).
  let count = 0;
  let shift = 0;
  let s1 = 0;
  let s2 = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  const add = (v: number): void => {
    if (count === 0) shift = v;
    const d = v - shift;
    s1 += d;
    s2 += d * d;
    count++;
    if (v < min) min = v;
    if (v > max) max = v;
  };
  if (inside instanceof Uint8Array) {
    for (let p = 0; p < n; p++) if (inside[p] !== 0) add(values[p]!);
  } else {
    for (let y = 0, p = 0; y < height; y++) {
      for (let x = 0; x < width; x++, p++) if (inside(x, y)) add(values[p]!);
    }
  }
  if (count === 0) return { count: 0, mean: Number.NaN, std: Number.NaN, min: Number.NaN, max: Number.NaN };
  const meanD = s1 / count;
  const variance = Math.max(0, s2 / count - meanD * meanD);
  return { count, mean: shift + meanD, std: Math.sqrt(variance), min, max };
}

/**
 * Pixels of a width × height image whose centre (x + 0.5, y + 0.5) lies inside the polygon
 * (plane pixel coordinates, even-odd rule), as a row-major mask of 0/1. Scanline fill: each row
 * costs O(edges + covered pixels). A centre exactly on a left edge counts as inside, on a
 * right edge as outside, so two polygons sharing an edge never both claim a pixel.
 */
export function polygonMask(width: number, height: number, points2d: readonly Point2[]): Uint8Array {
  const mask = new Uint8Array(width * height);
  const n = points2d.length;
  if (n < 3) return mask;
  let yMin = Number.POSITIVE_INFINITY, yMax = Number.NEGATIVE_INFINITY;
  for (const p of points2d) {
    if (p[1] < yMin) yMin = p[1];
    if (p[1] > yMax) yMax = p[1];
  }
  const r0 = Math.max(0, Math.ceil(yMin - 0.5));
  const r1 = Math.min(height - 1, Math.floor(yMax - 0.5));
  const xs = new Float64Array(n);
  for (let r = r0; r <= r1; r++) {
    const yc = r + 0.5;
    let count = 0;
    for (let e = 0; e < n; e++) {
      const a = points2d[e]!;
      const b = points2d[e + 1 === n ? 0 : e + 1]!;
      // Half-open rule on y: an edge covers [min y, max y), so vertices are counted once.
      if ((a[1] <= yc && b[1] > yc) || (b[1] <= yc && a[1] > yc)) {
        xs[count++] = a[0] + ((yc - a[1]) * (b[0] - a[0])) / (b[1] - a[1]);
      }
    }
    const sorted = xs.subarray(0, count).sort();
    const rowBase = r * width;
    for (let q = 0; q + 1 < count; q += 2) {
      // Pixel c is inside when xa <= c + 0.5 < xb.
      const c0 = Math.max(0, Math.ceil(sorted[q]! - 0.5));
      const c1 = Math.min(width, Math.ceil(sorted[q + 1]! - 0.5));
      if (c1 > c0) mask.fill(1, rowBase + c0, rowBase + c1);
    }
  }
  return mask;
}

/**
 * Pixels whose centre lies inside (or on) the axis-aligned ellipse with centre (cx, cy) and
 * radii rx, ry, all in plane pixel coordinates; row-major 0/1 mask.
 */
export function ellipseMask(width: number, height: number, cx: number, cy: number, rx: number, ry: number): Uint8Array {
  const mask = new Uint8Array(width * height);
  rx = Math.abs(rx);
  ry = Math.abs(ry);
  if (rx === 0 || ry === 0) return mask;
  const r0 = Math.max(0, Math.ceil(cy - ry - 0.5));
  const r1 = Math.min(height - 1, Math.floor(cy + ry - 0.5));
  for (let r = r0; r <= r1; r++) {
    const dy = (r + 0.5 - cy) / ry;
    const t = 1 - dy * dy;
    if (t < 0) continue;
    const half = rx * Math.sqrt(t);
    // Centres c + 0.5 in [cx - half, cx + half].
    const c0 = Math.max(0, Math.ceil(cx - half - 0.5));
    const c1 = Math.min(width - 1, Math.floor(cx + half - 0.5));
    if (c1 >= c0) mask.fill(1, r * width + c0, r * width + c1 + 1);
  }
  return mask;
}

/** Volume in mL of `voxelCount` voxels: count · |det(affine 3x3)| / 1000. */
export function segmentVolumeMl(voxelCount: number, affine: Affine): number {
  const r0 = affine[0], r1 = affine[1], r2 = affine[2];
  if (!r0 || !r1 || !r2) throw new RangeError('affine must be a 4x4 matrix (row-major)');
  const det =
    r0[0]! * (r1[1]! * r2[2]! - r1[2]! * r2[1]!) -
    r0[1]! * (r1[0]! * r2[2]! - r1[2]! * r2[0]!) +
    r0[2]! * (r1[0]! * r2[1]! - r1[1]! * r2[0]!);
  return (voxelCount * Math.abs(det)) / 1000;
}

/**
 * Plane pixel points (pixel-corner convention) on `slice` → continuous voxel indices, ready for
 * lengthMm / angleDeg / polygonAreaMm2. Same mapping as planeToVoxel in mpr.ts.
 */
export function pixelPointsToVoxel(m: PlaneMapping, slice: number, points2d: readonly Point2[]): Vec3[] {
  return points2d.map(([x, y]) => {
    const out: Vec3 = [0, 0, 0];
    out[m.uAxis] = m.uFlip ? m.width - 0.5 - x : x - 0.5;
    out[m.vAxis] = m.vFlip ? m.height - 0.5 - y : y - 0.5;
    out[m.normalAxis] = slice;
    return out;
  });
}
