import { randomUUID } from 'node:crypto';
import type { AssetsTable } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { appendAudit } from '../audit.js';
import type { ImagingMeta, WindowPreset } from '@caliper/core';
import type { StoredBlob, StoredFrame } from './frames.js';

export type { ImagingMeta, WindowPreset } from '@caliper/core';
export type ImagingKind = ImagingMeta['kind'];

export interface AssetBuild {
  taskId: string;
  projectId: string;
  sourceKey: string;
  name: string;
  modality: 'image' | 'volume' | 'stack' | 'cine' | 'dicom-object' | 'text';
  mediaType: string;
  /** The asset's main blob (de-identified DICOM, NIfTI or the original raster). */
  blob: StoredBlob;
  /** Absent for non-imaging assets (text). */
  imaging: ImagingMeta | null;
  frames: StoredFrame[];
  thumbnail: StoredBlob | null;
  hold: string | null;
  extraMetadata?: Record<string, unknown>;
}

/**
 * Creates the asset, or updates the one built earlier from the same source in this task (a
 * series that gained slices), with its frames, in one transaction. Returns whether it was new.
 */
export async function upsertAsset(deps: Deps, actorId: string, b: AssetBuild): Promise<{ id: string; created: boolean }> {
  const now = deps.clock.now().toISOString();
  const metadata = JSON.stringify(b.imaging ? { ...(b.extraMetadata ?? {}), imaging: b.imaging } : (b.extraMetadata ?? {}));
  return deps.db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('assets').select(['id', 'hold']).where('task_id', '=', b.taskId).where('source_key', '=', b.sourceKey).executeTakeFirst();
    const id = existing?.id ?? randomUUID();
    if (existing) {
      await trx
        .updateTable('assets')
        .set({ name: b.name, modality: b.modality, media_type: b.mediaType, size: b.blob.size, sha256: b.blob.sha256, metadata, frame_count: b.frames.length, thumbnail_sha: b.thumbnail?.sha256 ?? null, hold: existing.hold ?? b.hold })
        .where('id', '=', id)
        .execute();
      await trx.deleteFrom('asset_frames').where('asset_id', '=', id).execute();
    } else {
      const row: AssetsTable = {
        id,
        project_id: b.projectId,
        task_id: b.taskId,
        name: b.name,
        modality: b.modality,
        media_type: b.mediaType,
        size: b.blob.size,
        sha256: b.blob.sha256,
        metadata,
        created_at: now,
        frame_count: b.frames.length,
        thumbnail_sha: b.thumbnail?.sha256 ?? null,
        hold: b.hold,
        source_key: b.sourceKey,
      };
      await trx.insertInto('assets').values(row).execute();
    }
    const rows = b.frames.map((f, idx) => ({ asset_id: id, idx, sha256: f.sha256, size: f.size, raw_size: f.rawSize }));
    for (let i = 0; i < rows.length; i += 200) await trx.insertInto('asset_frames').values(rows.slice(i, i + 200)).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId,
      action: existing ? 'asset.update' : 'asset.create',
      targetType: 'asset',
      targetId: id,
      ip: null,
      details: { taskId: b.taskId, modality: b.modality, frames: b.frames.length, bytes: b.blob.size },
    });
    return { id, created: !existing };
  });
}

const CT_PRESETS: WindowPreset[] = [
  { name: 'Soft tissue', center: 40, width: 400 },
  { name: 'Lung', center: -600, width: 1500 },
  { name: 'Bone', center: 480, width: 2500 },
  { name: 'Brain', center: 40, width: 80 },
  { name: 'Liver', center: 90, width: 150 },
];

/** Window presets: the file's own VOI windows, then the modality's presets, then one from the value histogram. */
export function windowPresets(modality: string, fileWindows: WindowPreset[], auto: WindowPreset | null): WindowPreset[] {
  const out = [...fileWindows];
  if (modality === 'CT') out.push(...CT_PRESETS);
  if (auto) out.push(auto);
  return out;
}

/** A window from the 1st–99th percentile of the rescaled values of one frame. */
export function autoWindow(values: ArrayLike<number>, slope: number, intercept: number, samples = 1): WindowPreset | null {
  const n = Math.floor(values.length / samples);
  if (n === 0) return null;
  const step = Math.max(1, Math.floor(n / 65536));
  const picked: number[] = [];
  for (let i = 0; i < n; i += step) {
    const v = values[i * samples]! * slope + intercept;
    if (Number.isFinite(v)) picked.push(v);
  }
  if (picked.length === 0) return null;
  picked.sort((a, b) => a - b);
  const lo = picked[Math.floor(picked.length * 0.01)]!;
  const hi = picked[Math.min(picked.length - 1, Math.floor(picked.length * 0.99))]!;
  const width = Math.max(hi - lo, 1);
  return { name: 'Auto', center: lo + width / 2, width };
}

export function valueRange(values: ArrayLike<number>, slope: number, intercept: number): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return null;
  const a = lo * slope + intercept;
  const b = hi * slope + intercept;
  return [Math.min(a, b), Math.max(a, b)];
}
