import { describe, expect, it } from 'vitest';
import type { PlaneMapping, VoxelAxis } from '../geometry/plane-types.js';
import { LabelMap } from './labelmap.js';
import { fillRect } from './paint.js';
import { planeToVoxel, voxelToPlane } from '../geometry/mpr.js';
import { packRgba, renderLabelSlice } from './render.js';

function mapping(map: LabelMap, normalAxis: VoxelAxis, uAxis: VoxelAxis, vAxis: VoxelAxis, uFlip: boolean, vFlip: boolean): PlaneMapping {
  const axis = normalAxis === 2 ? 'axial' : normalAxis === 1 ? 'coronal' : 'sagittal';
  return {
    axis,
    normalAxis,
    uAxis,
    uFlip,
    vAxis,
    vFlip,
    width: map.dims[uAxis],
    height: map.dims[vAxis],
    depth: map.dims[normalAxis],
    pixelSpacing: [map.spacing[uAxis], map.spacing[vAxis]],
    sliceSpacing: map.spacing[normalAxis],
  };
}

const RED = packRgba(255, 0, 0, 128);
const colors = new Uint32Array(256);
colors[1] = RED;
colors[2] = packRgba(0, 255, 0, 255);

/** Renders and returns the plane as rows of characters: '.' transparent, 'F' fill, 'O' outline. */
function draw(map: LabelMap, m: PlaneMapping, slice: number, opts: Parameters<typeof renderLabelSlice>[5]): string[] {
  const out = new Uint32Array(m.width * m.height).fill(0xdeadbeef);
  renderLabelSlice(map, m, slice, colors, out, opts);
  const rows: string[] = [];
  for (let y = 0; y < m.height; y++) {
    let s = '';
    for (let x = 0; x < m.width; x++) {
      const c = out[x + y * m.width] as number;
      s += c === 0 ? '.' : (c & 0xffffff) !== (RED & 0xffffff) ? '?' : c >>> 24 === 255 ? 'O' : c >>> 24 === 128 ? 'F' : '?';
    }
    rows.push(s);
  }
  return rows;
}

describe('renderLabelSlice', () => {
  it('packs colours as little-endian RGBA bytes', () => {
    const bytes = new Uint8ClampedArray(new Uint32Array([packRgba(1, 2, 3, 4)]).buffer);
    expect(Array.from(bytes)).toEqual([1, 2, 3, 4]);
  });

  // A 6×5×4 map with a 4×3 block of segment 1 at i 1..4, j 1..3 on k = 2 and a 2×2 block
  // at i 0..1, j 0..1, k 0..1 — drawn through all three planes.
  const map = new LabelMap([6, 5, 4], [1, 1, 1]);
  fillRect(map, { normalAxis: 2, slice: 2 }, 1, 1, 4, 3, { segment: 1 });
  fillRect(map, { normalAxis: 2, slice: 0 }, 0, 0, 1, 1, { segment: 1 });
  fillRect(map, { normalAxis: 2, slice: 1 }, 0, 0, 1, 1, { segment: 1 });

  it('axial (no flips): fill, outline, both', () => {
    const m = mapping(map, 2, 0, 1, false, false);
    expect(draw(map, m, 2, { fill: true })).toEqual(['......', '.FFFF.', '.FFFF.', '.FFFF.', '......']);
    expect(draw(map, m, 2, { fill: false, outline: true })).toEqual(['......', '.OOOO.', '.O..O.', '.OOOO.', '......']);
    expect(draw(map, m, 2, { fill: true, outline: true })).toEqual(['......', '.OOOO.', '.OFFO.', '.OOOO.', '......']);
    // Image-edge pixels count as boundary.
    expect(draw(map, m, 0, { fill: true, outline: true })).toEqual(['OO....', 'OO....', '......', '......', '......']);
  });

  it('axial with both flips mirrors the image', () => {
    const m = mapping(map, 2, 0, 1, true, true);
    expect(draw(map, m, 0, { fill: true })).toEqual(['......', '......', '......', '....FF', '....FF']);
  });

  it('coronal (normal j, x = i, y = k flipped so superior is up)', () => {
    const m = mapping(map, 1, 0, 2, false, true);
    // j = 1: k = 2 row has i 1..4; k = 0, 1 rows have i 0..1. Row y = 0 is k = 3.
    expect(draw(map, m, 1, { fill: true })).toEqual(['......', '.FFFF.', 'FF....', 'FF....']);
    expect(draw(map, m, 1, { fill: false, outline: true })).toEqual(['......', '.OOOO.', 'OO....', 'OO....']);
  });

  it('sagittal (normal i, x = j flipped, y = k flipped)', () => {
    const m = mapping(map, 0, 1, 2, true, true);
    // i = 2: k = 2 holds j 1..3; x = 4 − j, y = 3 − k.
    expect(draw(map, m, 2, { fill: true })).toEqual(['.....', '.FFF.', '.....', '.....']);
    expect(draw(map, m, 2, { fill: true, outline: true })).toEqual(['.....', '.OOO.', '.....', '.....']);
    // A bigger sagittal patch with an interior: fill everything at i = 5.
    const m2 = new LabelMap([6, 5, 4], [1, 1, 1]);
    fillRect(m2, { normalAxis: 0, slice: 5 }, 0, 0, 4, 3, { segment: 1 });
    const s = mapping(m2, 0, 1, 2, true, true);
    expect(draw(m2, s, 5, { fill: true, outline: true })).toEqual(['OOOOO', 'OFFFO', 'OFFFO', 'OOOOO']);
  });

  it('hidden segments, opacity and per-segment opacity', () => {
    const m = mapping(map, 2, 0, 1, false, false);
    const out = new Uint32Array(30);
    renderLabelSlice(map, m, 2, colors, out, { hidden: new Set([1]) });
    expect(out.every((c) => c === 0)).toBe(true);
    renderLabelSlice(map, m, 2, colors, out, { opacity: 0.5 });
    expect((out[7] as number) >>> 24).toBe(64);
    expect((out[7] as number) & 0xffffff).toBe(RED & 0xffffff);
    const per = new Float32Array(256).fill(1);
    per[1] = 0.25;
    renderLabelSlice(map, m, 2, colors, out, { outline: true, segmentOpacity: per });
    expect((out[7] as number) >>> 24).toBe(Math.round(255 * 0.25)); // (1,1) is outline
    expect((out[14] as number) >>> 24).toBe(Math.round(128 * 0.25)); // (2,2) interior
  });

  it('plane pixel ↔ voxel conversions honour the flips', () => {
    const m = mapping(map, 0, 1, 2, true, true);
    // Plane pixel centre (0.5, 0.5) is voxel j = 4, k = 3.
    expect(planeToVoxel(m, 0.5, 0.5, 2)).toEqual([2, 4, 3]);
    expect(voxelToPlane(m, 2, 4, 3)).toEqual({ x: 0.5, y: 0.5, slice: 2 });
    const ax = mapping(map, 2, 0, 1, false, false);
    expect(planeToVoxel(ax, 3.5, 2.5, 1)).toEqual([3, 2, 1]);
  });

  it('rejects mismatched sizes', () => {
    const m = mapping(map, 2, 0, 1, false, false);
    expect(() => renderLabelSlice(map, m, 2, colors, new Uint32Array(10))).toThrow(RangeError);
    expect(() => renderLabelSlice(map, m, 4, colors, new Uint32Array(30))).toThrow(RangeError);
    expect(() => renderLabelSlice(map, { ...m, width: 5 }, 2, colors, new Uint32Array(25))).toThrow(RangeError);
  });
});
