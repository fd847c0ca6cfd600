import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, IssuesTable, JobsTable } from '../db/schema.js';
import type { Actor, Deps } from '../deps.js';
import { conflict, forbidden, HttpError, notFound, unprocessable } from '../errors.js';
import { type EffectiveRole, requireJob, roleAllows } from '../policy.js';
import { appendAudit } from './audit.js';

/**
 * Review rounds and issues. A job its annotator completed (stage 'annotation', state
 * 'completed') awaits review; a reviewer takes it (stage 'review'), may fix its annotations,
 * and accepts it (stage 'acceptance') or returns it to the annotator (state 'rejected', one more
 * round). Issues are comment threads pinned to a place in one asset of the job.
 */

/** Where an issue is pinned. Every field is optional; an empty location means the whole asset. */
export interface IssueLocation {
  slice?: number;
  frame?: number;
  time?: number;
  range?: [number, number];
  point?: number[];
  region?: { x: number; y: number; width: number; height: number };
}

export type ReviewDecision = 'accept' | 'fix-accept' | 'reject';
export type IssueState = IssuesTable['state'];

export interface ReviewQueueItem {
  id: string;
  name: string;
  projectId: string;
  projectName: string;
  taskId: string;
  taskName: string;
  assigneeId: string | null;
  assigneeName: string | null;
  reviewerId: string | null;
  reviewerName: string | null;
  stage: JobsTable['stage'];
  state: JobsTable['state'];
  round: number;
  openIssues: number;
  assetCount: number;
  updatedAt: string;
}

export interface ReviewStatus {
  jobId: string;
  stage: JobsTable['stage'];
  state: JobsTable['state'];
  round: number;
  reviewerId: string | null;
  reviewerName: string | null;
  /** Completed by its annotator and not yet taken by a reviewer. */
  awaitingReview: boolean;
  /** The caller may start, continue or decide this review. */
  canReview: boolean;
  /** The caller may open and answer issues of this job. */
  canDiscuss: boolean;
  /** Annotation revisions by someone other than the annotator since the current review started. */
  changedByReviewer: boolean;
  openIssues: number;
}

export interface IssueComment {
  id: string;
  authorId: string;
  authorName: string | null;
  text: string;
  createdAt: string;
}

export interface IssueView {
  id: string;
  jobId: string;
  assetId: string;
  round: number;
  location: IssueLocation;
  state: IssueState;
  createdBy: string;
  createdByName: string | null;
  createdAt: string;
  resolvedBy: string | null;
  resolvedAt: string | null;
  comments: IssueComment[];
}

type Trx = Kysely<Database>;

/** Projects where the caller may review (null: every project, for admins). */
async function reviewProjects(deps: Deps, actor: Actor): Promise<{ id: string; role: EffectiveRole }[] | null> {
  if (actor.systemRole === 'admin') return null;
  const rows = await deps.db
    .selectFrom('project_members')
    .select(['project_id', 'role'])
    .where('user_id', '=', actor.id)
    .where('role', 'in', ['manager', 'reviewer'])
    .execute();
  return rows.map((r) => ({ id: r.project_id, role: r.role }));
}

const openIssueCount = (trxOrDb: Trx, jobId: string) =>
  trxOrDb
    .selectFrom('issues')
    .select((eb) => eb.fn.countAll<number>().as('c'))
    .where('job_id', '=', jobId)
    .where('state', '=', 'open')
    .executeTakeFirstOrThrow()
    .then((r) => Number(r.c));

/**
 * The caller's review queue: in the projects where they are manager or reviewer (admins: all),
 * the jobs awaiting review and those under review by them; managers also see reviews held by
 * others (they may take them over). Oldest first.
 */
export async function reviewQueue(deps: Deps, actor: Actor): Promise<ReviewQueueItem[]> {
  const projects = await reviewProjects(deps, actor);
  if (projects && projects.length === 0) return [];
  const managed = projects ? projects.filter((p) => p.role === 'manager').map((p) => p.id) : null;
  let q = deps.db
    .selectFrom('jobs')
    .innerJoin('tasks', 'tasks.id', 'jobs.task_id')
    .innerJoin('projects', 'projects.id', 'jobs.project_id')
    .leftJoin('users as a', 'a.id', 'jobs.assignee_id')
    .leftJoin('users as r', 'r.id', 'jobs.reviewer_id')
    .select([
      'jobs.id',
      'jobs.name',
      'jobs.project_id',
      'projects.name as project_name',
      'jobs.task_id',
      'tasks.name as task_name',
      'jobs.assignee_id',
      'a.name as assignee_name',
      'jobs.reviewer_id',
      'r.name as reviewer_name',
      'jobs.stage',
      'jobs.state',
      'jobs.review_round',
      'jobs.updated_at',
      (eb) =>
        eb
          .selectFrom('issues')
          .select(eb.fn.countAll<number>().as('c'))
          .whereRef('issues.job_id', '=', 'jobs.id')
          .where('issues.state', '=', 'open')
          .as('open_issues'),
      (eb) => eb.selectFrom('job_assets').select(eb.fn.countAll<number>().as('c')).whereRef('job_assets.job_id', '=', 'jobs.id').as('asset_count'),
    ])
    .where((eb) =>
      eb.or([
        eb.and([eb('jobs.stage', '=', 'annotation'), eb('jobs.state', '=', 'completed')]),
        eb.and([eb('jobs.stage', '=', 'review'), eb('jobs.reviewer_id', '=', actor.id)]),
        ...(managed === null ? [eb('jobs.stage', '=', 'review')] : managed.length ? [eb.and([eb('jobs.stage', '=', 'review'), eb('jobs.project_id', 'in', managed)])] : []),
      ]),
    );
  if (projects) q = q.where('jobs.project_id', 'in', projects.map((p) => p.id));
  const rows = await q.orderBy('jobs.updated_at').orderBy('jobs.name').execute();
  return rows
    .filter((r) => r.assignee_id !== actor.id || r.stage === 'review')
    .map((r) => ({
      id: r.id,
      name: r.name,
      projectId: r.project_id,
      projectName: r.project_name,
      taskId: r.task_id,
      taskName: r.task_name,
      assigneeId: r.assignee_id,
      assigneeName: r.assignee_name ?? null,
      reviewerId: r.reviewer_id,
      reviewerName: r.reviewer_name ?? null,
      stage: r.stage,
      state: r.state,
      round: Number(r.review_round),
      openIssues: Number(r.open_issues ?? 0),
      assetCount: Number(r.asset_count ?? 0),
      updatedAt: r.updated_at,
    }));
}

/** When the current review of the job started (the latest review.start audit entry). */
async function reviewStartedAt(db: Trx, jobId: string): Promise<string | null> {
  const row = await db
    .selectFrom('audit_log')
    .select('at')
    .where('action', '=', 'review.start')
    .where('target_type', '=', 'job')
    .where('target_id', '=', jobId)
    .orderBy('seq', 'desc')
    .executeTakeFirst();
  return row?.at ?? null;
}

/** Annotation revisions saved by anyone but the annotator since the current review started. */
async function reviewerRevisions(db: Trx, job: { id: string; assignee_id: string | null }): Promise<number> {
  const since = await reviewStartedAt(db, job.id);
  if (!since) return 0;
  let q = db
    .selectFrom('annotation_revisions')
    .select((eb) => eb.fn.countAll<number>().as('c'))
    .where('job_id', '=', job.id)
    .where('created_at', '>=', since);
  if (job.assignee_id) q = q.where('created_by', '!=', job.assignee_id);
  return Number((await q.executeTakeFirstOrThrow()).c);
}

/** The review state of one job as the caller sees it (anyone who may read the job). */
export async function reviewStatus(deps: Deps, actor: Actor, jobId: string): Promise<ReviewStatus> {
  const { job, role, isAssignee } = await requireJob(deps.db, actor, jobId, 'read');
  const reviewer = job.reviewer_id
    ? await deps.db.selectFrom('users').select('name').where('id', '=', job.reviewer_id).executeTakeFirst()
    : undefined;
  return {
    jobId,
    stage: job.stage,
    state: job.state,
    round: Number(job.review_round),
    reviewerId: job.reviewer_id,
    reviewerName: reviewer?.name ?? null,
    awaitingReview: job.stage === 'annotation' && job.state === 'completed',
    canReview: roleAllows(role, 'review.act'),
    canDiscuss: isAssignee || roleAllows(role, 'review.act'),
    changedByReviewer: job.stage === 'review' ? (await reviewerRevisions(deps.db, job)) > 0 : false,
    openIssues: await openIssueCount(deps.db, jobId),
  };
}

async function requireReviewer(deps: Deps, actor: Actor, jobId: string) {
  const access = await requireJob(deps.db, actor, jobId, 'read');
  if (!roleAllows(access.role, 'review.act')) throw forbidden(`Your role in this project (${access.role}) does not allow reviewing jobs.`);
  return access;
}

/**
 * Takes a completed job into review (or continues one's own review). Managers may take over a
 * review held by someone else; annotators never review their own job.
 */
export async function startReview(deps: Deps, actor: Actor, jobId: string): Promise<ReviewStatus> {
  const { job, role } = await requireReviewer(deps, actor, jobId);
  const manager = roleAllows(role, 'job.manage');
  if (job.assignee_id === actor.id && !manager) throw forbidden('You cannot review a job assigned to you.');
  if (job.stage === 'review' && job.reviewer_id === actor.id) return reviewStatus(deps, actor, jobId);
  const awaiting = job.stage === 'annotation' && job.state === 'completed';
  if (!awaiting) {
    if (job.stage !== 'review') throw conflict('This job is not awaiting review: its annotator has not completed it, or it was already accepted.');
    if (!manager) throw conflict('Someone else is reviewing this job.');
  }
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const res = await trx
      .updateTable('jobs')
      .set({ stage: 'review', reviewer_id: actor.id, updated_at: now })
      .where('id', '=', jobId)
      .where('stage', '=', job.stage)
      .where('state', '=', job.state)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw conflict('This job changed while you opened it; reload and try again.');
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'review.start',
      targetType: 'job',
      targetId: jobId,
      ip: actor.ip,
      details: { jobId, round: Number(job.review_round), takeover: !awaiting, openIssues: await openIssueCount(trx, jobId) },
    });
  });
  return reviewStatus(deps, actor, jobId);
}

/**
 * Decides a review: accept and fix-accept move the job to stage 'acceptance' (completed);
 * reject returns it to its annotator (stage 'annotation', state 'rejected', next round) and needs
 * an open issue of this round or a comment, which then becomes an issue on the job's first asset.
 */
export async function decideReview(deps: Deps, actor: Actor, jobId: string, input: { decision: ReviewDecision; comment?: string }): Promise<ReviewStatus> {
  const { job, role } = await requireReviewer(deps, actor, jobId);
  if (job.stage !== 'review') throw conflict('This job is not under review; start the review first.');
  if (job.reviewer_id !== actor.id && !roleAllows(role, 'job.manage')) throw conflict('Someone else is reviewing this job.');
  const round = Number(job.review_round);
  const comment = input.comment?.trim() ? input.comment.trim() : undefined;
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const counts = await trx
      .selectFrom('issues')
      .select(['state', (eb) => eb.fn.countAll<number>().as('c')])
      .where('job_id', '=', jobId)
      .where('round', '=', round)
      .groupBy('state')
      .execute();
    const openInRound = Number(counts.find((c) => c.state === 'open')?.c ?? 0);
    const resolvedInRound = Number(counts.find((c) => c.state === 'resolved')?.c ?? 0);
    let createdIssueId: string | null = null;
    if (input.decision === 'reject') {
      if (openInRound === 0 && !comment) {
        throw unprocessable('To return the job, open an issue or write a comment saying what to change.', { errors: [{ path: 'comment', message: 'required when no issue is open' }] });
      }
      if (comment) {
        const first = await trx.selectFrom('job_assets').select('asset_id').where('job_id', '=', jobId).orderBy('position').executeTakeFirst();
        if (!first) throw conflict('This job holds no asset to attach the comment to.');
        createdIssueId = await insertIssue(trx, { projectId: job.project_id, jobId, assetId: first.asset_id, round, location: {}, text: comment, authorId: actor.id, now });
      }
    }
    const set =
      input.decision === 'reject'
        ? { stage: 'annotation' as const, state: 'rejected' as const, review_round: round + 1, updated_at: now }
        : { stage: 'acceptance' as const, state: 'completed' as const, updated_at: now };
    const res = await trx.updateTable('jobs').set(set).where('id', '=', jobId).where('stage', '=', 'review').executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw conflict('This job changed while you decided; reload and try again.');
    const revisions = await reviewerRevisions(trx, job);
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: `review.${input.decision}`,
      targetType: 'job',
      targetId: jobId,
      ip: actor.ip,
      details: {
        jobId,
        round,
        openIssues: openInRound + (createdIssueId ? 1 : 0),
        resolvedIssues: resolvedInRound,
        reviewerRevisions: revisions,
        revisedByReviewer: revisions > 0,
        ...(createdIssueId ? { issueId: createdIssueId } : {}),
      },
    });
  });
  return reviewStatus(deps, actor, jobId);
}

async function insertIssue(
  trx: Trx,
  v: { projectId: string; jobId: string; assetId: string; round: number; location: IssueLocation; text: string; authorId: string; now: string },
): Promise<string> {
  const id = randomUUID();
  await trx
    .insertInto('issues')
    .values({ id, project_id: v.projectId, job_id: v.jobId, asset_id: v.assetId, round: v.round, location: JSON.stringify(v.location), state: 'open', created_by: v.authorId, created_at: v.now, resolved_by: null, resolved_at: null })
    .execute();
  await trx.insertInto('issue_comments').values({ id: randomUUID(), issue_id: id, author_id: v.authorId, text: v.text, created_at: v.now }).execute();
  return id;
}

/** Issue access: the job's annotator, and reviewers and managers of its project; anyone else 404. */
async function requireIssueAccess(deps: Deps, actor: Actor, jobId: string) {
  const access = await requireJob(deps.db, actor, jobId, 'read');
  if (!roleAllows(access.role, 'issue.write')) throw notFound('Job');
  if (!access.isAssignee && !roleAllows(access.role, 'review.act')) throw notFound('Job');
  return access;
}

async function requireIssue(deps: Deps, actor: Actor, issueId: string) {
  const issue = await deps.db.selectFrom('issues').selectAll().where('id', '=', issueId).executeTakeFirst();
  if (!issue) throw notFound('Issue');
  try {
    await requireIssueAccess(deps, actor, issue.job_id);
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) throw notFound('Issue');
    throw err;
  }
  return issue;
}

/** Opens an issue pinned to `location` in one asset of the job, with its first comment. */
export async function createIssue(deps: Deps, actor: Actor, jobId: string, input: { assetId: string; location: IssueLocation; text: string }): Promise<IssueView> {
  const { job } = await requireIssueAccess(deps, actor, jobId);
  const asset = await deps.db
    .selectFrom('job_assets')
    .innerJoin('assets', 'assets.id', 'job_assets.asset_id')
    .select(['assets.id', 'assets.frame_count'])
    .where('job_assets.job_id', '=', jobId)
    .where('job_assets.asset_id', '=', input.assetId)
    .executeTakeFirst();
  if (!asset) throw notFound('Asset in this job');
  // Single images stored as plain files have no frame rows: they are one frame.
  const frames = Math.max(1, Number(asset.frame_count));
  for (const key of ['slice', 'frame'] as const) {
    const v = input.location[key];
    if (v !== undefined && v >= frames) {
      throw unprocessable(`location.${key} is outside the asset (it has ${frames} frame${frames === 1 ? '' : 's'}).`, { errors: [{ path: `location.${key}`, message: `must be below ${frames}` }] });
    }
  }
  const now = deps.clock.now().toISOString();
  const id = await deps.db.transaction().execute(async (trx) => {
    const issueId = await insertIssue(trx, { projectId: job.project_id, jobId, assetId: input.assetId, round: Number(job.review_round), location: input.location, text: input.text, authorId: actor.id, now });
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'issue.create',
      targetType: 'issue',
      targetId: issueId,
      ip: actor.ip,
      details: { jobId, assetId: input.assetId, round: Number(job.review_round) },
    });
    return issueId;
  });
  return (await loadIssues(deps, { issueId: id }))[0]!;
}

async function loadIssues(deps: Deps, filter: { issueId?: string; jobId?: string; assetId?: string; state?: IssueState }): Promise<IssueView[]> {
  let q = deps.db.selectFrom('issues').leftJoin('users', 'users.id', 'issues.created_by').selectAll('issues').select('users.name as created_by_name');
  if (filter.issueId) q = q.where('issues.id', '=', filter.issueId);
  if (filter.jobId) q = q.where('issues.job_id', '=', filter.jobId);
  if (filter.assetId) q = q.where('issues.asset_id', '=', filter.assetId);
  if (filter.state) q = q.where('issues.state', '=', filter.state);
  const issues = await q.orderBy('issues.created_at').orderBy('issues.id').execute();
  if (issues.length === 0) return [];
  const comments = await deps.db
    .selectFrom('issue_comments')
    .leftJoin('users', 'users.id', 'issue_comments.author_id')
    .selectAll('issue_comments')
    .select('users.name as author_name')
    .where(
      'issue_comments.issue_id',
      'in',
      issues.map((i) => i.id),
    )
    .orderBy('issue_comments.created_at')
    .orderBy('issue_comments.id')
    .execute();
  const byIssue = new Map<string, IssueComment[]>();
  for (const c of comments) {
    const list = byIssue.get(c.issue_id) ?? [];
    list.push({ id: c.id, authorId: c.author_id, authorName: c.author_name ?? null, text: c.text, createdAt: c.created_at });
    byIssue.set(c.issue_id, list);
  }
  const views = issues.map((i) => ({
    id: i.id,
    jobId: i.job_id,
    assetId: i.asset_id,
    round: Number(i.round),
    location: JSON.parse(i.location) as IssueLocation,
    state: i.state,
    createdBy: i.created_by,
    createdByName: i.created_by_name ?? null,
    createdAt: i.created_at,
    resolvedBy: i.resolved_by,
    resolvedAt: i.resolved_at,
    comments: byIssue.get(i.id) ?? [],
  }));
  // Open threads first, each group oldest first.
  return views.sort((a, b) => (a.state === b.state ? 0 : a.state === 'open' ? -1 : 1));
}

/** The job's issue threads (optionally of one asset, or in one state), open ones first. */
export async function listIssues(deps: Deps, actor: Actor, jobId: string, filter: { assetId?: string; state?: IssueState }): Promise<IssueView[]> {
  await requireIssueAccess(deps, actor, jobId);
  return loadIssues(deps, { jobId, ...filter });
}

/** Replies to an issue thread. */
export async function addComment(deps: Deps, actor: Actor, issueId: string, text: string): Promise<IssueView> {
  const issue = await requireIssue(deps, actor, issueId);
  const now = deps.clock.now().toISOString();
  await deps.db.transaction().execute(async (trx) => {
    const commentId = randomUUID();
    await trx.insertInto('issue_comments').values({ id: commentId, issue_id: issueId, author_id: actor.id, text, created_at: now }).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'issue.comment',
      targetType: 'issue',
      targetId: issueId,
      ip: actor.ip,
      details: { jobId: issue.job_id, commentId },
    });
  });
  return (await loadIssues(deps, { issueId }))[0]!;
}

/** Resolves or reopens an issue. Setting the state it already has changes nothing. */
export async function setIssueState(deps: Deps, actor: Actor, issueId: string, state: IssueState): Promise<IssueView> {
  const issue = await requireIssue(deps, actor, issueId);
  if (issue.state !== state) {
    const now = deps.clock.now().toISOString();
    await deps.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('issues')
        .set(state === 'resolved' ? { state, resolved_by: actor.id, resolved_at: now } : { state, resolved_by: null, resolved_at: null })
        .where('id', '=', issueId)
        .execute();
      await appendAudit(trx, deps.dbKind, deps.clock, {
        actorId: actor.id,
        action: state === 'resolved' ? 'issue.resolve' : 'issue.reopen',
        targetType: 'issue',
        targetId: issueId,
        ip: actor.ip,
        details: { jobId: issue.job_id, round: Number(issue.round) },
      });
    });
  }
  return (await loadIssues(deps, { issueId }))[0]!;
}
