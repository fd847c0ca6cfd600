// What an export reads: the assets in scope with their selected annotation documents, volumes
// decoded from the stored frames, label maps from their containers, and the de-identified DICOM
// source of a series. Everything is read in batches so memory stays bounded.
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { z } from 'zod';
import type { AnnotationDocument, AnnotationObject, ImagingMeta, LabelSchema } from '@caliper/core';
import { decodeLabelmap } from '@caliper/core/labelmap';
import { readAllBytes } from '../../blob/index.js';
import type { AssetsTable, JobsTable } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { FRAME_ARRAYS } from '../ingest/frames.js';

export const EXPORT_FORMATS = ['nifti', 'dicom-seg', 'dicom-sr', 'rtstruct', 'coco', 'yolo', 'yolo-seg', 'voc', 'cvat', 'caliper'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const exportRequestSchema = z
  .object({
    format: z.enum(EXPORT_FORMATS),
    taskId: z.string().min(1).max(64).optional().describe('only this task (default: the whole project)'),
    jobIds: z.array(z.string().min(1).max(64)).max(10000).optional().describe('only these jobs'),
    stages: z.array(z.enum(['annotation', 'review', 'acceptance'])).min(1).optional().describe('only jobs in these stages'),
    completedOnly: z.boolean().default(false).describe('only completed (submitted or accepted) jobs'),
    annotator: z.string().min(1).max(64).default('all').describe('"all", a user id (that user\'s jobs) or "consensus" (objects with source consensus)'),
    includeImages: z.boolean().default(false).describe('also write the images (NIfTI volumes, PNG slices)'),
    allSlices: z.boolean().default(false).describe('2D formats: list every slice of a volume, not only annotated ones'),
    segType: z.enum(['binary', 'labelmap']).default('binary').describe('DICOM SEG: Segmentation (BINARY) or Label Map Segmentation SOP class'),
  })
  .strict();
export type ExportRequest = z.output<typeof exportRequestSchema>;

export interface ExportDoc {
  jobId: string;
  jobName: string;
  stage: JobsTable['stage'];
  state: JobsTable['state'];
  assigneeId: string | null;
  revision: number;
  updatedAt: string;
  updatedBy: string;
  document: AnnotationDocument;
}

export interface ExportAsset {
  row: AssetsTable;
  metadata: Record<string, unknown>;
  imaging: ImagingMeta | null;
  docs: ExportDoc[];
}

/** Width, height and slice count of an asset (imaging metadata, or a plain image's probe). */
export function assetGrid(a: ExportAsset): { width: number; height: number; slices: number } | null {
  if (a.imaging) return { width: a.imaging.dims[0], height: a.imaging.dims[1], slices: a.imaging.dims[2] };
  const w = a.metadata.width;
  const h = a.metadata.height;
  return typeof w === 'number' && typeof h === 'number' ? { width: w, height: h, slices: 1 } : null;
}

/** The objects of every selected document of the asset (filtered to consensus objects when asked). */
export function objectsOf(a: ExportAsset, req: ExportRequest): AnnotationObject[] {
  const all = a.docs.flatMap((d) => d.document.objects);
  return req.annotator === 'consensus' ? all.filter((o) => o.source === 'consensus') : all;
}

/** Counts the assets in scope (for the progress bar). */
export async function countAssets(deps: Deps, projectId: string, req: ExportRequest): Promise<number> {
  let q = deps.db.selectFrom('assets').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', projectId).where('hold', 'is', null);
  if (req.taskId) q = q.where('task_id', '=', req.taskId);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/**
 * Assets of the project (or task) in name order, batch by batch, each with its selected
 * documents (or only those `needsDocs` picks). Held assets (burned-in text waiting for review) are never exported.
 */
export async function* assetsInScope(
  deps: Deps,
  projectId: string,
  req: ExportRequest,
  options: { batch?: number; needsDocs?: (a: ExportAsset) => boolean } = {},
): AsyncGenerator<ExportAsset> {
  const batch = options.batch ?? 200;
  // Keyset pagination in (name, id) order: both passes of a two-pass writer see the same order.
  let after: { name: string; id: string } | null = null;
  for (;;) {
    let q = deps.db.selectFrom('assets').selectAll().where('project_id', '=', projectId).where('hold', 'is', null);
    if (after) {
      const { name, id } = after;
      q = q.where((eb) => eb.or([eb('name', '>', name), eb.and([eb('name', '=', name), eb('id', '>', id)])]));
    }
    if (req.taskId) q = q.where('task_id', '=', req.taskId);
    const rows = await q.orderBy('name').orderBy('id').limit(batch).execute();
    if (rows.length === 0) return;
    after = { name: rows[rows.length - 1]!.name, id: rows[rows.length - 1]!.id };
    const parsed = rows.map((row) => {
      const metadata = JSON.parse(row.metadata) as Record<string, unknown>;
      return { row, metadata, imaging: (metadata.imaging as ImagingMeta | undefined) ?? null, docs: [] as ExportDoc[] };
    });
    const wanted = options.needsDocs ? parsed.filter(options.needsDocs) : parsed;
    if (wanted.length === 0) {
      yield* parsed;
      continue;
    }
    let dq = deps.db
      .selectFrom('annotation_docs as d')
      .innerJoin('annotation_revisions as r', (j) => j.onRef('r.job_id', '=', 'd.job_id').onRef('r.asset_id', '=', 'd.asset_id').onRef('r.revision', '=', 'd.revision'))
      .innerJoin('jobs', 'jobs.id', 'd.job_id')
      .select(['d.asset_id', 'd.job_id', 'd.revision', 'd.updated_at', 'd.updated_by', 'r.document', 'jobs.name', 'jobs.stage', 'jobs.state', 'jobs.assignee_id'])
      .where('d.asset_id', 'in', wanted.map((a) => a.row.id))
      .where('d.object_count', '>', 0);
    if (req.jobIds) dq = dq.where('d.job_id', 'in', req.jobIds.length ? req.jobIds : ['']);
    if (req.stages) dq = dq.where('jobs.stage', 'in', req.stages);
    if (req.completedOnly) dq = dq.where('jobs.state', '=', 'completed');
    if (req.annotator !== 'all' && req.annotator !== 'consensus') dq = dq.where('jobs.assignee_id', '=', req.annotator);
    const docs = await dq.orderBy('d.job_id').execute();
    const byAsset = new Map<string, ExportDoc[]>();
    for (const d of docs) {
      const list = byAsset.get(d.asset_id) ?? [];
      list.push({
        jobId: d.job_id,
        jobName: d.name,
        stage: d.stage,
        state: d.state,
        assigneeId: d.assignee_id,
        revision: d.revision,
        updatedAt: d.updated_at,
        updatedBy: d.updated_by,
        document: JSON.parse(d.document) as AnnotationDocument,
      });
      byAsset.set(d.asset_id, list);
    }
    for (const a of parsed) a.docs = byAsset.get(a.row.id) ?? [];
    yield* parsed;
  }
}

const gunzipAsync = promisify(gunzip);

export type VolumeArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** The stored samples of every frame of an imaging asset as one array (x fastest, then y, frame; colour interleaved). */
export async function loadVolume(deps: Deps, a: ExportAsset): Promise<VolumeArray> {
  const im = a.imaging;
  if (!im) throw new Error('not an imaging asset');
  const Ctor = FRAME_ARRAYS[im.dtype];
  const perFrame = im.dims[0] * im.dims[1] * im.samples;
  const out = new Ctor(perFrame * im.dims[2]);
  const bytes = new Uint8Array(out.buffer);
  const frames = await deps.db.selectFrom('asset_frames').select(['idx', 'sha256', 'raw_size']).where('asset_id', '=', a.row.id).orderBy('idx').execute();
  const frameBytes = perFrame * Ctor.BYTES_PER_ELEMENT;
  for (const f of frames) {
    if (f.idx >= im.dims[2]) break;
    const raw = await gunzipAsync(await readAllBytes(await deps.blobs.get(f.sha256)), { chunkSize: Math.max(65536, Number(f.raw_size)) });
    bytes.set(raw.subarray(0, frameBytes), f.idx * frameBytes);
  }
  return out;
}

/** A stored label-map container decoded to voxels. */
export async function loadLabelmap(deps: Deps, sha: string) {
  return decodeLabelmap(await readAllBytes(await deps.blobs.get(sha)));
}

/** The project's label schema and stable per-label numbers for label-map exports (1.. in schema order). */
export function labelTable(schema: LabelSchema) {
  const segLabels = schema.labels.filter((l) => l.kinds.includes('labelmap'));
  const valueOf = new Map(segLabels.map((l, i) => [l.name, i + 1]));
  return { segLabels, valueOf };
}
