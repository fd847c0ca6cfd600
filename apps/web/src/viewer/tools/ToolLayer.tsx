// The annotation layer drawn over one viewport: ONE canvas (absolute, inset 0, device-pixel-
// ratio aware) that renders the objects on this view and handles the pointer for the active
// tool. Every completed drawing or edit is one `onEdit` call; drags (move, vertex edit) send
// live updates with one `coalesce` key per drag so that the whole drag is one undo step.
//
// Keys (when the canvas has focus; it takes focus on pointer down): Enter finishes a polygon
// or polyline, Escape cancels the drawing (or clears the selection), Backspace removes the last
// vertex while drawing, Delete/Backspace removes the selected object. Other keys bubble to the
// viewport. Non-primary buttons and the wheel are never handled here: they bubble too.

import { useCallback, useEffect, useImperativeHandle, useLayoutEffect, useMemo, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type MouseEvent as ReactMouseEvent, type PointerEvent as ReactPointerEvent, type Ref } from 'react';
import { rleBounds } from '@caliper/core';
import type { AnyObject, LabelDef } from '../../types';
import type { EditObjects, ViewTransform } from '../types';
import { defaultAttributeValues } from '../../workspace/tags';
import { encodeBitmap, paintDisc, paintSegment, workingBitmap, type MaskRle } from './mask';
import { formatMeasured, formatStats, measure, roiStats, type MeasurementType, type RoiStats } from './measure';
import {
  applyMask, boxFromCorners, clampToPlane, createBox, createEllipse, createGeometryCache, createLandmarks, createMeasurement,
  createMask, createPoints, createPolygon, createPolyline, dedupePoints, ellipseFromCorners, ellipseOutline, findLandmarks,
  findMask, hitTest, HIT_TOLERANCE, moveObject, moveVertex, nextLandmarkName, objectsOnView, planeIndexOf, removeObject,
  replaceObject, simplifyRdp, toolRefusal, usesVoxelSpace, type Affine, type Landmark, type PlaneField, type PlaneGeom,
  type Place, type Pt, type ToolId,
} from './model';
import { affineOf, BrushCanvas, clearedOverlay, DEFAULT_COLOR, drawHandle, drawLabelText, drawMarker, maskCanvas, MergedPaths, pathOf, planeSpace, RetainedLayer, screenSpace } from './render';

export interface ToolLayerHandle {
  /** Cancel the drawing in progress (Escape). */
  cancel(): void;
  /** Finish a polygon/polyline/area ROI in progress (Enter). */
  finish(): void;
  /** Remove the selected object unless locked. */
  deleteSelected(): void;
  /** Handle a key as the canvas would; true when consumed. Lets the viewport forward keys. */
  handleKey(key: string): boolean;
}

export interface ToolLayerProps {
  /** Where the viewport shows what; a new object on every camera/slice change is fine. */
  view: ViewTransform;
  /** The document's objects (all of them, document order = z-order). */
  objects: AnyObject[];
  tool: ToolId;
  /** The active label; drawing is refused (with a hint) without one or when it does not allow the kind. */
  label: LabelDef | null;
  /** All labels of the schema, for colours. */
  labels: readonly LabelDef[];
  selectedId: string | null;
  onSelect: (id: string | null) => void;
  hidden: ReadonlySet<string>;
  locked: ReadonlySet<string>;
  onEdit: EditObjects;
  userId: string;
  /** Voxel → LPS mm; null for images without geometry (measurements in px). */
  affine: Affine | null;
  /** Plane field of 2D shapes: 'slice' (volumes, stacks; measurements and landmarks then in voxel space), 'frame' (cines), null (one image). */
  planeField: PlaneField;
  /** Modality value at a voxel index (integers), for area ROI statistics. */
  sample?: (i: number, j: number, k: number) => number | undefined;
  /** Unit of sampled values for the ROI text, e.g. "HU". */
  valueUnit?: string;
  /** The active label's landmark set: each click places the next unplaced name. Defaults to the label's `landmarks` (schema). */
  landmarkNames?: readonly string[];
  /** Brush radius in plane pixels (mask brush/eraser). Default 5. */
  brushRadius?: number;
  ref?: Ref<ToolLayerHandle>;
}

type Draft =
  | { t: 'drag'; tool: 'box' | 'ellipse' | 'ellipse-roi'; a: Pt; b: Pt }
  | { t: 'clicks'; tool: 'polygon' | 'polyline' | 'area-roi'; pts: Pt[]; hover: Pt | null }
  | { t: 'freehand'; screen: Pt[] }
  | { t: 'measure'; tool: 'length' | 'angle' | 'bidirectional'; pts: Pt[]; hover: Pt | null; down: Pt | null }
  | { t: 'brush'; erase: boolean; bitmap: Uint8Array; last: Pt; existing: AnyObject | undefined; view: BrushCanvas; width: number; height: number; place: Place; label: LabelDef }
  | { t: 'move'; id: string; original: AnyObject; start: Pt; key: string }
  | { t: 'vertex'; id: string; original: AnyObject; index: number; key: string };

const NEEDED: Record<'length' | 'angle' | 'bidirectional', number> = { length: 2, angle: 3, bidirectional: 4 };
const MIN_DRAG = 3;
let dragSerial = 0;

const dist = (a: Pt, b: Pt): number => Math.hypot(a[0] - b[0], a[1] - b[1]);

export function ToolLayer(props: ToolLayerProps) {
  const { view, objects, tool, label, hidden, selectedId, ref } = props;
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const propsRef = useRef(props);
  const draftRef = useRef<Draft | null>(null);
  const hoverRef = useRef<Pt | null>(null);
  const frameRef = useRef(0);
  const requestDrawRef = useRef<() => void>(() => undefined);
  const pointsTargetRef = useRef<string | null>(null);
  const [hint, setHint] = useState<string | null>(null);
  const geom = useMemo(() => createGeometryCache(), []);
  const merged = useMemo(() => new MergedPaths(), []);
  const layer = useMemo(() => new RetainedLayer(), []);
  const statsCache = useMemo(() => new WeakMap<AnyObject, { key: unknown; slice: number; stats: RoiStats | null }>(), []);

  useLayoutEffect(() => {
    propsRef.current = props;
  });

  // Objects on this view: recomputed when the objects or the plane change, not on pan/zoom.
  const { mapping, slice, native } = view;
  const onView = useMemo(
    () => objectsOnView(objects, { slice, native, voxelToPlane: view.voxelToPlane }).filter((o) => !hidden.has(o.id)),
    // voxelToPlane depends on the mapping only, so the view object itself is not a dependency
    [objects, slice, native, mapping, hidden],
  );
  const onViewRef = useRef(onView);
  useLayoutEffect(() => {
    onViewRef.current = onView;
  });

  const colorMap = useRef<{ labels: readonly LabelDef[] | null; map: Map<string, string> }>({ labels: null, map: new Map() });
  const colorOf = useCallback((o: AnyObject): string => {
    const labels = propsRef.current.labels;
    const c = colorMap.current;
    if (c.labels !== labels) colorMap.current = { labels, map: new Map(labels.map((l) => [l.name, l.color || DEFAULT_COLOR])) };
    return colorMap.current.map.get(o.label) ?? DEFAULT_COLOR;
  }, []);
  const place = (): Place => ({ field: propsRef.current.planeField, index: propsRef.current.view.slice });
  const voxel = (): boolean => usesVoxelSpace(propsRef.current.planeField);

  // ------------------------------------------------------------------ drawing

  const draw = useCallback(() => {
    frameRef.current = 0;
    const canvas = canvasRef.current;
    const p = propsRef.current;
    const v = p.view;
    if (!canvas) return;
    const overlay = clearedOverlay(canvas, v.width, v.height);
    if (!overlay) return;
    const { ctx, dpr } = overlay;
    const visible = onViewRef.current;
    const g = (o: AnyObject): PlaneGeom => geom(o, v);
    const draft = draftRef.current;
    const editingId = draft && (draft.t === 'move' || draft.t === 'vertex') ? draft.id : null;
    const brushMaskId = draft?.t === 'brush' ? draft.existing?.id : undefined;

    // Unselected outlines (one merged path per colour) and masks: the retained layer, which
    // re-uses its bitmap during camera motion when re-rendering is expensive.
    // The selected object stays in the merged paths (selecting is instant); it is drawn again,
    // highlighted, on top. The object being dragged leaves an empty slot (null) while the drag
    // lasts, so that its live versions do not touch the merged paths.
    const strokeable = visible
      .filter((o) => o.kind !== 'mask' && o.kind !== 'points' && o.kind !== 'landmarks')
      .map((o) => (o.id === editingId ? null : o));
    const masks = visible
      .filter((o) => o.kind === 'mask' && o.id !== brushMaskId)
      .flatMap((o) => {
        const m = g(o).mask;
        return m ? [{ canvas: maskCanvas(m, colorOf(o)), key: o as unknown }] : [];
      });
    const paths = merged.get(strokeable, g, colorOf, v.mapping);
    // Nothing retained to show (an empty slice): skip the viewport-sized offscreen bitmap.
    if (strokeable.length > 0 || masks.length > 0) {
      layer.draw(ctx, { paths, masks, lineWidth: 1 }, affineOf(v.toScreen), v.width, v.height, dpr, () => requestDrawRef.current());
    }
    if (draft?.t === 'brush') {
      planeSpace(ctx, v, 1);
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(draft.view.canvas, 0, 0);
      ctx.imageSmoothingEnabled = true;
    }

    // the selected object, highlighted
    const selected = p.selectedId ? visible.find((o) => o.id === p.selectedId) : undefined;
    if (selected && selected.kind !== 'points' && selected.kind !== 'landmarks') {
      const sg = g(selected);
      const color = colorOf(selected);
      const path = pathOf(sg);
      planeSpace(ctx, v, 2.5);
      if (sg.closed && selected.kind !== 'mask') {
        ctx.globalAlpha = 0.18;
        ctx.fillStyle = color;
        ctx.fill(path, 'evenodd');
        ctx.globalAlpha = 1;
      }
      ctx.strokeStyle = color;
      ctx.stroke(path);
      if (selected.kind === 'mask' && sg.mask) {
        const b = rleBounds(sg.mask);
        if (b) {
          ctx.setLineDash([4 / v.camera.zoom, 3 / v.camera.zoom]);
          ctx.lineWidth = 1 / v.camera.zoom;
          ctx.strokeRect(b.minX, b.minY, b.maxX - b.minX, b.maxY - b.minY);
          ctx.setLineDash([]);
        }
      }
    }

    // draft (plane space)
    planeSpace(ctx, v, 1.5);
    drawDraftPlane(ctx, draft, p.label?.color ?? DEFAULT_COLOR, v.camera.zoom);

    // screen space: markers, names, measurement text, handles, draft text
    screenSpace(ctx, dpr);
    for (const o of visible) {
      if (o.kind !== 'points' && o.kind !== 'landmarks') continue;
      const og = g(o);
      const color = colorOf(o);
      og.markers.forEach((m, i) => {
        const s = v.toScreen(m.p[0], m.p[1]);
        drawMarker(ctx, s, color, o.kind === 'landmarks');
        const name = og.names[i];
        if (name) drawLabelText(ctx, name, s[0] + 9, s[1] - 9, color);
      });
    }
    for (const o of visible) {
      if (o.kind !== 'measurement') continue;
      const og = g(o);
      if (!og.anchor) continue;
      const s = v.toScreen(og.anchor[0], og.anchor[1]);
      drawLabelText(ctx, measurementText(o, og), s[0] + 8, s[1] - 10);
    }
    if (selected && !p.locked.has(selected.id)) {
      const color = colorOf(selected);
      for (const hnd of g(selected).handles) drawHandle(ctx, v.toScreen(hnd.p[0], hnd.p[1]), color, editingId === selected.id);
    }
    drawDraftScreen(ctx, draft, v, p.label?.color ?? DEFAULT_COLOR);
    // brush cursor
    const hover = hoverRef.current;
    if ((p.tool === 'mask-brush' || p.tool === 'mask-eraser') && hover && v.native) {
      const c = v.toScreen(hover[0], hover[1]);
      ctx.beginPath();
      ctx.arc(c[0], c[1], (p.brushRadius ?? 5) * v.camera.zoom, 0, 2 * Math.PI);
      ctx.lineWidth = 1;
      ctx.strokeStyle = p.tool === 'mask-eraser' ? '#ffffff' : (p.label?.color ?? DEFAULT_COLOR);
      ctx.setLineDash(p.tool === 'mask-eraser' ? [3, 3] : []);
      ctx.stroke();
      ctx.setLineDash([]);
    }

    function measurementText(o: AnyObject, og: PlaneGeom): string {
      const type = String(o.type);
      const text = formatMeasured(type, { value: Number(o.value), unit: String(o.unit), shortAxis: typeof o.shortAxis === 'number' ? o.shortAxis : undefined });
      if (type !== 'area' || !p.sample) return text;
      const outline = og.outlines[0]?.pts;
      if (!outline) return text;
      let cached = statsCache.get(o);
      if (!cached || cached.key !== v.mapping || cached.slice !== v.slice) {
        const sample = p.sample;
        const stats = roiStats(outline, v.mapping.width, v.mapping.height, (c, r) => {
          const [i, j, k] = v.planeToVoxel(c + 0.5, r + 0.5, v.slice);
          return sample(Math.round(i), Math.round(j), Math.round(k));
        });
        cached = { key: v.mapping, slice: v.slice, stats };
        statsCache.set(o, cached);
      }
      return cached.stats ? `${text} · ${formatStats(cached.stats, p.valueUnit)}` : text;
    }

    function storedPoint(pt: Pt): number[] {
      return usesVoxelSpace(p.planeField) ? v.planeToVoxel(pt[0], pt[1], v.slice) : [pt[0], pt[1]];
    }

    function drawDraftScreen(c: CanvasRenderingContext2D, d: Draft | null, vt: ViewTransform, color: string): void {
      if (!d) return;
      if (d.t === 'freehand') {
        c.beginPath();
        d.screen.forEach((q, i) => (i === 0 ? c.moveTo(q[0], q[1]) : c.lineTo(q[0], q[1])));
        c.strokeStyle = color;
        c.lineWidth = 1.5;
        c.stroke();
        return;
      }
      if (d.t === 'clicks') {
        d.pts.forEach((q, i) => {
          const s = vt.toScreen(q[0], q[1]);
          const nearFirst = i === 0 && d.tool !== 'polyline' && d.pts.length >= 3 && d.hover !== null && dist(vt.toScreen(d.hover[0], d.hover[1]), s) <= HIT_TOLERANCE;
          drawHandle(c, s, color, nearFirst);
        });
        return;
      }
      if (d.t === 'measure') {
        const pts = d.hover ? [...d.pts, d.hover] : d.pts;
        for (const q of d.pts) drawHandle(c, vt.toScreen(q[0], q[1]), color);
        const type: MeasurementType = d.tool;
        const n = NEEDED[d.tool];
        if (pts.length >= 2 && (type !== 'bidirectional' || pts.length === 2 || pts.length === 4) && (type !== 'angle' || pts.length === 3)) {
          const stored = pts.slice(0, n).map(storedPoint);
          const m = type === 'bidirectional' && stored.length === 2 ? measure('length', stored, p.affine) : measure(type, stored, p.affine);
          const last = vt.toScreen(pts[pts.length - 1]![0], pts[pts.length - 1]![1]);
          drawLabelText(c, formatMeasured(type === 'bidirectional' && stored.length === 2 ? 'length' : type, m), last[0] + 8, last[1] - 10);
        }
        return;
      }
      if (d.t === 'drag' && d.tool === 'ellipse-roi') {
        const e = ellipseFromCorners(d.a, d.b);
        const outline = ellipseOutline(e).map(storedPoint);
        const m = measure('area', outline, p.affine);
        const s = vt.toScreen(Math.max(d.a[0], d.b[0]), Math.min(d.a[1], d.b[1]));
        drawLabelText(c, formatMeasured('area', m), s[0] + 8, s[1] - 10);
      }
    }
  }, [geom, merged, layer, colorOf, statsCache]);

  const requestDraw = useCallback(() => {
    if (frameRef.current) return;
    frameRef.current = requestAnimationFrame(draw);
  }, [draw]);
  useLayoutEffect(() => {
    requestDrawRef.current = requestDraw;
  }, [requestDraw]);

  useEffect(
    () => () => {
      if (frameRef.current) cancelAnimationFrame(frameRef.current);
      layer.dispose();
    },
    [layer],
  );

  // Redraw whenever what is shown changes (the view object changes on pan/zoom/slice).
  useEffect(() => {
    requestDraw();
  }, [requestDraw, view, onView, selectedId, props.labels, props.locked, tool, label, props.sample]);

  // A new tool, label or plane abandons the drawing in progress.
  useEffect(() => {
    draftRef.current = null;
    pointsTargetRef.current = null;
    setHint(null);
    requestDraw();
  }, [tool, label, slice, mapping, requestDraw]);

  // ------------------------------------------------------------------ commands

  const commitNew = useCallback((obj: AnyObject) => {
    const p = propsRef.current;
    p.onEdit((objs) => [...objs, obj]);
    p.onSelect(obj.id);
  }, []);

  const baseFor = (l: LabelDef) => ({ label: l.name, userId: propsRef.current.userId, attributes: defaultAttributeValues(l) });

  const finishClicks = useCallback(() => {
    const d = draftRef.current;
    const p = propsRef.current;
    if (!d || d.t !== 'clicks' || !p.label) return;
    const v = p.view;
    const tol = 2 / Math.max(1e-6, v.camera.zoom);
    const pts = dedupePoints(d.pts, tol);
    // closing on the first vertex: drop a repeated last point
    if (pts.length > 1 && dist(pts[0]!, pts[pts.length - 1]!) < tol) pts.pop();
    const need = d.tool === 'polyline' ? 2 : 3;
    if (pts.length < need) {
      setHint(`A ${d.tool === 'polyline' ? 'polyline' : 'polygon'} needs at least ${need} points`);
      return;
    }
    draftRef.current = null;
    const b = { label: p.label.name, userId: p.userId, attributes: defaultAttributeValues(p.label) };
    const pl = place();
    if (d.tool === 'polygon') commitNew(createPolygon(b, pl, pts));
    else if (d.tool === 'polyline') commitNew(createPolyline(b, pl, pts));
    else commitNew(createMeasurement(b, 'area', pts.map((q) => storedPointNow(q)), p.affine, pl));
    requestDraw();
  }, [commitNew, requestDraw]);

  function storedPointNow(pt: Pt): number[] {
    const p = propsRef.current;
    return usesVoxelSpace(p.planeField) ? p.view.planeToVoxel(pt[0], pt[1], p.view.slice) : [pt[0], pt[1]];
  }

  const cancel = useCallback(() => {
    const d = draftRef.current;
    // A cancelled drag puts the object back (same coalesce key: the drag leaves no undo step).
    if (d && (d.t === 'move' || d.t === 'vertex')) propsRef.current.onEdit((objs) => replaceObject(objs, d.original), d.key);
    draftRef.current = null;
    setHint(null);
    requestDraw();
  }, [requestDraw]);

  const deleteSelected = useCallback(() => {
    const p = propsRef.current;
    const id = p.selectedId;
    if (!id) return;
    if (p.locked.has(id)) {
      setHint('The object is locked');
      return;
    }
    p.onEdit((objs) => removeObject(objs, id));
    p.onSelect(null);
  }, []);

  const handleKey = useCallback(
    (key: string): boolean => {
      const d = draftRef.current;
      if (key === 'Escape') {
        if (d) {
          cancel();
          return true;
        }
        if (propsRef.current.selectedId) {
          propsRef.current.onSelect(null);
          return true;
        }
        return false;
      }
      if (key === 'Enter' && d?.t === 'clicks') {
        finishClicks();
        return true;
      }
      if (key === 'Backspace' && d?.t === 'clicks') {
        d.pts.pop();
        if (d.pts.length === 0) draftRef.current = null;
        requestDraw();
        return true;
      }
      if ((key === 'Delete' || key === 'Backspace') && !d && propsRef.current.selectedId) {
        deleteSelected();
        return true;
      }
      return false;
    },
    [cancel, finishClicks, deleteSelected, requestDraw],
  );

  useImperativeHandle(ref, () => ({ cancel, finish: finishClicks, deleteSelected, handleKey }), [cancel, finishClicks, deleteSelected, handleKey]);

  // ------------------------------------------------------------------ pointer

  const local = (e: { clientX: number; clientY: number }): Pt => {
    const r = canvasRef.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  };

  const onPointerDown = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0) return;
    const p = propsRef.current;
    const v = p.view;
    const s = local(e);
    const pt = clampToPlane(v.toPlane(s[0], s[1]), v.mapping);
    const consume = () => {
      e.stopPropagation();
      e.preventDefault();
      canvasRef.current?.focus();
    };

    if (p.tool === 'select') {
      const hit = hitTest(onViewRef.current, v, s[0], s[1], { selectedId: p.selectedId, geometry: (o) => geom(o, v) });
      if (!hit) {
        if (p.selectedId) p.onSelect(null);
        return;
      }
      consume();
      p.onSelect(hit.id);
      const obj = onViewRef.current.find((o) => o.id === hit.id);
      if (!obj || p.locked.has(hit.id)) {
        if (obj) setHint('The object is locked');
        return;
      }
      const key = `${hit.part === 'vertex' ? 'vertex' : 'move'}:${hit.id}:${++dragSerial}`;
      draftRef.current =
        hit.part === 'vertex' && hit.index !== undefined && obj.kind !== 'mask'
          ? { t: 'vertex', id: hit.id, original: obj, index: hit.index, key }
          : { t: 'move', id: hit.id, original: obj, start: v.toPlane(s[0], s[1]), key };
      e.currentTarget.setPointerCapture(e.pointerId);
      return;
    }

    const refusal = toolRefusal(p.tool, p.label, v.native);
    if (refusal || !p.label) {
      consume();
      setHint(refusal ?? 'Choose a label first');
      return;
    }
    consume();
    setHint(null);
    const l = p.label;
    const d = draftRef.current;
    switch (p.tool) {
      case 'box':
      case 'ellipse':
      case 'ellipse-roi':
        draftRef.current = { t: 'drag', tool: p.tool, a: pt, b: pt };
        e.currentTarget.setPointerCapture(e.pointerId);
        break;
      case 'polygon':
      case 'polyline':
      case 'area-roi': {
        if (d?.t === 'clicks' && d.tool === p.tool) {
          const first = d.pts[0];
          if (p.tool !== 'polyline' && first && d.pts.length >= 3 && dist(v.toScreen(first[0], first[1]), s) <= HIT_TOLERANCE) {
            finishClicks();
            return;
          }
          const last = d.pts[d.pts.length - 1];
          if (!last || dist(v.toScreen(last[0], last[1]), s) > 2) d.pts.push(pt);
        } else draftRef.current = { t: 'clicks', tool: p.tool, pts: [pt], hover: pt };
        break;
      }
      case 'freehand':
        draftRef.current = { t: 'freehand', screen: [s] };
        e.currentTarget.setPointerCapture(e.pointerId);
        break;
      case 'length':
      case 'angle':
      case 'bidirectional': {
        if (d?.t === 'measure' && d.tool === p.tool) {
          const last = d.pts[d.pts.length - 1];
          if (!last || dist(v.toScreen(last[0], last[1]), s) > 2) d.pts.push(pt);
          d.down = s;
          if (!completeMeasure(d)) e.currentTarget.setPointerCapture(e.pointerId);
        } else {
          draftRef.current = { t: 'measure', tool: p.tool, pts: [pt], hover: pt, down: s };
          e.currentTarget.setPointerCapture(e.pointerId);
        }
        break;
      }
      case 'points': {
        const pl = place();
        const idx = pl.field ? pl.index : undefined;
        const fits = (o: AnyObject | undefined): o is AnyObject => !!o && o.kind === 'points' && o.label === l.name && planeIndexOf(o) === idx && !p.locked.has(o.id);
        const sel = p.objects.find((o) => o.id === p.selectedId);
        const prev = p.objects.find((o) => o.id === pointsTargetRef.current);
        const target = fits(sel) ? sel : fits(prev) ? prev : undefined;
        if (target) {
          const id = target.id;
          const now = new Date().toISOString();
          p.onEdit((objs) => objs.map((o) => (o.id === id ? { ...o, points: [...(o.points as Pt[]), pt], updatedAt: now } : o)));
          p.onSelect(id);
        } else {
          const obj = createPoints(baseFor(l), pl, [pt]);
          pointsTargetRef.current = obj.id;
          commitNew(obj);
        }
        break;
      }
      case 'landmark': {
        const vox = voxel();
        const pl = place();
        const existing = findLandmarks(p.objects, l.name, vox, pl);
        if (existing && p.locked.has(existing.id)) {
          setHint('The landmarks object is locked');
          break;
        }
        const name = nextLandmarkName(existing, landmarkSet(p));
        if (name === null) {
          setHint(`All landmarks of "${l.name}" are placed`);
          break;
        }
        let lm: Landmark;
        if (vox) {
          const [i, j, k] = v.planeToVoxel(pt[0], pt[1], v.slice);
          lm = { name, i, j, k };
        } else lm = { name, x: pt[0], y: pt[1] };
        if (existing) {
          const id = existing.id;
          const now = new Date().toISOString();
          p.onEdit((objs) => objs.map((o) => (o.id === id ? { ...o, points: [...(o.points as Landmark[]), lm], updatedAt: now } : o)));
          p.onSelect(id);
        } else commitNew(createLandmarks(baseFor(l), [lm], pl));
        break;
      }
      case 'mask-brush':
      case 'mask-eraser': {
        const pl = place();
        const width = v.mapping.width;
        const height = v.mapping.height;
        const existing = findMask(p.objects, l.name, pl);
        if (existing && p.locked.has(existing.id)) {
          setHint('The mask is locked');
          break;
        }
        if (p.tool === 'mask-eraser' && !existing) {
          setHint(`No "${l.name}" mask on this ${pl.field ?? 'image'} to erase`);
          break;
        }
        const bitmap = workingBitmap(width, height, existing?.rle as MaskRle | undefined);
        const erase = p.tool === 'mask-eraser';
        const r = p.brushRadius ?? 5;
        paintDisc(bitmap, width, height, pt[0], pt[1], r, erase ? 0 : 1);
        const bc = new BrushCanvas(bitmap, width, height, l.color || DEFAULT_COLOR);
        draftRef.current = { t: 'brush', erase, bitmap, last: pt, existing, view: bc, width, height, place: pl, label: l };
        e.currentTarget.setPointerCapture(e.pointerId);
        break;
      }
      default:
        break;
    }
    requestDraw();
  };

  /** Finish a measurement once it has its points; true when done. */
  function completeMeasure(d: Extract<Draft, { t: 'measure' }>): boolean {
    const p = propsRef.current;
    if (d.pts.length < NEEDED[d.tool] || !p.label) return false;
    draftRef.current = null;
    const pts = d.pts.slice(0, NEEDED[d.tool]).map(storedPointNow);
    commitNew(createMeasurement(baseFor(p.label), d.tool, pts, p.affine, place()));
    requestDraw();
    return true;
  }

  const onPointerMove = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    const p = propsRef.current;
    const v = p.view;
    const s = local(e);
    const raw = v.toPlane(s[0], s[1]);
    const pt = clampToPlane(raw, v.mapping);
    hoverRef.current = pt;
    const d = draftRef.current;
    if (!d) {
      if (p.tool === 'mask-brush' || p.tool === 'mask-eraser') requestDraw();
      return;
    }
    const ctx = { view: v, affine: p.affine };
    switch (d.t) {
      case 'drag':
        d.b = pt;
        break;
      case 'clicks':
      case 'measure':
        d.hover = pt;
        break;
      case 'freehand': {
        const last = d.screen[d.screen.length - 1];
        if (!last || dist(last, s) >= 1) d.screen.push(s);
        break;
      }
      case 'brush': {
        const r = p.brushRadius ?? 5;
        paintSegment(d.bitmap, d.width, d.height, d.last, pt, r, d.erase ? 0 : 1);
        d.view.update(Math.min(d.last[0], pt[0]) - r - 1, Math.min(d.last[1], pt[1]) - r - 1, Math.max(d.last[0], pt[0]) + r + 1, Math.max(d.last[1], pt[1]) + r + 1);
        d.last = pt;
        break;
      }
      case 'move': {
        const moved = moveObject(d.original, raw[0] - d.start[0], raw[1] - d.start[1], ctx);
        p.onEdit((objs) => replaceObject(objs, moved), d.key);
        break;
      }
      case 'vertex': {
        const moved = moveVertex(d.original, d.index, pt, ctx);
        p.onEdit((objs) => replaceObject(objs, moved), d.key);
        break;
      }
    }
    requestDraw();
  };

  const onPointerUp = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    if (e.button !== 0) return;
    const p = propsRef.current;
    const v = p.view;
    const d = draftRef.current;
    if (!d) return;
    const s = local(e);
    const pt = clampToPlane(v.toPlane(s[0], s[1]), v.mapping);
    if (e.currentTarget.hasPointerCapture(e.pointerId)) e.currentTarget.releasePointerCapture(e.pointerId);
    const l = p.label;
    switch (d.t) {
      case 'drag': {
        draftRef.current = null;
        const a = v.toScreen(d.a[0], d.a[1]);
        const b = v.toScreen(pt[0], pt[1]);
        if (!l || Math.abs(a[0] - b[0]) < MIN_DRAG || Math.abs(a[1] - b[1]) < MIN_DRAG) break;
        const base = baseFor(l);
        if (d.tool === 'box') commitNew(createBox(base, place(), boxFromCorners(d.a, pt)));
        else if (d.tool === 'ellipse') commitNew(createEllipse(base, place(), ellipseFromCorners(d.a, pt)));
        else commitNew(createMeasurement(base, 'area', ellipseOutline(ellipseFromCorners(d.a, pt)).map(storedPointNow), p.affine, place()));
        break;
      }
      case 'freehand': {
        draftRef.current = null;
        if (!l) break;
        const simplified = simplifyRdp(d.screen, 0.5).map((q) => clampToPlane(v.toPlane(q[0], q[1]), v.mapping));
        const pts = dedupePoints(simplified, 1e-6);
        if (pts.length < 3) {
          setHint('Drag around the region to draw a freehand polygon');
          break;
        }
        commitNew(createPolygon(baseFor(l), place(), pts));
        break;
      }
      case 'measure': {
        if (d.down && dist(d.down, s) > MIN_DRAG) {
          d.pts.push(pt);
          completeMeasure(d);
        }
        d.down = null;
        break;
      }
      case 'brush': {
        draftRef.current = null;
        const rle = encodeBitmap(d.bitmap, d.width, d.height);
        const existing = d.existing;
        const make = () => createMask(baseFor(d.label), d.place, rle);
        p.onEdit((objs) => applyMask(objs, existing ? objs.find((o) => o.id === existing.id) : undefined, rle, make));
        break;
      }
      case 'move':
      case 'vertex':
        draftRef.current = null;
        break;
      default:
        break;
    }
    requestDraw();
  };

  const onDoubleClick = (e: ReactMouseEvent<HTMLCanvasElement>) => {
    if (draftRef.current?.t === 'clicks') {
      e.stopPropagation();
      finishClicks();
    }
  };

  const onKeyDown = (e: ReactKeyboardEvent<HTMLCanvasElement>) => {
    if (handleKey(e.key)) {
      e.preventDefault();
      e.stopPropagation();
    }
  };

  const onPointerLeave = () => {
    hoverRef.current = null;
    requestDraw();
  };

  const nextName =
    tool === 'landmark' && label
      ? nextLandmarkName(findLandmarks(objects, label.name, usesVoxelSpace(props.planeField), { field: props.planeField, index: view.slice }), landmarkSet(props))
      : undefined;
  const message = hint ?? (nextName !== undefined ? (nextName === null ? `All landmarks of "${label?.name}" are placed` : `Next landmark: ${nextName}`) : null);

  return (
    <>
      <canvas
        ref={canvasRef}
        className="tool-layer"
        tabIndex={0}
        aria-label="Annotation layer"
        style={{ position: 'absolute', inset: 0, width: '100%', height: '100%', cursor: tool === 'select' ? 'default' : 'crosshair', touchAction: 'none' }}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={cancel}
        onPointerLeave={onPointerLeave}
        onDoubleClick={onDoubleClick}
        onKeyDown={onKeyDown}
      />
      {message && (
        <div className="tool-hint" role="status">
          {message}
        </div>
      )}
    </>
  );
}

/** The landmark names to place: the prop, else the label schema's set on the active label. */
function landmarkSet(p: ToolLayerProps): readonly string[] | undefined {
  if (p.landmarkNames) return p.landmarkNames;
  const fromSchema = (p.label as (LabelDef & { landmarks?: unknown }) | null)?.landmarks;
  return Array.isArray(fromSchema) ? fromSchema.filter((n): n is string => typeof n === 'string') : undefined;
}

/** Rubber-band shapes of the drawing in progress, in plane space (transform already set). */
function drawDraftPlane(ctx: CanvasRenderingContext2D, d: Draft | null, color: string, zoom: number): void {
  if (!d) return;
  ctx.strokeStyle = color;
  ctx.setLineDash([6 / zoom, 4 / zoom]);
  if (d.t === 'drag') {
    ctx.beginPath();
    if (d.tool === 'box') {
      const b = boxFromCorners(d.a, d.b);
      ctx.rect(b.x, b.y, b.width, b.height);
    } else {
      const e = ellipseFromCorners(d.a, d.b);
      if (e.rx > 0 && e.ry > 0) ctx.ellipse(e.cx, e.cy, e.rx, e.ry, 0, 0, 2 * Math.PI);
    }
    ctx.stroke();
  } else if (d.t === 'clicks' || d.t === 'measure') {
    const pts = d.hover ? [...d.pts, d.hover] : d.pts;
    ctx.beginPath();
    if (d.t === 'measure' && d.tool === 'bidirectional' && pts.length > 2) {
      ctx.moveTo(pts[0]![0], pts[0]![1]);
      ctx.lineTo(pts[1]![0], pts[1]![1]);
      ctx.moveTo(pts[2]![0], pts[2]![1]);
      if (pts[3]) ctx.lineTo(pts[3][0], pts[3][1]);
    } else {
      pts.forEach((q, i) => (i === 0 ? ctx.moveTo(q[0], q[1]) : ctx.lineTo(q[0], q[1])));
      if (d.t === 'clicks' && d.tool !== 'polyline' && pts.length > 2) ctx.closePath();
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
}
