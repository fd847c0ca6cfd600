import { createGunzip } from 'node:zlib';
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
  const { asset } = await requireVisibleAsset(deps, actor, assetId);
  const frame = await deps.db.selectFrom('asset_frames').selectAll().where('asset_id', '=', assetId).where('idx', '=', index).executeTakeFirst();
  if (!frame) throw notFound('Frame');
  if (index === 0) {
    await deps.db.transaction().execute((trx) =>
      appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'asset.view', targetType: 'asset', targetId: asset.id, ip: actor.ip, details: { frames: true } }),
    );
  }
  const stream = await deps.blobs.get(frame.sha256);
  if (acceptsGzip) return { stream, gzip: true, size: Number(frame.size), sha256: frame.sha256 };
  return { stream: stream.pipe(createGunzip()), gzip: false, size: Number(frame.raw_size), sha256: frame.sha256 };
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
