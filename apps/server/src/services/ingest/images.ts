import { readFile, rm, stat } from 'node:fs/promises';
import type { IngestRunsTable } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { autoWindow, type ImagingMeta, upsertAsset, valueRange, windowPresets } from './assets.js';
import { type FrameArray, putBytes, storeFrame, type StoredFrame } from './frames.js';
import { sha256File } from './files.js';
import { IngestError } from './errors.js';
import { thumbnailOf } from './thumbnail.js';

export interface BuiltAsset {
  id: string;
  created: boolean;
  detail: string | null;
  flags: string[];
}

/** Largest NIfTI we expand in memory (the reader holds the whole volume). */
const MAX_NIFTI_BYTES = 1536 * 1024 * 1024;
/** Label maps of mostly zeros legitimately compress ~1000:1; the absolute size limit is the real guard. */
const MAX_GZIP_RATIO = 5000;

async function readMaybeGz(deps: Deps, file: { name: string; path: string }): Promise<{ name: string; bytes: Uint8Array }> {
  if (!/\.gz$/i.test(file.name)) return { name: file.name, bytes: new Uint8Array(await readFile(file.path)) };
  const { gunzipToFile } = await import('@caliper/media');
  const out = `${file.path}.raw`;
  try {
    await gunzipToFile(file.path, out, { maxBytes: Math.min(MAX_NIFTI_BYTES, deps.config.maxExpandedBytes), maxRatio: MAX_GZIP_RATIO });
    return { name: file.name.replace(/\.gz$/i, ''), bytes: new Uint8Array(await readFile(out)) };
  } finally {
    await rm(out, { force: true });
  }
}

/**
 * A NIfTI-1/2 volume (single file or .hdr/.img pair): identifying header text and extensions
 * are cleared before the file is stored; frames are the slices of each 3D volume in turn.
 */
export async function ingestNifti(deps: Deps, run: IngestRunsTable, files: { name: string; path: string }[], sourceKey: string): Promise<BuiltAsset> {
  const media = await import('@caliper/media');
  const inputs = [];
  for (const f of files) inputs.push(await readMaybeGz(deps, f));
  const clean = media.deidentifyNifti(inputs);
  const vol = media.readNifti(clean.files);
  const [nx = 1, ny = 1, nz = 1] = vol.dims;
  const rgb = vol.datatype.name === 'rgb24' || vol.datatype.name === 'rgba32';
  const samples: 1 | 3 | 4 = vol.datatype.name === 'rgb24' ? 3 : vol.datatype.name === 'rgba32' ? 4 : 1;
  const frames: StoredFrame[] = [];
  let middle: FrameArray | null = null;
  const per = nx * ny * samples;
  for (let t = 0; t < vol.volumes; t++) {
    const data = vol.getVolume(t) as unknown;
    if (!(ArrayBuffer.isView(data) && !(data instanceof DataView)) || data instanceof BigInt64Array || data instanceof BigUint64Array) {
      throw new IngestError(`NIfTI data type ${vol.datatype.name} cannot be shown; convert it to an integer or float type.`);
    }
    const arr = data as FrameArray;
    for (let k = 0; k < nz; k++) {
      const slice = arr.subarray(k * per, (k + 1) * per);
      frames.push(await storeFrame(deps, slice));
      if (t === 0 && k === Math.floor(nz / 2)) middle = slice;
    }
  }
  const rescale = vol.scaling ? { slope: vol.scaling.slope, intercept: vol.scaling.inter } : { slope: 1, intercept: 0 };
  const first = vol.getVolume(0) as unknown as FrameArray;
  const dtypeName = first.constructor.name.replace('Array', '').toLowerCase();
  const flags = clean.clearedFields.length || clean.removedExtensions ? ['header-cleared'] : [];
  const imaging: ImagingMeta = {
    kind: nz > 1 || vol.volumes > 1 ? 'volume' : 'image',
    source: 'nifti',
    modality: 'OT',
    dims: [nx, ny, frames.length],
    timepoints: vol.volumes,
    samples,
    dtype: dtypeName as ImagingMeta['dtype'],
    photometric: rgb ? 'RGB' : 'MONOCHROME2',
    spacing: [Math.abs(vol.pixdim[1] ?? 1), Math.abs(vol.pixdim[2] ?? 1), Math.abs(vol.pixdim[3] ?? 1)],
    affineLps: vol.affineLps,
    rescale,
    windows: samples === 1 && middle ? windowPresets('OT', [], autoWindow(middle, rescale.slope, rescale.intercept)) : [],
    valueRange: samples === 1 && middle ? valueRange(middle, rescale.slope, rescale.intercept) : null,
    frameTimesMs: null,
    frameRate: null,
    issues: [],
    flags,
  };
  const thumb = middle && samples !== 4 ? await thumbnailOf(deps, middle, imaging) : null;
  // The stored file is the de-identified image file (the .nii, or the .img of a pair).
  const main = clean.files.find((f) => !/\.hdr$/i.test(f.name)) ?? clean.files[0]!;
  const blob = await putBytes(deps, main.bytes, 'application/octet-stream');
  const stem = files[0]!.name.replace(/\.(nii|hdr|img)(\.gz)?$/i, '');
  const r = await upsertAsset(deps, run.created_by, {
    taskId: run.task_id,
    projectId: run.project_id,
    sourceKey,
    name: stem.slice(0, 200),
    modality: imaging.kind === 'volume' ? 'volume' : 'image',
    mediaType: 'application/x-nifti',
    blob,
    imaging,
    frames,
    thumbnail: thumb,
    hold: null,
    extraMetadata: { niftiVersion: vol.niftiVersion, affineSource: vol.affineSource, datatype: vol.datatype.name },
  });
  const detail = clean.clearedFields.length || clean.removedExtensions ? `Header cleared: ${[...clean.clearedFields, ...(clean.removedExtensions ? [`${clean.removedExtensions} extension(s)`] : [])].join(', ')}.` : null;
  return { id: r.id, created: r.created, detail, flags };
}

/** PNG, TIFF or JPEG: one frame at its true bit depth; the original file is kept for download/display. */
export async function ingestRaster(deps: Deps, run: IngestRunsTable, name: string, filePath: string, format: 'png' | 'tiff' | 'jpeg', sourceKey: string): Promise<BuiltAsset> {
  const media = await import('@caliper/media');
  const bytes = new Uint8Array(await readFile(filePath));
  const raster = await media.decodeRaster(bytes, format);
  const frame = await storeFrame(deps, raster.data);
  const samples = raster.samples;
  const imaging: ImagingMeta = {
    kind: 'image',
    source: 'raster',
    modality: 'OT',
    dims: [raster.width, raster.height, 1],
    timepoints: 1,
    samples,
    dtype: raster.dtype,
    photometric: samples === 1 ? 'MONOCHROME2' : samples === 3 ? 'RGB' : 'RGBA',
    spacing: null,
    affineLps: null,
    rescale: { slope: 1, intercept: 0 },
    windows: samples === 1 ? windowPresets('OT', raster.dtype === 'uint8' ? [{ name: 'Full range', center: 127.5, width: 256 }] : [], autoWindow(raster.data, 1, 0)) : [],
    valueRange: samples === 1 ? valueRange(raster.data, 1, 0) : null,
    frameTimesMs: null,
    frameRate: null,
    issues: [],
    flags: raster.pages && raster.pages > 1 ? ['multi-page'] : [],
  };
  const thumb = samples !== 4 ? await thumbnailOf(deps, raster.data, imaging) : null;
  const sha256 = await sha256File(filePath);
  const size = (await stat(filePath)).size;
  await deps.blobs.putFile(filePath, sha256, { contentType: `image/${format}` });
  const r = await upsertAsset(deps, run.created_by, {
    taskId: run.task_id,
    projectId: run.project_id,
    sourceKey,
    name,
    modality: 'image',
    mediaType: `image/${format}`,
    blob: { sha256, size },
    imaging,
    frames: [frame],
    thumbnail: thumb,
    hold: null,
    extraMetadata: { width: raster.width, height: raster.height, bitDepth: raster.dtype === 'uint16' ? 16 : 8 },
  });
  const detail = raster.pages && raster.pages > 1 ? `Multi-page TIFF: only the first of ${raster.pages} pages was imported.` : null;
  return { id: r.id, created: r.created, detail, flags: imaging.flags };
}
