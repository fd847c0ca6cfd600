// Dataset exports as background jobs: the request is validated and recorded, the queue's
// worker writes the zip (progress in the row), the finished file goes into the blob store and
// is downloaded from there. A failed export leaves no blob and says why.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ExportsTable } from '../../db/schema.js';
import type { Actor, Deps } from '../../deps.js';
import { conflict, notFound, unprocessable } from '../../errors.js';
import { requireProject } from '../../policy.js';
import { appendAudit } from '../audit.js';
import { loadLabelSchema } from '../projects.js';
import { countAssets, type ExportRequest, exportRequestSchema } from './collect.js';
import { writeExport, type ExportStats } from './write.js';
import { ZipFileWriter } from './zip.js';

export const EXPORT_JOB = 'export';

export interface ExportView {
  id: string;
  projectId: string;
  format: string;
  request: ExportRequest;
  state: ExportsTable['state'];
  phase: string;
  done: number;
  total: number;
  stats: ExportStats | null;
  error: string | null;
  bytes: number | null;
  fileName: string;
  createdAt: string;
  updatedAt: string;
}

const toView = (r: ExportsTable): ExportView => ({
  id: r.id,
  projectId: r.project_id,
  format: r.format,
  request: JSON.parse(r.options) as ExportRequest,
  state: r.state,
  phase: r.phase,
  done: Number(r.done),
  total: Number(r.total),
  stats: r.stats ? (JSON.parse(r.stats) as ExportStats) : null,
  error: r.error,
  bytes: r.bytes === null ? null : Number(r.bytes),
  fileName: r.file_name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const safeName = (s: string) => s.replace(/[^\p{L}\p{N}._-]+/gu, '_').replace(/^_+|_+$/g, '').slice(0, 60) || 'project';

export async function createExport(deps: Deps, actor: Actor, projectId: string, input: unknown): Promise<ExportView> {
  await requireProject(deps.db, actor, projectId, 'data.export');
  const req = exportRequestSchema.parse(input);
  if (req.taskId) {
    const task = await deps.db.selectFrom('tasks').select('id').where('id', '=', req.taskId).where('project_id', '=', projectId).executeTakeFirst();
    if (!task) throw unprocessable('The task is not part of this project.', { errors: [{ path: 'taskId', message: 'unknown task' }] });
  }
  if (req.annotator !== 'all' && req.annotator !== 'consensus') {
    const m = await deps.db.selectFrom('project_members').select('user_id').where('project_id', '=', projectId).where('user_id', '=', req.annotator).executeTakeFirst();
    if (!m) throw unprocessable('The annotator is not a member of this project.', { errors: [{ path: 'annotator', message: 'not a member' }] });
  }
  const project = await deps.db.selectFrom('projects').select('name').where('id', '=', projectId).executeTakeFirstOrThrow();
  const now = deps.clock.now();
  const row: ExportsTable = {
    id: randomUUID(),
    project_id: projectId,
    format: req.format,
    options: JSON.stringify(req),
    state: 'queued',
    phase: 'queued',
    done: 0,
    total: await countAssets(deps, projectId, req),
    stats: '',
    error: null,
    blob_sha: null,
    bytes: null,
    file_name: `${safeName(project.name)}-${req.format}-${now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}.zip`,
    created_by: actor.id,
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
  };
  await deps.db.transaction().execute(async (trx) => {
    await trx.insertInto('exports').values(row).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'export.create',
      targetType: 'project',
      targetId: projectId,
      ip: actor.ip,
      details: { exportId: row.id, format: req.format, includeImages: req.includeImages },
    });
  });
  await deps.queue.enqueue(EXPORT_JOB, { exportId: row.id }, { maxAttempts: 2 });
  return toView(row);
}

export async function listExports(deps: Deps, actor: Actor, projectId: string): Promise<ExportView[]> {
  await requireProject(deps.db, actor, projectId, 'data.export');
  const rows = await deps.db.selectFrom('exports').selectAll().where('project_id', '=', projectId).orderBy('created_at', 'desc').limit(100).execute();
  return rows.map(toView);
}

async function requireExport(deps: Deps, actor: Actor, exportId: string) {
  const row = await deps.db.selectFrom('exports').selectAll().where('id', '=', exportId).executeTakeFirst();
  if (!row) throw notFound('Export');
  try {
    await requireProject(deps.db, actor, row.project_id, 'data.export');
  } catch (err) {
    // Non-members and members without the right alike: the export's existence does not leak.
    if (err instanceof Error) throw notFound('Export');
    throw err;
  }
  return row;
}

export async function getExport(deps: Deps, actor: Actor, exportId: string): Promise<ExportView> {
  return toView(await requireExport(deps, actor, exportId));
}

export async function openExportDownload(deps: Deps, actor: Actor, exportId: string) {
  const row = await requireExport(deps, actor, exportId);
  if (row.state !== 'done' || !row.blob_sha) throw conflict(`This export is not finished (${row.state}).`);
  await deps.db.transaction().execute((trx) =>
    appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'export.download', targetType: 'project', targetId: row.project_id, ip: actor.ip, details: { exportId } }),
  );
  return { stream: await deps.blobs.get(row.blob_sha), size: Number(row.bytes), fileName: row.file_name };
}

/** Errors whose messages are written for users (no file content, no PHI). */
export class ExportError extends Error {
  override readonly name = 'ExportError';
}

/** The queue handler: writes the zip, stores it, marks the export done (or failed with a reason). */
export async function runExport(deps: Deps, exportId: string): Promise<void> {
  const row = await deps.db.selectFrom('exports').selectAll().where('id', '=', exportId).executeTakeFirst();
  if (!row || row.state === 'done' || row.state === 'failed') return;
  const req = exportRequestSchema.parse(JSON.parse(row.options));
  const update = (patch: Partial<ExportsTable>) =>
    deps.db.updateTable('exports').set({ ...patch, updated_at: deps.clock.now().toISOString() }).where('id', '=', exportId).execute();
  await update({ state: 'running', phase: 'writing', done: 0 });
  const dir = path.join(deps.config.dataDir, 'tmp', 'exports');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${exportId}-${randomUUID()}.zip`);
  const zip = new ZipFileWriter(file);
  let lastReport = 0;
  try {
    const schema = await loadLabelSchema(deps, row.project_id);
    const project = await deps.db.selectFrom('projects').select(['id', 'name']).where('id', '=', row.project_id).executeTakeFirstOrThrow();
    const stats = await writeExport({
      deps,
      project,
      schema,
      req,
      zip,
      progress: async (done, phase) => {
        const t = Date.now();
        if (t - lastReport < 500) return;
        lastReport = t;
        await update({ done, phase });
      },
    });
    await zip.close();
    const size = (await stat(file)).size;
    const sha = await hashFile(file);
    await deps.blobs.putFile(file, sha, { contentType: 'application/zip' });
    await update({ state: 'done', phase: 'done', done: Number(row.total), stats: JSON.stringify(stats), blob_sha: sha, bytes: size });
  } catch (err) {
    zip.abort();
    const message = err instanceof ExportError || (err instanceof Error && USER_FACING.has(err.name)) ? err.message : 'The export failed (unexpected error; see the server log).';
    if (!(err instanceof ExportError)) process.stderr.write(`caliper export: ${err instanceof Error ? err.name : typeof err}\n${err instanceof Error ? (err.stack ?? '').split('\n').slice(1, 7).join('\n') : ''}\n`);
    await update({ state: 'failed', phase: 'failed', error: message });
  } finally {
    await rm(file, { force: true });
  }
}

const USER_FACING = new Set(['ExportError', 'FormatError', 'SegError', 'NiftiError']);

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function registerExportWorker(deps: Deps) {
  await deps.queue.work(EXPORT_JOB, async (job) => {
    const id = job.data.exportId;
    if (typeof id === 'string') await runExport(deps, id);
  });
}
