import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { spoolToTemp, TooLargeError } from '../blob/index.js';
import type { AssetsTable } from '../db/schema.js';
import type { Actor, Deps } from '../deps.js';
import { requireAsset, requireTask } from '../policy.js';
import { appendAudit } from './audit.js';

const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

export interface AssetView {
  id: string;
  projectId: string;
  taskId: string;
  name: string;
  modality: string;
  mediaType: string;
  size: number;
  sha256: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  /** Stored frames (slices/frames of imaging assets; 0 for plain files). */
  frameCount: number;
  hasThumbnail: boolean;
  /** Why the asset waits for a reviewer (e.g. 'burned-in'), or null. */
  hold: string | null;
}

export const toAssetView = (a: AssetsTable): AssetView => ({
  id: a.id,
  projectId: a.project_id,
  taskId: a.task_id,
  name: a.name,
  modality: a.modality,
  mediaType: a.media_type,
  size: Number(a.size),
  sha256: a.sha256,
  metadata: JSON.parse(a.metadata) as Record<string, unknown>,
  createdAt: a.created_at,
  frameCount: Number(a.frame_count ?? 0),
  hasThumbnail: Boolean(a.thumbnail_sha),
  hold: a.hold ?? null,
});

export interface Rejection {
  fileName: string;
  status: number;
  detail: string;
}

/** Checks the caller may upload into the task before any byte is read. */
export async function authorizeUpload(deps: Deps, actor: Actor, taskId: string) {
  const { task } = await requireTask(deps.db, actor, taskId, 'asset.upload');
  return task;
}

/**
 * Ingests one uploaded file: streams it to a temporary file while hashing (never whole in
 * memory), checks its content against its claimed type, stores the blob, then records the
 * asset row in one transaction. On any failure nothing remains: no temp file, no row, and no
 * blob that no asset references.
 */
export async function ingestUpload(
  deps: Deps,
  actor: Actor,
  task: { id: string; project_id: string },
  rawName: string,
  stream: Readable,
): Promise<{ ok: true; asset: AssetView } | { ok: false; rejection: Rejection }> {
  // The media readers are loaded on the first upload, not at start-up.
  const { probeFile, sanitizeFileName } = await import('@caliper/media');
  const display = rawName.slice(0, 200);
  const clean = sanitizeFileName(rawName);
  if (!clean.ok) {
    stream.resume();
    return { ok: false, rejection: { fileName: display, status: 400, detail: clean.detail } };
  }
  const name = clean.name;
  let spooled: { path: string; sha256: string; size: number } | null = null;
  try {
    spooled = await spoolToTemp(stream, path.join(deps.config.dataDir, 'tmp'), deps.config.maxUploadBytes);
    // The multipart parser stops at the limit and marks the stream; never store a cut-off file.
    if ((stream as Readable & { truncated?: boolean }).truncated) throw new TooLargeError(deps.config.maxUploadBytes);
    const probe = await probeFile(spooled.path, name);
    if (!probe.ok) return { ok: false, rejection: { fileName: name, status: probe.status, detail: probe.detail } };
    await deps.blobs.putFile(spooled.path, spooled.sha256, { contentType: probe.mediaType });
    const row: AssetsTable = {
      id: randomUUID(),
      project_id: task.project_id,
      task_id: task.id,
      name,
      modality: probe.modality,
      media_type: probe.mediaType,
      size: spooled.size,
      sha256: spooled.sha256,
      metadata: JSON.stringify(probe.metadata),
      created_at: deps.clock.now().toISOString(),
      frame_count: 0,
      thumbnail_sha: null,
      hold: null,
      source_key: null,
    };
    try {
      await deps.db.transaction().execute(async (trx) => {
        await trx.insertInto('assets').values(row).execute();
        await appendAudit(trx, deps.dbKind, deps.clock, {
          actorId: actor.id,
          action: 'asset.create',
          targetType: 'asset',
          targetId: row.id,
          ip: actor.ip,
          details: { taskId: task.id, modality: row.modality, bytes: row.size },
        });
      });
    } catch (err) {
      await collectBlobs(deps, [spooled.sha256]);
      throw err;
    }
    return { ok: true, asset: toAssetView(row) };
  } catch (err) {
    if (err instanceof TooLargeError) {
      return { ok: false, rejection: { fileName: name, status: 413, detail: `"${name}" is larger than the upload limit of ${formatLimit(deps.config.maxUploadBytes)}.` } };
    }
    throw err;
  } finally {
    if (spooled) await rm(spooled.path, { force: true });
  }
}

const formatLimit = (bytes: number) => (bytes >= 1048576 ? `${Math.round(bytes / 1048576)} MB` : `${bytes} bytes`);

/** Every blob key held by the assets (and DICOM instances) of a project or task, to collect after deleting it. */
export async function blobKeysOf(deps: Deps, scope: { projectId: string } | { taskId: string }): Promise<string[]> {
  const col = 'projectId' in scope ? ('project_id' as const) : ('task_id' as const);
  const id = 'projectId' in scope ? scope.projectId : scope.taskId;
  const assets = await deps.db.selectFrom('assets').select(['sha256', 'thumbnail_sha']).where(col, '=', id).execute();
  const frames = await deps.db.selectFrom('asset_frames').innerJoin('assets', 'assets.id', 'asset_frames.asset_id').select('asset_frames.sha256').where(`assets.${col}`, '=', id).execute();
  const instances = await deps.db.selectFrom('dicom_instances').innerJoin('dicom_series', 'dicom_series.id', 'dicom_instances.series_id').select('dicom_instances.sha256').where(`dicom_series.${col}`, '=', id).execute();
  const labelmaps = await deps.db.selectFrom('labelmap_blobs').innerJoin('assets', 'assets.id', 'labelmap_blobs.asset_id').select('labelmap_blobs.sha').where(`assets.${col}`, '=', id).execute();
  const exports = 'projectId' in scope ? await deps.db.selectFrom('exports').select('blob_sha').where('project_id', '=', scope.projectId).execute() : [];
  return [
    ...exports.flatMap((e) => (e.blob_sha ? [e.blob_sha] : [])),
    ...assets.flatMap((a) => [a.sha256, ...(a.thumbnail_sha ? [a.thumbnail_sha] : [])]),
    ...frames.map((f) => f.sha256),
    ...instances.map((i) => i.sha256),
    ...labelmaps.map((l) => l.sha),
  ];
}

/**
 * Deletes the blobs among `shas` that nothing references any more (assets, their frames and
 * thumbnails, DICOM instances, label-map containers of any asset).
 */
export async function collectBlobs(deps: Deps, shas: string[]) {
  for (const sha of new Set(shas)) {
    const used =
      (await deps.db.selectFrom('assets').select('id').where((eb) => eb.or([eb('sha256', '=', sha), eb('thumbnail_sha', '=', sha)])).executeTakeFirst()) ??
      (await deps.db.selectFrom('asset_frames').select('asset_id').where('sha256', '=', sha).executeTakeFirst()) ??
      (await deps.db.selectFrom('dicom_instances').select('id').where('sha256', '=', sha).executeTakeFirst()) ??
      (await deps.db.selectFrom('labelmap_blobs').select('asset_id').where('sha', '=', sha).executeTakeFirst()) ??
      (await deps.db.selectFrom('exports').select('id').where('blob_sha', '=', sha).executeTakeFirst());
    if (!used) await deps.blobs.delete(sha);
  }
}

export async function listTaskAssets(deps: Deps, actor: Actor, taskId: string) {
  await requireTask(deps.db, actor, taskId, 'asset.listAll');
  const rows = await deps.db.selectFrom('assets').selectAll().where('task_id', '=', taskId).execute();
  return rows.sort((x, y) => byName.compare(x.name, y.name)).map(toAssetView);
}

export async function getAsset(deps: Deps, actor: Actor, assetId: string) {
  const { asset } = await requireAsset(deps.db, actor, assetId);
  return toAssetView(asset);
}

export async function openAssetMedia(deps: Deps, actor: Actor, assetId: string) {
  const { asset } = await requireAsset(deps.db, actor, assetId);
  const stream = await deps.blobs.get(asset.sha256);
  await deps.db.transaction().execute((trx) =>
    appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'asset.view', targetType: 'asset', targetId: asset.id, ip: actor.ip }),
  );
  const contentType = asset.modality === 'text' ? 'text/plain; charset=utf-8' : asset.media_type;
  return { stream, contentType, size: Number(asset.size), sha256: asset.sha256 };
}
