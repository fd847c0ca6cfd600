/**
 * Brush, eraser, threshold brush and scissors on a {@link LabelMap}: spheres (ellipsoids in
 * voxel space, from the anisotropic spacing), discs in one voxel-aligned plane, rectangles,
 * and gap-free strokes between pointer positions. Every call returns an {@link EditDiff}
 * (or null when nothing changed), or records into a {@link StrokeRecorder} so that the steps
 * of one pointer drag become one undo step.
 *
 * Coordinates: centres are continuous voxel coordinates [i, j, k] (voxel (i, j, k)'s centre is
 * at the integer point); radii are in mm. A voxel is inside a sphere of radius r around c when
 * Σ ((x − c)·spacing)² ≤ r² over its centre x.
 */
import type { Vec3, VoxelAxis } from '../geometry/plane-types.js';
import { applyDiff, DiffRecorder, type EditDiff, type LabelMap } from './labelmap.js';

/**
 * Threshold brush: only voxels whose image value lies in [lo, hi] are painted. `image` is the
 * image volume in the same layout as the label map (stored values, e.g. the Int16Array of a CT);
 * `lo`/`hi` are in modality units (e.g. HU), converted to stored values with
 * `rescale` (modality = stored·slope + intercept; default slope 1, intercept 0) once per call,
 * so no per-voxel conversion is done.
 */
export interface ThresholdOptions {
  image: ArrayLike<number>;
  lo: number;
  hi: number;
  rescale?: { slope: number; intercept: number };
}

export interface PaintOptions {
  /** Label value painted (or, with `erase` and `onlySegment`, the one erased). */
  segment: number;
  /** Write background (0) instead of `segment`. */
  erase?: boolean;
  /** With `erase`: only erase voxels of `segment`, leave other segments alone. */
  onlySegment?: boolean;
  /** Segments whose voxels must not be changed (painted over or erased). */
  locked?: ReadonlySet<number>;
  /** Paint over other segments (default true); false paints only on background. */
  overwrite?: boolean;
  threshold?: ThresholdOptions;
  /** Record into this stroke (one undo step for the whole drag) instead of returning a diff. */
  stroke?: StrokeRecorder;
}

/** One voxel-aligned plane: the voxel axis it is normal to and the index along that axis. */
export interface LabelPlane {
  normalAxis: VoxelAxis;
  slice: number;
}

/** The two in-plane voxel axes of a plane normal to `normalAxis`, lower axis first. */
export function inPlaneAxes(normalAxis: VoxelAxis): [VoxelAxis, VoxelAxis] {
  return normalAxis === 0 ? [1, 2] : normalAxis === 1 ? [0, 2] : [0, 1];
}

// ---------------------------------------------------------------------------------------------
// The write kernel

/** Pre-computed per-call decisions: which old values may be overwritten, and the image range. */
export interface Painter {
  readonly map: LabelMap;
  readonly value: number;
  /** allow[old] = 1 when a voxel holding `old` may be changed to `value`. */
  readonly allow: Uint8Array;
  readonly image: ArrayLike<number> | null;
  /** Inclusive range in stored image values. */
  readonly lo: number;
  readonly hi: number;
  readonly recorder: DiffRecorder;
}

const allowCache = new WeakMap<LabelMap, Uint8Array>();

export function makePainter(map: LabelMap, opts: PaintOptions, recorder: DiffRecorder): Painter {
  map.checkValue(opts.segment);
  const erase = opts.erase === true;
  const value = erase ? 0 : opts.segment;
  let allow = allowCache.get(map);
  if (allow === undefined) {
    allow = new Uint8Array(map.maxLabel + 1);
    allowCache.set(map, allow);
  }
  const overwrite = opts.overwrite !== false;
  if (erase) {
    if (opts.onlySegment === true) {
      allow.fill(0);
      allow[opts.segment] = 1;
    } else {
      allow.fill(1);
    }
  } else if (overwrite) {
    allow.fill(1);
  } else {
    allow.fill(0);
    allow[0] = 1;
  }
  allow[value] = 0;
  if (opts.locked) for (const v of opts.locked) if (Number.isInteger(v) && v >= 0 && v <= map.maxLabel) allow[v] = 0;
  let lo = Number.NEGATIVE_INFINITY;
  let hi = Number.POSITIVE_INFINITY;
  let image: ArrayLike<number> | null = null;
  const t = opts.threshold;
  if (t) {
    if (t.image.length !== map.length) throw new RangeError(`threshold image has ${t.image.length} values, label map ${map.length}`);
    image = t.image;
    const slope = t.rescale?.slope ?? 1;
    const intercept = t.rescale?.intercept ?? 0;
    if (!(slope !== 0 && Number.isFinite(slope))) throw new RangeError(`rescale slope must be finite and non-zero, got ${slope}`);
    const a = (t.lo - intercept) / slope;
    const b = (t.hi - intercept) / slope;
    lo = Math.min(a, b);
    hi = Math.max(a, b);
  }
  return { map, value, allow, image, lo, hi, recorder };
}

/**
 * Writes the painter's value to `count` voxels starting at flat index `start`, `stride` apart,
 * all in one slice k. Returns the number changed.
 */
export function paintRun(p: Painter, start: number, count: number, stride: number): number {
  const { map, value, allow, image, lo, hi, recorder } = p;
  const data = map.data;
  const counts = map.counts;
  let changed = 0;
  let idx = start;
  if (image === null) {
    for (let n = 0; n < count; n++, idx += stride) {
      const o = data[idx] as number;
      if (allow[o] === 1) {
        recorder.add(idx, o);
        data[idx] = value;
        (counts[o] as number)--;
        changed++;
      }
    }
  } else {
    for (let n = 0; n < count; n++, idx += stride) {
      const o = data[idx] as number;
      if (allow[o] === 1) {
        const g = image[idx] as number;
        if (g >= lo && g <= hi) {
          recorder.add(idx, o);
          data[idx] = value;
          (counts[o] as number)--;
          changed++;
        }
      }
    }
  }
  if (changed > 0) {
    (counts[value] as number) += changed;
    map.dirtyFlags[Math.floor(start / map.sliceSize)] = 1;
  }
  return changed;
}

/** Runs `body` with a recorder (the stroke's or a fresh one) and returns the diff (null in a stroke). */
export function withRecorder(map: LabelMap, opts: { stroke?: StrokeRecorder }, body: (rec: DiffRecorder) => number): EditDiff | null {
  if (opts.stroke) {
    const rec = opts.stroke.recorderFor(map);
    const changed = body(rec);
    if (changed > 0) map.version++;
    return null;
  }
  const rec = new DiffRecorder(map);
  const changed = body(rec);
  if (changed === 0) return null;
  map.version++;
  return rec.finish();
}

// ---------------------------------------------------------------------------------------------
// Shapes

function checkCentre(c: Vec3): void {
  if (!c.every((x) => Number.isFinite(x))) throw new RangeError(`centre must be finite, got ${c.join(', ')}`);
}

function checkRadius(r: number): void {
  if (!(r >= 0 && Number.isFinite(r))) throw new RangeError(`radius must be a non-negative finite number of mm, got ${r}`);
}

/** Paints the voxels of an ellipsoid (a sphere of `radiusMm` in mm) around `center` (voxel coords). */
export function paintSphere(map: LabelMap, center: Vec3, radiusMm: number, opts: PaintOptions): EditDiff | null {
  checkCentre(center);
  checkRadius(radiusMm);
  return withRecorder(map, opts, (rec) => sphereInto(makePainter(map, opts, rec), center, radiusMm));
}

function sphereInto(p: Painter, center: Vec3, r: number): number {
  const map = p.map;
  const [ni, nj, nk] = map.dims;
  const [si, sj, sk] = map.spacing;
  const [ci, cj, ck] = center;
  const r2 = r * r;
  const k0 = Math.max(0, Math.ceil(ck - r / sk));
  const k1 = Math.min(nk - 1, Math.floor(ck + r / sk));
  const j0 = Math.max(0, Math.ceil(cj - r / sj));
  const j1 = Math.min(nj - 1, Math.floor(cj + r / sj));
  let changed = 0;
  for (let k = k0; k <= k1; k++) {
    const dk = (k - ck) * sk;
    const remK = r2 - dk * dk;
    if (remK < 0) continue;
    const kBase = k * map.sliceSize;
    for (let j = j0; j <= j1; j++) {
      const dj = (j - cj) * sj;
      const rem = remK - dj * dj;
      if (rem < 0) continue;
      const half = Math.sqrt(rem) / si;
      const i0 = Math.max(0, Math.ceil(ci - half));
      const i1 = Math.min(ni - 1, Math.floor(ci + half));
      if (i1 < i0) continue;
      changed += paintRun(p, kBase + j * ni + i0, i1 - i0 + 1, 1);
    }
  }
  return changed;
}

/**
 * Paints a disc of `radiusMm` (an ellipse in voxels, from the in-plane spacing) in one plane.
 * `center` is in voxel coordinates; its component along the plane's normal is ignored.
 */
export function paintCircle(map: LabelMap, plane: LabelPlane, center: Vec3, radiusMm: number, opts: PaintOptions): EditDiff | null {
  checkCentre(center);
  checkRadius(radiusMm);
  checkPlane(map, plane);
  return withRecorder(map, opts, (rec) => circleInto(makePainter(map, opts, rec), plane, center, radiusMm));
}

function checkPlane(map: LabelMap, plane: LabelPlane): void {
  const n = map.dims[plane.normalAxis];
  if (!Number.isInteger(plane.slice) || plane.slice < 0 || plane.slice >= n) {
    throw new RangeError(`plane slice ${plane.slice} is outside 0..${n - 1} along axis ${plane.normalAxis}`);
  }
}

/** Flat-index strides of the three voxel axes. */
export function axisStrides(map: LabelMap): Vec3 {
  return [1, map.dims[0], map.sliceSize];
}

function circleInto(p: Painter, plane: LabelPlane, center: Vec3, r: number): number {
  const map = p.map;
  const [ua, va] = inPlaneAxes(plane.normalAxis);
  const strides = axisStrides(map);
  const nu = map.dims[ua];
  const nv = map.dims[va];
  const su = map.spacing[ua];
  const sv = map.spacing[va];
  const cu = center[ua];
  const cv = center[va];
  const base = plane.slice * strides[plane.normalAxis];
  const strideU = strides[ua];
  const strideV = strides[va];
  const r2 = r * r;
  const v0 = Math.max(0, Math.ceil(cv - r / sv));
  const v1 = Math.min(nv - 1, Math.floor(cv + r / sv));
  let changed = 0;
  for (let v = v0; v <= v1; v++) {
    const dv = (v - cv) * sv;
    const rem = r2 - dv * dv;
    if (rem < 0) continue;
    const half = Math.sqrt(rem) / su;
    const u0 = Math.max(0, Math.ceil(cu - half));
    const u1 = Math.min(nu - 1, Math.floor(cu + half));
    if (u1 < u0) continue;
    changed += paintRun(p, base + v * strideV + u0 * strideU, u1 - u0 + 1, strideU);
  }
  return changed;
}

/**
 * Scissors rectangle: fills (or, with `erase`, clears) the voxels (x, y) with x between x0 and
 * x1 and y between y0 and y1 (inclusive, any order, clipped to the volume) in one plane. x runs
 * along the lower in-plane voxel axis and y along the higher one: axial (normal k) x = i,
 * y = j; coronal (normal j) x = i, y = k; sagittal (normal i) x = j, y = k. Convert screen
 * pixels with `planeToVoxel` (geometry/mpr).
 */
export function fillRect(map: LabelMap, plane: LabelPlane, x0: number, y0: number, x1: number, y1: number, opts: PaintOptions): EditDiff | null {
  checkPlane(map, plane);
  for (const c of [x0, y0, x1, y1]) if (!Number.isFinite(c)) throw new RangeError(`rectangle corners must be finite, got ${[x0, y0, x1, y1].join(', ')}`);
  return withRecorder(map, opts, (rec) => {
    const p = makePainter(map, opts, rec);
    const [ua, va] = inPlaneAxes(plane.normalAxis);
    const strides = axisStrides(map);
    const u0 = Math.max(0, Math.ceil(Math.min(x0, x1)));
    const u1 = Math.min(map.dims[ua] - 1, Math.floor(Math.max(x0, x1)));
    const v0 = Math.max(0, Math.ceil(Math.min(y0, y1)));
    const v1 = Math.min(map.dims[va] - 1, Math.floor(Math.max(y0, y1)));
    if (u1 < u0 || v1 < v0) return 0;
    const base = plane.slice * strides[plane.normalAxis];
    let changed = 0;
    for (let v = v0; v <= v1; v++) changed += paintRun(p, base + v * strides[va] + u0 * strides[ua], u1 - u0 + 1, strides[ua]);
    return changed;
  });
}

/** Scissors circle: same as {@link paintCircle} (fills, or clears with `erase`). */
export const fillCircle = paintCircle;
/** Scissors sphere: same as {@link paintSphere} (fills, or clears with `erase`). */
export const fillSphere = paintSphere;

// ---------------------------------------------------------------------------------------------
// Strokes

/**
 * Merges the steps of one pointer drag into one diff. `beginStroke()` on pointer down, pass
 * `{ stroke: recorder }` in the options of every paint call (or use {@link strokeSegment}),
 * `endStroke()` on pointer up returns the one diff for the history. Each changed voxel's value
 * from before the stroke is kept (first touch), using a bitset over the volume (1 bit per voxel,
 * allocated once per recorder and cleared in O(changed voxels)).
 */
export class StrokeRecorder {
  private seen: Uint8Array | null = null;
  private recorder: DiffRecorder | null = null;
  private active: LabelMap | null = null;

  /** Starts a stroke on `map` (ends nothing: call {@link endStroke} first if one is running). */
  beginStroke(map: LabelMap): void {
    if (this.active !== null) throw new Error('a stroke is already running: call endStroke() first');
    const bytes = Math.ceil(map.length / 8);
    if (this.seen === null || this.seen.length < bytes) this.seen = new Uint8Array(bytes);
    if (this.recorder === null || this.recorder.map !== map) this.recorder = new DiffRecorder(map, this.seen);
    this.active = map;
  }

  get inStroke(): boolean {
    return this.active !== null;
  }

  /** Voxels changed so far in this stroke (may count a voxel changed back to its old value). */
  get changedVoxels(): number {
    return this.recorder?.size ?? 0;
  }

  /** The recorder of the running stroke on `map` (used by the operations). */
  recorderFor(map: LabelMap): DiffRecorder {
    if (this.active === null || this.recorder === null) throw new Error('no stroke running: call beginStroke(map) first');
    if (this.active !== map) throw new Error('the stroke was begun on another label map');
    return this.recorder;
  }

  /** Ends the stroke: one diff for all its steps, or null when nothing changed. */
  endStroke(): EditDiff | null {
    if (this.active === null || this.recorder === null) return null;
    this.active = null;
    return this.recorder.finish();
  }

  /** Ends the stroke and reverts everything it painted (e.g. Escape during a drag). */
  cancelStroke(): void {
    const map = this.active;
    const diff = this.endStroke();
    if (map !== null && diff !== null) applyDiff(map, diff, 'undo');
  }
}

export interface StrokeOptions extends PaintOptions {
  /** Paint discs in this plane instead of spheres. */
  plane?: LabelPlane;
  /** Skip the start point (already painted as the end of the previous segment). Default false. */
  skipStart?: boolean;
}

/**
 * Paints from `from` to `to` (voxel coordinates) with a sphere (or a disc in `opts.plane`) of
 * `radiusMm`, at centres spaced at most radius/2 mm apart, so the stroke has no gaps. Returns
 * one diff for the segment (or null in a stroke / when nothing changed).
 */
export function strokeSegment(map: LabelMap, from: Vec3, to: Vec3, radiusMm: number, opts: StrokeOptions): EditDiff | null {
  checkCentre(from);
  checkCentre(to);
  checkRadius(radiusMm);
  if (opts.plane) checkPlane(map, opts.plane);
  const own = opts.stroke === undefined;
  const stroke = opts.stroke ?? ownStroke(map);
  if (own) stroke.beginStroke(map);
  try {
    const p = makePainter(map, opts, stroke.recorderFor(map));
    const [si, sj, sk] = map.spacing;
    const d = opts.plane ? [from[0] - to[0], from[1] - to[1], from[2] - to[2]].map((x, a) => (a === opts.plane?.normalAxis ? 0 : x)) : [from[0] - to[0], from[1] - to[1], from[2] - to[2]];
    const lengthMm = Math.hypot((d[0] as number) * si, (d[1] as number) * sj, (d[2] as number) * sk);
    const step = Math.max(radiusMm / 2, 1e-6);
    const n = Math.max(1, Math.ceil(lengthMm / step));
    let changed = 0;
    const c: Vec3 = [0, 0, 0];
    for (let m = opts.skipStart === true ? 1 : 0; m <= n; m++) {
      const t = m / n;
      c[0] = from[0] + (to[0] - from[0]) * t;
      c[1] = from[1] + (to[1] - from[1]) * t;
      c[2] = from[2] + (to[2] - from[2]) * t;
      changed += opts.plane ? circleInto(p, opts.plane, c, radiusMm) : sphereInto(p, c, radiusMm);
    }
    if (changed > 0) map.version++;
  } catch (e) {
    if (own) stroke.endStroke();
    throw e;
  }
  return own ? stroke.endStroke() : null;
}

const ownStrokes = new WeakMap<LabelMap, StrokeRecorder>();

function ownStroke(map: LabelMap): StrokeRecorder {
  let s = ownStrokes.get(map);
  if (s === undefined) {
    s = new StrokeRecorder();
    ownStrokes.set(map, s);
  }
  return s;
}
