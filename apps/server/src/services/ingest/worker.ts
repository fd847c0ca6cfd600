import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { IngestFilesTable, IngestRunsTable } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { isTransient } from '../../queue/index.js';
import { collectBlobs } from '../assets.js';
import { upsertAsset } from './assets.js';
import { buildSeries } from './build.js';
import { ingestDicomBytes, type ProjectDeid } from './dicom.js';
import { classify, pairStem, readHead, sha256File } from './files.js';
import { ingestNifti, ingestRaster } from './images.js';
import { emptySummary, INGEST_JOB, type IngestSummary, rawFilePath, runDir } from './runs.js';
import { projectDeid } from './settings.js';

export async function registerWorkers(deps: Deps) {
  await deps.queue.work(INGEST_JOB, async (job) => {
    const runId = job.data.runId;
    if (typeof runId === 'string') await processRun(deps, runId);
  });
}

/** Errors whose messages are written for users and carry no attribute values. */
const USER_FACING = new Set(['DicomDeidError', 'DicomError', 'NiftiError', 'RasterError', 'ArchiveError', 'IngestError']);

function describe(err: unknown): string {
  if (err instanceof Error && USER_FACING.has(err.name)) return err.message;
  // Anything else may quote file content: log only the error class and where it was thrown
  // (never the message), and give the user a fixed message.
  logUnexpected(err);
  return 'The file could not be processed (unexpected error; see the server log for the error class).';
}

export function logUnexpected(err: unknown) {
  const name = err instanceof Error ? err.name : typeof err;
  const frames = err instanceof Error && err.stack ? err.stack.split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 6).join('\n') : '';
  process.stderr.write(`caliper ingest: unexpected ${name}\n${frames}\n`);
}

interface Outcome {
  status: IngestFilesTable['status'];
  kind: string | null;
  detail: string | null;
  assetId: string | null;
  flags: string[];
  /** DICOM files: the instance stored (or already stored, for duplicates). */
  instanceId?: string;
}

class RunContext {
  summary: IngestSummary;
  constructor(
    readonly deps: Deps,
    readonly run: IngestRunsTable,
    readonly deid: ProjectDeid,
  ) {
    this.summary = { ...emptySummary(), ...(JSON.parse(run.summary) as Partial<IngestSummary>) };
  }

  private pending: { file: IngestFilesTable; outcome: Outcome }[] = [];
  private lastFlush = Date.now();
  private flushing: Promise<void> = Promise.resolve();

  /**
   * Records a file's outcome. Outcomes are written in batches (every 50 files or 250 ms, and
   * at the end) in one transaction; the raw file is removed once its outcome is written, so a
   * crash before that point re-reads it on retry (a DICOM object then reports as a duplicate).
   */
  async record(file: IngestFilesTable, o: Outcome) {
    if (o.status === 'rejected') this.summary.rejected++;
    if (o.status === 'skipped') this.summary.skipped++;
    if (o.status === 'duplicate') this.summary.duplicates++;
    this.pending.push({ file, outcome: o });
    if (this.pending.length >= 50 || Date.now() - this.lastFlush > 250) await this.flush();
  }

  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.writePending());
    return this.flushing;
  }

  private async writePending() {
    const batch = this.pending;
    this.pending = [];
    this.lastFlush = Date.now();
    if (batch.length === 0) return;
    const now = this.deps.clock.now().toISOString();
    const bytes = batch.reduce((n, b) => n + (b.file.parent_idx === null ? Number(b.file.size) : 0), 0);
    await this.deps.db.transaction().execute(async (trx) => {
      for (const { file, outcome: o } of batch) {
        await trx
          .updateTable('ingest_files')
          .set({ status: o.status, kind: o.kind, detail: o.detail, asset_id: o.assetId, instance_id: o.instanceId ?? null, flags: JSON.stringify(o.flags) })
          .where('run_id', '=', this.run.id)
          .where('idx', '=', file.idx)
          .execute();
      }
      await trx
        .updateTable('ingest_runs')
        .set((eb) => ({ files_done: eb('files_done', '+', batch.length), bytes_done: eb('bytes_done', '+', bytes), summary: JSON.stringify(this.summary), updated_at: now }))
        .where('id', '=', this.run.id)
        .execute();
    });
    // The raw files are wiped as soon as their outcome is on record.
    for (const { file } of batch) await rm(rawFilePath(this.deps, this.run.id, file.idx), { force: true });
  }

  async phase(phase: string, extra: Partial<IngestRunsTable> = {}) {
    await this.flush();
    await this.deps.db
      .updateTable('ingest_runs')
      .set({ phase, summary: JSON.stringify(this.summary), updated_at: this.deps.clock.now().toISOString(), ...extra })
      .where('id', '=', this.run.id)
      .execute();
  }

  addDeid(counts: Record<string, number>) {
    for (const [k, v] of Object.entries(counts)) this.summary.deid[k] = (this.summary.deid[k] ?? 0) + v;
  }
}

/**
 * Runs one ingest: every pending file is classified and handled (DICOM de-identified and
 * recorded, NIfTI and rasters turned into assets, zips expanded into more pending files), then
 * the touched series are built into volumes/stacks/cines. Idempotent: a retried run skips the
 * files already handled and rebuilds series into the same assets.
 */
export async function processRun(deps: Deps, runId: string) {
  const run = await deps.db.selectFrom('ingest_runs').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!run || run.state === 'done' || run.state === 'failed') return;
  const deid = await projectDeid(deps, run.project_id);
  const ctx = new RunContext(deps, run, deid);
  await ctx.phase('files', { state: 'running', attempts: run.attempts + 1 });
  try {
    await processFiles(ctx);
    await ctx.phase('building');
    const built = new Map<string, string>();
    for (const seriesId of ctx.summary.seriesIds) {
      let out: Awaited<ReturnType<typeof buildSeries>>;
      try {
        out = await buildSeries(deps, run.created_by, seriesId);
      } catch (err) {
        if (isTransient(err)) throw err;
        // One series that cannot be built does not stop the others; its instances stay stored.
        ctx.summary.seriesIssues['build-failed'] = (ctx.summary.seriesIssues['build-failed'] ?? 0) + 1;
        await markSeriesFiles(ctx, seriesId, describe(err));
        continue;
      }
      for (const [instanceId, reason] of out.dropped) await rejectInstanceFile(ctx, instanceId, `The pixel data could not be decoded: ${describe(reason)}`);
      ctx.summary.assetsCreated += out.created;
      ctx.summary.assetsUpdated += out.updated;
      for (const [k, v] of Object.entries(out.issues)) ctx.summary.seriesIssues[k] = (ctx.summary.seriesIssues[k] ?? 0) + v;
      for (const [instanceId, assetId] of out.assetOfInstance) built.set(instanceId, assetId);
    }
    await linkInstanceAssets(ctx, built);
    await ctx.phase('done', { state: 'done' });
    await rm(runDir(deps, runId), { recursive: true, force: true });
  } catch (err) {
    if (isTransient(err) && run.attempts + 1 < 3) {
      await ctx.phase('retrying', { state: 'queued' }).catch(() => undefined);
      throw err;
    }
    await ctx.phase('failed', { state: 'failed', error: describe(err) }).catch(() => undefined);
    await rm(runDir(deps, runId), { recursive: true, force: true });
  }
}

/** A file whose instance was dropped at build time is reported as rejected. */
async function rejectInstanceFile(ctx: RunContext, instanceId: string, detail: string) {
  const r = await ctx.deps.db
    .updateTable('ingest_files')
    .set({ status: 'rejected', detail, instance_id: null })
    .where('run_id', '=', ctx.run.id)
    .where('instance_id', '=', instanceId)
    .where('status', '=', 'stored')
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) > 0) {
    ctx.summary.rejected += 1;
    ctx.summary.instancesStored -= 1;
  }
}

/** Marks the files whose instances belong to a series that could not be built. */
async function markSeriesFiles(ctx: RunContext, seriesId: string, detail: string) {
  const instances = await ctx.deps.db.selectFrom('dicom_instances').select('id').where('series_id', '=', seriesId).execute();
  if (instances.length === 0) return;
  await ctx.deps.db
    .updateTable('ingest_files')
    .set({ detail: `Stored, but its series could not be built: ${detail}`, flags: JSON.stringify(['build-failed']) })
    .where('run_id', '=', ctx.run.id)
    .where('instance_id', 'in', instances.map((i) => i.id))
    .execute();
}

/**
 * Points the report's DICOM files (stored or duplicate) at the asset holding their instance:
 * one built in this run, or, for a duplicate of an earlier upload, the asset that lists it.
 */
async function linkInstanceAssets(ctx: RunContext, assetOfInstance: Map<string, string>) {
  const files = await ctx.deps.db
    .selectFrom('ingest_files')
    .select(['idx', 'instance_id'])
    .where('run_id', '=', ctx.run.id)
    .where('instance_id', 'is not', null)
    .where('asset_id', 'is', null)
    .execute();
  for (const f of files) {
    const instanceId = f.instance_id!;
    let assetId = assetOfInstance.get(instanceId);
    if (!assetId) {
      const held = await ctx.deps.db.selectFrom('assets').select('id').where('project_id', '=', ctx.run.project_id).where('metadata', 'like', `%"${instanceId}"%`).executeTakeFirst();
      assetId = held?.id;
    }
    if (assetId) await ctx.deps.db.updateTable('ingest_files').set({ asset_id: assetId }).where('run_id', '=', ctx.run.id).where('idx', '=', f.idx).execute();
  }
}

/** Files handled at once: decoding, gzip and blob writes of one overlap the others' waits. */
const FILE_CONCURRENCY = 8;

async function processFiles(ctx: RunContext) {
  const { deps, run } = ctx;
  const all = await deps.db.selectFrom('ingest_files').selectAll().where('run_id', '=', run.id).orderBy('idx').execute();
  let nextIdx = all.reduce((m, f) => Math.max(m, f.idx), -1) + 1;
  const work = all.filter((f) => f.status === 'pending');
  const pairs = new Map<string, IngestFilesTable[]>();
  const inflight = new Set<Promise<void>>();
  let transient: unknown = null;
  const drain = () => Promise.all([...inflight]);

  const handle = async (file: IngestFilesTable, run: () => Promise<Outcome | null>) => {
    try {
      const outcome = await run();
      if (outcome) await ctx.record(file, outcome);
    } catch (err) {
      if (isTransient(err)) {
        transient ??= err;
        return;
      }
      await ctx.record(file, { status: 'rejected', kind: null, detail: describe(err), assetId: null, flags: [] });
    }
  };

  while (work.length > 0 && transient === null) {
    const file = work.shift()!;
    const filePath = rawFilePath(deps, run.id, file.idx);
    let kind: ReturnType<typeof classify>['kind'];
    let format: ReturnType<typeof classify>['format'];
    try {
      ({ kind, format } = classify(file.name, await readHead(filePath)));
    } catch (err) {
      await handle(file, () => Promise.reject(err instanceof Error ? err : new Error('unreadable')));
      continue;
    }
    if (kind === 'zip') {
      await drain();
      await handle(file, async () => {
        if (file.parent_idx !== null) return { status: 'rejected', kind: 'zip', detail: 'Archives inside archives are not expanded; upload the inner archive itself.', assetId: null, flags: [] };
        const children = await expandZip(ctx, file, filePath, nextIdx);
        nextIdx += children.length;
        work.unshift(...children.filter((c) => c.status === 'pending'));
        return null;
      });
      continue;
    }
    if (kind === 'nifti-header' || kind === 'nifti-image') {
      // Analyze/NIfTI pairs: wait for the other half, then read both.
      const stem = pairStem(file.name);
      const group = [...(pairs.get(stem) ?? []), file];
      pairs.set(stem, group);
      const other = work.find((f) => f.name !== file.name && pairStem(f.name) === stem && /\.(hdr|img)(\.gz)?$/i.test(f.name));
      if (other) continue;
      pairs.delete(stem);
      if (group.length < 2) {
        await ctx.record(file, { status: 'rejected', kind: 'nifti', detail: `"${file.name}" is half of an .hdr/.img pair; upload both files together.`, assetId: null, flags: [] });
        continue;
      }
      await drain();
      try {
        const asset = await ingestNifti(ctx.deps, run, group.map((g) => ({ name: g.name, path: rawFilePath(deps, run.id, g.idx) })), `run:${run.id}:${group[0]!.idx}`);
        ctx.summary.assetsCreated += asset.created ? 1 : 0;
        for (const g of group) await ctx.record(g, { status: 'stored', kind: 'nifti', detail: asset.detail, assetId: asset.id, flags: asset.flags });
      } catch (err) {
        if (isTransient(err)) {
          transient ??= err;
          continue;
        }
        for (const g of group) await ctx.record(g, { status: 'rejected', kind: 'nifti', detail: describe(err), assetId: null, flags: [] });
      }
      continue;
    }
    while (inflight.size >= FILE_CONCURRENCY) await Promise.race(inflight);
    const p: Promise<void> = handle(file, () => handleOne(ctx, file, filePath, kind, format)).finally(() => inflight.delete(p));
    inflight.add(p);
  }
  await drain();
  await ctx.flush();
  if (transient !== null) throw transient;
}

async function handleOne(ctx: RunContext, file: IngestFilesTable, filePath: string, kind: ReturnType<typeof classify>['kind'], format: 'png' | 'tiff' | 'jpeg' | undefined): Promise<Outcome> {
  const { deps, run } = ctx;
  if (kind === 'dicom') {
    const raw = new Uint8Array(await readFile(filePath));
    const r = await ingestDicomBytes(deps, run, raw, ctx.deid);
    raw.fill(0);
    ctx.addDeid(r.deid);
    if (!ctx.summary.seriesIds.includes(r.seriesId)) ctx.summary.seriesIds.push(r.seriesId);
    if (r.status === 'stored') {
      ctx.summary.instancesStored++;
      if (r.flags.includes('burned-in')) ctx.summary.flaggedBurnedIn++;
      if (r.redacted) ctx.summary.redacted++;
    }
    // The asset is known once the series is built (linkInstanceAssets).
    return { status: r.status, kind: 'dicom', detail: r.detail, assetId: null, flags: r.flags, instanceId: r.instanceId };
  }
  if (kind === 'nifti') {
    const asset = await ingestNifti(deps, run, [{ name: file.name, path: filePath }], `run:${run.id}:${file.idx}`);
    if (asset.created) ctx.summary.assetsCreated++;
    return { status: 'stored', kind: 'nifti', detail: asset.detail, assetId: asset.id, flags: asset.flags };
  }
  if (kind === 'raster' && format) {
    const asset = await ingestRaster(deps, run, file.name, filePath, format, `run:${run.id}:${file.idx}`);
    if (asset.created) ctx.summary.assetsCreated++;
    return { status: 'stored', kind: 'image', detail: asset.detail, assetId: asset.id, flags: [] };
  }
  // Anything else: the plain-file path (UTF-8 text); the prober names what is wrong.
  const { probeFile } = await import('@caliper/media');
  const probe = await probeFile(filePath, file.name);
  if (!probe.ok) return { status: 'rejected', kind: null, detail: probe.detail, assetId: null, flags: [] };
  const size = (await stat(filePath)).size;
  const sha256 = await sha256File(filePath);
  await deps.blobs.putFile(filePath, sha256, { contentType: probe.mediaType });
  try {
    const r = await upsertAsset(deps, run.created_by, {
      taskId: run.task_id,
      projectId: run.project_id,
      sourceKey: `run:${run.id}:${file.idx}`,
      name: file.name,
      modality: probe.modality === 'text' ? 'text' : 'image',
      mediaType: probe.mediaType,
      blob: { sha256, size },
      imaging: null,
      frames: [],
      thumbnail: null,
      hold: null,
      extraMetadata: probe.metadata as unknown as Record<string, unknown>,
    });
    if (r.created) ctx.summary.assetsCreated++;
    return { status: 'stored', kind: probe.modality, detail: null, assetId: r.id, flags: [] };
  } catch (err) {
    await collectBlobs(deps, [sha256]);
    throw err;
  }
}

/** Expands a zip into pending child files (recorded with the zip marked expanded, in one transaction). */
async function expandZip(ctx: RunContext, file: IngestFilesTable, filePath: string, firstIdx: number): Promise<IngestFilesTable[]> {
  const { deps, run } = ctx;
  const { extractZip } = await import('@caliper/media');
  const dest = path.join(runDir(deps, run.id), `zip-${file.idx}`);
  await rm(dest, { recursive: true, force: true });
  await mkdir(dest, { recursive: true });
  let extracted: Awaited<ReturnType<typeof extractZip>>;
  try {
    extracted = await extractZip(filePath, dest, { maxTotalBytes: deps.config.maxExpandedBytes, maxEntryBytes: Math.min(deps.config.maxExpandedBytes, deps.config.maxUploadBytes) });
  } catch (err) {
    await rm(dest, { recursive: true, force: true });
    await ctx.record(file, { status: 'rejected', kind: 'zip', detail: describe(err), assetId: null, flags: [] });
    return [];
  }
  const children: IngestFilesTable[] = [];
  let idx = firstIdx;
  for (const e of extracted.entries) {
    const child: IngestFilesTable = { run_id: run.id, idx, parent_idx: file.idx, name: `${file.name}/${e.name}`.slice(0, 500), size: e.size, status: 'pending', kind: null, detail: null, asset_id: null, instance_id: null, flags: '[]' };
    await rename(e.path, rawFilePath(deps, run.id, idx));
    children.push(child);
    idx++;
  }
  for (const r of extracted.rejected) {
    children.push({ run_id: run.id, idx, parent_idx: file.idx, name: `${file.name}/${r.name}`.slice(0, 500), size: 0, status: 'rejected', kind: null, detail: r.reason, asset_id: null, instance_id: null, flags: '[]' });
    idx++;
  }
  await rm(dest, { recursive: true, force: true });
  const now = deps.clock.now().toISOString();
  const rejectedHere = extracted.rejected.length;
  ctx.summary.rejected += rejectedHere;
  await deps.db.transaction().execute(async (trx) => {
    for (let i = 0; i < children.length; i += 200) await trx.insertInto('ingest_files').values(children.slice(i, i + 200)).execute();
    await trx
      .updateTable('ingest_files')
      .set({ status: 'expanded', kind: 'zip', detail: `${extracted.entries.length} ${extracted.entries.length === 1 ? 'file' : 'files'} extracted${rejectedHere ? `, ${rejectedHere} rejected` : ''}`, flags: '[]' })
      .where('run_id', '=', run.id)
      .where('idx', '=', file.idx)
      .execute();
    await trx
      .updateTable('ingest_runs')
      .set((eb) => ({
        files_total: eb('files_total', '+', children.length),
        files_done: eb('files_done', '+', 1 + rejectedHere),
        bytes_done: eb('bytes_done', '+', Number(file.size)),
        summary: JSON.stringify(ctx.summary),
        updated_at: now,
      }))
      .where('id', '=', run.id)
      .execute();
  });
  await rm(filePath, { force: true });
  return children;
}

