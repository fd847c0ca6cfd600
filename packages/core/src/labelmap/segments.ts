/**
 * Whole-segment operations and measurements: volume in mL, bounding box, remove, relabel.
 */
import type { Vec3 } from '../geometry/plane-types.js';
import { DiffRecorder, forEachVoxelOf, type EditDiff, type LabelMap } from './labelmap.js';

export interface VolumeOptions {
  /**
   * |det| of the voxel→patient affine's 3×3 part (mm³ per voxel). Default: the product of the
   * spacing, which equals it for orthogonal grids; pass it for sheared (gantry-tilted) grids.
   */
  affineDeterminant?: number;
}

/** Volume of a segment in millilitres: voxel count × mm³ per voxel / 1000 (O(1)). */
export function segmentVolumeMl(map: LabelMap, value: number, opts: VolumeOptions = {}): number {
  const det = opts.affineDeterminant === undefined ? map.voxelVolumeMm3() : Math.abs(opts.affineDeterminant);
  if (!(det > 0 && Number.isFinite(det))) throw new RangeError(`affine determinant must be finite and non-zero, got ${opts.affineDeterminant}`);
  return (map.segmentVoxelCount(value) * det) / 1000;
}

export interface VoxelBounds {
  /** Smallest and largest voxel index of the segment along i, j, k (inclusive). */
  min: Vec3;
  max: Vec3;
}

/** Inclusive voxel bounding box of a segment, or null when it has no voxel. O(volume). */
export function segmentBounds(map: LabelMap, value: number): VoxelBounds | null {
  if (map.segmentVoxelCount(value) === 0) return null;
  const [ni, nj, nk] = map.dims;
  const sliceSize = map.sliceSize;
  const min: Vec3 = [ni, nj, nk];
  const max: Vec3 = [-1, -1, -1];
  forEachVoxelOf(map, value, (idx) => {
    const k = Math.floor(idx / sliceSize);
    const rem = idx - k * sliceSize;
    const j = Math.floor(rem / ni);
    const i = rem - j * ni;
    if (i < min[0]) min[0] = i;
    if (i > max[0]) max[0] = i;
    if (j < min[1]) min[1] = j;
    if (j > max[1]) max[1] = j;
    if (k < min[2]) min[2] = k;
    if (k > max[2]) max[2] = k;
  });
  return { min, max };
}

/** Replaces every voxel of `from` with `to` (one diff). Shared by remove and relabel. */
function replaceValue(map: LabelMap, from: number, to: number): EditDiff | null {
  map.checkValue(from);
  map.checkValue(to);
  const n = map.segmentVoxelCount(from);
  if (from === to || n === 0) return null;
  const recorder = new DiffRecorder(map, null, n);
  const data = map.data;
  const sliceSize = map.sliceSize;
  const dirty = map.dirtyFlags;
  let found = 0;
  forEachVoxelOf(map, from, (idx) => {
    recorder.add(idx, from);
    data[idx] = to;
    dirty[Math.floor(idx / sliceSize)] = 1;
    found++;
  });
  (map.counts[from] as number) -= found;
  (map.counts[to] as number) += found;
  map.version++;
  return recorder.finish();
}

/** Erases a segment everywhere (its voxels become background). */
export function removeSegment(map: LabelMap, value: number): EditDiff | null {
  if (value === 0) return null;
  return replaceValue(map, value, 0);
}

/** Gives every voxel of segment `from` the value `to` (merging into `to` if it already has voxels). */
export function relabel(map: LabelMap, from: number, to: number): EditDiff | null {
  if (from === 0) throw new RangeError('cannot relabel the background (0)');
  return replaceValue(map, from, to);
}
