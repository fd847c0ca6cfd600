/**
 * Placing an imported label map on an asset's volume (pure, isomorphic).
 *
 * Both volumes are voxel grids with an affine to DICOM patient LPS mm (voxel centres at integer indices,
 * i = column fastest). The label map fits when its grid is the image's grid up to a permutation of the
 * axes and flips along them, e.g. a NIfTI label map saved in RAS order of a DICOM series that Caliper
 * holds in LPS order. Anything else (another shape, a shift, a different spacing or rotation) is refused
 * with a plain-English reason; resampling is deliberately not attempted.
 *
 * Check: the mapping is an affine function of the target voxel index, so its position error over the
 * whole grid is largest at a corner; comparing the eight corner voxel centres is exact, not a sample.
 */

/** How to read the source array in target voxel order. */
export type VoxelMapping =
  | { kind: 'identity' }
  | {
      kind: 'permute';
      /** For each target axis a (0..2): the source axis `perm[a]` that runs along it ... */
      perm: [number, number, number];
      /** ... and whether it runs backwards (target index t ↔ source index n − 1 − t). */
      flip: [boolean, boolean, boolean];
    };

export type Dims3 = [number, number, number];

export interface GridGeometry {
  dims: Dims3;
  /** Voxel (i, j, k) → LPS mm, row-major 4×4. */
  affineLps: number[][];
}

export type GeometryMatch =
  | { ok: true; mapping: VoxelMapping; maxErrorMm: number }
  /** maxErrorMm is Infinity when no mapping could be tried (shape or affine unusable). */
  | { ok: false; reason: string; maxErrorMm: number };

export type LabelArray = Uint8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

const PERMUTATIONS: [number, number, number][] = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

function shape(dims: Dims3): string {
  return dims.join('×');
}

function validAffine(m: number[][]): boolean {
  return m.length === 4 && m.every((row) => row.length === 4 && row.every((v) => Number.isFinite(v)));
}

function validDims(d: readonly number[]): boolean {
  return d.length === 3 && d.every((n) => Number.isInteger(n) && n >= 1);
}

function apply(m: number[][], p: readonly number[]): [number, number, number] {
  return [0, 1, 2].map((r) => m[r]![0]! * p[0]! + m[r]![1]! * p[1]! + m[r]![2]! * p[2]! + m[r]![3]!) as [number, number, number];
}

/** Source voxel index for a target voxel index under (perm, flip). */
function sourceIndex(t: readonly number[], sourceDims: Dims3, perm: readonly number[], flip: readonly boolean[]): number[] {
  const s = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const axis = perm[a]!;
    s[axis] = flip[a] ? sourceDims[axis]! - 1 - t[a]! : t[a]!;
  }
  return s;
}

/** Largest distance (mm) between a target corner voxel centre and the source voxel it maps to. */
function cornerError(source: GridGeometry, target: GridGeometry, perm: readonly number[], flip: readonly boolean[]): number {
  let worst = 0;
  for (let c = 0; c < 8; c++) {
    const t = [0, 1, 2].map((a) => ((c >> a) & 1 ? target.dims[a]! - 1 : 0));
    const pt = apply(target.affineLps, t);
    const ps = apply(source.affineLps, sourceIndex(t, source.dims, perm, flip));
    worst = Math.max(worst, Math.hypot(pt[0] - ps[0], pt[1] - ps[1], pt[2] - ps[2]));
  }
  return worst;
}

function formatMm(mm: number): string {
  return mm >= 10 ? mm.toFixed(0) : mm.toPrecision(2);
}

/**
 * Decide whether a label map (`source`) lies on the image's voxel grid (`target`) up to axis permutation
 * and flips, within `toleranceMm` at every corner voxel centre. On success the mapping turns the source
 * array into target voxel order (see applyVoxelMapping); 'identity' when no reordering is needed.
 */
export function matchVolumeGeometry(source: GridGeometry, target: GridGeometry, toleranceMm = 1e-3): GeometryMatch {
  if (!validDims(source.dims)) return { ok: false, reason: 'label map dimensions are not three positive integers', maxErrorMm: Infinity };
  if (!validDims(target.dims)) return { ok: false, reason: 'image dimensions are not three positive integers', maxErrorMm: Infinity };
  if (!validAffine(source.affineLps)) return { ok: false, reason: 'label map affine is not a 4×4 matrix of finite numbers', maxErrorMm: Infinity };
  if (!validAffine(target.affineLps)) return { ok: false, reason: 'image affine is not a 4×4 matrix of finite numbers', maxErrorMm: Infinity };
  if (!(toleranceMm >= 0)) throw new RangeError('toleranceMm must be a non-negative number of millimetres.');

  const candidates = PERMUTATIONS.filter((perm) => perm.every((axis, a) => source.dims[axis] === target.dims[a]));
  if (candidates.length === 0) {
    return {
      ok: false,
      reason: `label map shape ${shape(source.dims)} does not match the image ${shape(target.dims)}`,
      maxErrorMm: Infinity,
    };
  }

  let best: { perm: [number, number, number]; flip: [boolean, boolean, boolean]; error: number } | null = null;
  for (const perm of candidates) {
    // Try every flip pattern: cheap (≤ 48 × 8 corners) and independent of how oblique or degenerate the axes are.
    for (let bits = 0; bits < 8; bits++) {
      const flip = [0, 1, 2].map((a) => ((bits >> a) & 1) === 1) as [boolean, boolean, boolean];
      const error = cornerError(source, target, perm, flip);
      if (!best || error < best.error) best = { perm, flip, error };
    }
  }
  const { perm, flip, error } = best!;
  if (error > toleranceMm) {
    return { ok: false, reason: `label map is ${formatMm(error)} mm away from the image (affine mismatch)`, maxErrorMm: error };
  }
  const isIdentity = perm.every((axis, a) => axis === a) && flip.every((f) => !f);
  return { ok: true, mapping: isIdentity ? { kind: 'identity' } : { kind: 'permute', perm: [...perm], flip: [...flip] }, maxErrorMm: error };
}

type LabelArrayConstructor = new (length: number) => LabelArray;

/**
 * The source voxels rearranged into target voxel order (i fastest). Always a new array of the same type,
 * also for 'identity'. Throws RangeError when the array length does not match `sourceDims`.
 */
export function applyVoxelMapping<T extends LabelArray>(data: T, sourceDims: Dims3, mapping: VoxelMapping): T {
  if (!validDims(sourceDims)) throw new RangeError('sourceDims must be three positive integers.');
  const [n0, n1, n2] = sourceDims;
  const total = n0 * n1 * n2;
  if (data.length !== total) {
    throw new RangeError(`The label array has ${data.length} voxels, but ${shape(sourceDims)} needs ${total}.`);
  }
  const Ctor = data.constructor as LabelArrayConstructor;
  const out = new Ctor(total) as T;
  if (mapping.kind === 'identity') {
    out.set(data);
    return out;
  }
  const { perm, flip } = mapping;
  if ([...perm].sort().join() !== '0,1,2') throw new RangeError('mapping.perm must be a permutation of 0, 1, 2.');
  const stride = [1, n0, n0 * n1];
  const targetDims = perm.map((axis) => sourceDims[axis]!) as Dims3;
  // Source offset step for one step along each target axis, and the source offset of target (0, 0, 0).
  const step = perm.map((axis, a) => (flip[a] ? -stride[axis]! : stride[axis]!));
  let start = 0;
  for (let a = 0; a < 3; a++) if (flip[a]) start += (targetDims[a]! - 1) * stride[perm[a]!]!;
  const [t0, t1, t2] = targetDims;
  const [s0, s1, s2] = step as [number, number, number];
  let o = 0;
  for (let k = 0, sk = start; k < t2; k++, sk += s2) {
    for (let j = 0, sj = sk; j < t1; j++, sj += s1) {
      if (s0 === 1) {
        out.set(data.subarray(sj, sj + t0), o);
        o += t0;
      } else {
        for (let i = 0, si = sj; i < t0; i++, si += s0) out[o++] = data[si]!;
      }
    }
  }
  return out;
}
