// Project de-identification settings: the PS3.15 profile options and pixel redaction rules.
// Managers edit; everyone else reads.

import { useEffect, useState } from 'react';
import { api, ApiError, enc } from '../api';
import { ErrorAlert, Loading, useLoad } from '../components/ui';
import { DEID_OPTIONS, type DeidOption, type DeidSettings, type RedactionRule } from '../types';

const OPTION_TEXT: Record<DeidOption, { title: string; help: string }> = {
  retainLongitudinalTemporalModifiedDates: { title: 'Keep time intervals (shift dates)', help: 'Dates and times are shifted by a per-patient offset instead of removed, so intervals between studies survive.' },
  retainPatientCharacteristics: { title: 'Keep patient characteristics', help: 'Keeps sex, age, size, weight and similar attributes that matter for analysis.' },
  retainDeviceIdentity: { title: 'Keep device identity', help: 'Keeps scanner serial numbers and device identifiers.' },
  retainInstitutionIdentity: { title: 'Keep institution identity', help: 'Keeps institution and department names and addresses.' },
  retainUids: { title: 'Keep original UIDs', help: 'Study, series and instance UIDs are kept instead of remapped to new ones.' },
  cleanDescriptors: { title: 'Clean descriptions', help: 'Keeps free-text descriptions (study, series, protocol) after removing identifying text from them.' },
  retainSafePrivate: { title: 'Keep safe private tags', help: 'Claims the option, but Caliper has no list of safe private attributes yet (PS3.15 Table E.3.10-1), so every private attribute is still removed.' },
  keepPrivateTags: { title: 'Keep all private tags', help: 'Keeps every private attribute. Risky: vendors may store identifiers there.' },
};

interface DraftRect {
  x: string;
  y: string;
  width: string;
  height: string;
}
interface DraftRule {
  manufacturer: string;
  model: string;
  rows: string;
  columns: string;
  rects: DraftRect[];
}

const toDraft = (r: RedactionRule): DraftRule => ({
  manufacturer: r.manufacturer ?? '',
  model: r.model ?? '',
  rows: r.rows != null ? String(r.rows) : '',
  columns: r.columns != null ? String(r.columns) : '',
  rects: r.rects.map((q) => ({ x: String(q.x), y: String(q.y), width: String(q.width), height: String(q.height) })),
});

/** Numbers typed in the editor; text that is not a number is sent as NaN→null and refused by the server. */
function num(s: string): number {
  const t = s.trim();
  return t === '' ? Number.NaN : Number(t);
}

function fromDraft(d: DraftRule): RedactionRule {
  const r: RedactionRule = { rects: d.rects.map((q) => ({ x: num(q.x), y: num(q.y), width: num(q.width), height: num(q.height) })) };
  if (d.manufacturer.trim()) r.manufacturer = d.manufacturer.trim();
  if (d.model.trim()) r.model = d.model.trim();
  if (d.rows.trim()) r.rows = num(d.rows);
  if (d.columns.trim()) r.columns = num(d.columns);
  return r;
}

export function DeidSettingsTab({ projectId, canManage }: { projectId: string; canManage: boolean }) {
  const { data, error, loading, setData } = useLoad((signal) => api.get<DeidSettings>(`/api/projects/${enc(projectId)}/deid-settings`, { signal }), [projectId]);
  const [settings, setSettings] = useState<DeidSettings['settings']>({});
  const [rules, setRules] = useState<DraftRule[]>([]);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!data) return;
    setSettings(data.settings);
    setRules(data.redactions.map(toDraft));
    setDirty(false);
  }, [data]);

  if (loading && !data) return <Loading />;
  if (!data) return <ErrorAlert error={error} />;

  const touch = () => {
    setDirty(true);
    setSaved(false);
  };
  const patchRule = (i: number, p: Partial<DraftRule>) => {
    setRules((rs) => rs.map((r, j) => (j === i ? { ...r, ...p } : r)));
    touch();
  };
  const patchRect = (i: number, k: number, p: Partial<DraftRect>) => {
    setRules((rs) => rs.map((r, j) => (j === i ? { ...r, rects: r.rects.map((q, m) => (m === k ? { ...q, ...p } : q)) } : r)));
    touch();
  };

  const save = async () => {
    setBusy(true);
    setSaveError(null);
    setSaved(false);
    try {
      // JSON turns NaN into null, which the server refuses with the field's path.
      const body: DeidSettings = { settings, redactions: rules.map(fromDraft) };
      const res = await api.put<DeidSettings>(`/api/projects/${enc(projectId)}/deid-settings`, body);
      setData(res);
      setSaved(true);
    } catch (err) {
      setSaveError(err);
    } finally {
      setBusy(false);
    }
  };

  // Validation paths come as "body.redactions.0.rects.0.width".
  const fieldErrors = (saveError instanceof ApiError ? saveError.errors : []).map((e) => ({ ...e, path: e.path.replace(/^body\./, '') }));
  const errAt = (path: string) =>
    fieldErrors.filter((e) => e.path === path || e.path.startsWith(`${path}.`)).map((e) => (e.path === path ? e.message : `${describePath(e.path.slice(path.length + 1))}: ${e.message}`));
  const hasErr = (path: string) => fieldErrors.some((e) => e.path === path);
  const ro = !canManage;

  return (
    <div className="stack" data-testid="deid-settings">
      <div className="card">
        <div className="card-header">
          <h2>De-identification</h2>
          <span className="muted small">Applied to every DICOM file when it is uploaded; safe default: all off.</span>
        </div>
        <div className="card-body deid-options">
          {DEID_OPTIONS.map((k) => (
            <label key={k} className="deid-option">
              <input
                type="checkbox"
                checked={settings[k] === true}
                disabled={ro}
                onChange={(e) => {
                  setSettings((s) => ({ ...s, [k]: e.target.checked }));
                  touch();
                }}
                data-testid={`deid-${k}`}
              />
              <span>
                <strong>{OPTION_TEXT[k].title}</strong>
                <span className="muted small"> {OPTION_TEXT[k].help}</span>
              </span>
            </label>
          ))}
        </div>
      </div>

      <div className="card">
        <div className="card-header">
          <h2>Pixel redaction rules</h2>
          <span className="muted small">Rectangles blacked out in images of matching equipment and size (e.g. burned-in patient names on ultrasound).</span>
        </div>
        <div className="card-body stack">
          {rules.length === 0 && <p className="muted">No redaction rules.</p>}
          {rules.map((r, i) => (
            <fieldset key={i} className="redaction-rule" data-testid="redaction-rule" disabled={ro}>
              <div className="row-end wrap">
                <label className="field">
                  <span className="label">Manufacturer</span>
                  <input className="input" value={r.manufacturer} onChange={(e) => patchRule(i, { manufacturer: e.target.value })} placeholder="any" data-testid="rule-manufacturer" />
                </label>
                <label className="field">
                  <span className="label">Model</span>
                  <input className="input" value={r.model} onChange={(e) => patchRule(i, { model: e.target.value })} placeholder="any" data-testid="rule-model" />
                </label>
                <label className="field">
                  <span className="label">Rows</span>
                  <input className="input num-input" inputMode="numeric" value={r.rows} onChange={(e) => patchRule(i, { rows: e.target.value })} placeholder="any" data-testid="rule-rows" />
                </label>
                <label className="field">
                  <span className="label">Columns</span>
                  <input className="input num-input" inputMode="numeric" value={r.columns} onChange={(e) => patchRule(i, { columns: e.target.value })} placeholder="any" data-testid="rule-columns" />
                </label>
                {canManage && (
                  <button
                    type="button"
                    className="btn btn-sm btn-danger"
                    onClick={() => {
                      setRules((rs) => rs.filter((_, j) => j !== i));
                      touch();
                    }}
                  >
                    Remove rule
                  </button>
                )}
              </div>
              <FieldErrs messages={[...errAt(`redactions.${i}.manufacturer`), ...errAt(`redactions.${i}.model`), ...errAt(`redactions.${i}.rows`), ...errAt(`redactions.${i}.columns`)]} />
              <table className="table rect-table">
                <thead>
                  <tr>
                    <th>x</th>
                    <th>y</th>
                    <th>width</th>
                    <th>height</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {r.rects.map((q, k) => (
                    <tr key={k} data-testid="rule-rect">
                      {(['x', 'y', 'width', 'height'] as const).map((f) => (
                        <td key={f}>
                          <input className={`input input-sm num-input ${hasErr(`redactions.${i}.rects.${k}.${f}`) ? 'invalid' : ''}`} inputMode="numeric" value={q[f]} onChange={(e) => patchRect(i, k, { [f]: e.target.value })} aria-label={`Rectangle ${k + 1} ${f}`} data-testid={`rect-${f}`} />
                        </td>
                      ))}
                      <td className="right">
                        {canManage && (
                          <button
                            type="button"
                            className="btn btn-sm btn-ghost"
                            onClick={() => patchRule(i, { rects: r.rects.filter((_, m) => m !== k) })}
                            aria-label={`Remove rectangle ${k + 1}`}
                          >
                            Remove
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <FieldErrs messages={errAt(`redactions.${i}.rects`)} />
              {canManage && (
                <button type="button" className="btn btn-sm" onClick={() => patchRule(i, { rects: [...r.rects, { x: '0', y: '0', width: '100', height: '40' }] })} data-testid="rect-add">
                  Add rectangle
                </button>
              )}
            </fieldset>
          ))}
          {canManage && (
            <div>
              <button
                type="button"
                className="btn btn-sm"
                onClick={() => {
                  setRules((rs) => [...rs, { manufacturer: '', model: '', rows: '', columns: '', rects: [{ x: '0', y: '0', width: '100', height: '40' }] }]);
                  touch();
                }}
                data-testid="rule-add"
              >
                Add redaction rule
              </button>
            </div>
          )}
        </div>
      </div>

      {canManage ? (
        <div className="form-actions">
          <button className="btn btn-primary" onClick={() => void save()} disabled={busy || !dirty} data-testid="deid-save">
            {busy ? 'Saving…' : 'Save de-identification settings'}
          </button>
          {dirty && !busy && <span className="muted small">Unsaved changes</span>}
          {saved && (
            <span className="ok small" role="status" data-testid="deid-saved">
              Saved.
            </span>
          )}
        </div>
      ) : (
        <p className="muted small">Only project managers can change these settings.</p>
      )}
      <ErrorAlert error={saveError} testId="deid-error" />
    </div>
  );
}

/** "0.width" → "Rectangle 1 width". */
function describePath(rest: string): string {
  const m = /^(\d+)\.(\w+)$/.exec(rest);
  return m ? `Rectangle ${Number(m[1]) + 1} ${m[2]}` : rest;
}

function FieldErrs({ messages }: { messages: string[] }) {
  if (!messages.length) return null;
  return (
    <div className="field-error" role="alert" data-testid="rule-error">
      {messages.join(' ')}
    </div>
  );
}
