// One export = one format writer over the assets in scope. The context carries what every
// writer needs; the stats say what was written and what the format could not express.
import type { LabelSchema } from '@caliper/core';
import type { Deps } from '../../deps.js';
import { writeCaliper } from './caliper.js';
import type { ExportRequest } from './collect.js';
import { writeFlat } from './flat.js';
import { writeVolumes } from './volumes.js';
import type { ZipFileWriter } from './zip.js';

export interface ExportStats {
  assets: number;
  files: number;
  objects: number;
  /** Object kinds (or "labelmap", "tag", ...) the format cannot hold, with counts. */
  dropped: Record<string, number>;
  /** Assets or objects left out, with the reason (at most 200 listed). */
  skipped: { asset: string; reason: string }[];
}

export interface ExportContext {
  deps: Deps;
  project: { id: string; name: string };
  schema: LabelSchema;
  req: ExportRequest;
  zip: ZipFileWriter;
  progress: (done: number, phase: string) => Promise<void>;
}

export function newStats(): ExportStats {
  return { assets: 0, files: 0, objects: 0, dropped: {}, skipped: [] };
}

export function skip(stats: ExportStats, asset: string, reason: string) {
  if (stats.skipped.length < 200) stats.skipped.push({ asset, reason });
}

export function drop(stats: ExportStats, kind: string, n = 1) {
  stats.dropped[kind] = (stats.dropped[kind] ?? 0) + n;
}

export async function writeExport(ctx: ExportContext): Promise<ExportStats> {
  switch (ctx.req.format) {
    case 'caliper':
      return writeCaliper(ctx);
    case 'nifti':
    case 'dicom-seg':
    case 'dicom-sr':
    case 'rtstruct':
      return writeVolumes(ctx);
    case 'coco':
    case 'yolo':
    case 'yolo-seg':
    case 'voc':
    case 'cvat':
      return writeFlat(ctx);
  }
}
