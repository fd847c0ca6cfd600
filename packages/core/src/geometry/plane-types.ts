/**
 * Types shared by the viewer, the tools and the label-map engine for looking at a volume
 * through one of its three voxel-aligned planes. Implemented in `mpr.ts`.
 *
 * Conventions (docs/architecture.md, "Coordinates"):
 * - voxel index (i = column, j = row, k = slice/frame); the asset's affine maps the voxel
 *   CENTRE (integer index) to patient LPS mm;
 * - plane pixel coordinates (x, y): origin at the top-left corner of the top-left plane pixel,
 *   x right, y down; plane pixel (c, r) covers [c, c+1) x [r, r+1), so its centre is (c+0.5, r+0.5).
 */

export type PlaneAxis = 'axial' | 'coronal' | 'sagittal';
export type VoxelAxis = 0 | 1 | 2;
export type Vec3 = [number, number, number];
/** Row-major 4x4, voxel (i, j, k) → LPS mm. */
export type Affine = number[][];

/**
 * How a plane image is cut from the voxel grid. "axial" is always the acquisition plane
 * (voxel axes i → x, j → y, slice index k), whatever the patient orientation, so 2D stacks
 * and cines only have "axial". "coronal" and "sagittal" are the other two voxel-aligned planes,
 * flipped so that the patient's superior side (or the nearest direction) is up and the
 * radiological convention holds (patient right on screen left) where the affine allows.
 */
export interface PlaneMapping {
  axis: PlaneAxis;
  /** Voxel axis the slice index walks along. */
  normalAxis: VoxelAxis;
  /** Voxel axis along screen x, and whether x grows as that voxel index shrinks. */
  uAxis: VoxelAxis;
  uFlip: boolean;
  /** Voxel axis along screen y, and whether y grows as that voxel index shrinks. */
  vAxis: VoxelAxis;
  vFlip: boolean;
  /** Plane image size in pixels and the number of slices. */
  width: number;
  height: number;
  depth: number;
  /** mm per plane pixel along x and y, and mm between slices. */
  pixelSpacing: [number, number];
  sliceSpacing: number;
  /**
   * mm² covered by one plane pixel: |u × v| of the affine's columns. Equals the product of
   * pixelSpacing for orthogonal axes and is smaller for sheared (gantry-tilted) volumes.
   * Set by planeMapping; consumers fall back to pixelSpacing[0] · pixelSpacing[1] when absent.
   */
  pixelAreaMm2?: number;
}

/** Patient-direction letters at the four edges of a plane image (e.g. left "R", right "L"). */
export interface OrientationLabels {
  left: string;
  right: string;
  top: string;
  bottom: string;
}
