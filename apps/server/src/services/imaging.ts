import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { readAllBytes } from '../blob/index.js';
import type { Actor, Deps } from '../deps.js';
import { conflict, notFound } from '../errors.js';
import { requireAsset, requireProject, requireTask, roleAllows } from '../policy.js';
import { toAssetView } from './assets.js';
import { appendAudit } from './audit.js';

export interface SeriesView {
  id: string;
  seriesUid: string;
  modality: string;
  description: string;
  number: number | null;
  instanceCount: number;
  assets: ReturnType<typeof toAssetView>[];
}

export interface StudyView {
  id: string;
  studyUid: string;
  patientId: string;
  studyDate: string;
  description: string;
  series: SeriesView[];
}

/** Studies and series of a task, with the assets built from each series (volumes, stacks, cines, objects). */
export async function listTaskStudies(deps: Deps, actor: Actor, taskId: string): Promise<StudyView[]> {
  await requireTask(deps.db, actor, taskId, 'asset.listAll');
  const series = await deps.db.selectFrom('dicom_series').selectAll().where('task_id', '=', taskId).orderBy('number').execute();
  if (series.length === 0) return [];
  const studies = await deps.db.selectFrom('dicom_studies').selectAll().where('id', 'in', [...new Set(series.map((s) => s.study_id))]).execute();
  const counts = await deps.db
    .selectFrom('dicom_instances')
    .select(['series_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('series_id', 'in', series.map((s) => s.id))
    .groupBy('series_id')
    .execute();
  const assets = await deps.db.selectFrom('assets').selectAll().where('task_id', '=', taskId).where('source_key', 'is not', null).execute();
  const bySeries = new Map<string, ReturnType<typeof toAssetView>[]>();
  for (const a of assets) {
    const view = toAssetView(a);
    const imaging = view.metadata.imaging as { seriesId?: string } | undefined;
    if (!imaging?.seriesId) continue;
    const list = bySeries.get(imaging.seriesId) ?? [];
    list.push(view);
    bySeries.set(imaging.seriesId, list);
  }
  return studies
    .sort((a, b) => a.study_date.localeCompare(b.study_date) || a.created_at.localeCompare(b.created_at))
    .map((st) => ({
      id: st.id,
      studyUid: st.study_uid,
      patientId: st.patient_id,
      studyDate: st.study_date,
      description: st.description,
      series: series
        .filter((s) => s.study_id === st.id)
        .map((s) => ({
          id: s.id,
          seriesUid: s.series_uid,
          modality: s.modality,
          description: s.description,
          number: s.number,
          instanceCount: Number(counts.find((c) => c.series_id === s.id)?.n ?? 0),
          assets: bySeries.get(s.id) ?? [],
        })),
    }));
}

/** Held assets are seen only by those who may review them. */
async function requireVisibleAsset(deps: Deps, actor: Actor, assetId: string) {
  const r = await requireAsset(deps.db, actor, assetId);
  if (r.asset.hold && !roleAllows(r.role, 'asset.review')) throw notFound('Asset');
  return r;
}

/** One stored frame: gzip-compressed little-endian samples (see asset.metadata.imaging for type and shape). */
export async function openFrame(deps: Deps, actor: Actor, assetId: string, index: number, acceptsGzip: boolean) {
  // A viewer asks for hundreds of frames: the asset, the frame and the caller's role come in one
  // query; only roles that see assets through their jobs (annotators) take the full check.
  const row = await deps.db
    .selectFrom('assets')
    .leftJoin('asset_frames as f', (j) => j.onRef('f.asset_id', '=', 'assets.id').on('f.idx', '=', index))
    .leftJoin('project_members as m', (j) => j.onRef('m.project_id', '=', 'assets.project_id').on('m.user_id', '=', actor.id))
    .select(['assets.id', 'assets.hold', 'f.sha256', 'f.size', 'f.raw_size', 'm.role'])
    .where('assets.id', '=', assetId)
    .executeTakeFirst();
  const role = actor.systemRole === 'admin' ? 'admin' : (row?.role ?? null);
  if (!row || !role) throw notFound('Asset');
  if (!roleAllows(role, 'asset.listAll') || (row.hold && !roleAllows(role, 'asset.review'))) await requireVisibleAsset(deps, actor, assetId);
  const asset = { id: row.id };
  const frame = row.sha256 ? { sha256: row.sha256, size: Number(row.size), raw_size: Number(row.raw_size) } : null;
  if (!frame) throw notFound('Frame');
  if (index === 0) {
    await deps.db.transaction().execute((trx) =>
      appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'asset.view', targetType: 'asset', targetId: asset.id, ip: actor.ip, details: { frames: true } }),
    );
  }
  const stream = await deps.blobs.get(frame.sha256);
  if (acceptsGzip) return { stream, gzip: true, size: Number(frame.size), sha256: frame.sha256 };
  const raw = await inflateFrame(stream, frame.raw_size);
  return { stream: Readable.from([raw]), gzip: false, size: raw.byteLength, sha256: frame.sha256 };
}

const gunzipAsync = promisify(gunzip);

/**
 * Inflates one stored frame in a single zlib call (a streaming inflate would cross to the
 * thread pool once per 16 KiB of output, which dominates for hundreds of frames).
 */
async function inflateFrame(stream: NodeJS.ReadableStream, rawSize: number): Promise<Buffer> {
  return gunzipAsync(await readAllBytes(stream), { chunkSize: Math.max(64 * 1024, Number(rawSize)) });
}

/** The most frames one slab request may ask for. */
export const MAX_SLAB_FRAMES = 1024;

/**
 * A run of consecutive frames as one stream of raw samples (each frame inflated in turn), so a
 * viewer loads a volume in a few requests instead of one per slice.
 */
export async function openSlab(deps: Deps, actor: Actor, assetId: string, start: number, count: number) {
  const { asset } = await requireVisibleAsset(deps, actor, assetId);
  const frames = await deps.db
    .selectFrom('asset_frames')
    .select(['idx', 'sha256', 'raw_size'])
    .where('asset_id', '=', assetId)
    .where('idx', '>=', start)
    .where('idx', '<', start + count)
    .orderBy('idx')
    .execute();
  if (frames.length === 0) throw notFound('Frame');
  if (start === 0) {
    await deps.db.transaction().execute((trx) =>
      appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'asset.view', targetType: 'asset', targetId: asset.id, ip: actor.ip, details: { frames: true } }),
    );
  }
  const out = new PassThrough({ highWaterMark: 4 << 20 });
  void (async () => {
    try {
      // Two frames are read and inflated ahead (on the thread pool) while one is being sent.
      const load = (i: number) => {
        if (i >= frames.length) return null;
        const p = deps.blobs.get(frames[i]!.sha256).then((st) => inflateFrame(st, frames[i]!.raw_size));
        p.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
        return p;
      };
      const ahead = [load(0), load(1)];
      for (let i = 0; i < frames.length; i++) {
        const raw = await ahead.shift()!;
        ahead.push(load(i + 2));
        if (!raw) break;
        if (!out.write(raw)) await new Promise((r) => out.once('drain', r));
      }
      out.end();
    } catch (err) {
      out.destroy(err instanceof Error ? err : new Error('frame read failed'));
    }
  })();
  return { stream: out, size: frames.reduce((n, f) => n + Number(f.raw_size), 0), first: frames[0]!.idx, count: frames.length };
}

export async function openThumbnail(deps: Deps, actor: Actor, assetId: string) {
  const { asset } = await requireVisibleAsset(deps, actor, assetId);
  if (!asset.thumbnail_sha) throw notFound('Thumbnail');
  return { stream: await deps.blobs.get(asset.thumbnail_sha), sha256: asset.thumbnail_sha };
}

/** Assets waiting for a reviewer (burned-in text) in a project. */
export async function listHeldAssets(deps: Deps, actor: Actor, projectId: string) {
  await requireProject(deps.db, actor, projectId, 'asset.review');
  const rows = await deps.db.selectFrom('assets').selectAll().where('project_id', '=', projectId).where('hold', 'is not', null).orderBy('created_at').execute();
  return rows.map(toAssetView);
}

/** A reviewer confirms the asset shows no identifying burned-in text (or that the redaction covered it). */
export async function releaseAsset(deps: Deps, actor: Actor, assetId: string) {
  const { asset, role } = await requireAsset(deps.db, actor, assetId);
  if (!roleAllows(role, 'asset.review')) throw notFound('Asset');
  if (!asset.hold) throw conflict('This asset is not waiting for review.');
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('assets').set({ hold: null }).where('id', '=', assetId).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'asset.release', targetType: 'asset', targetId: assetId, ip: actor.ip, details: { hold: asset.hold } });
  });
  return toAssetView({ ...asset, hold: null });
}
