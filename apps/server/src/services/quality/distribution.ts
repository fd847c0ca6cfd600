// How new jobs are laid out: replicas of each chunk of free assets for `overlap` different
// annotators, and hidden ground-truth items (honeypots) mixed into each job.
import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import { unprocessable } from '../../errors.js';

export interface PlannedJob {
  /** index of the chunk of free assets */
  chunk: number;
  /** replica number 0..overlap-1 */
  replica: number;
  assigneeId: string | null;
}

/**
 * Checks the assignees for an overlap: distinct ids, and at least `overlap` of them when
 * overlap > 1 (422 otherwise).
 */
export function checkAssignees(overlap: number, assignees: readonly string[]): void {
  if (new Set(assignees).size !== assignees.length) throw unprocessable('Each assignee may be listed once.', { errors: [{ path: 'assigneeIds', message: 'duplicate ids' }] });
  if (overlap > 1 && assignees.length < overlap) {
    throw unprocessable(`This task gives every item to ${overlap} annotators, so at least ${overlap} different assignees are needed (got ${assignees.length}).`, {
      errors: [{ path: 'assigneeIds', message: `need at least ${overlap}` }],
    });
  }
}

/**
 * Jobs for `chunks` chunks with `overlap` replicas each: chunk c, replica r goes to assignee
 * (c + r) mod M, so the replicas of a chunk have different assignees (overlap ≤ M) and the work
 * spreads evenly. Without assignees, jobs are unassigned (only possible with overlap 1).
 */
export function planJobs(chunks: number, overlap: number, assignees: readonly string[]): PlannedJob[] {
  const out: PlannedJob[] = [];
  const m = assignees.length;
  for (let c = 0; c < chunks; c++) for (let r = 0; r < overlap; r++) out.push({ chunk: c, replica: r, assigneeId: m ? assignees[(c + r) % m]! : null });
  return out;
}

/** How many honeypots a job of `size` items gets: round(p % × size), at least 1 when p > 0. */
export const honeypotCount = (percent: number, size: number) => (percent > 0 ? Math.max(1, Math.round((percent / 100) * size)) : 0);

/** Ground-truth assets of a task, for honeypot placement. */
export async function groundTruthIds(trx: Kysely<Database>, taskId: string): Promise<string[]> {
  return (await trx.selectFrom('ground_truth').select('asset_id').where('task_id', '=', taskId).orderBy('asset_id').execute()).map((r) => r.asset_id);
}

/**
 * Inserts the job's items: `assetIds` in order plus up to `honeypotCount` ground-truth assets
 * (chosen at random among those neither in this job nor already held by the assignee in any
 * job) at random positions, flagged honeypot = 1. Returns the number of honeypots placed.
 */
export async function insertJobItems(
  trx: Kysely<Database>,
  job: { id: string; assigneeId: string | null },
  assetIds: readonly string[],
  honeypot: { percent: number; groundTruth: readonly string[] },
): Promise<number> {
  const items: { asset_id: string; honeypot: number }[] = assetIds.map((a) => ({ asset_id: a, honeypot: 0 }));
  let placed = 0;
  const want = honeypot.groundTruth.length ? honeypotCount(honeypot.percent, assetIds.length) : 0;
  if (want > 0) {
    const held = new Set(assetIds);
    if (job.assigneeId) {
      const rows = await trx.selectFrom('job_assets').innerJoin('jobs', 'jobs.id', 'job_assets.job_id').select('job_assets.asset_id').where('jobs.assignee_id', '=', job.assigneeId).execute();
      for (const r of rows) held.add(r.asset_id);
    }
    const pool = honeypot.groundTruth.filter((a) => !held.has(a));
    for (let i = 0; i < want && pool.length > 0; i++) {
      const pick = pool.splice(randomInt(pool.length), 1)[0]!;
      items.splice(randomInt(items.length + 1), 0, { asset_id: pick, honeypot: 1 });
      placed++;
    }
  }
  if (items.length) await trx.insertInto('job_assets').values(items.map((it, position) => ({ job_id: job.id, asset_id: it.asset_id, position, honeypot: it.honeypot }))).execute();
  return placed;
}
