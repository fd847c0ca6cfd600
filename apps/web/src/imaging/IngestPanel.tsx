// Task page upload area for background ingest: one request per drop or selection, a byte
// progress bar while sending, then the run's progress, summary and per-file report. Earlier
// runs of the task stay listed (collapsed) so their reports can be read later.

import { useCallback, useEffect, useRef, useState, type DragEvent } from 'react';
import { api, enc } from '../api';
import { Dialog, ErrorAlert, formatBytes, formatDate, Loading, ProgressBar, useLoad } from '../components/ui';
import { fromDataTransfer, fromFileList, type PickedFile } from '../upload';
import type { Asset, IngestFile, IngestRun, IngestRunDetail, Items } from '../types';
import { flagText, flagTone, isFinished, isProblem, uploadBatch } from './ingest';
import { SliceViewer, canShowSlices } from './SliceViewer';

const POLL_MS = 700;

const PHASES: Record<string, string> = {
  queued: 'Waiting for the ingest worker…',
  files: 'Reading, checking and de-identifying files…',
  building: 'Building series into volumes and stacks…',
  retrying: 'Interrupted; will retry…',
  done: 'Finished',
  failed: 'Failed',
};

const DEID_LABELS: [string, string][] = [
  ['removed', 'removed'],
  ['emptied', 'emptied'],
  ['replaced', 'replaced'],
  ['uidsRemapped', 'UIDs remapped'],
  ['datesShifted', 'dates shifted'],
  ['cleaned', 'cleaned'],
  ['privateRemoved', 'private removed'],
  ['privateKept', 'private kept'],
];

interface Sending {
  files: number;
  loaded: number;
  total: number;
}

export function IngestPanel({ taskId, onSettled }: { taskId: string; onSettled: () => void }) {
  const runs = useLoad((signal) => api.get<Items<IngestRun>>(`/api/tasks/${enc(taskId)}/ingest-runs`, { signal }), [taskId]);
  const [sending, setSending] = useState<Sending | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [currentId, setCurrentId] = useState<string | null>(null);
  const [over, setOver] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const abortRef = useRef<(() => void) | null>(null);
  const settledRef = useRef(onSettled);
  settledRef.current = onSettled;

  const send = useCallback(
    async (files: PickedFile[]) => {
      if (!files.length) return;
      setError(null);
      const total = files.reduce((n, f) => n + f.file.size, 0);
      setSending({ files: files.length, loaded: 0, total });
      const h = uploadBatch(`/api/tasks/${enc(taskId)}/uploads`, files, (loaded, t) => setSending({ files: files.length, loaded, total: t }));
      abortRef.current = h.abort;
      try {
        const run = await h.done;
        setCurrentId(run.id);
        runs.reload();
      } catch (err) {
        setError(err);
      } finally {
        abortRef.current = null;
        setSending(null);
      }
    },
    [taskId, runs],
  );

  useEffect(() => {
    if (!sending) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [sending]);

  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    void send(await fromDataTransfer(e.dataTransfer));
  };

  const list = runs.data?.items ?? [];
  // After a reload, a run still in progress is shown open.
  const current = currentId ?? (list[0] && !isFinished(list[0]) ? list[0].id : null);
  const earlier = list.filter((r) => r.id !== current);

  return (
    <section className="section">
      <div className="section-title">
        <h2>Upload data</h2>
        <span className="muted small">DICOM, NIfTI, PNG / TIFF / JPEG, text, and .zip archives of these</span>
      </div>
      <div className="card card-body stack">
        <div
          className={`dropzone ${over ? 'over' : ''}`}
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => void onDrop(e)}
          data-testid="dropzone"
        >
          <div>
            Drop files or folders here. DICOM is de-identified on the server before it is stored; series are grouped into studies and built into volumes. Each drop becomes one ingest run with a
            report.
          </div>
          <div className="row">
            <button type="button" className="btn" onClick={() => fileRef.current?.click()} disabled={!!sending} data-testid="choose-files">
              Choose files
            </button>
            <button type="button" className="btn" onClick={() => folderRef.current?.click()} disabled={!!sending} data-testid="choose-folder">
              Choose folder
            </button>
          </div>
          <input
            ref={fileRef}
            type="file"
            multiple
            hidden
            accept=".dcm,.dicom,.nii,.gz,.hdr,.img,.png,.tif,.tiff,.jpg,.jpeg,.txt,.md,.csv,.json,.zip,application/dicom,application/zip,image/*,text/*,*/*"
            data-testid="file-input"
            onChange={(e) => {
              void send(fromFileList(e.target.files));
              e.target.value = '';
            }}
          />
          <input
            ref={folderRef}
            type="file"
            hidden
            data-testid="folder-input"
            {...{ webkitdirectory: '', directory: '' }}
            onChange={(e) => {
              void send(fromFileList(e.target.files));
              e.target.value = '';
            }}
          />
        </div>
        {sending && (
          <div className="ingest-sending" data-testid="upload-progress">
            <div className="row-between small">
              <span>
                Sending {sending.files} {sending.files === 1 ? 'file' : 'files'}… {formatBytes(sending.loaded)} of {formatBytes(sending.total)}
              </span>
              <button type="button" className="btn btn-sm btn-ghost" onClick={() => abortRef.current?.()}>
                Cancel
              </button>
            </div>
            <ProgressBar value={sending.loaded} max={Math.max(1, sending.total)} label="Upload progress" />
          </div>
        )}
        <ErrorAlert error={error} testId="upload-error-alert" />
        {current && <RunReport key={current} runId={current} open onFinished={() => settledRef.current()} />}
      </div>
      <ErrorAlert error={runs.error} />
      {earlier.length > 0 && (
        <div className="ingest-earlier" data-testid="earlier-runs">
          <h3 className="small muted">Earlier uploads</h3>
          {earlier.map((r) => (
            <EarlierRun key={r.id} run={r} />
          ))}
        </div>
      )}
    </section>
  );
}

function EarlierRun({ run }: { run: IngestRun }) {
  const [open, setOpen] = useState(false);
  const s = run.summary;
  return (
    <div className="card ingest-run-collapsed" data-testid="earlier-run">
      <button type="button" className="ingest-run-toggle" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        <span aria-hidden>{open ? '▾' : '▸'}</span> <strong>{formatDate(run.createdAt)}</strong> <RunStateBadge run={run} />{' '}
        <span className="muted small">
          {plural(run.filesTotal, 'file')} · {plural(s.assetsCreated ?? 0, 'asset')} created · {s.rejected ?? 0} rejected
          {s.flaggedBurnedIn ? ` · ${s.flaggedBurnedIn} burned-in` : ''}
        </span>
      </button>
      {open && (
        <div className="card-body">
          <RunReport runId={run.id} open={false} />
        </div>
      )}
    </div>
  );
}

function RunStateBadge({ run }: { run: IngestRun }) {
  const cls = run.state === 'done' ? 'badge-completed' : run.state === 'failed' ? 'badge-rejected' : 'badge-in_progress';
  return (
    <span className={`badge ${cls}`} data-testid="run-state">
      {run.state}
    </span>
  );
}

/** Progress (polled until the run ends), summary and file report of one ingest run. */
export function RunReport({ runId, open, onFinished }: { runId: string; open: boolean; onFinished?: () => void }) {
  const [detail, setDetail] = useState<IngestRunDetail | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [problemsOnly, setProblemsOnly] = useState(false);
  const [preview, setPreview] = useState<string | null>(null);
  const finishedRef = useRef(onFinished);
  finishedRef.current = onFinished;

  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ctrl = new AbortController();
    const tick = async () => {
      try {
        const d = await api.get<IngestRunDetail>(`/api/ingest-runs/${enc(runId)}`, { signal: ctrl.signal });
        if (!live) return;
        setDetail(d);
        setError(null);
        if (isFinished(d.run)) {
          finishedRef.current?.();
          return;
        }
      } catch (err) {
        if (!live) return;
        setError(err);
      }
      timer = setTimeout(() => void tick(), POLL_MS);
    };
    void tick();
    return () => {
      live = false;
      ctrl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [runId]);

  if (!detail) return error ? <ErrorAlert error={error} /> : <Loading label="Loading the ingest run…" />;
  const { run, files } = detail;
  const finished = isFinished(run);
  const shown = problemsOnly ? files.filter(isProblem) : files;
  const problems = files.filter(isProblem).length;
  const s = run.summary;

  return (
    <div className="ingest-run stack" data-testid="ingest-run" data-run-id={run.id} data-state={run.state} data-open={open ? 'true' : 'false'}>
      <div className="row-between">
        <div className="row">
          <RunStateBadge run={run} />
          <span className="small" data-testid="run-phase">
            {PHASES[run.phase] ?? run.phase}
          </span>
        </div>
        <span className="muted small" data-testid="run-files">
          {run.filesDone} / {run.filesTotal} files · {formatBytes(run.bytesTotal)}
        </span>
      </div>
      {!finished && <ProgressBar value={run.filesDone} max={Math.max(1, run.filesTotal)} label="Ingest progress" />}
      {run.state === 'failed' && (
        <div className="alert alert-error" role="alert" data-testid="run-error">
          The ingest run failed{run.error ? `: ${run.error}` : '.'}
        </div>
      )}
      {finished && (
        <div className="ingest-summary" data-testid="run-summary">
          <Stat k="assetsCreated" label="assets created" v={s.assetsCreated} />
          <Stat k="assetsUpdated" label="assets updated" v={s.assetsUpdated} />
          <Stat k="instancesStored" label="DICOM instances" v={s.instancesStored} />
          <Stat k="duplicates" label="duplicates" v={s.duplicates} />
          <Stat k="rejected" label="rejected" v={s.rejected} tone={s.rejected ? 'err' : undefined} />
          <Stat k="skipped" label="skipped" v={s.skipped} />
          <Stat k="flaggedBurnedIn" label="burned-in flagged" v={s.flaggedBurnedIn} tone={s.flaggedBurnedIn ? 'warn' : undefined} />
          <Stat k="redacted" label="redacted" v={s.redacted} />
        </div>
      )}
      {finished && s.deid && Object.values(s.deid).some((n) => (n ?? 0) > 0) && (
        <div className="small" data-testid="run-deid">
          <span className="muted">De-identification: </span>
          {DEID_LABELS.filter(([k]) => (s.deid?.[k as keyof typeof s.deid] ?? 0) > 0)
            .map(([k, label]) => `${s.deid?.[k as keyof typeof s.deid] ?? 0} ${label}`)
            .join(' · ')}
        </div>
      )}
      {finished && s.seriesIssues && Object.keys(s.seriesIssues).length > 0 && (
        <div className="row small" data-testid="run-series-issues">
          <span className="muted">Series issues:</span>
          {Object.entries(s.seriesIssues).map(([code, n]) => (
            <span key={code} className={`badge tone-${flagTone(code)}`}>
              {flagText(code)}: {n}
            </span>
          ))}
        </div>
      )}
      <div className="row-between">
        <label className="row small">
          <input type="checkbox" checked={problemsOnly} onChange={(e) => setProblemsOnly(e.target.checked)} data-testid="problems-only" /> Problems only ({problems})
        </label>
        <span className="muted small">{shown.length} rows</span>
      </div>
      <div className="ingest-table-wrap">
        <table className="table" data-testid="report-table">
          <thead>
            <tr>
              <th>File</th>
              <th>Kind</th>
              <th>Status</th>
              <th>Detail</th>
              <th>Flags</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((f) => (
              <ReportRow key={f.index} f={f} onView={setPreview} />
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={6} className="empty">
                  {problemsOnly ? 'No problems.' : 'No files.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {preview && <AssetPreview assetId={preview} onClose={() => setPreview(null)} />}
    </div>
  );
}

function Stat({ k, label, v, tone }: { k: string; label: string; v: number | undefined; tone?: 'err' | 'warn' }) {
  return (
    <div className={`stat ${tone ? `tone-${tone}` : ''}`} data-testid={`summary-${k}`} data-value={v ?? 0}>
      <div className="stat-value">{v ?? 0}</div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

/** Status of a file in the terms of the old per-file upload list (kept for scripts and tests). */
function legacyStatus(f: IngestFile): string {
  if (f.status === 'rejected') return 'error';
  if (f.status === 'pending') return 'uploading';
  return 'done';
}

function ReportRow({ f, onView }: { f: IngestFile; onView: (id: string) => void }) {
  const tone = f.status === 'rejected' ? 'bad' : f.status === 'stored' ? 'ok' : f.status === 'duplicate' || f.status === 'skipped' ? 'warn' : '';
  return (
    <tr data-testid="upload-item" data-name={f.name} data-status={legacyStatus(f)} data-file-status={f.status} className={f.parentIndex !== null ? 'child' : ''}>
      <td className="mono small ingest-name" title={f.name}>
        {f.name}
        <span className="faint"> · {formatBytes(f.size)}</span>
      </td>
      <td className="small">{f.kind ?? <span className="faint">—</span>}</td>
      <td>
        <span className={`badge status-${tone}`} data-testid="file-status">
          {f.status}
        </span>
      </td>
      <td className="small">{f.detail && <span data-testid={f.status === 'rejected' ? 'upload-error' : 'file-detail'}>{f.detail}</span>}</td>
      <td>
        {f.flags.map((flag) => (
          <span key={flag} className={`badge tone-${flagTone(flag)}`} data-testid="file-flag" data-flag={flag}>
            {flagText(flag)}
          </span>
        ))}
      </td>
      <td className="right">
        {f.assetId && (
          <button type="button" className="btn btn-sm btn-ghost" onClick={() => onView(f.assetId!)} data-testid="file-asset">
            View
          </button>
        )}
      </td>
    </tr>
  );
}

/** A dialog showing one asset: slice viewer for imaging, thumbnail otherwise. */
export function AssetPreview({ assetId, onClose }: { assetId: string; onClose: () => void }) {
  const { data, error } = useLoad((signal) => api.get<Asset>(`/api/assets/${enc(assetId)}`, { signal }), [assetId]);
  return (
    <Dialog title={data?.name ?? 'Asset'} onClose={onClose} wide testId="asset-preview">
      <ErrorAlert error={error} />
      {!data && !error && <Loading />}
      {data &&
        (canShowSlices(data) ? (
          <div className="preview-viewer">
            <SliceViewer asset={data} />
          </div>
        ) : (
          <p className="muted">
            {data.modality} · {data.mediaType} · {formatBytes(data.size)}
            {data.hold ? ' · held for burned-in review' : ''}
          </p>
        ))}
    </Dialog>
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
