import { describe, expect, it } from 'vitest';
import { EditHistory, LabelMap } from './labelmap.js';
import { fillRect } from './paint.js';
import { relabel, removeSegment, segmentBounds, segmentVolumeMl } from './segments.js';

describe('segment operations', () => {
  function boxMap(): LabelMap {
    const map = new LabelMap([20, 20, 10], [0.5, 0.5, 2]);
    // Segment 1: i 2..5, j 3..7, k 4..6 → 4·5·3 = 60 voxels of 0.5 mm³.
    for (let k = 4; k <= 6; k++) fillRect(map, { normalAxis: 2, slice: k }, 2, 3, 5, 7, { segment: 1 });
    fillRect(map, { normalAxis: 2, slice: 9 }, 0, 0, 1, 0, { segment: 2 });
    map.markSaved();
    return map;
  }

  it('volume in mL from the count and spacing, or an affine determinant', () => {
    const map = boxMap();
    expect(segmentVolumeMl(map, 1)).toBeCloseTo((60 * 0.5) / 1000, 12);
    expect(segmentVolumeMl(map, 1, { affineDeterminant: -2 })).toBeCloseTo(0.12, 12);
    expect(segmentVolumeMl(map, 3)).toBe(0);
  });

  it('bounds', () => {
    const map = boxMap();
    expect(segmentBounds(map, 1)).toEqual({ min: [2, 3, 4], max: [5, 7, 6] });
    expect(segmentBounds(map, 2)).toEqual({ min: [0, 0, 9], max: [1, 0, 9] });
    expect(segmentBounds(map, 3)).toBeNull();
  });

  it('removeSegment and relabel are undoable diffs that dirty the touched slices', () => {
    const map = boxMap();
    const before = map.data.slice();
    const h = new EditHistory();
    h.push(removeSegment(map, 1));
    expect(map.segmentVoxelCount(1)).toBe(0);
    expect(map.segmentVoxelCount(2)).toBe(2);
    expect([...map.dirtySlices()].sort()).toEqual([4, 5, 6]);
    h.undo(map);
    expect(map.data.every((v, i) => v === before[i])).toBe(true);
    expect(map.segmentVoxelCount(1)).toBe(60);

    h.push(relabel(map, 1, 2)); // merge into 2
    expect(map.segmentVoxelCount(2)).toBe(62);
    expect(map.segmentVoxelCount(1)).toBe(0);
    h.undo(map);
    expect(map.segmentVoxelCount(2)).toBe(2);
    expect(removeSegment(map, 3)).toBeNull();
    expect(relabel(map, 1, 1)).toBeNull();
    expect(() => relabel(map, 0, 1)).toThrow(RangeError);
  });
});
