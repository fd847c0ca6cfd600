export type { FrameDtype, WindowPreset, ImagingMeta, IngestState, IngestFileStatus, IngestSummary, DeidOption, RedactionRect, RedactionRule } from '@caliper/core';
export { DEID_OPTIONS } from '@caliper/core';
import type { ImagingMeta, IngestState, IngestFileStatus, IngestSummary, DeidOption, RedactionRule } from '@caliper/core';
import type * as core from '@caliper/core';

// View types for the HTTP API (docs/api.md). The label schema and annotation document are
// owned by @caliper/core; the shapes below mirror what the web app reads and writes.

export type SystemRole = 'admin' | 'user';
export type ProjectRole = 'manager' | 'annotator' | 'reviewer' | 'viewer';
export const PROJECT_ROLES: ProjectRole[] = ['manager', 'annotator', 'reviewer', 'viewer'];

export interface User {
  id: string;
  email: string;
  name: string;
  systemRole: SystemRole;
  active: boolean;
  createdAt: string;
}

export interface ProjectSummary {
  id: string;
  name: string;
  description: string;
  /** The caller's project role; the server answers "admin" for system administrators. */
  myRole: ProjectRole | 'admin' | null;
  taskCount: number;
  assetCount: number;
  createdAt: string;
}

export interface Project {
  id: string;
  name: string;
  description: string;
  guidelines: string;
  labelSchema: LabelSchema;
  myRole: ProjectRole | 'admin' | null;
  createdAt: string;
  updatedAt: string;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: ProjectRole;
}

export interface Task {
  id: string;
  projectId: string;
  name: string;
  assetCount: number;
  jobCount: number;
  createdAt: string;
}

export interface Asset {
  id: string;
  projectId: string;
  taskId: string;
  name: string;
  modality: 'image' | 'text' | string;
  mediaType: string;
  size: number;
  sha256: string;
  metadata: {
    width?: number;
    height?: number;
    bitDepth?: number;
    channels?: number;
    characters?: number;
    lines?: number;
    imaging?: ImagingMeta;
  };
  createdAt: string;
  /** Stored frames (slices) of an imaging asset; 0 for others. */
  frameCount?: number;
  hasThumbnail?: boolean;
  /** 'burned-in' while a reviewer has not confirmed the pixels hold no identifying text. */
  hold?: string | null;
}

// ---- imaging ingest (apps/server/src/services/ingest) ----






export interface IngestRun {
  id: string;
  taskId: string;
  state: IngestState;
  phase: string;
  filesTotal: number;
  filesDone: number;
  bytesTotal: number;
  bytesDone: number;
  /** The server may omit counts that are still zero. */
  summary: Partial<IngestSummary>;
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface IngestFile {
  index: number;
  parentIndex: number | null;
  name: string;
  size: number;
  status: IngestFileStatus;
  kind: string | null;
  detail: string | null;
  assetId: string | null;
  flags: string[];
}

export interface IngestRunDetail {
  run: IngestRun;
  files: IngestFile[];
}

export interface Series {
  id: string;
  seriesUid: string;
  modality: string;
  description: string;
  number: number | null;
  instanceCount: number;
  assets: Asset[];
}

export interface Study {
  id: string;
  studyUid: string;
  /** Pseudonym assigned at de-identification. */
  patientId: string;
  studyDate: string;
  description: string;
  series: Series[];
}




export interface DeidSettings {
  settings: Partial<Record<DeidOption, boolean>>;
  redactions: RedactionRule[];
}

export type JobStage = 'annotation' | 'review' | 'acceptance';
export type JobState = 'new' | 'in_progress' | 'completed' | 'rejected';

export interface Job {
  id: string;
  taskId: string;
  projectId: string;
  name: string;
  assigneeId: string | null;
  assigneeName: string | null;
  stage: JobStage;
  state: JobState;
  assetCount: number;
  annotatedCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface JobDetail extends Job {
  assets: (Asset & { annotated: boolean })[];
}

export interface QueueJob extends Job {
  projectName: string;
  taskName: string;
}

export interface TokenInfo {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface Items<T> {
  items: T[];
}

// ---- dataset export and annotation import (docs/api.md, "Exports and imports") ----

export const EXPORT_FORMATS = ['nifti', 'dicom-seg', 'dicom-sr', 'rtstruct', 'coco', 'yolo', 'yolo-seg', 'voc', 'cvat', 'caliper'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type ExportState = 'queued' | 'running' | 'done' | 'failed';
export type SegType = 'binary' | 'labelmap';

/** Body of POST /api/projects/:id/exports; omitted fields take the server defaults. */
export interface ExportRequest {
  format: ExportFormat;
  taskId?: string;
  jobIds?: string[];
  stages?: JobStage[];
  completedOnly?: boolean;
  /** "all", "consensus" or a member's user id. */
  annotator?: string;
  includeImages?: boolean;
  allSlices?: boolean;
  segType?: SegType;
}

export interface ExportStats {
  assets: number;
  files: number;
  objects: number;
  /** Object kinds the format cannot hold, with counts. */
  dropped: Record<string, number>;
  /** Assets or objects left out, with the reason (the server lists at most 200). */
  skipped: { asset: string; reason: string }[];
}

export interface ExportView {
  id: string;
  projectId: string;
  format: ExportFormat | string;
  request: ExportRequest;
  state: ExportState;
  phase: string;
  done: number;
  /** Assets in scope. */
  total: number;
  stats: ExportStats | null;
  error: string | null;
  bytes: number | null;
  fileName: string;
  createdAt: string;
  updatedAt: string;
}

export const IMPORT_FORMATS = ['coco', 'yolo', 'voc', 'cvat', 'nifti', 'dicom-seg', 'caliper'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
export type ImportLabelPolicy = 'refuse' | 'create' | 'map';
export type ImportMode = 'append' | 'replace';

export interface ImportReport {
  format: string;
  dryRun: boolean;
  files: number;
  units: number;
  matchedUnits: number;
  objects: number;
  labelmaps: number;
  assets: { assetId: string; assetName: string; jobId: string; objects: number; labelmaps: number; from: string[] }[];
  labels: { created: string[]; mapped: Record<string, string>; refused: string[] };
  skipped: { where: string; reason: string }[];
  skippedCount: number;
  revisions: { assetId: string; jobId: string; revision: number }[];
}

// ---- label schema (mirrors @caliper/core) ----

export type AttributeType = 'select' | 'multiselect' | 'checkbox' | 'number' | 'text';
export const ATTRIBUTE_TYPES: AttributeType[] = ['select', 'multiselect', 'checkbox', 'number', 'text'];

export interface AttributeDef {
  name: string;
  type: AttributeType;
  required?: boolean;
  options?: string[];
  min?: number;
  max?: number;
  step?: number;
  /** text attributes: maximum length in characters (server default 1000) */
  maxLength?: number;
  default?: unknown;
  description?: string;
}

export const OBJECT_KINDS = [
  'tag', 'box', 'polygon', 'polyline', 'points', 'ellipse', 'landmarks', 'mask', 'labelmap',
  'measurement', 'track', 'segment', 'transcript', 'span', 'relation',
] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

export interface LabelDef {
  name: string;
  color: string;
  shortcut?: string;
  kinds: string[];
  attributes: AttributeDef[];
  description?: string;
  /** Names of the landmark set (labels with the landmarks kind). */
  landmarks?: string[];
}

export interface LabelSchema {
  version: 1;
  labels: LabelDef[];
}

// ---- annotation document (mirrors @caliper/core) ----

export type AttributeValue = string | number | boolean | string[];

export interface TagObject {
  id: string;
  kind: 'tag';
  scope: { type: 'asset' };
  label: string;
  attributes: Record<string, AttributeValue>;
  source: 'manual' | 'consensus' | `model:${string}` | `import:${string}`;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface AnyObject {
  id: string;
  kind: string;
  label: string;
  attributes: Record<string, AttributeValue>;
  [key: string]: unknown;
}

export interface AnnotationDocument {
  objects: AnyObject[];
  [key: string]: unknown;
}

export interface AnnotationsResponse {
  revision: number;
  document: AnnotationDocument;
  updatedAt: string | null;
  updatedBy: string | null;
}

// ---- compile-time checks against @caliper/core (types only; nothing of core is bundled) ----
// Every label schema the server stores must be readable through the view types above, and a
// tag object built by the workspace must be a valid annotation object.
type Assert<T extends true> = T;
export type _SchemaReadable = Assert<core.LabelSchema extends LabelSchema ? true : false>;
export type _KindsKnown = Assert<ObjectKind extends core.AnnotationKind ? (core.AnnotationKind extends ObjectKind ? true : false) : false>;
export type _TagWritable = Assert<TagObject extends core.AnnotationObjectInput ? true : false>;

// ---------- review rounds and issues (src/review/) ----------

/** Where an issue is pinned; an empty location means the whole asset. */
export interface IssueLocation {
  slice?: number;
  frame?: number;
  time?: number;
  range?: [number, number];
  /** Image pixel [x, y] (2D) or continuous voxel index [i, j, k] (imaging, voxel centres at integers). */
  point?: number[];
  region?: { x: number; y: number; width: number; height: number };
}

export interface IssueComment {
  id: string;
  authorId: string;
  authorName: string | null;
  text: string;
  createdAt: string;
}

export interface Issue {
  id: string;
  jobId: string;
  assetId: string;
  round: number;
  location: IssueLocation;
  state: 'open' | 'resolved';
  createdBy: string;
  createdByName: string | null;
  createdAt: string;
  resolvedBy: string | null;
  resolvedAt: string | null;
  comments: IssueComment[];
}

export interface ReviewStatus {
  jobId: string;
  stage: JobStage;
  state: JobState;
  round: number;
  reviewerId: string | null;
  reviewerName: string | null;
  awaitingReview: boolean;
  canReview: boolean;
  canDiscuss: boolean;
  changedByReviewer: boolean;
  openIssues: number;
}

export interface ReviewQueueItem {
  id: string;
  name: string;
  projectId: string;
  projectName: string;
  taskId: string;
  taskName: string;
  assigneeId: string | null;
  assigneeName: string | null;
  reviewerId: string | null;
  reviewerName: string | null;
  stage: JobStage;
  state: JobState;
  round: number;
  openIssues: number;
  assetCount: number;
  updatedAt: string;
}

/** GET /api/jobs/{id}/assets/{assetId}/replicas: every annotator's document of an item with overlap, and its consensus. */
export interface ReplicasView {
  raters: { jobId: string; annotatorId: string | null; annotatorName: string | null; revision: number; document: AnnotationDocument }[];
  consensus: { jobId: string; revision: number; document: AnnotationDocument; result: unknown } | null;
}
