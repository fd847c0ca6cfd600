// The consensus worker (queue job 'consensus', data {taskId, assetId}) and the accuracy worker
// (queue job 'quality-accuracy', data {jobId}). Both are idempotent: a re-run on the same inputs
// writes the same document (no new revision) and replaces the item's score rows.
import { randomUUID } from 'node:crypto';
import { type AnnotationDocument, type AnnotationObject, validateDocument } from '@caliper/core';
import { encodeLabelmap } from '@caliper/core/labelmap';
import type { Kysely } from 'kysely';
import type { ConsensusItemsTable, Database } from '../../db/schema.js';
import type { Deps } from '../../deps.js';
import { collectBlobs } from '../assets.js';
import { appendAudit } from '../audit.js';
import { loadLabelSchema } from '../projects.js';
import { buildConsensus, type ConsensusResult } from './build.js';
import { extract, type Extracted, remapLabelmap, scoreAgainst, sharedLabelList } from './compute.js';
import { loadDocument, loadLabelmap, type LoadedLabelmap, loadReplicas, QualityInputError } from './documents.js';
import { insertScores } from './scores.js';

export const CONSENSUS_JOB = 'consensus';
export const ACCURACY_JOB = 'quality-accuracy';
/** Who the consensus step writes as (revisions, label-map rows, createdBy of its objects). */
export const CONSENSUS_AUTHOR = 'consensus';

/** Loads the label maps of documents and reduces them in one shared label space. */
async function extractAll(deps: Deps, assetId: string, docs: readonly AnnotationDocument[], order: readonly string[]): Promise<{ items: Extracted[]; labels: string[]; shape: [number, number, number] | null }> {
  const maps: (LoadedLabelmap | null)[] = [];
  for (const d of docs) maps.push(await loadLabelmap(deps, assetId, d));
  const present = maps.filter((m): m is LoadedLabelmap => m !== null);
  const shape = present[0]?.shape ?? null;
  if (shape && present.some((m) => m.shape.some((v, i) => v !== shape[i]))) throw new QualityInputError('The label maps of this item have different shapes.');
  const labels = sharedLabelList(maps, order);
  return { items: docs.map((d, i) => extract(d, maps[i] ? remapLabelmap(maps[i], labels) : null)), labels, shape };
}

async function upsertItem(trx: Kysely<Database>, row: ConsensusItemsTable) {
  await trx
    .insertInto('consensus_items')
    .values(row)
    .onConflict((oc) => oc.columns(['task_id', 'asset_id']).doUpdateSet({ state: row.state, job_id: row.job_id, result: row.result, updated_at: row.updated_at }))
    .execute();
}

/** The task's consensus job, created on demand (stage review, completed, no assignee). */
async function consensusJob(trx: Kysely<Database>, projectId: string, taskId: string, now: string): Promise<string> {
  const existing = await trx.selectFrom('jobs').select('id').where('task_id', '=', taskId).where('kind', '=', 'consensus').orderBy('created_at').executeTakeFirst();
  if (existing) return existing.id;
  const id = randomUUID();
  await trx
    .insertInto('jobs')
    .values({ id, project_id: projectId, task_id: taskId, name: 'Consensus', assignee_id: null, stage: 'review', state: 'completed', kind: 'consensus', created_at: now, updated_at: now })
    .execute();
  return id;
}

/**
 * Computes the consensus of one item from its replicas (every replica must be completed; with
 * fewer than two replicas or an open one the item stays `pending`), saves it as a revision of the
 * task's consensus job, records the consensus_items row and replaces the item's agreement scores.
 */
export async function runConsensus(deps: Deps, taskId: string, assetId: string): Promise<ConsensusItemsTable['state'] | null> {
  const asset = await deps.db.selectFrom('assets').select(['id', 'project_id', 'task_id']).where('id', '=', assetId).executeTakeFirst();
  if (!asset || asset.task_id !== taskId) return null;
  const replicas = await loadReplicas(deps.db, assetId);
  const now = deps.clock.now().toISOString();
  if (replicas.length < 2 || replicas.some((r) => r.state !== 'completed')) {
    await upsertItem(deps.db, { task_id: taskId, asset_id: assetId, state: 'pending', job_id: null, result: JSON.stringify({ raters: replicas.length, completed: replicas.filter((r) => r.state === 'completed').length }), updated_at: now });
    return 'pending';
  }
  const schema = await loadLabelSchema(deps, asset.project_id);
  const order = schema.labels.map((l) => l.name);
  let built: ReturnType<typeof buildConsensus>;
  let labels: string[];
  let items: Extracted[];
  let shape: [number, number, number] | null;
  try {
    const all = await extractAll(
      deps,
      assetId,
      replicas.map((r) => r.document),
      order,
    );
    labels = all.labels;
    items = all.items;
    shape = all.shape;
    const stamp = replicas.reduce((m, r) => (r.completedAt > m ? r.completedAt : m), replicas[0]!.completedAt);
    built = buildConsensus(
      replicas.map((r) => ({ jobId: r.jobId, annotatorId: r.annotatorId })),
      all.items,
      labels,
      stamp,
      CONSENSUS_AUTHOR,
    );
  } catch (err) {
    if (err instanceof QualityInputError || err instanceof RangeError) {
      await deps.db.transaction().execute(async (trx) => {
        await upsertItem(trx, { task_id: taskId, asset_id: assetId, state: 'failed', job_id: null, result: JSON.stringify({ error: err.message }), updated_at: now });
        await appendAudit(trx, deps.dbKind, deps.clock, { actorId: null, action: 'consensus.run', targetType: 'asset', targetId: assetId, details: { taskId, state: 'failed', raters: replicas.length } });
      });
      return 'failed';
    }
    throw err;
  }

  // The consensus label map becomes a stored CLM1 container of the asset.
  const objects: AnnotationObject[] = [...built.objects];
  let storedSha: string | null = null;
  let created = false;
  let storedBytes = 0;
  if (built.labelmap && shape) {
    const [cols, rows] = shape;
    const per = cols * rows;
    const wide = labels.length >= 256;
    const data = wide ? Uint16Array.from(built.labelmap) : Uint8Array.from(built.labelmap);
    const bytes = encodeLabelmap({ shape, dtype: wide ? 'uint16' : 'uint8', slices: (k) => data.subarray(k * per, (k + 1) * per) });
    const put = await deps.blobs.putBytes(bytes, { contentType: 'application/octet-stream' });
    storedSha = put.sha256;
    storedBytes = bytes.length;
    created = put.created;
    const first = replicas.flatMap((r) => r.document.objects).find((o) => o.kind === 'labelmap');
    const label = labels.length > 0 ? (first?.label ?? labels[0]!) : undefined;
    if (label) {
      const stamp = built.objects[0]?.createdAt ?? replicas[0]!.completedAt;
      objects.push({
        id: 'consensus-labelmap-1',
        kind: 'labelmap',
        label,
        attributes: {},
        source: 'consensus',
        createdBy: CONSENSUS_AUTHOR,
        createdAt: stamp,
        updatedAt: stamp,
        blob: storedSha,
        shape,
        segments: labels.map((l, i) => ({ value: i + 1, label: l })),
      } as AnnotationObject);
      built.result.objects['consensus-labelmap-1'] = { kind: 'labelmap', label, votes: replicas.length, score: 1 };
    }
    built.extracted.labelmap = data;
  }
  const checked = validateDocument({ objects }, schema);
  const result: ConsensusResult = built.result;
  if (!checked.ok) {
    // Labels removed from the schema since the replicas were saved: nothing sensible to store.
    if (created && storedSha) await collectBlobs(deps, [storedSha]);
    await upsertItem(deps.db, { task_id: taskId, asset_id: assetId, state: 'failed', job_id: null, result: JSON.stringify({ error: 'The consensus document does not fit the label schema.' }), updated_at: now });
    return 'failed';
  }
  const text = JSON.stringify(checked.document);
  try {
    await deps.db.transaction().execute(async (trx) => {
      const jobId = await consensusJob(trx, asset.project_id, taskId, now);
      const held = await trx.selectFrom('job_assets').select('asset_id').where('job_id', '=', jobId).where('asset_id', '=', assetId).executeTakeFirst();
      if (!held) {
        const pos = await trx.selectFrom('job_assets').select((eb) => eb.fn.countAll<number>().as('c')).where('job_id', '=', jobId).executeTakeFirstOrThrow();
        await trx.insertInto('job_assets').values({ job_id: jobId, asset_id: assetId, position: Number(pos.c) }).execute();
      }
      if (storedSha && shape) {
        await trx
          .insertInto('labelmap_blobs')
          .values({ asset_id: assetId, sha: storedSha, project_id: asset.project_id, shape: JSON.stringify(shape), dtype: labels.length >= 256 ? 'uint16' : 'uint8', bytes: storedBytes, created_by: CONSENSUS_AUTHOR, created_at: now })
          .onConflict((oc) => oc.columns(['asset_id', 'sha']).doNothing())
          .execute();
      }
      const head = await trx.selectFrom('annotation_docs').select('revision').where('job_id', '=', jobId).where('asset_id', '=', assetId).executeTakeFirst();
      const current = head ? await loadDocument(trx, jobId, assetId, head.revision) : null;
      let revision = head?.revision ?? 0;
      if (!current || JSON.stringify(current.document) !== text) {
        revision++;
        const count = checked.document.objects.length;
        if (head) await trx.updateTable('annotation_docs').set({ revision, object_count: count, updated_at: now, updated_by: CONSENSUS_AUTHOR }).where('job_id', '=', jobId).where('asset_id', '=', assetId).execute();
        else await trx.insertInto('annotation_docs').values({ job_id: jobId, asset_id: assetId, revision, object_count: count, updated_at: now, updated_by: CONSENSUS_AUTHOR }).execute();
        await trx
          .insertInto('annotation_revisions')
          .values({ job_id: jobId, asset_id: assetId, revision, document: text, object_count: count, bytes: Buffer.byteLength(text), created_at: now, created_by: CONSENSUS_AUTHOR })
          .execute();
      }
      await upsertItem(trx, { task_id: taskId, asset_id: assetId, state: 'done', job_id: jobId, result: JSON.stringify({ ...result, revision }), updated_at: now });
      await trx.deleteFrom('quality_scores').where('task_id', '=', taskId).where('asset_id', '=', assetId).where('kind', '=', 'agreement').execute();
      let scores = 0;
      for (let i = 0; i < replicas.length; i++) {
        const r = replicas[i]!;
        const s = scoreAgainst(built.extracted, items[i]!, labels);
        scores += await insertScores(trx, { projectId: asset.project_id, taskId, assetId, jobId: r.jobId, annotatorId: r.annotatorId }, 'agreement', s, now);
      }
      await appendAudit(trx, deps.dbKind, deps.clock, {
        actorId: null,
        action: 'consensus.run',
        targetType: 'asset',
        targetId: assetId,
        details: { taskId, jobId, state: 'done', raters: replicas.length, objects: checked.document.objects.length, revision, scores },
      });
    });
  } catch (err) {
    if (created && storedSha) await collectBlobs(deps, [storedSha]);
    throw err;
  }
  return 'done';
}
