import {
  applyLabelmapPatch,
  canonicalLabelmap,
  decodeLabelmapHeader,
  decodeLabelmapSlice,
  LabelmapFormatError,
  type LabelmapHeader,
} from '@caliper/core/labelmap';
import { BlobNotFoundError, readAllBytes } from '../blob/index.js';
import type { Db } from '../db/index.js';
import type { Actor, Deps } from '../deps.js';
import { badRequest, notFound, unprocessable } from '../errors.js';
import { requireAsset, requireAssetAnnotate, roleAllows } from '../policy.js';
import { collectBlobs } from './assets.js';
import { appendAudit } from './audit.js';

/** The largest label-map container a request may carry (a 512×512×1000 uint16 map compresses far below). */
export const MAX_LABELMAP_BYTES = 256 * 1024 * 1024;

export interface LabelmapSaved {
  sha: string;
  shape: [number, number, number];
  dtype: 'uint8' | 'uint16';
  /** size of the stored full container */
  bytes: number;
  /** slices carried by the request (every slice for a full container) */
  slices: number;
}

function readHeader(bytes: Uint8Array): LabelmapHeader {
  try {
    return decodeLabelmapHeader(bytes);
  } catch (err) {
    if (err instanceof LabelmapFormatError) throw badRequest(err.message);
    throw err;
  }
}

/** Inflates every deflate chunk of `header` once, so nothing that does not decode is stored. */
function checkChunks(bytes: Uint8Array, header: LabelmapHeader) {
  try {
    for (const c of header.chunks) if (c.encoding === 'deflate') decodeLabelmapSlice(bytes, header, c);
  } catch (err) {
    if (err instanceof LabelmapFormatError) throw badRequest(err.message);
    throw err;
  }
}

function gridOf(metadata: string): [number, number, number] | null {
  const meta = JSON.parse(metadata) as { imaging?: { dims?: unknown } };
  const dims = meta.imaging?.dims;
  if (!Array.isArray(dims) || dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d > 0)) return null;
  return dims as [number, number, number];
}

/**
 * Stores a label map of an asset: a FULL container, or a PATCH naming (as `base`) a label map
 * already stored for this asset, applied by copying compressed slices (no recompression). Every
 * chunk the request carries is inflated once to check its size. The stored full container is
 * content-addressed; the (asset, sha) row and the audit entry commit together.
 */
export async function saveLabelmap(deps: Deps, actor: Actor, assetId: string, body: Uint8Array): Promise<LabelmapSaved> {
  const { asset } = await requireAssetAnnotate(deps.db, actor, assetId);
  const header = readHeader(body);
  const grid = gridOf(asset.metadata);
  if (!grid) throw unprocessable('This asset has no voxel grid (it is not an imaging volume, stack or image), so it cannot hold a label map.');
  if (header.shape.some((d, i) => d !== grid[i])) {
    throw unprocessable(`The label map shape [${header.shape.join(', ')}] does not match the asset's voxel grid [${grid.join(', ')}] (columns, rows, frames).`);
  }
  checkChunks(body, header);
  let full: Uint8Array;
  if (header.base !== undefined) {
    const base = await deps.db.selectFrom('labelmap_blobs').select(['sha']).where('asset_id', '=', assetId).where('sha', '=', header.base).executeTakeFirst();
    if (!base) throw notFound('The base label map of this patch');
    let baseBytes: Uint8Array;
    try {
      baseBytes = await readAllBytes(await deps.blobs.get(base.sha));
    } catch (err) {
      if (err instanceof BlobNotFoundError) throw notFound('The base label map of this patch');
      throw err;
    }
    try {
      full = applyLabelmapPatch(baseBytes, body);
    } catch (err) {
      // The base was checked when it was stored, so this is a mismatch with the patch (dtype).
      if (err instanceof LabelmapFormatError) throw unprocessable(err.message);
      throw err;
    }
  } else {
    full = canonicalLabelmap(body);
  }
  const { sha256: sha, created } = await deps.blobs.putBytes(full, { contentType: 'application/octet-stream' });
  const now = deps.clock.now().toISOString();
  try {
    await deps.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('labelmap_blobs')
        .values({
          asset_id: assetId,
          sha,
          project_id: asset.project_id,
          shape: JSON.stringify(header.shape),
          dtype: header.dtype,
          bytes: full.length,
          created_by: actor.id,
          created_at: now,
        })
        .onConflict((oc) => oc.columns(['asset_id', 'sha']).doNothing())
        .execute();
      await appendAudit(trx, deps.dbKind, deps.clock, {
        actorId: actor.id,
        action: 'labelmap.save',
        targetType: 'asset',
        targetId: assetId,
        ip: actor.ip,
        details: { sha, patch: header.base !== undefined, slices: header.chunks.length, bytes: full.length },
      });
    });
  } catch (err) {
    if (created) await collectBlobs(deps, [sha]);
    throw err;
  }
  return { sha, shape: header.shape, dtype: header.dtype, bytes: full.length, slices: header.chunks.length };
}

/** A stored label-map container of an asset, for anyone who may view the asset. */
export async function openLabelmap(deps: Deps, actor: Actor, assetId: string, sha: string) {
  const { asset, role } = await requireAsset(deps.db, actor, assetId);
  if (asset.hold && !roleAllows(role, 'asset.review')) throw notFound('Asset');
  const row = await deps.db.selectFrom('labelmap_blobs').select(['sha', 'bytes']).where('asset_id', '=', assetId).where('sha', '=', sha).executeTakeFirst();
  if (!row) throw notFound('Label map');
  return { stream: await deps.blobs.get(row.sha), size: Number(row.bytes), sha: row.sha };
}

/**
 * The label-map objects of a document must point at containers stored for THIS asset, with the
 * same shape (so nobody can reference another asset's blob). One query, and none when the
 * document holds no label maps. Returns the offending object ids with the reason.
 */
export async function checkDocumentLabelmaps(
  db: Db,
  assetId: string,
  labelmaps: readonly { id: string; blob: string; shape: readonly number[] }[],
): Promise<{ id: string; message: string }[]> {
  if (labelmaps.length === 0) return [];
  const shas = [...new Set(labelmaps.map((o) => o.blob))];
  const rows = await db.selectFrom('labelmap_blobs').select(['sha', 'shape']).where('asset_id', '=', assetId).where('sha', 'in', shas).execute();
  const shapeOf = new Map(rows.map((r) => [r.sha, JSON.parse(r.shape) as number[]]));
  const bad: { id: string; message: string }[] = [];
  for (const o of labelmaps) {
    const stored = shapeOf.get(o.blob);
    if (!stored) bad.push({ id: o.id, message: 'its blob is not a label map saved for this asset' });
    else if (o.shape.length !== stored.length || o.shape.some((d, i) => d !== stored[i])) {
      bad.push({ id: o.id, message: `its shape [${o.shape.join(', ')}] differs from the saved label map's shape [${stored.join(', ')}]` });
    }
  }
  return bad;
}
