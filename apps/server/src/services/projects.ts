import { randomUUID } from 'node:crypto';
import { type LabelSchema, parseLabelSchema } from '@caliper/core';
import type { ProjectsTable } from '../db/schema.js';
import type { Actor, Deps } from '../deps.js';
import { badRequest, conflict, notFound, unprocessable } from '../errors.js';
import { type EffectiveRole, type ProjectRole, requireProject, requireTask } from '../policy.js';
import { blobKeysOf, collectBlobs } from './assets.js';
import { appendAudit } from './audit.js';

export interface ProjectView {
  id: string;
  name: string;
  description: string;
  guidelines: string;
  labelSchema: LabelSchema;
  myRole: EffectiveRole;
  createdAt: string;
  updatedAt: string;
}

const toProjectView = (p: ProjectsTable, role: EffectiveRole): ProjectView => ({
  id: p.id,
  name: p.name,
  description: p.description,
  guidelines: p.guidelines,
  labelSchema: JSON.parse(p.label_schema) as LabelSchema,
  myRole: role,
  createdAt: p.created_at,
  updatedAt: p.updated_at,
});

function checkSchema(input: unknown): LabelSchema {
  const r = parseLabelSchema(input);
  if (!r.ok) {
    throw unprocessable(`The label schema is not valid: ${r.issues[0]?.message ?? 'unknown problem'}`, {
      errors: r.issues.map((i) => ({ ...i, path: i.path ? `labelSchema.${i.path}` : 'labelSchema' })),
    });
  }
  return r.schema;
}

export async function createProject(
  deps: Deps,
  actor: Actor,
  input: { name: string; description?: string; guidelines?: string; labelSchema: unknown },
): Promise<ProjectView> {
  const schema = checkSchema(input.labelSchema);
  const now = deps.clock.now().toISOString();
  const row: ProjectsTable = {
    id: randomUUID(),
    name: input.name.trim(),
    description: input.description ?? '',
    guidelines: input.guidelines ?? '',
    label_schema: JSON.stringify(schema),
    deid_settings: '{}',
    created_by: actor.id,
    created_at: now,
    updated_at: now,
  };
  if (!row.name) throw badRequest('The project needs a name.');
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto('projects').values(row).execute();
    await trx.insertInto('project_members').values({ project_id: row.id, user_id: actor.id, role: 'manager', created_at: now }).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'project.create', targetType: 'project', targetId: row.id, ip: actor.ip });
  });
  return toProjectView(row, actor.systemRole === 'admin' ? 'admin' : 'manager');
}

export async function listProjects(deps: Deps, actor: Actor) {
  const db = deps.db;
  let q = db
    .selectFrom('projects')
    .leftJoin('project_members as m', (j) => j.onRef('m.project_id', '=', 'projects.id').on('m.user_id', '=', actor.id))
    .select([
      'projects.id',
      'projects.name',
      'projects.description',
      'projects.created_at',
      'm.role',
      (eb) => eb.selectFrom('tasks').select(eb.fn.countAll<number>().as('c')).whereRef('tasks.project_id', '=', 'projects.id').as('taskCount'),
      (eb) => eb.selectFrom('assets').select(eb.fn.countAll<number>().as('c')).whereRef('assets.project_id', '=', 'projects.id').as('assetCount'),
    ])
    .orderBy('projects.created_at', 'desc');
  if (actor.systemRole !== 'admin') q = q.where('m.role', 'is not', null);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    description: r.description,
    myRole: (actor.systemRole === 'admin' ? 'admin' : r.role) as EffectiveRole,
    taskCount: Number(r.taskCount ?? 0),
    assetCount: Number(r.assetCount ?? 0),
    createdAt: r.created_at,
  }));
}

export async function getProject(deps: Deps, actor: Actor, projectId: string): Promise<ProjectView> {
  const role = await requireProject(deps.db, actor, projectId, 'project.read');
  const p = await deps.db.selectFrom('projects').selectAll().where('id', '=', projectId).executeTakeFirstOrThrow();
  return toProjectView(p, role);
}

export async function loadLabelSchema(deps: Deps, projectId: string): Promise<LabelSchema> {
  const p = await deps.db.selectFrom('projects').select('label_schema').where('id', '=', projectId).executeTakeFirstOrThrow();
  return JSON.parse(p.label_schema) as LabelSchema;
}

export async function updateProject(
  deps: Deps,
  actor: Actor,
  projectId: string,
  patch: { name?: string; description?: string; guidelines?: string; labelSchema?: unknown },
): Promise<ProjectView> {
  const role = await requireProject(deps.db, actor, projectId, 'project.update');
  const set: Partial<ProjectsTable> = { updated_at: deps.clock.now().toISOString() };
  if (patch.name !== undefined) {
    if (!patch.name.trim()) throw badRequest('The project needs a name.');
    set.name = patch.name.trim();
  }
  if (patch.description !== undefined) set.description = patch.description;
  if (patch.guidelines !== undefined) set.guidelines = patch.guidelines;
  if (patch.labelSchema !== undefined) set.label_schema = JSON.stringify(checkSchema(patch.labelSchema));
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('projects').set(set).where('id', '=', projectId).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'project.update',
      targetType: 'project',
      targetId: projectId,
      ip: actor.ip,
      details: { labelSchema: patch.labelSchema !== undefined },
    });
  });
  return getProject(deps, actor, projectId).then((p) => ({ ...p, myRole: role }));
}

export async function deleteProject(deps: Deps, actor: Actor, projectId: string) {
  await requireProject(deps.db, actor, projectId, 'project.delete');
  const shas = await blobKeysOf(deps, { projectId });
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('projects').where('id', '=', projectId).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'project.delete', targetType: 'project', targetId: projectId, ip: actor.ip });
  });
  // Blobs are content-addressed and may be shared; only those no asset references any more go.
  await collectBlobs(deps, shas);
}

export async function listMembers(deps: Deps, actor: Actor, projectId: string) {
  await requireProject(deps.db, actor, projectId, 'members.read');
  const rows = await deps.db
    .selectFrom('project_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'u.email', 'u.name', 'm.role', 'u.active'])
    .where('m.project_id', '=', projectId)
    .orderBy('u.name')
    .execute();
  return rows.map((r) => ({ userId: r.user_id, email: r.email, name: r.name, role: r.role, active: Boolean(r.active) }));
}

export async function setMember(deps: Deps, actor: Actor, projectId: string, userId: string, role: ProjectRole) {
  await requireProject(deps.db, actor, projectId, 'members.manage');
  const user = await deps.db.selectFrom('users').select(['id', 'email', 'name', 'active']).where('id', '=', userId).executeTakeFirst();
  if (!user) throw notFound('User');
  await deps.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('project_members')
      .select('role')
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (existing?.role === 'manager' && role !== 'manager') await assertAnotherManager(trx, projectId, userId);
    if (existing) {
      await trx.updateTable('project_members').set({ role }).where('project_id', '=', projectId).where('user_id', '=', userId).execute();
    } else {
      await trx.insertInto('project_members').values({ project_id: projectId, user_id: userId, role, created_at: deps.clock.now().toISOString() }).execute();
    }
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'member.set',
      targetType: 'project',
      targetId: projectId,
      ip: actor.ip,
      details: { userId, role },
    });
  });
  return { userId, email: user.email, name: user.name, role, active: Boolean(user.active) };
}

async function assertAnotherManager(trx: Deps['db'], projectId: string, userId: string) {
  const others = await trx
    .selectFrom('project_members')
    .select('user_id')
    .where('project_id', '=', projectId)
    .where('role', '=', 'manager')
    .where('user_id', '!=', userId)
    .executeTakeFirst();
  if (!others) throw conflict('A project must keep at least one manager.');
}

export async function removeMember(deps: Deps, actor: Actor, projectId: string, userId: string) {
  await requireProject(deps.db, actor, projectId, 'members.manage');
  await deps.db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('project_members')
      .select('role')
      .where('project_id', '=', projectId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!existing) throw notFound('Member');
    if (existing.role === 'manager') await assertAnotherManager(trx, projectId, userId);
    await trx.deleteFrom('project_members').where('project_id', '=', projectId).where('user_id', '=', userId).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'member.remove',
      targetType: 'project',
      targetId: projectId,
      ip: actor.ip,
      details: { userId },
    });
  });
}

// ---- tasks ----

function tasksQuery(deps: Deps) {
  return deps.db
    .selectFrom('tasks')
    .select([
      'id',
      'project_id',
      'name',
      'created_at',
      'overlap',
      'honeypot_percent',
      (eb) => eb.selectFrom('assets').select(eb.fn.countAll<number>().as('c')).whereRef('assets.task_id', '=', 'tasks.id').as('assetCount'),
      (eb) => eb.selectFrom('jobs').select(eb.fn.countAll<number>().as('c')).whereRef('jobs.task_id', '=', 'tasks.id').as('jobCount'),
    ]);
}

type TaskRow = Awaited<ReturnType<ReturnType<typeof tasksQuery>['executeTakeFirstOrThrow']>>;

const toTaskView = (t: TaskRow) => ({
  id: t.id,
  projectId: t.project_id,
  name: t.name,
  assetCount: Number(t.assetCount ?? 0),
  jobCount: Number(t.jobCount ?? 0),
  createdAt: t.created_at,
  /** annotators per item and the share of hidden ground-truth items (PUT /api/tasks/{id}/quality) */
  overlap: Number(t.overlap),
  honeypotPercent: Number(t.honeypot_percent),
});

async function taskView(deps: Deps, id: string) {
  return toTaskView(await tasksQuery(deps).where('id', '=', id).executeTakeFirstOrThrow());
}

export async function createTask(deps: Deps, actor: Actor, projectId: string, name: string) {
  await requireProject(deps.db, actor, projectId, 'task.manage');
  if (!name.trim()) throw badRequest('The task needs a name.');
  const id = randomUUID();
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto('tasks').values({ id, project_id: projectId, name: name.trim(), created_at: deps.clock.now().toISOString() }).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'task.create', targetType: 'task', targetId: id, ip: actor.ip, details: { projectId } });
  });
  return taskView(deps, id);
}

export async function listTasks(deps: Deps, actor: Actor, projectId: string) {
  await requireProject(deps.db, actor, projectId, 'task.read');
  const rows = await tasksQuery(deps).where('project_id', '=', projectId).orderBy('created_at').execute();
  return rows.map(toTaskView);
}

export async function getTask(deps: Deps, actor: Actor, taskId: string) {
  await requireTask(deps.db, actor, taskId, 'task.read');
  return taskView(deps, taskId);
}

export async function deleteTask(deps: Deps, actor: Actor, taskId: string) {
  const { task } = await requireTask(deps.db, actor, taskId, 'task.manage');
  const shas = await blobKeysOf(deps, { taskId });
  await deps.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('tasks').where('id', '=', taskId).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'task.delete', targetType: 'task', targetId: taskId, ip: actor.ip, details: { projectId: task.project_id } });
  });
  await collectBlobs(deps, shas);
}
