import type { Updateable } from 'kysely';
import { randomUUID } from 'node:crypto';
import { type AnnotationDocument, missingRequired } from '@caliper/core';
import type { JobsTable } from '../db/schema.js';
import type { Actor, Deps } from '../deps.js';
import { badRequest, conflict, forbidden, notFound, unprocessable } from '../errors.js';
import { requireJob, requireTask, roleAllows } from '../policy.js';
import { toAssetView } from './assets.js';
import { appendAudit } from './audit.js';
import { loadLabelSchema } from './projects.js';
import { checkAssignees, groundTruthIds, insertJobItems, planJobs } from './quality/distribution.js';
import { onJobCompleted } from './quality/hooks.js';

export type JobStage = JobsTable['stage'];
export type JobState = JobsTable['state'];

export interface JobView {
  id: string;
  taskId: string;
  projectId: string;
  name: string;
  assigneeId: string | null;
  assigneeName: string | null;
  stage: JobStage;
  state: JobState;
  assetCount: number;
  annotatedCount: number;
  createdAt: string;
  updatedAt: string;
}

function jobsQuery(deps: Deps) {
  return deps.db
    .selectFrom('jobs')
    .leftJoin('users', 'users.id', 'jobs.assignee_id')
    .innerJoin('tasks', 'tasks.id', 'jobs.task_id')
    .innerJoin('projects', 'projects.id', 'jobs.project_id')
    .select([
      'jobs.id',
      'jobs.task_id',
      'jobs.project_id',
      'jobs.name',
      'jobs.assignee_id',
      'users.name as assignee_name',
      'jobs.stage',
      'jobs.state',
      'jobs.created_at',
      'jobs.updated_at',
      'tasks.name as task_name',
      'projects.name as project_name',
      (eb) => eb.selectFrom('job_assets').select(eb.fn.countAll<number>().as('c')).whereRef('job_assets.job_id', '=', 'jobs.id').as('assetCount'),
      (eb) =>
        eb
          .selectFrom('annotation_docs')
          .select(eb.fn.countAll<number>().as('c'))
          .whereRef('annotation_docs.job_id', '=', 'jobs.id')
          .where('annotation_docs.object_count', '>', 0)
          .as('annotatedCount'),
    ]);
}

type JobRow = Awaited<ReturnType<ReturnType<typeof jobsQuery>['executeTakeFirstOrThrow']>>;

const toJobView = (r: JobRow): JobView => ({
  id: r.id,
  taskId: r.task_id,
  projectId: r.project_id,
  name: r.name,
  assigneeId: r.assignee_id,
  assigneeName: r.assignee_name ?? null,
  stage: r.stage,
  state: r.state,
  assetCount: Number(r.assetCount ?? 0),
  annotatedCount: Number(r.annotatedCount ?? 0),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

async function jobView(deps: Deps, id: string) {
  return toJobView(await jobsQuery(deps).where('jobs.id', '=', id).executeTakeFirstOrThrow());
}

async function assertAssignable(deps: Deps, projectId: string, userId: string) {
  const m = await deps.db
    .selectFrom('project_members')
    .innerJoin('users', 'users.id', 'project_members.user_id')
    .select(['project_members.role', 'users.active'])
    .where('project_id', '=', projectId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!m) throw unprocessable('The assignee must be a member of the project.', { errors: [{ path: 'assigneeId', message: 'not a project member' }] });
  if (!m.active) throw unprocessable('The assignee’s account is deactivated.', { errors: [{ path: 'assigneeId', message: 'deactivated account' }] });
  if (m.role === 'viewer') throw unprocessable('Viewers cannot be assigned jobs.', { errors: [{ path: 'assigneeId', message: 'viewer role' }] });
}

const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/**
 * Splits the task's assets that are in no annotation job yet into jobs of `assetsPerJob`, in
 * natural file-name order. With the task's overlap N > 1 each chunk becomes N jobs (replicas)
 * for N different `assigneeIds`; with a honeypot share, ground-truth items are mixed in
 * (services/quality/distribution.ts).
 */
export async function createJobs(deps: Deps, actor: Actor, taskId: string, input: { assetsPerJob: number; assigneeId?: string | null; assigneeIds?: string[] }) {
  const { task } = await requireTask(deps.db, actor, taskId, 'job.manage');
  const assignees = input.assigneeIds?.length ? input.assigneeIds : input.assigneeId ? [input.assigneeId] : [];
  checkAssignees(Number(task.overlap), assignees);
  for (const a of assignees) await assertAssignable(deps, task.project_id, a);
  const ids = await deps.db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('assets')
      .select(['id', 'name'])
      .where('task_id', '=', taskId)
      // Assets waiting for burned-in review, and non-image DICOM objects, are not annotated.
      .where('hold', 'is', null)
      .where('modality', '!=', 'dicom-object')
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('job_assets')
              .innerJoin('jobs', 'jobs.id', 'job_assets.job_id')
              .select('job_assets.job_id')
              .whereRef('job_assets.asset_id', '=', 'assets.id')
              .where('jobs.kind', '=', 'annotation')
              .where('job_assets.honeypot', '=', 0),
          ),
        ),
      )
      .execute();
    // Natural order of file names (scan-2 before scan-10), as CVAT and Label Studio sort.
    const free = rows.sort((x, y) => byName.compare(x.name, y.name) || (x.id < y.id ? -1 : 1));
    if (free.length === 0) throw conflict('Every asset of this task is already in a job; upload more assets first.');
    const existing = await trx.selectFrom('jobs').select((eb) => eb.fn.countAll<number>().as('c')).where('task_id', '=', taskId).executeTakeFirstOrThrow();
    let n = Number(existing.c);
    const now = deps.clock.now().toISOString();
    const created: string[] = [];
    const honeypot = { percent: Number(task.honeypot_percent), groundTruth: Number(task.honeypot_percent) > 0 ? await groundTruthIds(trx, taskId) : [] };
    let honeypots = 0;
    for (const p of planJobs(Math.ceil(free.length / input.assetsPerJob), Number(task.overlap), assignees)) {
      const id = randomUUID();
      n++;
      await trx
        .insertInto('jobs')
        .values({ id, project_id: task.project_id, task_id: taskId, name: `Job ${n}`, assignee_id: p.assigneeId, stage: 'annotation', state: 'new', created_at: now, updated_at: now })
        .execute();
      const chunk = free.slice(p.chunk * input.assetsPerJob, (p.chunk + 1) * input.assetsPerJob);
      honeypots += await insertJobItems(trx, { id, assigneeId: p.assigneeId }, chunk.map((a) => a.id), honeypot);
      created.push(id);
    }
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'job.create',
      targetType: 'task',
      targetId: taskId,
      ip: actor.ip,
      details: { jobs: created.length, assets: free.length, assigneeId: input.assigneeId ?? null, assignees: assignees.length, overlap: Number(task.overlap), honeypots },
    });
    return created;
  });
  return Promise.all(ids.map((id) => jobView(deps, id)));
}

export async function listTaskJobs(deps: Deps, actor: Actor, taskId: string) {
  const { role } = await requireTask(deps.db, actor, taskId, 'task.read');
  let q = jobsQuery(deps).where('jobs.task_id', '=', taskId);
  if (!roleAllows(role, 'job.readAll')) q = q.where('jobs.assignee_id', '=', actor.id);
  return (await q.orderBy('jobs.created_at').orderBy('jobs.name').execute()).map(toJobView);
}

export async function getJob(deps: Deps, actor: Actor, jobId: string) {
  await requireJob(deps.db, actor, jobId, 'read');
  const view = await jobView(deps, jobId);
  const assets = await deps.db
    .selectFrom('job_assets')
    .innerJoin('assets', 'assets.id', 'job_assets.asset_id')
    .leftJoin('annotation_docs', (j) => j.onRef('annotation_docs.asset_id', '=', 'assets.id').on('annotation_docs.job_id', '=', jobId))
    .selectAll('assets')
    .select(['annotation_docs.object_count', 'job_assets.position'])
    .where('job_assets.job_id', '=', jobId)
    .orderBy('job_assets.position')
    .execute();
  return {
    ...view,
    assets: assets.map((a) => ({ ...toAssetView(a), annotated: Number(a.object_count ?? 0) > 0 })),
  };
}

const ASSIGNEE_STATES: JobState[] = ['in_progress', 'completed'];

export async function updateJob(
  deps: Deps,
  actor: Actor,
  jobId: string,
  patch: { assigneeId?: string | null; stage?: JobStage; state?: JobState },
) {
  const { job, role, isAssignee } = await requireJob(deps.db, actor, jobId, 'read');
  const manager = roleAllows(role, 'job.manage');
  if (!manager) {
    if (!isAssignee) throw forbidden('Only project managers can change this job.');
    if (patch.assigneeId !== undefined || patch.stage !== undefined) throw forbidden('Only project managers can reassign a job or change its stage.');
    if (patch.state && !ASSIGNEE_STATES.includes(patch.state)) throw forbidden(`You can mark your job in progress or completed, not "${patch.state}".`);
    if (job.state === 'completed' && patch.state === 'in_progress') throw conflict('This job is already completed; ask a manager to reopen it.');
  }
  if (patch.assigneeId) await assertAssignable(deps, job.project_id, patch.assigneeId);
  if (patch.state === 'completed' && job.state !== 'completed') await assertComplete(deps, job.id, job.project_id);
  const set: Updateable<JobsTable> = { updated_at: deps.clock.now().toISOString() };
  if (patch.assigneeId !== undefined) set.assignee_id = patch.assigneeId;
  if (patch.stage !== undefined) set.stage = patch.stage;
  if (patch.state !== undefined) set.state = patch.state;
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('jobs').set(set).where('id', '=', jobId).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'job.update',
      targetType: 'job',
      targetId: jobId,
      ip: actor.ip,
      details: { assigneeId: set.assignee_id ?? null, stage: set.stage ?? null, state: set.state ?? null },
    });
  });
  if (patch.state === 'completed' && job.state !== 'completed') await onJobCompleted(deps, jobId);
  return jobView(deps, jobId);
}

/** A job can be completed when every asset has a classification and no required attribute is missing. */
async function assertComplete(deps: Deps, jobId: string, projectId: string) {
  const schema = await loadLabelSchema(deps, projectId);
  const rows = await deps.db
    .selectFrom('job_assets')
    .innerJoin('assets', 'assets.id', 'job_assets.asset_id')
    .leftJoin('annotation_docs', (j) => j.onRef('annotation_docs.asset_id', '=', 'job_assets.asset_id').on('annotation_docs.job_id', '=', jobId))
    .leftJoin('annotation_revisions as rev', (j) =>
      j.onRef('rev.job_id', '=', 'annotation_docs.job_id').onRef('rev.asset_id', '=', 'annotation_docs.asset_id').onRef('rev.revision', '=', 'annotation_docs.revision'),
    )
    .select(['assets.id', 'assets.name', 'rev.document', 'annotation_docs.object_count'])
    .where('job_assets.job_id', '=', jobId)
    .orderBy('job_assets.position')
    .execute();
  const problems: { assetId: string; path: string; message: string }[] = [];
  for (const r of rows) {
    if (!r.document || !r.object_count) {
      problems.push({ assetId: r.id, path: '', message: `"${r.name}" has no annotation yet` });
      continue;
    }
    for (const issue of missingRequired(JSON.parse(r.document) as AnnotationDocument, schema)) {
      problems.push({ assetId: r.id, path: issue.path, message: `"${r.name}": ${issue.message}` });
    }
  }
  if (problems.length) {
    throw unprocessable(
      `The job cannot be submitted yet: ${problems.length} problem${problems.length > 1 ? 's' : ''} (first: ${problems[0]?.message}).`,
      { errors: problems },
    );
  }
}

export async function myJobs(deps: Deps, actor: Actor) {
  const rows = await jobsQuery(deps).where('jobs.assignee_id', '=', actor.id).orderBy('jobs.created_at').orderBy('jobs.name').execute();
  return rows.map((r) => ({ ...toJobView(r), projectName: r.project_name, taskName: r.task_name }));
}

export async function nextJob(deps: Deps, actor: Actor) {
  const row = await jobsQuery(deps)
    .where('jobs.assignee_id', '=', actor.id)
    .where('jobs.state', 'in', ['in_progress', 'new', 'rejected'])
    .orderBy((eb) => eb.case().when('jobs.state', '=', 'in_progress').then(0).when('jobs.state', '=', 'rejected').then(1).else(2).end())
    .orderBy('jobs.created_at')
    .orderBy('jobs.name')
    .executeTakeFirst();
  if (!row) throw notFound('A job waiting for you');
  return { ...toJobView(row), projectName: row.project_name, taskName: row.task_name };
}

export function assertPositive(n: number) {
  if (!Number.isInteger(n) || n < 1) throw badRequest('assetsPerJob must be a whole number of at least 1.');
}
