/**
 * Object-matching agreement: overlap (IoU) between boxes, polygons and time segments, one-to-one
 * matching of reference objects to candidate objects, and detection scores (precision, recall,
 * F1) plus a per-label confusion matrix over the matched pairs. Also span F1 (brat-style exact
 * and overlap matching) for text annotations.
 *
 * Conventions:
 * - **IoU** of two shapes is area(A ∩ B) / area(A ∪ B). Degenerate shapes (zero area or
 *   length) whose union is empty give 0, not 1: unlike `iou` of two empty masks (see
 *   `masks.ts`), a degenerate object is not "agreement on nothing" and must never match.
 *   For 2D masks, pass `(a, b) => iou(a, b)` from `masks.ts` to {@link matchObjects}.
 * - **Matching** ({@link matchObjects}) is one-to-one and maximises the total IoU over pairs
 *   whose IoU is ≥ `threshold` (and > 0), solved exactly as a linear assignment problem with
 *   the Hungarian (Kuhn–Munkres) algorithm from the `munkres` package. This differs from the
 *   greedy "highest IoU first" matching of the COCO evaluator, which can pair fewer objects or
 *   reach a lower total IoU.
 * - **Scores** ({@link detectionScores}): TP = matched pairs, FP = unmatched candidates,
 *   FN = unmatched references; precision = TP / (TP + FP), recall = TP / (TP + FN),
 *   F1 = 2TP / (2TP + FP + FN). Both sides empty → precision = recall = F1 = 1 (perfect
 *   agreement that there is nothing); otherwise a 0/0 ratio is 0.
 * - Polygon intersection uses the `polygon-clipping` package (Martinez–Rueda–Feito sweep
 *   line), which also normalises self-intersecting rings (even-odd areas are not used: the
 *   area of a polygon is the area of the region it encloses after normalisation).
 */

import { munkres } from 'munkres';
import polygonClipping from 'polygon-clipping';
import type { MultiPolygon, Pair, Polygon } from 'polygon-clipping';
import type { Point2 } from '../geometry/geometry.js';
import { polygonArea } from '../geometry/geometry.js';

// ---------------------------------------------------------------------------------------------
// IoU of shapes
// ---------------------------------------------------------------------------------------------

/** Axis-aligned box: top-left corner `(x, y)` and non-negative size. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Intersection over union of two axis-aligned boxes (0 if their union has zero area). */
export function boxIoU(a: Box, b: Box): number {
  checkBox(a);
  checkBox(b);
  const iw = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const ih = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  const inter = iw > 0 && ih > 0 ? iw * ih : 0;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

function checkBox(b: Box): void {
  if (![b.x, b.y, b.width, b.height].every(Number.isFinite) || b.width < 0 || b.height < 0) {
    throw new RangeError(`invalid box ${JSON.stringify(b)}: need finite values and width, height ≥ 0`);
  }
}

/**
 * Intersection over union of two simple or self-intersecting polygons given as vertex rings
 * (closing vertex optional, either orientation). Rings with fewer than 3 vertices have zero
 * area. Returns 0 if the union has zero area.
 */
export function polygonIoU(a: readonly Point2[], b: readonly Point2[]): number {
  const pa = toClipPolygon(a);
  const pb = toClipPolygon(b);
  if (pa === undefined || pb === undefined) return 0;
  // Normalise each input (resolves self-intersections and duplicate vertices) so that
  // |A| + |B| - |A ∩ B| is the area of the union measured the same way as the intersection.
  const areaA = multiPolygonArea(polygonClipping.union(pa));
  const areaB = multiPolygonArea(polygonClipping.union(pb));
  const inter = multiPolygonArea(polygonClipping.intersection(pa, pb));
  const union = areaA + areaB - inter;
  if (!(union > 0)) return 0;
  return Math.min(1, Math.max(0, inter / union));
}

function toClipPolygon(points: readonly Point2[]): Polygon | undefined {
  if (points.length < 3) return undefined;
  const ring: Pair[] = points.map((p) => {
    if (!Number.isFinite(p[0]) || !Number.isFinite(p[1])) {
      throw new RangeError(`invalid polygon vertex ${JSON.stringify(p)}`);
    }
    return [p[0], p[1]];
  });
  return [ring];
}

/** Area of a polygon-clipping result: outer rings minus holes. */
function multiPolygonArea(mp: MultiPolygon): number {
  let area = 0;
  for (const polygon of mp) {
    polygon.forEach((ring, i) => {
      area += i === 0 ? polygonArea(ring) : -polygonArea(ring);
    });
  }
  return area;
}

/**
 * Intersection over union of two closed time intervals `[start, end]` (temporal IoU).
 * 0 if the union has zero length (e.g. two instants).
 */
export function temporalIoU(a: readonly [number, number], b: readonly [number, number]): number {
  checkInterval(a[0], a[1]);
  checkInterval(b[0], b[1]);
  const inter = Math.max(0, Math.min(a[1], b[1]) - Math.max(a[0], b[0]));
  const union = a[1] - a[0] + (b[1] - b[0]) - inter;
  return union > 0 ? inter / union : 0;
}

function checkInterval(start: number, end: number): void {
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) {
    throw new RangeError(`invalid interval [${start}, ${end}]: need finite start ≤ end`);
  }
}

// ---------------------------------------------------------------------------------------------
// Assignment and matching
// ---------------------------------------------------------------------------------------------

/**
 * Maximum-weight one-to-one assignment on a rectangular weight matrix (`weights[i][j]` for
 * row i, column j). Only entries > 0 may be paired; the returned `[row, col]` pairs (sorted by
 * row) maximise the sum of their weights. Solved with the Hungarian (Kuhn–Munkres) algorithm
 * (package `munkres`, O(n²m)) on the rows and columns that have at least one positive entry.
 */
export function maxWeightAssignment(weights: readonly (readonly number[])[]): [number, number][] {
  const rows: number[] = [];
  const colSet = new Set<number>();
  let maxW = 0;
  weights.forEach((row, i) => {
    let any = false;
    row.forEach((w, j) => {
      if (w > 0) {
        if (!Number.isFinite(w)) throw new RangeError(`weight [${i}][${j}] is not finite`);
        any = true;
        colSet.add(j);
        if (w > maxW) maxW = w;
      }
    });
    if (any) rows.push(i);
  });
  if (rows.length === 0) return [];
  const cols = [...colSet].sort((x, y) => x - y);
  // Cost = maxW - w ≥ 0, with non-positive weights clamped to 0 (pairs dropped afterwards).
  // Because every row (or every column) of the reduced matrix is fully assigned, minimising
  // the cost maximises the total weight.
  const cost = rows.map((i) => cols.map((j) => maxW - Math.max(0, weights[i]?.[j] ?? 0)));
  const pairs: [number, number][] = [];
  for (const [r, c] of munkres(cost)) {
    const i = rows[r];
    const j = cols[c];
    if (i === undefined || j === undefined) continue;
    if ((weights[i]?.[j] ?? 0) > 0) pairs.push([i, j]);
  }
  return pairs.sort((p, q) => p[0] - q[0]);
}

export interface MatchPair {
  /** Index into the reference array. */
  ref: number;
  /** Index into the candidate array. */
  cand: number;
  iou: number;
}

export interface MatchResult {
  /** Matched pairs, sorted by reference index. */
  pairs: MatchPair[];
  /** Indices of reference objects with no partner (false negatives), ascending. */
  unmatchedRef: number[];
  /** Indices of candidate objects with no partner (false positives), ascending. */
  unmatchedCand: number[];
}

/**
 * One-to-one matching of `reference` to `candidate` objects that maximises the total IoU over
 * pairs with IoU ≥ `threshold` (pairs with IoU 0, or NaN, never match, even at threshold 0).
 * Exact (Hungarian algorithm), not greedy.
 */
export function matchObjects<R, C = R>(
  reference: readonly R[],
  candidate: readonly C[],
  iou: (ref: R, cand: C) => number,
  threshold = 0.5,
): MatchResult {
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(`threshold must be in [0, 1], got ${threshold}`);
  }
  const scores = reference.map((r) => candidate.map((c) => iou(r, c)));
  const weights = scores.map((row) => row.map((v) => (v >= threshold && v > 0 ? v : 0)));
  const assigned = maxWeightAssignment(weights);
  const pairs: MatchPair[] = assigned.map(([i, j]) => ({ ref: i, cand: j, iou: scores[i]?.[j] ?? 0 }));
  const refUsed = new Set(assigned.map((p) => p[0]));
  const candUsed = new Set(assigned.map((p) => p[1]));
  return {
    pairs,
    unmatchedRef: reference.map((_, i) => i).filter((i) => !refUsed.has(i)),
    unmatchedCand: candidate.map((_, j) => j).filter((j) => !candUsed.has(j)),
  };
}

// ---------------------------------------------------------------------------------------------
// Scores
// ---------------------------------------------------------------------------------------------

export interface DetectionScores {
  /** True positives: matched pairs. */
  tp: number;
  /** False positives: unmatched candidates. */
  fp: number;
  /** False negatives: unmatched references. */
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

/** Precision, recall and F1 of a matching; both sides empty → all 1, otherwise 0/0 → 0. */
export function detectionScores(match: Pick<MatchResult, 'pairs' | 'unmatchedRef' | 'unmatchedCand'>): DetectionScores {
  return scoresFromCounts(match.pairs.length, match.unmatchedCand.length, match.unmatchedRef.length);
}

function scoresFromCounts(tp: number, fp: number, fn: number): DetectionScores {
  if (tp + fp + fn === 0) return { tp, fp, fn, precision: 1, recall: 1, f1: 1 };
  const ratio = (num: number, den: number): number => (den > 0 ? num / den : 0);
  return { tp, fp, fn, precision: ratio(tp, tp + fp), recall: ratio(tp, tp + fn), f1: ratio(2 * tp, 2 * tp + fp + fn) };
}

export interface LabelConfusion {
  /**
   * Row and column order: the labels, then `null` for "none" (no partner). Rows are reference
   * labels, columns candidate labels.
   */
  labels: (string | null)[];
  /**
   * `matrix[r][c]` counts matched pairs with reference label `labels[r]` and candidate label
   * `labels[c]`. The last column counts unmatched references per label (misses), the last row
   * unmatched candidates per label (false alarms); `matrix[none][none]` is 0.
   */
  matrix: number[][];
}

/**
 * Per-label confusion matrix of a matching. `refLabels[i]` is the label of reference object i,
 * `candLabels[j]` of candidate j. Label order is `labels` if given (must contain every label
 * that occurs), otherwise the occurring labels sorted by code unit.
 */
export function labelConfusion(
  match: MatchResult,
  refLabels: readonly string[],
  candLabels: readonly string[],
  labels?: readonly string[],
): LabelConfusion {
  const refLabel = (i: number): string => {
    const l = refLabels[i];
    if (l === undefined) throw new RangeError(`no label for reference ${i}`);
    return l;
  };
  const candLabel = (j: number): string => {
    const l = candLabels[j];
    if (l === undefined) throw new RangeError(`no label for candidate ${j}`);
    return l;
  };
  const used = new Set<string>();
  for (const p of match.pairs) {
    used.add(refLabel(p.ref));
    used.add(candLabel(p.cand));
  }
  for (const i of match.unmatchedRef) used.add(refLabel(i));
  for (const j of match.unmatchedCand) used.add(candLabel(j));
  const order = labels ? [...labels] : [...used].sort();
  const index = new Map<string, number>();
  order.forEach((l, k) => {
    if (index.has(l)) throw new RangeError(`duplicate label "${l}"`);
    index.set(l, k);
  });
  for (const l of used) if (!index.has(l)) throw new RangeError(`label "${l}" missing from labels`);
  const none = order.length;
  const matrix = Array.from({ length: none + 1 }, () => new Array<number>(none + 1).fill(0));
  const bump = (r: number, c: number): void => {
    const row = matrix[r];
    if (row) row[c] = (row[c] ?? 0) + 1;
  };
  const idx = (l: string): number => index.get(l) ?? none;
  for (const p of match.pairs) bump(idx(refLabel(p.ref)), idx(candLabel(p.cand)));
  for (const i of match.unmatchedRef) bump(idx(refLabel(i)), none);
  for (const j of match.unmatchedCand) bump(none, idx(candLabel(j)));
  return { labels: [...order, null], matrix };
}

// ---------------------------------------------------------------------------------------------
// Text spans and time segments
// ---------------------------------------------------------------------------------------------

/** Text span: half-open character offsets `[start, end)`. */
export interface Span {
  start: number;
  end: number;
  label?: string;
}

export interface SpanScores extends DetectionScores {
  /** Matched `[refIndex, candIndex]` pairs, sorted by reference index. */
  pairs: [number, number][];
}

/**
 * Span-level precision, recall and F1 in the style of brat / CoNLL evaluation.
 * - `exact`: a candidate matches a reference with the same start, end and label.
 * - `overlap`: a candidate matches a reference with the same label that shares at least one
 *   character (`max(start) < min(end)`).
 * Matching is one-to-one with the largest possible number of pairs (maximum bipartite
 * matching); among those, ties are broken towards larger total character IoU.
 */
export function spanF1(reference: readonly Span[], candidate: readonly Span[], mode: 'exact' | 'overlap'): SpanScores {
  for (const s of [...reference, ...candidate]) checkInterval(s.start, s.end);
  const n = reference.length;
  const m = candidate.length;
  // Weight 1 per compatible pair dominates the tie-break bonus (< 1 in total over any matching).
  const bonusScale = 1 / (Math.min(n, m) + 1);
  const weights = reference.map((r) =>
    candidate.map((c) => {
      if (r.label !== c.label) return 0;
      if (mode === 'exact') return r.start === c.start && r.end === c.end ? 1 : 0;
      const inter = Math.min(r.end, c.end) - Math.max(r.start, c.start);
      if (!(inter > 0)) return 0;
      return 1 + bonusScale * (inter / (r.end - r.start + (c.end - c.start) - inter));
    }),
  );
  const pairs = maxWeightAssignment(weights);
  return { ...scoresFromCounts(pairs.length, m - pairs.length, n - pairs.length), pairs };
}

/** Time segment `[start, end]` (e.g. seconds), optionally labelled. */
export interface TimeSegment {
  start: number;
  end: number;
  label?: string;
}

export interface SegmentScores extends DetectionScores {
  match: MatchResult;
}

/**
 * Detection scores for time segments: {@link matchObjects} on {@link temporalIoU}, with
 * segments of different labels never matching (unlabelled segments match each other).
 */
export function segmentF1(
  reference: readonly TimeSegment[],
  candidate: readonly TimeSegment[],
  threshold = 0.5,
): SegmentScores {
  const match = matchObjects(
    reference,
    candidate,
    (r, c) => (r.label === c.label ? temporalIoU([r.start, r.end], [c.start, c.end]) : 0),
    threshold,
  );
  return { ...detectionScores(match), match };
}
