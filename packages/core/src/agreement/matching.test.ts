import { describe, expect, it } from 'vitest';
import type { Point2 } from '../geometry/geometry.js';
import {
  boxIoU,
  detectionScores,
  labelConfusion,
  matchObjects,
  maxWeightAssignment,
  polygonIoU,
  segmentF1,
  spanF1,
  temporalIoU,
} from './matching.js';
import { seededRandom } from '../../test/random.js';

const rng = seededRandom;

/** Best total weight over all one-to-one partial matchings using only entries > 0 (brute force). */
function bruteForceBest(w: number[][]): number {
  const n = w.length;
  const m = w[0]?.length ?? 0;
  const used = new Array<boolean>(m).fill(false);
  const go = (i: number): number => {
    if (i === n) return 0;
    let best = go(i + 1); // row i unmatched
    for (let j = 0; j < m; j++) {
      const v = w[i]?.[j] ?? 0;
      if (used[j] || !(v > 0)) continue;
      used[j] = true;
      best = Math.max(best, v + go(i + 1));
      used[j] = false;
    }
    return best;
  };
  return go(0);
}

/** Index-based IoU lookup so that a weight matrix can drive matchObjects. */
function fromMatrix(w: number[][]): [number[], number[], (r: number, c: number) => number] {
  const refs = w.map((_, i) => i);
  const cands = (w[0] ?? []).map((_, j) => j);
  return [refs, cands, (r, c) => w[r]?.[c] ?? 0];
}

/**
 * Reference polygon area/IoU by exact scanline rasterisation: on each of `strips` horizontal
 * lines (strip midpoints) the even-odd interior of each polygon is a union of x-intervals
 * computed exactly; interval lengths are integrated with the midpoint rule.
 */
function scanlineIoU(a: readonly Point2[], b: readonly Point2[], strips = 4000): number {
  const ys = [...a, ...b].map((p) => p[1]);
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys);
  const h = (y1 - y0) / strips;
  const intervals = (poly: readonly Point2[], y: number): [number, number][] => {
    const xs: number[] = [];
    for (let i = 0; i < poly.length; i++) {
      const p = poly[i];
      const q = poly[(i + 1) % poly.length];
      if (!p || !q) continue;
      if (p[1] <= y !== q[1] <= y) xs.push(p[0] + ((y - p[1]) / (q[1] - p[1])) * (q[0] - p[0]));
    }
    xs.sort((u, v) => u - v);
    const out: [number, number][] = [];
    for (let k = 0; k + 1 < xs.length; k += 2) out.push([xs[k] ?? 0, xs[k + 1] ?? 0]);
    return out;
  };
  const len = (iv: [number, number][]): number => iv.reduce((s, [l, r]) => s + r - l, 0);
  let areaA = 0;
  let areaB = 0;
  let inter = 0;
  for (let s = 0; s < strips; s++) {
    const y = y0 + (s + 0.5) * h;
    const ia = intervals(a, y);
    const ib = intervals(b, y);
    areaA += len(ia) * h;
    areaB += len(ib) * h;
    for (const [l1, r1] of ia) for (const [l2, r2] of ib) inter += Math.max(0, Math.min(r1, r2) - Math.max(l1, l2)) * h;
  }
  return inter / (areaA + areaB - inter);
}

/** Random simple (star-shaped, usually concave) polygon. */
function randomStar(rand: () => number, cx: number, cy: number, k: number): Point2[] {
  const angles = Array.from({ length: k }, () => rand() * 2 * Math.PI).sort((u, v) => u - v);
  return angles.map((t) => {
    const r = 1 + 3 * rand();
    return [cx + r * Math.cos(t), cy + r * Math.sin(t)] as const;
  });
}

describe('boxIoU', () => {
  it('half-overlapping boxes have IoU 1/3', () => {
    expect(boxIoU({ x: 0, y: 0, width: 2, height: 2 }, { x: 1, y: 0, width: 2, height: 2 })).toBeCloseTo(1 / 3, 12);
  });
  it('identical, nested, touching, disjoint and degenerate boxes', () => {
    const a = { x: 1, y: 2, width: 3, height: 4 };
    expect(boxIoU(a, a)).toBe(1);
    expect(boxIoU({ x: 0, y: 0, width: 4, height: 4 }, { x: 1, y: 1, width: 2, height: 2 })).toBe(0.25);
    expect(boxIoU({ x: 0, y: 0, width: 1, height: 1 }, { x: 1, y: 0, width: 1, height: 1 })).toBe(0);
    expect(boxIoU({ x: 0, y: 0, width: 1, height: 1 }, { x: 5, y: 5, width: 1, height: 1 })).toBe(0);
    expect(boxIoU({ x: 0, y: 0, width: 0, height: 0 }, { x: 0, y: 0, width: 0, height: 0 })).toBe(0);
  });
  it('rejects negative sizes', () => {
    expect(() => boxIoU({ x: 0, y: 0, width: -1, height: 1 }, { x: 0, y: 0, width: 1, height: 1 })).toThrow(RangeError);
  });
});

describe('polygonIoU', () => {
  const square = (x: number, y: number, s: number): Point2[] => [
    [x, y],
    [x + s, y],
    [x + s, y + s],
    [x, y + s],
  ];
  it('nested squares: IoU = inner area / outer area', () => {
    expect(polygonIoU(square(0, 0, 4), square(1, 1, 2))).toBeCloseTo(0.25, 12);
  });
  it('disjoint polygons: 0', () => {
    expect(polygonIoU(square(0, 0, 1), square(3, 3, 1))).toBe(0);
  });
  it('concave L-shape vs its bounding box: 3/4', () => {
    const l: Point2[] = [
      [0, 0],
      [2, 0],
      [2, 1],
      [1, 1],
      [1, 2],
      [0, 2],
    ];
    expect(polygonIoU(l, square(0, 0, 2))).toBeCloseTo(0.75, 12);
  });
  it('agrees with boxIoU and ignores orientation and an explicit closing vertex', () => {
    const a = square(0, 0, 2);
    const b = square(1, 0, 2);
    const bReversedClosed = [...b].reverse().concat([b[3] ?? [0, 0]]);
    expect(polygonIoU(a, b)).toBeCloseTo(1 / 3, 12);
    expect(polygonIoU(a, bReversedClosed)).toBeCloseTo(1 / 3, 12);
  });
  it('degenerate inputs give 0', () => {
    expect(polygonIoU([[0, 0], [1, 1]], square(0, 0, 1))).toBe(0);
    expect(polygonIoU([[0, 0], [1, 1], [2, 2]], [[0, 0], [1, 1], [2, 2]])).toBe(0);
  });
  it('matches an exact-scanline rasterisation on random concave polygons within 1e-3', () => {
    // shapely is not installed for /usr/bin/python3, so the cross-check is a TS rasterisation.
    const rand = rng(20240607);
    let overlapping = 0;
    for (let t = 0; t < 40; t++) {
      const a = randomStar(rand, 5, 5, 5 + Math.floor(rand() * 8));
      const b = randomStar(rand, 4 + 2 * rand(), 4 + 2 * rand(), 5 + Math.floor(rand() * 8));
      const got = polygonIoU(a, b);
      const want = scanlineIoU(a, b);
      if (want > 0) overlapping++;
      expect(Math.abs(got - want)).toBeLessThan(1e-3);
    }
    expect(overlapping).toBeGreaterThan(30);
  });
});

describe('temporalIoU', () => {
  it('basic cases', () => {
    expect(temporalIoU([0, 2], [1, 3])).toBeCloseTo(1 / 3, 12);
    expect(temporalIoU([0, 10], [2, 4])).toBeCloseTo(0.2, 12);
    expect(temporalIoU([0, 1], [1, 2])).toBe(0);
    expect(temporalIoU([3, 3], [3, 3])).toBe(0);
    expect(() => temporalIoU([2, 1], [0, 1])).toThrow(RangeError);
  });
});

describe('maxWeightAssignment / matchObjects', () => {
  it('is optimal against brute force on random matrices (n, m ≤ 6)', () => {
    const rand = rng(7);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rand() * 6);
      const m = 1 + Math.floor(rand() * 6);
      const sparsity = rand();
      const w = Array.from({ length: n }, () => Array.from({ length: m }, () => (rand() < sparsity ? 0 : rand())));
      const pairs = maxWeightAssignment(w);
      const total = pairs.reduce((s, [i, j]) => s + (w[i]?.[j] ?? 0), 0);
      expect(total).toBeCloseTo(bruteForceBest(w), 9);
      expect(new Set(pairs.map((p) => p[0])).size).toBe(pairs.length);
      expect(new Set(pairs.map((p) => p[1])).size).toBe(pairs.length);
      for (const [i, j] of pairs) expect(w[i]?.[j] ?? 0).toBeGreaterThan(0);

      // matchObjects with a threshold equals brute force on the thresholded matrix.
      const threshold = 0.3;
      const [refs, cands, f] = fromMatrix(w);
      const res = matchObjects(refs, cands, f, threshold);
      const thresholded = w.map((row) => row.map((v) => (v >= threshold ? v : 0)));
      expect(res.pairs.reduce((s, p) => s + p.iou, 0)).toBeCloseTo(bruteForceBest(thresholded), 9);
      expect(res.pairs.length + res.unmatchedRef.length).toBe(n);
      expect(res.pairs.length + res.unmatchedCand.length).toBe(m);
      for (const p of res.pairs) expect(p.iou).toBeGreaterThanOrEqual(threshold);
    }
  });

  it('beats greedy matching where greedy fails', () => {
    // Greedy takes (A, X) = 0.9 first and leaves B unmatched (total 0.9, one pair);
    // the optimum pairs (A, Y) + (B, X) = 1.2 with two pairs.
    const w = [
      [0.9, 0.6],
      [0.6, 0],
    ];
    const [refs, cands, f] = fromMatrix(w);
    const res = matchObjects(refs, cands, f, 0.5);
    expect(res.pairs).toEqual([
      { ref: 0, cand: 1, iou: 0.6 },
      { ref: 1, cand: 0, iou: 0.6 },
    ]);
    expect(res.unmatchedRef).toEqual([]);
    expect(res.unmatchedCand).toEqual([]);
  });

  it('matches boxes and reports unmatched objects', () => {
    const ref = [
      { x: 0, y: 0, width: 10, height: 10 },
      { x: 20, y: 20, width: 10, height: 10 },
      { x: 50, y: 50, width: 5, height: 5 },
    ];
    const cand = [
      { x: 21, y: 20, width: 10, height: 10 },
      { x: 1, y: 1, width: 10, height: 10 },
      { x: 100, y: 100, width: 5, height: 5 },
      { x: 5, y: 0, width: 10, height: 10 }, // IoU 1/3 with ref 0: below threshold
    ];
    const res = matchObjects(ref, cand, boxIoU, 0.5);
    expect(res.pairs.map((p) => [p.ref, p.cand])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(res.pairs[0]?.iou).toBeCloseTo(81 / 119, 12);
    expect(res.unmatchedRef).toEqual([2]);
    expect(res.unmatchedCand).toEqual([2, 3]);
    const s = detectionScores(res);
    expect(s).toMatchObject({ tp: 2, fp: 2, fn: 1 });
    expect(s.precision).toBeCloseTo(0.5, 12);
    expect(s.recall).toBeCloseTo(2 / 3, 12);
    expect(s.f1).toBeCloseTo(4 / 7, 12);
  });

  it('handles empty inputs, threshold 0 and invalid thresholds', () => {
    expect(matchObjects([], [], boxIoU)).toEqual({ pairs: [], unmatchedRef: [], unmatchedCand: [] });
    const b = { x: 0, y: 0, width: 1, height: 1 };
    expect(matchObjects([b], [], boxIoU)).toEqual({ pairs: [], unmatchedRef: [0], unmatchedCand: [] });
    // Disjoint boxes never match, even at threshold 0.
    const far = { x: 9, y: 9, width: 1, height: 1 };
    expect(matchObjects([b], [far], boxIoU, 0).pairs).toEqual([]);
    expect(() => matchObjects([b], [b], boxIoU, 1.5)).toThrow(RangeError);
  });
});

describe('detectionScores', () => {
  it('defines empty cases', () => {
    expect(detectionScores({ pairs: [], unmatchedRef: [], unmatchedCand: [] })).toEqual({
      tp: 0, fp: 0, fn: 0, precision: 1, recall: 1, f1: 1,
    });
    expect(detectionScores({ pairs: [], unmatchedRef: [0, 1], unmatchedCand: [] })).toEqual({
      tp: 0, fp: 0, fn: 2, precision: 0, recall: 0, f1: 0,
    });
    expect(detectionScores({ pairs: [], unmatchedRef: [], unmatchedCand: [0] })).toEqual({
      tp: 0, fp: 1, fn: 0, precision: 0, recall: 0, f1: 0,
    });
  });
});

describe('labelConfusion', () => {
  it('counts matched label pairs and unmatched objects in the none row/column', () => {
    const match = {
      pairs: [
        { ref: 0, cand: 0, iou: 0.9 },
        { ref: 1, cand: 2, iou: 0.8 },
        { ref: 2, cand: 1, iou: 0.7 },
      ],
      unmatchedRef: [3],
      unmatchedCand: [3, 4],
    };
    const c = labelConfusion(match, ['cat', 'dog', 'cat', 'dog'], ['cat', 'cat', 'cat', 'bird', 'dog']);
    expect(c.labels).toEqual(['bird', 'cat', 'dog', null]);
    expect(c.matrix).toEqual([
      [0, 0, 0, 0], // ref bird
      [0, 2, 0, 0], // ref cat: two matched as cat
      [0, 1, 0, 1], // ref dog: one matched as cat, one missed
      [1, 0, 1, 0], // none: unmatched candidates bird, dog
    ]);
    const ordered = labelConfusion(match, ['cat', 'dog', 'cat', 'dog'], ['cat', 'cat', 'cat', 'bird', 'dog'], [
      'dog', 'cat', 'bird', 'fish',
    ]);
    expect(ordered.labels).toEqual(['dog', 'cat', 'bird', 'fish', null]);
    expect(ordered.matrix[0]).toEqual([0, 1, 0, 0, 1]);
    expect(() => labelConfusion(match, ['cat', 'dog', 'cat', 'dog'], ['cat', 'cat', 'cat', 'bird', 'dog'], ['cat'])).toThrow(
      RangeError,
    );
  });
});

describe('spanF1', () => {
  const ref = [
    { start: 0, end: 5, label: 'PER' },
    { start: 10, end: 15, label: 'ORG' },
    { start: 30, end: 34, label: 'LOC' },
  ];
  const cand = [
    { start: 0, end: 4, label: 'PER' }, // boundary error
    { start: 10, end: 15, label: 'ORG' }, // exact
    { start: 30, end: 34, label: 'PER' }, // label error
    { start: 40, end: 45, label: 'LOC' }, // spurious
  ];
  it('exact mode requires identical boundaries and label', () => {
    const s = spanF1(ref, cand, 'exact');
    expect(s).toMatchObject({ tp: 1, fp: 3, fn: 2, pairs: [[1, 1]] });
    expect(s.precision).toBeCloseTo(0.25, 12);
    expect(s.recall).toBeCloseTo(1 / 3, 12);
    expect(s.f1).toBeCloseTo(2 / 7, 12);
  });
  it('overlap mode accepts any shared character with the same label', () => {
    const s = spanF1(ref, cand, 'overlap');
    expect(s).toMatchObject({ tp: 2, fp: 2, fn: 1, pairs: [[0, 0], [1, 1]] });
    expect(s.f1).toBeCloseTo(4 / 7, 12);
  });
  it('overlap matching is one-to-one and maximises the number of pairs', () => {
    // One reference split into two candidates: only one can match.
    expect(spanF1([{ start: 0, end: 10 }], [{ start: 0, end: 3 }, { start: 5, end: 9 }], 'overlap')).toMatchObject({
      tp: 1, fp: 1, fn: 0, pairs: [[0, 1]], // tie broken towards the larger overlap
    });
    // X overlaps both references, Y only A: maximum matching is A–Y, B–X.
    const r = [
      { start: 0, end: 10 },
      { start: 8, end: 12 },
    ];
    const c = [
      { start: 9, end: 11 },
      { start: 0, end: 5 },
    ];
    expect(spanF1(r, c, 'overlap')).toMatchObject({ tp: 2, fp: 0, fn: 0, pairs: [[0, 1], [1, 0]] });
    // Touching half-open spans do not overlap.
    expect(spanF1([{ start: 0, end: 5 }], [{ start: 5, end: 8 }], 'overlap').tp).toBe(0);
  });
  it('exact mode counts duplicates one-to-one; both empty scores 1', () => {
    const s = spanF1([{ start: 1, end: 2, label: 'A' }], [{ start: 1, end: 2, label: 'A' }, { start: 1, end: 2, label: 'A' }], 'exact');
    expect(s).toMatchObject({ tp: 1, fp: 1, fn: 0 });
    expect(spanF1([], [], 'overlap')).toMatchObject({ precision: 1, recall: 1, f1: 1 });
  });
});

describe('segmentF1', () => {
  it('matches time segments by temporal IoU and label', () => {
    const ref = [
      { start: 0, end: 10, label: 'speech' },
      { start: 20, end: 30, label: 'music' },
      { start: 40, end: 50, label: 'speech' },
    ];
    const cand = [
      { start: 1, end: 10, label: 'speech' }, // IoU 0.9
      { start: 20, end: 30, label: 'speech' }, // wrong label
      { start: 44, end: 50, label: 'speech' }, // IoU 0.6
    ];
    const s = segmentF1(ref, cand, 0.5);
    expect(s).toMatchObject({ tp: 2, fp: 1, fn: 1 });
    expect(s.match.pairs.map((p) => p.iou)).toEqual([0.9, 0.6]);
    expect(segmentF1(ref, cand, 0.7)).toMatchObject({ tp: 1, fp: 2, fn: 2 });
  });
});
