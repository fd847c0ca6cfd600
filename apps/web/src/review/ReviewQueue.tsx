// The reviewer's queue (on the queue page): jobs awaiting review and the reviews the caller holds.
// Opening one starts (or continues) the review and opens the workspace.

import { useState } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api, enc, errorMessage } from '../api';
import { ErrorAlert, formatDate, useLoad } from '../components/ui';
import type { Items, ReviewQueueItem, ReviewStatus } from '../types';

export function ReviewQueueSection() {
  const navigate = useNavigate();
  const { data, error } = useLoad((signal) => api.get<Items<ReviewQueueItem>>('/api/review/queue', { signal }), []);
  const [openError, setOpenError] = useState<string | null>(null);
  const [opening, setOpening] = useState<string | null>(null);
  if (!data || data.items.length === 0) return error ? <ErrorAlert error={error} /> : null;

  const open = async (job: ReviewQueueItem) => {
    setOpening(job.id);
    setOpenError(null);
    try {
      await api.post<ReviewStatus>(`/api/jobs/${enc(job.id)}/review/start`, {});
      navigate(`/jobs/${enc(job.id)}`);
    } catch (err) {
      setOpenError(errorMessage(err));
      setOpening(null);
    }
  };

  return (
    <div className="section review-queue" style={{ marginTop: 24 }} data-testid="review-queue">
      <div className="section-title">
        <h2>Review</h2>
        <span className="muted small">Completed jobs waiting for a reviewer, and the reviews you hold.</span>
      </div>
      {openError && (
        <div className="alert alert-error" role="alert" style={{ marginBottom: 12 }}>
          {openError}
        </div>
      )}
      <div className="card">
        <table className="table">
          <thead>
            <tr>
              <th>Job</th>
              <th>Project / task</th>
              <th>Annotator</th>
              <th>Round</th>
              <th>Open issues</th>
              <th>Status</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.items.map((j) => (
              <tr key={j.id} data-testid="review-row" data-job-id={j.id}>
                <td>
                  <strong>{j.name}</strong>
                  <div className="small muted">
                    {j.assetCount} {j.assetCount === 1 ? 'asset' : 'assets'}
                  </div>
                </td>
                <td>
                  <Link to={`/projects/${j.projectId}`}>{j.projectName}</Link>
                  <span className="muted"> / </span>
                  <Link to={`/tasks/${j.taskId}`}>{j.taskName}</Link>
                </td>
                <td>{j.assigneeName ?? <span className="muted">—</span>}</td>
                <td>{j.round + 1}</td>
                <td>{j.openIssues}</td>
                <td>{j.stage === 'review' ? <span className="badge badge-in_progress">{j.reviewerName ? `reviewing · ${j.reviewerName}` : 'in review'}</span> : <span className="badge badge-awaiting">awaiting review</span>}</td>
                <td className="muted small nowrap">{formatDate(j.updatedAt)}</td>
                <td className="right">
                  <button className="btn btn-sm btn-primary" disabled={opening === j.id} onClick={() => void open(j)} data-testid="review-open">
                    {j.stage === 'review' ? 'Continue' : 'Review'}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
