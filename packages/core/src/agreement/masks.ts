/**
 * Agreement between two binary segmentation masks (2D or 3D): overlap (Dice, IoU) and
 * surface-distance metrics in millimetres with anisotropic voxel spacing (Hausdorff, HD95,
 * average symmetric surface distance, surface Dice at a tolerance).
 *
 * Layout: `data[x + y * nx + z * nx * ny]`, x fastest. Any non-zero value is foreground
 * (masks are normally 0/1). Use {@link labelMask} to compare one label of two label maps.
 *
 * Definitions (they match the scipy reference used in the tests):
 * - **Surface** of a mask: the foreground voxels that have at least one background
 *   face-neighbour (4-connectivity in 2D, 6-connectivity in 3D) or that lie on the border of
 *   the volume (a neighbour outside the volume counts as background). This is
 *   `mask & ~binary_erosion(mask, structure=generate_binary_structure(ndim, 1), border_value=0)`.
 *   A 3D volume with `nz = 1` is all border in z, so every foreground voxel is surface.
 * - **Directed surface distance** A→B: for every surface voxel of A (in increasing linear
 *   index order), the Euclidean distance in mm from its centre to the nearest surface voxel
 *   centre of B, i.e. `distance_transform_edt(~surface_b, sampling=spacing)[surface_a]`.
 *   Computed with an exact separable Euclidean distance transform (Felzenszwalb &
 *   Huttenlocher 2012), O(voxels), restricted to the bounding box of both surfaces (exact,
 *   since every query and every feature voxel lies inside it).
 * - **Hausdorff**: max of both directed maxima. **HD95**: max of the two directed 95th
 *   percentiles (numpy's default linear interpolation). **ASSD**: mean of all directed
 *   distances of both directions pooled, (Σ d(A→B) + Σ d(B→A)) / (|∂A| + |∂B|).
 * - **Surface Dice** at tolerance τ (mm): (#{∂A voxels with d ≤ τ} + #{∂B voxels with d ≤ τ})
 *   / (|∂A| + |∂B|), counting voxels (not surfel areas).
 *
 * Empty masks:
 * - Dice and IoU: both empty → 1 (perfect agreement on "nothing"); one empty → 0.
 * - Distances: both empty → 0 (Hausdorff, HD95, ASSD), surface Dice 1; exactly one empty →
 *   Infinity (Hausdorff, HD95, ASSD), surface Dice 0. `surfaceDistances(a, b)` with `b`
 *   empty gives Infinity for every surface voxel of `a` (and an empty array if `a` is empty).
 */

export type MaskShape = readonly [number, number] | readonly [number, number, number];
/** Voxel size in mm per axis, same order and length as the shape. */
export type MaskSpacing = readonly [number, number] | readonly [number, number, number];

export interface Mask {
  /** Foreground is any non-zero value; x fastest: index = x + y*nx + z*nx*ny. */
  readonly data: Uint8Array;
  readonly shape: MaskShape;
}

export interface LabelMap {
  readonly data: ArrayLike<number>;
  readonly shape: MaskShape;
}

export interface SegmentationMetrics {
  dice: number;
  iou: number;
  /** Hausdorff distance in mm. */
  hd: number;
  hd95: number;
  assd: number;
}

/** Binary mask of the voxels of a label map equal to `label`. */
export function labelMask(labels: LabelMap, label: number): Mask {
  const n = voxelCount(labels.shape);
  if (labels.data.length !== n) {
    throw new RangeError(`label map has ${labels.data.length} values but shape ${labels.shape.join('×')} needs ${n}`);
  }
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = labels.data[i] === label ? 1 : 0;
  return { data, shape: labels.shape };
}

/** Dice coefficient 2|A∩B| / (|A| + |B|); 1 when both masks are empty. */
export function dice(a: Mask, b: Mask): number {
  const { inA, inB, both } = overlapCounts(a, b);
  return inA + inB === 0 ? 1 : (2 * both) / (inA + inB);
}

/** Intersection over union (Jaccard) |A∩B| / |A∪B|; 1 when both masks are empty. */
export function iou(a: Mask, b: Mask): number {
  const { inA, inB, both } = overlapCounts(a, b);
  const union = inA + inB - both;
  return union === 0 ? 1 : both / union;
}

/**
 * Directed distances (mm) from each surface voxel of `a`, in increasing linear index order,
 * to the nearest surface voxel of `b`.
 */
export function surfaceDistances(a: Mask, b: Mask, spacing: MaskSpacing): Float64Array {
  const grid = checkPair(a, b, spacing);
  const surfA = surfaceIndices(a.data, grid.dims);
  const surfB = surfaceIndices(b.data, grid.dims);
  return directed(surfA, surfB, grid);
}

/** Symmetric Hausdorff distance in mm. */
export function hausdorff(a: Mask, b: Mask, spacing: MaskSpacing): number {
  const [ab, ba] = bothDirections(a, b, spacing);
  return emptyCase(ab, ba) ?? Math.max(maxOf(ab), maxOf(ba));
}

/** Max of the two directed 95th percentiles (linear interpolation), in mm. */
export function hd95(a: Mask, b: Mask, spacing: MaskSpacing): number {
  const [ab, ba] = bothDirections(a, b, spacing);
  return emptyCase(ab, ba) ?? Math.max(percentile(ab, 95), percentile(ba, 95));
}

/** Average symmetric surface distance in mm: mean of all directed distances both ways. */
export function assd(a: Mask, b: Mask, spacing: MaskSpacing): number {
  const [ab, ba] = bothDirections(a, b, spacing);
  return emptyCase(ab, ba) ?? (sumOf(ab) + sumOf(ba)) / (ab.length + ba.length);
}

/** Fraction of the surface voxels of both masks within `tolerance` mm (≤) of the other surface. */
export function surfaceDice(a: Mask, b: Mask, spacing: MaskSpacing, tolerance: number): number {
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be a non-negative number, got ${tolerance}`);
  const [ab, ba] = bothDirections(a, b, spacing);
  const total = ab.length + ba.length;
  if (total === 0) return 1;
  let within = 0;
  for (const d of ab) if (d <= tolerance) within++;
  for (const d of ba) if (d <= tolerance) within++;
  return within / total;
}

/** Dice, IoU, Hausdorff, HD95 and ASSD at once (each distance transform is computed once). */
export function segmentationMetrics(a: Mask, b: Mask, spacing: MaskSpacing): SegmentationMetrics {
  const [ab, ba] = bothDirections(a, b, spacing);
  const empty = emptyCase(ab, ba);
  return {
    dice: dice(a, b),
    iou: iou(a, b),
    hd: empty ?? Math.max(maxOf(ab), maxOf(ba)),
    hd95: empty ?? Math.max(percentile(ab, 95), percentile(ba, 95)),
    assd: empty ?? (sumOf(ab) + sumOf(ba)) / (ab.length + ba.length),
  };
}

/**
 * The q-th percentile (0–100) with numpy's default linear interpolation: sort, position
 * h = (n − 1)·q/100, interpolate between the neighbours. NaN for an empty array.
 */
export function percentile(values: ArrayLike<number>, q: number): number {
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${q}`);
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const h = ((n - 1) * q) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const t = h - lo;
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  // numpy's _lerp: computed from the nearer end for t ≥ 0.5.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

// ---------------------------------------------------------------------------------------------

interface Grid {
  /** Always three dimensions; 2D masks have nz = 1 and are not bordered in z. */
  dims: Dims;
  /** Squared spacing per axis. */
  s2: [number, number, number];
}

interface Dims {
  nx: number;
  ny: number;
  nz: number;
  is3d: boolean;
}

function voxelCount(shape: MaskShape): number {
  const axes: number = shape.length;
  if (axes !== 2 && axes !== 3) throw new RangeError(`mask shape must have 2 or 3 axes, got ${axes}`);
  let n = 1;
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 1) throw new RangeError(`mask shape must hold positive integers, got ${shape.join('×')}`);
    n *= s;
  }
  return n;
}

function checkMask(m: Mask, name: string): number {
  const n = voxelCount(m.shape);
  if (m.data.length !== n) {
    throw new RangeError(`mask ${name} has ${m.data.length} values but shape ${m.shape.join('×')} needs ${n}`);
  }
  return n;
}

function checkShapes(a: Mask, b: Mask): number {
  const n = checkMask(a, 'a');
  checkMask(b, 'b');
  if (a.shape.length !== b.shape.length || a.shape.some((s, i) => s !== b.shape[i])) {
    throw new RangeError(`mask shapes differ: ${a.shape.join('×')} vs ${b.shape.join('×')}`);
  }
  return n;
}

function checkPair(a: Mask, b: Mask, spacing: MaskSpacing): Grid {
  checkShapes(a, b);
  if (spacing.length !== a.shape.length) {
    throw new RangeError(`spacing has ${spacing.length} values but the masks have ${a.shape.length} axes`);
  }
  for (const s of spacing) {
    if (!(s > 0 && Number.isFinite(s))) throw new RangeError(`spacing must be positive and finite, got ${spacing.join(', ')}`);
  }
  const is3d = a.shape.length === 3;
  const dims: Dims = { nx: a.shape[0], ny: a.shape[1], nz: is3d ? (a.shape[2] as number) : 1, is3d };
  const sz = is3d ? (spacing[2] as number) : 1;
  return { dims, s2: [spacing[0] * spacing[0], spacing[1] * spacing[1], sz * sz] };
}

function overlapCounts(a: Mask, b: Mask): { inA: number; inB: number; both: number } {
  const n = checkShapes(a, b);
  const da = a.data;
  const db = b.data;
  let inA = 0;
  let inB = 0;
  let both = 0;
  for (let i = 0; i < n; i++) {
    const fa = da[i] !== 0;
    const fb = db[i] !== 0;
    if (fa) inA++;
    if (fb) inB++;
    if (fa && fb) both++;
  }
  return { inA, inB, both };
}

/** Linear indices (increasing) of the surface voxels of a mask. */
function surfaceIndices(data: Uint8Array, dims: Dims): Uint32Array {
  const { nx, ny, nz, is3d } = dims;
  const plane = nx * ny;
  const out: number[] = [];
  let i = 0;
  for (let z = 0; z < nz; z++) {
    const zBorder = is3d && (z === 0 || z === nz - 1);
    for (let y = 0; y < ny; y++) {
      const yBorder = y === 0 || y === ny - 1;
      for (let x = 0; x < nx; x++, i++) {
        if (data[i] === 0) continue;
        if (
          zBorder ||
          yBorder ||
          x === 0 ||
          x === nx - 1 ||
          data[i - 1] === 0 ||
          data[i + 1] === 0 ||
          data[i - nx] === 0 ||
          data[i + nx] === 0 ||
          (is3d && (data[i - plane] === 0 || data[i + plane] === 0))
        ) {
          out.push(i);
        }
      }
    }
  }
  return Uint32Array.from(out);
}

function bothDirections(a: Mask, b: Mask, spacing: MaskSpacing): [Float64Array, Float64Array] {
  const grid = checkPair(a, b, spacing);
  const surfA = surfaceIndices(a.data, grid.dims);
  const surfB = surfaceIndices(b.data, grid.dims);
  return [directed(surfA, surfB, grid), directed(surfB, surfA, grid)];
}

function emptyCase(ab: Float64Array, ba: Float64Array): number | undefined {
  if (ab.length === 0 && ba.length === 0) return 0;
  if (ab.length === 0 || ba.length === 0) return Number.POSITIVE_INFINITY;
  return undefined;
}

function maxOf(values: Float64Array): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > m) m = v;
  return m;
}

function sumOf(values: Float64Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/**
 * Distances from each query voxel to the nearest feature voxel, via an exact squared EDT of
 * the feature set over the bounding box of queries ∪ features.
 */
function directed(queries: Uint32Array, features: Uint32Array, grid: Grid): Float64Array {
  const out = new Float64Array(queries.length);
  if (queries.length === 0) return out;
  if (features.length === 0) return out.fill(Number.POSITIVE_INFINITY);
  const { nx, ny } = grid.dims;
  const plane = nx * ny;

  // Bounding box of both voxel sets.
  let x0 = Infinity, y0 = Infinity, z0 = Infinity, x1 = -1, y1 = -1, z1 = -1;
  const extend = (idx: number): void => {
    const z = Math.floor(idx / plane);
    const r = idx - z * plane;
    const y = Math.floor(r / nx);
    const x = r - y * nx;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
    if (z < z0) z0 = z;
    if (z > z1) z1 = z;
  };
  for (const i of queries) extend(i);
  for (const i of features) extend(i);
  const bx = x1 - x0 + 1;
  const by = y1 - y0 + 1;
  const bz = z1 - z0 + 1;
  const toBox = (idx: number): number => {
    const z = Math.floor(idx / plane);
    const r = idx - z * plane;
    const y = Math.floor(r / nx);
    const x = r - y * nx;
    return x - x0 + bx * (y - y0 + by * (z - z0));
  };

  const isFeature = new Uint8Array(bx * by * bz);
  for (const i of features) isFeature[toBox(i)] = 1;
  const dt = squaredEdt(isFeature, bx, by, bz, grid.s2);
  for (let k = 0; k < queries.length; k++) out[k] = Math.sqrt(dt[toBox(queries[k] as number)] as number);
  return out;
}

/**
 * Exact squared Euclidean distance (in mm²) from every voxel to the nearest voxel with
 * `feature[i] = 1` (Infinity if there is none), separable: a 1D nearest-feature scan along x,
 * then the lower envelope of parabolas (Felzenszwalb & Huttenlocher) along y and z.
 * Layout `feature[x + y*bx + z*bx*by]`; `s2` is the squared spacing per axis (use bz = 1 for 2D).
 * Also used by the label-map engine (shape-based slice interpolation).
 */
export function squaredEdt(feature: Uint8Array, bx: number, by: number, bz: number, s2: [number, number, number]): Float64Array {
  const n = bx * by * bz;
  const dt = new Float64Array(n);
  const maxLen = Math.max(bx, by, bz);
  const f = new Float64Array(maxLen);
  const v = new Int32Array(maxLen);
  const z = new Float64Array(maxLen + 1);
  const res = new Float64Array(maxLen);

  // Along x: distance to the nearest feature in the same row.
  const sx2 = s2[0];
  for (let row = 0; row < by * bz; row++) {
    const base = row * bx;
    let last = -1;
    for (let x = 0; x < bx; x++) {
      if (feature[base + x] === 1) last = x;
      dt[base + x] = last < 0 ? Number.POSITIVE_INFINITY : sx2 * (x - last) * (x - last);
    }
    last = -1;
    for (let x = bx - 1; x >= 0; x--) {
      if (feature[base + x] === 1) last = x;
      if (last >= 0) {
        const d = sx2 * (last - x) * (last - x);
        if (d < (dt[base + x] as number)) dt[base + x] = d;
      }
    }
  }

  // Along y, then z.
  if (by > 1) {
    for (let zz = 0; zz < bz; zz++) {
      for (let x = 0; x < bx; x++) {
        const base = x + zz * bx * by;
        envelopePass(dt, base, bx, by, s2[1], f, v, z, res);
      }
    }
  }
  if (bz > 1) {
    const plane = bx * by;
    for (let i = 0; i < plane; i++) envelopePass(dt, i, plane, bz, s2[2], f, v, z, res);
  }
  return dt;
}

/** 1D lower envelope of the parabolas s2·(q − p)² + f(p) over the finite samples of one line. */
function envelopePass(
  dt: Float64Array,
  base: number,
  stride: number,
  len: number,
  s2: number,
  f: Float64Array,
  v: Int32Array,
  z: Float64Array,
  res: Float64Array,
): void {
  let k = -1;
  for (let q = 0; q < len; q++) {
    const fq = dt[base + q * stride] as number;
    f[q] = fq;
    if (fq === Number.POSITIVE_INFINITY) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = Number.NEGATIVE_INFINITY;
      z[1] = Number.POSITIVE_INFINITY;
      continue;
    }
    const hq = fq + s2 * q * q;
    let s: number;
    for (;;) {
      const p = v[k] as number;
      s = (hq - ((f[p] as number) + s2 * p * p)) / (2 * s2 * (q - p));
      if (s <= (z[k] as number)) k--; // never passes k = 0, since z[0] = −∞
      else break;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Number.POSITIVE_INFINITY;
  }
  if (k < 0) return; // no finite sample: the line stays at Infinity
  k = 0;
  for (let q = 0; q < len; q++) {
    while ((z[k + 1] as number) < q) k++;
    const p = v[k] as number;
    res[q] = s2 * (q - p) * (q - p) + (f[p] as number);
  }
  for (let q = 0; q < len; q++) dt[base + q * stride] = res[q] as number;
}
