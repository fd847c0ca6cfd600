import { useEffect, useState } from 'react';
import { Link, useLocation, useNavigate } from 'react-router-dom';
import { api, ApiError } from '../api';
import { ErrorAlert, Loading, ProgressBar, StateBadge, formatDate, useLoad } from '../components/ui';
import { usePageShortcuts } from '../components/shortcuts';
import type { Items, Job, QueueJob } from '../types';
import { isTypingTarget } from '../components/ui';
import { ReviewQueueSection } from '../review/ReviewQueue';

export function QueuePage() {
  const navigate = useNavigate();
  const location = useLocation();
  const notice = (location.state as { notice?: string } | null)?.notice;
  const { data, error, loading } = useLoad((signal) => api.get<Items<QueueJob>>('/api/me/jobs', { signal }), []);
  const [startError, setStartError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  usePageShortcuts([{ title: 'My queue', items: [{ keys: ['Enter'], description: 'Start next job' }] }]);

  const startNext = async () => {
    setStartError(null);
    setStarting(true);
    try {
      const job = await api.post<Job>('/api/me/jobs/next', {});
      navigate(`/jobs/${job.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setStartError('Nothing left to do: no new or in-progress jobs are assigned to you.');
      else setStartError(err instanceof Error ? err.message : String(err));
    } finally {
      setStarting(false);
    }
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Enter' && !isTypingTarget(e.target) && (e.target as HTMLElement).tagName !== 'BUTTON' && (e.target as HTMLElement).tagName !== 'A' && !document.querySelector('[role="dialog"]')) {
        e.preventDefault();
        void startNext();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const open = data?.items.filter((j) => j.state === 'new' || j.state === 'in_progress' || j.state === 'rejected') ?? [];
  const rest = data?.items.filter((j) => !(j.state === 'new' || j.state === 'in_progress' || j.state === 'rejected')) ?? [];

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1>My queue</h1>
          <div className="sub">Jobs assigned to you.</div>
        </div>
        <button className="btn btn-primary btn-lg" onClick={() => void startNext()} disabled={starting} data-testid="start-next">
          Start next job <kbd style={{ marginLeft: 4 }}>Enter</kbd>
        </button>
      </div>
      {notice && (
        <div className="alert alert-success" role="status" data-testid="queue-notice" style={{ marginBottom: 12 }}>
          {notice}
        </div>
      )}
      {startError && (
        <div className="alert alert-info" role="status" data-testid="queue-message" style={{ marginBottom: 12 }}>
          {startError}
        </div>
      )}
      <ErrorAlert error={error} />
      {loading && !data ? (
        <Loading />
      ) : (
        <>
          <JobTable jobs={open} empty="No open jobs. When a manager assigns work to you it appears here." testId="queue-table" />
          <ReviewQueueSection />
          {rest.length > 0 && (
            <div className="section" style={{ marginTop: 24 }}>
              <div className="section-title">
                <h2>Finished</h2>
              </div>
              <JobTable jobs={rest} empty="" testId="queue-done-table" />
            </div>
          )}
        </>
      )}
    </div>
  );
}

function JobTable({ jobs, empty, testId }: { jobs: QueueJob[]; empty: string; testId: string }) {
  return (
    <div className="card">
      <table className="table" data-testid={testId}>
        <thead>
          <tr>
            <th>Job</th>
            <th>Project / task</th>
            <th>Stage</th>
            <th>State</th>
            <th>Progress</th>
            <th>Updated</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id} data-testid="queue-row">
              <td>
                <strong>{j.name}</strong>
              </td>
              <td>
                <Link to={`/projects/${j.projectId}`}>{j.projectName}</Link>
                <span className="muted"> / </span>
                <Link to={`/tasks/${j.taskId}`}>{j.taskName}</Link>
              </td>
              <td>{j.stage}</td>
              <td>
                <StateBadge state={j.state} />
              </td>
              <td>
                <div className="progress-cell">
                  <ProgressBar value={j.annotatedCount} max={j.assetCount} tone={j.state === 'completed' ? 'ok' : undefined} />
                  <span className="small muted nowrap">
                    {j.annotatedCount} / {j.assetCount}
                  </span>
                </div>
              </td>
              <td className="muted small nowrap">{formatDate(j.updatedAt)}</td>
              <td className="right">
                <Link className="btn btn-sm" to={`/jobs/${j.id}`}>
                  {j.state === 'completed' ? 'View' : 'Open'}
                </Link>
              </td>
            </tr>
          ))}
          {jobs.length === 0 && empty && (
            <tr>
              <td colSpan={7} className="empty">
                {empty}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
