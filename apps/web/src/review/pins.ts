// Pure geometry of issue pins: where a click pins an issue, and where a pin is drawn on a view.

import type { Issue, IssueLocation } from '../types';

/** The parts of a viewport transform the pins need (see viewer/types.ts ViewTransform). */
export interface PinView {
  slice: number;
  toScreen(x: number, y: number): [number, number];
  toPlane(sx: number, sy: number): [number, number];
  planeToVoxel(x: number, y: number): [number, number, number];
  voxelToPlane(i: number, j: number, k: number): { x: number; y: number; slice: number };
  mapping: { width: number; height: number; depth: number };
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Issues numbered 1, 2, … in the order they were opened (the same numbers for everyone). */
export function pinNumbers(issues: readonly Issue[]): Map<string, number> {
  const sorted = [...issues].sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
  return new Map(sorted.map((i, n) => [i.id, n + 1]));
}

/**
 * The location of a click at screen (sx, sy) on an imaging view: the voxel index under it
 * (continuous, 0.01 voxel) and the acquisition slice (k) it lies on; null outside the image.
 */
export function imagingLocationAt(view: PinView, sx: number, sy: number, frames: number): IssueLocation | null {
  const [px, py] = view.toPlane(sx, sy);
  if (px < 0 || py < 0 || px >= view.mapping.width || py >= view.mapping.height) return null;
  const [i, j, k] = view.planeToVoxel(px, py);
  const slice = Math.min(frames - 1, Math.max(0, Math.round(k)));
  return { slice, point: [round2(i), round2(j), round2(k)] };
}

/** Screen position of an issue on an imaging view, or null when its point is not on the view's slice. */
export function imagingPinAt(view: PinView, loc: IssueLocation): [number, number] | null {
  const p = loc.point;
  if (!p || p.length !== 3) return null;
  const onPlane = view.voxelToPlane(p[0]!, p[1]!, p[2]!);
  if (Math.round(onPlane.slice) !== view.slice) return null;
  return view.toScreen(onPlane.x, onPlane.y);
}

/** The rectangle an image of natural size (w, h) fills inside a box with `object-fit: contain`. */
export function containRect(boxW: number, boxH: number, w: number, h: number): { x: number; y: number; width: number; height: number } {
  if (w <= 0 || h <= 0 || boxW <= 0 || boxH <= 0) return { x: 0, y: 0, width: 0, height: 0 };
  const scale = Math.min(boxW / w, boxH / h);
  const width = w * scale;
  const height = h * scale;
  return { x: (boxW - width) / 2, y: (boxH - height) / 2, width, height };
}

/** Short human description of a location ("slice 4 · (12.5, 80, 3)"). */
export function describeLocation(loc: IssueLocation, sliceWord = 'Slice'): string {
  const parts: string[] = [];
  if (loc.slice !== undefined) parts.push(`${sliceWord} ${loc.slice + 1}`);
  if (loc.frame !== undefined) parts.push(`Frame ${loc.frame + 1}`);
  if (loc.time !== undefined) parts.push(`${loc.time.toFixed(2)} s`);
  if (loc.range) parts.push(`${loc.range[0]}–${loc.range[1]}`);
  if (loc.point) parts.push(`(${loc.point.map((v) => (Number.isInteger(v) ? String(v) : v.toFixed(1))).join(', ')})`);
  if (loc.region) parts.push(`${Math.round(loc.region.width)}×${Math.round(loc.region.height)} region`);
  return parts.length ? parts.join(' · ') : 'Whole asset';
}

/** Open threads first, then by pin number. */
export function sortThreads(issues: readonly Issue[], numbers: Map<string, number>): Issue[] {
  return [...issues].sort((a, b) => (a.state === b.state ? (numbers.get(a.id) ?? 0) - (numbers.get(b.id) ?? 0) : a.state === 'open' ? -1 : 1));
}
