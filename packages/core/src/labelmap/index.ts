/**
 * 3D label-map engine (`@caliper/core/labelmap`): label volumes with segments, brush/eraser/
 * threshold brush, flood fill, scissors, slice interpolation, volumes, undo/redo with bounded
 * memory, dirty-slice tracking and the viewer overlay renderer. Pure TypeScript (no DOM, no Node).
 */
export { LabelMap, EditHistory, DiffRecorder, applyDiff, makeDiff, diffVoxelCount, forEachVoxelOf, DIFF_OVERHEAD_BYTES } from './labelmap.js';
export type { LabelArray, Dims3, LabelMapOptions, EditDiff, EditHistoryOptions } from './labelmap.js';
export {
  paintSphere,
  paintCircle,
  fillRect,
  fillCircle,
  fillSphere,
  strokeSegment,
  StrokeRecorder,
  inPlaneAxes,
} from './paint.js';
export type { PaintOptions, ThresholdOptions, LabelPlane, StrokeOptions } from './paint.js';
export { floodFill, DEFAULT_FLOOD_MAX_VOXELS } from './flood.js';
export type { FloodFillOptions, FloodFillResult } from './flood.js';
export { interpolateSlices } from './interpolate.js';
export type { InterpolateOptions, InterpolateResult } from './interpolate.js';
export { segmentVolumeMl, segmentBounds, removeSegment, relabel } from './segments.js';
export type { VolumeOptions, VoxelBounds } from './segments.js';
export { renderLabelSlice, packRgba } from './render.js';
export type { RenderLabelOptions } from './render.js';
export * from './codec.js';
