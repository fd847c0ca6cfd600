import type { DicomInstance, FrameGeometry } from '@caliper/media';
import type { SliceGeometry } from '@caliper/core';
import type { DicomInstancesTable } from '../../db/schema.js';
import { readAllBytes } from '../../blob/index.js';
import type { Deps } from '../../deps.js';
import { collectBlobs } from '../assets.js';
import { autoWindow, type ImagingKind, type ImagingMeta, upsertAsset, valueRange, type WindowPreset, windowPresets } from './assets.js';
import type { InstanceHeader } from './dicom.js';
import { objectClassName } from './dicom.js';
import { dtypeOf, type FrameArray, loadFrame, storeFrame, type StoredFrame } from './frames.js';
import { IngestError } from './errors.js';
import { thumbnailOf } from './thumbnail.js';
import { decodedFrames } from './decode.js';

export async function readBlob(deps: Deps, sha256: string): Promise<Uint8Array> {
  return new Uint8Array(await readAllBytes(await deps.blobs.get(sha256)));
}

interface Inst {
  row: DicomInstancesTable;
  header: InstanceHeader;
}

/** An instance whose pixel data cannot be decoded: it is dropped and the series built without it. */
export class BadInstanceError extends Error {
  override readonly name = 'BadInstanceError';
  constructor(
    readonly instanceId: string,
    readonly reason: unknown,
  ) {
    super('pixel data could not be decoded');
  }
}

export interface BuildOutcome {
  /** Instances removed because their pixel data could not be decoded, with the decoder's error. */
  dropped: Map<string, unknown>;
  created: number;
  updated: number;
  issues: Record<string, number>;
  /** asset id per instance id (for the per-file report). */
  assetOfInstance: Map<string, string>;
}

interface SeriesInfo {
  id: string;
  task_id: string;
  project_id: string;
  study_id: string;
  modality: string;
  description: string;
  number: number | null;
}

function seriesName(s: SeriesInfo, suffix: string): string {
  const base = `${s.modality} series ${s.number ?? '–'}${s.description ? ` ${s.description}` : ''}`;
  return `${base}${suffix}`.slice(0, 200);
}

/** Decoded frames of one instance, as stored values in one typed array per frame (colour converted to RGB). */
async function decodeInstance(deps: Deps, inst: Inst): Promise<{ frames: FrameArray[]; samples: 1 | 3; dicom: DicomInstance }> {
  const media = await import('@caliper/media');
  const bytes = await readBlob(deps, inst.row.sha256);
  const dicom = media.readDicom(bytes);
  return { ...(await decodedFrames(dicom)), dicom };
}

function fileWindows(h: InstanceHeader): WindowPreset[] {
  const out: WindowPreset[] = [];
  for (let i = 0; i < Math.min(h.windowCenter.length, h.windowWidth.length); i++) {
    if (h.windowWidth[i]! > 0) out.push({ name: `File ${i + 1}`, center: h.windowCenter[i]!, width: h.windowWidth[i]! });
  }
  return out;
}

interface FrameSource {
  inst: Inst;
  frameIndex: number;
}

/**
 * Decodes the frames in order and stores each as a chunk. When the instances disagree on the
 * rescale, values are stored rescaled as float32 (slope 1, intercept 0).
 */
async function collectFrames(deps: Deps, sources: FrameSource[]) {
  const slopes = new Set(sources.map((s) => `${s.inst.header.rescaleSlope}/${s.inst.header.rescaleIntercept}`));
  const types = new Set(sources.map((s) => `${s.inst.header.bitsAllocated}/${s.inst.header.bitsStored}/${s.inst.header.pixelRepresentation}`));
  // Slices that disagree on rescale or pixel type are stored as rescaled float32 values.
  const mixedRescale = slopes.size > 1 || (types.size > 1 && sources.every((s) => s.inst.header.samplesPerPixel === 1));
  const first = sources[0]!.inst.header;
  const rescale = mixedRescale ? { slope: 1, intercept: 0 } : { slope: first.rescaleSlope, intercept: first.rescaleIntercept };
  const mid = Math.floor(sources.length / 2);
  // The usual case: every frame was decoded and stored when its file was ingested.
  const ready = sources.map((s) => s.inst.header.frames?.[s.frameIndex]);
  const dtypes = new Set(sources.map((s) => s.inst.header.frameDtype));
  if (!mixedRescale && ready.every(Boolean) && dtypes.size === 1 && first.frameDtype) {
    const middle = await loadFrame(deps, ready[mid]!.sha256, first.frameDtype);
    return { stored: ready as StoredFrame[], dtype: first.frameDtype, samples: first.frameSamples ?? 1, middle, rescale };
  }
  const stored: StoredFrame[] = [];
  let cache: { id: string; decoded: Awaited<ReturnType<typeof decodeInstance>> } | null = null;
  let dtype: ReturnType<typeof dtypeOf> | null = null;
  let samples: 1 | 3 = 1;
  let middle: FrameArray | null = null;
  for (let i = 0; i < sources.length; i++) {
    const s = sources[i]!;
    if (!cache || cache.id !== s.inst.row.id) {
      try {
        cache = { id: s.inst.row.id, decoded: await decodeInstance(deps, s.inst) };
      } catch (err) {
        throw new BadInstanceError(s.inst.row.id, err);
      }
    }
    let frame = cache.decoded.frames[s.frameIndex];
    if (!frame) throw new IngestError(`Frame ${s.frameIndex + 1} is missing from the pixel data.`);
    samples = cache.decoded.samples;
    if (mixedRescale) {
      const f32 = new Float32Array(frame.length);
      const { rescaleSlope: m, rescaleIntercept: b } = s.inst.header;
      for (let k = 0; k < frame.length; k++) f32[k] = frame[k]! * m + b;
      frame = f32;
    }
    const t = dtypeOf(frame);
    if (dtype && dtype !== t) throw new IngestError('The frames of this series have different pixel types.');
    dtype = t;
    stored.push(await storeFrame(deps, frame));
    if (i === mid) middle = frame;
  }
  return { stored, dtype: dtype ?? 'uint8', samples, middle, rescale };
}

async function buildImaging(
  deps: Deps,
  actorId: string,
  series: SeriesInfo,
  sourceKey: string,
  name: string,
  kind: ImagingKind,
  sources: FrameSource[],
  geometry: { spacing: [number, number, number] | null; affineLps: number[][] | null; issues: { code: string; message: string }[] },
  timing: { frameTimesMs: number[] | null; frameRate: number | null },
  mainBlob: { sha256: string; size: number },
  instanceIds: string[],
) {
  const first = sources[0]!.inst.header;
  const { stored, dtype, samples, middle, rescale } = await collectFrames(deps, sources);
  const burned = sources.some((s) => s.inst.header.burnedIn);
  const redacted = sources.some((s) => s.inst.header.redacted);
  const flags = [...(burned ? ['burned-in'] : []), ...(redacted ? ['redacted'] : []), ...geometry.issues.map((i) => i.code)];
  const auto = middle && samples === 1 ? autoWindow(middle, rescale.slope, rescale.intercept) : null;
  const imaging: ImagingMeta = {
    kind,
    source: 'dicom',
    modality: first.modality,
    dims: [first.columns, first.rows, stored.length],
    timepoints: 1,
    samples,
    dtype,
    photometric: samples === 3 ? 'RGB' : first.photometric,
    spacing: geometry.spacing,
    affineLps: geometry.affineLps,
    rescale,
    windows: samples === 1 ? windowPresets(first.modality, fileWindows(first), auto) : [],
    valueRange: middle && samples === 1 ? valueRange(middle, rescale.slope, rescale.intercept) : null,
    frameTimesMs: timing.frameTimesMs,
    frameRate: timing.frameRate,
    issues: geometry.issues,
    flags,
    seriesId: series.id,
    studyId: series.study_id,
    sopClassUid: first.sopClassUid,
  };
  const thumb = middle ? await thumbnailOf(deps, middle, imaging) : null;
  return upsertAsset(deps, actorId, {
    taskId: series.task_id,
    projectId: series.project_id,
    sourceKey,
    name,
    modality: kind === 'object' ? 'dicom-object' : kind,
    mediaType: 'application/dicom',
    blob: mainBlob,
    imaging,
    frames: stored,
    thumbnail: thumb,
    hold: burned ? 'burned-in' : null,
    extraMetadata: { instanceIds },
  });
}

const toSlice = (i: Inst): SliceGeometry => ({
  id: i.row.id,
  imagePositionPatient: i.header.imagePositionPatient ?? undefined,
  imageOrientationPatient: i.header.imageOrientationPatient ?? undefined,
  pixelSpacing: i.header.pixelSpacing ?? undefined,
  rows: i.header.rows,
  columns: i.header.columns,
  instanceNumber: i.header.instanceNumber ?? undefined,
  imageType: i.header.imageType,
});

/** Builds (or rebuilds) the assets of one series: a volume or stack of its slices, one asset per multi-frame object, one per non-image object. */
export async function buildSeries(deps: Deps, actorId: string, seriesId: string): Promise<BuildOutcome> {
  const dropped = new Map<string, unknown>();
  for (;;) {
    try {
      const out = await buildSeriesOnce(deps, actorId, seriesId);
      out.dropped = dropped;
      return out;
    } catch (err) {
      if (!(err instanceof BadInstanceError) || dropped.has(err.instanceId)) throw err;
      // Drop the undecodable instance (row and blob) so nothing half-usable stays, then rebuild.
      dropped.set(err.instanceId, err.reason);
      const row = await deps.db.selectFrom('dicom_instances').select('sha256').where('id', '=', err.instanceId).executeTakeFirst();
      await deps.db.deleteFrom('dicom_instances').where('id', '=', err.instanceId).execute();
      if (row) await collectBlobs(deps, [row.sha256]);
      const left = await deps.db.selectFrom('dicom_instances').select('id').where('series_id', '=', seriesId).executeTakeFirst();
      if (!left) {
        await deps.db.deleteFrom('dicom_series').where('id', '=', seriesId).execute();
        return { created: 0, updated: 0, issues: {}, assetOfInstance: new Map(), dropped };
      }
    }
  }
}

async function buildSeriesOnce(deps: Deps, actorId: string, seriesId: string): Promise<BuildOutcome> {
  const core = await import('@caliper/core');
  const media = await import('@caliper/media');
  const outcome: BuildOutcome = { created: 0, updated: 0, issues: {}, assetOfInstance: new Map(), dropped: new Map() };
  const series = await deps.db.selectFrom('dicom_series').selectAll().where('id', '=', seriesId).executeTakeFirst();
  if (!series) return outcome;
  const rows = await deps.db.selectFrom('dicom_instances').selectAll().where('series_id', '=', seriesId).execute();
  const insts: Inst[] = rows.map((row) => ({ row, header: JSON.parse(row.header) as InstanceHeader }));
  const count = (r: { created: boolean }) => (r.created ? outcome.created++ : outcome.updated++);

  const objects = insts.filter((i) => objectClassName(i.header) !== null);
  const images = insts.filter((i) => objectClassName(i.header) === null);
  const multi = images.filter((i) => i.header.numberOfFrames > 1);
  const singles = images.filter((i) => i.header.numberOfFrames <= 1);

  for (const o of objects) {
    const refs = o.header.referencedSeriesUids.length
      ? await deps.db.selectFrom('dicom_series').select('id').where('project_id', '=', series.project_id).where('series_uid', 'in', o.header.referencedSeriesUids).execute()
      : [];
    const imaging: ImagingMeta = {
      kind: 'object',
      source: 'dicom',
      modality: o.header.modality,
      dims: [o.header.columns, o.header.rows, o.header.numberOfFrames],
      timepoints: 1,
      samples: 1,
      dtype: 'uint8',
      photometric: o.header.photometric,
      spacing: null,
      affineLps: null,
      rescale: { slope: 1, intercept: 0 },
      windows: [],
      valueRange: null,
      frameTimesMs: null,
      frameRate: null,
      issues: [],
      flags: [],
      seriesId: series.id,
      studyId: series.study_id,
      sopClassUid: o.header.sopClassUid,
      referencedSeriesIds: refs.map((r) => r.id),
    };
    const r = await upsertAsset(deps, actorId, {
      taskId: series.task_id,
      projectId: series.project_id,
      sourceKey: `instance:${o.row.id}`,
      name: `${series.modality} ${objectClassName(o.header)}${o.header.instanceNumber !== null ? ` #${o.header.instanceNumber}` : ''}`.slice(0, 200),
      modality: 'dicom-object',
      mediaType: 'application/dicom',
      blob: { sha256: o.row.sha256, size: Number(o.row.size) },
      imaging,
      frames: [],
      thumbnail: null,
      hold: null,
      extraMetadata: { instanceIds: [o.row.id] },
    });
    count(r);
    outcome.assetOfInstance.set(o.row.id, r.id);
  }

  for (const m of multi) {
    const bytes = await readBlob(deps, m.row.sha256);
    const dicom = media.readDicom(bytes);
    const frames: FrameGeometry[] = media.frameGeometries(dicom);
    const times = media.frameTimes(dicom);
    const rate = media.frameRate(dicom);
    const enhanced = frames.some((f) => f.geometrySource === 'functional-groups' || f.geometrySource === 'grid-frame-offset');
    let kind: ImagingKind = times ? 'cine' : 'stack';
    let order = frames.map((f) => f.frameIndex);
    let geometry: { spacing: [number, number, number] | null; affineLps: number[][] | null; issues: { code: string; message: string }[] } = { spacing: null, affineLps: null, issues: [] };
    if (enhanced) {
      const g = core.assembleSeries(frames);
      if (g.kind === 'volume') {
        kind = 'volume';
        const byId = new Map(frames.map((f) => [f.id, f.frameIndex]));
        order = g.order.map((id) => byId.get(id)!);
        geometry = { spacing: g.spacing, affineLps: g.affineLps, issues: g.issues };
      } else geometry.issues = g.issues;
    }
    for (const issue of geometry.issues) outcome.issues[issue.code] = (outcome.issues[issue.code] ?? 0) + 1;
    const r = await buildImaging(
      deps,
      actorId,
      series,
      `instance:${m.row.id}`,
      seriesName(series, ` (${m.header.numberOfFrames} frames)`),
      kind,
      order.map((frameIndex) => ({ inst: m, frameIndex })),
      geometry,
      { frameTimesMs: times, frameRate: rate?.fps ?? null },
      { sha256: m.row.sha256, size: Number(m.row.size) },
      [m.row.id],
    );
    count(r);
    outcome.assetOfInstance.set(m.row.id, r.id);
  }

  // Slices of different sizes cannot share one grid: each size becomes its own asset.
  const groups = new Map<string, Inst[]>();
  for (const i of singles) {
    const key = `${i.header.rows}x${i.header.columns}x${i.header.samplesPerPixel}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  }
  for (const [key, group] of groups) {
    const g = core.assembleSeries(group.map(toSlice));
    for (const issue of g.issues) outcome.issues[issue.code] = (outcome.issues[issue.code] ?? 0) + 1;
    const issues = groups.size > 1 ? [...g.issues, { code: 'mixed-dimensions', message: `The series has slices of ${groups.size} different sizes; the ${key} slices form this asset.` }] : g.issues;
    const byId = new Map(group.map((i) => [i.row.id, i]));
    const ordered = g.order.map((id) => byId.get(id)!);
    const kind: ImagingKind = ordered.length === 1 ? 'image' : g.kind;
    const first = ordered[0]!;
    const r = await buildImaging(
      deps,
      actorId,
      series,
      groups.size > 1 ? `series:${series.id}:${key}` : `series:${series.id}`,
      seriesName(series, ordered.length > 1 ? ` (${ordered.length} ${kind === 'volume' ? 'slices' : 'images'})` : ''),
      kind,
      ordered.map((inst) => ({ inst, frameIndex: 0 })),
      { spacing: g.spacing, affineLps: g.affineLps, issues },
      { frameTimesMs: null, frameRate: null },
      // A series has no single file: its main blob is the first slice (all are listed in instanceIds).
      { sha256: first.row.sha256, size: Number(first.row.size) },
      ordered.map((i) => i.row.id),
    );
    count(r);
    for (const i of ordered) outcome.assetOfInstance.set(i.row.id, r.id);
  }
  return outcome;
}

