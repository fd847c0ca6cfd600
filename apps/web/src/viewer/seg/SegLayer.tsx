// Segmentation overlay of one viewport: draws the label map's slice of this view (nearest
// neighbour, per-segment opacity, fill and/or outline) and, when a segmentation tool is active
// and the document is editable, turns left-button drags into edits of the session (brush,
// eraser, threshold brush, flood fill, scissors). Right/middle buttons and the wheel are left to
// the viewport (never stopped here). Redraws are coalesced to one per animation frame.

import { useCallback, useEffect, useRef } from 'react';
import { renderLabelSlice } from '@caliper/core/labelmap';
import type { ViewTransform } from '../types';
import type { ImageVolume } from '../volume';
import type { BrushStep, SegSession, Vec3 } from './session';
import type { SegSettings, SegTool } from './settings';

export interface SegLayerProps {
  view: ViewTransform;
  session: SegSession;
  volume: ImageVolume;
  /** Active segmentation tool; null: only draw (pointer events pass through). */
  tool: SegTool | null;
  settings: SegSettings;
  /** Label value painted by brush, threshold, flood and scissors. */
  activeSegment: number;
  editable: boolean;
  /** Short feedback for the page's status line (flood fill result, why a tool did nothing). */
  onMessage?: (text: string) => void;
}

/** Fill alpha relative to the outline when both are drawn. */
const FILL_WITH_OUTLINE = 0.6;

type Drag =
  | { kind: 'brush'; step: BrushStep }
  | { kind: 'scissors'; tool: 'scissors-rect' | 'scissors-circle' | 'sphere-scissors'; start: [number, number]; end: [number, number]; erase: boolean };

function isBrush(tool: SegTool | null): tool is 'brush' | 'eraser' | 'threshold' {
  return tool === 'brush' || tool === 'eraser' || tool === 'threshold';
}

/** Image samples usable by threshold and flood fill (one sample per voxel, all frames loaded). */
function usableImage(volume: ImageVolume): string | null {
  if (volume.samples !== 1) return 'Threshold and flood fill need a single-channel image.';
  if (!volume.complete) return 'Wait until every slice has loaded.';
  return null;
}

export function SegLayer(props: SegLayerProps) {
  const { view, session, volume, tool, settings, activeSegment, editable, onMessage } = props;
  const labelCanvas = useRef<HTMLCanvasElement>(null);
  const toolCanvas = useRef<HTMLCanvasElement>(null);
  const rootRef = useRef<HTMLDivElement>(null);
  const plane = useRef<{ canvas: HTMLCanvasElement; image: ImageData; pixels: Uint32Array } | null>(null);
  const rendered = useRef<{ version: number; slice: number; mapping: ViewTransform['mapping'] } | null>(null);
  const frame = useRef<number | null>(null);
  const pointer = useRef<[number, number] | null>(null);
  const drag = useRef<Drag | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const active = tool !== null && editable;

  // ---- drawing ------------------------------------------------------------------------------

  const draw = useCallback(() => {
    frame.current = null;
    const { view: v, session: s, tool: t, settings: st } = latest.current;
    const dpr = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(v.width * dpr));
    const h = Math.max(1, Math.round(v.height * dpr));
    const m = v.mapping;

    // The label slice into a plane-sized offscreen canvas, only when data/slice/plane changed.
    let p = plane.current;
    if (!p || p.canvas.width !== m.width || p.canvas.height !== m.height) {
      const canvas = document.createElement('canvas');
      canvas.width = m.width;
      canvas.height = m.height;
      const ctx = canvas.getContext('2d');
      if (!ctx) return;
      const image = ctx.createImageData(m.width, m.height);
      p = { canvas, image, pixels: new Uint32Array(image.data.buffer) };
      plane.current = p;
      rendered.current = null;
    }
    const r = rendered.current;
    if (!r || r.version !== s.version || r.slice !== v.slice || r.mapping !== m) {
      const mode = s.renderMode;
      try {
        renderLabelSlice(s.map, m, v.slice, s.colors, p.pixels, {
          fill: mode !== 'outline',
          outline: mode !== 'fill',
          opacity: mode === 'both' ? FILL_WITH_OUTLINE : 1,
          segmentOpacity: s.segmentOpacity(),
          hidden: s.hiddenSegments(),
        });
      } catch {
        p.pixels.fill(0); // a plane that does not match the label map (e.g. a 2D frame view): draw nothing
      }
      p.canvas.getContext('2d')?.putImageData(p.image, 0, 0);
      rendered.current = { version: s.version, slice: v.slice, mapping: m };
    }

    const lc = labelCanvas.current;
    if (lc) {
      if (lc.width !== w) lc.width = w;
      if (lc.height !== h) lc.height = h;
      const ctx = lc.getContext('2d');
      if (ctx) {
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, w, h);
        v.applyTo(ctx);
        ctx.imageSmoothingEnabled = false;
        ctx.drawImage(p.canvas, 0, 0);
      }
    }

    // Tool feedback: brush outline under the pointer, scissors shape while dragging.
    const tc = toolCanvas.current;
    if (tc) {
      if (tc.width !== w) tc.width = w;
      if (tc.height !== h) tc.height = h;
      const ctx = tc.getContext('2d');
      if (ctx) {
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, w, h);
        const seg = s.segment(latest.current.activeSegment);
        const color = seg?.color ?? '#ffffff';
        const d = drag.current;
        const px = pointer.current;
        v.applyTo(ctx);
        ctx.setLineDash([]);
        ctx.lineWidth = 1.5 / Math.max(1e-6, v.camera.zoom);
        const su = s.map.spacing[m.uAxis];
        const sv = s.map.spacing[m.vAxis];
        if (d?.kind === 'scissors') {
          ctx.strokeStyle = d.erase ? '#ffffff' : color;
          ctx.setLineDash([6 / v.camera.zoom, 4 / v.camera.zoom]);
          ctx.beginPath();
          if (d.tool === 'scissors-rect') {
            ctx.rect(d.start[0], d.start[1], d.end[0] - d.start[0], d.end[1] - d.start[1]);
          } else {
            const rMm = Math.hypot((d.end[0] - d.start[0]) * su, (d.end[1] - d.start[1]) * sv);
            ctx.ellipse(d.start[0], d.start[1], rMm / su, rMm / sv, 0, 0, Math.PI * 2);
          }
          ctx.stroke();
        } else if (px && isBrush(t) && latest.current.editable) {
          const [x, y] = v.toPlane(px[0], px[1]);
          const erase = d?.kind === 'brush' ? d.step.erase === true : t === 'eraser';
          ctx.strokeStyle = erase ? '#ffffff' : color;
          if (t === 'threshold') ctx.setLineDash([4 / v.camera.zoom, 3 / v.camera.zoom]);
          ctx.beginPath();
          ctx.ellipse(x, y, st.radiusMm / su, st.radiusMm / sv, 0, 0, Math.PI * 2);
          ctx.stroke();
        }
      }
    }
  }, []);

  const requestDraw = useCallback(() => {
    if (frame.current !== null) return;
    frame.current = requestAnimationFrame(draw);
  }, [draw]);

  useEffect(() => session.subscribe(requestDraw), [session, requestDraw]);
  useEffect(() => {
    requestDraw();
  }, [view, session, session.version, tool, settings.radiusMm, activeSegment, editable, requestDraw]);
  useEffect(
    () => () => {
      if (frame.current !== null) cancelAnimationFrame(frame.current);
      frame.current = null;
    },
    [],
  );

  // ---- pointer ------------------------------------------------------------------------------

  const local = (e: React.PointerEvent): [number, number] => {
    const r = rootRef.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };

  const toVoxel = (sx: number, sy: number): { planeXY: [number, number]; voxel: Vec3 } => {
    const [x, y] = view.toPlane(sx, sy);
    return { planeXY: [x, y], voxel: view.planeToVoxel(x, y) };
  };

  /** Why the active segment cannot be painted, or null. */
  const blocked = (): string | null =>
    !session.segment(activeSegment) ? 'Choose a segment first.' : !session.canEdit(activeSegment) ? 'This segment is locked.' : null;

  const onPointerDown = (e: React.PointerEvent) => {
    if (e.button !== 0 || !active || tool === null) return; // right/middle: the viewport's
    const [sx, sy] = local(e);
    pointer.current = [sx, sy];
    const { planeXY, voxel } = toVoxel(sx, sy);
    const planeSel = { normalAxis: view.mapping.normalAxis, slice: view.slice };
    if (isBrush(tool)) {
      let threshold: BrushStep['threshold'];
      if (tool === 'threshold') {
        const why = usableImage(volume);
        if (why) {
          onMessage?.(why);
          return;
        }
        threshold = { image: volume.data, lo: settings.threshold[0], hi: settings.threshold[1], rescale: volume.meta.rescale };
      }
      const why = tool === 'eraser' ? null : blocked();
      if (why) {
        onMessage?.(why);
        return;
      }
      const step: BrushStep = {
        segment: activeSegment,
        radiusMm: settings.radiusMm,
        sphere: settings.sphere,
        plane: planeSel,
        erase: tool === 'eraser' || (tool === 'brush' && e.shiftKey),
        ...(threshold ? { threshold } : {}),
      };
      e.preventDefault();
      (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
      drag.current = { kind: 'brush', step };
      session.beginStroke();
      session.strokeTo(voxel, step);
      requestDraw();
      return;
    }
    if (tool === 'flood') {
      e.preventDefault();
      const why = usableImage(volume);
      if (why) {
        onMessage?.(why);
        return;
      }
      const blockedWhy = blocked();
      if (blockedWhy) {
        onMessage?.(blockedWhy);
        return;
      }
      const r = session.flood(voxel, {
        segment: activeSegment,
        tolerance: settings.tolerance,
        mode: settings.floodMode,
        normalAxis: view.mapping.normalAxis,
        image: volume.data,
        rescale: volume.meta.rescale,
      });
      onMessage?.(
        r.regionVoxels === 0
          ? 'Nothing to fill here.'
          : `Filled ${r.changedVoxels.toLocaleString()} voxels${r.truncated ? ' (stopped at the size limit: lower the tolerance)' : ''}.`,
      );
      return;
    }
    // scissors
    const erase = settings.scissorsErase !== e.shiftKey;
    const why = erase ? null : blocked();
    if (why) {
      onMessage?.(why);
      return;
    }
    e.preventDefault();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    drag.current = { kind: 'scissors', tool, start: planeXY, end: planeXY, erase };
    requestDraw();
  };

  const onPointerMove = (e: React.PointerEvent) => {
    if (!active) return;
    const [sx, sy] = local(e);
    pointer.current = [sx, sy];
    const d = drag.current;
    if (d?.kind === 'brush') {
      session.strokeTo(toVoxel(sx, sy).voxel, d.step);
    } else if (d?.kind === 'scissors') {
      d.end = toVoxel(sx, sy).planeXY;
    }
    requestDraw();
  };

  const finish = (e: React.PointerEvent, apply: boolean) => {
    const d = drag.current;
    drag.current = null;
    if ((e.currentTarget as HTMLElement).hasPointerCapture?.(e.pointerId)) (e.currentTarget as HTMLElement).releasePointerCapture(e.pointerId);
    if (!d) return;
    if (d.kind === 'brush') {
      session.endStroke();
    } else if (apply) {
      const m = view.mapping;
      const planeSel = { normalAxis: m.normalAxis, slice: view.slice };
      const a = view.planeToVoxel(d.start[0], d.start[1]);
      const b = view.planeToVoxel(d.end[0], d.end[1]);
      const su = session.map.spacing[m.uAxis];
      const sv = session.map.spacing[m.vAxis];
      const rMm = Math.hypot((d.end[0] - d.start[0]) * su, (d.end[1] - d.start[1]) * sv);
      let changed = false;
      if (d.tool === 'scissors-rect') changed = session.scissors({ kind: 'rect', plane: planeSel, from: a, to: b }, activeSegment, d.erase);
      else if (rMm > 0 && d.tool === 'scissors-circle') changed = session.scissors({ kind: 'circle', plane: planeSel, center: a, radiusMm: rMm }, activeSegment, d.erase);
      else if (rMm > 0) changed = session.scissors({ kind: 'sphere', center: a, radiusMm: rMm }, activeSegment, d.erase);
      if (!changed) onMessage?.('The scissors changed nothing.');
    }
    requestDraw();
  };

  const onPointerUp = (e: React.PointerEvent) => {
    if (e.button !== 0) return;
    finish(e, true);
  };

  const onPointerCancel = (e: React.PointerEvent) => finish(e, false);

  const onPointerLeave = () => {
    pointer.current = null;
    requestDraw();
  };

  const cursorClass = !active ? '' : isBrush(tool) ? ' seg-layer-brush' : ' seg-layer-cross';
  return (
    <div
      ref={rootRef}
      className={`seg-layer${active ? ' seg-layer-active' : ''}${cursorClass}`}
      data-testid={`seg-layer-${view.mapping.axis}`}
      data-tool={tool ?? ''}
      data-version={session.version}
      onPointerDown={active ? onPointerDown : undefined}
      onPointerMove={active ? onPointerMove : undefined}
      onPointerUp={active ? onPointerUp : undefined}
      onPointerCancel={active ? onPointerCancel : undefined}
      onLostPointerCapture={active ? (e) => drag.current && finish(e, drag.current.kind === 'brush') : undefined}
      onPointerLeave={active ? onPointerLeave : undefined}
    >
      <canvas ref={labelCanvas} className="seg-canvas" style={{ width: view.width, height: view.height }} aria-hidden="true" />
      <canvas ref={toolCanvas} className="seg-canvas" style={{ width: view.width, height: view.height }} aria-hidden="true" />
    </div>
  );
}
