// The quality dashboard of a project (GET /api/projects/{id}/quality), its CSV and the
// consensus items of a task.
import { fleissKappa, krippendorffAlpha, labelConfusion, type MatchResult, percentAgreement } from '@caliper/core';
import type { Actor, Deps } from '../../deps.js';
import { unprocessable } from '../../errors.js';
import { requireProject, requireTask } from '../../policy.js';
import type { ConsensusResult } from './build.js';

export interface QualityFilter {
  taskId?: string;
  /** ISO date (YYYY-MM-DD, inclusive) or date-time */
  from?: string;
  to?: string;
}

export interface MetricMeans {
  tags: number | null;
  boxF1: number | null;
  polygonF1: number | null;
  dice: number | null;
}

export interface QualityDashboard {
  annotators: { id: string; name: string; items: number; agreement: MetricMeans; accuracy: MetricMeans }[];
  labels: { label: string; agreement: MetricMeans; accuracy: MetricMeans; n: number }[];
  confusion: { labels: string[]; matrix: number[][] };
  dice: number[];
  trend: { day: string; annotatorId: string | null; metric: string; mean: number; n: number }[];
  task: { fleissKappa: number | null; krippendorffAlpha: number | null; percentAgreement: number | null; items: number };
}

const METRICS = ['tags', 'boxF1', 'polygonF1', 'dice'] as const;
/** Row and column of the confusion matrix for "no partner label". */
export const NONE_LABEL = '(none)';

const finite = (v: number) => (Number.isFinite(v) ? v : null);
const safe = (f: () => number) => {
  try {
    return finite(f());
  } catch {
    return null;
  }
};

function range(filter: QualityFilter): { from?: string; to?: string } {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  const ok = (v: string) => day.test(v) || !Number.isNaN(Date.parse(v));
  if ((filter.from && !ok(filter.from)) || (filter.to && !ok(filter.to))) throw unprocessable('from and to must be dates (YYYY-MM-DD) or ISO date-times.');
  return {
    from: filter.from && day.test(filter.from) ? `${filter.from}T00:00:00.000Z` : filter.from,
    to: filter.to && day.test(filter.to) ? `${filter.to}T23:59:59.999Z` : filter.to,
  };
}

async function scoreRows(deps: Deps, projectId: string, filter: QualityFilter) {
  const { from, to } = range(filter);
  let q = deps.db
    .selectFrom('quality_scores as s')
    .leftJoin('users', 'users.id', 's.annotator_id')
    .leftJoin('assets', 'assets.id', 's.asset_id')
    .leftJoin('tasks', 'tasks.id', 's.task_id')
    .select(['s.task_id', 's.asset_id', 's.job_id', 's.annotator_id', 's.kind', 's.metric', 's.label', 's.value', 's.n', 's.computed_at', 'users.name as user_name', 'users.email as user_email', 'assets.name as asset_name', 'tasks.name as task_name'])
    .where('s.project_id', '=', projectId);
  if (filter.taskId) q = q.where('s.task_id', '=', filter.taskId);
  if (from) q = q.where('s.computed_at', '>=', from);
  if (to) q = q.where('s.computed_at', '<=', to);
  return q.orderBy('s.computed_at').orderBy('s.id').execute();
}

type ScoreRow = Awaited<ReturnType<typeof scoreRows>>[number];

function means(rows: readonly ScoreRow[]): MetricMeans {
  const out: MetricMeans = { tags: null, boxF1: null, polygonF1: null, dice: null };
  for (const m of METRICS) {
    const vs = rows.filter((r) => r.metric === m).map((r) => Number(r.value));
    out[m] = vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : null;
  }
  return out;
}

/** Confusion rows = consensus tag labels, columns = the annotator's, per tag scope of each item. */
function tagConfusion(results: readonly ConsensusResult[], order: readonly string[]) {
  const pairs: { ref: string[]; cand: string[] }[] = [];
  for (const res of results) {
    const consensus = new Map(res.tags.map((t) => [t.scope, t.labels]));
    for (const rater of res.raters) {
      for (const scope of new Set([...consensus.keys(), ...Object.keys(rater.tags)])) pairs.push({ ref: consensus.get(scope) ?? [], cand: rater.tags[scope] ?? [] });
    }
  }
  const used = new Set(pairs.flatMap((p) => [...p.ref, ...p.cand]));
  const labels = [...order.filter((l) => used.has(l)), ...[...used].filter((l) => !order.includes(l)).sort()];
  const size = labels.length + 1;
  const matrix = Array.from({ length: size }, () => new Array<number>(size).fill(0));
  for (const { ref, cand } of pairs) {
    // Equal labels pair up; the remaining ones pair in label order; the rest have no partner.
    const both = ref.filter((l) => cand.includes(l));
    const r = [...both, ...labels.filter((l) => ref.includes(l) && !cand.includes(l))];
    const c = [...both, ...labels.filter((l) => cand.includes(l) && !ref.includes(l))];
    const k = Math.min(r.length, c.length);
    const match: MatchResult = {
      pairs: Array.from({ length: k }, (_, i) => ({ ref: i, cand: i, iou: 1 })),
      unmatchedRef: r.map((_, i) => i).filter((i) => i >= k),
      unmatchedCand: c.map((_, i) => i).filter((i) => i >= k),
    };
    if (r.length + c.length === 0) continue;
    labelConfusion(match, r, c, labels).matrix.forEach((row, i) => row.forEach((v, j) => (matrix[i]![j]! += v)));
  }
  return { labels: [...labels, NONE_LABEL], matrix };
}

/** Fleiss' κ, Krippendorff's α (nominal) and percent agreement over (item, scope, tag label) units rated present/absent by each replica. */
function taskAgreement(results: readonly ConsensusResult[]) {
  const units: (number | null)[][] = [];
  const observers = [...new Set(results.flatMap((r) => r.raters.map((x) => x.annotatorId ?? x.jobId)))];
  const unitRows: number[][] = [];
  for (const res of results) {
    const scopes = new Set(res.raters.flatMap((r) => Object.keys(r.tags)));
    for (const scope of scopes) {
      const labels = new Set(res.raters.flatMap((r) => r.tags[scope] ?? []));
      for (const label of labels) {
        const row = res.raters.map((r) => ((r.tags[scope] ?? []).includes(label) ? 1 : 0));
        unitRows.push(row);
        const byObserver = new Map(res.raters.map((r, i) => [r.annotatorId ?? r.jobId, row[i]!]));
        units.push(observers.map((o) => byObserver.get(o) ?? null));
      }
    }
  }
  if (unitRows.length === 0) return { fleissKappa: null, krippendorffAlpha: null, percentAgreement: null, items: results.length };
  const reliability = observers.map((_, o) => units.map((u) => u[o] ?? null));
  return {
    fleissKappa: safe(() => fleissKappa(unitRows)),
    krippendorffAlpha: safe(() => krippendorffAlpha(reliability, 'nominal')),
    percentAgreement: safe(() => percentAgreement(unitRows)),
    items: results.length,
  };
}

/** The quality dashboard of a project (quality.read). */
export async function qualityDashboard(deps: Deps, actor: Actor, projectId: string, filter: QualityFilter): Promise<QualityDashboard> {
  await requireProject(deps.db, actor, projectId, 'quality.read');
  const rows = await scoreRows(deps, projectId, filter);
  const byAnnotator = new Map<string, ScoreRow[]>();
  for (const r of rows) if (r.annotator_id) byAnnotator.set(r.annotator_id, [...(byAnnotator.get(r.annotator_id) ?? []), r]);
  const annotators = [...byAnnotator].map(([id, rs]) => ({
    id,
    name: rs[0]?.user_name ?? '',
    items: new Set(rs.map((r) => `${r.asset_id}\u0000${r.kind}`)).size,
    agreement: means(rs.filter((r) => r.kind === 'agreement')),
    accuracy: means(rs.filter((r) => r.kind === 'accuracy')),
  }));
  annotators.sort((a, b) => a.name.localeCompare(b.name) || (a.id < b.id ? -1 : 1));
  const byLabel = new Map<string, ScoreRow[]>();
  for (const r of rows) if (r.label !== null) byLabel.set(r.label, [...(byLabel.get(r.label) ?? []), r]);
  const labels = [...byLabel].map(([label, rs]) => ({ label, agreement: means(rs.filter((r) => r.kind === 'agreement')), accuracy: means(rs.filter((r) => r.kind === 'accuracy')), n: rs.length }));
  labels.sort((a, b) => a.label.localeCompare(b.label));
  const trendMap = new Map<string, { day: string; annotatorId: string | null; metric: string; sum: number; n: number }>();
  for (const r of rows) {
    const day = r.computed_at.slice(0, 10);
    const metric = `${r.kind}.${r.metric}`;
    const key = `${day}\u0000${r.annotator_id}\u0000${metric}`;
    const t = trendMap.get(key) ?? { day, annotatorId: r.annotator_id, metric, sum: 0, n: 0 };
    t.sum += Number(r.value);
    t.n++;
    trendMap.set(key, t);
  }
  const { from, to } = range(filter);
  let cq = deps.db
    .selectFrom('consensus_items as c')
    .innerJoin('tasks', 'tasks.id', 'c.task_id')
    .select(['c.result', 'c.updated_at'])
    .where('tasks.project_id', '=', projectId)
    .where('c.state', '=', 'done');
  if (filter.taskId) cq = cq.where('c.task_id', '=', filter.taskId);
  if (from) cq = cq.where('c.updated_at', '>=', from);
  if (to) cq = cq.where('c.updated_at', '<=', to);
  const results = (await cq.execute()).map((c) => JSON.parse(c.result) as ConsensusResult);
  const project = await deps.db.selectFrom('projects').select('label_schema').where('id', '=', projectId).executeTakeFirstOrThrow();
  const order = (JSON.parse(project.label_schema) as { labels: { name: string }[] }).labels.map((l) => l.name);
  return {
    annotators,
    labels,
    confusion: tagConfusion(results, order),
    dice: rows.filter((r) => r.metric === 'dice').map((r) => Number(r.value)),
    trend: [...trendMap.values()].map((t) => ({ day: t.day, annotatorId: t.annotatorId, metric: t.metric, mean: t.sum / t.n, n: t.n })),
    task: taskAgreement(results),
  };
}

/** A CSV cell: quoted when needed; text that a spreadsheet would run as a formula is prefixed with '. */
function cell(v: string | number | null): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  const text = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const QUALITY_CSV_HEADER = ['date', 'task', 'asset', 'annotator', 'email', 'kind', 'metric', 'label', 'value', 'n'];

/** Every score row of the project (filtered like the dashboard) as CSV text with a header line. */
export async function qualityCsv(deps: Deps, actor: Actor, projectId: string, filter: QualityFilter): Promise<string> {
  await requireProject(deps.db, actor, projectId, 'quality.read');
  const rows = await scoreRows(deps, projectId, filter);
  const lines = [QUALITY_CSV_HEADER.join(',')];
  for (const r of rows) {
    lines.push([r.computed_at, r.task_name ?? r.task_id, r.asset_name ?? r.asset_id, r.user_name ?? '', r.user_email ?? '', r.kind, r.metric, r.label, Number(r.value), Number(r.n)].map(cell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export interface ConsensusItemView {
  assetId: string;
  assetName: string;
  state: string;
  jobId: string | null;
  result: unknown;
  updatedAt: string;
}

/** The consensus items of a task with their state and result (quality.read). */
export async function listConsensus(deps: Deps, actor: Actor, taskId: string): Promise<ConsensusItemView[]> {
  await requireTask(deps.db, actor, taskId, 'quality.read');
  const rows = await deps.db
    .selectFrom('consensus_items as c')
    .innerJoin('assets', 'assets.id', 'c.asset_id')
    .select(['c.asset_id', 'assets.name', 'c.state', 'c.job_id', 'c.result', 'c.updated_at'])
    .where('c.task_id', '=', taskId)
    .orderBy('assets.name')
    .execute();
  return rows.map((r) => ({ assetId: r.asset_id, assetName: r.name, state: r.state, jobId: r.job_id, result: JSON.parse(r.result) as unknown, updatedAt: r.updated_at }));
}
