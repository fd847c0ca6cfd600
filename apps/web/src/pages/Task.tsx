import { useCallback, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, ApiError, enc } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, formatBytes, formatDate, Loading, ProgressBar, StateBadge, useLoad } from '../components/ui';
import { ImportDialog } from '../exchange/ImportDialog';
import { IngestPanel } from '../imaging/IngestPanel';
import { StudyBrowser } from '../imaging/StudyBrowser';
import type { Asset, Items, Job, Member, Project, Study, Task } from '../types';
import { NotFound } from './NotFound';

interface TaskContext {
  task: Task;
  project: Project;
  members: Member[];
}

export function TaskPage() {
  const { taskId = '' } = useParams();
  const { user } = useAuth();
  const navigate = useNavigate();
  const [importing, setImporting] = useState(false);
  // Stable, so that the dialog does not re-run its focus handling when the page re-renders.
  const closeImport = useCallback(() => setImporting(false), []);
  const ctx = useLoad(async (signal): Promise<TaskContext> => {
    const task = await api.get<Task>(`/api/tasks/${enc(taskId)}`, { signal });
    const [project, members] = await Promise.all([
      api.get<Project>(`/api/projects/${enc(task.projectId)}`, { signal }),
      api.get<Items<Member>>(`/api/projects/${enc(task.projectId)}/members`, { signal }).catch(() => ({ items: [] as Member[] })),
    ]);
    return { task, project, members: members.items };
  }, [taskId]);
  const assets = useLoad(
    (signal) => api.get<Items<Asset>>(`/api/tasks/${enc(taskId)}/assets`, { signal }).catch((e: unknown) => {
      if (e instanceof ApiError && (e.status === 403 || e.status === 404)) return null;
      throw e;
    }),
    [taskId],
  );
  const jobs = useLoad((signal) => api.get<Items<Job>>(`/api/tasks/${enc(taskId)}/jobs`, { signal }), [taskId]);
  const studies = useLoad(
    (signal) => api.get<Items<Study>>(`/api/tasks/${enc(taskId)}/studies`, { signal }).catch((e: unknown) => {
      if (e instanceof ApiError && (e.status === 403 || e.status === 404)) return null;
      throw e;
    }),
    [taskId],
  );

  if (ctx.error instanceof ApiError && ctx.error.status === 404) return <NotFound />;
  if (!ctx.data)
    return ctx.error ? (
      <div className="page">
        <ErrorAlert error={ctx.error} />
      </div>
    ) : (
      <Loading />
    );
  const { task, project, members } = ctx.data;
  const canManage = project.myRole === 'manager' || user?.systemRole === 'admin';
  const refreshAll = () => {
    ctx.reload();
    assets.reload();
    jobs.reload();
    studies.reload();
  };

  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link to="/projects">Projects</Link> <span>/</span>
        <Link to={`/projects/${project.id}/tasks`}>{project.name}</Link> <span>/</span>
      </div>
      <div className="page-header">
        <div>
          <h1 data-testid="task-title">{task.name}</h1>
          <div className="sub">
            {task.assetCount} {task.assetCount === 1 ? 'asset' : 'assets'} · {task.jobCount} {task.jobCount === 1 ? 'job' : 'jobs'} · created {formatDate(task.createdAt)}
          </div>
        </div>
        {canManage && (
          <div className="row">
            <button className="btn" onClick={() => setImporting(true)} data-testid="import-open">
              Import annotations…
            </button>
            <button
              className="btn btn-danger"
              onClick={() => {
                if (!window.confirm(`Delete task "${task.name}" with its assets, jobs and annotations?`)) return;
                void api.del(`/api/tasks/${enc(task.id)}`).then(() => navigate(`/projects/${project.id}/tasks`));
              }}
            >
              Delete task
            </button>
          </div>
        )}
      </div>
      {importing && (
        <ImportDialog taskId={task.id} labels={project.labelSchema.labels} jobs={jobs.data?.items ?? []} onClose={closeImport} onImported={refreshAll} />
      )}

      {canManage && <IngestPanel taskId={task.id} onSettled={refreshAll} />}

      {studies.data && studies.data.items.length > 0 && (
        <section className="section">
          <div className="section-title">
            <h2>Studies and series</h2>
            <span className="muted small">
              {studies.data.items.length} {studies.data.items.length === 1 ? 'study' : 'studies'} · {studies.data.items.reduce((n, st) => n + st.series.length, 0)} series
            </span>
          </div>
          <StudyBrowser studies={studies.data.items} />
        </section>
      )}
      <ErrorAlert error={studies.error} />

      <JobsSection task={task} members={members} canManage={canManage} jobs={jobs.data?.items ?? null} error={jobs.error} reload={refreshAll} unassigned={unassignedCount(task, jobs.data?.items)} />

      {assets.data !== null && (
        <section className="section">
          <div className="section-title">
            <h2>Assets</h2>
            <span className="muted small">{assets.data?.items.length ?? 0} files</span>
          </div>
          <ErrorAlert error={assets.error} />
          <div className="card" style={{ maxHeight: 480, overflow: 'auto' }}>
            <table className="table" data-testid="assets-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Type</th>
                  <th>Details</th>
                  <th className="num">Size</th>
                  <th>Added</th>
                </tr>
              </thead>
              <tbody>
                {assets.data?.items.map((a) => (
                  <tr key={a.id} data-testid="asset-row">
                    <td className="mono small">{a.name}</td>
                    <td>
                      <span className="badge">{a.modality}</span> <span className="muted small">{a.mediaType}</span>
                    </td>
                    <td className="muted small">{describeAsset(a)}</td>
                    <td className="num muted">{formatBytes(a.size)}</td>
                    <td className="muted nowrap small">{formatDate(a.createdAt)}</td>
                  </tr>
                ))}
                {assets.data?.items.length === 0 && (
                  <tr>
                    <td colSpan={5} className="empty">
                      No assets yet.
                    </td>
                  </tr>
                )}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </div>
  );
}

function unassignedCount(task: Task, jobs: Job[] | undefined): number | null {
  if (!jobs) return null;
  const inJobs = jobs.reduce((n, j) => n + j.assetCount, 0);
  return Math.max(0, task.assetCount - inJobs);
}

function describeAsset(a: Asset): string {
  const m = a.metadata ?? {};
  const im = m.imaging;
  if (im) {
    const hold = a.hold === 'burned-in' ? ' · held for burned-in review' : '';
    return `${im.kind} · ${im.modality} · ${im.dims[0]} × ${im.dims[1]}${im.dims[2] > 1 ? ` × ${im.dims[2]}` : ''} · ${im.dtype}${hold}`;
  }
  if (a.modality === 'image' && m.width && m.height) {
    return `${m.width} × ${m.height}${m.bitDepth ? ` · ${m.bitDepth}-bit` : ''}${m.channels ? ` · ${m.channels} ch` : ''}`;
  }
  if (a.modality === 'text') return [m.characters != null ? `${m.characters} characters` : '', m.lines != null ? `${m.lines} lines` : ''].filter(Boolean).join(' · ');
  return '';
}

function JobsSection({
  task,
  members,
  canManage,
  jobs,
  error,
  reload,
  unassigned,
}: {
  task: Task;
  members: Member[];
  canManage: boolean;
  jobs: Job[] | null;
  error: unknown;
  reload: () => void;
  unassigned: number | null;
}) {
  const navigate = useNavigate();
  const [perJob, setPerJob] = useState('10');
  const [assignee, setAssignee] = useState('');
  const [formError, setFormError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<number | null>(null);

  const split = async (e: FormEvent) => {
    e.preventDefault();
    setFormError(null);
    setCreated(null);
    const n = Number(perJob);
    if (!Number.isInteger(n) || n < 1) {
      setFormError(new ApiError(400, 'Assets per job must be a whole number of at least 1.'));
      return;
    }
    setBusy(true);
    try {
      const body: { assetsPerJob: number; assigneeId?: string } = { assetsPerJob: n };
      if (assignee) body.assigneeId = assignee;
      const res = await api.post<Items<Job>>(`/api/tasks/${enc(task.id)}/jobs`, body);
      setCreated(res.items.length);
      reload();
    } catch (err) {
      setFormError(err);
    } finally {
      setBusy(false);
    }
  };

  const patchJob = async (job: Job, body: Record<string, unknown>) => {
    setActionError(null);
    try {
      await api.patch(`/api/jobs/${enc(job.id)}`, body);
      reload();
    } catch (err) {
      setActionError(err);
    }
  };

  return (
    <section className="section">
      <div className="section-title">
        <h2>Jobs</h2>
      </div>
      {canManage && (
        <form className="card card-body" onSubmit={split} style={{ marginBottom: 12 }} data-testid="split-form">
          <div className="row-end">
            <label className="field">
              <span className="label">Assets per job</span>
              <input className="input" style={{ width: 120 }} type="number" min={1} step={1} value={perJob} onChange={(e) => setPerJob(e.target.value)} data-testid="assets-per-job" />
            </label>
            <label className="field">
              <span className="label">Assign to</span>
              <select className="select" value={assignee} onChange={(e) => setAssignee(e.target.value)} data-testid="split-assignee" style={{ minWidth: 200 }}>
                <option value="">Nobody yet</option>
                {members.map((m) => (
                  <option key={m.userId} value={m.userId}>
                    {m.name} ({m.role})
                  </option>
                ))}
              </select>
            </label>
            <button className="btn btn-primary" disabled={busy} data-testid="split-submit">
              Split into jobs
            </button>
            {unassigned !== null && <span className="muted small" style={{ paddingBottom: 8 }}>{unassigned} assets not in a job yet</span>}
          </div>
          {formError != null && (
            <div style={{ marginTop: 10 }}>
              <ErrorAlert error={formError} testId="split-error" />
            </div>
          )}
          {created !== null && (
            <div className="alert alert-success" style={{ marginTop: 10 }} data-testid="split-done">
              Created {created} {created === 1 ? 'job' : 'jobs'}.
            </div>
          )}
        </form>
      )}
      <ErrorAlert error={error ?? actionError} />
      <div className="card">
        <table className="table" data-testid="jobs-table">
          <thead>
            <tr>
              <th>Job</th>
              <th>Assignee</th>
              <th>Stage</th>
              <th>State</th>
              <th>Progress</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {jobs?.map((j) => (
              <tr key={j.id} data-testid="job-row">
                <td>
                  <strong>{j.name}</strong>
                </td>
                <td>
                  {canManage ? (
                    <select
                      className="select input-sm"
                      value={j.assigneeId ?? ''}
                      onChange={(e) => void patchJob(j, { assigneeId: e.target.value || null })}
                      aria-label={`Assignee of ${j.name}`}
                      data-testid="job-assignee"
                    >
                      <option value="">Unassigned</option>
                      {members.map((m) => (
                        <option key={m.userId} value={m.userId}>
                          {m.name}
                        </option>
                      ))}
                      {j.assigneeId && !members.some((m) => m.userId === j.assigneeId) && <option value={j.assigneeId}>{j.assigneeName ?? j.assigneeId}</option>}
                    </select>
                  ) : (
                    (j.assigneeName ?? <span className="faint">Unassigned</span>)
                  )}
                </td>
                <td>
                  {canManage ? (
                    <select className="select input-sm" value={j.stage} onChange={(e) => void patchJob(j, { stage: e.target.value })} aria-label={`Stage of ${j.name}`}>
                      <option value="annotation">annotation</option>
                      <option value="review">review</option>
                      <option value="acceptance">acceptance</option>
                    </select>
                  ) : (
                    j.stage
                  )}
                </td>
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
                <td className="right">
                  <button className="btn btn-sm" onClick={() => navigate(`/jobs/${j.id}`)} data-testid="job-open">
                    Open
                  </button>
                </td>
              </tr>
            ))}
            {jobs?.length === 0 && (
              <tr>
                <td colSpan={6} className="empty">
                  No jobs yet.{canManage ? ' Upload assets, then split them into jobs.' : ''}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
