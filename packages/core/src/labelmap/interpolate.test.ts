import { describe, expect, it } from 'vitest';
import { EditHistory, LabelMap } from './labelmap.js';
import { interpolateSlices } from './interpolate.js';
import { paintCircle } from './paint.js';

function sliceArea(map: LabelMap, value: number, k: number): number {
  let n = 0;
  for (const v of map.sliceView(k)) if (v === value) n++;
  return n;
}

describe('interpolateSlices', () => {
  it('discs of radius 10 (slice 0) and 20 (slice 10) give a disc of radius ~15 at slice 5', () => {
    const map = new LabelMap([64, 64, 11], [1, 1, 1]);
    paintCircle(map, { normalAxis: 2, slice: 0 }, [32, 32, 0], 10, { segment: 1 });
    paintCircle(map, { normalAxis: 2, slice: 10 }, [32, 32, 10], 20, { segment: 1 });
    const keyAreas = [sliceArea(map, 1, 0), sliceArea(map, 1, 10)];
    map.markSaved();
    const r = interpolateSlices(map, 1);
    expect(r.keySlices).toEqual([0, 10]);
    expect(r.filledSlices).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const area5 = sliceArea(map, 1, 5);
    expect(Math.abs(area5 - Math.PI * 225) / (Math.PI * 225)).toBeLessThan(0.05);
    // A disc: every painted pixel is within ~15.5 of the centre, every pixel within 14.5 is painted.
    const view = map.sliceView(5);
    for (let j = 0; j < 64; j++) for (let i = 0; i < 64; i++) {
      const r0 = Math.hypot(i - 32, j - 32);
      if (view[i + j * 64] === 1) expect(r0).toBeLessThan(15.6);
      else expect(r0).toBeGreaterThan(14.4);
    }
    // Areas grow monotonically between the keys; the keys themselves are unchanged.
    for (let k = 1; k <= 10; k++) expect(sliceArea(map, 1, k)).toBeGreaterThanOrEqual(sliceArea(map, 1, k - 1));
    expect([sliceArea(map, 1, 0), sliceArea(map, 1, 10)]).toEqual(keyAreas);
    expect([...map.dirtySlices()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // One undoable diff.
    const h = new EditHistory();
    h.push(r.diff);
    h.undo(map);
    for (let k = 1; k < 10; k++) expect(sliceArea(map, 1, k)).toBe(0);
  });

  it('fills every gap of several key slices and moves overlapping shapes between them', () => {
    const map = new LabelMap([40, 40, 31], [1, 1, 2.5]);
    paintCircle(map, { normalAxis: 2, slice: 10 }, [15, 20, 10], 6, { segment: 2 });
    paintCircle(map, { normalAxis: 2, slice: 20 }, [21, 20, 20], 6, { segment: 2 });
    paintCircle(map, { normalAxis: 2, slice: 21 }, [21, 20, 21], 6, { segment: 2 });
    paintCircle(map, { normalAxis: 2, slice: 30 }, [21, 20, 30], 6, { segment: 2 });
    const r = interpolateSlices(map, 2);
    expect(r.keySlices).toEqual([10, 20, 21, 30]);
    expect(r.filledSlices).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 22, 23, 24, 25, 26, 27, 28, 29]);
    // Same shape on both keys: copied unchanged.
    for (let k = 22; k < 30; k++) expect(sliceArea(map, 2, k)).toBe(sliceArea(map, 2, 30));
    // Half-way between centres 15 and 21 the shape is centred near 18.
    let sum = 0;
    let n = 0;
    for (let j = 0; j < 40; j++) for (let i = 0; i < 40; i++) if (map.get(i, j, 15) === 2) { sum += i; n++; }
    expect(n).toBeGreaterThan(0);
    expect(sum / n).toBeGreaterThan(17.4);
    expect(sum / n).toBeLessThan(18.6);
    expect(sliceArea(map, 2, 9)).toBe(0);
  });

  it('non-overlapping shapes meet in the middle only where their blended distance is negative', () => {
    // A documented limitation of shape-based interpolation: far-apart shapes shrink towards the middle.
    const map = new LabelMap([40, 40, 11], [1, 1, 1]);
    paintCircle(map, { normalAxis: 2, slice: 0 }, [8, 20, 0], 5, { segment: 1 });
    paintCircle(map, { normalAxis: 2, slice: 10 }, [32, 20, 10], 5, { segment: 1 });
    interpolateSlices(map, 1);
    expect(sliceArea(map, 1, 1)).toBeGreaterThan(0);
    expect(sliceArea(map, 1, 5)).toBe(0);
  });

  it('works along the other axes and respects locks / other segments', () => {
    const map = new LabelMap([11, 40, 40], [2, 1, 1]);
    paintCircle(map, { normalAxis: 0, slice: 0 }, [0, 20, 20], 8, { segment: 1 });
    paintCircle(map, { normalAxis: 0, slice: 10 }, [10, 20, 20], 8, { segment: 1 });
    map.set(5, 20, 20, 7); // another segment in the middle of the gap
    const r = interpolateSlices(map, 1, 0, { locked: new Set([7]) });
    expect(r.filledSlices).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(map.get(5, 20, 20)).toBe(7);
    expect(map.get(5, 21, 20)).toBe(1);
    let n0 = 0;
    let n5 = 0;
    for (let k = 0; k < 40; k++) for (let j = 0; j < 40; j++) {
      if (map.get(0, j, k) === 1) n0++;
      if (map.get(5, j, k) === 1) n5++;
    }
    expect(n5).toBe(n0 - 1);
  });

  it('does nothing with fewer than two key slices or adjacent keys', () => {
    const map = new LabelMap([10, 10, 10], [1, 1, 1]);
    expect(interpolateSlices(map, 1).diff).toBeNull();
    paintCircle(map, { normalAxis: 2, slice: 3 }, [5, 5, 3], 2, { segment: 1 });
    expect(interpolateSlices(map, 1).diff).toBeNull();
    paintCircle(map, { normalAxis: 2, slice: 4 }, [5, 5, 4], 2, { segment: 1 });
    expect(interpolateSlices(map, 1).diff).toBeNull();
  });
});
