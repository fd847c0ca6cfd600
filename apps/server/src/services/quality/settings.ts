// Task quality settings (overlap, honeypot share) and ground truth marks.
import type { Actor, Deps } from '../../deps.js';
import { conflict, notFound, unprocessable } from '../../errors.js';
import { requireJob, requireProject, requireTask } from '../../policy.js';
import { appendAudit } from '../audit.js';

export interface QualitySettings {
  taskId: string;
  overlap: number;
  honeypotPercent: number;
}

/** The task's overlap and honeypot share (quality.read). */
export async function getQualitySettings(deps: Deps, actor: Actor, taskId: string): Promise<QualitySettings> {
  const { task } = await requireTask(deps.db, actor, taskId, 'quality.read');
  return { taskId, overlap: Number(task.overlap), honeypotPercent: Number(task.honeypot_percent) };
}

/** Changes overlap (1–11) and/or honeypot share (0–50 %); applies to jobs created afterwards. */
export async function updateQualitySettings(deps: Deps, actor: Actor, taskId: string, patch: { overlap?: number; honeypotPercent?: number }): Promise<QualitySettings> {
  const { task } = await requireTask(deps.db, actor, taskId, 'quality.manage');
  const overlap = patch.overlap ?? Number(task.overlap);
  const honeypotPercent = patch.honeypotPercent ?? Number(task.honeypot_percent);
  if (!Number.isInteger(overlap) || overlap < 1 || overlap > 11) throw unprocessable('overlap must be a whole number from 1 to 11.', { errors: [{ path: 'overlap', message: 'out of range' }] });
  if (!Number.isInteger(honeypotPercent) || honeypotPercent < 0 || honeypotPercent > 50) {
    throw unprocessable('honeypotPercent must be a whole number from 0 to 50.', { errors: [{ path: 'honeypotPercent', message: 'out of range' }] });
  }
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('tasks').set({ overlap, honeypot_percent: honeypotPercent }).where('id', '=', taskId).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'task.quality', targetType: 'task', targetId: taskId, ip: actor.ip, details: { overlap, honeypotPercent } });
  });
  return { taskId, overlap, honeypotPercent };
}

export interface GroundTruthView {
  assetId: string;
  assetName: string;
  taskId: string;
  jobId: string;
  revision: number;
  createdBy: string;
  createdAt: string;
}

/**
 * Marks the current documents of a job's regular items (all, or `assetIds`) as ground truth
 * (manager). The job must be completed or in the acceptance stage, and each item must have a
 * saved document. A new mark of an asset replaces its old one.
 */
export async function markGroundTruth(deps: Deps, actor: Actor, jobId: string, assetIds?: readonly string[]): Promise<{ marked: number }> {
  const { job } = await requireJob(deps.db, actor, jobId, 'read');
  await requireProject(deps.db, actor, job.project_id, 'quality.manage');
  if (job.kind !== 'annotation') throw conflict('Only annotation jobs can provide ground truth.');
  if (job.state !== 'completed' && job.stage !== 'acceptance') throw conflict('Ground truth can only come from a completed job or one in the acceptance stage.');
  const rows = await deps.db
    .selectFrom('job_assets as ja')
    .leftJoin('annotation_docs as d', (j) => j.onRef('d.job_id', '=', 'ja.job_id').onRef('d.asset_id', '=', 'ja.asset_id'))
    .select(['ja.asset_id', 'd.revision'])
    .where('ja.job_id', '=', jobId)
    .where('ja.honeypot', '=', 0)
    .execute();
  const wanted = assetIds ? new Set(assetIds) : null;
  if (wanted) {
    const inJob = new Set(rows.map((r) => r.asset_id));
    const missing = [...wanted].filter((a) => !inJob.has(a));
    if (missing.length) throw unprocessable('Some assets are not items of this job.', { errors: missing.map((a) => ({ path: 'assetIds', message: `not in this job: ${a}` })) });
  }
  const chosen = rows.filter((r) => !wanted || wanted.has(r.asset_id));
  const unsaved = chosen.filter((r) => !r.revision);
  if (unsaved.length) throw unprocessable('Some items have no saved annotations to use as ground truth.', { errors: unsaved.map((r) => ({ path: 'assetIds', message: `no document: ${r.asset_id}` })) });
  if (chosen.length === 0) throw unprocessable('The job holds no items to mark.');
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    for (const r of chosen) {
      const row = { asset_id: r.asset_id, project_id: job.project_id, task_id: job.task_id, job_id: jobId, revision: Number(r.revision), created_by: actor.id, created_at: now };
      await trx
        .insertInto('ground_truth')
        .values(row)
        .onConflict((oc) => oc.column('asset_id').doUpdateSet({ task_id: row.task_id, job_id: row.job_id, revision: row.revision, created_by: row.created_by, created_at: row.created_at }))
        .execute();
    }
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'groundtruth.mark', targetType: 'job', targetId: jobId, ip: actor.ip, details: { assets: chosen.length } });
  });
  return { marked: chosen.length };
}

/** Removes an asset's ground-truth mark (manager); honeypot placements already made stay. */
export async function unmarkGroundTruth(deps: Deps, actor: Actor, assetId: string): Promise<void> {
  const asset = await deps.db.selectFrom('assets').select(['id', 'project_id']).where('id', '=', assetId).executeTakeFirst();
  if (!asset) throw notFound('Asset');
  await requireProject(deps.db, actor, asset.project_id, 'quality.manage');
  await deps.db.transaction().execute(async (trx) => {
    const res = await trx.deleteFrom('ground_truth').where('asset_id', '=', assetId).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw notFound('Ground truth of this asset');
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'groundtruth.unmark', targetType: 'asset', targetId: assetId, ip: actor.ip, details: {} });
  });
}

/** The ground-truth items of a task (quality.read). */
export async function listGroundTruth(deps: Deps, actor: Actor, taskId: string): Promise<GroundTruthView[]> {
  await requireTask(deps.db, actor, taskId, 'quality.read');
  const rows = await deps.db
    .selectFrom('ground_truth as g')
    .innerJoin('assets', 'assets.id', 'g.asset_id')
    .select(['g.asset_id', 'assets.name', 'g.task_id', 'g.job_id', 'g.revision', 'g.created_by', 'g.created_at'])
    .where('g.task_id', '=', taskId)
    .orderBy('assets.name')
    .execute();
  return rows.map((r) => ({ assetId: r.asset_id, assetName: r.name, taskId: r.task_id, jobId: r.job_id, revision: Number(r.revision), createdBy: r.created_by, createdAt: r.created_at }));
}
