// Project page: export the project's (or one task's) annotations in a chosen format. The export
// runs on the server as a background job; the dialog polls it and offers the zip when done.

import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, enc } from '../api';
import { Dialog, ErrorAlert, formatBytes, ProgressBar, StateBadge, useLoad } from '../components/ui';
import type { ExportView, Items, JobStage, Member, Task } from '../types';
import { useFocusTrap } from './focusTrap';
import {
  ALL_STAGES,
  DEFAULT_EXPORT_CHOICES,
  droppedList,
  EXPORT_FORMAT_INFO,
  exportChoicesProblem,
  FLAT_FORMATS,
  formatName,
  IMAGE_FORMATS,
  plural,
  toExportRequest,
  type ExportChoices,
} from './formats';

const POLL_MS = 500;

/** The download URL of a finished export (a plain link; the browser saves the attachment). */
export const exportDownloadUrl = (id: string) => `/api/exports/${enc(id)}/download`;

/** Polls GET /api/exports/:id every 500 ms while the export is queued or running. */
function useExportPolling(onSettled?: (v: ExportView) => void) {
  const [view, setView] = useState<ExportView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const settledRef = useRef(onSettled);
  useEffect(() => {
    settledRef.current = onSettled;
  }, [onSettled]);
  const id = view?.id;
  const finished = view ? view.state === 'done' || view.state === 'failed' : true;
  useEffect(() => {
    if (!id || finished) return;
    const ctrl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const v = await api.get<ExportView>(`/api/exports/${enc(id)}`, { signal: ctrl.signal });
        if (ctrl.signal.aborted) return;
        setError(null);
        setView(v);
        if (v.state === 'done' || v.state === 'failed') settledRef.current?.(v);
        else timer = setTimeout(() => void tick(), POLL_MS);
      } catch (err) {
        if (ctrl.signal.aborted) return;
        setError(err);
        // Connection hiccups are retried; an answer from the server (404, 403) ends the polling.
        if (err instanceof ApiError && err.isNetwork) timer = setTimeout(() => void tick(), POLL_MS * 4);
      }
    };
    timer = setTimeout(() => void tick(), POLL_MS);
    return () => {
      ctrl.abort();
      clearTimeout(timer);
    };
  }, [id, finished]);
  return { view, setView, error };
}

export function ExportDialog({
  projectId,
  onClose,
  onChanged,
}: {
  projectId: string;
  onClose: () => void;
  /** Called when an export is created and when it finishes (to refresh a list of exports). */
  onChanged?: () => void;
}) {
  const trapRef = useRef<HTMLDivElement>(null);
  useFocusTrap(trapRef);
  const scope = useLoad(async (signal) => {
    const [tasks, members] = await Promise.all([
      api.get<Items<Task>>(`/api/projects/${enc(projectId)}/tasks`, { signal }),
      api.get<Items<Member>>(`/api/projects/${enc(projectId)}/members`, { signal }),
    ]);
    return { tasks: tasks.items, members: members.items };
  }, [projectId]);
  const [choices, setChoices] = useState<ExportChoices>(DEFAULT_EXPORT_CHOICES);
  const [startError, setStartError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const { view, setView, error: pollError } = useExportPolling(onChanged);

  const set = <K extends keyof ExportChoices>(key: K, value: ExportChoices[K]) => setChoices((c) => ({ ...c, [key]: value }));
  const toggleStage = (s: JobStage, on: boolean) => set('stages', on ? ALL_STAGES.filter((x) => x === s || choices.stages.includes(x)) : choices.stages.filter((x) => x !== s));
  const problem = exportChoicesProblem(choices);
  const info = EXPORT_FORMAT_INFO.find((f) => f.id === choices.format);

  const start = async (e: FormEvent) => {
    e.preventDefault();
    if (problem) return;
    setBusy(true);
    setStartError(null);
    try {
      const v = await api.post<ExportView>(`/api/projects/${enc(projectId)}/exports`, toExportRequest(choices));
      setView(v);
      onChanged?.();
    } catch (err) {
      setStartError(err);
    } finally {
      setBusy(false);
    }
  };

  const running = view && (view.state === 'queued' || view.state === 'running');
  const footer = view ? (
    <>
      {running && <span className="muted small grow">The export keeps running on the server if you close this dialog.</span>}
      {!running && (
        <button className="btn btn-ghost" onClick={() => setView(null)} data-testid="export-again">
          New export
        </button>
      )}
      <button className="btn" onClick={onClose}>
        Close
      </button>
    </>
  ) : (
    <>
      <button className="btn btn-ghost" onClick={onClose}>
        Cancel
      </button>
      <button className="btn btn-primary" type="submit" form="export-form" disabled={busy || !!problem || !scope.data} data-testid="export-start">
        {busy ? 'Starting…' : 'Start export'}
      </button>
    </>
  );

  return (
    <Dialog title="Export annotations" onClose={onClose} testId="export-dialog" wide footer={footer}>
      <div ref={trapRef}>
        {view ? (
          <ExportProgress view={view} error={pollError} />
        ) : (
          <form id="export-form" className="stack" onSubmit={start} noValidate>
            <ErrorAlert error={startError ?? scope.error} testId="export-error" />
            <label className="field">
              <span className="label">Format</span>
              <select className="select" value={choices.format} onChange={(e) => set('format', e.target.value as ExportChoices['format'])} data-testid="export-format" autoFocus>
                {EXPORT_FORMAT_INFO.map((f) => (
                  <option key={f.id} value={f.id}>
                    {f.name}
                  </option>
                ))}
              </select>
              <span className="hint" data-testid="export-format-description">
                {info?.description}
              </span>
            </label>
            <div className="xchg-grid">
              <label className="field">
                <span className="label">Scope</span>
                <select className="select" value={choices.taskId} onChange={(e) => set('taskId', e.target.value)} data-testid="export-scope">
                  <option value="">Whole project</option>
                  {scope.data?.tasks.map((t) => (
                    <option key={t.id} value={t.id}>
                      Task: {t.name}
                    </option>
                  ))}
                </select>
              </label>
              <label className="field">
                <span className="label">Annotator</span>
                <select className="select" value={choices.annotator} onChange={(e) => set('annotator', e.target.value)} data-testid="export-annotator">
                  <option value="all">All annotators</option>
                  <option value="consensus">Consensus objects only</option>
                  {scope.data?.members.map((m) => (
                    <option key={m.userId} value={m.userId}>
                      {m.name} ({m.role})
                    </option>
                  ))}
                </select>
              </label>
            </div>
            <fieldset className="xchg-fieldset">
              <legend>Jobs</legend>
              <div className="row" style={{ gap: 16 }}>
                {ALL_STAGES.map((s) => (
                  <label key={s} className="checkbox">
                    <input type="checkbox" checked={choices.stages.includes(s)} onChange={(e) => toggleStage(s, e.target.checked)} data-testid={`export-stage-${s}`} />
                    {s} stage
                  </label>
                ))}
                <label className="checkbox">
                  <input type="checkbox" checked={choices.completedOnly} onChange={(e) => set('completedOnly', e.target.checked)} data-testid="export-completed" />
                  Completed jobs only
                </label>
              </div>
            </fieldset>
            <fieldset className="xchg-fieldset">
              <legend>Options</legend>
              <div className="stack" style={{ gap: 8 }}>
                <label className={`checkbox ${IMAGE_FORMATS.has(choices.format) ? '' : 'is-off'}`}>
                  <input
                    type="checkbox"
                    checked={IMAGE_FORMATS.has(choices.format) && choices.includeImages}
                    disabled={!IMAGE_FORMATS.has(choices.format)}
                    onChange={(e) => set('includeImages', e.target.checked)}
                    data-testid="export-images"
                  />
                  Include images <span className="hint">{choices.format === 'nifti' ? 'NIfTI volumes next to the label maps' : 'PNG slices next to the annotations'}</span>
                </label>
                <label className={`checkbox ${FLAT_FORMATS.has(choices.format) ? '' : 'is-off'}`}>
                  <input
                    type="checkbox"
                    checked={FLAT_FORMATS.has(choices.format) && choices.allSlices}
                    disabled={!FLAT_FORMATS.has(choices.format)}
                    onChange={(e) => set('allSlices', e.target.checked)}
                    data-testid="export-all-slices"
                  />
                  All slices <span className="hint">list every slice of a volume, not only annotated ones (2D formats)</span>
                </label>
                {choices.format === 'dicom-seg' && (
                  <label className="field" style={{ maxWidth: 360 }}>
                    <span className="label">SEG type</span>
                    <select className="select" value={choices.segType} onChange={(e) => set('segType', e.target.value as ExportChoices['segType'])} data-testid="export-seg-type">
                      <option value="binary">Segmentation (BINARY), one frame set per segment</option>
                      <option value="labelmap">Label Map Segmentation</option>
                    </select>
                  </label>
                )}
              </div>
            </fieldset>
            {problem && (
              <div className="field-error" role="alert" data-testid="export-problem">
                {problem}
              </div>
            )}
          </form>
        )}
      </div>
    </Dialog>
  );
}

/** Progress of a running export, then its result: download link and what the format left out. */
function ExportProgress({ view, error }: { view: ExportView; error: unknown }) {
  const dropped = droppedList(view.stats);
  const skipped = view.stats?.skipped ?? [];
  return (
    <div className="stack" data-testid="export-run" data-state={view.state}>
      <div className="row">
        <strong>{formatName(view.format)}</strong>
        <StateBadge state={view.state} />
        <span className="muted small grow" data-testid="export-phase">
          {view.state === 'done' ? 'finished' : view.state === 'failed' ? 'failed' : view.phase}
        </span>
        <span className="muted small nowrap" data-testid="export-count">
          {view.done} / {plural(view.total, 'asset')}
        </span>
      </div>
      <ProgressBar value={view.state === 'done' ? view.total : view.done} max={Math.max(view.total, view.state === 'done' ? 1 : 0)} tone={view.state === 'done' ? 'ok' : view.state === 'failed' ? 'err' : undefined} label="Export progress" />
      <ErrorAlert error={error} testId="export-poll-error" />
      {view.state === 'failed' && (
        <div className="alert alert-error" role="alert" data-testid="export-failed">
          {view.error ?? 'The export failed.'}
        </div>
      )}
      {view.state === 'done' && (
        <>
          <div className="xchg-done">
            <a className="btn btn-primary" href={exportDownloadUrl(view.id)} download={view.fileName} data-testid="export-download">
              Download {view.fileName}
            </a>
            {view.bytes !== null && <span className="muted small">{formatBytes(view.bytes)}</span>}
          </div>
          {view.stats && (
            <dl className="xchg-stats" data-testid="export-stats">
              <div>
                <dt>Assets</dt>
                <dd data-testid="export-stat-assets">{view.stats.assets}</dd>
              </div>
              <div>
                <dt>Files</dt>
                <dd data-testid="export-stat-files">{view.stats.files}</dd>
              </div>
              <div>
                <dt>Objects</dt>
                <dd data-testid="export-stat-objects">{view.stats.objects}</dd>
              </div>
            </dl>
          )}
          {dropped.length > 0 ? (
            <div className="alert alert-warning" data-testid="export-dropped">
              Not in this format (left out of the file):
              <ul>
                {dropped.map((d) => (
                  <li key={d.kind} data-testid="export-dropped-item">
                    {d.kind}: {d.count}
                  </li>
                ))}
              </ul>
            </div>
          ) : (
            skipped.length === 0 && (
              <p className="muted small" data-testid="export-nothing-dropped">
                Every object in scope fits this format.
              </p>
            )
          )}
          {skipped.length > 0 && <SkippedList title="Skipped" items={skipped.map((s) => ({ where: s.asset, reason: s.reason }))} testId="export-skipped" />}
        </>
      )}
    </div>
  );
}

/** A scrollable list of skipped items with their reasons. */
export function SkippedList({ title, items, total, testId }: { title: string; items: { where: string; reason: string }[]; total?: number; testId?: string }) {
  const count = Math.max(total ?? 0, items.length);
  return (
    <div className="xchg-skipped" data-testid={testId}>
      <div className="xchg-skipped-head">
        <strong>{title}</strong> <span className="badge">{count}</span>
        {count > items.length && <span className="muted small"> (first {items.length} listed)</span>}
      </div>
      <ul>
        {items.map((s, i) => (
          <li key={i}>
            <span className="mono small">{s.where || '—'}</span> <span className="muted">{s.reason}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
