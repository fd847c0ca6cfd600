import type { Generated } from 'kysely';
/** Row types of every table. JSON is stored as text, booleans as 0/1, timestamps as ISO-8601 text. */
export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  system_role: 'admin' | 'user';
  active: number;
  created_at: string;
  updated_at: string;
}
export interface SessionsTable {
  id_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}
export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
export interface ProjectsTable {
  id: string;
  name: string;
  description: string;
  guidelines: string;
  label_schema: string;
  deid_settings: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}
export interface ProjectMembersTable {
  project_id: string;
  user_id: string;
  role: 'manager' | 'annotator' | 'reviewer' | 'viewer';
  created_at: string;
}
export interface TasksTable {
  id: string;
  project_id: string;
  name: string;
  created_at: string;
  /** Annotators per item (1–11): each asset goes into this many jobs with different assignees. */
  overlap: Generated<number>;
  /** Share (0–50 %) of ground-truth items mixed into annotators' jobs as hidden honeypots. */
  honeypot_percent: Generated<number>;
}
export interface AssetsTable {
  id: string;
  project_id: string;
  task_id: string;
  name: string;
  modality: string;
  media_type: string;
  size: number;
  sha256: string;
  metadata: string;
  created_at: string;
  frame_count: number;
  thumbnail_sha: string | null;
  /** Set while the asset waits for a reviewer (e.g. 'burned-in'); annotators do not see it. */
  hold: string | null;
  /** What the asset was built from ('series:<id>', 'instance:<id>', 'nifti:<name>'); unique per task. */
  source_key: string | null;
}
export interface AssetFramesTable {
  asset_id: string;
  idx: number;
  sha256: string;
  size: number;
  raw_size: number;
}
export interface DicomStudiesTable {
  id: string;
  project_id: string;
  study_uid: string;
  patient_id: string;
  study_date: string;
  description: string;
  created_at: string;
}
export interface DicomSeriesTable {
  id: string;
  project_id: string;
  task_id: string;
  study_id: string;
  series_uid: string;
  modality: string;
  description: string;
  number: number | null;
  created_at: string;
}
export interface DicomInstancesTable {
  id: string;
  project_id: string;
  series_id: string;
  sop_instance_uid: string;
  sop_class_uid: string;
  instance_number: number | null;
  sha256: string;
  size: number;
  header: string;
  created_at: string;
}
export interface IngestRunsTable {
  id: string;
  project_id: string;
  task_id: string;
  created_by: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  phase: string;
  files_total: number;
  files_done: number;
  bytes_total: number;
  bytes_done: number;
  summary: string;
  error: string | null;
  attempts: number;
  created_at: string;
  updated_at: string;
}
export interface IngestFilesTable {
  run_id: string;
  idx: number;
  parent_idx: number | null;
  name: string;
  size: number;
  status: 'pending' | 'stored' | 'duplicate' | 'rejected' | 'skipped' | 'expanded';
  kind: string | null;
  detail: string | null;
  asset_id: string | null;
  /** The DICOM instance the file became (or duplicated), until its asset is linked. */
  instance_id: string | null;
  flags: string;
}
export interface QueueJobsTable {
  id: string;
  name: string;
  data: string;
  state: 'queued' | 'active' | 'done' | 'failed';
  attempts: number;
  max_attempts: number;
  run_at: string;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}
/** A label-map container (CLM1) stored for an asset; the blob key is `sha`. */
export interface LabelmapBlobsTable {
  asset_id: string;
  sha: string;
  project_id: string;
  /** JSON [cols, rows, slices] */
  shape: string;
  dtype: 'uint8' | 'uint16';
  bytes: number;
  created_by: string;
  created_at: string;
}
/** A dataset export: a background job that writes a zip into the blob store. */
export interface ExportsTable {
  id: string;
  project_id: string;
  format: string;
  /** JSON: the validated export request (scope and options). */
  options: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  phase: string;
  done: number;
  total: number;
  /** JSON: counts of what was written and what the format could not express. */
  stats: string;
  error: string | null;
  blob_sha: string | null;
  bytes: number | null;
  file_name: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}
export interface JobsTable {
  id: string;
  project_id: string;
  task_id: string;
  name: string;
  assignee_id: string | null;
  stage: 'annotation' | 'review' | 'acceptance';
  state: 'new' | 'in_progress' | 'completed' | 'rejected';
  created_at: string;
  updated_at: string;
  /** Review rounds so far (a rejection returns the job to its annotator and counts one). */
  review_round: Generated<number>;
  reviewer_id: string | null;
  /** 'annotation' (people label), 'consensus' (holds the computed consensus of replicas for review). */
  kind: Generated<'annotation' | 'consensus'>;
}
export interface JobAssetsTable {
  job_id: string;
  asset_id: string;
  position: number;
  /** 1 when the asset is a hidden ground-truth item in this job (never shown as such to its annotator). */
  honeypot: Generated<number>;
}
/** A review issue: a comment thread pinned to a place in an asset. */
export interface IssuesTable {
  id: string;
  project_id: string;
  job_id: string;
  asset_id: string;
  round: number;
  /** JSON: {slice?, frame?, time?, range?: [start, end], point?: number[], region?: {x, y, width, height}} */
  location: string;
  state: 'open' | 'resolved';
  created_by: string;
  created_at: string;
  resolved_by: string | null;
  resolved_at: string | null;
}
export interface IssueCommentsTable {
  id: string;
  issue_id: string;
  author_id: string;
  text: string;
  created_at: string;
}
/** An asset whose accepted annotations (job, revision) are the reference for accuracy. */
export interface GroundTruthTable {
  asset_id: string;
  project_id: string;
  task_id: string;
  job_id: string;
  revision: number;
  created_by: string;
  created_at: string;
}
/** Consensus of the replicas of one item: pending until every replica is complete. */
export interface ConsensusItemsTable {
  task_id: string;
  asset_id: string;
  state: 'pending' | 'done' | 'failed';
  job_id: string | null;
  /** JSON: what the consensus step found (raters, sensitivities/specificities, clusters). */
  result: string;
  updated_at: string;
}
/** One computed figure: agreement between replicas or accuracy against ground truth. */
export interface QualityScoresTable {
  id: string;
  project_id: string;
  task_id: string;
  asset_id: string;
  job_id: string;
  annotator_id: string | null;
  kind: 'agreement' | 'accuracy';
  metric: string;
  label: string | null;
  value: number;
  n: number;
  computed_at: string;
}
/** The head of each (job, asset) document: which revision is current. The text lives in annotation_revisions. */
export interface AnnotationDocsTable {
  job_id: string;
  asset_id: string;
  revision: number;
  object_count: number;
  updated_at: string;
  updated_by: string;
}
export interface AnnotationRevisionsTable {
  job_id: string;
  asset_id: string;
  revision: number;
  document: string;
  object_count: number;
  bytes: number;
  created_at: string;
  created_by: string;
}
export interface AuditLogTable {
  seq: number;
  at: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  projects: ProjectsTable;
  project_members: ProjectMembersTable;
  tasks: TasksTable;
  assets: AssetsTable;
  asset_frames: AssetFramesTable;
  labelmap_blobs: LabelmapBlobsTable;
  exports: ExportsTable;
  issues: IssuesTable;
  issue_comments: IssueCommentsTable;
  ground_truth: GroundTruthTable;
  consensus_items: ConsensusItemsTable;
  quality_scores: QualityScoresTable;
  dicom_studies: DicomStudiesTable;
  dicom_series: DicomSeriesTable;
  dicom_instances: DicomInstancesTable;
  ingest_runs: IngestRunsTable;
  ingest_files: IngestFilesTable;
  queue_jobs: QueueJobsTable;
  jobs: JobsTable;
  job_assets: JobAssetsTable;
  annotation_docs: AnnotationDocsTable;
  annotation_revisions: AnnotationRevisionsTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}
