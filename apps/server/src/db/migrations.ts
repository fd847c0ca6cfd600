import { type Kysely, sql } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/**
 * The one migration list for SQLite and PostgreSQL. Only portable column types are used:
 * text, integer, bigint; JSON as text, booleans as 0/1, timestamps as ISO-8601 text.
 */
const migrations: Record<string, Migration> = {
  '0001_foundation': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('system_role', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createTable('projects')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('guidelines', 'text', (c) => c.notNull())
        .addColumn('label_schema', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('project_members')
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('project_members_pk', ['project_id', 'user_id'])
        .execute();
      await db.schema.createIndex('project_members_user').on('project_members').column('user_id').execute();
      await db.schema
        .createTable('tasks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('tasks_project').on('tasks').column('project_id').execute();
      await db.schema
        .createTable('assets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('modality', 'text', (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('assets_task').on('assets').columns(['task_id', 'created_at']).execute();
      await db.schema.createIndex('assets_sha').on('assets').column('sha256').execute();
      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('assignee_id', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('stage', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('jobs_task').on('jobs').column('task_id').execute();
      await db.schema.createIndex('jobs_assignee').on('jobs').column('assignee_id').execute();
      await db.schema
        .createTable('job_assets')
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('asset_id', 'text', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('job_assets_pk', ['job_id', 'asset_id'])
        .execute();
      await db.schema.createIndex('job_assets_asset').on('job_assets').column('asset_id').execute();
      await db.schema
        .createTable('annotation_docs')
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('asset_id', 'text', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('object_count', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('annotation_docs_pk', ['job_id', 'asset_id'])
        .execute();
      await db.schema
        .createTable('annotation_revisions')
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('asset_id', 'text', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('object_count', 'integer', (c) => c.notNull())
        .addColumn('bytes', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('annotation_revisions_pk', ['job_id', 'asset_id', 'revision'])
        .execute();
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('ip', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('audit_head')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await sql`insert into audit_head (id, seq, hash) values (1, 0, ${'0'.repeat(64)})`.execute(db);
    },
  },
  '0002_imaging': {
    async up(db: Kysely<unknown>) {
      // Project-level de-identification settings (profile options, redaction rules).
      await db.schema.alterTable('projects').addColumn('deid_settings', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      // Imaging assets: frames stored as chunks, a thumbnail, a hold (burned-in review) and the
      // key of what they were built from (one asset per series or multi-frame object per task).
      await db.schema.alterTable('assets').addColumn('frame_count', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('assets').addColumn('thumbnail_sha', 'text').execute();
      await db.schema.alterTable('assets').addColumn('hold', 'text').execute();
      await db.schema.alterTable('assets').addColumn('source_key', 'text').execute();
      await db.schema.createIndex('assets_source').on('assets').columns(['task_id', 'source_key']).unique().execute();
      await db.schema.createIndex('assets_thumbnail').on('assets').column('thumbnail_sha').execute();
      await db.schema
        .createTable('asset_frames')
        .addColumn('asset_id', 'text', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('raw_size', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('asset_frames_pk', ['asset_id', 'idx'])
        .execute();
      await db.schema.createIndex('asset_frames_sha').on('asset_frames').column('sha256').execute();
      await db.schema
        .createTable('dicom_studies')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('study_uid', 'text', (c) => c.notNull())
        .addColumn('patient_id', 'text', (c) => c.notNull())
        .addColumn('study_date', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dicom_studies_uid').on('dicom_studies').columns(['project_id', 'study_uid']).unique().execute();
      await db.schema
        .createTable('dicom_series')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('study_id', 'text', (c) => c.notNull().references('dicom_studies.id').onDelete('cascade'))
        .addColumn('series_uid', 'text', (c) => c.notNull())
        .addColumn('modality', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('number', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dicom_series_uid').on('dicom_series').columns(['project_id', 'series_uid']).unique().execute();
      await db.schema.createIndex('dicom_series_task').on('dicom_series').column('task_id').execute();
      await db.schema
        .createTable('dicom_instances')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('series_id', 'text', (c) => c.notNull().references('dicom_series.id').onDelete('cascade'))
        .addColumn('sop_instance_uid', 'text', (c) => c.notNull())
        .addColumn('sop_class_uid', 'text', (c) => c.notNull())
        .addColumn('instance_number', 'integer')
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('header', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('dicom_instances_uid').on('dicom_instances').columns(['project_id', 'sop_instance_uid']).unique().execute();
      await db.schema.createIndex('dicom_instances_series').on('dicom_instances').column('series_id').execute();
      await db.schema.createIndex('dicom_instances_sha').on('dicom_instances').column('sha256').execute();
      await db.schema
        .createTable('ingest_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('created_by', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('files_total', 'integer', (c) => c.notNull())
        .addColumn('files_done', 'integer', (c) => c.notNull())
        .addColumn('bytes_total', 'bigint', (c) => c.notNull())
        .addColumn('bytes_done', 'bigint', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ingest_runs_task').on('ingest_runs').columns(['task_id', 'created_at']).execute();
      await db.schema
        .createTable('ingest_files')
        .addColumn('run_id', 'text', (c) => c.notNull().references('ingest_runs.id').onDelete('cascade'))
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('parent_idx', 'integer')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('kind', 'text')
        .addColumn('detail', 'text')
        .addColumn('asset_id', 'text')
        .addColumn('instance_id', 'text')
        .addColumn('flags', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ingest_files_pk', ['run_id', 'idx'])
        .execute();
      await db.schema
        .createTable('queue_jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('run_at', 'text', (c) => c.notNull())
        .addColumn('lease_until', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('queue_jobs_ready').on('queue_jobs').columns(['state', 'run_at']).execute();
    },
  },
  '0003_labelmaps': {
    async up(db: Kysely<unknown>) {
      // Label-map containers (CLM1, content-addressed blobs) saved for an asset. The key is
      // (asset, sha): a blob hash alone grants nothing, access always goes through the asset.
      await db.schema
        .createTable('labelmap_blobs')
        .addColumn('asset_id', 'text', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('sha', 'text', (c) => c.notNull())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('shape', 'text', (c) => c.notNull())
        .addColumn('dtype', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('labelmap_blobs_pk', ['asset_id', 'sha'])
        .execute();
      await db.schema.createIndex('labelmap_blobs_sha').on('labelmap_blobs').column('sha').execute();
      await db.schema.createIndex('labelmap_blobs_project').on('labelmap_blobs').column('project_id').execute();
    },
  },
  '0004_exports': {
    async up(db: Kysely<unknown>) {
      // Dataset exports run as background jobs; the finished zip is a blob in the store.
      await db.schema
        .createTable('exports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('format', 'text', (c) => c.notNull())
        .addColumn('options', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('done', 'integer', (c) => c.notNull())
        .addColumn('total', 'integer', (c) => c.notNull())
        .addColumn('stats', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .addColumn('blob_sha', 'text')
        .addColumn('bytes', 'bigint')
        .addColumn('file_name', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('exports_project').on('exports').columns(['project_id', 'created_at']).execute();
    },
  },
  '0005_review_quality': {
    async up(db: Kysely<unknown>) {
      // Review rounds, several annotators per item, consensus, ground truth and quality scores.
      // One ADD COLUMN per statement (SQLite).
      const add = (table: string, column: string, type: 'integer' | 'text', dflt?: number) =>
        db.schema
          .alterTable(table)
          .addColumn(column, type, (c) => (dflt === undefined ? c : c.notNull().defaultTo(dflt)))
          .execute();
      await add('tasks', 'overlap', 'integer', 1);
      await add('tasks', 'honeypot_percent', 'integer', 0);
      await add('jobs', 'review_round', 'integer', 0);
      await add('jobs', 'reviewer_id', 'text');
      await db.schema.alterTable('jobs').addColumn('kind', 'text', (c) => c.notNull().defaultTo('annotation')).execute();
      await add('job_assets', 'honeypot', 'integer', 0);
      await db.schema
        .createTable('issues')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('asset_id', 'text', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('round', 'integer', (c) => c.notNull())
        .addColumn('location', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('resolved_by', 'text')
        .addColumn('resolved_at', 'text')
        .execute();
      await db.schema.createIndex('issues_job').on('issues').columns(['job_id', 'asset_id']).execute();
      await db.schema
        .createTable('issue_comments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('issue_id', 'text', (c) => c.notNull().references('issues.id').onDelete('cascade'))
        .addColumn('author_id', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('issue_comments_issue').on('issue_comments').columns(['issue_id', 'created_at']).execute();
      await db.schema
        .createTable('ground_truth')
        .addColumn('asset_id', 'text', (c) => c.primaryKey().references('assets.id').onDelete('cascade'))
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('consensus_items')
        .addColumn('task_id', 'text', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
        .addColumn('asset_id', 'text', (c) => c.notNull().references('assets.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text')
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('consensus_items_pk', ['task_id', 'asset_id'])
        .execute();
      await db.schema
        .createTable('quality_scores')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.notNull().references('projects.id').onDelete('cascade'))
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('asset_id', 'text', (c) => c.notNull())
        .addColumn('job_id', 'text', (c) => c.notNull())
        .addColumn('annotator_id', 'text')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('label', 'text')
        .addColumn('value', 'double precision', (c) => c.notNull())
        .addColumn('n', 'integer', (c) => c.notNull())
        .addColumn('computed_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('quality_scores_project').on('quality_scores').columns(['project_id', 'computed_at']).execute();
      await db.schema.createIndex('quality_scores_item').on('quality_scores').columns(['task_id', 'asset_id']).execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
