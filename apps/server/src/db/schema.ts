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
}
export interface JobAssetsTable {
  job_id: string;
  asset_id: string;
  position: number;
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
  jobs: JobsTable;
  job_assets: JobAssetsTable;
  annotation_docs: AnnotationDocsTable;
  annotation_revisions: AnnotationRevisionsTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}
