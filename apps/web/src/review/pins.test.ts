import { describe, expect, it } from 'vitest';
import { planeMapping, planeToVoxel, voxelToPlane } from '@caliper/core/mpr';
import type { Issue } from '../types';
import { containRect, describeLocation, imagingLocationAt, imagingPinAt, pinNumbers, type PinView } from './pins';

function view(axis: 'axial' | 'coronal' | 'sagittal', slice: number, zoom = 2.5, pan: [number, number] = [40, 30]): PinView {
  const m = planeMapping([64, 48, 10], null, axis);
  return {
    slice,
    mapping: m,
    toScreen: (x, y) => [x * zoom + pan[0], y * zoom + pan[1]],
    toPlane: (sx, sy) => [(sx - pan[0]) / zoom, (sy - pan[1]) / zoom],
    planeToVoxel: (x, y) => planeToVoxel(m, x, y, slice),
    voxelToPlane: (i, j, k) => voxelToPlane(m, i, j, k),
  };
}

describe('issue pins', () => {
  it('a click on slice k pins (slice k, voxel) and the pin is drawn where it was clicked, only on that slice', () => {
    const v = view('axial', 3);
    const loc = imagingLocationAt(v, 100, 90, 10)!;
    expect(loc.slice).toBe(3);
    expect(loc.point).toHaveLength(3);
    expect(loc.point![2]).toBe(3);
    const at = imagingPinAt(v, loc)!;
    expect(Math.abs(at[0] - 100)).toBeLessThan(0.05);
    expect(Math.abs(at[1] - 90)).toBeLessThan(0.05);
    expect(imagingPinAt(view('axial', 4), loc)).toBeNull();
    expect(imagingLocationAt(v, 0, 0, 10)).toBeNull();
  });

  it('an axial pin shows on the coronal and sagittal views whose slice contains it', () => {
    const loc = imagingLocationAt(view('axial', 6), 120, 70, 10)!;
    const [i, j] = loc.point!;
    const cor = voxelToPlane(planeMapping([64, 48, 10], null, 'coronal'), i!, j!, 6);
    expect(imagingPinAt(view('coronal', Math.round(cor.slice)), loc)).not.toBeNull();
    expect(imagingPinAt(view('coronal', Math.round(cor.slice) + 1), loc)).toBeNull();
    const sag = voxelToPlane(planeMapping([64, 48, 10], null, 'sagittal'), i!, j!, 6);
    expect(imagingPinAt(view('sagittal', Math.round(sag.slice)), loc)).not.toBeNull();
  });

  it('numbers pins by creation, fits images like object-fit: contain, describes locations', () => {
    const mk = (id: string, createdAt: string) => ({ id, createdAt }) as Issue;
    expect([...pinNumbers([mk('b', '2026-01-02'), mk('a', '2026-01-01')])]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    expect(containRect(200, 100, 50, 50)).toEqual({ x: 50, y: 0, width: 100, height: 100 });
    expect(describeLocation({ slice: 2, point: [1.5, 2, 2] })).toBe('Slice 3 · (1.5, 2, 2)');
    expect(describeLocation({})).toBe('Whole asset');
  });
});
