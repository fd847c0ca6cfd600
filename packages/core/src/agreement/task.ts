/**
 * Agreement of a task whose items were annotated by several annotators (replicas): asset tags
 * and boxes, overall and per annotator.
 *
 * ## Items and replicas
 * Each item carries one document per annotator ({@link ReplicaDoc}). An annotator may appear at
 * most once per item (RangeError otherwise). Items with fewer than two replicas cannot show
 * agreement and are skipped by every coefficient (they still count in `perAnnotator[id].items`,
 * which is the number of items the annotator has a replica in).
 *
 * ## Tags (choice: one present/absent rating per tag label)
 * Only `tag` objects with `scope.type === 'asset'` count. The tag labels L are all labels used
 * by such tags anywhere in the task. Every item with ≥ 2 replicas contributes one unit per label
 * ℓ ∈ L, in which each replica's nominal rating is 1 if its document has an asset tag ℓ and 0
 * otherwise. This handles multi-choice schemas (several tags per asset) and single-choice ones
 * alike without needing the label schema; for a single-choice schema it is a one-vs-rest view of
 * the same choice. On these units:
 * - `percent`: mean pairwise percent agreement ({@link percentAgreement});
 * - `fleiss`: Fleiss' κ ({@link fleissKappa}), only defined when every counted item has the same
 *   number of replicas, otherwise null;
 * - `krippendorff`: nominal α ({@link krippendorffAlpha}), which allows any replica count.
 *   α (like κ) does not depend on which annotator gave which value, so the reliability matrix
 *   has one row per replica slot (the r-th replica of each item), padded with missing values.
 * - `items`: the number of items that contributed units.
 * A coefficient is null when there is nothing to compute it on (no tag labels, no item with two
 * replicas) or when it is 0/0 (every unit has the same value, e.g. every annotator put the one
 * and only tag label on every item: percent agreement is then 1, κ and α are undefined).
 * `perAnnotator[id].tagAgreement`: over all units and all other replicas of the same item, the
 * fraction of pairs where this annotator's rating equals the other's (null without pairs).
 *
 * ## Boxes
 * For every item and every unordered pair of replicas, the boxes are matched one-to-one with
 * {@link matchObjects} (Hungarian, IoU ≥ `iouThreshold`, default 0.5) among boxes of the same
 * label on the same plane (same `slice` and `frame`, both absent for a plain image). TP = matched
 * pairs, FP + FN = unmatched boxes on either side, pair F1 = 2TP / (2TP + FP + FN) (F1 is
 * symmetric, so which replica is the reference does not matter). Pairs where neither replica has
 * a box are skipped (no evidence either way).
 * - `meanPairwiseF1`: mean of the pair F1 over all counted pairs (null if none);
 * - `perAnnotator[id]`: mean F1 over the counted pairs involving that annotator and their number;
 * - `perLabel[label].f1`: F1 of the TP/FP/FN counts of that label pooled over all counted pairs.
 * `perAnnotator[id].boxF1` repeats `boxes.perAnnotator[id].f1` (null without counted pairs).
 */

import type { AnnotationObject, AnnotationObjectOf } from '../annotation/object.js';
import { fleissKappa, krippendorffAlpha, percentAgreement, type MaybeRating } from './categorical.js';
import { boxIoU, matchObjects } from './matching.js';

/** One annotator's document for one item. */
export interface ReplicaDoc {
  annotatorId: string;
  objects: readonly AnnotationObject[];
}

/** All replicas of one item. */
export interface ItemReplicas {
  itemId: string;
  replicas: readonly ReplicaDoc[];
}

export interface TaskAgreement {
  tags: { percent: number | null; fleiss: number | null; krippendorff: number | null; items: number };
  boxes: {
    meanPairwiseF1: number | null;
    perAnnotator: Record<string, { f1: number; pairs: number }>;
    perLabel: Record<string, { f1: number }>;
  };
  perAnnotator: Record<string, { items: number; tagAgreement: number | null; boxF1: number | null }>;
}

export interface TaskAgreementOptions {
  /** Minimum IoU for two boxes to match. Default 0.5. */
  iouThreshold?: number;
}

type BoxObject = AnnotationObjectOf<'box'>;

interface PreparedReplica {
  annotatorId: string;
  tags: Set<string>;
  /** Boxes by "label \0 plane". */
  boxes: Map<string, BoxObject[]>;
  boxCount: number;
}

interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const f1Of = (c: Counts): number => {
  const den = 2 * c.tp + c.fp + c.fn;
  return den === 0 ? 1 : (2 * c.tp) / den;
};

function planeKey(b: BoxObject): string {
  if (b.slice !== undefined) return `s${b.slice}`;
  if (b.frame !== undefined) return `f${b.frame}`;
  return '';
}

function prepare(item: ItemReplicas): PreparedReplica[] {
  const seen = new Set<string>();
  return item.replicas.map((rep) => {
    if (seen.has(rep.annotatorId)) {
      throw new RangeError(`item "${item.itemId}" has two replicas by annotator "${rep.annotatorId}"`);
    }
    seen.add(rep.annotatorId);
    const tags = new Set<string>();
    const boxes = new Map<string, BoxObject[]>();
    let boxCount = 0;
    for (const o of rep.objects) {
      if (o.kind === 'tag') {
        if (o.scope.type === 'asset') tags.add(o.label);
      } else if (o.kind === 'box') {
        const key = `${o.label}\u0000${planeKey(o)}`;
        const list = boxes.get(key);
        if (list) list.push(o);
        else boxes.set(key, [o]);
        boxCount++;
      }
    }
    return { annotatorId: rep.annotatorId, tags, boxes, boxCount };
  });
}

/**
 * Agreement of a task with replicas: asset tags (percent agreement, Fleiss' κ, Krippendorff's α
 * over present/absent ratings per tag label) and boxes (pairwise Hungarian matching F1), overall,
 * per annotator and per box label. See the module documentation for the exact definitions.
 * @throws RangeError for an invalid threshold or an annotator appearing twice in one item.
 */
export function taskAgreement(items: Iterable<ItemReplicas>, options: TaskAgreementOptions = {}): TaskAgreement {
  const threshold = options.iouThreshold ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`iouThreshold must be in [0, 1], got ${threshold}`);

  // Pass 1: normalise the replicas, collect the tag labels.
  const prepared: PreparedReplica[][] = [];
  const tagLabels = new Set<string>();
  const annotatorItems = new Map<string, number>();
  for (const item of items) {
    const reps = prepare(item);
    for (const r of reps) {
      for (const t of r.tags) tagLabels.add(t);
      annotatorItems.set(r.annotatorId, (annotatorItems.get(r.annotatorId) ?? 0) + 1);
    }
    prepared.push(reps);
  }

  // Tags.
  const labels = [...tagLabels].sort();
  const units: number[][] = [];
  const tagPairs = new Map<string, { agree: number; total: number }>();
  let tagItems = 0;
  let maxReplicas = 0;
  let sameCount = true;
  let firstCount = -1;
  if (labels.length > 0) {
    for (const reps of prepared) {
      if (reps.length < 2) continue;
      tagItems++;
      if (firstCount < 0) firstCount = reps.length;
      else if (reps.length !== firstCount) sameCount = false;
      maxReplicas = Math.max(maxReplicas, reps.length);
      for (const label of labels) {
        const row = reps.map((r) => (r.tags.has(label) ? 1 : 0));
        units.push(row);
        for (let x = 0; x < row.length; x++) {
          let agree = 0;
          for (let y = 0; y < row.length; y++) if (y !== x && row[y] === row[x]) agree++;
          const id = reps[x]!.annotatorId;
          const acc = tagPairs.get(id) ?? { agree: 0, total: 0 };
          acc.agree += agree;
          acc.total += row.length - 1;
          tagPairs.set(id, acc);
        }
      }
    }
  }
  let percent: number | null = null;
  let fleiss: number | null = null;
  let krippendorff: number | null = null;
  if (units.length > 0) {
    percent = percentAgreement(units);
    fleiss = sameCount ? finiteOrNull(fleissKappa(units)) : null;
    const slots: MaybeRating[][] = Array.from({ length: maxReplicas }, () => new Array<MaybeRating>(units.length).fill(null));
    units.forEach((row, u) => row.forEach((v, r) => (slots[r]![u] = v)));
    krippendorff = finiteOrNull(krippendorffAlpha(slots, 'nominal'));
  }

  // Boxes.
  const pairF1s: number[] = [];
  const perAnnotatorBox = new Map<string, { sum: number; pairs: number }>();
  const perLabelCounts = new Map<string, Counts>();
  const addAnnotator = (id: string, f1: number): void => {
    const acc = perAnnotatorBox.get(id) ?? { sum: 0, pairs: 0 };
    acc.sum += f1;
    acc.pairs++;
    perAnnotatorBox.set(id, acc);
  };
  for (const reps of prepared) {
    for (let x = 0; x < reps.length; x++) {
      for (let y = x + 1; y < reps.length; y++) {
        const a = reps[x]!;
        const b = reps[y]!;
        if (a.boxCount === 0 && b.boxCount === 0) continue;
        const pair: Counts = { tp: 0, fp: 0, fn: 0 };
        const keys = new Set([...a.boxes.keys(), ...b.boxes.keys()]);
        for (const key of keys) {
          const ra = a.boxes.get(key) ?? [];
          const rb = b.boxes.get(key) ?? [];
          let tp = 0;
          if (ra.length === 1 && rb.length === 1) {
            // One box each: the matching is the pair itself when it qualifies (as matchObjects decides).
            const v = boxIoU(ra[0]!, rb[0]!);
            tp = v >= threshold && v > 0 ? 1 : 0;
          } else if (ra.length > 0 && rb.length > 0) {
            tp = matchObjects(ra, rb, boxIoU, threshold).pairs.length;
          }
          const c: Counts = { tp, fp: rb.length - tp, fn: ra.length - tp };
          pair.tp += c.tp;
          pair.fp += c.fp;
          pair.fn += c.fn;
          const label = key.slice(0, key.indexOf('\u0000'));
          const acc = perLabelCounts.get(label) ?? { tp: 0, fp: 0, fn: 0 };
          acc.tp += c.tp;
          acc.fp += c.fp;
          acc.fn += c.fn;
          perLabelCounts.set(label, acc);
        }
        const f1 = f1Of(pair);
        pairF1s.push(f1);
        addAnnotator(a.annotatorId, f1);
        addAnnotator(b.annotatorId, f1);
      }
    }
  }

  // Object.fromEntries defines own properties, so ids such as "__proto__" are safe keys.
  const byKey = <T>(p: [string, T], q: [string, T]): number => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0);
  const boxesPerAnnotator: Record<string, { f1: number; pairs: number }> = Object.fromEntries(
    [...perAnnotatorBox].sort(byKey).map(([id, acc]) => [id, { f1: acc.sum / acc.pairs, pairs: acc.pairs }]),
  );
  const perLabel: Record<string, { f1: number }> = Object.fromEntries(
    [...perLabelCounts].sort(byKey).map(([label, c]) => [label, { f1: f1Of(c) }]),
  );
  const perAnnotator: TaskAgreement['perAnnotator'] = Object.fromEntries(
    [...annotatorItems].sort(byKey).map(([id, count]) => {
      const t = tagPairs.get(id);
      const box = perAnnotatorBox.get(id);
      return [id, { items: count, tagAgreement: t && t.total > 0 ? t.agree / t.total : null, boxF1: box ? box.sum / box.pairs : null }];
    }),
  );

  return {
    tags: { percent, fleiss, krippendorff, items: tagItems },
    boxes: {
      meanPairwiseF1: pairF1s.length > 0 ? pairF1s.reduce((s, v) => s + v, 0) / pairF1s.length : null,
      perAnnotator: boxesPerAnnotator,
      perLabel,
    },
    perAnnotator,
  };
}
