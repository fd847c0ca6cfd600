import { describe, expect, it } from 'vitest';
import type { Point2 } from '../geometry/geometry.js';
import { clusterObjects, majorityTags, meanBox, medoidIndex, shapeConsensus } from './consensus.js';
import { type Box, boxIoU, polygonIoU } from './matching.js';

describe('majorityTags', () => {
  it('keeps labels given by more than half of the raters', () => {
    const r = majorityTags([['A', 'B'], ['A'], ['A', 'C', 'C']]);
    expect(r.labels).toEqual(['A']);
    expect(r.ties).toEqual([]);
    expect(r.votes).toEqual({ A: 3, B: 1, C: 1 });
  });
  it('excludes a label given by exactly half of the raters and reports it as a tie', () => {
    const r = majorityTags([['A', 'B'], ['A'], ['B', 'A'], []]);
    expect(r.labels).toEqual(['A']);
    expect(r.ties).toEqual(['B']);
  });
  it('an empty rater list is an error, empty label lists are not', () => {
    expect(() => majorityTags([])).toThrow(RangeError);
    expect(majorityTags([[], []])).toEqual({ labels: [], ties: [], votes: {}, raters: 2 });
  });
});

const box = (x: number, y: number, width: number, height: number): Box => ({ x, y, width, height });

describe('clusterObjects / shapeConsensus on boxes', () => {
  it('groups overlapping boxes of different raters, at most one per rater', () => {
    const raters = [
      [box(0, 0, 10, 10), box(50, 50, 10, 10)],
      [box(1, 1, 10, 10), box(0, 0, 10, 9)], // both overlap rater 0's first box: only one joins
      [box(51, 50, 10, 10)],
    ];
    const clusters = clusterObjects(raters, boxIoU);
    for (const c of clusters) expect(new Set(c.members.map((m) => m.rater)).size).toBe(c.members.length);
    // The Hungarian step pairs rater 1's better match (IoU 0.9 > 0.68) with the first cluster.
    expect(clusters[0]!.members).toEqual([
      { rater: 0, index: 0 },
      { rater: 1, index: 1 },
    ]);
    expect(clusters[1]!.members).toEqual([
      { rater: 0, index: 1 },
      { rater: 2, index: 0 },
    ]);
    expect(clusters[2]!.members).toEqual([{ rater: 1, index: 0 }]);
    const kept = shapeConsensus(raters, boxIoU);
    expect(kept.map((c) => [c.votes, c.score])).toEqual([
      [2, 2 / 3],
      [2, 2 / 3],
    ]);
  });
  it('disjoint boxes form no majority cluster', () => {
    const raters = [[box(0, 0, 5, 5)], [box(20, 20, 5, 5)], [box(40, 40, 5, 5)]];
    expect(clusterObjects(raters, boxIoU)).toHaveLength(3);
    expect(shapeConsensus(raters, boxIoU)).toEqual([]);
  });
  it('identical inputs give one cluster per object with score 1', () => {
    const objs = [box(0, 0, 4, 4), box(10, 10, 4, 4)];
    const kept = shapeConsensus([objs, objs, objs], boxIoU);
    expect(kept.map((c) => c.score)).toEqual([1, 1]);
    expect(meanBox(kept[0]!.members.map((m) => objs[m.index]!))).toEqual(objs[0]);
  });
  it('an IoU below the threshold does not join a cluster', () => {
    // IoU of these two is 1/3 < 0.5
    expect(clusterObjects([[box(0, 0, 10, 10)], [box(5, 0, 10, 10)]], boxIoU)).toHaveLength(2);
    expect(clusterObjects([[box(0, 0, 10, 10)], [box(5, 0, 10, 10)]], boxIoU, 0.3)).toHaveLength(1);
  });
});

describe('meanBox and medoidIndex', () => {
  it('averages coordinates', () => {
    expect(meanBox([box(0, 0, 10, 10), box(2, 4, 12, 6)])).toEqual(box(1, 2, 11, 8));
    expect(() => meanBox([])).toThrow(RangeError);
  });
  it('picks the polygon closest to the others', () => {
    const sq = (x: number, s: number): Point2[] => [
      [x, 0],
      [x + s, 0],
      [x + s, s],
      [x, s],
    ];
    const polys = [sq(0, 10), sq(1, 10), sq(2, 10)];
    expect(medoidIndex(polys, polygonIoU)).toBe(1);
    expect(medoidIndex([sq(0, 1)], polygonIoU)).toBe(0);
  });
});
