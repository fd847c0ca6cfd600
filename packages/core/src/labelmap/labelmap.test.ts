import { describe, expect, it } from 'vitest';
import { applyDiff, DIFF_OVERHEAD_BYTES, EditHistory, forEachVoxelOf, LabelMap, makeDiff } from './labelmap.js';
import { fillRect, paintSphere } from './paint.js';

/** Element-wise equality (much faster than toEqual on large typed arrays). */
function same(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Brute-force counts, to check the incrementally maintained ones. */
function bruteCounts(map: LabelMap): Map<number, number> {
  const m = new Map<number, number>();
  for (const v of map.data) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function expectCountsExact(map: LabelMap): void {
  const brute = bruteCounts(map);
  for (let v = 0; v <= map.maxLabel; v++) expect(map.segmentVoxelCount(v), `label ${v}`).toBe(brute.get(v) ?? 0);
}

describe('LabelMap', () => {
  it('stores voxels at i + j*cols + k*cols*rows and counts them', () => {
    const map = new LabelMap([4, 3, 2], [1, 1, 1]);
    expect(map.data).toBeInstanceOf(Uint8Array);
    expect(map.segmentVoxelCount(0)).toBe(24);
    map.set(3, 2, 1, 7);
    expect(map.data[3 + 2 * 4 + 1 * 12]).toBe(7);
    expect(map.get(3, 2, 1)).toBe(7);
    expect(map.get(4, 0, 0)).toBe(0); // outside
    expect(map.segmentVoxelCount(7)).toBe(1);
    expect(map.segmentVoxelCount(0)).toBe(23);
    expect(map.segments()).toEqual([7]);
    expect(() => map.set(0, 0, 0, 256)).toThrow(RangeError);
  });

  it('supports 16-bit labels', () => {
    const map = new LabelMap([2, 2, 2], [1, 1, 1], { bits: 16 });
    expect(map.maxLabel).toBe(65535);
    map.set(1, 1, 1, 1000);
    expect(map.segmentVoxelCount(1000)).toBe(1);
    const d = paintSphere(map, [0, 0, 0], 0.5, { segment: 40000 });
    expect(map.get(0, 0, 0)).toBe(40000);
    expect(d?.before).toBeInstanceOf(Uint16Array);
  });

  it('adopts initial data and counts it', () => {
    const data = new Uint8Array([0, 1, 1, 2, 0, 0, 2, 2]);
    const map = new LabelMap([2, 2, 2], [1, 1, 1], { data });
    expect(map.segmentVoxelCount(1)).toBe(2);
    expect(map.segmentVoxelCount(2)).toBe(3);
    expect(() => new LabelMap([2, 2, 3], [1, 1, 1], { data })).toThrow(RangeError);
  });

  it('tracks dirty slices until markSaved; setSlice loads without dirtying', () => {
    const map = new LabelMap([8, 8, 10], [1, 1, 1]);
    expect(map.dirtySlices().size).toBe(0);
    fillRect(map, { normalAxis: 2, slice: 3 }, 0, 0, 2, 2, { segment: 1 });
    fillRect(map, { normalAxis: 0, slice: 5 }, 1, 6, 2, 8, { segment: 2 }); // j 1..2, k 6..8 (clipped to 9)
    expect([...map.dirtySlices()].sort((a, b) => a - b)).toEqual([3, 6, 7, 8]);
    map.markSaved();
    expect(map.dirtySlices().size).toBe(0);
    // Painting what is already there changes nothing and dirties nothing.
    expect(fillRect(map, { normalAxis: 2, slice: 3 }, 0, 0, 2, 2, { segment: 1 })).toBeNull();
    expect(map.dirtySlices().size).toBe(0);
    const slice = new Uint8Array(64).fill(4);
    map.setSlice(9, slice);
    expect(map.dirtySlices().size).toBe(0);
    expect(map.segmentVoxelCount(4)).toBe(64);
    expect(Array.from(map.sliceView(9))).toEqual(Array.from(slice));
    expectCountsExact(map);
    map.setSlice(9, new Uint8Array(64), true);
    expect([...map.dirtySlices()]).toEqual([9]);
    expectCountsExact(map);
  });

  it('sliceView is a view into the data', () => {
    const map = new LabelMap([3, 2, 4], [1, 1, 1]);
    map.set(2, 1, 2, 9);
    const view = map.sliceView(2);
    expect(view.length).toBe(6);
    expect(view[5]).toBe(9);
    expect(view.buffer).toBe(map.data.buffer);
  });
  it('forEachVoxelOf visits exactly the voxels of a value (8 and 16 bit, odd lengths)', () => {
    for (const bits of [8, 16] as const) {
      const map = new LabelMap([7, 3, 3], [1, 1, 1], { bits }); // 63 voxels: not a multiple of 4
      const expected = [0, 5, 6, 33, 61, 62];
      for (const idx of expected) map.set(idx % 7, Math.floor(idx / 7) % 3, Math.floor(idx / 21), 3);
      map.set(1, 0, 0, 2);
      const seen: number[] = [];
      forEachVoxelOf(map, 3, (i) => seen.push(i));
      expect(seen).toEqual(expected);
    }
  });
});

describe('undo / redo', () => {
  it('undo restores byte-identical data, counts and dirties the touched slices; redo reapplies', () => {
    const map = new LabelMap([20, 20, 12], [1, 1, 2]);
    const history = new EditHistory();
    history.push(paintSphere(map, [10, 10, 6], 6, { segment: 1 }));
    const afterFirst = map.data.slice();
    const countsAfterFirst = map.counts.slice();
    const d2 = paintSphere(map, [12, 10, 6], 6, { segment: 2 });
    expect(d2).not.toBeNull();
    history.push(d2);
    const afterSecond = map.data.slice();
    expect(history.canUndo).toBe(true);
    expect(history.canRedo).toBe(false);

    map.markSaved();
    expect(history.undo(map)).toBe(d2);
    expect(same(map.data, afterFirst)).toBe(true);
    expect(same(map.counts, countsAfterFirst)).toBe(true);
    expectCountsExact(map);
    // Exactly the slices the second sphere touched became dirty.
    const touched = new Set<number>();
    for (const idx of d2?.indices ?? []) touched.add(Math.floor(idx / map.sliceSize));
    expect(map.dirtySlices()).toEqual(touched);

    history.undo(map);
    expect(map.data.every((v) => v === 0)).toBe(true);
    expect(map.segmentVoxelCount(0)).toBe(map.length);
    expect(history.canUndo).toBe(false);
    expect(history.undo(map)).toBeNull();

    history.redo(map);
    expect(same(map.data, afterFirst)).toBe(true);
    history.redo(map);
    expect(same(map.data, afterSecond)).toBe(true);
    expectCountsExact(map);
    expect(history.canRedo).toBe(false);
  });

  it('a diff stores only the changed voxels (indices + old values), not the volume', () => {
    const map = new LabelMap([64, 64, 64], [1, 1, 1]);
    const d = paintSphere(map, [32, 32, 32], 3, { segment: 1 });
    expect(d).not.toBeNull();
    const n = map.segmentVoxelCount(1);
    expect(d?.indices.length).toBe(n);
    expect(d?.after).toBe(1);
    expect(d?.byteLength).toBe(n * 5 + DIFF_OVERHEAD_BYTES);
  });

  it('pushing clears redo', () => {
    const map = new LabelMap([10, 10, 10], [1, 1, 1]);
    const h = new EditHistory();
    h.push(paintSphere(map, [5, 5, 5], 2, { segment: 1 }));
    h.undo(map);
    expect(h.canRedo).toBe(true);
    h.push(paintSphere(map, [2, 2, 2], 1, { segment: 2 }));
    expect(h.canRedo).toBe(false);
    expect(h.undoDepth).toBe(1);
  });

  it('the byte budget drops the oldest diffs', () => {
    const fake = (n: number, v: number) => makeDiff(Uint32Array.from({ length: n }, (_, i) => i), new Uint8Array(n), v);
    const one = fake(100, 1).byteLength; // 500 + overhead
    const h = new EditHistory({ maxBytes: one * 3 });
    const diffs = [fake(100, 1), fake(100, 2), fake(100, 3), fake(100, 4)];
    for (const d of diffs) h.push(d);
    expect(h.undoDepth).toBe(3);
    expect(h.byteLength).toBe(one * 3);
    // The oldest (value 1) is gone: undoing three times applies 4, 3, 2.
    const map = new LabelMap([100, 1, 1], [1, 1, 1]);
    applyDiff(map, diffs[3]!, 'redo');
    expect(h.undo(map)?.after).toBe(4);
    expect(h.undo(map)?.after).toBe(3);
    expect(h.undo(map)?.after).toBe(2);
    expect(h.undo(map)).toBeNull();
    // A diff larger than the whole budget is not kept and empties the history.
    const h2 = new EditHistory({ maxBytes: one });
    h2.push(fake(10, 1));
    h2.push(fake(1000, 2));
    expect(h2.canUndo).toBe(false);
    expect(h2.byteLength).toBe(0);
  });

  it('diffs with several after values undo and redo', () => {
    const map = new LabelMap([4, 1, 1], [1, 1, 1], { data: new Uint8Array([0, 1, 2, 3]) });
    const d = makeDiff(Uint32Array.from([0, 3]), Uint8Array.from([0, 3]), Uint8Array.from([5, 6]));
    applyDiff(map, d, 'redo');
    expect(Array.from(map.data)).toEqual([5, 1, 2, 6]);
    expectCountsExact(map);
    applyDiff(map, d, 'undo');
    expect(Array.from(map.data)).toEqual([0, 1, 2, 3]);
    expectCountsExact(map);
  });
});
