// Accuracy of an annotator on the hidden ground-truth items (honeypots) of a completed job.
import type { Deps } from '../../deps.js';
import { appendAudit } from '../audit.js';
import { loadLabelSchema } from '../projects.js';
import { extract, remapLabelmap, scoreAgainst, sharedLabelList } from './compute.js';
import { loadDocument, loadLabelmap, QualityInputError } from './documents.js';
import { insertScores } from './scores.js';

/**
 * Scores each honeypot item of `jobId` against its ground truth (the recorded job and revision)
 * and replaces the job's accuracy rows for those items. Items whose ground truth was removed
 * are skipped; unusable inputs (mismatched shapes) skip the item.
 */
export async function runAccuracy(deps: Deps, jobId: string): Promise<number> {
  const job = await deps.db.selectFrom('jobs').select(['id', 'project_id', 'task_id', 'assignee_id', 'state']).where('id', '=', jobId).executeTakeFirst();
  if (!job || job.state !== 'completed') return 0;
  const items = await deps.db
    .selectFrom('job_assets as ja')
    .innerJoin('ground_truth as gt', 'gt.asset_id', 'ja.asset_id')
    .select(['ja.asset_id', 'gt.job_id as gt_job', 'gt.revision as gt_revision'])
    .where('ja.job_id', '=', jobId)
    .where('ja.honeypot', '=', 1)
    .execute();
  if (items.length === 0) return 0;
  const order = (await loadLabelSchema(deps, job.project_id)).labels.map((l) => l.name);
  const now = deps.clock.now().toISOString();
  const computed: { assetId: string; scores: ReturnType<typeof scoreAgainst> }[] = [];
  for (const it of items) {
    const ref = await loadDocument(deps.db, it.gt_job, it.asset_id, it.gt_revision);
    if (!ref) continue;
    const mine = (await loadDocument(deps.db, jobId, it.asset_id)) ?? { revision: 0, document: { objects: [] } };
    try {
      const maps = [await loadLabelmap(deps, it.asset_id, ref.document), await loadLabelmap(deps, it.asset_id, mine.document)];
      const labels = sharedLabelList(maps, order);
      const [r, c] = [ref.document, mine.document].map((d, i) => extract(d, maps[i] ? remapLabelmap(maps[i], labels) : null));
      computed.push({ assetId: it.asset_id, scores: scoreAgainst(r!, c!, labels) });
    } catch (err) {
      if (err instanceof QualityInputError || err instanceof RangeError) continue;
      throw err;
    }
  }
  let rows = 0;
  await deps.db.transaction().execute(async (trx) => {
    for (const c of computed) {
      await trx.deleteFrom('quality_scores').where('job_id', '=', jobId).where('asset_id', '=', c.assetId).where('kind', '=', 'accuracy').execute();
      rows += await insertScores(trx, { projectId: job.project_id, taskId: job.task_id, assetId: c.assetId, jobId, annotatorId: job.assignee_id }, 'accuracy', c.scores, now);
    }
    await appendAudit(trx, deps.dbKind, deps.clock, { actorId: null, action: 'quality.accuracy', targetType: 'job', targetId: jobId, details: { items: computed.length, scores: rows } });
  });
  return rows;
}
