// A minimal slice viewer for frame-based imaging assets: one frame at a time on a 2D canvas at
// true bit depth (rescale + DICOM linear window/level), wheel / arrow keys to page through
// frames, right- or ctrl-drag for window/level, and a cursor readout (value and LPS mm).
// It previews assets in the ingest report and the burned-in review; the annotation workspace
// uses the full viewer in ../viewer (MPR, tools, label maps).

import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type MouseEvent as ReactMouseEvent, type PointerEvent as ReactPointerEvent } from 'react';
import { enc } from '../api';
import type { Asset, ImagingMeta, WindowPreset } from '../types';
import { decodeFrame, defaultWindow, rescaledRange, renderRgba, sliceOfFrame, voxelToLps, type Samples } from './pixels';

const CACHE_LIMIT = 48;
const PRELOAD = 2;
const cache = new Map<string, Promise<Samples>>();

export function frameUrl(assetId: string, index: number): string {
  return `/api/assets/${enc(assetId)}/frames/${index}`;
}

/** Loads (or reuses) one decoded frame; keeps the most recently used frames only. */
export function loadFrame(assetId: string, index: number, meta: ImagingMeta): Promise<Samples> {
  const key = `${assetId}:${index}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const expected = meta.dims[0] * meta.dims[1] * meta.samples;
  const p = fetch(frameUrl(assetId, index), { credentials: 'same-origin' })
    .then(async (res) => {
      if (!res.ok) throw new Error(`Frame ${index + 1} could not be loaded (HTTP ${res.status}).`);
      return decodeFrame(await res.arrayBuffer(), meta.dtype, expected);
    })
    .catch((err: unknown) => {
      cache.delete(key);
      throw err;
    });
  cache.set(key, p);
  while (cache.size > CACHE_LIMIT) {
    const oldest = cache.keys().next().value;
    if (oldest === undefined) break;
    cache.delete(oldest);
  }
  return p;
}

export function imagingOf(asset: Asset): ImagingMeta | null {
  const m = asset.metadata?.imaging;
  return m && Array.isArray(m.dims) && m.dims.length === 3 ? m : null;
}

/** True when the slice viewer can show this asset. */
export function canShowSlices(asset: Asset): boolean {
  return imagingOf(asset) !== null && (asset.frameCount ?? 0) > 0;
}

interface Readout {
  col: number;
  row: number;
  value: string;
  lps: [number, number, number] | null;
}

export function SliceViewer({ asset, testId = 'slice-viewer' }: { asset: Asset; testId?: string }) {
  const meta = imagingOf(asset);
  if (!meta || !(asset.frameCount ?? 0))
    return (
      <div className="ws-empty" role="alert">
        This asset has no frames to show.
      </div>
    );
  return <SliceViewerInner key={asset.id} asset={asset} meta={meta} frames={asset.frameCount ?? meta.dims[2]} testId={testId} />;
}

function SliceViewerInner({ asset, meta, frames, testId }: { asset: Asset; meta: ImagingMeta; frames: number; testId: string }) {
  const [cols, rows] = meta.dims;
  const presets = meta.windows.filter((w) => w.width > 0);
  const [frame, setFrame] = useState(() => Math.floor(frames / 2));
  const [win, setWin] = useState<WindowPreset>(() => defaultWindow(meta));
  const [presetIndex, setPresetIndex] = useState<string>(presets.length ? '0' : 'auto');
  const [data, setData] = useState<{ index: number; samples: Samples } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pointer, setPointer] = useState<{ col: number; row: number } | null>(null);
  const [box, setBox] = useState<{ w: number; h: number }>({ w: 0, h: 0 });
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const drag = useRef<{ x: number; y: number; center: number; width: number } | null>(null);
  const autoRange = useRef<[number, number] | null>(null);
  const colour = meta.samples >= 3;
  const invert = meta.photometric === 'MONOCHROME1';

  // Load the current frame, then warm the neighbours.
  useEffect(() => {
    let live = true;
    setError(null);
    loadFrame(asset.id, frame, meta)
      .then((samples) => {
        if (!live) return;
        setData({ index: frame, samples });
        if (!autoRange.current) {
          autoRange.current = rescaledRange(samples, meta.rescale);
          if (!presets.length && !meta.valueRange) setWin(defaultWindow(meta, autoRange.current));
        }
      })
      .catch((err: unknown) => live && setError(err instanceof Error ? err.message : String(err)));
    for (let d = 1; d <= PRELOAD; d++) {
      for (const i of [frame + d, frame - d]) if (i >= 0 && i < frames) void loadFrame(asset.id, i, meta).catch(() => undefined);
    }
    return () => {
      live = false;
    };
    // meta and presets are stable for a given asset (the component is keyed by asset id).
  }, [asset.id, frame, frames]);

  // Draw.
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !data) return;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    const img = ctx.createImageData(cols, rows);
    renderRgba({ data: data.samples, cols, rows, samples: meta.samples, rescale: meta.rescale, center: win.center, width: win.width, invert }, img.data);
    ctx.putImageData(img, 0, 0);
  }, [data, win, cols, rows, meta.samples, meta.rescale, invert]);

  // Fit the canvas into the available box, keeping the physical pixel aspect.
  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setBox({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    setBox({ w: el.clientWidth, h: el.clientHeight });
    return () => ro.disconnect();
  }, []);
  const aspect = meta.spacing && meta.spacing[0] > 0 && meta.spacing[1] > 0 ? meta.spacing[1] / meta.spacing[0] : 1; // row spacing / column spacing
  const display = useMemo(() => {
    const w0 = cols;
    const h0 = rows * aspect;
    const scale = box.w > 0 && box.h > 0 ? Math.min(box.w / w0, box.h / h0) : 1;
    return { w: Math.max(1, Math.floor(w0 * scale)), h: Math.max(1, Math.floor(h0 * scale)) };
  }, [box, cols, rows, aspect]);

  const step = useCallback((d: number) => setFrame((f) => Math.min(frames - 1, Math.max(0, f + d))), [frames]);

  // Wheel needs a non-passive listener to keep the page from scrolling.
  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      if (frames < 2) return;
      e.preventDefault();
      step(e.deltaY > 0 ? 1 : e.deltaY < 0 ? -1 : 0);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  }, [step, frames]);

  const onKeyDown = (e: ReactKeyboardEvent) => {
    const map: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
    if (e.key in map) {
      e.preventDefault();
      e.stopPropagation();
      step(map[e.key]!);
    } else if (e.key === 'Home') {
      e.preventDefault();
      setFrame(0);
    } else if (e.key === 'End') {
      e.preventDefault();
      setFrame(frames - 1);
    }
  };

  // The readout follows the pointer and the frame under it (paging with the wheel updates it).
  const pointAt = (e: ReactMouseEvent | ReactPointerEvent): { col: number; row: number } | null => {
    const canvas = canvasRef.current;
    if (!canvas) return null;
    const r = canvas.getBoundingClientRect();
    const col = Math.floor(((e.clientX - r.left) / r.width) * cols);
    const row = Math.floor(((e.clientY - r.top) / r.height) * rows);
    if (col < 0 || row < 0 || col >= cols || row >= rows) return null;
    return { col, row };
  };
  const readout = useMemo((): Readout | null => {
    if (!pointer || !data) return null;
    const { col, row } = pointer;
    const p = (row * cols + col) * meta.samples;
    const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
    const value = colour
      ? `RGB ${Array.from({ length: 3 }, (_, c) => fmt(data.samples[p + c]!)).join(', ')}`
      : fmt(data.samples[p]! * meta.rescale.slope + meta.rescale.intercept) + (meta.modality === 'CT' ? ' HU' : '');
    const slice = sliceOfFrame(data.index, frames, meta.timepoints);
    const lps = meta.affineLps ? voxelToLps(meta.affineLps, col, row, slice) : null;
    return { col, row, value, lps };
  }, [pointer, data, cols, colour, frames, meta]);

  const onPointerDown = (e: ReactPointerEvent) => {
    wrapRef.current?.focus();
    if (colour && meta.dtype === 'uint8') return;
    if (e.button === 2 || (e.button === 0 && (e.ctrlKey || e.metaKey))) {
      e.preventDefault();
      drag.current = { x: e.clientX, y: e.clientY, center: win.center, width: win.width };
      (e.target as Element).setPointerCapture?.(e.pointerId);
    }
  };
  const onPointerMove = (e: ReactPointerEvent) => {
    const d = drag.current;
    if (d) {
      // Sensitivity follows the data range so 8-bit and 16-bit data both feel right.
      const range = meta.valueRange ?? autoRange.current ?? [0, 255];
      const k = Math.max(0.01, (range[1] - range[0]) / 400);
      setWin({ name: 'Custom', center: d.center + (e.clientY - d.y) * k, width: Math.max(1, d.width + (e.clientX - d.x) * k) });
      setPresetIndex('custom');
      return;
    }
    setPointer(pointAt(e));
  };
  const onPointerUp = () => {
    drag.current = null;
  };

  const choosePreset = (v: string) => {
    setPresetIndex(v);
    if (v === 'auto') {
      const range = meta.valueRange ?? autoRange.current;
      if (range) setWin(defaultWindow({ windows: [], valueRange: range, dtype: meta.dtype }));
      return;
    }
    const p = presets[Number(v)];
    if (p) setWin(p);
  };

  return (
    <div className="slice-viewer" data-testid={testId} data-frame={frame} data-frames={frames}>
      <div className="slice-toolbar">
        <span className="mono" data-testid="frame-counter" aria-live="polite">
          {frame + 1} / {frames}
        </span>
        {frames > 1 && (
          <input
            type="range"
            min={0}
            max={frames - 1}
            value={frame}
            onChange={(e) => setFrame(Number(e.target.value))}
            aria-label="Frame"
            className="slice-range"
            data-testid="frame-slider"
          />
        )}
        {!(colour && meta.dtype === 'uint8') && (
          <>
            <select className="select input-sm" value={presetIndex} onChange={(e) => choosePreset(e.target.value)} aria-label="Window preset" data-testid="window-preset">
              {presets.map((p, i) => (
                <option key={i} value={String(i)}>
                  {p.name || `Window ${i + 1}`} ({Math.round(p.center)} / {Math.round(p.width)})
                </option>
              ))}
              <option value="auto">Full range</option>
              {presetIndex === 'custom' && <option value="custom">Custom</option>}
            </select>
            <span className="muted small mono" data-testid="window-values">
              C {Math.round(win.center)} W {Math.round(win.width)}
            </span>
          </>
        )}
      </div>
      <div
        className="slice-stage"
        ref={wrapRef}
        data-testid="slice-stage"
        tabIndex={0}
        aria-label={`${asset.name}: frame ${frame + 1} of ${frames}. Wheel or arrow keys change frame; right-drag changes window and level.`}
        onKeyDown={onKeyDown}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerLeave={() => setPointer(null)}
        onContextMenu={(e) => e.preventDefault()}
      >
        <canvas ref={canvasRef} width={cols} height={rows} style={{ width: display.w, height: display.h }} data-testid="slice-canvas" className={cols * 2 < display.w ? 'pixelated' : ''} />
        {!data && !error && (
          <div className="slice-overlay center" role="status">
            <span className="spinner" /> Loading frame…
          </div>
        )}
        {error && (
          <div className="slice-overlay center" role="alert">
            {error}
          </div>
        )}
      </div>
      <div className="slice-status small mono" data-testid="pixel-readout">
        {readout ? (
          <>
            <span>
              ({readout.col}, {readout.row}) = {readout.value}
            </span>
            {readout.lps && (
              <span>
                LPS {readout.lps.map((v) => v.toFixed(1)).join(', ')} mm
              </span>
            )}
          </>
        ) : (
          <span className="muted">
            {cols} × {rows}
            {meta.spacing ? ` · ${meta.spacing[0].toFixed(2)} × ${meta.spacing[1].toFixed(2)} mm` : ''} · {meta.dtype}
            {meta.photometric ? ` · ${meta.photometric}` : ''}
          </span>
        )}
      </div>
    </div>
  );
}
