// The consensus of an item's replicas as a document plus what the consensus step found
// (pure given the extracted replicas; the label map is returned as samples, the caller stores it).
import {
  type AnnotationObject,
  encodeRle,
  majorityTags,
  meanBox,
  medoidIndex,
  polygonIoU,
  shapeConsensus,
  stapleBinary,
  stapleMultiLabel,
} from '@caliper/core';
import { boxItemIoU, type Extracted, polygonItemIoU, type ShapeItem } from './compute.js';

export interface RaterInfo {
  jobId: string;
  annotatorId: string | null;
}

export interface ConsensusObjectInfo {
  kind: string;
  label: string;
  votes: number;
  score: number;
  /** the raters' objects in the cluster (jobId, object id) */
  members?: { jobId: string; objectId: string }[];
}

export interface ConsensusResult {
  raters: (RaterInfo & { tags: Record<string, string[]> })[];
  tags: { scope: string; labels: string[]; ties: string[]; votes: Record<string, number> }[];
  /** true when any tag label was given by exactly half of the raters (left out) */
  tie: boolean;
  objects: Record<string, ConsensusObjectInfo>;
  /** STAPLE per rater (same order as raters) for the label map: sensitivity per label, specificity of background */
  labelmap?: { labels: string[]; sensitivity: Record<string, number>[]; specificity: number[]; iterations: number; converged: boolean };
  /** STAPLE per mask label and plane: sensitivity and specificity per rater */
  masks?: { label: string; plane: string; sensitivity: number[]; specificity: number[] }[];
}

export interface BuiltConsensus {
  objects: AnnotationObject[];
  result: ConsensusResult;
  /** consensus label map samples in the shared label space (null without label maps) */
  labelmap: Int32Array | null;
  /** the Extracted view of the consensus (for scoring) without the label map */
  extracted: Extracted;
}

/** The most frequent attribute set (by JSON text; the first on ties). */
function majorityAttributes(sets: Record<string, unknown>[]): Record<string, unknown> {
  const counts = new Map<string, { n: number; value: Record<string, unknown> }>();
  for (const s of sets) {
    const k = JSON.stringify(s);
    const c = counts.get(k);
    if (c) c.n++;
    else counts.set(k, { n: 1, value: s });
  }
  let best: { n: number; value: Record<string, unknown> } | undefined;
  for (const c of counts.values()) if (!best || c.n > best.n) best = c;
  return best?.value ?? {};
}

const parsePlane = (plane: string): { slice?: number; frame?: number } =>
  plane.startsWith('s') ? { slice: Number(plane.slice(1)) } : plane.startsWith('f') ? { frame: Number(plane.slice(1)) } : {};

/**
 * Builds the consensus: majority tags per scope, clustered boxes (mean box) and polygons
 * (medoid), STAPLE for 2D masks (binary, per label and plane) and label maps (multi-label over
 * the shared label space `labels`). `stamp` is used as createdAt/updatedAt so a re-run on the
 * same inputs gives the same document.
 */
export function buildConsensus(raters: readonly RaterInfo[], docs: readonly Extracted[], labels: readonly string[], stamp: string, createdBy: string): BuiltConsensus {
  const n = docs.length;
  const objects: AnnotationObject[] = [];
  const common = { attributes: {} as Record<string, unknown>, source: 'consensus' as const, createdBy, createdAt: stamp, updatedAt: stamp };
  const result: ConsensusResult = {
    raters: raters.map((r, i) => ({ ...r, tags: Object.fromEntries([...docs[i]!.tags].map(([k, v]) => [k, [...v].sort()])) })),
    tags: [],
    tie: false,
    objects: {},
  };
  const extracted: Extracted = { tags: new Map(), tagAttributes: new Map(), boxes: [], polygons: [], masks: [], labelmap: null };

  // Tags: majority per scope.
  const scopes = [...new Set(docs.flatMap((d) => [...d.tags.keys()]))].sort();
  let t = 0;
  for (const scope of scopes) {
    const m = majorityTags(docs.map((d) => [...(d.tags.get(scope) ?? [])]));
    result.tags.push({ scope, labels: m.labels, ties: m.ties, votes: m.votes });
    if (m.ties.length) result.tie = true;
    if (m.labels.length) extracted.tags.set(scope, new Set(m.labels));
    for (const label of m.labels) {
      const id = `consensus-tag-${++t}`;
      const attrs = majorityAttributes(docs.flatMap((d) => (d.tags.get(scope)?.has(label) ? [d.tagAttributes.get(scope)?.get(label) ?? {}] : [])));
      objects.push({ ...common, id, kind: 'tag', label, attributes: attrs, scope: JSON.parse(scope) as never } as AnnotationObject);
      result.objects[id] = { kind: 'tag', label, votes: m.votes[label] ?? 0, score: (m.votes[label] ?? 0) / n };
    }
  }

  // Boxes and polygons: clusters by label and plane (cross-label/plane IoU is 0).
  const shapes = <G>(kind: 'box' | 'polygon', pick: (d: Extracted) => ShapeItem<G>[], iou: (a: ShapeItem<G>, b: ShapeItem<G>) => number, make: (members: ShapeItem<G>[]) => G) => {
    const lists = docs.map(pick);
    let k = 0;
    for (const c of shapeConsensus(lists, iou, 0.5)) {
      const members = c.members.map((m) => lists[m.rater]![m.index]!);
      const first = members[0]!;
      const geometry = make(members);
      const medoid = members[medoidIndex(members, iou)]!;
      const id = `consensus-${kind}-${++k}`;
      const item: ShapeItem<G> = { label: first.label, plane: first.plane, geometry, id, attributes: medoid.attributes };
      const geo = kind === 'box' ? (geometry as object) : { points: geometry };
      objects.push({ ...common, id, kind, label: first.label, attributes: medoid.attributes, ...geo, ...parsePlane(first.plane) } as AnnotationObject);
      result.objects[id] = {
        kind,
        label: first.label,
        votes: c.votes,
        score: c.score,
        members: c.members.map((m) => ({ jobId: raters[m.rater]!.jobId, objectId: lists[m.rater]![m.index]!.id })),
      };
      (kind === 'box' ? extracted.boxes : extracted.polygons).push(item as never);
    }
  };
  shapes('box', (d) => d.boxes, boxItemIoU, (ms) => meanBox(ms.map((m) => m.geometry)));
  shapes('polygon', (d) => d.polygons, polygonItemIoU, (ms) => ms[medoidIndex(ms.map((m) => m.geometry), polygonIoU)]!.geometry);

  // 2D masks: binary STAPLE per label and plane; a rater without that mask counts as empty.
  const groups = new Map<string, { label: string; plane: string; height: number; width: number }>();
  for (const d of docs) for (const m of d.masks) groups.set(`${m.label}\u0000${m.plane}`, { label: m.label, plane: m.plane, height: m.height, width: m.width });
  let mk = 0;
  for (const g of groups.values()) {
    const inputs = docs.map((d) => d.masks.find((m) => m.label === g.label && m.plane === g.plane)?.data ?? new Uint8Array(g.height * g.width));
    const s = stapleBinary(inputs);
    (result.masks ??= []).push({ label: g.label, plane: g.plane, sensitivity: s.sensitivity, specificity: s.specificity });
    if (!s.consensus.some((v) => v !== 0)) continue;
    const id = `consensus-mask-${++mk}`;
    objects.push({ ...common, id, kind: 'mask', label: g.label, rle: encodeRle(s.consensus, g.height, g.width), ...parsePlane(g.plane) } as AnnotationObject);
    result.objects[id] = { kind: 'mask', label: g.label, votes: n, score: 1 };
    extracted.masks.push({ label: g.label, plane: g.plane, height: g.height, width: g.width, data: s.consensus });
  }

  // Label maps: multi-label STAPLE over the shared label space; raters without one count as empty.
  let labelmap: Int32Array | null = null;
  const withMap = docs.find((d) => d.labelmap);
  if (withMap?.labelmap) {
    const len = withMap.labelmap.length;
    const inputs = docs.map((d) => d.labelmap ?? new Uint8Array(len));
    const s = stapleMultiLabel(inputs);
    labelmap = s.consensus;
    const sensitivity = inputs.map((_, i) => {
      const rec: Record<string, number> = {};
      s.labels.forEach((v, si) => {
        if (v > 0) rec[labels[v - 1] ?? String(v)] = s.confusion[i]?.[si]?.[si] ?? 0;
      });
      return rec;
    });
    const bg = s.labels.indexOf(0);
    const specificity = inputs.map((_, i) => (bg >= 0 ? (s.confusion[i]?.[bg]?.[bg] ?? 1) : 1));
    result.labelmap = { labels: [...labels], sensitivity, specificity, iterations: s.iterations, converged: s.converged };
  }
  return { objects, result, labelmap, extracted };
}
