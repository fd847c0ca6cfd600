// The replicas of one item side by side (GET /api/jobs/{id}/assets/{assetId}/replicas): every
// annotator's current document of an asset that overlap put into several annotation jobs, and
// the consensus document with what the consensus step found. Reviewers and managers only.
import type { AnnotationDocument } from '@caliper/core';
import type { Actor, Deps } from '../../deps.js';
import { notFound } from '../../errors.js';
import { requireJobAsset, roleAllows } from '../../policy.js';
import type { ConsensusResult } from './build.js';
import { loadDocument } from './documents.js';

/** One annotator's head document of the item. */
export interface RaterReplica {
  jobId: string;
  annotatorId: string | null;
  annotatorName: string | null;
  /** 0 when the annotator saved nothing */
  revision: number;
  document: AnnotationDocument;
}

/** The consensus document of the item and the consensus step's findings. */
export interface ConsensusReplica {
  jobId: string;
  revision: number;
  document: AnnotationDocument;
  result: ConsensusResult;
}

export interface ReplicasView {
  raters: RaterReplica[];
  consensus: ConsensusReplica | null;
}

/**
 * The replicas of `assetId` seen from job `jobId` (which must hold the asset): the head
 * documents of the annotation jobs of the asset's task holding it as a regular item (honeypot
 * placements excluded; job creation order) and the consensus when it is done. Needs
 * 'quality.read' on the project; callers without it, and assets in fewer than two such jobs,
 * get 404 so that neither the replicas nor their existence leak.
 */
export async function listReplicas(deps: Deps, actor: Actor, jobId: string, assetId: string): Promise<ReplicasView> {
  const { role, job } = await requireJobAsset(deps.db, actor, jobId, assetId, 'read');
  if (!roleAllows(role, 'quality.read')) throw notFound('Replicas of this asset');
  const asset = await deps.db.selectFrom('assets').select(['task_id', 'project_id']).where('id', '=', assetId).executeTakeFirst();
  if (!asset?.task_id || asset.project_id !== job.project_id) throw notFound('Replicas of this asset');
  const rows = await deps.db
    .selectFrom('job_assets as ja')
    .innerJoin('jobs', 'jobs.id', 'ja.job_id')
    .leftJoin('users', 'users.id', 'jobs.assignee_id')
    .leftJoin('annotation_docs as d', (j) => j.onRef('d.job_id', '=', 'ja.job_id').onRef('d.asset_id', '=', 'ja.asset_id'))
    .leftJoin('annotation_revisions as r', (j) => j.onRef('r.job_id', '=', 'd.job_id').onRef('r.asset_id', '=', 'd.asset_id').onRef('r.revision', '=', 'd.revision'))
    .select(['jobs.id', 'jobs.assignee_id', 'users.name as user_name', 'd.revision', 'r.document'])
    .where('ja.asset_id', '=', assetId)
    .where('ja.honeypot', '=', 0)
    .where('jobs.kind', '=', 'annotation')
    .where('jobs.task_id', '=', asset.task_id)
    .orderBy('jobs.created_at')
    .orderBy('jobs.id')
    .execute();
  if (rows.length < 2) throw notFound('Replicas of this asset');
  const raters: RaterReplica[] = rows.map((r) => ({
    jobId: r.id,
    annotatorId: r.assignee_id,
    annotatorName: r.user_name ?? null,
    revision: r.revision ?? 0,
    document: r.document ? (JSON.parse(r.document) as AnnotationDocument) : { objects: [] },
  }));
  const item = await deps.db
    .selectFrom('consensus_items')
    .select(['job_id', 'result'])
    .where('task_id', '=', asset.task_id)
    .where('asset_id', '=', assetId)
    .where('state', '=', 'done')
    .executeTakeFirst();
  let consensus: ConsensusReplica | null = null;
  if (item?.job_id) {
    const result = JSON.parse(item.result) as ConsensusResult & { revision?: number };
    const doc = await loadDocument(deps.db, item.job_id, assetId, typeof result.revision === 'number' ? result.revision : undefined);
    if (doc) consensus = { jobId: item.job_id, revision: doc.revision, document: doc.document, result };
  }
  return { raters, consensus };
}
