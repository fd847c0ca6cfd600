// What consensus and scores are computed on: each document reduced to tag sets, boxes,
// polygons, 2D masks and one label map (in a label-index space shared by the documents of the
// item), then combined (consensus) or compared (agreement, accuracy) with @caliper/core.
import {
  type AnnotationDocument,
  type AnnotationObject,
  type Box,
  boxIoU,
  decodeRle,
  detectionScores,
  dice,
  labelMask,
  matchObjects,
  type Point2,
  polygonIoU,
} from '@caliper/core';
import { QualityInputError, type LoadedLabelmap } from './documents.js';

type Obj<K extends AnnotationObject['kind']> = Extract<AnnotationObject, { kind: K }>;

export interface ShapeItem<G> {
  label: string;
  /** '' for a plain image, 's<k>' for a slice, 'f<n>' for a frame */
  plane: string;
  geometry: G;
  id: string;
  attributes: Record<string, unknown>;
}

export interface MaskItem {
  label: string;
  plane: string;
  height: number;
  width: number;
  data: Uint8Array;
}

/** A document reduced to what quality work compares. */
export interface Extracted {
  /** scope key (JSON of the tag scope) → labels */
  tags: Map<string, Set<string>>;
  /** scope key → label → attributes of the first tag with that label */
  tagAttributes: Map<string, Map<string, Record<string, unknown>>>;
  boxes: ShapeItem<Box>[];
  polygons: ShapeItem<Point2[]>[];
  masks: MaskItem[];
  /** The label map in the shared index space (value v > 0 stands for `labels[v - 1]`), or null. */
  labelmap: Uint8Array | Uint16Array | null;
}

export const planeOf = (o: { slice?: number; frame?: number }) => (o.slice !== undefined ? `s${o.slice}` : o.frame !== undefined ? `f${o.frame}` : '');

/** Every label used by any of the label maps, in the order of `schemaOrder` (unknown names last, sorted). */
export function sharedLabelList(maps: readonly (LoadedLabelmap | null)[], schemaOrder: readonly string[]): string[] {
  const used = new Set<string>();
  for (const m of maps) if (m) for (const l of m.labelOf.values()) used.add(l);
  const known = schemaOrder.filter((l) => used.has(l));
  const rest = [...used].filter((l) => !schemaOrder.includes(l)).sort();
  return [...known, ...rest];
}

/** Maps a label map's values to the shared index space (values without a segment become 0). */
export function remapLabelmap(map: LoadedLabelmap, labels: readonly string[]): Uint8Array | Uint16Array {
  const index = new Map(labels.map((l, i) => [l, i + 1]));
  const lut = new Map<number, number>();
  for (const [v, l] of map.labelOf) lut.set(v, index.get(l) ?? 0);
  const identity = [...lut].every(([v, w]) => v === w);
  if (identity && map.data.every((v) => v === 0 || lut.has(v))) return map.data;
  const out = labels.length < 256 ? new Uint8Array(map.data.length) : new Uint16Array(map.data.length);
  for (let i = 0; i < map.data.length; i++) {
    const v = map.data[i]!;
    if (v !== 0) out[i] = lut.get(v) ?? 0;
  }
  return out;
}

/** Reduces a document; `labelmap` is its label map already in the shared space (or null). */
export function extract(doc: AnnotationDocument, labelmap: Uint8Array | Uint16Array | null): Extracted {
  const out: Extracted = { tags: new Map(), tagAttributes: new Map(), boxes: [], polygons: [], masks: [], labelmap };
  for (const o of doc.objects) {
    if (o.kind === 'tag') {
      const key = JSON.stringify(o.scope);
      let set = out.tags.get(key);
      if (!set) out.tags.set(key, (set = new Set()));
      set.add(o.label);
      let attrs = out.tagAttributes.get(key);
      if (!attrs) out.tagAttributes.set(key, (attrs = new Map()));
      if (!attrs.has(o.label)) attrs.set(o.label, o.attributes);
    } else if (o.kind === 'box') {
      const b = o as Obj<'box'>;
      out.boxes.push({ label: b.label, plane: planeOf(b), geometry: { x: b.x, y: b.y, width: b.width, height: b.height }, id: b.id, attributes: b.attributes });
    } else if (o.kind === 'polygon') {
      const p = o as Obj<'polygon'>;
      out.polygons.push({ label: p.label, plane: planeOf(p), geometry: p.points.map((q) => [q[0], q[1]] as Point2), id: p.id, attributes: p.attributes });
    } else if (o.kind === 'mask') {
      const m = o as Obj<'mask'>;
      const [height, width] = m.rle.size;
      const plane = planeOf(m);
      const data = decodeRle(m.rle);
      // Several masks of one label on one plane are one region (their union).
      const same = out.masks.find((x) => x.label === m.label && x.plane === plane);
      if (same) {
        if (same.height !== height || same.width !== width) throw new QualityInputError('Masks of one label on one plane have different sizes.');
        for (let i = 0; i < data.length; i++) if (data[i]) same.data[i] = 1;
      } else out.masks.push({ label: m.label, plane, height, width, data });
    }
  }
  return out;
}

/** IoU of two shapes of an item: 0 across labels or planes. */
export const shapeIoU =
  <G>(iouOf: (a: G, b: G) => number) =>
  (a: ShapeItem<G>, b: ShapeItem<G>): number =>
    a.label === b.label && a.plane === b.plane ? iouOf(a.geometry, b.geometry) : 0;

export const boxItemIoU = shapeIoU<Box>(boxIoU);
export const polygonItemIoU = shapeIoU<Point2[]>(polygonIoU);

/** One computed figure before it becomes a quality_scores row. */
export interface Score {
  metric: 'tags' | 'boxF1' | 'polygonF1' | 'dice';
  label: string | null;
  value: number;
  n: number;
}

/**
 * Scores `cand` against `ref`: tag agreement 1/0 per (scope, label) given by either side; box
 * and polygon F1 from an optimal matching at IoU ≥ 0.5 (when either side has such shapes); Dice
 * per label of 2D masks (all planes together) and of the label maps (`labels` is the shared
 * label list; voxels of a label in neither map count as agreement only when both maps exist).
 */
export function scoreAgainst(ref: Extracted, cand: Extracted, labels: readonly string[]): Score[] {
  const scores: Score[] = [];
  const scopes = new Set([...ref.tags.keys(), ...cand.tags.keys()]);
  for (const scope of scopes) {
    const r = ref.tags.get(scope) ?? new Set<string>();
    const c = cand.tags.get(scope) ?? new Set<string>();
    for (const label of new Set([...r, ...c])) scores.push({ metric: 'tags', label, value: r.has(label) === c.has(label) ? 1 : 0, n: 1 });
  }
  if (ref.boxes.length + cand.boxes.length > 0) {
    const s = detectionScores(matchObjects(ref.boxes, cand.boxes, boxItemIoU, 0.5));
    scores.push({ metric: 'boxF1', label: null, value: s.f1, n: s.tp + s.fp + s.fn });
  }
  if (ref.polygons.length + cand.polygons.length > 0) {
    const s = detectionScores(matchObjects(ref.polygons, cand.polygons, polygonItemIoU, 0.5));
    scores.push({ metric: 'polygonF1', label: null, value: s.f1, n: s.tp + s.fp + s.fn });
  }
  const maskLabels = new Set([...ref.masks, ...cand.masks].map((m) => m.label));
  for (const label of maskLabels) {
    const planes = new Map<string, { r?: MaskItem; c?: MaskItem }>();
    for (const m of ref.masks) if (m.label === label) planes.set(m.plane, { ...planes.get(m.plane), r: m });
    for (const m of cand.masks) if (m.label === label) planes.set(m.plane, { ...planes.get(m.plane), c: m });
    const parts = [...planes.values()];
    const total = parts.reduce((s, p) => s + (p.r ?? p.c)!.data.length, 0);
    const a = new Uint8Array(total);
    const b = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      const len = (p.r ?? p.c)!.data.length;
      if (p.r && p.c && p.r.data.length !== p.c.data.length) throw new QualityInputError('Masks being compared have different sizes.');
      if (p.r) a.set(p.r.data, at);
      if (p.c) b.set(p.c.data, at);
      at += len;
    }
    scores.push({ metric: 'dice', label, value: dice({ data: a, shape: [total, 1] }, { data: b, shape: [total, 1] }), n: 1 });
  }
  if (ref.labelmap || cand.labelmap) {
    const len = (ref.labelmap ?? cand.labelmap)!.length;
    const zero = new Uint8Array(len);
    const rm = ref.labelmap ?? zero;
    const cm = cand.labelmap ?? zero;
    if (rm.length !== cm.length) throw new QualityInputError('Label maps being compared have different shapes.');
    labels.forEach((label, i) => {
      const a = labelMask({ data: rm, shape: [len, 1] }, i + 1);
      const b = labelMask({ data: cm, shape: [len, 1] }, i + 1);
      scores.push({ metric: 'dice', label, value: dice(a, b), n: 1 });
    });
  }
  return scores;
}
