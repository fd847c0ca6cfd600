import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { spoolToTemp, TooLargeError } from '../../blob/index.js';
import type { IngestSummary as SharedIngestSummary } from '@caliper/core';
import type { IngestFilesTable, IngestRunsTable } from '../../db/schema.js';
import type { Actor, Deps } from '../../deps.js';
import { badRequest, notFound } from '../../errors.js';
import { requireProject, requireTask } from '../../policy.js';
import { appendAudit } from '../audit.js';

export const INGEST_JOB = 'ingest';

/** Where a run's raw (not yet de-identified) files wait for the worker; wiped when the run ends. */
export const runDir = (deps: Deps, runId: string) => path.join(deps.config.dataDir, 'tmp', 'ingest', runId);
export const rawFilePath = (deps: Deps, runId: string, idx: number) => path.join(runDir(deps, runId), String(idx));

/** The run summary as stored: the shared shape plus the series to build (not shown to clients). */
export type IngestSummary = Omit<SharedIngestSummary, 'deid'> & {
  /** Totals of the de-identification actions over all DICOM objects (counts only). */
  deid: Record<string, number>;
  /** Series touched by the run (ids), built in the last phase. */
  seriesIds: string[];
};

export const emptySummary = (): IngestSummary => ({
  assetsCreated: 0,
  assetsUpdated: 0,
  instancesStored: 0,
  duplicates: 0,
  rejected: 0,
  skipped: 0,
  flaggedBurnedIn: 0,
  redacted: 0,
  deid: {},
  seriesIssues: {},
  seriesIds: [],
});

export interface IngestRunView {
  id: string;
  taskId: string;
  state: IngestRunsTable['state'];
  phase: string;
  filesTotal: number;
  filesDone: number;
  bytesTotal: number;
  bytesDone: number;
  summary: Omit<IngestSummary, 'seriesIds'>;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface IngestFileView {
  index: number;
  parentIndex: number | null;
  name: string;
  size: number;
  status: IngestFilesTable['status'];
  kind: string | null;
  detail: string | null;
  assetId: string | null;
  flags: string[];
}

export function toRunView(r: IngestRunsTable): IngestRunView {
  const { seriesIds: _ignored, ...summary } = JSON.parse(r.summary) as IngestSummary;
  return {
    id: r.id,
    taskId: r.task_id,
    state: r.state,
    phase: r.phase,
    filesTotal: Number(r.files_total),
    filesDone: Number(r.files_done),
    bytesTotal: Number(r.bytes_total),
    bytesDone: Number(r.bytes_done),
    summary,
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export const toFileView = (f: IngestFilesTable): IngestFileView => ({
  index: f.idx,
  parentIndex: f.parent_idx,
  name: f.name,
  size: Number(f.size),
  status: f.status,
  kind: f.kind,
  detail: f.detail,
  assetId: f.asset_id,
  flags: JSON.parse(f.flags) as string[],
});

export interface IncomingFile {
  name: string;
  stream: Readable;
}

/**
 * Receives an upload for background ingest: every file is streamed to the run's temporary
 * folder (never into the blob store or the database: it may hold identifiers), then the run and
 * its file list are recorded in one transaction and the ingest job is queued. If the request
 * fails half-way, the folder is removed and nothing is recorded.
 */
export async function receiveUpload(deps: Deps, actor: Actor, taskId: string, files: AsyncIterable<IncomingFile>) {
  const { task } = await requireTask(deps.db, actor, taskId, 'asset.upload');
  const { sanitizeFileName } = await import('@caliper/media');
  const runId = randomUUID();
  const dir = runDir(deps, runId);
  await mkdir(dir, { recursive: true });
  const rows: IngestFilesTable[] = [];
  let bytes = 0;
  try {
    for await (const file of files) {
      const idx = rows.length;
      const clean = sanitizeFileName(file.name);
      if (!clean.ok) {
        file.stream.resume();
        rows.push({ run_id: runId, idx, parent_idx: null, name: file.name.slice(0, 200), size: 0, status: 'rejected', kind: null, detail: clean.detail, asset_id: null, instance_id: null, flags: '[]' });
        continue;
      }
      try {
        const spooled = await spoolToTemp(file.stream, dir, deps.config.maxUploadBytes);
        if ((file.stream as Readable & { truncated?: boolean }).truncated) {
          await rm(spooled.path, { force: true });
          throw new TooLargeError(deps.config.maxUploadBytes);
        }
        await rename(spooled.path, rawFilePath(deps, runId, idx));
        bytes += spooled.size;
        rows.push({ run_id: runId, idx, parent_idx: null, name: clean.name, size: spooled.size, status: 'pending', kind: null, detail: null, asset_id: null, instance_id: null, flags: '[]' });
      } catch (err) {
        if (!(err instanceof TooLargeError)) throw err;
        rows.push({ run_id: runId, idx, parent_idx: null, name: clean.name, size: 0, status: 'rejected', kind: null, detail: `"${clean.name}" is larger than the upload limit of ${Math.round(deps.config.maxUploadBytes / 1048576)} MB.`, asset_id: null, instance_id: null, flags: '[]' });
      }
    }
    if (rows.length === 0) throw badRequest('The upload contains no files.');
    const now = deps.clock.now().toISOString();
    const summary = emptySummary();
    summary.rejected = rows.filter((r) => r.status === 'rejected').length;
    const run: IngestRunsTable = {
      id: runId,
      project_id: task.project_id,
      task_id: task.id,
      created_by: actor.id,
      state: 'queued',
      phase: 'queued',
      files_total: rows.length,
      files_done: summary.rejected,
      bytes_total: bytes,
      bytes_done: 0,
      summary: JSON.stringify(summary),
      error: null,
      attempts: 0,
      created_at: now,
      updated_at: now,
    };
    await deps.db.transaction().execute(async (trx) => {
      await trx.insertInto('ingest_runs').values(run).execute();
      for (let i = 0; i < rows.length; i += 200) await trx.insertInto('ingest_files').values(rows.slice(i, i + 200)).execute();
      await appendAudit(trx, deps.dbKind, deps.clock, {
        actorId: actor.id,
        action: 'ingest.create',
        targetType: 'ingest_run',
        targetId: runId,
        ip: actor.ip,
        details: { taskId: task.id, files: rows.length, bytes },
      });
    });
    await deps.queue.enqueue(INGEST_JOB, { runId });
    return toRunView(run);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export async function listTaskRuns(deps: Deps, actor: Actor, taskId: string) {
  await requireTask(deps.db, actor, taskId, 'asset.listAll');
  const rows = await deps.db.selectFrom('ingest_runs').selectAll().where('task_id', '=', taskId).orderBy('created_at', 'desc').limit(50).execute();
  return rows.map(toRunView);
}

export async function getRun(deps: Deps, actor: Actor, runId: string) {
  const run = await deps.db.selectFrom('ingest_runs').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!run) throw notFound('Ingest run');
  try {
    await requireProject(deps.db, actor, run.project_id, 'asset.listAll');
  } catch {
    throw notFound('Ingest run');
  }
  const files = await deps.db.selectFrom('ingest_files').selectAll().where('run_id', '=', runId).orderBy('idx').execute();
  return { run: toRunView(run), files: files.map(toFileView) };
}
