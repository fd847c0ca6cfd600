// Project page: the latest exports of the project (format, date, state, size, download), polled
// while any of them is still queued or running.

import { useEffect } from 'react';
import { api, enc } from '../api';
import { ErrorAlert, formatBytes, formatDate, StateBadge, useLoad } from '../components/ui';
import type { ExportView, Items } from '../types';
import { exportDownloadUrl } from './ExportDialog';
import { formatName } from './formats';

const POLL_MS = 2000;

/** A compact table of the project's recent exports; `refreshKey` changes force a reload. */
export function RecentExports({ projectId, refreshKey = 0, limit = 10, onExport }: { projectId: string; refreshKey?: number; limit?: number; onExport?: () => void }) {
  const { data, error, reload } = useLoad((signal) => api.get<Items<ExportView>>(`/api/projects/${enc(projectId)}/exports`, { signal }), [projectId, refreshKey]);
  const pending = data?.items.some((x) => x.state === 'queued' || x.state === 'running') ?? false;
  useEffect(() => {
    if (!pending) return;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [pending, data, reload]);
  const items = data?.items.slice(0, limit) ?? [];
  return (
    <div className="card" data-testid="recent-exports">
      <div className="card-header">
        <h2>Recent exports</h2>
        <div className="row">
          {data && data.items.length > limit && <span className="muted small">latest {limit} of {data.items.length}</span>}
          {onExport && (
            <button className="btn btn-sm" onClick={onExport} data-testid="export-open-recent">
              New export…
            </button>
          )}
        </div>
      </div>
      <ErrorAlert error={error} />
      <table className="table">
        <thead>
          <tr>
            <th>Format</th>
            <th>Started</th>
            <th>State</th>
            <th className="num">Size</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {items.map((x) => (
            <tr key={x.id} data-testid="export-row" data-state={x.state}>
              <td>
                <strong>{formatName(x.format)}</strong>
                {x.request.taskId && <span className="muted small"> · one task</span>}
              </td>
              <td className="muted nowrap small">{formatDate(x.createdAt)}</td>
              <td>
                <StateBadge state={x.state} />
                {x.state === 'running' && x.total > 0 && (
                  <span className="muted small">
                    {' '}
                    {x.done} / {x.total}
                  </span>
                )}
                {x.state === 'failed' && x.error && (
                  <div className="field-error" title={x.error}>
                    {x.error}
                  </div>
                )}
              </td>
              <td className="num muted">{x.bytes !== null ? formatBytes(x.bytes) : '—'}</td>
              <td className="right">
                {x.state === 'done' && (
                  <a className="btn btn-sm" href={exportDownloadUrl(x.id)} download={x.fileName} data-testid="export-row-download">
                    Download
                  </a>
                )}
              </td>
            </tr>
          ))}
          {data && items.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No exports yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
