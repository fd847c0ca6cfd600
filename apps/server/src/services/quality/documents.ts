// Reading the documents quality work is computed from: the replicas of an item (its annotation
// jobs, honeypot placements excluded), a ground-truth revision, and the label-map containers
// their `labelmap` objects point at.
import { type AnnotationDocument, type AnnotationObject } from '@caliper/core';
import { decodeLabelmap } from '@caliper/core/labelmap';
import { readAllBytes } from '../../blob/index.js';
import type { Db } from '../../db/index.js';
import type { Deps } from '../../deps.js';

/** One annotator's current document of an item. */
export interface ReplicaDoc {
  jobId: string;
  annotatorId: string | null;
  state: string;
  completedAt: string;
  revision: number;
  document: AnnotationDocument;
}

const EMPTY: AnnotationDocument = { objects: [] };

/**
 * The replicas of an asset: every ANNOTATION job holding it as a regular (non-honeypot) item,
 * with the job's head document (empty when nothing was saved), in job creation order.
 */
export async function loadReplicas(db: Db, assetId: string): Promise<ReplicaDoc[]> {
  const rows = await db
    .selectFrom('job_assets as ja')
    .innerJoin('jobs', 'jobs.id', 'ja.job_id')
    .leftJoin('annotation_docs as d', (j) => j.onRef('d.job_id', '=', 'ja.job_id').onRef('d.asset_id', '=', 'ja.asset_id'))
    .leftJoin('annotation_revisions as r', (j) => j.onRef('r.job_id', '=', 'd.job_id').onRef('r.asset_id', '=', 'd.asset_id').onRef('r.revision', '=', 'd.revision'))
    .select(['jobs.id', 'jobs.assignee_id', 'jobs.state', 'jobs.updated_at', 'jobs.created_at', 'jobs.name', 'd.revision', 'r.document'])
    .where('ja.asset_id', '=', assetId)
    .where('ja.honeypot', '=', 0)
    .where('jobs.kind', '=', 'annotation')
    .orderBy('jobs.created_at')
    .orderBy('jobs.id')
    .execute();
  return rows.map((r) => ({
    jobId: r.id,
    annotatorId: r.assignee_id,
    state: r.state,
    completedAt: r.updated_at,
    revision: r.revision ?? 0,
    document: r.document ? (JSON.parse(r.document) as AnnotationDocument) : EMPTY,
  }));
}

/** The document of one revision of (job, asset), or the head when `revision` is undefined. */
export async function loadDocument(db: Db, jobId: string, assetId: string, revision?: number): Promise<{ revision: number; document: AnnotationDocument } | null> {
  let rev = revision;
  if (rev === undefined) {
    const head = await db.selectFrom('annotation_docs').select('revision').where('job_id', '=', jobId).where('asset_id', '=', assetId).executeTakeFirst();
    if (!head) return null;
    rev = head.revision;
  }
  const row = await db
    .selectFrom('annotation_revisions')
    .select(['revision', 'document'])
    .where('job_id', '=', jobId)
    .where('asset_id', '=', assetId)
    .where('revision', '=', rev)
    .executeTakeFirst();
  return row ? { revision: row.revision, document: JSON.parse(row.document) as AnnotationDocument } : null;
}

/** A decoded label map: samples slice-major and the label each non-zero value stands for. */
export interface LoadedLabelmap {
  shape: [number, number, number];
  data: Uint8Array | Uint16Array;
  labelOf: Map<number, string>;
}

type LabelmapObject = Extract<AnnotationObject, { kind: 'labelmap' }>;

/** Decodes the container of the document's first `labelmap` object (null without one). */
export async function loadLabelmap(deps: Deps, assetId: string, doc: AnnotationDocument): Promise<LoadedLabelmap | null> {
  const obj = doc.objects.find((o): o is LabelmapObject => o.kind === 'labelmap');
  if (!obj) return null;
  const row = await deps.db.selectFrom('labelmap_blobs').select('sha').where('asset_id', '=', assetId).where('sha', '=', obj.blob).executeTakeFirst();
  if (!row) throw new QualityInputError('A label-map object refers to a container that is not stored for this asset.');
  const decoded = decodeLabelmap(await readAllBytes(await deps.blobs.get(row.sha)));
  return { shape: decoded.shape, data: decoded.data, labelOf: new Map(obj.segments.map((s) => [s.value, s.label])) };
}

/** Input that consensus or scoring cannot use (fixed message, no patient data). */
export class QualityInputError extends Error {
  override readonly name = 'QualityInputError';
}
