import { type LabelSchema, validateDocument } from '@caliper/core';
import type { Actor, Deps } from '../deps.js';
import { conflict, notFound, unprocessable } from '../errors.js';
import { requireJobAsset, roleAllows } from '../policy.js';
import { appendAudit } from './audit.js';
import { checkDocumentLabelmaps } from './labelmaps.js';

const EMPTY = '{"objects":[]}';

// Parsed label schemas by project, reused while the stored text is unchanged (the text comes
// with the access query, so a schema edit on another instance is seen on the next request).
const schemaCache = new Map<string, { text: string; schema: LabelSchema }>();
function schemaFor(projectId: string, text: string): LabelSchema {
  const hit = schemaCache.get(projectId);
  if (hit && hit.text === text) return hit.schema;
  const schema = JSON.parse(text) as LabelSchema;
  if (schemaCache.size > 1000) schemaCache.clear();
  schemaCache.set(projectId, { text, schema });
  return schema;
}

function headWithDocument(deps: Deps, jobId: string, assetId: string) {
  return deps.db
    .selectFrom('annotation_docs as d')
    .innerJoin('annotation_revisions as r', (j) =>
      j.onRef('r.job_id', '=', 'd.job_id').onRef('r.asset_id', '=', 'd.asset_id').onRef('r.revision', '=', 'd.revision'),
    )
    .select(['d.revision', 'r.document', 'd.updated_at', 'd.updated_by'])
    .where('d.job_id', '=', jobId)
    .where('d.asset_id', '=', assetId)
    .executeTakeFirst();
}

export async function getAnnotations(deps: Deps, actor: Actor, jobId: string, assetId: string) {
  await requireJobAsset(deps.db, actor, jobId, assetId, 'read');
  const doc = await headWithDocument(deps, jobId, assetId);
  return {
    revision: doc?.revision ?? 0,
    document: JSON.parse(doc?.document ?? EMPTY) as unknown,
    updatedAt: doc?.updated_at ?? null,
    updatedBy: doc?.updated_by ?? null,
  };
}

class StaleRevision extends Error {}

/**
 * Saves a new revision with optimistic concurrency: the write only happens when the stored
 * head is still `baseRevision`; otherwise 409 and nothing is written. The head, the revision
 * history row and the audit entry commit in one transaction.
 */
export async function saveAnnotations(
  deps: Deps,
  actor: Actor,
  jobId: string,
  assetId: string,
  input: { baseRevision: number; document: unknown },
) {
  const { job, role, isAssignee, reviewerFix, labelSchemaText } = await requireJobAsset(deps.db, actor, jobId, assetId, 'annotate');
  if (job.state === 'completed' && !reviewerFix && !roleAllows(role, 'annotation.writeAny')) {
    throw conflict('This job is completed; its annotations can no longer be changed.');
  }
  const schema = schemaFor(job.project_id, labelSchemaText);
  const checked = validateDocument(input.document, schema);
  if (!checked.ok) {
    throw unprocessable(`The annotations do not fit the project's label schema: ${checked.issues[0]?.message ?? ''}`, {
      errors: checked.issues.map((i) => ({ path: i.path ? `document.${i.path}` : 'document', message: i.message })),
    });
  }
  const labelmaps = checked.document.objects.flatMap((o) => (o.kind === 'labelmap' ? [{ id: o.id, blob: o.blob, shape: o.shape }] : []));
  const badLabelmaps = await checkDocumentLabelmaps(deps.db, assetId, labelmaps);
  if (badLabelmaps.length > 0) {
    throw unprocessable(`These label-map objects do not refer to a label map saved for this asset: ${badLabelmaps.map((b) => b.id).join(', ')}. Save the label map first (POST /api/assets/{id}/labelmaps).`, {
      objectIds: badLabelmaps.map((b) => b.id),
      errors: badLabelmaps.map((b) => ({ path: `document.objects[id=${b.id}]`, message: b.message })),
    });
  }
  const text = JSON.stringify(checked.document);
  const objectCount = checked.document.objects.length;
  const now = deps.clock.now().toISOString();
  const revision = input.baseRevision + 1;
  const current = async () =>
    (await deps.db.selectFrom('annotation_docs').select('revision').where('job_id', '=', jobId).where('asset_id', '=', assetId).executeTakeFirst())?.revision ?? 0;
  try {
    await deps.db.transaction().execute(async (trx) => {
      if (input.baseRevision === 0) {
        const exists = await trx.selectFrom('annotation_docs').select('revision').where('job_id', '=', jobId).where('asset_id', '=', assetId).executeTakeFirst();
        if (exists) throw new StaleRevision();
        await trx
          .insertInto('annotation_docs')
          .values({ job_id: jobId, asset_id: assetId, revision, object_count: objectCount, updated_at: now, updated_by: actor.id })
          .execute();
      } else {
        const res = await trx
          .updateTable('annotation_docs')
          .set({ revision, object_count: objectCount, updated_at: now, updated_by: actor.id })
          .where('job_id', '=', jobId)
          .where('asset_id', '=', assetId)
          .where('revision', '=', input.baseRevision)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) !== 1) throw new StaleRevision();
      }
      await trx
        .insertInto('annotation_revisions')
        .values({ job_id: jobId, asset_id: assetId, revision, document: text, object_count: objectCount, bytes: Buffer.byteLength(text), created_at: now, created_by: actor.id })
        .execute();
      if (job.state === 'new' && isAssignee) {
        await trx.updateTable('jobs').set({ state: 'in_progress', updated_at: now }).where('id', '=', jobId).where('state', '=', 'new').execute();
      }
      await appendAudit(trx, deps.dbKind, deps.clock, {
        actorId: actor.id,
        action: 'annotation.save',
        targetType: 'asset',
        targetId: assetId,
        ip: actor.ip,
        details: { jobId, revision, objects: objectCount },
      });
    });
  } catch (err) {
    // A concurrent first save on PostgreSQL surfaces as a primary-key violation.
    const pkViolation = typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
    if (err instanceof StaleRevision || pkViolation) {
      const cur = await current();
      throw conflict(
        `These annotations were changed elsewhere (now at revision ${cur}, you started from ${input.baseRevision}). Reload them or save again on top of revision ${cur}.`,
        { currentRevision: cur },
      );
    }
    throw err;
  }
  return { revision, updatedAt: now };
}

export async function listRevisions(deps: Deps, actor: Actor, jobId: string, assetId: string) {
  await requireJobAsset(deps.db, actor, jobId, assetId, 'read');
  const rows = await deps.db
    .selectFrom('annotation_revisions')
    .select(['revision', 'created_at', 'created_by', 'object_count', 'bytes'])
    .where('job_id', '=', jobId)
    .where('asset_id', '=', assetId)
    .orderBy('revision', 'desc')
    .execute();
  return rows.map((r) => ({ revision: r.revision, createdAt: r.created_at, createdBy: r.created_by, objectCount: r.object_count, bytes: r.bytes }));
}

export async function getRevision(deps: Deps, actor: Actor, jobId: string, assetId: string, revision: number) {
  await requireJobAsset(deps.db, actor, jobId, assetId, 'read');
  const r = await deps.db
    .selectFrom('annotation_revisions')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('asset_id', '=', assetId)
    .where('revision', '=', revision)
    .executeTakeFirst();
  if (!r) throw notFound('Revision');
  return { revision: r.revision, document: JSON.parse(r.document) as unknown, createdAt: r.created_at, createdBy: r.created_by };
}
