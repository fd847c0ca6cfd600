// Pure parts of the side-by-side disagreement view: the rows of the Raters panel (colour, name,
// object count, STAPLE estimates from the consensus result) and the outline of a label-map
// plane as pixel-edge segments.

import type { AnyObject, ReplicasView } from '../../types';

/** Rater colours: bright, far from each other and from the usual label colours' reds/greens. */
export const RATER_COLORS = ['#ff3bd4', '#00e5ff', '#ffe600', '#ff8a00', '#8c7bff', '#7dff6b', '#ff7aa8', '#00ffb3', '#c7a0ff', '#b0ff00', '#ffb86b'] as const;
/** The consensus is drawn in white. */
export const CONSENSUS_COLOR = '#ffffff';
/** Visibility key of the consensus row (rater rows use their job id). */
export const CONSENSUS_KEY = 'consensus';

/** One row of the Raters panel and one layer of the overlay. */
export interface RaterRow {
  /** rater's job id, or CONSENSUS_KEY */
  key: string;
  name: string;
  color: string;
  objects: readonly AnyObject[];
  /** objects other than tags */
  count: number;
  /** STAPLE estimates of this rater's label map against the consensus, when the consensus has them */
  staple: { sensitivity: Record<string, number>; specificity: number } | null;
}

interface StapleResult {
  raters?: { jobId?: unknown }[];
  labelmap?: { sensitivity?: Record<string, number>[]; specificity?: number[] };
}

const countOf = (objects: readonly AnyObject[]) => objects.filter((o) => o.kind !== 'tag').length;

/**
 * The panel rows for a replicas response: raters in the server's order with colours by
 * position ("Rater n" when the annotator has no name), then the consensus when there is one.
 */
export function raterRows(view: ReplicasView): RaterRow[] {
  const result = (view.consensus?.result ?? null) as StapleResult | null;
  const order = Array.isArray(result?.raters) ? result.raters.map((r) => r.jobId) : [];
  const lm = result?.labelmap;
  const rows: RaterRow[] = view.raters.map((r, i) => {
    const at = order.indexOf(r.jobId);
    const sens = at >= 0 ? lm?.sensitivity?.[at] : undefined;
    const spec = at >= 0 ? lm?.specificity?.[at] : undefined;
    return {
      key: r.jobId,
      name: r.annotatorName || `Rater ${i + 1}`,
      color: RATER_COLORS[i % RATER_COLORS.length]!,
      objects: r.document.objects,
      count: countOf(r.document.objects),
      staple: sens && typeof spec === 'number' ? { sensitivity: sens, specificity: spec } : null,
    };
  });
  if (view.consensus) {
    rows.push({ key: CONSENSUS_KEY, name: 'Consensus', color: CONSENSUS_COLOR, objects: view.consensus.document.objects, count: countOf(view.consensus.document.objects), staple: null });
  }
  return rows;
}

/** "Se 0.93 · Sp 1.00" (one label) or "Se Liver 0.93, Tumor 0.81 · Sp 1.00". */
export function stapleText(s: NonNullable<RaterRow['staple']>): string {
  const entries = Object.entries(s.sensitivity);
  const se = entries.length === 1 ? entries[0]![1].toFixed(2) : entries.map(([l, v]) => `${l} ${v.toFixed(2)}`).join(', ');
  return `Se ${se} · Sp ${s.specificity.toFixed(2)}`;
}

/** All on when any is off, otherwise all off. */
export function toggleAll(keys: readonly string[], visible: ReadonlySet<string>): Set<string> {
  return keys.every((k) => visible.has(k)) ? new Set() : new Set(keys);
}

/**
 * The boundary of the labelled regions of a plane (row-major, width × height, 0 = background)
 * as line segments along pixel edges in plane coordinates: [x0, y0, x1, y1, …]. An edge is on
 * the boundary when the pixels on its two sides differ and one of them is labelled (the image
 * border counts as background). Collinear neighbouring edges are merged into one segment.
 */
export function boundarySegments(plane: ArrayLike<number>, width: number, height: number): number[] {
  const out: number[] = [];
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= width || y >= height ? 0 : plane[y * width + x]!);
  // Horizontal edges: the line y between rows y-1 and y.
  for (let y = 0; y <= height; y++) {
    let start = -1;
    for (let x = 0; x <= width; x++) {
      const a = x < width ? at(x, y - 1) : 0;
      const b = x < width ? at(x, y) : 0;
      const edge = x < width && a !== b;
      if (edge && start < 0) start = x;
      else if (!edge && start >= 0) {
        out.push(start, y, x, y);
        start = -1;
      }
    }
  }
  // Vertical edges: the line x between columns x-1 and x.
  for (let x = 0; x <= width; x++) {
    let start = -1;
    for (let y = 0; y <= height; y++) {
      const a = y < height ? at(x - 1, y) : 0;
      const b = y < height ? at(x, y) : 0;
      const edge = y < height && a !== b;
      if (edge && start < 0) start = y;
      else if (!edge && start >= 0) {
        out.push(x, start, x, y);
        start = -1;
      }
    }
  }
  return out;
}
