import { describe, expect, it } from 'vitest';
import type { Vec3 } from '../geometry/plane-types.js';
import { EditHistory, LabelMap } from './labelmap.js';
import { fillRect, paintCircle, paintSphere, StrokeRecorder, strokeSegment } from './paint.js';

/** Element-wise equality (much faster than toEqual on large typed arrays). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function voxelsOf(map: LabelMap, value: number): Vec3[] {
  const out: Vec3[] = [];
  const [ni, nj, nk] = map.dims;
  for (let k = 0; k < nk; k++) for (let j = 0; j < nj; j++) for (let i = 0; i < ni; i++) if (map.get(i, j, k) === value) out.push([i, j, k]);
  return out;
}

describe('paintSphere', () => {
  it('r = 10 mm on a 1 mm grid holds ~4/3·π·r³ voxels (within 3%)', () => {
    const map = new LabelMap([32, 32, 32], [1, 1, 1]);
    const d = paintSphere(map, [16, 16, 16], 10, { segment: 1 });
    const expected = (4 / 3) * Math.PI * 1000; // 4188.8
    const n = map.segmentVoxelCount(1);
    expect(Math.abs(n - expected) / expected).toBeLessThan(0.03);
    expect(d?.indices.length).toBe(n);
    // Every painted voxel is within the radius, every voxel within the radius is painted.
    let inside = 0;
    let wrong = 0;
    for (let k = 0; k < 32; k++) for (let j = 0; j < 32; j++) for (let i = 0; i < 32; i++) {
      const r2 = (i - 16) ** 2 + (j - 16) ** 2 + (k - 16) ** 2;
      if (r2 <= 100) inside++;
      if ((map.get(i, j, k) === 1) !== (r2 <= 100)) wrong++;
    }
    expect(wrong).toBe(0);
    expect(inside).toBe(n);
  });

  it('on an anisotropic grid stays within its ellipsoid and reaches its extent', () => {
    const map = new LabelMap([40, 40, 20], [0.7, 0.7, 2.5]);
    const c: Vec3 = [20.3, 19.6, 10.2];
    paintSphere(map, c, 10, { segment: 3 });
    const vox = voxelsOf(map, 3);
    expect(vox.length).toBeGreaterThan(0);
    let maxK = 0;
    let maxI = 0;
    for (const [i, j, k] of vox) {
      const d2 = ((i - c[0]) * 0.7) ** 2 + ((j - c[1]) * 0.7) ** 2 + ((k - c[2]) * 2.5) ** 2;
      expect(d2).toBeLessThanOrEqual(100 + 1e-9);
      maxK = Math.max(maxK, Math.abs(k - c[2]));
      maxI = Math.max(maxI, Math.abs(i - c[0]));
    }
    // 10 mm is 4 slices of 2.5 mm but 14.3 columns of 0.7 mm.
    expect(maxK).toBeCloseTo(3.8, 5); // slices 7..13 reach 3.8 from 10.2 (k = 14 is 3.8 away)
    expect(maxI).toBeGreaterThan(13);
    const volume = vox.length * 0.7 * 0.7 * 2.5;
    expect(Math.abs(volume - (4 / 3) * Math.PI * 1000) / ((4 / 3) * Math.PI * 1000)).toBeLessThan(0.05);
  });

  it('clips at the volume border', () => {
    const map = new LabelMap([10, 10, 10], [1, 1, 1]);
    paintSphere(map, [0, 0, 0], 3, { segment: 1 });
    // One octant of the lattice ball of radius 3.
    let n = 0;
    for (let k = 0; k <= 3; k++) for (let j = 0; j <= 3; j++) for (let i = 0; i <= 3; i++) if (i * i + j * j + k * k <= 9) n++;
    expect(map.segmentVoxelCount(1)).toBe(n);
    expect(paintSphere(map, [-50, -50, -50], 3, { segment: 1 })).toBeNull();
  });

  it('never touches locked segments; overwrite=false paints only background', () => {
    const map = new LabelMap([20, 20, 20], [1, 1, 1]);
    fillRect(map, { normalAxis: 2, slice: 10 }, 0, 0, 19, 9, { segment: 2 }); // top half of slice 10
    fillRect(map, { normalAxis: 2, slice: 10 }, 0, 10, 19, 19, { segment: 3 }); // bottom half
    const locked2 = map.segmentVoxelCount(2);
    const snapshot = map.data.slice();
    paintSphere(map, [10, 10, 10], 5, { segment: 1, locked: new Set([2]) });
    for (let i = 0; i < map.length; i++) if (snapshot[i] === 2) expect(map.data[i]).toBe(2);
    expect(map.segmentVoxelCount(2)).toBe(locked2);
    expect(map.get(10, 15, 10)).toBe(1); // segment 3 was not locked
    // Eraser respects locks too.
    paintSphere(map, [10, 10, 10], 5, { segment: 0, erase: true, locked: new Set([2]) });
    expect(map.segmentVoxelCount(2)).toBe(locked2);
    expect(map.get(10, 15, 10)).toBe(0);
    expect(map.segmentVoxelCount(1)).toBe(0);

    const m2 = new LabelMap([20, 20, 20], [1, 1, 1]);
    m2.set(10, 10, 10, 5);
    paintSphere(m2, [10, 10, 10], 3, { segment: 1, overwrite: false });
    expect(m2.get(10, 10, 10)).toBe(5);
    expect(m2.get(11, 10, 10)).toBe(1);
  });

  it('erase with onlySegment removes just that segment', () => {
    const map = new LabelMap([10, 10, 1], [1, 1, 1]);
    fillRect(map, { normalAxis: 2, slice: 0 }, 0, 0, 4, 9, { segment: 1 });
    fillRect(map, { normalAxis: 2, slice: 0 }, 5, 0, 9, 9, { segment: 2 });
    fillRect(map, { normalAxis: 2, slice: 0 }, 0, 0, 9, 9, { segment: 1, erase: true, onlySegment: true });
    expect(map.segmentVoxelCount(1)).toBe(0);
    expect(map.segmentVoxelCount(2)).toBe(50);
    fillRect(map, { normalAxis: 2, slice: 0 }, 0, 0, 9, 4, { segment: 7, erase: true });
    expect(map.segmentVoxelCount(2)).toBe(25);
  });

  it('threshold brush paints only voxels whose image value is in [lo, hi] (modality units)', () => {
    const dims: Vec3 = [16, 16, 4];
    const map = new LabelMap(dims, [1, 1, 1]);
    const n = dims[0] * dims[1] * dims[2];
    // Stored values 0..255 cycling, modality = stored * 2 − 100.
    const image = Int16Array.from({ length: n }, (_, i) => i % 256);
    paintSphere(map, [8, 8, 2], 20, { segment: 1, threshold: { image, lo: 0, hi: 100, rescale: { slope: 2, intercept: -100 } } });
    let wrong = 0;
    for (let i = 0; i < n; i++) {
      const hu = (image[i] as number) * 2 - 100;
      if ((map.data[i] === 1) !== (hu >= 0 && hu <= 100)) wrong++;
    }
    expect(wrong).toBe(0);
    expect(map.segmentVoxelCount(1)).toBe(4 * 51); // stored 50..100 once per 256 voxels
  });
});

describe('paintCircle and fillRect in each plane', () => {
  it('paints a disc only in its plane, with the in-plane spacing', () => {
    for (const normalAxis of [0, 1, 2] as const) {
      const map = new LabelMap([30, 31, 32], [0.5, 1, 2]);
      const c: Vec3 = [15, 15, 15];
      paintCircle(map, { normalAxis, slice: 12 }, c, 6, { segment: 1 });
      const vox = voxelsOf(map, 1);
      expect(vox.length).toBeGreaterThan(0);
      let expected = 0;
      const [ua, va] = normalAxis === 0 ? [1, 2] : normalAxis === 1 ? [0, 2] : [0, 1];
      const sp = [0.5, 1, 2];
      for (let v = 0; v < map.dims[va]!; v++) for (let u = 0; u < map.dims[ua]!; u++) {
        if (((u - 15) * sp[ua]!) ** 2 + ((v - 15) * sp[va]!) ** 2 <= 36) expected++;
      }
      expect(vox.length).toBe(expected);
      for (const x of vox) expect(x[normalAxis]).toBe(12);
      const slicesK = new Set(vox.map((x) => x[2]));
      expect(map.dirtySlices()).toEqual(slicesK);
    }
  });

  it('fillRect fills the inclusive rectangle, corners in any order', () => {
    const map = new LabelMap([10, 8, 6], [1, 1, 1]);
    fillRect(map, { normalAxis: 1, slice: 2 }, 7, 4, 3, 1, { segment: 4 }); // i 3..7, k 1..4
    expect(map.segmentVoxelCount(4)).toBe(5 * 4);
    expect(map.get(3, 2, 1)).toBe(4);
    expect(map.get(7, 2, 4)).toBe(4);
    expect(map.get(8, 2, 4)).toBe(0);
    expect(map.get(3, 3, 1)).toBe(0);
    expect([...map.dirtySlices()].sort()).toEqual([1, 2, 3, 4]);
  });
});

describe('strokes', () => {
  it('a fast stroke leaves no gaps along its path', () => {
    const map = new LabelMap([200, 50, 5], [1, 1, 1]);
    strokeSegment(map, [5, 25, 2], [195, 25, 2], 2, { segment: 1 });
    // Every voxel within 1.9 mm of the segment line is painted.
    for (let i = 5; i <= 195; i++) {
      for (let dj = -1; dj <= 1; dj++) for (let dk = -1; dk <= 1; dk++) expect(map.get(i, 25 + dj, 2 + dk), `${i},${dj},${dk}`).toBe(1);
    }
    // And a 2D stroke in a sagittal plane (normal i): diagonal in (j, k).
    const m2 = new LabelMap([5, 100, 100], [1, 1, 1]);
    strokeSegment(m2, [2, 5, 5], [2, 90, 90], 1.5, { segment: 2, plane: { normalAxis: 0, slice: 2 } });
    for (let t = 5; t <= 90; t++) expect(m2.get(2, t, t)).toBe(2);
    expect(voxelsOf(m2, 2).every((x) => x[0] === 2)).toBe(true);
  });

  it('several steps of one drag make ONE diff that undoes to the state before the stroke', () => {
    const map = new LabelMap([60, 60, 10], [1, 1, 2]);
    map.set(30, 30, 5, 9); // another segment under the path
    const before = map.data.slice();
    const countsBefore = map.counts.slice();
    const rec = new StrokeRecorder();
    rec.beginStroke(map);
    const path: Vec3[] = [[10, 10, 5], [20, 25, 5], [30, 30, 5], [35, 50, 5], [20, 40, 4]];
    for (let s = 1; s < path.length; s++) {
      expect(strokeSegment(map, path[s - 1]!, path[s]!, 4, { segment: 1, stroke: rec, skipStart: s > 1 })).toBeNull();
    }
    // A step in the same stroke that erases part of what it painted.
    paintSphere(map, [20, 25, 5], 2, { segment: 1, erase: true, stroke: rec });
    const diff = rec.endStroke();
    expect(diff).not.toBeNull();
    expect(rec.inStroke).toBe(false);
    // Each index once, and only voxels whose value really changed.
    expect(new Set(diff!.indices).size).toBe(diff!.indices.length);
    let changed = 0;
    for (let i = 0; i < map.length; i++) if (map.data[i] !== before[i]) changed++;
    expect(diff!.indices.length).toBe(changed);
    const after = map.data.slice();
    const h = new EditHistory();
    h.push(diff);
    h.undo(map);
    expect(same(map.data, before)).toBe(true);
    expect(same(map.counts, countsBefore)).toBe(true);
    h.redo(map);
    expect(same(map.data, after)).toBe(true);
    // The recorder is reusable for the next stroke.
    rec.beginStroke(map);
    paintSphere(map, [50, 50, 5], 3, { segment: 2, stroke: rec });
    const d2 = rec.endStroke();
    expect(d2?.indices.length).toBe(map.segmentVoxelCount(2));
    // A cancelled stroke leaves the map as it was.
    const beforeCancel = map.data.slice();
    rec.beginStroke(map);
    strokeSegment(map, [5, 5, 5], [50, 50, 5], 3, { segment: 4, stroke: rec });
    expect(map.segmentVoxelCount(4)).toBeGreaterThan(0);
    rec.cancelStroke();
    expect(rec.inStroke).toBe(false);
    expect(map.segmentVoxelCount(4)).toBe(0);
    expect(same(map.data, beforeCancel)).toBe(true);
  });

  it('refuses a stroke on another map and a second begin', () => {
    const a = new LabelMap([4, 4, 4], [1, 1, 1]);
    const b = new LabelMap([4, 4, 4], [1, 1, 1]);
    const rec = new StrokeRecorder();
    rec.beginStroke(a);
    expect(() => rec.beginStroke(a)).toThrow();
    expect(() => paintSphere(b, [1, 1, 1], 1, { segment: 1, stroke: rec })).toThrow();
    expect(rec.endStroke()).toBeNull();
  });
});
