import { describe, expect, it } from 'vitest';
import type { AnnotationObject } from '../annotation/object.js';
import { taskAgreement, type ItemReplicas, type ReplicaDoc } from './task.js';

const common = { attributes: {}, source: 'manual' as const, createdBy: 'u', createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z' };
let nextId = 0;
const tag = (label: string, scope: 'asset' | 'series' = 'asset'): AnnotationObject => ({ ...common, id: `t${nextId++}`, kind: 'tag', label, scope: { type: scope } });
const box = (label: string, x: number, y: number, w = 10, h = 10, plane: { slice?: number; frame?: number } = {}): AnnotationObject => ({
  ...common,
  id: `b${nextId++}`,
  kind: 'box',
  label,
  x,
  y,
  width: w,
  height: h,
  ...plane,
});
const rep = (annotatorId: string, objects: AnnotationObject[]): ReplicaDoc => ({ annotatorId, objects });

describe('taskAgreement', () => {
  it('gives 1 everywhere when all raters agree', () => {
    const items: ItemReplicas[] = [
      { itemId: 'i1', objects: [tag('Normal'), box('Nodule', 0, 0), box('Nodule', 50, 50, 5, 8)] },
      { itemId: 'i2', objects: [tag('Abnormal'), tag('Artefact'), box('Mass', 3, 4, 20, 30, { slice: 7 })] },
      { itemId: 'i3', objects: [tag('Normal')] },
    ].map(({ itemId, objects }) => ({ itemId, replicas: ['a', 'b', 'c'].map((id) => rep(id, objects)) }));
    const r = taskAgreement(items);
    expect(r.tags).toEqual({ percent: 1, fleiss: 1, krippendorff: 1, items: 3 });
    expect(r.boxes.meanPairwiseF1).toBe(1);
    expect(r.boxes.perLabel).toEqual({ Mass: { f1: 1 }, Nodule: { f1: 1 } });
    // i3 has no boxes on either side: its pairs are not counted.
    expect(r.boxes.perAnnotator).toEqual({ a: { f1: 1, pairs: 4 }, b: { f1: 1, pairs: 4 }, c: { f1: 1, pairs: 4 } });
    expect(r.perAnnotator.a).toEqual({ items: 3, tagAgreement: 1, boxF1: 1 });
  });

  it('gives box F1 0 for disjoint boxes', () => {
    const items: ItemReplicas[] = [
      { itemId: 'i1', replicas: [rep('a', [box('N', 0, 0), box('N', 100, 0)]), rep('b', [box('N', 20, 20), box('N', 200, 200)])] },
      { itemId: 'i2', replicas: [rep('a', [box('N', 0, 0)]), rep('b', [])] },
    ];
    const r = taskAgreement(items);
    expect(r.boxes.meanPairwiseF1).toBe(0);
    expect(r.boxes.perLabel).toEqual({ N: { f1: 0 } });
    expect(r.boxes.perAnnotator).toEqual({ a: { f1: 0, pairs: 2 }, b: { f1: 0, pairs: 2 } });
    expect(r.tags).toEqual({ percent: null, fleiss: null, krippendorff: null, items: 0 });
    expect(r.perAnnotator.b).toEqual({ items: 2, tagAgreement: null, boxF1: 0 });
  });

  it('matches a hand-computed two-rater case', () => {
    // Units (item, label) → ratings of (r1, r2): (1,A) 1 1, (1,B) 0 0, (2,A) 1 0, (2,B) 1 1.
    // Percent 3/4. Fleiss: P̄ = 3/4, p(1) = 5/8, p(0) = 3/8, P_e = 17/32 → κ = (24 − 17)/15 = 7/15.
    // Krippendorff nominal: o_11 = 4, o_00 = 2, o_01 = o_10 = 1, n_1 = 5, n_0 = 3, n = 8
    //   → α = 1 − 7·2 / (2·5·3) = 8/15.
    // Boxes in item 1: A/A overlap with IoU 90/110 (match), r1's second A and r2's B unmatched
    // → TP 1, FP 1, FN 1, F1 1/2; per label A: TP 1, FN 1 → 2/3; B: FP 1 → 0.
    // Series-scope tags are not asset tags and are ignored.
    const items: ItemReplicas[] = [
      {
        itemId: 'i1',
        replicas: [
          rep('r1', [tag('A'), tag('Z', 'series'), box('A', 0, 0), box('A', 20, 20)]),
          rep('r2', [tag('A'), box('A', 1, 0), box('B', 20, 20)]),
        ],
      },
      { itemId: 'i2', replicas: [rep('r1', [tag('A'), tag('B')]), rep('r2', [tag('B')])] },
      { itemId: 'i3', replicas: [rep('r1', [tag('A'), box('A', 0, 0)])] }, // one replica: skipped
    ];
    const r = taskAgreement(items);
    expect(r.tags.items).toBe(2);
    expect(r.tags.percent).toBeCloseTo(0.75, 14);
    expect(r.tags.fleiss).toBeCloseTo(7 / 15, 14);
    expect(r.tags.krippendorff).toBeCloseTo(8 / 15, 14);
    expect(r.boxes.meanPairwiseF1).toBeCloseTo(0.5, 14);
    expect(r.boxes.perLabel.A!.f1).toBeCloseTo(2 / 3, 14);
    expect(r.boxes.perLabel.B!.f1).toBe(0);
    expect(r.perAnnotator).toEqual({
      r1: { items: 3, tagAgreement: 0.75, boxF1: 0.5 },
      r2: { items: 2, tagAgreement: 0.75, boxF1: 0.5 },
    });
  });

  it('averages pairs per annotator and respects planes and the threshold', () => {
    // a and b agree, c's box is on another slice: pairs ab 1, ac 0, bc 0.
    const items: ItemReplicas[] = [
      {
        itemId: 'i1',
        replicas: [rep('a', [box('N', 0, 0, 10, 10, { slice: 1 })]), rep('b', [box('N', 0, 0, 10, 10, { slice: 1 })]), rep('c', [box('N', 0, 0, 10, 10, { slice: 2 })])],
      },
    ];
    const r = taskAgreement(items);
    expect(r.boxes.meanPairwiseF1).toBeCloseTo(1 / 3, 14);
    expect(r.boxes.perAnnotator).toEqual({ a: { f1: 0.5, pairs: 2 }, b: { f1: 0.5, pairs: 2 }, c: { f1: 0, pairs: 2 } });
    // IoU of these two boxes is 50/150 = 1/3: no match at 0.5, a match at 0.3.
    const shifted: ItemReplicas[] = [{ itemId: 'i', replicas: [rep('a', [box('N', 0, 0)]), rep('b', [box('N', 5, 0)])] }];
    expect(taskAgreement(shifted).boxes.meanPairwiseF1).toBe(0);
    expect(taskAgreement(shifted, { iouThreshold: 0.3 }).boxes.meanPairwiseF1).toBe(1);
  });

  it('leaves Fleiss undefined for unequal replica counts, not α', () => {
    const items: ItemReplicas[] = [
      { itemId: 'i1', replicas: [rep('a', [tag('X')]), rep('b', [tag('X')]), rep('c', [tag('Y')])] },
      { itemId: 'i2', replicas: [rep('a', [tag('Y')]), rep('b', [tag('Y')])] },
    ];
    const r = taskAgreement(items);
    expect(r.tags.fleiss).toBeNull();
    expect(r.tags.items).toBe(2);
    // Units: (1,X) 1 1 0, (1,Y) 0 0 1, (2,X) 0 0, (2,Y) 1 1.
    // Percent: 1/3, 1/3, 1, 1 → 2/3.
    expect(r.tags.percent).toBeCloseTo(2 / 3, 14);
    // Coincidences: unit (1,X): ordered pairs (1,1)×2, (1,0)×4 → /2 → o_11 += 1, o_10 += 1, o_01 += 1;
    // (1,Y): o_00 += 1, o_01 += 1, o_10 += 1; (2,X): o_00 += 2; (2,Y): o_11 += 2.
    // o_11 = 3, o_00 = 3, o_01 = o_10 = 2, n_1 = n_0 = 5, n = 10 → α = 1 − 9·4 / (2·25) = 0.28.
    expect(r.tags.krippendorff).toBeCloseTo(0.28, 14);
    expect(r.perAnnotator.c!.tagAgreement).toBe(0);
    // a: agrees with b in all 4 units, with c in neither of its 2 → 4 of 6 pairs.
    expect(r.perAnnotator.a!.tagAgreement).toBeCloseTo(2 / 3, 14);
  });

  it('reports κ and α as null when they are 0/0', () => {
    const items: ItemReplicas[] = ['i1', 'i2'].map((itemId) => ({ itemId, replicas: [rep('a', [tag('Only')]), rep('b', [tag('Only')])] }));
    expect(taskAgreement(items).tags).toEqual({ percent: 1, fleiss: null, krippendorff: null, items: 2 });
  });

  it('rejects an annotator appearing twice in an item and a bad threshold', () => {
    expect(() => taskAgreement([{ itemId: 'x', replicas: [rep('a', []), rep('a', [])] }])).toThrow(/two replicas by annotator "a"/);
    expect(() => taskAgreement([], { iouThreshold: 2 })).toThrow(RangeError);
  });

  it('handles an empty task and odd annotator ids', () => {
    expect(taskAgreement([])).toEqual({
      tags: { percent: null, fleiss: null, krippendorff: null, items: 0 },
      boxes: { meanPairwiseF1: null, perAnnotator: {}, perLabel: {} },
      perAnnotator: {},
    });
    const r = taskAgreement([{ itemId: 'x', replicas: [rep('__proto__', [box('N', 0, 0)]), rep('b', [box('N', 0, 0)])] }]);
    expect(Object.keys(r.perAnnotator)).toEqual(['__proto__', 'b']);
    expect(r.perAnnotator['__proto__']!.boxF1).toBe(1);
  });
});
