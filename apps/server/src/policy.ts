import type { Db } from './db/index.js';
import type { Actor } from './deps.js';
import { conflict, forbidden, notFound } from './errors.js';

/**
 * The one place that decides access. Routes declare a route-level requirement
 * (public / user / admin); services ask this module for object-level decisions. Anything not
 * granted here is denied. Objects in projects the caller does not belong to answer 404, so
 * their existence does not leak; members lacking a permission get 403.
 */
export const PROJECT_ROLES = ['manager', 'annotator', 'reviewer', 'viewer'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

export const PROJECT_ACTIONS = {
  'project.read': ['manager', 'annotator', 'reviewer', 'viewer'],
  'project.update': ['manager'],
  'project.delete': ['manager'],
  'members.read': ['manager', 'annotator', 'reviewer', 'viewer'],
  'members.manage': ['manager'],
  'task.read': ['manager', 'annotator', 'reviewer', 'viewer'],
  'task.manage': ['manager'],
  'asset.upload': ['manager'],
  'asset.listAll': ['manager', 'reviewer', 'viewer'],
  'asset.review': ['manager', 'reviewer'],
  'job.manage': ['manager'],
  'job.readAll': ['manager', 'reviewer', 'viewer'],
  'annotation.writeAny': ['manager'],
  'data.export': ['manager'],
  'data.import': ['manager'],
  /** Accept, fix-and-accept or reject a job; write annotations of a job under review. */
  'review.act': ['manager', 'reviewer'],
  /** Open or reply to issues (annotators on their own jobs only; checked by the review service). */
  'issue.write': ['manager', 'reviewer', 'annotator'],
  /** Agreement, accuracy and consensus figures of a project (the dashboard). */
  'quality.read': ['manager', 'reviewer'],
  /** Overlap, honeypots, ground truth, consensus runs. */
  'quality.manage': ['manager'],
} as const satisfies Record<string, readonly ProjectRole[]>;
export type ProjectAction = keyof typeof PROJECT_ACTIONS;

/** Admins act as managers in every project. */
export type EffectiveRole = ProjectRole | 'admin';

export function roleAllows(role: EffectiveRole, action: ProjectAction): boolean {
  if (role === 'admin') return true;
  return (PROJECT_ACTIONS[action] as readonly ProjectRole[]).includes(role);
}

export async function projectRole(db: Db, actor: Actor, projectId: string): Promise<EffectiveRole | null> {
  const project = await db.selectFrom('projects').select('id').where('id', '=', projectId).executeTakeFirst();
  if (!project) return null;
  if (actor.systemRole === 'admin') return 'admin';
  const m = await db
    .selectFrom('project_members')
    .select('role')
    .where('project_id', '=', projectId)
    .where('user_id', '=', actor.id)
    .executeTakeFirst();
  return m?.role ?? null;
}

/** Returns the caller's role when it allows `action`; 404 for non-members, 403 for members lacking it. */
export async function requireProject(db: Db, actor: Actor, projectId: string, action: ProjectAction): Promise<EffectiveRole> {
  const role = await projectRole(db, actor, projectId);
  if (!role) throw notFound('Project');
  if (!roleAllows(role, action)) throw forbidden(`Your role in this project (${role}) does not allow this (${action}).`);
  return role;
}

export async function requireTask(db: Db, actor: Actor, taskId: string, action: ProjectAction) {
  const task = await db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
  if (!task) throw notFound('Task');
  const role = await projectRole(db, actor, task.project_id);
  if (!role) throw notFound('Task');
  if (!roleAllows(role, action)) throw forbidden(`Your role in this project (${role}) does not allow this (${action}).`);
  return { task, role };
}

export type JobAccess = 'read' | 'annotate' | 'manage';

/**
 * Job access: managers/reviewers/viewers read every job of their project; annotators only the
 * jobs assigned to them. Annotating needs to be the assignee (or a manager).
 */
export async function requireJob(db: Db, actor: Actor, jobId: string, access: JobAccess) {
  const job = await db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
  if (!job) throw notFound('Job');
  const role = await projectRole(db, actor, job.project_id);
  if (!role) throw notFound('Job');
  const isAssignee = job.assignee_id === actor.id;
  const canReadAll = roleAllows(role, 'job.readAll');
  if (!isAssignee && !canReadAll) throw notFound('Job');
  if (access === 'manage' && !roleAllows(role, 'job.manage')) {
    throw forbidden('Only project managers can change this job.');
  }
  if (access === 'annotate' && !isAssignee && !roleAllows(role, 'annotation.writeAny')) {
    throw forbidden('Only the person this job is assigned to can annotate it.');
  }
  return { job, role, isAssignee };
}

/** Asset access: roles that read all jobs see every asset; annotators only assets in their jobs. */
export async function requireAsset(db: Db, actor: Actor, assetId: string) {
  const asset = await db.selectFrom('assets').selectAll().where('id', '=', assetId).executeTakeFirst();
  if (!asset) throw notFound('Asset');
  const role = await projectRole(db, actor, asset.project_id);
  if (!role) throw notFound('Asset');
  if (roleAllows(role, 'asset.listAll')) return { asset, role };
  const assigned = await db
    .selectFrom('job_assets')
    .innerJoin('jobs', 'jobs.id', 'job_assets.job_id')
    .select('jobs.id')
    .where('job_assets.asset_id', '=', assetId)
    .where('jobs.assignee_id', '=', actor.id)
    .executeTakeFirst();
  if (!assigned) throw notFound('Asset');
  return { asset, role };
}

/** A manager of at least one project (may look up users by email to add them). */
export async function isManagerSomewhere(db: Db, actor: Actor): Promise<boolean> {
  if (actor.systemRole === 'admin') return true;
  const m = await db
    .selectFrom('project_members')
    .select('project_id')
    .where('user_id', '=', actor.id)
    .where('role', '=', 'manager')
    .executeTakeFirst();
  return Boolean(m);
}

/**
 * Job-and-asset access for the annotation routes, decided by the same rules as requireJob but
 * read in ONE query (job, project, the caller's membership, the asset's place in the job and the
 * project's label schema), because annotation saves are the hottest path of the server.
 */
export async function requireJobAsset(db: Db, actor: Actor, jobId: string, assetId: string, access: 'read' | 'annotate') {
  const row = await db
    .selectFrom('jobs')
    .innerJoin('projects as p', 'p.id', 'jobs.project_id')
    .leftJoin('project_members as m', (j) => j.onRef('m.project_id', '=', 'jobs.project_id').on('m.user_id', '=', actor.id))
    .leftJoin('job_assets as ja', (j) => j.onRef('ja.job_id', '=', 'jobs.id').on('ja.asset_id', '=', assetId))
    .select(['jobs.id', 'jobs.project_id', 'jobs.assignee_id', 'jobs.state', 'jobs.stage', 'jobs.reviewer_id', 'm.role', 'ja.asset_id', 'p.label_schema'])
    .where('jobs.id', '=', jobId)
    .executeTakeFirst();
  if (!row) throw notFound('Job');
  const role: EffectiveRole | null = actor.systemRole === 'admin' ? 'admin' : (row.role ?? null);
  if (!role) throw notFound('Job');
  const isAssignee = row.assignee_id === actor.id;
  if (!isAssignee && !roleAllows(role, 'job.readAll')) throw notFound('Job');
  // "Fix" in fix-and-accept: while the job is under review its reviewer (or a manager) edits it.
  const reviewerFix = row.stage === 'review' && roleAllows(role, 'review.act') && (row.reviewer_id === actor.id || roleAllows(role, 'annotation.writeAny'));
  if (access === 'annotate') {
    if (!reviewerFix && !roleAllows(role, 'annotation.writeAny')) {
      if (!isAssignee) throw forbidden('Only the person this job is assigned to can annotate it.');
      if (row.stage === 'review') throw conflict('This job is under review; its annotations can be changed again if the reviewer returns it.');
      if (row.stage === 'acceptance') throw conflict('This job has been accepted; its annotations can no longer be changed.');
    }
  }
  if (!row.asset_id) throw notFound('Asset in this job');
  return {
    job: { id: row.id, project_id: row.project_id, state: row.state, stage: row.stage },
    role,
    isAssignee,
    reviewerFix,
    labelSchemaText: row.label_schema,
  };
}

/**
 * May the caller change annotation data of this asset outside one job's document (label-map
 * containers)? The rules of saving annotations (requireJobAsset 'annotate' + the completed-job
 * check): managers and admins (annotation.writeAny) on any asset of their project; everyone else
 * only as the assignee of a job holding the asset that is not completed. Non-members and
 * annotators without such a job get 404; members who see the asset but may not edit it get 403.
 */
export async function requireAssetAnnotate(db: Db, actor: Actor, assetId: string) {
  const row = await db
    .selectFrom('assets')
    .leftJoin('project_members as m', (j) => j.onRef('m.project_id', '=', 'assets.project_id').on('m.user_id', '=', actor.id))
    .selectAll('assets')
    .select('m.role')
    .where('assets.id', '=', assetId)
    .executeTakeFirst();
  const role: EffectiveRole | null = actor.systemRole === 'admin' ? 'admin' : (row?.role ?? null);
  if (!row || !role) throw notFound('Asset');
  const { role: _memberRole, ...asset } = row;
  if (asset.hold && !roleAllows(role, 'asset.review')) throw notFound('Asset');
  if (roleAllows(role, 'annotation.writeAny')) return { asset, role };
  if (roleAllows(role, 'review.act')) {
    // The reviewer of a job under review holding this asset fixes its label maps.
    const reviewing = await db
      .selectFrom('job_assets')
      .innerJoin('jobs', 'jobs.id', 'job_assets.job_id')
      .select('jobs.id')
      .where('job_assets.asset_id', '=', assetId)
      .where('jobs.stage', '=', 'review')
      .where('jobs.reviewer_id', '=', actor.id)
      .executeTakeFirst();
    if (reviewing) return { asset, role };
  }
  const jobs = await db
    .selectFrom('job_assets')
    .innerJoin('jobs', 'jobs.id', 'job_assets.job_id')
    .select('jobs.state')
    .where('job_assets.asset_id', '=', assetId)
    .where('jobs.assignee_id', '=', actor.id)
    .execute();
  if (jobs.length === 0) {
    if (roleAllows(role, 'asset.listAll')) throw forbidden(`Your role in this project (${role}) does not allow changing annotations of this asset.`);
    throw notFound('Asset');
  }
  if (jobs.every((j) => j.state === 'completed')) throw conflict('Your jobs holding this asset are completed; its annotations can no longer be changed.');
  return { asset, role };
}
