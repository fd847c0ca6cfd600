// One viewport: a plane of an ImageVolume drawn at true bit depth with window/level, zoom,
// pan, rotation and flips, reference lines of the other views, orientation letters, a scale
// bar and a cursor readout (modality value and LPS mm). Annotation layers are drawn over it
// through `overlay`, which receives the view transform.
//
// Mouse: wheel = slice (Ctrl+wheel = zoom), right drag = window/level, middle drag = pan; the
// left button does what the active navigation tool says ('wl', 'pan', 'zoom', 'crosshair'),
// or nothing when an annotation tool owns it (the overlay handles it).

import { forwardRef, useCallback, useEffect, useImperativeHandle, useMemo, useRef, useState, type ReactNode } from 'react';
import { orientationLabels, planeToVoxel, voxelToLps, voxelToPlane, type PlaneAxis, type PlaneMapping } from '@caliper/core/mpr';
import type { ImageVolume } from './volume';
import { renderPlane, type WindowLevel } from './render';
import { applyMatrix, fitCamera, invertMatrix, mmScale, planeTitle, planeToScreenMatrix, rotateLabels, scaleBarMm } from './camera';
import type { Camera, ViewTransform } from './types';

export type NavTool = 'wl' | 'pan' | 'zoom' | 'crosshair' | 'annotate';

export interface ReferenceLine {
  axis: PlaneAxis;
  mapping: PlaneMapping;
  slice: number;
  color: string;
}

export interface ViewportHandle {
  fit(): void;
  rotate(): void;
  flipH(): void;
  flipV(): void;
  camera(): Camera | null;
}

export interface ViewportProps {
  volume: ImageVolume;
  /** Bumped by the parent when the volume received frames. */
  version: number;
  mapping: PlaneMapping;
  slice: number;
  onSlice: (slice: number) => void;
  win: WindowLevel;
  onWin: (win: WindowLevel) => void;
  invert: boolean;
  tool: NavTool;
  active: boolean;
  onActivate: () => void;
  /** Click with the crosshair tool: move every view to this voxel. */
  onCrosshair?: (voxel: [number, number, number]) => void;
  references?: ReferenceLine[];
  overlay?: (view: ViewTransform) => ReactNode;
  testId?: string;
  label: string;
  accent: string;
}


export const Viewport = forwardRef<ViewportHandle, ViewportProps>(function Viewport(props, ref) {
  const { volume, version, mapping: m, slice, onSlice, win, onWin, invert, tool, active, onActivate, references, overlay } = props;
  const wrapRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const planeCanvas = useRef<HTMLCanvasElement | null>(null);
  const planeImage = useRef<ImageData | null>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  const [camera, setCamera] = useState<Camera | null>(null);
  const [pointer, setPointer] = useState<[number, number] | null>(null);
  const drag = useRef<{ kind: 'wl' | 'pan' | 'zoom'; x: number; y: number; win: WindowLevel; cam: Camera } | null>(null);
  const dpr = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;

  // Track the element size; fit on first size and whenever the plane geometry changes.
  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const measure = () => setSize({ w: el.clientWidth, h: el.clientHeight });
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    measure();
    return () => ro.disconnect();
  }, []);
  const fitKey = `${m.axis}:${m.width}x${m.height}:${size.w}x${size.h}`;
  const lastFit = useRef('');
  useEffect(() => {
    if (size.w === 0 || size.h === 0 || lastFit.current === fitKey) return;
    lastFit.current = fitKey;
    setCamera((prev) => fitCamera(m, size.w, size.h, prev ?? undefined));
  }, [fitKey, m, size.w, size.h]);

  useImperativeHandle(
    ref,
    () => ({
      fit: () => setCamera((c) => fitCamera(m, size.w, size.h, c ? { ...c, rotation: 0, flipH: false, flipV: false } : undefined)),
      rotate: () => setCamera((c) => (c ? fitCamera(m, size.w, size.h, { ...c, rotation: ((c.rotation + 1) % 4) as Camera['rotation'] }) : c)),
      flipH: () => setCamera((c) => (c ? { ...c, flipH: !c.flipH } : c)),
      flipV: () => setCamera((c) => (c ? { ...c, flipV: !c.flipV } : c)),
      camera: () => camera,
    }),
    [m, size.w, size.h, camera],
  );

  const matrix = useMemo(() => (camera ? planeToScreenMatrix(m, camera) : null), [m, camera]);
  const inverse = useMemo(() => (matrix ? invertMatrix(matrix) : null), [matrix]);

  const view = useMemo((): ViewTransform | null => {
    if (!camera || !matrix || !inverse) return null;
    return {
      mapping: m,
      slice,
      width: size.w,
      height: size.h,
      camera,
      native: m.axis === 'axial',
      toScreen: (x, y) => applyMatrix(matrix, x, y),
      toPlane: (sx, sy) => applyMatrix(inverse, sx, sy),
      planeToVoxel: (x, y, s = slice) => planeToVoxel(m, x, y, s),
      voxelToPlane: (i, j, k) => voxelToPlane(m, i, j, k),
      applyTo: (ctx) => ctx.setTransform(matrix[0] * dpr, matrix[1] * dpr, matrix[2] * dpr, matrix[3] * dpr, matrix[4] * dpr, matrix[5] * dpr),
    };
  }, [camera, matrix, inverse, m, slice, size.w, size.h, dpr]);

  // Cut and window the plane into an offscreen canvas (only when the plane, slice, window or data
  // change), then compose it on screen through the camera with the reference lines. Both read the
  // latest props through a ref so the very first slice can also be painted straight from the
  // volume's callback (below), without waiting for React to schedule a render.
  const loaded = volume.loaded[m.axis === 'axial' ? slice : 0] === 1 || (m.axis !== 'axial' && volume.complete);
  const [planeVersion, setPlaneVersion] = useState(0);
  const firstDrawn = useRef(false);
  const latest = useRef({ volume, m, slice, win, invert, matrix, size, dpr, references });
  latest.current = { volume, m, slice, win, invert, matrix, size, dpr, references };

  const cutPlane = useCallback((): boolean => {
    const { volume: vol, m: mp, slice: s, win: w, invert: inv } = latest.current;
    if (mp.axis === 'axial' ? !vol.loaded[s] : vol.loadedCount === 0) return false;
    let c = planeCanvas.current;
    if (!c || c.width !== mp.width || c.height !== mp.height) {
      c = document.createElement('canvas');
      c.width = mp.width;
      c.height = mp.height;
      planeCanvas.current = c;
      planeImage.current = null;
    }
    const ctx = c.getContext('2d');
    if (!ctx) return false;
    if (!planeImage.current) planeImage.current = ctx.createImageData(mp.width, mp.height);
    const img = planeImage.current;
    renderPlane({ data: vol.data, dims: [vol.cols, vol.rows, vol.frames], samples: vol.samples, rescale: vol.meta.rescale }, mp, s, w, inv, new Uint32Array(img.data.buffer));
    ctx.putImageData(img, 0, 0);
    return true;
  }, []);

  const compose = useCallback((): void => {
    const { volume: vol, m: mp, matrix: t, size: sz, dpr: r, references: refs } = latest.current;
    const canvas = canvasRef.current;
    const src = planeCanvas.current;
    if (!canvas || !t) return;
    const w = Math.max(1, Math.round(sz.w * r));
    const h = Math.max(1, Math.round(sz.h * r));
    if (canvas.width !== w) canvas.width = w;
    if (canvas.height !== h) canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, w, h);
    if (!src) return;
    ctx.setTransform(t[0] * r, t[1] * r, t[2] * r, t[3] * r, t[4] * r, t[5] * r);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(src, 0, 0);
    if (!firstDrawn.current) {
      firstDrawn.current = true;
      performance.mark('caliper:first-slice', { detail: { assetId: vol.assetId, axis: mp.axis } });
    }
    for (const ref of refs ?? []) {
      const a = ref.mapping.normalAxis;
      let line: { x0: number; y0: number; x1: number; y1: number } | null = null;
      if (a === mp.uAxis) {
        const x = (mp.uFlip ? volumeSize(vol, a) - 1 - ref.slice : ref.slice) + 0.5;
        line = { x0: x, y0: 0, x1: x, y1: mp.height };
      } else if (a === mp.vAxis) {
        const y = (mp.vFlip ? volumeSize(vol, a) - 1 - ref.slice : ref.slice) + 0.5;
        line = { x0: 0, y0: y, x1: mp.width, y1: y };
      }
      if (!line) continue;
      const p0 = applyMatrix(t, line.x0, line.y0);
      const p1 = applyMatrix(t, line.x1, line.y1);
      ctx.save();
      ctx.setTransform(r, 0, 0, r, 0, 0);
      ctx.strokeStyle = ref.color;
      ctx.globalAlpha = 0.8;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(p0[0], p0[1]);
      ctx.lineTo(p1[0], p1[1]);
      ctx.stroke();
      ctx.restore();
    }
  }, []);

  useEffect(() => {
    if (cutPlane()) setPlaneVersion((v) => v + 1);
  }, [cutPlane, volume, version, m, slice, win, invert]);

  useEffect(() => {
    compose();
  }, [compose, planeVersion, matrix, size.w, size.h, dpr, references, m, volume]);

  // The opening frame is painted the moment it arrives (the page is still busy mounting, and a
  // React render would wait behind that work); later frames go through the effects above.
  useEffect(
    () =>
      volume.subscribe(() => {
        if (!firstDrawn.current && latest.current.matrix && cutPlane()) compose();
      }),
    [volume, cutPlane, compose],
  );

  // Wheel: slice (or zoom with Ctrl), on a non-passive listener so the page does not scroll.
  const sliceRef = useRef(slice);
  sliceRef.current = slice;
  useEffect(() => {
    const el = wrapRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      if (e.ctrlKey || e.metaKey) {
        const r = el.getBoundingClientRect();
        zoomAt(e.deltaY < 0 ? 1.1 : 1 / 1.1, e.clientX - r.left, e.clientY - r.top);
        return;
      }
      const d = e.deltaY > 0 ? 1 : e.deltaY < 0 ? -1 : 0;
      const next = Math.min(m.depth - 1, Math.max(0, sliceRef.current + d));
      if (next !== sliceRef.current) onSlice(next);
    };
    el.addEventListener('wheel', onWheel, { passive: false });
    return () => el.removeEventListener('wheel', onWheel);
  });

  const zoomAt = useCallback((factor: number, sx: number, sy: number) => {
    setCamera((c) => (c ? { ...c, zoom: c.zoom * factor, panX: sx + (c.panX - sx) * factor, panY: sy + (c.panY - sy) * factor } : c));
  }, []);

  const local = (e: React.PointerEvent): [number, number] => {
    const r = wrapRef.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };

  const onPointerDown = (e: React.PointerEvent) => {
    onActivate();
    if (!camera) return;
    let kind: 'wl' | 'pan' | 'zoom' | 'crosshair' | null = null;
    if (e.button === 2) kind = 'wl';
    else if (e.button === 1) kind = 'pan';
    else if (e.button === 0 && tool !== 'annotate') kind = tool;
    if (!kind) return;
    e.preventDefault();
    const [x, y] = local(e);
    if (kind === 'crosshair') {
      if (view && props.onCrosshair) {
        const [px, py] = view.toPlane(x, y);
        props.onCrosshair(view.planeToVoxel(px, py));
      }
      return;
    }
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    drag.current = { kind, x, y, win, cam: camera };
  };

  const onPointerMove = (e: React.PointerEvent) => {
    const [x, y] = local(e);
    setPointer([x, y]);
    const d = drag.current;
    if (!d) {
      if (tool === 'crosshair' && e.buttons === 1 && view && props.onCrosshair) {
        const [px, py] = view.toPlane(x, y);
        props.onCrosshair(view.planeToVoxel(px, py));
      }
      return;
    }
    const dx = x - d.x;
    const dy = y - d.y;
    if (d.kind === 'wl') {
      // Same feel as OHIF: horizontal = width, vertical = level, scaled to the window size.
      const k = Math.max(1, d.win.width) / 256;
      onWin({ width: Math.max(1, d.win.width + dx * k * 2), center: d.win.center + dy * k * 2 });
    } else if (d.kind === 'pan') {
      setCamera({ ...d.cam, panX: d.cam.panX + dx, panY: d.cam.panY + dy });
    } else {
      const f = Math.exp(-dy / 150);
      setCamera({ ...d.cam, zoom: d.cam.zoom * f, panX: d.x + (d.cam.panX - d.x) * f, panY: d.y + (d.cam.panY - d.y) * f });
    }
  };

  const onPointerUp = () => {
    drag.current = null;
  };

  // Readout under the pointer.
  const readout = useMemo(() => {
    if (!pointer || !view) return null;
    const [px, py] = view.toPlane(pointer[0], pointer[1]);
    if (px < 0 || py < 0 || px >= m.width || py >= m.height) return null;
    const [i, j, k] = view.planeToVoxel(px, py);
    const vi = Math.round(i);
    const vj = Math.round(j);
    const vk = Math.round(k);
    const value = volume.value(vi, vj, vk);
    const affine = volume.meta.affineLps;
    const lps = affine ? voxelToLps(affine, [i, j, k]) : null;
    return { vi, vj, vk, value, lps };
    // version: values arrive while loading
  }, [pointer, view, m, volume, version]);

  const labels = useMemo(() => {
    const base = orientationLabels(m, volume.meta.affineLps);
    return camera ? rotateLabels(base, camera) : base;
  }, [m, volume.meta.affineLps, camera]);

  const pxPerMm = camera ? mmScale(m, camera) : 0;
  const barMm = pxPerMm > 0 ? scaleBarMm(pxPerMm) : 0;
  const hasGeometry = volume.meta.spacing !== null;
  const units = volume.meta.modality === 'CT' ? ' HU' : '';
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

  return (
    <div
      ref={wrapRef}
      className={`viewport${active ? ' viewport-active' : ''}`}
      style={{ ['--vp-accent' as string]: props.accent }}
      data-testid={props.testId ?? `viewport-${m.axis}`}
      data-axis={m.axis}
      data-slice={slice}
      data-window={`${win.width}/${win.center}`}
      data-matrix={matrix ? matrix.join(',') : undefined}
      data-rendered={planeVersion}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onPointerLeave={() => setPointer(null)}
      onContextMenu={(e) => e.preventDefault()}
    >
      <canvas ref={canvasRef} className="viewport-canvas" data-testid="viewport-canvas" style={{ width: size.w, height: size.h }} />
      {view && overlay?.(view)}
      <div className="vp-corner vp-tl">
        <strong style={{ color: props.accent }}>{planeTitle(m, volume.meta.affineLps, volume.frames, volume.isVolume)}</strong>
        <div>
          {m.axis === 'axial' && !volume.isVolume ? 'Frame' : 'Slice'} {slice + 1} / {m.depth}
        </div>
        <div>
          W {Math.round(win.width)} L {Math.round(win.center)}
          {invert ? ' · inverted' : ''}
        </div>
      </div>
      <div className="vp-corner vp-tr">
        <div title="Screen pixels per image pixel">{camera ? `Zoom ${camera.zoom.toFixed(2)}×` : ''}</div>
        {!loaded && <div>Loading…</div>}
      </div>
      <div className="vp-corner vp-bl" data-testid="viewport-readout">
        {readout ? (
          <>
            <div>
              ({readout.vi}, {readout.vj}, {readout.vk}){readout.value !== undefined ? ` · ${fmt(readout.value)}${units}` : ''}
            </div>
            {readout.lps && <div>LPS {readout.lps.map((v) => v.toFixed(1)).join(', ')} mm</div>}
          </>
        ) : null}
      </div>
      {hasGeometry && barMm > 0 && (
        <div className="vp-scalebar" aria-label={`Scale bar ${barMm} mm`}>
          <div style={{ width: barMm * pxPerMm }} />
          <span>{barMm >= 10 ? `${barMm / 10} cm` : `${barMm} mm`}</span>
        </div>
      )}
      <span className="vp-orient vp-orient-left">{labels.left}</span>
      <span className="vp-orient vp-orient-right">{labels.right}</span>
      <span className="vp-orient vp-orient-top">{labels.top}</span>
      <span className="vp-orient vp-orient-bottom">{labels.bottom}</span>
    </div>
  );
});

function volumeSize(v: ImageVolume, axis: number): number {
  return axis === 0 ? v.cols : axis === 1 ? v.rows : v.frames;
}
