import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Link, NavLink, useNavigate, useParams } from 'react-router-dom';
import { api, ApiError, enc, errorMessage, type FieldError } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, formatDate, Loading, useLoad } from '../components/ui';
import { Markdown } from '../components/Markdown';
import { ExportDialog } from '../exchange/ExportDialog';
import { RecentExports } from '../exchange/RecentExports';
import { DeidSettingsTab } from '../imaging/DeidSettings';
import { QualityTab } from '../quality/QualityTab';
import { SchemaEditor } from '../schema/SchemaEditor';
import { schemaErrors, toDraft, toSchema, validateDraft, type DraftLabel } from '../schema/draft';
import { PROJECT_ROLES, type Items, type Member, type Project, type ProjectRole, type Task } from '../types';
import { NotFound } from './NotFound';

const TABS = [
  { id: 'overview', label: 'Overview' },
  { id: 'labels', label: 'Labels' },
  { id: 'members', label: 'Members' },
  { id: 'tasks', label: 'Tasks' },
  { id: 'deid', label: 'De-identification' },
  { id: 'quality', label: 'Quality' },
] as const;

export function ProjectPage() {
  const { projectId = '', tab = 'overview' } = useParams();
  const { user } = useAuth();
  const { data: project, error, loading, setData } = useLoad((signal) => api.get<Project>(`/api/projects/${enc(projectId)}`, { signal }), [projectId]);
  const [exporting, setExporting] = useState(false);
  const [exportsKey, setExportsKey] = useState(0);
  // Stable, so that the dialog does not re-run its focus handling when the page re-renders.
  const closeExport = useCallback(() => setExporting(false), []);
  const exportsChanged = useCallback(() => setExportsKey((k) => k + 1), []);

  if (error instanceof ApiError && error.status === 404) return <NotFound />;
  if (loading && !project) return <Loading />;
  if (!project)
    return (
      <div className="page">
        <ErrorAlert error={error} />
      </div>
    );
  const canManage = project.myRole === 'manager' || user?.systemRole === 'admin';
  const canReview = canManage || project.myRole === 'reviewer';

  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link to="/projects">Projects</Link> <span>/</span>
      </div>
      <div className="page-header">
        <div>
          <h1 data-testid="project-title">{project.name}</h1>
          <div className="sub">
            {project.myRole && project.myRole !== 'admin' ? `Your role: ${project.myRole}` : 'Administrator access'} · updated {formatDate(project.updatedAt)}
          </div>
        </div>
        <div className="row">
          {canReview && (
            <Link className="btn" to={`/projects/${project.id}/review-burned-in`} data-testid="review-link">
              Burned-in review queue
            </Link>
          )}
          {canManage && (
            <button className="btn" onClick={() => setExporting(true)} data-testid="export-open">
              Export…
            </button>
          )}
        </div>
      </div>
      {exporting && <ExportDialog projectId={project.id} onClose={closeExport} onChanged={exportsChanged} />}
      <nav className="tabs" aria-label="Project sections">
        {TABS.filter((t) => t.id !== 'quality' || canReview).map((t) => (
          <NavLink key={t.id} to={`/projects/${project.id}/${t.id}`} className={() => (tab === t.id ? 'active' : '')} data-testid={`tab-${t.id}`} end>
            {t.label}
          </NavLink>
        ))}
      </nav>
      {tab === 'overview' && <Overview project={project} canManage={canManage} onSaved={setData} exportsKey={exportsKey} onExport={() => setExporting(true)} />}
      {tab === 'labels' && <LabelsTab project={project} canManage={canManage} onSaved={setData} />}
      {tab === 'members' && <MembersTab project={project} canManage={canManage} />}
      {tab === 'tasks' && <TasksTab project={project} canManage={canManage} />}
      {tab === 'deid' && <DeidSettingsTab projectId={project.id} canManage={canManage} />}
      {tab === 'quality' && (canReview ? <QualityTab projectId={project.id} /> : <p className="muted">The quality dashboard is for managers and reviewers.</p>)}
    </div>
  );
}

function Overview({
  project,
  canManage,
  onSaved,
  exportsKey,
  onExport,
}: {
  project: Project;
  canManage: boolean;
  onSaved: (p: Project) => void;
  exportsKey: number;
  onExport: () => void;
}) {
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(project.name);
  const [description, setDescription] = useState(project.description ?? '');
  const [guidelines, setGuidelines] = useState(project.guidelines ?? '');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const p = await api.patch<Project>(`/api/projects/${enc(project.id)}`, { name: name.trim(), description, guidelines });
      onSaved(p);
      setEditing(false);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!window.confirm(`Delete project "${project.name}" with all its tasks, assets and annotations? This cannot be undone.`)) return;
    try {
      await api.del(`/api/projects/${enc(project.id)}`);
      navigate('/projects');
    } catch (err) {
      setError(err);
    }
  };

  if (editing) {
    return (
      <form className="card card-body stack" onSubmit={save}>
        <ErrorAlert error={error} />
        <label className="field">
          <span className="label">Name</span>
          <input className="input" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field">
          <span className="label">Description</span>
          <input className="input" value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label className="field">
          <span className="label">Guidelines (Markdown)</span>
          <textarea className="textarea mono" rows={14} value={guidelines} onChange={(e) => setGuidelines(e.target.value)} />
        </label>
        <div className="form-actions">
          <button className="btn btn-primary" disabled={busy}>
            Save
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </div>
      </form>
    );
  }
  return (
    <div className="stack">
      <ErrorAlert error={error} />
      <div className="card">
        <div className="card-header">
          <h2>About</h2>
          {canManage && (
            <div className="row">
              <button className="btn btn-sm" onClick={() => setEditing(true)} data-testid="edit-project">
                Edit
              </button>
              <button className="btn btn-sm btn-danger" onClick={() => void remove()}>
                Delete project
              </button>
            </div>
          )}
        </div>
        <div className="card-body">{project.description ? <p>{project.description}</p> : <p className="muted">No description.</p>}</div>
      </div>
      <div className="card">
        <div className="card-header">
          <h2>Guidelines</h2>
        </div>
        <div className="card-body">
          {project.guidelines ? <Markdown source={project.guidelines} testId="guidelines" /> : <p className="muted">No guidelines written yet.</p>}
        </div>
      </div>
      {canManage && <RecentExports projectId={project.id} refreshKey={exportsKey} onExport={onExport} />}
    </div>
  );
}

function LabelsTab({ project, canManage, onSaved }: { project: Project; canManage: boolean; onSaved: (p: Project) => void }) {
  const [labels, setLabels] = useState<DraftLabel[]>(() => toDraft(project.labelSchema));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);

  const change = (l: DraftLabel[]) => {
    setLabels(l);
    setDirty(true);
    setSaved(false);
    if (l.length !== labels.length) setErrors([]);
  };

  const save = async () => {
    setError(null);
    setSaved(false);
    const local = validateDraft(labels);
    setErrors(local);
    if (local.length) return;
    setBusy(true);
    try {
      const p = await api.patch<Project>(`/api/projects/${enc(project.id)}`, { labelSchema: toSchema(labels) });
      onSaved(p);
      setLabels(toDraft(p.labelSchema));
      setDirty(false);
      setSaved(true);
    } catch (err) {
      if (err instanceof ApiError && err.errors.length) setErrors(schemaErrors(err.errors));
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="stack">
      {errors.length === 0 && <ErrorAlert error={error} />}
      {saved && <div className="alert alert-success" data-testid="schema-saved">Label schema saved.</div>}
      <SchemaEditor labels={labels} onChange={change} errors={errors} readOnly={!canManage} />
      {canManage && (
        <div className="form-actions">
          <button className="btn btn-primary" onClick={() => void save()} disabled={busy || !dirty} data-testid="schema-save">
            {busy ? 'Saving…' : 'Save labels'}
          </button>
          {errors.length > 0 ? (
            <span className="field-error" role="alert" data-testid="schema-not-saved">
              Not saved: {errors.length} {errors.length === 1 ? 'problem' : 'problems'}, marked in red above.
            </span>
          ) : (
            dirty && <span className="muted small">Unsaved changes</span>
          )}
        </div>
      )}
    </div>
  );
}

function MembersTab({ project, canManage }: { project: Project; canManage: boolean }) {
  const { user } = useAuth();
  const { data, error, loading, reload } = useLoad((signal) => api.get<Items<Member>>(`/api/projects/${enc(project.id)}/members`, { signal }), [project.id]);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<ProjectRole>('annotator');
  const [formError, setFormError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setFormError(null);
    setBusy(true);
    try {
      let found: { id: string };
      try {
        found = await api.get<{ id: string; email: string; name: string }>(`/api/users/lookup?email=${enc(email.trim())}`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) {
          setFormError(`No active user with the email ${email.trim()}. An administrator must create the account first.`);
          return;
        }
        throw err;
      }
      await api.put(`/api/projects/${enc(project.id)}/members/${enc(found.id)}`, { role });
      setEmail('');
      reload();
    } catch (err) {
      setFormError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const changeRole = async (m: Member, r: ProjectRole) => {
    setActionError(null);
    try {
      await api.put(`/api/projects/${enc(project.id)}/members/${enc(m.userId)}`, { role: r });
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  const remove = async (m: Member) => {
    if (!window.confirm(`Remove ${m.name} (${m.email}) from this project?`)) return;
    setActionError(null);
    try {
      await api.del(`/api/projects/${enc(project.id)}/members/${enc(m.userId)}`);
      reload();
    } catch (err) {
      setActionError(err);
    }
  };

  return (
    <div className="stack">
      {canManage && (
        <form className="card card-body" onSubmit={add}>
          <div className="row-end">
            <label className="field grow">
              <span className="label">Add member by email</span>
              <input className="input" type="email" value={email} onChange={(e) => setEmail(e.target.value)} placeholder="name@hospital.org" data-testid="member-email" />
            </label>
            <label className="field">
              <span className="label">Role</span>
              <select className="select" value={role} onChange={(e) => setRole(e.target.value as ProjectRole)} data-testid="member-role">
                {PROJECT_ROLES.map((r) => (
                  <option key={r}>{r}</option>
                ))}
              </select>
            </label>
            <button className="btn btn-primary" disabled={busy || !email.trim()} data-testid="member-add">
              Add member
            </button>
          </div>
          {formError && (
            <div className="field-error" role="alert" style={{ marginTop: 8 }} data-testid="member-error">
              {formError}
            </div>
          )}
        </form>
      )}
      <ErrorAlert error={error ?? actionError} />
      {loading && !data ? (
        <Loading />
      ) : (
        <div className="card">
          <table className="table" data-testid="members-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Email</th>
                <th>Role</th>
                {canManage && <th />}
              </tr>
            </thead>
            <tbody>
              {data?.items.map((m) => (
                <tr key={m.userId} data-testid="member-row">
                  <td>
                    {m.name}
                    {m.userId === user?.id && <span className="faint"> (you)</span>}
                  </td>
                  <td className="muted">{m.email}</td>
                  <td>
                    {canManage ? (
                      <select className="select input-sm" value={m.role} onChange={(e) => void changeRole(m, e.target.value as ProjectRole)} aria-label={`Role of ${m.name}`}>
                        {PROJECT_ROLES.map((r) => (
                          <option key={r}>{r}</option>
                        ))}
                      </select>
                    ) : (
                      m.role
                    )}
                  </td>
                  {canManage && (
                    <td className="right">
                      <button className="btn btn-sm btn-danger" onClick={() => void remove(m)}>
                        Remove
                      </button>
                    </td>
                  )}
                </tr>
              ))}
              {data?.items.length === 0 && (
                <tr>
                  <td colSpan={4} className="empty">
                    No members.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function TasksTab({ project, canManage }: { project: Project; canManage: boolean }) {
  const navigate = useNavigate();
  const { data, error, loading } = useLoad((signal) => api.get<Items<Task>>(`/api/projects/${enc(project.id)}/tasks`, { signal }), [project.id]);
  const [name, setName] = useState('');
  const [formError, setFormError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setFormError(null), [name]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const t = await api.post<Task>(`/api/projects/${enc(project.id)}/tasks`, { name: name.trim() });
      navigate(`/tasks/${t.id}`);
    } catch (err) {
      setFormError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="stack">
      {canManage && (
        <form className="card card-body" onSubmit={create}>
          <div className="row-end">
            <label className="field grow">
              <span className="label">New task</span>
              <input className="input" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Chest X-ray batch 1" data-testid="task-name" />
            </label>
            <button className="btn btn-primary" disabled={busy || !name.trim()} data-testid="task-create">
              Create task
            </button>
          </div>
          {formError != null && <div style={{ marginTop: 8 }}><ErrorAlert error={formError} /></div>}
        </form>
      )}
      <ErrorAlert error={error} />
      {loading && !data ? (
        <Loading />
      ) : (
        <div className="card">
          <table className="table" data-testid="tasks-table">
            <thead>
              <tr>
                <th>Task</th>
                <th className="num">Assets</th>
                <th className="num">Jobs</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {data?.items.map((t) => (
                <tr key={t.id}>
                  <td>
                    <Link to={`/tasks/${t.id}`} data-testid="task-link">
                      <strong>{t.name}</strong>
                    </Link>
                  </td>
                  <td className="num">{t.assetCount}</td>
                  <td className="num">{t.jobCount}</td>
                  <td className="muted nowrap">{formatDate(t.createdAt)}</td>
                </tr>
              ))}
              {data?.items.length === 0 && (
                <tr>
                  <td colSpan={4} className="empty">
                    No tasks yet.{canManage ? ' Create one, then upload data into it.' : ''}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
