// The imaging workspace: toolbar, 1×1 / 1×3 / 2×2 layouts of viewports over one ImageVolume
// (acquisition plane plus coronal and sagittal reformats for volumes), crosshairs and reference
// lines, window/level presets, invert, rotate/flip, cine, and the annotation layers. The
// document (objects) belongs to the workspace page; this component edits it through `onEdit`.

import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { planeMapping, type PlaneAxis, type PlaneMapping } from '@caliper/core/mpr';
import type { Asset, ImagingMeta } from '../types';
import { ImageVolume } from './volume';
import { CT_PRESETS, histogramWindow, type WindowLevel } from './render';
import { Viewport, type NavTool, type ReferenceLine, type ViewportHandle } from './Viewport';
import { loadViewState, saveViewState, type Layout } from './viewerState';
import { planeTitle } from './camera';
import type { ViewTransform } from './types';

export interface ImagingViewApi {
  volume: ImageVolume;
  /** The voxel every view is centred on (crosshair). */
  cursor: [number, number, number];
  setCursor: (c: [number, number, number]) => void;
  activeAxis: PlaneAxis;
}

export interface ImagingViewerProps {
  asset: Asset;
  meta: ImagingMeta;
  frames: number;
  /** Whether the left button belongs to an annotation tool (then navigation uses right/middle). */
  annotating: boolean;
  /** Annotation layers for one viewport. */
  overlay?: (view: ViewTransform, volume: ImageVolume, version: number) => ReactNode;
  /** Extra toolbar content (annotation tools), rendered after the navigation tools. */
  toolbar?: ReactNode;
  /** Keyboard: the page forwards keys here first; returns true when handled. */
  keyRef?: React.MutableRefObject<((e: KeyboardEvent) => boolean) | null>;
  /** Called with the volume and cursor so panels can jump to slices. */
  onApi?: (api: ImagingViewApi | null) => void;
  /** A request from a panel to show a slice of the acquisition plane. */
  jumpTo?: { slice: number; nonce: number } | null;
}

const ACCENT: Record<PlaneAxis, string> = { axial: '#4fa3ff', coronal: '#5ad28a', sagittal: '#f3c26b' };

function defaultWin(meta: ImagingMeta, volume: ImageVolume): WindowLevel {
  const first = meta.windows.find((w) => w.width > 0);
  if (first) return { center: first.center, width: first.width };
  if (meta.modality === 'CT') return { center: 40, width: 400 };
  if (volume.loadedCount > 0) return histogramWindow(volume.data, meta.rescale);
  const r = meta.valueRange ?? (meta.dtype === 'uint8' ? [0, 255] : [0, 4095]);
  return { center: (r[0] + r[1]) / 2, width: Math.max(1, r[1] - r[0]) };
}

export function ImagingViewer(props: ImagingViewerProps) {
  const { asset, meta, frames, onApi } = props;
  const seriesKey = meta.seriesId ?? asset.id;
  const volume = useMemo(() => new ImageVolume(asset.id, meta, frames), [asset.id, meta, frames]);
  const [version, setVersion] = useState(0);
  const saved = useMemo(() => loadViewState(seriesKey), [seriesKey]);
  const [layout, setLayoutState] = useState<Layout>(() => (volume.isVolume ? (saved.layout ?? '1x1') : '1x1'));
  const [win, setWinState] = useState<WindowLevel | null>(saved.win ?? null);
  const [invert, setInvertState] = useState<boolean>(saved.invert ?? meta.photometric === 'MONOCHROME1');
  const [navTool, setNavTool] = useState<Exclude<NavTool, 'annotate'>>('wl');
  const [active, setActive] = useState<PlaneAxis>('axial');
  const [cursor, setCursor] = useState<[number, number, number]>(() => [Math.floor(meta.dims[0] / 2), Math.floor(meta.dims[1] / 2), Math.floor(frames / 2)]);
  const [playing, setPlaying] = useState(false);
  const handles = useRef<Partial<Record<PlaneAxis, ViewportHandle | null>>>({});

  useEffect(() => {
    const off = volume.subscribe(() => setVersion((v) => v + 1));
    volume.load(Math.floor(frames / 2));
    return () => {
      off();
      volume.dispose();
    };
  }, [volume, frames]);

  // The first window: the file's own VOI, CT soft tissue, or the histogram once frames arrive.
  useEffect(() => {
    if (win === null && (volume.loadedCount > 0 || meta.windows.length > 0)) setWinState(defaultWin(meta, volume));
  }, [version, win, meta, volume]);

  const setWin = useCallback(
    (w: WindowLevel) => {
      setWinState(w);
      saveViewState(seriesKey, { win: w });
    },
    [seriesKey],
  );
  const setLayout = (l: Layout) => {
    setLayoutState(l);
    saveViewState(seriesKey, { layout: l });
  };
  const setInvert = (v: boolean) => {
    setInvertState(v);
    saveViewState(seriesKey, { invert: v });
  };

  const dims: [number, number, number] = [meta.dims[0], meta.dims[1], frames];
  const mappings = useMemo(() => {
    const out: Partial<Record<PlaneAxis, PlaneMapping>> = { axial: planeMapping(dims, meta.affineLps, 'axial') };
    if (volume.isVolume) {
      out.coronal = planeMapping(dims, meta.affineLps, 'coronal');
      out.sagittal = planeMapping(dims, meta.affineLps, 'sagittal');
    }
    return out;
    // dims is derived from meta and frames
  }, [meta, frames, volume]);

  const sliceOf = (axis: PlaneAxis): number => {
    const m = mappings[axis]!;
    return cursor[m.normalAxis];
  };
  const setSlice = useCallback(
    (axis: PlaneAxis, s: number) => {
      const m = mappings[axis]!;
      setCursor((c) => {
        const next: [number, number, number] = [...c];
        next[m.normalAxis] = Math.max(0, Math.min(m.depth - 1, s));
        return next;
      });
    },
    [mappings],
  );

  useEffect(() => {
    onApi?.({ volume, cursor, setCursor, activeAxis: active });
  }, [onApi, volume, cursor, active]);
  useEffect(() => () => onApi?.(null), [onApi]);

  useEffect(() => {
    if (props.jumpTo) setSlice('axial', props.jumpTo.slice);
  }, [props.jumpTo, setSlice]);

  // Cine: play frames at the recorded rate (frame times when present).
  const cineRate = meta.frameRate ?? (meta.frameTimesMs && meta.frameTimesMs.length > 1 ? 1000 / Math.max(1, meta.frameTimesMs[1]! - meta.frameTimesMs[0]!) : 10);
  useEffect(() => {
    if (!playing) return;
    const start = performance.now();
    const startFrame = cursor[2];
    let raf = 0;
    const tick = () => {
      const elapsed = performance.now() - start;
      const f = (startFrame + Math.floor((elapsed / 1000) * cineRate)) % frames;
      setCursor((c) => (c[2] === f ? c : [c[0], c[1], f]));
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
    // cursor[2] is read once when playback starts
  }, [playing, cineRate, frames]);

  const views: PlaneAxis[] = !volume.isVolume ? ['axial'] : layout === '1x1' ? [active] : ['axial', 'coronal', 'sagittal'];
  const references = (axis: PlaneAxis): ReferenceLine[] =>
    layout === '1x1' || !volume.isVolume
      ? []
      : (['axial', 'coronal', 'sagittal'] as PlaneAxis[])
          .filter((a) => a !== axis)
          .map((a) => ({ axis: a, mapping: mappings[a]!, slice: sliceOf(a), color: ACCENT[a] }));

  const activeHandle = () => handles.current[active] ?? handles.current[views[0]!];
  const isCt = meta.modality === 'CT';
  const applyPreset = (i: number) => {
    const p = CT_PRESETS[i];
    if (p) setWin({ center: p.center, width: p.width });
  };
  const autoWindow = () => setWin(histogramWindow(volume.data, meta.rescale));
  const fileWindows = meta.windows.filter((w) => w.width > 0);

  // Keys the viewer owns (the page calls this first).
  useEffect(() => {
    if (!props.keyRef) return;
    props.keyRef.current = (e: KeyboardEvent): boolean => {
      const axis = views.includes(active) ? active : views[0]!;
      const m = mappings[axis]!;
      const s = sliceOf(axis);
      const step = (d: number) => setSlice(axis, s + d);
      if (e.ctrlKey || e.metaKey || e.altKey) return false;
      switch (e.key) {
        case 'ArrowUp':
          step(-1);
          return true;
        case 'ArrowDown':
          step(1);
          return true;
        case 'PageUp':
          step(-10);
          return true;
        case 'PageDown':
          step(10);
          return true;
        case 'Home':
          setSlice(axis, 0);
          return true;
        case 'End':
          setSlice(axis, m.depth - 1);
          return true;
      }
      if (e.shiftKey && isCt && /^Digit[1-5]$/.test(e.code)) {
        applyPreset(Number(e.code.slice(5)) - 1);
        return true;
      }
      switch (e.key.toLowerCase()) {
        case 'w':
          setNavTool('wl');
          return true;
        case 'h':
          setNavTool('pan');
          return true;
        case 'z':
          setNavTool('zoom');
          return true;
        case 'x':
          setNavTool('crosshair');
          return true;
        case 'i':
          setInvert(!invert);
          return true;
        case 'r':
          if (e.shiftKey) activeHandle()?.fit();
          else activeHandle()?.rotate();
          return true;
        case 'f':
          activeHandle()?.flipH();
          return true;
        case 'v':
          activeHandle()?.flipV();
          return true;
        case 'l':
          if (volume.isVolume) setLayout(layout === '1x1' ? '1x3' : layout === '1x3' ? '2x2' : '1x1');
          return true;
        case 'p':
          if (frames > 1) setPlaying((p) => !p);
          return true;
        case 'a':
          if (e.shiftKey) {
            autoWindow();
            return true;
          }
          return false;
        case 'm':
          if (volume.isVolume && layout === '1x1') {
            const order: PlaneAxis[] = ['axial', 'coronal', 'sagittal'];
            setActive(order[(order.indexOf(active) + 1) % 3]!);
            return true;
          }
          return false;
      }
      return false;
    };
    return () => {
      if (props.keyRef) props.keyRef.current = null;
    };
  });

  const shown = win ?? { center: 0, width: 1 };
  const gridClass = `vp-grid vp-grid-${views.length === 1 ? '1x1' : layout}`;
  const annotating = props.annotating;

  return (
    <div className="imaging" data-testid="imaging-viewer" data-loaded={volume.loadedCount} data-frames={frames} data-complete={volume.complete ? 'yes' : 'no'}>
      <div className="imaging-toolbar" role="toolbar" aria-label="Viewer tools">
        <div className="tb-group" aria-label="Navigation">
          {(
            [
              ['wl', 'W/L', 'Window/level drag (W); right drag always does it'],
              ['pan', 'Pan', 'Pan (H); middle drag always pans'],
              ['zoom', 'Zoom', 'Zoom drag (Z); Ctrl+wheel zooms'],
              ['crosshair', 'Cross', 'Crosshair: click to move every view there (X)'],
            ] as const
          ).map(([id, text, title]) => (
            <button
              key={id}
              className={`tb-btn${!annotating && navTool === id ? ' on' : ''}`}
              aria-pressed={!annotating && navTool === id}
              title={title}
              data-testid={`nav-${id}`}
              onClick={() => setNavTool(id)}
              disabled={id === 'crosshair' && !volume.isVolume}
            >
              {text}
            </button>
          ))}
        </div>
        <div className="tb-group" aria-label="Window presets">
          <select
            className="tb-select"
            aria-label="Window preset"
            data-testid="wl-preset"
            value=""
            onChange={(e) => {
              const v = e.target.value;
              if (v.startsWith('ct:')) applyPreset(Number(v.slice(3)));
              else if (v.startsWith('file:')) {
                const w = fileWindows[Number(v.slice(5))];
                if (w) setWin({ center: w.center, width: w.width });
              } else if (v === 'auto') autoWindow();
            }}
          >
            <option value="">W/L presets…</option>
            {isCt && CT_PRESETS.map((p, i) => <option key={p.name} value={`ct:${i}`}>{`${p.name} ${p.width}/${p.center} (Shift+${p.key})`}</option>)}
            {fileWindows.map((w, i) => (
              <option key={`f${i}`} value={`file:${i}`}>{`${w.name || 'File window'} ${Math.round(w.width)}/${Math.round(w.center)}`}</option>
            ))}
            <option value="auto">Auto from histogram (Shift+A)</option>
          </select>
          <button className={`tb-btn${invert ? ' on' : ''}`} aria-pressed={invert} onClick={() => setInvert(!invert)} title="Invert (I)" data-testid="invert">
            Invert
          </button>
        </div>
        <div className="tb-group" aria-label="View">
          <button className="tb-btn" onClick={() => activeHandle()?.fit()} title="Fit and reset (Shift+R)" data-testid="fit">
            Fit
          </button>
          <button className="tb-btn" onClick={() => activeHandle()?.rotate()} title="Rotate 90° (R)">
            ⟳
          </button>
          <button className="tb-btn" onClick={() => activeHandle()?.flipH()} title="Flip horizontally (F)">
            ⇋
          </button>
          <button className="tb-btn" onClick={() => activeHandle()?.flipV()} title="Flip vertically (V)">
            ⇅
          </button>
        </div>
        {volume.isVolume && (
          <div className="tb-group" aria-label="Layout">
            {(['1x1', '1x3', '2x2'] as Layout[]).map((l) => (
              <button key={l} className={`tb-btn${layout === l ? ' on' : ''}`} aria-pressed={layout === l} onClick={() => setLayout(l)} data-testid={`layout-${l}`} title="Layout (L)">
                {l.replace('x', '×')}
              </button>
            ))}
            {layout === '1x1' &&
              (['axial', 'coronal', 'sagittal'] as PlaneAxis[]).map((a) => (
                <button key={a} className={`tb-btn${active === a ? ' on' : ''}`} aria-pressed={active === a} onClick={() => setActive(a)} data-testid={`plane-${a}`} title="Cycle planes (M)">
                  {planeTitle(mappings[a]!, meta.affineLps, frames, true).slice(0, 3)}
                </button>
              ))}
          </div>
        )}
        {frames > 1 && !volume.isVolume && (
          <div className="tb-group" aria-label="Cine">
            <button className={`tb-btn${playing ? ' on' : ''}`} onClick={() => setPlaying((p) => !p)} data-testid="cine-play" title="Play / pause (P)">
              {playing ? '❚❚' : '▶'} {Math.round(cineRate)} fps
            </button>
          </div>
        )}
        {props.toolbar}
        {!volume.complete && (
          <span className="tb-progress" data-testid="volume-progress">
            {volume.error ? volume.error : `Loading ${volume.loadedCount}/${frames}`}
          </span>
        )}
      </div>
      <div className={gridClass}>
        {views.map((axis) => (
          <Viewport
            key={axis}
            ref={(h) => {
              handles.current[axis] = h;
            }}
            volume={volume}
            version={version}
            mapping={mappings[axis]!}
            slice={sliceOf(axis)}
            onSlice={(s) => setSlice(axis, s)}
            win={shown}
            onWin={setWin}
            invert={invert}
            tool={annotating ? 'annotate' : navTool}
            active={views.length > 1 && axis === active}
            onActivate={() => setActive(axis)}
            onCrosshair={(v) => setCursor([clamp(v[0], meta.dims[0]), clamp(v[1], meta.dims[1]), clamp(v[2], frames)])}
            references={references(axis)}
            overlay={props.overlay ? (view) => props.overlay!(view, volume, version) : undefined}
            label={asset.name}
            accent={ACCENT[axis]}
          />
        ))}
        {layout === '2x2' && volume.isVolume && <VolumeInfo volume={volume} cursor={cursor} />}
      </div>
    </div>
  );
}

const clamp = (v: number, n: number) => Math.max(0, Math.min(n - 1, Math.round(v)));

/** The fourth pane of 2×2: the volume's geometry and the crosshair position. */
function VolumeInfo({ volume, cursor }: { volume: ImageVolume; cursor: [number, number, number] }) {
  const m = volume.meta;
  const value = volume.value(cursor[0], cursor[1], cursor[2]);
  return (
    <div className="viewport vp-info" data-testid="volume-info">
      <dl>
        <dt>Modality</dt>
        <dd>{m.modality || '—'}</dd>
        <dt>Voxels</dt>
        <dd>
          {volume.cols} × {volume.rows} × {volume.frames} ({m.dtype})
        </dd>
        <dt>Spacing</dt>
        <dd>{m.spacing ? `${m.spacing.map((s) => s.toFixed(3)).join(' × ')} mm` : 'unknown (pixels)'}</dd>
        <dt>Crosshair</dt>
        <dd>
          ({cursor.join(', ')}){value !== undefined ? ` = ${Number.isInteger(value) ? value : value.toFixed(2)}${m.modality === 'CT' ? ' HU' : ''}` : ''}
        </dd>
        <dt>Loaded</dt>
        <dd>
          {volume.loadedCount} / {volume.frames} slices
          {volume.completeAt ? ` in ${Math.round(volume.completeAt - volume.startedAt)} ms` : ''}
        </dd>
      </dl>
    </div>
  );
}
