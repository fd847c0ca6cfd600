// The project's quality dashboard: agreement between annotators (replicas vs consensus) and
// accuracy against hidden ground truth, per annotator and per label, with the confusion matrix,
// the Dice distribution and the trend over time; every figure as CSV.
import { useMemo, useState } from 'react';
import { api, enc } from '../api';
import { ErrorAlert, Loading, useLoad } from '../components/ui';
import type { Task } from '../types';
import { ConfusionHeatmap, Histogram, TrendChart } from './charts';
import type { QualityFigures, QualityReport } from './types';

/** The second header row of a table with agreement and accuracy figure groups. */
function FigureHeads() {
  const cols = ['tags', 'box F1', 'polygon F1', 'Dice'];
  return (
    <tr>
      {[...cols, ...cols].map((c, i) => (
        <th key={i} className="num">
          {c}
        </th>
      ))}
    </tr>
  );
}

interface FigureRow {
  key: string;
  name: string;
  count: number;
  agreement: QualityFigures;
  accuracy: QualityFigures;
}

/** A table of agreement and accuracy figure groups, one row per annotator or label. */
function FigureTable({ testId, first, count, rows, empty }: { testId: string; first: string; count: string; rows: FigureRow[]; empty?: string }) {
  return (
    <table className="table" data-testid={testId}>
      <thead>
        <tr>
          <th rowSpan={2}>{first}</th>
          <th rowSpan={2} className="num">
            {count}
          </th>
          <th colSpan={4}>Agreement</th>
          <th colSpan={4}>Accuracy</th>
        </tr>
        <FigureHeads />
      </thead>
      <tbody>
        {rows.length === 0 && empty && (
          <tr>
            <td colSpan={10} className="muted">
              {empty}
            </td>
          </tr>
        )}
        {rows.map((r) => (
          <tr key={r.key}>
            <td>{r.name}</td>
            <td className="num">{r.count}</td>
            <Figures f={r.agreement} />
            <Figures f={r.accuracy} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const fmt = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '—' : v.toFixed(3));

function Figures({ f }: { f: QualityFigures }) {
  return (
    <>
      <td className="num">{fmt(f.tags)}</td>
      <td className="num">{fmt(f.boxF1)}</td>
      <td className="num">{fmt(f.polygonF1)}</td>
      <td className="num">{fmt(f.dice)}</td>
    </>
  );
}

export function QualityTab({ projectId }: { projectId: string }) {
  const [taskId, setTaskId] = useState('');
  const [metric, setMetric] = useState('');
  const tasks = useLoad((signal) => api.get<{ items: Task[] }>(`/api/projects/${enc(projectId)}/tasks`, { signal }), [projectId]);
  const query = taskId ? `?taskId=${enc(taskId)}` : '';
  const report = useLoad((signal) => api.get<QualityReport>(`/api/projects/${enc(projectId)}/quality${query}`, { signal }), [projectId, query]);
  const r = report.data;
  const metrics = useMemo(() => [...new Set(r?.trend.map((p) => p.metric) ?? [])].sort(), [r]);
  const shown = metric && metrics.includes(metric) ? metric : (metrics[0] ?? '');
  const trend = useMemo(() => {
    if (!r) return [];
    const names = new Map(r.annotators.map((a) => [a.id, a.name]));
    const byAnnotator = new Map<string, { day: string; value: number }[]>();
    for (const p of r.trend) {
      if (p.metric !== shown) continue;
      const list = byAnnotator.get(p.annotatorId) ?? [];
      list.push({ day: p.day, value: p.mean });
      byAnnotator.set(p.annotatorId, list);
    }
    return [...byAnnotator].map(([id, points]) => ({ name: names.get(id) ?? id.slice(0, 8), points: points.sort((a, b) => a.day.localeCompare(b.day)) }));
  }, [r, shown]);

  return (
    <div className="stack" data-testid="quality-tab">
      <div className="row quality-controls">
        <label>
          Task{' '}
          <select value={taskId} onChange={(e) => setTaskId(e.target.value)} data-testid="quality-task">
            <option value="">All tasks</option>
            {tasks.data?.items.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        <a className="btn" href={`/api/projects/${enc(projectId)}/quality.csv${query}`} download data-testid="quality-csv">
          Download CSV
        </a>
      </div>
      <ErrorAlert error={report.error} />
      {report.loading && !r && <Loading />}
      {r && (
        <>
          <div className="stat-row">
            <div className="stat">
              <div className="stat-label">Replicated items</div>
              <div className="stat-value">{r.task.items}</div>
            </div>
            <div className="stat">
              <div className="stat-label">Fleiss' κ (tags)</div>
              <div className="stat-value" data-testid="quality-fleiss">{fmt(r.task.fleissKappa)}</div>
            </div>
            <div className="stat">
              <div className="stat-label">Krippendorff's α (tags)</div>
              <div className="stat-value">{fmt(r.task.krippendorffAlpha)}</div>
            </div>
            <div className="stat">
              <div className="stat-label">Percent agreement</div>
              <div className="stat-value">{fmt(r.task.percentAgreement)}</div>
            </div>
          </div>
          <div className="card">
            <div className="card-header">
              <h2>Annotators</h2>
              <span className="muted">agreement = against the consensus of the replicas; accuracy = against hidden ground truth</span>
            </div>
            <FigureTable
              testId="quality-annotators"
              first="Annotator"
              count="Items"
              rows={r.annotators.map((a) => ({ key: a.id, name: a.name, count: a.items, agreement: a.agreement, accuracy: a.accuracy }))}
              empty="No scores yet: they appear when every replica of an item is complete, or when an annotator completes a job with ground-truth items."
            />
          </div>
          <div className="card">
            <div className="card-header">
              <h2>Labels</h2>
            </div>
            <FigureTable
              testId="quality-labels"
              first="Label"
              count="n"
              rows={r.labels.map((l) => ({ key: l.label, name: l.label, count: l.n, agreement: l.agreement, accuracy: l.accuracy }))}
            />
          </div>
          <div className="quality-charts">
            <div className="card">
              <div className="card-header">
                <h2>Confusion matrix (tags)</h2>
              </div>
              <div className="card-body">
                <ConfusionHeatmap labels={r.confusion.labels} matrix={r.confusion.matrix} />
              </div>
            </div>
            <div className="card">
              <div className="card-header">
                <h2>Dice distribution</h2>
                <span className="muted">{r.dice.length} values</span>
              </div>
              <div className="card-body">
                <Histogram values={r.dice} label="Dice" />
              </div>
            </div>
          </div>
          <div className="card">
            <div className="card-header">
              <h2>Trend</h2>
              <select value={shown} onChange={(e) => setMetric(e.target.value)} data-testid="quality-trend-metric">
                {metrics.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </div>
            <div className="card-body">
              <TrendChart series={trend} />
            </div>
          </div>
        </>
      )}
    </div>
  );
}
