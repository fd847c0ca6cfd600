/**
 * Voxel-aligned plane views of a volume (axial / coronal / sagittal) and the coordinate
 * conversions between plane pixels, voxel indices and patient LPS mm. Pure, isomorphic.
 *
 * This module is the `@caliper/core/mpr` entry point: it re-exports the plane types and the
 * mm measurements (`measure.ts`), so the web app imports only from here.
 *
 * Conventions (plane-types.ts, docs/architecture.md "Coordinates"):
 * - voxel index (i = column, j = row, k = slice); the affine maps the voxel CENTRE to LPS mm;
 * - plane pixel coordinates (x, y) use the pixel-corner convention: voxel index n along the
 *   plane's u axis sits at x = n + 0.5 (no flip) or x = (width - 1 - n) + 0.5 (flipped); same for y.
 */

import type { Affine, OrientationLabels, PlaneAxis, PlaneMapping, Vec3, VoxelAxis } from './plane-types.js';

export * from './plane-types.js';
export * from './measure.js';

/** Below this fraction of a direction's length a patient-axis component counts as zero. */
const DIRECTION_EPSILON = 1e-3;
/** A secondary patient direction joins the orientation label when it is above this fraction of the main one. */
const SECONDARY_LABEL_RATIO = 0.3;

function checkAffine(affine: Affine): void {
  if (affine.length < 3 || affine.slice(0, 3).some((row) => !Array.isArray(row) || row.length < 4)) {
    throw new RangeError('affine must be a 4x4 matrix (row-major)');
  }
}

/** Column `c` of the affine's 3x3 part: the LPS step for +1 along voxel axis c. */
function axisVector(affine: Affine, c: VoxelAxis): Vec3 {
  return [affine[0]![c]!, affine[1]![c]!, affine[2]![c]!];
}

const norm = (v: Vec3): number => Math.hypot(v[0], v[1], v[2]);

/** Index (0 = x, 1 = y, 2 = z) of the component with the largest magnitude. */
function dominant(v: Vec3): 0 | 1 | 2 {
  const ax = Math.abs(v[0]), ay = Math.abs(v[1]), az = Math.abs(v[2]);
  if (ax >= ay && ax >= az) return 0;
  return ay >= az ? 1 : 2;
}

/**
 * How to cut one of the three voxel-aligned planes from a volume.
 *
 * - axial: the acquisition plane, u = i, v = j, normal = k, never flipped.
 * - coronal: normal = j, in-plane voxel axes i and k; sagittal: normal = i, in-plane j and k.
 *   By default u is the other axis and v = k. With an affine:
 *   1. screen-up: the in-plane voxel axis whose direction has the largest patient z component
 *      (ties go to k) is vertical, flipped so that up points to patient superior (+z in LPS).
 *      When neither in-plane axis has a z component (|z| below 1e-3 of its length, e.g. the
 *      "coronal" voxel plane of a coronal acquisition, which is a patient-axial view), the axis
 *      nearest to anterior/posterior becomes vertical with anterior up (as in an axial view),
 *      and failing that the axis nearest to left/right with patient right up. So for
 *      non-axial acquisitions u may be k and v the other axis (uAxis/vAxis say which).
 *   2. screen-right: the remaining axis is flipped so that its dominant patient direction
 *      grows to the right: patient left (+x) on the right, i.e. patient right on screen left
 *      (radiological convention); for an A/P axis posterior on the right (anterior on screen
 *      left, the sagittal convention); for an S/I axis superior on the right.
 * - Without an affine (2D images, unknown geometry): spacing 1 mm, u/v as in the default,
 *   no flips except v for coronal/sagittal (higher k up).
 *
 * pixelSpacing / sliceSpacing are the lengths of the affine's columns for the axes used;
 * pixelAreaMm2 is |u × v| (differs from the product of the spacings for sheared/tilted affines).
 */
export function planeMapping(dims: readonly [number, number, number], affine: Affine | null, axis: PlaneAxis): PlaneMapping {
  if (!dims.every((d) => Number.isInteger(d) && d > 0)) throw new RangeError(`planeMapping: dims must be positive integers, got [${dims.join(', ')}]`);
  if (affine) checkAffine(affine);
  let normalAxis: VoxelAxis;
  let uAxis: VoxelAxis;
  let vAxis: VoxelAxis;
  let uFlip = false;
  let vFlip = false;
  if (axis === 'axial') {
    [normalAxis, uAxis, vAxis] = [2, 0, 1];
  } else {
    normalAxis = axis === 'coronal' ? 1 : 0;
    const other: VoxelAxis = axis === 'coronal' ? 0 : 1;
    uAxis = other;
    vAxis = 2;
    if (!affine) {
      vFlip = true;
    } else {
      const dk = axisVector(affine, 2);
      const dOther = axisVector(affine, other);
      const unitK = norm(dk), unitO = norm(dOther);
      if (unitK === 0 || unitO === 0) throw new RangeError('planeMapping: affine has a zero-length voxel axis');
      // Pick the vertical axis and the patient direction that should point up.
      let up: Vec3 | null = null;
      for (const [c, dir] of [[2, [0, 0, 1]], [1, [0, -1, 0]], [0, [-1, 0, 0]]] as const) {
        const sk = Math.abs(dk[c]) / unitK;
        const so = Math.abs(dOther[c]) / unitO;
        if (Math.max(sk, so) < DIRECTION_EPSILON) continue;
        if (so > sk + 1e-9) [uAxis, vAxis] = [2, other];
        up = [dir[0], dir[1], dir[2]];
        break;
      }
      const dv = axisVector(affine, vAxis);
      const du = axisVector(affine, uAxis);
      // vFlip: y grows as the index shrinks, so the highest index is at the top.
      if (up) vFlip = dv[0] * up[0] + dv[1] * up[1] + dv[2] * up[2] > 0;
      uFlip = du[dominant(du)] < 0;
    }
  }
  const size = [dims[0], dims[1], dims[2]];
  let pixelSpacing: [number, number] = [1, 1];
  let sliceSpacing = 1;
  let pixelAreaMm2 = 1;
  if (affine) {
    const du = axisVector(affine, uAxis);
    const dv = axisVector(affine, vAxis);
    pixelSpacing = [norm(du), norm(dv)];
    sliceSpacing = norm(axisVector(affine, normalAxis));
    pixelAreaMm2 = norm([du[1] * dv[2] - du[2] * dv[1], du[2] * dv[0] - du[0] * dv[2], du[0] * dv[1] - du[1] * dv[0]]);
  }
  return {
    axis,
    normalAxis,
    uAxis,
    uFlip,
    vAxis,
    vFlip,
    width: size[uAxis]!,
    height: size[vAxis]!,
    depth: size[normalAxis]!,
    pixelSpacing,
    sliceSpacing,
    pixelAreaMm2,
  };
}

/**
 * Plane pixel coordinates (continuous, pixel-corner convention) and slice index → voxel index
 * (continuous; integer at voxel centres). Exact inverse of voxelToPlane.
 */
export function planeToVoxel(m: PlaneMapping, x: number, y: number, slice: number): Vec3 {
  const out: Vec3 = [0, 0, 0];
  out[m.uAxis] = m.uFlip ? m.width - 0.5 - x : x - 0.5;
  out[m.vAxis] = m.vFlip ? m.height - 0.5 - y : y - 0.5;
  out[m.normalAxis] = slice;
  return out;
}

/** Voxel index (continuous) → plane pixel coordinates and slice index. Exact inverse of planeToVoxel. */
export function voxelToPlane(m: PlaneMapping, i: number, j: number, k: number): { x: number; y: number; slice: number } {
  const v = [i, j, k];
  const nu = v[m.uAxis]!;
  const nv = v[m.vAxis]!;
  return {
    x: m.uFlip ? m.width - 0.5 - nu : nu + 0.5,
    y: m.vFlip ? m.height - 0.5 - nv : nv + 0.5,
    slice: v[m.normalAxis]!,
  };
}

/** Voxel index (i, j, k) → LPS mm through the row-major 4x4 affine (homogeneous row honoured). */
export function voxelToLps(affine: Affine, v: Vec3): Vec3 {
  checkAffine(affine);
  const out: Vec3 = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    const row = affine[r]!;
    out[r] = row[0]! * v[0] + row[1]! * v[1] + row[2]! * v[2] + row[3]!;
  }
  const w = affine[3];
  if (w && w.length >= 4) {
    const h = w[0]! * v[0] + w[1]! * v[1] + w[2]! * v[2] + w[3]!;
    if (h !== 1 && h !== 0) for (let r = 0; r < 3; r++) out[r] = out[r]! / h;
  }
  return out;
}

/** Inverse of a 4x4 matrix by Gauss-Jordan elimination with partial pivoting. Throws on a singular matrix. */
export function invertAffine(affine: Affine): Affine {
  checkAffine(affine);
  const a: number[][] = [0, 1, 2, 3].map((r) => {
    const row = r < 3 || (affine[3] && affine[3].length >= 4) ? affine[r]! : [0, 0, 0, 1];
    return [row[0]!, row[1]!, row[2]!, row[3]!, r === 0 ? 1 : 0, r === 1 ? 1 : 0, r === 2 ? 1 : 0, r === 3 ? 1 : 0];
  });
  let scale = 0;
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) scale = Math.max(scale, Math.abs(a[r]![c]!));
  if (!Number.isFinite(scale) || scale === 0) throw new Error('affine is singular or not finite: cannot map LPS mm to voxel indices');
  for (let c = 0; c < 4; c++) {
    let p = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    if (Math.abs(a[p]![c]!) <= 1e-12 * scale) throw new Error('affine is singular (a voxel axis is zero or axes are coplanar): cannot map LPS mm to voxel indices');
    [a[c], a[p]] = [a[p]!, a[c]!];
    const pr = a[c]!;
    const inv = 1 / pr[c]!;
    for (let k = 0; k < 8; k++) pr[k] = pr[k]! * inv;
    for (let r = 0; r < 4; r++) {
      if (r === c) continue;
      const row = a[r]!;
      const f = row[c]!;
      if (f === 0) continue;
      for (let k = 0; k < 8; k++) row[k] = row[k]! - f * pr[k]!;
    }
  }
  return a.map((row) => row.slice(4));
}

/** LPS mm → voxel index (continuous). Throws an Error naming the problem on a singular affine. */
export function lpsToVoxel(affine: Affine, p: Vec3): Vec3 {
  return voxelToLps(invertAffine(affine), p);
}

/** Volume of one voxel in mm³: |det| of the affine's 3x3 part. */
export function voxelVolumeMm3(affine: Affine): number {
  checkAffine(affine);
  const [a, b, c] = [affine[0]![0]!, affine[0]![1]!, affine[0]![2]!];
  const [d, e, f] = [affine[1]![0]!, affine[1]![1]!, affine[1]![2]!];
  const [g, h, k] = [affine[2]![0]!, affine[2]![1]!, affine[2]![2]!];
  return Math.abs(a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g));
}

/** Patient-direction letters for an LPS direction: "R"/"L", "A"/"P", "S"/"I", up to two combined. */
function directionLetters(d: Vec3): string {
  const letters: [string, string][] = [['L', 'R'], ['P', 'A'], ['S', 'I']];
  const order = [0, 1, 2].sort((p, q) => Math.abs(d[q]!) - Math.abs(d[p]!));
  const main = order[0]!;
  const second = order[1]!;
  const mainMag = Math.abs(d[main]!);
  if (mainMag === 0) return '';
  const letter = (c: number): string => letters[c]![d[c]! > 0 ? 0 : 1];
  let s = letter(main);
  if (Math.abs(d[second]!) > SECONDARY_LABEL_RATIO * mainMag) s += letter(second);
  return s;
}

/**
 * Letters for the patient direction at each screen edge (R/L/A/P/S/I). The strongest two
 * patient axes are combined (e.g. "RA") only when the secondary component is more than 0.3 of
 * the main one. Without an affine every label is the empty string.
 */
export function orientationLabels(m: PlaneMapping, affine: Affine | null): OrientationLabels {
  if (!affine) return { left: '', right: '', top: '', bottom: '' };
  checkAffine(affine);
  const du = axisVector(affine, m.uAxis);
  const dv = axisVector(affine, m.vAxis);
  const right: Vec3 = m.uFlip ? [-du[0], -du[1], -du[2]] : du;
  const down: Vec3 = m.vFlip ? [-dv[0], -dv[1], -dv[2]] : dv;
  return {
    left: directionLetters([-right[0], -right[1], -right[2]]),
    right: directionLetters(right),
    top: directionLetters([-down[0], -down[1], -down[2]]),
    bottom: directionLetters(down),
  };
}

/** Flat volume index of a plane's top-left pixel on `slice` and the index steps for +1 x and +1 y. */
function strides(m: PlaneMapping, dims: readonly [number, number, number], slice: number): { base: number; sx: number; sy: number } {
  const axisStride = [1, dims[0], dims[0] * dims[1]];
  const su = axisStride[m.uAxis]!;
  const sv = axisStride[m.vAxis]!;
  let base = slice * axisStride[m.normalAxis]!;
  let sx = su;
  let sy = sv;
  if (m.uFlip) {
    base += (m.width - 1) * su;
    sx = -su;
  }
  if (m.vFlip) {
    base += (m.height - 1) * sv;
    sy = -sv;
  }
  return { base, sx, sy };
}

function checkSlice(m: PlaneMapping, dims: readonly [number, number, number], slice: number): void {
  if (dims[m.uAxis] !== m.width || dims[m.vAxis] !== m.height || dims[m.normalAxis] !== m.depth) {
    throw new RangeError(`plane mapping (${m.width}x${m.height}x${m.depth}) does not match volume dims [${dims.join(', ')}]`);
  }
  if (!Number.isInteger(slice) || slice < 0 || slice >= m.depth) throw new RangeError(`slice ${slice} outside 0..${m.depth - 1}`);
}

interface TypedLike {
  subarray(begin: number, end: number): ArrayLike<number>;
}
interface SettableLike {
  set(src: ArrayLike<number>, offset: number): void;
}

/**
 * Copy one plane (row-major, width × height) out of a volume stored as frames of cols × rows
 * samples (index = i + j·cols + k·cols·rows) into `out` (length ≥ width·height). One pass with
 * precomputed strides; rows contiguous in memory are block-copied when both are typed arrays.
 */
export function extractPlane(
  m: PlaneMapping,
  volume: ArrayLike<number> & { length: number },
  dims: readonly [number, number, number],
  slice: number,
  out: { [n: number]: number; length: number },
): void {
  checkSlice(m, dims, slice);
  const w = m.width;
  const h = m.height;
  if (volume.length < dims[0] * dims[1] * dims[2]) throw new RangeError(`volume has ${volume.length} samples, dims need ${dims[0] * dims[1] * dims[2]}`);
  if (out.length < w * h) throw new RangeError(`output has ${out.length} samples, plane needs ${w * h}`);
  const { base, sx, sy } = strides(m, dims, slice);
  if (sx === 1 && ArrayBuffer.isView(volume) && ArrayBuffer.isView(out) && 'subarray' in volume && 'set' in out) {
    const src = volume as unknown as TypedLike;
    const dst = out as unknown as SettableLike;
    for (let y = 0, row = base; y < h; y++, row += sy) dst.set(src.subarray(row, row + w), y * w);
    return;
  }
  let o = 0;
  for (let y = 0, row = base; y < h; y++, row += sy) {
    for (let x = 0, p = row; x < w; x++, p += sx) out[o++] = volume[p]!;
  }
}

/** Flat volume index of plane pixel (x, y) (integer pixel indices) on `slice`; used by brushes. */
export function planeIndex(m: PlaneMapping, dims: readonly [number, number, number], x: number, y: number, slice: number): number {
  const { base, sx, sy } = strides(m, dims, slice);
  return base + x * sx + y * sy;
}

/**
 * Where another view's current slice cuts this plane (reference lines / crosshairs), in this
 * plane's pixel coordinates: a vertical line at x = `at` or a horizontal line at y = `at`
 * through the centres of the voxels of that slice. Null when both views share the normal.
 */
export function sliceLineOnPlane(
  target: PlaneMapping,
  other: PlaneMapping,
  otherSlice: number,
): { orientation: 'vertical' | 'horizontal'; at: number } | null {
  const n = other.normalAxis;
  if (n === target.normalAxis) return null;
  if (n === target.uAxis) return { orientation: 'vertical', at: target.uFlip ? target.width - 0.5 - otherSlice : otherSlice + 0.5 };
  return { orientation: 'horizontal', at: target.vFlip ? target.height - 0.5 - otherSlice : otherSlice + 0.5 };
}
