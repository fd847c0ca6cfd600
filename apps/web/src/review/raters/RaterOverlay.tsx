// The raters' objects drawn READ-ONLY over one imaging viewport, each rater in its colour: 2D
// shapes on their slice, landmarks and measurements where they fall (any view), masks as a
// tint, label maps as the outline of their segments on the view's plane. No pointer events:
// the editable document's layer above keeps working.

import { extractPlane } from '@caliper/core/mpr';
import { useLayoutEffect, useRef } from 'react';
import { clearedOverlay, drawMarker, maskCanvas, pathOf, planeSpace, screenSpace } from '../../viewer/tools/render';
import { objectsOnView, planeGeometry } from '../../viewer/tools/model';
import type { ViewTransform } from '../../viewer/types';
import { boundarySegments, CONSENSUS_KEY, type RaterRow } from './raters';
import type { DecodedLabelmap } from './useRaters';

export interface RaterOverlayProps {
  view: ViewTransform;
  rows: readonly RaterRow[];
  visible: ReadonlySet<string>;
  labelmaps: ReadonlyMap<string, DecodedLabelmap>;
}

/** Outline paths per (label map, plane axis, slice), built once. */
const outlineCache = new WeakMap<DecodedLabelmap, Map<string, Path2D>>();

function labelmapOutline(lm: DecodedLabelmap, view: ViewTransform): Path2D | null {
  const m = view.mapping;
  if (view.slice < 0 || view.slice >= m.depth) return null;
  if (m.width * m.height * m.depth !== lm.shape[0] * lm.shape[1] * lm.shape[2]) return null;
  let perMap = outlineCache.get(lm);
  if (!perMap) outlineCache.set(lm, (perMap = new Map()));
  const key = `${m.axis}:${view.slice}`;
  let path = perMap.get(key);
  if (!path) {
    const plane = new (lm.data instanceof Uint16Array ? Uint16Array : Uint8Array)(m.width * m.height);
    extractPlane(m, lm.data, lm.shape, view.slice, plane);
    const segs = boundarySegments(plane, m.width, m.height);
    path = new Path2D();
    for (let i = 0; i < segs.length; i += 4) {
      path.moveTo(segs[i]!, segs[i + 1]!);
      path.lineTo(segs[i + 2]!, segs[i + 3]!);
    }
    perMap.set(key, path);
  }
  return path;
}

/** One canvas over the viewport with every visible rater's objects in the rater's colour. */
export function RaterOverlay({ view, rows, visible, labelmaps }: RaterOverlayProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    const canvas = ref.current;
    if (!canvas) return;
    const overlay = clearedOverlay(canvas, view.width, view.height);
    if (!overlay) return;
    const { ctx, dpr } = overlay;
    // The consensus is dashed, so it stays apart from an editable copy of it drawn on top.
    const dash = (on: boolean) => ctx.setLineDash(on ? [6 / view.camera.zoom, 3 / view.camera.zoom] : []);
    for (const row of rows) {
      if (!visible.has(row.key)) continue;
      const shown = objectsOnView(row.objects, view);
      for (const o of shown) {
        const g = planeGeometry(o, view);
        if (g.mask) {
          planeSpace(ctx, view, 1);
          ctx.globalAlpha = 0.35;
          ctx.imageSmoothingEnabled = false;
          ctx.drawImage(maskCanvas(g.mask, row.color), 0, 0);
          ctx.imageSmoothingEnabled = true;
          ctx.globalAlpha = 1;
        }
        if (g.outlines.length || g.ellipses.length) {
          planeSpace(ctx, view, 2);
          ctx.strokeStyle = row.color;
          dash(row.key === CONSENSUS_KEY);
          ctx.stroke(pathOf(g));
          dash(false);
        }
        if (g.markers.length) {
          screenSpace(ctx, dpr);
          for (const mk of g.markers) drawMarker(ctx, view.toScreen(mk.p[0], mk.p[1]), row.color, true);
        }
      }
      for (const o of row.objects) {
        if (o.kind !== 'labelmap' || typeof o.blob !== 'string') continue;
        const lm = labelmaps.get(o.blob);
        const path = lm ? labelmapOutline(lm, view) : null;
        if (!path) continue;
        planeSpace(ctx, view, 1.5);
        ctx.strokeStyle = row.color;
        dash(row.key === CONSENSUS_KEY);
        ctx.stroke(path);
        dash(false);
      }
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
  });
  return <canvas ref={ref} className="rater-overlay" data-testid="rater-overlay" aria-hidden />;
}
