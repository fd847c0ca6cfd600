// Contracts between the viewport (rendering one plane of a volume or one frame of a stack),
// the annotation tools drawn over it and the imaging workspace that owns the document.
// The annotation model stays ours: tools read and write core annotation objects; the
// viewport only says where things are on screen.

import type { PlaneMapping, OrientationLabels } from '@caliper/core/mpr';
import type { AnyObject } from '../types';

export type { PlaneMapping, OrientationLabels };

/** Pan/zoom/rotate/flip of one viewport. Rotation and flips apply to 2D (acquisition plane) views. */
export interface Camera {
  /** Screen pixels per plane pixel, already including the fit-to-window factor. */
  zoom: number;
  /** Screen position (CSS px, relative to the viewport's top-left) of the plane image's centre. */
  panX: number;
  panY: number;
  /** Quarter turns clockwise, 0..3. */
  rotation: 0 | 1 | 2 | 3;
  flipH: boolean;
  flipV: boolean;
}

/**
 * What a viewport tells the layers drawn over it. Plane coordinates follow the image pixel
 * convention (corner origin, x right, y down, pixel (c, r) covers [c, c+1) x [r, r+1)).
 * Screen coordinates are CSS pixels relative to the viewport element's top-left corner.
 */
export interface ViewTransform {
  mapping: PlaneMapping;
  /** Current slice index along mapping.normalAxis. */
  slice: number;
  /** Size of the viewport element in CSS px. */
  width: number;
  height: number;
  camera: Camera;
  /** Plane px → screen px, and back. */
  toScreen(x: number, y: number): [number, number];
  toPlane(sx: number, sy: number): [number, number];
  /** Plane px (+ current slice) → continuous voxel index (i, j, k), voxel centres at integers. */
  planeToVoxel(x: number, y: number, slice?: number): [number, number, number];
  /** Voxel index → plane px and the (fractional) slice it lies on. */
  voxelToPlane(i: number, j: number, k: number): { x: number; y: number; slice: number };
  /** Whether this view is the acquisition plane (where 2D shapes live). */
  native: boolean;
  /**
   * Sets the 2D context's transform so that drawing in plane coordinates lands on screen
   * (device-pixel-ratio included); lets overlays build Path2D objects once in plane space.
   */
  applyTo(ctx: CanvasRenderingContext2D): void;
}

/** Index of a slice/frame an object lives on, from its geometry (undefined: every slice). */
export interface PlacedObject {
  object: AnyObject;
  slice: number | undefined;
}

/** Editing entry point handed to tools: replace the document's object list in one undoable step. */
export type EditObjects = (update: (objects: AnyObject[]) => AnyObject[], coalesce?: string) => void;
