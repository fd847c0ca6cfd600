// Geometry of a Caliper volume (voxel → LPS affine) as DICOM plane attributes, and back.
import { SegError } from './errors.js';

export type Vec3 = [number, number, number];

/** Column `c` (0..3) of a row-major 4×4 affine as a 3-vector. */
export function affineColumn(affine: number[][], c: number): Vec3 {
  const at = (r: number): number => {
    const v = affine[r]?.[c];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new SegError('The volume affine must be a finite 4×4 matrix');
    return v;
  };
  return [at(0), at(1), at(2)];
}

export const norm = (v: Vec3): number => Math.hypot(v[0], v[1], v[2]);
export const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const scale = (v: Vec3, s: number): Vec3 => [v[0] * s, v[1] * s, v[2] * s];

/** The in-plane geometry of a volume: unit directions, spacings (mm) and the LPS position of slice k's first voxel. */
export interface PlaneGeometry {
  /** Direction of increasing column index i (first triplet of Image Orientation (Patient)). */
  colDir: Vec3;
  /** Direction of increasing row index j (second triplet). */
  rowDir: Vec3;
  /** Spacing between columns (mm): Pixel Spacing's second value. */
  colSpacing: number;
  /** Spacing between rows (mm): Pixel Spacing's first value. */
  rowSpacing: number;
  /** Distance between slice origins (mm); 0 for one slice with a degenerate third axis. */
  sliceSpacing: number;
  /** Image Position (Patient) of slice k. */
  position(k: number): Vec3;
}

/** Reads the plane geometry from a voxel → LPS affine. */
export function planeGeometry(affine: number[][]): PlaneGeometry {
  const c0 = affineColumn(affine, 0);
  const c1 = affineColumn(affine, 1);
  const c2 = affineColumn(affine, 2);
  const t = affineColumn(affine, 3);
  const colSpacing = norm(c0);
  const rowSpacing = norm(c1);
  if (!(colSpacing > 0) || !(rowSpacing > 0)) throw new SegError('The volume affine has a zero in-plane axis');
  const snap = (v: Vec3): Vec3 => v.map((x) => (Math.abs(x) < 1e-12 ? 0 : x)) as Vec3;
  return {
    colDir: snap(scale(c0, 1 / colSpacing)),
    rowDir: snap(scale(c1, 1 / rowSpacing)),
    colSpacing,
    rowSpacing,
    sliceSpacing: norm(c2),
    position: (k) => [t[0] + c2[0] * k, t[1] + c2[1] * k, t[2] + c2[2] * k],
  };
}

/** Inverse of the 3×3 linear part of an affine (row-major), or null when singular. */
export function invert3(affine: number[][]): number[][] | null {
  const a = [0, 1, 2].map((r) => [0, 1, 2].map((c) => affine[r]?.[c] ?? NaN)) as [Vec3, Vec3, Vec3];
  const [[a00, a01, a02], [a10, a11, a12], [a20, a21, a22]] = a;
  const det = a00 * (a11 * a22 - a12 * a21) - a01 * (a10 * a22 - a12 * a20) + a02 * (a10 * a21 - a11 * a20);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) return null;
  return [
    [(a11 * a22 - a12 * a21) / det, (a02 * a21 - a01 * a22) / det, (a01 * a12 - a02 * a11) / det],
    [(a12 * a20 - a10 * a22) / det, (a00 * a22 - a02 * a20) / det, (a02 * a10 - a00 * a12) / det],
    [(a10 * a21 - a11 * a20) / det, (a01 * a20 - a00 * a21) / det, (a00 * a11 - a01 * a10) / det],
  ];
}
