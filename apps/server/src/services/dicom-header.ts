import type { HeaderElement } from '@caliper/media';
import type { Actor, Deps } from '../deps.js';
import { HttpError, notFound } from '../errors.js';
import { requireAsset, roleAllows } from '../policy.js';
import { appendAudit } from './audit.js';
import { readBlob } from './ingest/build.js';

/** The most elements listed (at every depth) and the longest value shown. */
export const MAX_HEADER_ELEMENTS = 5000;
export const MAX_HEADER_VALUE_LENGTH = 1000;

export interface DicomHeaderView {
  sopInstanceUid: string;
  /** The asset's frame (slice) asked for. */
  frame: number;
  /** The frame's index inside its instance (0 for single-frame instances). */
  instanceFrame: number;
  /** Frames in that instance. */
  instanceFrames: number;
  elements: HeaderElement[];
  /** True when the listing stopped at {@link MAX_HEADER_ELEMENTS}. */
  truncated: boolean;
}

const noHeader = () => new HttpError(404, 'Not Found', 'This asset has no DICOM header.');

interface AssetMeta {
  instanceIds?: unknown;
  imaging?: { source?: unknown; kind?: unknown };
}

/**
 * Which stored instance, and which frame inside it, holds frame `frame` of an asset built from
 * DICOM. A series asset lists its instances in frame order (one frame each); a multi-frame
 * object's frames are in the order the build chose: the geometric order of an enhanced volume,
 * else the file's order (derived again here the way the build does).
 */
async function locate(instanceIds: string[], frameCount: number, frame: number, bytes: () => Promise<Uint8Array>) {
  if (instanceIds.length > 1 || frameCount <= 1) return { instanceId: instanceIds[frame]!, instanceFrame: null };
  const core = await import('@caliper/core');
  const media = await import('@caliper/media');
  const dicom = media.readDicom(await bytes());
  const frames = media.frameGeometries(dicom);
  let order = frames.map((f) => f.frameIndex);
  if (frames.some((f) => f.geometrySource === 'functional-groups' || f.geometrySource === 'grid-frame-offset')) {
    const g = core.assembleSeries(frames);
    if (g.kind === 'volume') {
      const byId = new Map(frames.map((f) => [f.id, f.frameIndex]));
      order = g.order.map((id) => byId.get(id)!);
    }
  }
  return { instanceId: instanceIds[0]!, instanceFrame: order[frame] ?? frame, dicom };
}

/**
 * Every element of the stored (de-identified at ingest) DICOM instance holding frame `frame` of
 * an asset. Only what was stored is read: the original never reached the server.
 */
export async function getDicomHeader(deps: Deps, actor: Actor, assetId: string, frame: number): Promise<DicomHeaderView> {
  const { asset, role } = await requireAsset(deps.db, actor, assetId);
  // Held assets (burned-in text waiting for review) are seen only by those who may review them.
  if (asset.hold && !roleAllows(role, 'asset.review')) throw notFound('Asset');
  const meta = JSON.parse(asset.metadata) as AssetMeta;
  const ids = Array.isArray(meta.instanceIds) ? meta.instanceIds.filter((x): x is string => typeof x === 'string') : [];
  if (asset.media_type !== 'application/dicom' || ids.length === 0) throw noHeader();
  const frames = Math.max(1, Number(asset.frame_count), ids.length);
  if (frame >= frames) throw notFound('Frame');

  const rows = await deps.db.selectFrom('dicom_instances').select(['id', 'sha256', 'sop_instance_uid']).where('id', 'in', ids).where('project_id', '=', asset.project_id).execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  let blob: Uint8Array | null = null;
  const bytesOf = async (sha256: string) => (blob ??= await readBlob(deps, sha256));
  const firstRow = byId.get(ids[0]!);
  const where = await locate(ids, Number(asset.frame_count), frame, async () => {
    if (!firstRow) throw noHeader();
    return bytesOf(firstRow.sha256);
  });
  const row = byId.get(where.instanceId);
  if (!row) throw noHeader();

  const media = await import('@caliper/media');
  const dicom = 'dicom' in where && where.dicom ? where.dicom : media.readDicom(await bytesOf(row.sha256));
  const dump = media.dumpDicom(dicom, { maxElements: MAX_HEADER_ELEMENTS, maxValueLength: MAX_HEADER_VALUE_LENGTH });

  await deps.db.transaction().execute((trx) =>
    appendAudit(trx, deps.dbKind, deps.clock, { actorId: actor.id, action: 'asset.view', targetType: 'asset', targetId: asset.id, ip: actor.ip, details: { dicomHeader: true, frame } }),
  );
  return {
    sopInstanceUid: dicom.sopInstanceUID ?? row.sop_instance_uid,
    frame,
    instanceFrame: where.instanceFrame ?? 0,
    instanceFrames: Math.max(1, dicom.numberOfFrames ?? 1),
    elements: dump.elements,
    truncated: dump.truncated,
  };
}
