// Camera math of a viewport: plane pixels → screen CSS pixels through the pixel spacing
// (physical aspect), flips, quarter-turn rotation, zoom and pan. Pure, unit-tested.

import type { PlaneMapping } from '@caliper/core/mpr';
import type { Camera, OrientationLabels } from './types';

/** Screen px per mm for the camera; `zoom` is screen px per plane pixel along x. */
export const mmScale = (m: PlaneMapping, cam: Camera) => cam.zoom / m.pixelSpacing[0];

/** Camera that fits the plane into width × height (with a small margin), centred. */
export function fitCamera(m: PlaneMapping, width: number, height: number, prev?: Camera): Camera {
  const rotation = prev?.rotation ?? 0;
  const wMm = m.width * m.pixelSpacing[0];
  const hMm = m.height * m.pixelSpacing[1];
  const [bw, bh] = rotation % 2 === 1 ? [hMm, wMm] : [wMm, hMm];
  const s = Math.max(1e-6, Math.min(width / bw, height / bh) * 0.98);
  return { zoom: s * m.pixelSpacing[0], panX: width / 2, panY: height / 2, rotation, flipH: prev?.flipH ?? false, flipV: prev?.flipV ?? false };
}

/** 2×3 affine [a, b, c, d, e, f] (canvas setTransform order) from plane px to screen px. */
export function planeToScreenMatrix(m: PlaneMapping, cam: Camera): [number, number, number, number, number, number] {
  const s = mmScale(m, cam);
  const fx = cam.flipH ? -1 : 1;
  const fy = cam.flipV ? -1 : 1;
  // Unit vectors of plane x and y in mm after flip, then rotated clockwise by quarter turns.
  let ux: [number, number] = [fx * m.pixelSpacing[0], 0];
  let uy: [number, number] = [0, fy * m.pixelSpacing[1]];
  for (let r = 0; r < cam.rotation; r++) {
    ux = [-ux[1], ux[0]];
    uy = [-uy[1], uy[0]];
  }
  const a = s * ux[0];
  const b = s * ux[1];
  const c = s * uy[0];
  const d = s * uy[1];
  // The plane centre lands on the pan point.
  const cx = m.width / 2;
  const cy = m.height / 2;
  const e = cam.panX - (a * cx + c * cy);
  const f = cam.panY - (b * cx + d * cy);
  return [a, b, c, d, e, f];
}

export function applyMatrix(t: readonly number[], x: number, y: number): [number, number] {
  return [t[0]! * x + t[2]! * y + t[4]!, t[1]! * x + t[3]! * y + t[5]!];
}

export function invertMatrix(t: readonly number[]): [number, number, number, number, number, number] {
  const [a, b, c, d, e, f] = t as [number, number, number, number, number, number];
  const det = a * d - b * c;
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  return [ia, ib, ic, id, -(ia * e + ic * f), -(ib * e + id * f)];
}

/** The orientation letters at the screen edges after the camera's flips and rotation. */
export function rotateLabels(l: OrientationLabels, cam: Camera): OrientationLabels {
  let { left, right, top, bottom } = l;
  if (cam.flipH) [left, right] = [right, left];
  if (cam.flipV) [top, bottom] = [bottom, top];
  for (let r = 0; r < cam.rotation; r++) [top, right, bottom, left] = [left, top, right, bottom];
  return { left, right, top, bottom };
}

/** A round scale-bar length in mm that is 60–160 screen px long. */
export function scaleBarMm(pxPerMm: number): number {
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500];
  for (const mm of steps) if (mm * pxPerMm >= 60) return mm;
  return steps[steps.length - 1]!;
}

/**
 * The anatomical name of a plane from the direction its slices step along (the dominant LPS
 * component of the normal axis): a sagittal acquisition's own plane is "Sagittal", not "Axial".
 * Without geometry the acquisition plane is just "Image" (or "Frames"), the others keep the
 * voxel-plane name.
 */
export function planeTitle(m: PlaneMapping, affine: number[][] | null, frames: number, isVolume: boolean): string {
  if (!isVolume && m.axis === 'axial') return frames > 1 ? 'Frames' : 'Image';
  if (!affine) return m.axis[0]!.toUpperCase() + m.axis.slice(1);
  const n = [affine[0]![m.normalAxis]!, affine[1]![m.normalAxis]!, affine[2]![m.normalAxis]!].map(Math.abs);
  const dominant = n[0]! >= n[1]! && n[0]! >= n[2]! ? 0 : n[1]! >= n[2]! ? 1 : 2;
  return ['Sagittal', 'Coronal', 'Axial'][dominant]!;
}
