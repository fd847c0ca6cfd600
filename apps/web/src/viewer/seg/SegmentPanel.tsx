// The segmentation panel: segment list (colour, label, value, volume, visibility, lock,
// opacity; click to make active), fill/outline mode, tool settings (radius, sphere/disc,
// threshold range with CT presets, flood tolerance and 2D/3D, scissors erase), slice
// interpolation, clearing a segment, and the label map's save state.

import { useState } from 'react';
import type { SegSession } from './session';
import { CT_THRESHOLD_PRESETS, MAX_RADIUS_MM, MIN_RADIUS_MM, SEG_TOOLS, useFrameSubscription, type SegSettings, type SegTool } from './settings';

export interface SegmentPanelProps {
  session: SegSession;
  activeSegment: number;
  onActiveSegment: (value: number) => void;
  settings: SegSettings;
  onSettings: (next: SegSettings) => void;
  /** Modality of the image ('CT' shows HU presets). */
  modality: string;
  editable: boolean;
  /** Shows tool buttons when given (the page may have its own toolbar instead). */
  tool?: SegTool | null;
  onTool?: (tool: SegTool | null) => void;
  /** Voxel axis the interpolation runs along (default 2: between acquisition slices). */
  interpolateAxis?: 0 | 1 | 2;
}

const TOOL_TITLES: Record<SegTool, string> = {
  brush: 'Brush',
  eraser: 'Eraser',
  threshold: 'Threshold brush',
  flood: 'Flood fill',
  'scissors-rect': 'Rectangle scissors',
  'scissors-circle': 'Circle scissors',
  'sphere-scissors': 'Sphere scissors',
};

/** A number input that lets the user type freely ("-", "1.") and commits valid numbers. */
function NumberField(props: { value: number; onChange: (v: number) => void; label: string; testId: string; min?: number; max?: number; step?: number; disabled?: boolean }) {
  const [draft, setDraft] = useState<string | null>(null);
  return (
    <input
      className="input input-sm seg-num"
      type="number"
      aria-label={props.label}
      data-testid={props.testId}
      min={props.min}
      max={props.max}
      step={props.step ?? 1}
      disabled={props.disabled}
      value={draft ?? String(props.value)}
      onChange={(e) => {
        setDraft(e.target.value);
        const v = Number(e.target.value);
        if (e.target.value.trim() !== '' && Number.isFinite(v)) {
          const clamped = Math.min(props.max ?? Infinity, Math.max(props.min ?? -Infinity, v));
          if (clamped === v) props.onChange(v);
        }
      }}
      onBlur={() => setDraft(null)}
    />
  );
}

function saveLine(state: SegSession['saver']['state'], error: string | null): { text: string; pill: string } {
  switch (state) {
    case 'saved':
      return { text: 'Label map saved', pill: 'pill-saved' };
    case 'pending':
    case 'saving':
      return { text: 'Saving…', pill: state === 'saving' ? 'pill-saving' : 'pill-pending' };
    case 'offline':
      return { text: 'Offline — will retry', pill: 'pill-offline' };
    default:
      return { text: `Label map not saved${error ? `: ${error}` : ''}`, pill: 'pill-error' };
  }
}

export function SegmentPanel(props: SegmentPanelProps) {
  const { session, activeSegment, onActiveSegment, settings, onSettings, modality, editable } = props;
  useFrameSubscription(session);
  useFrameSubscription(session.saver);
  const [confirmClear, setConfirmClear] = useState(false);
  const [interpResult, setInterpResult] = useState<string | null>(null);
  const set = (patch: Partial<SegSettings>) => onSettings({ ...settings, ...patch });
  const active = session.segment(activeSegment);
  const activeUi = active ? session.segmentUi(active.value) : null;
  const isCT = modality.toUpperCase() === 'CT';
  const unit = isCT ? 'HU' : '';
  const save = saveLine(session.saver.state, session.saver.error);

  const interpolate = () => {
    if (!active) return;
    const r = session.interpolate(active.value, props.interpolateAxis ?? 2);
    setInterpResult(
      r.keySlices.length < 2
        ? `Draw “${active.label}” on at least two slices first.`
        : r.filledSlices.length === 0
          ? 'No empty slices between the drawn ones.'
          : `Filled ${r.filledSlices.length} slice${r.filledSlices.length === 1 ? '' : 's'}.`,
    );
  };

  return (
    <div className="seg-panel" data-testid="seg-panel">
      <h3>Segments</h3>
      {session.segments.length === 0 ? (
        <p className="ws-empty small" data-testid="seg-no-segments">
          No label of this project allows label maps. A manager can add the “labelmap” kind to labels in the label schema.
        </p>
      ) : (
        <ul className="seg-list" role="listbox" aria-label="Segments">
          {session.segments.map((s) => {
            const ui = session.segmentUi(s.value);
            const isActive = s.value === activeSegment;
            return (
              <li
                key={s.value}
                className={`seg-row${isActive ? ' active' : ''}`}
                role="option"
                aria-selected={isActive}
                data-testid={`segment-row-${s.value}`}
                style={{ ['--label-color' as string]: s.color }}
              >
                <button type="button" className="seg-row-main" onClick={() => onActiveSegment(s.value)} data-testid={`segment-select-${s.value}`} aria-label={`Make ${s.label} the active segment`}>
                  <span className="swatch" style={{ background: s.color }} />
                  <span className="seg-name">{s.label}</span>
                  <span className="seg-value mono" title="Label value">{s.value}</span>
                  <span className="seg-volume mono" data-testid={`segment-volume-${s.value}`}>
                    {session.volumeMl(s.value).toFixed(2)} mL
                  </span>
                </button>
                <div className="seg-row-controls">
                  <button
                    type="button"
                    className={`tb-btn${ui.visible ? '' : ' on'}`}
                    aria-pressed={!ui.visible}
                    aria-label={`${ui.visible ? 'Hide' : 'Show'} ${s.label}`}
                    title={ui.visible ? 'Hide' : 'Show'}
                    data-testid={`segment-visible-${s.value}`}
                    onClick={() => session.setSegmentUi(s.value, { visible: !ui.visible })}
                  >
                    {ui.visible ? 'Visible' : 'Hidden'}
                  </button>
                  <button
                    type="button"
                    className={`tb-btn${ui.locked ? ' on' : ''}`}
                    aria-pressed={ui.locked}
                    aria-label={`${ui.locked ? 'Unlock' : 'Lock'} ${s.label}`}
                    title={ui.locked ? 'Unlock' : 'Lock (no edits)'}
                    data-testid={`segment-lock-${s.value}`}
                    onClick={() => session.setSegmentUi(s.value, { locked: !ui.locked })}
                  >
                    {ui.locked ? 'Locked' : 'Lock'}
                  </button>
                  <input
                    type="range"
                    className="seg-opacity"
                    min={0}
                    max={1}
                    step={0.05}
                    value={ui.opacity}
                    aria-label={`Opacity of ${s.label}`}
                    data-testid={`segment-opacity-${s.value}`}
                    onChange={(e) => session.setSegmentUi(s.value, { opacity: Number(e.target.value) })}
                  />
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {session.droppedLabels.length > 0 && (
        <p className="seg-warning small" role="alert" data-testid="seg-dropped">
          The stored label map had segments whose labels are no longer in the schema ({session.droppedLabels.join(', ')}); they are not shown and will be removed at the next save.
        </p>
      )}

      <label className="field seg-field">
        <span className="label">Display</span>
        <select className="select input-sm" value={session.renderMode} data-testid="seg-render-mode" onChange={(e) => session.setRenderMode(e.target.value as typeof session.renderMode)}>
          <option value="both">Fill and outline</option>
          <option value="fill">Fill</option>
          <option value="outline">Outline</option>
        </select>
      </label>

      {props.onTool && (
        <>
          <h3>Tools</h3>
          <div className="seg-tools" role="toolbar" aria-label="Segmentation tools">
            {SEG_TOOLS.map((t) => (
              <button
                key={t}
                type="button"
                className={`tb-btn${props.tool === t ? ' on' : ''}`}
                aria-pressed={props.tool === t}
                disabled={!editable}
                data-testid={`seg-tool-${t}`}
                onClick={() => props.onTool?.(props.tool === t ? null : t)}
              >
                {TOOL_TITLES[t]}
              </button>
            ))}
          </div>
        </>
      )}

      <h3>Brush</h3>
      <div className="seg-field">
        <label htmlFor="seg-radius">Radius (mm)</label>
        <div className="row">
          <input
            id="seg-radius"
            type="range"
            className="grow"
            min={MIN_RADIUS_MM}
            max={MAX_RADIUS_MM}
            step={0.5}
            value={settings.radiusMm}
            data-testid="seg-radius"
            onChange={(e) => set({ radiusMm: Number(e.target.value) })}
          />
          <NumberField label="Radius in mm" testId="seg-radius-input" value={settings.radiusMm} min={MIN_RADIUS_MM} max={MAX_RADIUS_MM} step={0.5} onChange={(v) => set({ radiusMm: v })} />
        </div>
        <span className="hint">
          <kbd>[</kbd> <kbd>]</kbd> smaller / larger · <kbd>Shift</kbd>+drag erases with the brush
        </span>
      </div>
      <label className="checkbox seg-check">
        <input type="checkbox" checked={settings.sphere} data-testid="seg-sphere" onChange={(e) => set({ sphere: e.target.checked })} />
        3D sphere (otherwise a 2D circle in the view plane)
      </label>

      <h3>Threshold{unit ? ` (${unit})` : ''}</h3>
      {isCT && (
        <div className="seg-presets" role="group" aria-label="Threshold presets">
          {CT_THRESHOLD_PRESETS.map((p) => {
            const on = settings.threshold[0] === p.range[0] && settings.threshold[1] === p.range[1];
            return (
              <button
                key={p.name}
                type="button"
                className={`tb-btn${on ? ' on' : ''}`}
                aria-pressed={on}
                title={`${p.range[0]} to ${p.range[1]} HU`}
                data-testid={`seg-threshold-preset-${p.name.toLowerCase().replace(/\s+/g, '-')}`}
                onClick={() => set({ threshold: [p.range[0], p.range[1]] })}
              >
                {p.name}
              </button>
            );
          })}
        </div>
      )}
      <div className="row seg-field">
        <NumberField label={`Threshold minimum${unit ? ` in ${unit}` : ''}`} testId="seg-threshold-lo" value={settings.threshold[0]} onChange={(v) => set({ threshold: [v, settings.threshold[1]] })} />
        <span className="muted">to</span>
        <NumberField label={`Threshold maximum${unit ? ` in ${unit}` : ''}`} testId="seg-threshold-hi" value={settings.threshold[1]} onChange={(v) => set({ threshold: [settings.threshold[0], v] })} />
      </div>

      <h3>Flood fill</h3>
      <div className="row seg-field">
        <label htmlFor="seg-tolerance">Tolerance{unit ? ` (${unit})` : ''}</label>
        <NumberField label="Flood fill tolerance" testId="seg-tolerance" value={settings.tolerance} min={0} onChange={(v) => set({ tolerance: v })} />
        <select
          className="select input-sm"
          aria-label="Flood fill in 2D or 3D"
          value={settings.floodMode}
          data-testid="seg-flood-mode"
          onChange={(e) => set({ floodMode: e.target.value === '3d' ? '3d' : '2d' })}
        >
          <option value="2d">2D (this slice)</option>
          <option value="3d">3D</option>
        </select>
      </div>

      <h3>Scissors</h3>
      <label className="checkbox seg-check">
        <input type="checkbox" checked={settings.scissorsErase} data-testid="seg-scissors-erase" onChange={(e) => set({ scissorsErase: e.target.checked })} />
        Erase inside the shape (<kbd>Shift</kbd> inverts)
      </label>

      <h3>Active segment</h3>
      <div className="stack seg-actions">
        <button
          type="button"
          className="btn btn-sm"
          disabled={!editable || !active || activeUi?.locked === true}
          data-testid="seg-interpolate"
          onClick={interpolate}
        >
          Interpolate between slices
        </button>
        {interpResult && (
          <span className="small muted" role="status" data-testid="seg-interpolate-result">
            {interpResult}
          </span>
        )}
        {!confirmClear ? (
          <button
            type="button"
            className="btn btn-sm btn-danger"
            disabled={!editable || !active || activeUi?.locked === true || (active ? session.voxelCount(active.value) === 0 : true)}
            data-testid="seg-clear"
            onClick={() => setConfirmClear(true)}
          >
            Clear segment
          </button>
        ) : (
          <div className="row" role="alertdialog" aria-label="Confirm clearing the segment">
            <span className="small">Erase every voxel of “{active?.label}”?</span>
            <button
              type="button"
              className="btn btn-sm btn-danger-solid"
              data-testid="seg-clear-confirm"
              onClick={() => {
                if (active) session.clearSegment(active.value);
                setConfirmClear(false);
              }}
            >
              Clear
            </button>
            <button type="button" className="btn btn-sm" data-testid="seg-clear-cancel" onClick={() => setConfirmClear(false)}>
              Cancel
            </button>
          </div>
        )}
      </div>

      <div className="seg-save row" data-testid="seg-save-state" data-state={session.saver.state} role="status" aria-live="polite">
        <span className={`pill ${save.pill}`}>{save.text}</span>
        {(session.saver.state === 'error' || session.saver.state === 'offline') && (
          <button type="button" className="btn btn-sm" data-testid="seg-save-retry" onClick={() => session.saver.retryNow()}>
            Retry
          </button>
        )}
      </div>
    </div>
  );
}
