import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api, ApiError, type FieldError } from '../api';
import { ErrorAlert } from '../components/ui';
import { Markdown } from '../components/Markdown';
import { SchemaEditor } from '../schema/SchemaEditor';
import { newLabel, schemaErrors, toSchema, validateDraft, type DraftLabel } from '../schema/draft';
import type { Project } from '../types';

export function NewProjectPage() {
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [guidelines, setGuidelines] = useState('');
  const [preview, setPreview] = useState(false);
  const [labels, setLabels] = useState<DraftLabel[]>(() => [newLabel(0)]);
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const local = validateDraft(labels);
    const nameErr = name.trim() ? [] : [{ path: 'name', message: 'Name is required.' }];
    if (local.length || nameErr.length) {
      setErrors([...nameErr, ...local]);
      return;
    }
    setBusy(true);
    try {
      const project = await api.post<Project>('/api/projects', {
        name: name.trim(),
        description,
        guidelines,
        labelSchema: toSchema(labels),
      });
      navigate(`/projects/${project.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.errors.length) setErrors(err.errors);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const nameErr = errors.find((e) => e.path === 'name');
  const others = schemaErrors(errors.filter((e) => e.path.startsWith('labelSchema') || e.path.startsWith('labels')));

  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link to="/projects">Projects</Link> <span>/</span> <span>New</span>
      </div>
      <div className="page-header">
        <h1>New project</h1>
      </div>
      <form onSubmit={submit} className="stack" noValidate>
        <ErrorAlert error={error} />
        <div className="card card-body stack">
          <label className="field">
            <span className="label">
              Name<span className="req">*</span>
            </span>
            <input className={`input ${nameErr ? 'invalid' : ''}`} value={name} onChange={(e) => setName(e.target.value)} autoFocus data-testid="project-name" />
            {nameErr && <span className="field-error">{nameErr.message}</span>}
          </label>
          <label className="field">
            <span className="label">Description</span>
            <input className="input" value={description} onChange={(e) => setDescription(e.target.value)} data-testid="project-description" />
          </label>
          <div className="field">
            <div className="row">
              <span className="label grow">
                Guidelines <span className="hint">Markdown: # headings, - lists, **bold**, *italic*, `code`</span>
              </span>
              <button type="button" className="btn btn-sm btn-ghost" onClick={() => setPreview((p) => !p)}>
                {preview ? 'Edit' : 'Preview'}
              </button>
            </div>
            {preview ? (
              <div className="card card-body" style={{ minHeight: 160 }}>
                <Markdown source={guidelines || '_Nothing yet._'} />
              </div>
            ) : (
              <textarea className="textarea mono" rows={8} value={guidelines} onChange={(e) => setGuidelines(e.target.value)} data-testid="project-guidelines" />
            )}
          </div>
        </div>
        <div className="section">
          <div className="section-title">
            <h2>Label schema</h2>
          </div>
          <SchemaEditor labels={labels} onChange={setLabels} errors={others} />
        </div>
        <div className="form-actions">
          <button className="btn btn-primary" type="submit" disabled={busy} data-testid="project-create">
            {busy ? 'Creating…' : 'Create project'}
          </button>
          <Link className="btn btn-ghost" to="/projects">
            Cancel
          </Link>
        </div>
      </form>
    </div>
  );
}
