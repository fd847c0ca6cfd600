// Task page: import annotations made elsewhere (COCO, YOLO, VOC, CVAT, NIfTI, DICOM SEG or a
// Caliper backup). A dry run reports what would be imported; only then can the same file be
// imported for real.

import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { enc } from '../api';
import { Dialog, ErrorAlert, formatBytes, ProgressBar } from '../components/ui';
import type { ImportReport, Job, LabelDef } from '../types';
import { SkippedList } from './ExportDialog';
import { useFocusTrap } from './focusTrap';
import {
  DEFAULT_IMPORT_CHOICES,
  IMPORT_FORMAT_INFO,
  importChoicesProblem,
  importQuery,
  importSummary,
  plural,
  type ImportChoices,
  type LabelMapRow,
} from './formats';
import { sendImport, type ImportHandle } from './upload';

const ACCEPT = '.zip,.json,.xml,.txt,.yaml,.yml,.nii,.nii.gz,.gz,.dcm,application/zip,application/json,application/xml';

type Busy = null | { dryRun: boolean; loaded: number; total: number };

export function ImportDialog({
  taskId,
  labels,
  jobs,
  onClose,
  onImported,
}: {
  taskId: string;
  /** The project's labels (targets of the label map). */
  labels: LabelDef[];
  /** The task's jobs (optional target job). */
  jobs: Job[];
  onClose: () => void;
  /** Called after a real import wrote annotations. */
  onImported?: (report: ImportReport) => void;
}) {
  const trapRef = useRef<HTMLDivElement>(null);
  useFocusTrap(trapRef);
  const [choices, setChoices] = useState<ImportChoices>(DEFAULT_IMPORT_CHOICES);
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<unknown>(null);
  const [dry, setDry] = useState<ImportReport | null>(null);
  const [final, setFinal] = useState<ImportReport | null>(null);
  const handle = useRef<ImportHandle | null>(null);
  useEffect(() => () => handle.current?.abort(), []);

  // Any change invalidates the dry run: "Import" must send exactly what was checked.
  const change = (patch: Partial<ImportChoices>) => {
    setChoices((c) => ({ ...c, ...patch }));
    setDry(null);
    setError(null);
  };
  const pickFile = (f: File | null) => {
    setFile(f);
    setDry(null);
    setError(null);
  };
  const problem = importChoicesProblem(choices);
  const info = IMPORT_FORMAT_INFO.find((f) => f.id === choices.format);
  const annotationJobs = jobs.filter((j) => j.stage === 'annotation');

  const run = async (dryRun: boolean) => {
    if (!file || problem) return;
    setError(null);
    setBusy({ dryRun, loaded: 0, total: file.size });
    try {
      const h = sendImport(`/api/tasks/${enc(taskId)}/imports?${importQuery(choices, dryRun)}`, file, (loaded, total) => setBusy({ dryRun, loaded, total }));
      handle.current = h;
      const report = await h.done;
      if (dryRun) setDry(report);
      else {
        setFinal(report);
        onImported?.(report);
      }
    } catch (err) {
      setError(err);
    } finally {
      handle.current = null;
      setBusy(null);
    }
  };
  const check = (e: FormEvent) => {
    e.preventDefault();
    void run(true);
  };

  const footer = final ? (
    <button className="btn btn-primary" onClick={onClose} data-testid="import-close">
      Close
    </button>
  ) : (
    <>
      <button className="btn btn-ghost" onClick={onClose}>
        Cancel
      </button>
      <button className={`btn ${dry ? '' : 'btn-primary'}`} type="submit" form="import-form" disabled={!file || !!problem || !!busy} data-testid="import-check">
        {busy?.dryRun ? 'Checking…' : 'Check (dry run)'}
      </button>
      {dry && (
        <button
          className={`btn ${choices.mode === 'replace' ? 'btn-danger-solid' : 'btn-primary'}`}
          onClick={() => void run(false)}
          disabled={!!busy || dry.objects + dry.labelmaps === 0}
          data-testid="import-submit"
        >
          {busy && !busy.dryRun ? 'Importing…' : choices.mode === 'replace' ? 'Replace and import' : 'Import'}
        </button>
      )}
    </>
  );

  return (
    <Dialog title="Import annotations" onClose={onClose} testId="import-dialog" wide footer={footer}>
      <div ref={trapRef} className="stack">
        {final ? (
          <>
            <div className="alert alert-success" role="status" data-testid="import-done">
              {importSummary(final)}
            </div>
            <ImportReportView report={final} />
          </>
        ) : (
          <>
            <form id="import-form" className="stack" onSubmit={check} noValidate>
              <div className="xchg-grid">
                <label className="field">
                  <span className="label">Format</span>
                  <select className="select" value={choices.format} onChange={(e) => change({ format: e.target.value as ImportChoices['format'] })} data-testid="import-format" autoFocus>
                    {IMPORT_FORMAT_INFO.map((f) => (
                      <option key={f.id} value={f.id}>
                        {f.name}
                      </option>
                    ))}
                  </select>
                  <span className="hint" data-testid="import-format-description">
                    {info?.description}
                  </span>
                </label>
                <label className="field">
                  <span className="label">Write into</span>
                  <select className="select" value={choices.jobId} onChange={(e) => change({ jobId: e.target.value })} data-testid="import-job">
                    <option value="">Each asset's annotation job</option>
                    {annotationJobs.map((j) => (
                      <option key={j.id} value={j.id}>
                        {j.name}
                        {j.assigneeName ? ` (${j.assigneeName})` : ''}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
              <label className="field">
                <span className="label">File</span>
                <input className="input xchg-file" type="file" accept={ACCEPT} onChange={(e) => pickFile(e.target.files?.[0] ?? null)} data-testid="import-file" />
                <span className="hint">{file ? `${file.name} · ${formatBytes(file.size)}` : 'A zip, or a single .json / .xml / .nii.gz / .dcm file.'}</span>
              </label>
              <fieldset className="xchg-fieldset">
                <legend>Labels not in this project</legend>
                <div className="row" style={{ gap: 16 }}>
                  <Radio name="labels" value="refuse" current={choices.labels} onChange={() => change({ labels: 'refuse' })} testId="import-labels-refuse">
                    Skip their objects
                  </Radio>
                  <Radio name="labels" value="create" current={choices.labels} onChange={() => change({ labels: 'create' })} testId="import-labels-create">
                    Add them to the label schema
                  </Radio>
                  <Radio name="labels" value="map" current={choices.labels} onChange={() => change({ labels: 'map', labelMap: choices.labelMap.length ? choices.labelMap : [{ from: '', to: labels[0]?.name ?? '' }] })} testId="import-labels-map">
                    Map them to our labels
                  </Radio>
                </div>
                {choices.labels === 'map' && <LabelMapEditor rows={choices.labelMap} labels={labels} onChange={(labelMap) => change({ labelMap })} />}
              </fieldset>
              <fieldset className="xchg-fieldset">
                <legend>Existing annotations</legend>
                <div className="row" style={{ gap: 16 }}>
                  <Radio name="mode" value="append" current={choices.mode} onChange={() => change({ mode: 'append' })} testId="import-mode-append">
                    Keep them and add the imported objects
                  </Radio>
                  <Radio name="mode" value="replace" current={choices.mode} onChange={() => change({ mode: 'replace' })} testId="import-mode-replace">
                    Replace them
                  </Radio>
                </div>
                {choices.mode === 'replace' && (
                  <div className="alert alert-warning" style={{ marginTop: 8 }} data-testid="import-replace-warning">
                    Replace deletes the current annotations of every matched asset and keeps only the imported ones. Earlier revisions stay in the history.
                  </div>
                )}
              </fieldset>
              {problem && file && (
                <div className="field-error" role="alert" data-testid="import-problem">
                  {problem}
                </div>
              )}
            </form>
            {busy && (
              <div className="stack" style={{ gap: 4 }} data-testid="import-progress">
                <ProgressBar value={busy.loaded} max={busy.total} label="Upload progress" />
                <span className="muted small">
                  {busy.loaded < busy.total
                    ? `Uploading ${formatBytes(busy.loaded)} of ${formatBytes(busy.total)}…`
                    : busy.dryRun
                      ? 'Reading the file…'
                      : 'Writing the annotations…'}
                </span>
              </div>
            )}
            <ErrorAlert error={error} testId="import-error" />
            {dry && (
              <>
                <div className="alert alert-info" data-testid="import-dry-summary">
                  Dry run: nothing was written.{' '}
                  {dry.objects + dry.labelmaps === 0
                    ? 'Nothing in the file can be imported with these options.'
                    : `Import would add ${plural(dry.objects, 'object')} and ${plural(dry.labelmaps, 'label map')} to ${plural(dry.assets.length, 'asset')}.`}
                </div>
                <ImportReportView report={dry} />
              </>
            )}
          </>
        )}
      </div>
    </Dialog>
  );
}

function Radio<V extends string>({ name, value, current, onChange, testId, children }: { name: string; value: V; current: V; onChange: () => void; testId: string; children: ReactNode }) {
  return (
    <label className="checkbox">
      <input type="radio" name={name} value={value} checked={current === value} onChange={onChange} data-testid={testId} />
      {children}
    </label>
  );
}

/** "their label → our label" pairs. */
function LabelMapEditor({ rows, labels, onChange }: { rows: LabelMapRow[]; labels: LabelDef[]; onChange: (rows: LabelMapRow[]) => void }) {
  const update = (i: number, patch: Partial<LabelMapRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <div className="xchg-map" data-testid="import-map">
      {rows.map((r, i) => (
        <div className="xchg-map-row" key={i} data-testid="import-map-row">
          <input className="input input-sm" value={r.from} placeholder="their label" aria-label={`Their label ${i + 1}`} onChange={(e) => update(i, { from: e.target.value })} data-testid="import-map-from" />
          <span aria-hidden="true">→</span>
          <select className="select input-sm" value={r.to} aria-label={`Our label ${i + 1}`} onChange={(e) => update(i, { to: e.target.value })} data-testid="import-map-to">
            {labels.map((l) => (
              <option key={l.name} value={l.name}>
                {l.name}
              </option>
            ))}
          </select>
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => onChange(rows.filter((_, j) => j !== i))} aria-label={`Remove pair ${i + 1}`}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" className="btn btn-sm" onClick={() => onChange([...rows, { from: '', to: labels[0]?.name ?? '' }])} data-testid="import-map-add">
        Add pair
      </button>
      <span className="hint">Labels of the file that are not listed here are skipped.</span>
    </div>
  );
}

/** What an import did (or would do): matched assets, label decisions, skipped items. */
export function ImportReportView({ report }: { report: ImportReport }) {
  const mapped = Object.entries(report.labels.mapped);
  const hasLabels = report.labels.created.length + report.labels.refused.length + mapped.length > 0;
  return (
    <div className="stack" data-testid="import-report" data-dry-run={String(report.dryRun)}>
      <div className="muted small" data-testid="import-counts">
        {plural(report.files, 'file')} read · {report.matchedUnits} of {plural(report.units, 'image')} matched · {plural(report.objects, 'object')} · {plural(report.labelmaps, 'label map')}
      </div>
      <div className="card xchg-scroll">
        <table className="table" data-testid="import-assets">
          <thead>
            <tr>
              <th>Asset</th>
              <th className="num">Objects</th>
              <th className="num">Label maps</th>
              <th>From</th>
            </tr>
          </thead>
          <tbody>
            {report.assets.map((a) => (
              <tr key={`${a.assetId}:${a.jobId}`} data-testid="import-asset-row" data-asset-id={a.assetId}>
                <td className="mono small">{a.assetName}</td>
                <td className="num">{a.objects}</td>
                <td className="num">{a.labelmaps}</td>
                <td className="muted small xchg-from" title={a.from.join('\n')}>
                  {a.from.slice(0, 3).join(', ')}
                  {a.from.length > 3 ? ` and ${a.from.length - 3} more` : ''}
                </td>
              </tr>
            ))}
            {report.assets.length === 0 && (
              <tr>
                <td colSpan={4} className="empty">
                  No asset of this task matched the file.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {hasLabels && (
        <div className="xchg-labels" data-testid="import-labels">
          {report.labels.created.length > 0 && (
            <div>
              <strong>{report.dryRun ? 'Labels to create' : 'Labels created'}:</strong> {report.labels.created.join(', ')}
            </div>
          )}
          {mapped.length > 0 && (
            <div>
              <strong>Mapped:</strong>{' '}
              {mapped.map(([from, to], i) => (
                <span key={from}>
                  {i > 0 && ', '}
                  {from} → {to}
                </span>
              ))}
            </div>
          )}
          {report.labels.refused.length > 0 && (
            <div>
              <strong>Not in this project (objects skipped):</strong> {report.labels.refused.join(', ')}
            </div>
          )}
        </div>
      )}
      {report.skippedCount > 0 && <SkippedList title="Skipped" items={report.skipped} total={report.skippedCount} testId="import-skipped" />}
    </div>
  );
}
