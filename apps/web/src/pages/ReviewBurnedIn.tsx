// Burned-in review queue: assets held because their pixels may show identifying text. A
// reviewer or manager looks at every frame and confirms there is none, which releases the asset
// to annotators.

import { useState } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, ApiError, enc } from '../api';
import { ErrorAlert, formatDate, Loading, useLoad } from '../components/ui';
import { SliceViewer, canShowSlices } from '../imaging/SliceViewer';
import { thumbnailUrl } from '../imaging/StudyBrowser';
import type { Asset, Items, Project } from '../types';
import { NotFound } from './NotFound';

export function ReviewBurnedInPage() {
  const { projectId = '' } = useParams();
  const project = useLoad((signal) => api.get<Project>(`/api/projects/${enc(projectId)}`, { signal }), [projectId]);
  const held = useLoad((signal) => api.get<Items<Asset>>(`/api/projects/${enc(projectId)}/held-assets`, { signal }), [projectId]);
  const [selected, setSelected] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const [released, setReleased] = useState<string[]>([]);

  if (project.error instanceof ApiError && project.error.status === 404) return <NotFound />;
  if (!project.data)
    return project.error ? (
      <div className="page">
        <ErrorAlert error={project.error} />
      </div>
    ) : (
      <Loading />
    );
  const items = held.data?.items ?? [];
  const current = items.find((a) => a.id === selected) ?? items[0] ?? null;

  const release = async (a: Asset) => {
    setBusy(true);
    setActionError(null);
    try {
      await api.post(`/api/assets/${enc(a.id)}/release`);
      setReleased((r) => [...r, a.name]);
      held.setData({ items: items.filter((x) => x.id !== a.id) });
      setSelected(null);
    } catch (err) {
      setActionError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <div className="breadcrumbs">
        <Link to="/projects">Projects</Link> <span>/</span>
        <Link to={`/projects/${project.data.id}`}>{project.data.name}</Link> <span>/</span>
      </div>
      <div className="page-header">
        <div>
          <h1 data-testid="review-title">Burned-in text review</h1>
          <div className="sub">
            Images whose header says they may carry burned-in annotations are held from annotators. Look through every frame; if no name, ID, date or other identifying text is
            visible, confirm to release the image.
          </div>
        </div>
      </div>
      <ErrorAlert error={held.error ?? actionError} />
      {released.length > 0 && (
        <div className="alert alert-success" data-testid="review-released">
          Released: {released.join(', ')}
        </div>
      )}
      {held.loading && !held.data ? (
        <Loading />
      ) : items.length === 0 ? (
        <div className="card card-body empty" data-testid="review-empty">
          Nothing to review: no image in this project is waiting for a burned-in text check.
        </div>
      ) : (
        <div className="review-layout">
          <ul className="review-list" data-testid="review-list">
            {items.map((a) => (
              <li key={a.id}>
                <button type="button" className={`review-item ${current?.id === a.id ? 'active' : ''}`} onClick={() => setSelected(a.id)} data-testid="review-item" data-name={a.name}>
                  {a.hasThumbnail ? <img src={thumbnailUrl(a.id)} alt="" data-testid="review-thumbnail" /> : <span className="review-noimg faint small">No preview</span>}
                  <span className="review-item-text">
                    <span className="mono small">{a.name}</span>
                    <span className="muted small">
                      {a.metadata.imaging?.modality ?? a.modality} · {a.frameCount ?? 0} {a.frameCount === 1 ? 'frame' : 'frames'} · {formatDate(a.createdAt)}
                    </span>
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {current && (
            <div className="card review-main" data-testid="review-current">
              <div className="card-header">
                <h2 className="mono small">{current.name}</h2>
                <button className="btn btn-primary" disabled={busy} onClick={() => void release(current)} data-testid="review-release">
                  Confirm: no identifying text
                </button>
              </div>
              <div className="review-viewer">
                {canShowSlices(current) ? <SliceViewer asset={current} /> : current.hasThumbnail ? <img src={thumbnailUrl(current.id)} alt={current.name} /> : <p className="muted">No image to show.</p>}
              </div>
            </div>
          )}
        </div>
      )}
    </div>
  );
}
