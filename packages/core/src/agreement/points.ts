/**
 * Agreement for point-like annotations: landmark radial errors in millimetres and differences
 * between two measurement values.
 *
 * Landmarks live in voxel index space (i = column, j = row, k = slice, sub-voxel values allowed);
 * the asset's 4×4 affine maps them to DICOM patient LPS mm. The radial error of a pair of points
 * is the Euclidean distance of their LPS positions, so anisotropic and oblique voxel grids are
 * handled exactly (the translation column cancels out and does not matter).
 */

/** A voxel-space point (i, j, k). */
export type VoxelPoint = readonly [number, number, number];

/** A named landmark in voxel index space. */
export interface NamedVoxelPoint {
  readonly name: string;
  readonly i: number;
  readonly j: number;
  readonly k: number;
}

export interface LandmarkError {
  /** The reference landmark's name. */
  name: string;
  /** Radial error in mm, or null when the candidate has no landmark of that name. */
  errorMm: number | null;
}

export interface MeasurementDifference {
  /** |candidate − reference|. */
  absolute: number;
  /** |candidate − reference| / |reference|, or null when the reference is 0. */
  relative: number | null;
}

function checkAffine(affine: readonly (readonly number[])[]): void {
  if (affine.length < 3) throw new RangeError('affineLps must be a 4×4 matrix (at least its first three rows)');
  for (let r = 0; r < 3; r++) {
    const row = affine[r]!;
    if (row.length < 3) throw new RangeError('affineLps must be a 4×4 matrix: each row needs at least three columns');
    for (let c = 0; c < 3; c++) {
      if (!Number.isFinite(row[c])) throw new RangeError('affineLps must hold finite numbers');
    }
  }
}

function checkPoint(p: readonly number[], what: string): void {
  if (p.length !== 3 || !p.every((v) => Number.isFinite(v))) {
    throw new RangeError(`${what} must be three finite voxel coordinates [i, j, k]`);
  }
}

function distanceMm(a: readonly number[], b: readonly number[], affine: readonly (readonly number[])[]): number {
  const d0 = a[0]! - b[0]!;
  const d1 = a[1]! - b[1]!;
  const d2 = a[2]! - b[2]!;
  let sum = 0;
  for (let r = 0; r < 3; r++) {
    const row = affine[r]!;
    const x = row[0]! * d0 + row[1]! * d1 + row[2]! * d2;
    sum += x * x;
  }
  return Math.sqrt(sum);
}

/**
 * Radial error in mm between two voxel-space points: ‖M·(a − b)‖ with M the upper-left 3×3 of
 * the voxel → LPS affine.
 * @throws RangeError for non-finite points or a malformed affine.
 */
export function radialErrorMm(a: VoxelPoint, b: VoxelPoint, affineLps: readonly (readonly number[])[]): number {
  checkAffine(affineLps);
  checkPoint(a, 'the first point');
  checkPoint(b, 'the second point');
  return distanceMm(a, b, affineLps);
}

function byName(points: readonly NamedVoxelPoint[], side: string): Map<string, NamedVoxelPoint> {
  const map = new Map<string, NamedVoxelPoint>();
  for (const p of points) {
    if (map.has(p.name)) throw new RangeError(`the ${side} landmarks name "${p.name}" twice`);
    checkPoint([p.i, p.j, p.k], `the ${side} landmark "${p.name}"`);
    map.set(p.name, p);
  }
  return map;
}

/**
 * Radial error of every reference landmark against the candidate landmark of the same name, in
 * the reference's order. A reference landmark the candidate lacks gets `errorMm: null`; candidate
 * landmarks absent from the reference are ignored.
 * @throws RangeError for duplicate names on either side, non-finite coordinates or a malformed affine.
 */
export function landmarkErrors(
  ref: readonly NamedVoxelPoint[],
  cand: readonly NamedVoxelPoint[],
  affineLps: readonly (readonly number[])[],
): LandmarkError[] {
  checkAffine(affineLps);
  byName(ref, 'reference');
  const candidates = byName(cand, 'candidate');
  return ref.map((r) => {
    const c = candidates.get(r.name);
    return { name: r.name, errorMm: c ? distanceMm([r.i, r.j, r.k], [c.i, c.j, c.k], affineLps) : null };
  });
}

/**
 * Difference between a reference and a candidate measurement value (same unit):
 * absolute = |c − r|, relative = |c − r| / |r| (null when r = 0).
 * @throws RangeError for non-finite values.
 */
export function measurementDifference(ref: number, cand: number): MeasurementDifference {
  if (!Number.isFinite(ref) || !Number.isFinite(cand)) throw new RangeError('measurement values must be finite numbers');
  const absolute = Math.abs(cand - ref);
  return { absolute, relative: ref === 0 ? null : absolute / Math.abs(ref) };
}
