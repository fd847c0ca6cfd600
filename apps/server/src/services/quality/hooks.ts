// What happens when a job is completed, the manual consensus re-run, and the queue workers.
import type { Db } from '../../db/index.js';
import type { Actor, Deps } from '../../deps.js';
import { requireTask } from '../../policy.js';
import { appendAudit } from '../audit.js';
import { runAccuracy } from './accuracy.js';
import { ACCURACY_JOB, CONSENSUS_JOB, runConsensus } from './consensus.js';

/** Assets (of `assetIds`, or of the whole task) with at least two replicas, all completed. */
async function completeItems(db: Db, taskId: string, assetIds?: readonly string[]): Promise<string[]> {
  if (assetIds && assetIds.length === 0) return [];
  let q = db
    .selectFrom('job_assets as ja')
    .innerJoin('jobs', 'jobs.id', 'ja.job_id')
    .select(['ja.asset_id', (eb) => eb.fn.countAll<number>().as('replicas'), (eb) => eb.fn.sum<number>(eb.case().when('jobs.state', '=', 'completed').then(1).else(0).end()).as('done')])
    .where('jobs.task_id', '=', taskId)
    .where('jobs.kind', '=', 'annotation')
    .where('ja.honeypot', '=', 0);
  if (assetIds) q = q.where('ja.asset_id', 'in', [...assetIds]);
  const rows = await q.groupBy('ja.asset_id').execute();
  return rows.filter((r) => Number(r.replicas) >= 2 && Number(r.done) === Number(r.replicas)).map((r) => r.asset_id);
}

/**
 * Called by the jobs service when a job becomes completed: queues the consensus of each of its
 * regular items whose replicas are now all completed (tasks with overlap > 1), and the accuracy
 * of its honeypot items.
 */
export async function onJobCompleted(deps: Deps, jobId: string): Promise<void> {
  const job = await deps.db
    .selectFrom('jobs')
    .innerJoin('tasks', 'tasks.id', 'jobs.task_id')
    .select(['jobs.id', 'jobs.task_id', 'jobs.kind', 'tasks.overlap'])
    .where('jobs.id', '=', jobId)
    .executeTakeFirst();
  if (!job || job.kind !== 'annotation') return;
  const assets = await deps.db.selectFrom('job_assets').select(['asset_id', 'honeypot']).where('job_id', '=', jobId).execute();
  if (assets.some((a) => a.honeypot === 1)) await deps.queue.enqueue(ACCURACY_JOB, { jobId });
  if (Number(job.overlap) <= 1) return;
  const regular = assets.filter((a) => a.honeypot !== 1).map((a) => a.asset_id);
  for (const assetId of await completeItems(deps.db, job.task_id, regular)) await deps.queue.enqueue(CONSENSUS_JOB, { taskId: job.task_id, assetId });
}

/** Re-runs the consensus of every item of the task whose replicas are all complete (manager). */
export async function rerunConsensus(deps: Deps, actor: Actor, taskId: string): Promise<{ queued: number }> {
  await requireTask(deps.db, actor, taskId, 'quality.manage');
  const items = await completeItems(deps.db, taskId);
  for (const assetId of items) await deps.queue.enqueue(CONSENSUS_JOB, { taskId, assetId });
  await deps.db.transaction().execute(async (trx) => {
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'consensus.rerun', targetType: 'task', targetId: taskId, ip: actor.ip, details: { items: items.length } });
  });
  return { queued: items.length };
}

/** Registers the consensus and accuracy queue workers. */
export async function registerQualityWorkers(deps: Deps): Promise<void> {
  await deps.queue.work(CONSENSUS_JOB, async (job) => {
    const { taskId, assetId } = job.data;
    if (typeof taskId === 'string' && typeof assetId === 'string') await runConsensus(deps, taskId, assetId);
  });
  await deps.queue.work(ACCURACY_JOB, async (job) => {
    const { jobId } = job.data;
    if (typeof jobId === 'string') await runAccuracy(deps, jobId);
  });
}
