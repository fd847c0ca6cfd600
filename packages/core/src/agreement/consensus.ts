/**
 * Consensus of several raters' annotations of one item (pure functions, any modality).
 *
 * - Tags: {@link majorityTags} — a label is in the consensus when MORE than half of the raters
 *   gave it. Tie rule: a label given by exactly half of the raters (only possible with an even
 *   number of raters) is NOT included and is reported in `ties`, so the item can be flagged.
 * - Shapes (boxes, polygons, anything with a pairwise IoU): {@link clusterObjects} groups the
 *   raters' objects into clusters holding at most one object per rater. Raters are taken in
 *   order; rater 0's objects seed the clusters; each later rater's objects are assigned to the
 *   existing clusters by an optimal one-to-one assignment (Hungarian algorithm,
 *   `maxWeightAssignment`) maximising the total of "mean IoU of the object to the cluster's
 *   members", where only pairs whose mean IoU is ≥ the threshold (default 0.5) may be paired;
 *   unassigned objects start new clusters. {@link shapeConsensus} keeps clusters voted for by
 *   MORE than half of the raters (votes > raters / 2) and scores them votes / raters.
 * - Geometry of a kept cluster: {@link meanBox} (coordinate-wise mean of the members' boxes) for
 *   boxes, {@link medoidIndex} (the member with the highest mean IoU to the other members; the
 *   first such member on ties) for polygons and other shapes that cannot be averaged.
 */
import { type Box, maxWeightAssignment } from './matching.js';

export interface TagMajority {
  /** Labels given by more than half of the raters, in first-seen order. */
  labels: string[];
  /** Labels given by exactly half of the raters (not included), in first-seen order. */
  ties: string[];
  /** Raters who gave each label (a rater counts once per label). */
  votes: Record<string, number>;
  raters: number;
}

/**
 * Majority vote per label over the raters' tag label lists (`raters[r]` = labels rater r gave;
 * duplicates within a rater count once). See the module documentation for the tie rule.
 * @throws RangeError when there are no raters.
 */
export function majorityTags(raters: readonly (readonly string[])[]): TagMajority {
  if (raters.length === 0) throw new RangeError('majorityTags needs at least one rater');
  const votes = new Map<string, number>();
  for (const labels of raters) for (const l of new Set(labels)) votes.set(l, (votes.get(l) ?? 0) + 1);
  const n = raters.length;
  const labels: string[] = [];
  const ties: string[] = [];
  for (const [l, v] of votes) {
    if (2 * v > n) labels.push(l);
    else if (2 * v === n) ties.push(l);
  }
  return { labels, ties, votes: Object.fromEntries(votes), raters: n };
}

/** One object of a cluster: which rater, and its index in that rater's list. */
export interface ClusterMember {
  rater: number;
  index: number;
}

export interface ObjectCluster {
  /** Members sorted by rater; at most one per rater. */
  members: ClusterMember[];
}

/**
 * Clusters the raters' objects (`raters[r]` = rater r's objects, all of one label) by IoU with at
 * most one object per rater per cluster; see the module documentation for the algorithm.
 * Clusters are returned in creation order (rater 0's objects first).
 */
export function clusterObjects<T>(raters: readonly (readonly T[])[], iouOf: (a: T, b: T) => number, threshold = 0.5): ObjectCluster[] {
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`threshold must be in (0, 1], got ${threshold}`);
  const clusters: { members: ClusterMember[]; objects: T[] }[] = [];
  raters.forEach((objects, r) => {
    const weights = objects.map((o) =>
      clusters.map((c) => {
        const mean = c.objects.reduce((s, m) => s + iouOf(o, m), 0) / c.objects.length;
        return mean >= threshold ? mean : 0;
      }),
    );
    const assigned = clusters.length > 0 ? maxWeightAssignment(weights) : [];
    const taken = new Set<number>();
    for (const [i, j] of assigned) {
      const c = clusters[j];
      const o = objects[i];
      if (!c || o === undefined) continue;
      c.members.push({ rater: r, index: i });
      c.objects.push(o);
      taken.add(i);
    }
    objects.forEach((o, i) => {
      if (!taken.has(i)) clusters.push({ members: [{ rater: r, index: i }], objects: [o] });
    });
  });
  return clusters.map((c) => ({ members: c.members }));
}

export interface ShapeConsensusCluster extends ObjectCluster {
  votes: number;
  /** votes / raters */
  score: number;
}

/**
 * The clusters of {@link clusterObjects} that MORE than half of the raters voted for
 * (votes > raters / 2), each with its votes and score = votes / raters.
 */
export function shapeConsensus<T>(raters: readonly (readonly T[])[], iouOf: (a: T, b: T) => number, threshold = 0.5): ShapeConsensusCluster[] {
  const n = raters.length;
  return clusterObjects(raters, iouOf, threshold)
    .filter((c) => 2 * c.members.length > n)
    .map((c) => ({ ...c, votes: c.members.length, score: c.members.length / n }));
}

/** Coordinate-wise mean of boxes (x, y, width, height). @throws RangeError for no boxes. */
export function meanBox(boxes: readonly Box[]): Box {
  if (boxes.length === 0) throw new RangeError('meanBox needs at least one box');
  const mean = (f: (b: Box) => number) => boxes.reduce((s, b) => s + f(b), 0) / boxes.length;
  return { x: mean((b) => b.x), y: mean((b) => b.y), width: mean((b) => b.width), height: mean((b) => b.height) };
}

/**
 * Index of the member with the highest mean IoU to the other members (the first on ties; 0 for
 * a single member). @throws RangeError for no members.
 */
export function medoidIndex<T>(members: readonly T[], iouOf: (a: T, b: T) => number): number {
  if (members.length === 0) throw new RangeError('medoidIndex needs at least one member');
  let best = 0;
  let bestScore = -Infinity;
  members.forEach((m, i) => {
    let s = 0;
    members.forEach((o, j) => {
      if (i !== j) s += iouOf(m, o);
    });
    const score = members.length > 1 ? s / (members.length - 1) : 1;
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  });
  return best;
}
