// quality_scores rows: written for one item at a time, old rows of the same kind removed first.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import type { Score } from './compute.js';

export interface ScoreOwner {
  projectId: string;
  taskId: string;
  assetId: string;
  jobId: string;
  annotatorId: string | null;
}

/** Inserts the scores of one annotator's document of an item (inside the caller's transaction). */
export async function insertScores(trx: Kysely<Database>, owner: ScoreOwner, kind: 'agreement' | 'accuracy', scores: readonly Score[], computedAt: string): Promise<number> {
  if (scores.length === 0) return 0;
  await trx
    .insertInto('quality_scores')
    .values(
      scores.map((s) => ({
        id: randomUUID(),
        project_id: owner.projectId,
        task_id: owner.taskId,
        asset_id: owner.assetId,
        job_id: owner.jobId,
        annotator_id: owner.annotatorId,
        kind,
        metric: s.metric,
        label: s.label,
        value: Number.isFinite(s.value) ? s.value : 0,
        n: s.n,
        computed_at: computedAt,
      })),
    )
    .execute();
  return scores.length;
}
