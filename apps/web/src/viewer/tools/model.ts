// Pure model of the 2D annotation tools: tool ids, object factories, which objects show on a
// view, geometry in plane coordinates, hit testing in screen pixels, immutable edits
// (move, vertex edit, copy to slice, z-order) and measurement values.
//
// Coordinates (DESIGN.md): 2D shapes (box, ellipse, polygon, polyline, points, mask, pixel
// landmarks, 2D measurements) are image pixel coordinates of the acquisition plane with a
// `slice` (volumes) or `frame` (cines). On volumes (`field === 'slice'`) measurements and
// landmarks are voxel indices [i, j, k] so that they show in every MPR view.

import type { AnyObject, AttributeValue, LabelDef } from '../../types';
import type { ViewTransform } from '../types';
import { uuid } from '../../workspace/tags';
import { isEmptyRle, rleValueAt, shiftRle, type MaskRle } from './mask';
import { measure, orderBidirectional, type Affine, type MeasurementType, type Pt } from './measure';

export type { Affine, Pt };

export const TOOL_IDS = [
  'select', 'box', 'ellipse', 'polygon', 'freehand', 'polyline', 'points', 'mask-brush', 'mask-eraser',
  'length', 'angle', 'bidirectional', 'area-roi', 'ellipse-roi', 'landmark',
] as const;
export type ToolId = (typeof TOOL_IDS)[number];

/** The object kind each tool creates (null: the select tool creates nothing). */
export const TOOL_KIND: Record<ToolId, string | null> = {
  select: null,
  box: 'box',
  ellipse: 'ellipse',
  polygon: 'polygon',
  freehand: 'polygon',
  polyline: 'polyline',
  points: 'points',
  'mask-brush': 'mask',
  'mask-eraser': 'mask',
  length: 'measurement',
  angle: 'measurement',
  bidirectional: 'measurement',
  'area-roi': 'measurement',
  'ellipse-roi': 'measurement',
  landmark: 'landmarks',
};

/** Tools whose result is a 2D shape on the acquisition plane. */
export const SHAPE_TOOLS: ReadonlySet<ToolId> = new Set<ToolId>(['box', 'ellipse', 'polygon', 'freehand', 'polyline', 'points', 'mask-brush', 'mask-eraser']);

/** Which field names the plane of a 2D shape: `slice` (volumes, stacks), `frame` (cines) or none (one image). */
export type PlaneField = 'slice' | 'frame' | null;

/** Measurements and landmarks live in voxel index space on volumes and stacks. */
export function usesVoxelSpace(field: PlaneField): boolean {
  return field === 'slice';
}

/** Why the tool cannot draw now (a hint for the user), or null when it can. */
export function toolRefusal(tool: ToolId, label: Pick<LabelDef, 'name' | 'kinds'> | null, native: boolean): string | null {
  const kind = TOOL_KIND[tool];
  if (kind === null) return null;
  if (!label) return 'Choose a label first';
  if (!(label.kinds ?? []).includes(kind)) return `Label "${label.name}" does not allow ${kind} objects`;
  if (SHAPE_TOOLS.has(tool) && !native) return '2D shapes are drawn on the acquisition plane';
  return null;
}

// ------------------------------------------------------------------ factories

export interface ObjectBase {
  label: string;
  userId: string;
  attributes?: Record<string, AttributeValue>;
  /** Defaults to a random UUID. */
  id?: string;
  /** ISO timestamp; defaults to now. */
  now?: string;
}

/** Where a 2D shape lives: the plane field and the slice/frame index. */
export interface Place {
  field: PlaneField;
  index: number;
}

function common(kind: string, base: ObjectBase): AnyObject {
  const now = base.now ?? new Date().toISOString();
  return {
    id: base.id ?? uuid(),
    kind,
    label: base.label,
    attributes: { ...(base.attributes ?? {}) },
    source: 'manual',
    createdBy: base.userId,
    createdAt: now,
    updatedAt: now,
  };
}

function placeFields(place: Place | null): { slice?: number; frame?: number } {
  if (!place || place.field === null) return {};
  return place.field === 'slice' ? { slice: Math.round(place.index) } : { frame: Math.round(place.index) };
}

export interface BoxGeometry {
  x: number;
  y: number;
  width: number;
  height: number;
}
export interface EllipseGeometry {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  rotation?: number;
}
export interface VoxelLandmark {
  name: string;
  i: number;
  j: number;
  k: number;
}
export interface PixelLandmark {
  name: string;
  x: number;
  y: number;
}
export type Landmark = VoxelLandmark | PixelLandmark;

export function createBox(base: ObjectBase, place: Place, g: BoxGeometry): AnyObject {
  return { ...common('box', base), x: g.x, y: g.y, width: g.width, height: g.height, ...placeFields(place) };
}

/** Box from two corners in any order. */
export function boxFromCorners(a: Pt, b: Pt): BoxGeometry {
  return { x: Math.min(a[0], b[0]), y: Math.min(a[1], b[1]), width: Math.abs(b[0] - a[0]), height: Math.abs(b[1] - a[1]) };
}

export function createEllipse(base: ObjectBase, place: Place, g: EllipseGeometry): AnyObject {
  const rotation = g.rotation ? { rotation: g.rotation } : {};
  return { ...common('ellipse', base), cx: g.cx, cy: g.cy, rx: g.rx, ry: g.ry, ...rotation, ...placeFields(place) };
}

/** Axis-aligned ellipse inscribed in the box spanned by two corners. */
export function ellipseFromCorners(a: Pt, b: Pt): EllipseGeometry {
  return { cx: (a[0] + b[0]) / 2, cy: (a[1] + b[1]) / 2, rx: Math.abs(b[0] - a[0]) / 2, ry: Math.abs(b[1] - a[1]) / 2 };
}

export function createPolygon(base: ObjectBase, place: Place, points: Pt[]): AnyObject {
  return { ...common('polygon', base), points: points.map(copyPt), ...placeFields(place) };
}

export function createPolyline(base: ObjectBase, place: Place, points: Pt[]): AnyObject {
  return { ...common('polyline', base), points: points.map(copyPt), ...placeFields(place) };
}

export function createPoints(base: ObjectBase, place: Place, points: Pt[]): AnyObject {
  return { ...common('points', base), points: points.map(copyPt), ...placeFields(place) };
}

export function createMask(base: ObjectBase, place: Place, rle: MaskRle): AnyObject {
  return { ...common('mask', base), rle: { size: [rle.size[0], rle.size[1]], counts: [...rle.counts] }, ...placeFields(place) };
}

/** Voxel landmarks carry their own k (no place); pixel landmarks need the plane. */
export function createLandmarks(base: ObjectBase, points: Landmark[], place: Place | null): AnyObject {
  const voxel = points.length > 0 && 'k' in points[0]!;
  return { ...common('landmarks', base), points: points.map((p) => ({ ...p })), ...(voxel ? {} : placeFields(place)) };
}

/**
 * A measurement with its value computed from the points: voxel points [i, j, k] (no place) or
 * image pixels [x, y] on `place`. With an affine the value is in mm / mm² / degrees, without
 * one in px / px².
 */
export function createMeasurement(
  base: ObjectBase,
  type: MeasurementType,
  points: number[][],
  affine: Affine | null,
  place: Place | null,
): AnyObject {
  const pts = type === 'bidirectional' ? orderBidirectional(points, affine) : points;
  const m = measure(type, pts, affine);
  const voxel = pts[0]?.length === 3;
  return {
    ...common('measurement', base),
    type,
    points: pts.map((p) => [...p]),
    value: m.value,
    unit: m.unit,
    ...(m.shortAxis !== undefined ? { shortAxis: m.shortAxis } : {}),
    ...(voxel ? {} : placeFields(place)),
  };
}

/** The measurement with value/unit/shortAxis recomputed from its (edited) points. */
export function remeasure(obj: AnyObject, affine: Affine | null): AnyObject {
  if (obj.kind !== 'measurement') return obj;
  const type = obj.type as MeasurementType;
  if (!['length', 'angle', 'area', 'bidirectional'].includes(type)) return obj;
  let points = obj.points as number[][];
  if (type === 'bidirectional') points = orderBidirectional(points, affine);
  const m = measure(type, points, affine);
  const next: AnyObject = { ...obj, points, value: m.value, unit: m.unit };
  if (m.shortAxis !== undefined) next.shortAxis = m.shortAxis;
  else delete next.shortAxis;
  return next;
}

/**
 * Outline points of an ellipse (plane coordinates) for an ellipse ROI: `n` vertices on an
 * ellipse scaled so that the polygon's area equals the drawn ellipse's area (πab), which keeps
 * the stored value consistent with the stored points.
 */
export function ellipseOutline(e: EllipseGeometry, n = 64): Pt[] {
  const s = Math.sqrt((2 * Math.PI) / (n * Math.sin((2 * Math.PI) / n)));
  const rot = e.rotation ?? 0;
  const cr = Math.cos(rot);
  const sr = Math.sin(rot);
  const out: Pt[] = [];
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    const ex = e.rx * s * Math.cos(t);
    const ey = e.ry * s * Math.sin(t);
    out.push([e.cx + ex * cr - ey * sr, e.cy + ex * sr + ey * cr]);
  }
  return out;
}

// ------------------------------------------------------------------ visibility and plane geometry

/** What the pure functions need of a view; a `ViewTransform` satisfies it. */
export type ViewGeom = Pick<ViewTransform, 'mapping' | 'slice' | 'native' | 'toScreen' | 'toPlane' | 'planeToVoxel' | 'voxelToPlane'>;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const copyPt = (p: readonly number[]): Pt => [p[0] ?? 0, p[1] ?? 0];

/** The slice/frame a 2D object lives on (undefined: every plane, e.g. a single image). */
export function planeIndexOf(obj: AnyObject): number | undefined {
  return isNum(obj.slice) ? obj.slice : isNum(obj.frame) ? obj.frame : undefined;
}

function pointList(v: unknown): number[][] {
  return Array.isArray(v) ? (v.filter((p) => Array.isArray(p)) as number[][]) : [];
}

function landmarkList(v: unknown): Landmark[] {
  return Array.isArray(v) ? (v.filter((p) => p && typeof p === 'object') as Landmark[]) : [];
}

/** Objects positioned in voxel space (voxel landmarks, 3D measurements) rather than on one plane. */
export function isVoxelObject(obj: AnyObject): boolean {
  if (obj.kind === 'landmarks') {
    const first = landmarkList(obj.points)[0];
    return first !== undefined && 'k' in first;
  }
  if (obj.kind === 'measurement') return pointList(obj.points)[0]?.length === 3;
  return false;
}

const DRAWABLE = new Set(['box', 'ellipse', 'polygon', 'polyline', 'points', 'mask', 'landmarks', 'measurement']);
/** Within half a slice (a little slack for rounding of reformatted coordinates). */
const HALF = 0.5 + 1e-6;

function onThisSlice(view: Pick<ViewGeom, 'slice' | 'voxelToPlane'>, p: readonly number[]): boolean {
  return Math.abs(view.voxelToPlane(p[0] ?? 0, p[1] ?? 0, p[2] ?? 0).slice - view.slice) <= HALF;
}

/**
 * Whether an object shows on a view: 2D shapes only on the acquisition (native) view at their
 * slice/frame; voxel landmarks when one of them lies within half a slice; 3D measurements when
 * all their points do.
 */
export function isOnView(obj: AnyObject, view: Pick<ViewGeom, 'slice' | 'native' | 'voxelToPlane'>): boolean {
  if (!DRAWABLE.has(obj.kind)) return false;
  if (obj.kind === 'landmarks' && isVoxelObject(obj)) {
    return landmarkList(obj.points).some((p) => 'k' in p && onThisSlice(view, [p.i, p.j, p.k]));
  }
  if (obj.kind === 'measurement' && isVoxelObject(obj)) {
    const pts = pointList(obj.points);
    return pts.length > 0 && pts.every((p) => onThisSlice(view, p));
  }
  if (!view.native) return false;
  const idx = planeIndexOf(obj);
  return idx === undefined || idx === view.slice;
}

/** The objects drawn on this view, in document (z) order. */
export function objectsOnView(objects: readonly AnyObject[], view: Pick<ViewGeom, 'slice' | 'native' | 'voxelToPlane'>): AnyObject[] {
  return objects.filter((o) => isOnView(o, view));
}

export interface Handle {
  p: Pt;
  /** Index of the editable point in the object (vertex, landmark, corner, axis end). */
  index: number;
}

export interface Outline {
  pts: Pt[];
  closed: boolean;
}

export interface Bounds {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** An object as drawn on one view, in plane coordinates. */
export interface PlaneGeom {
  outlines: Outline[];
  ellipses: EllipseGeometry[];
  /** Point markers (points, landmarks) with the index of each in the object. */
  markers: Handle[];
  /** Landmark names, parallel to markers. */
  names: string[];
  mask: MaskRle | null;
  /** Editable vertices. */
  handles: Handle[];
  /** Whether the shape has an interior that can be hit. */
  closed: boolean;
  /** Where to draw the measurement text. */
  anchor: Pt | null;
  bounds: Bounds | null;
}

function boundsOf(pts: Pt[], extra: Bounds | null = null): Bounds | null {
  let b = extra ? { ...extra } : null;
  for (const [x, y] of pts) {
    if (!b) b = { minX: x, minY: y, maxX: x, maxY: y };
    else {
      if (x < b.minX) b.minX = x;
      if (y < b.minY) b.minY = y;
      if (x > b.maxX) b.maxX = x;
      if (y > b.maxY) b.maxY = y;
    }
  }
  return b;
}

export function ellipseAxisEnds(e: EllipseGeometry): [Pt, Pt, Pt, Pt] {
  const r = e.rotation ?? 0;
  const ux = Math.cos(r);
  const uy = Math.sin(r);
  return [
    [e.cx + e.rx * ux, e.cy + e.rx * uy],
    [e.cx - e.ry * uy, e.cy + e.ry * ux],
    [e.cx - e.rx * ux, e.cy - e.rx * uy],
    [e.cx + e.ry * uy, e.cy - e.ry * ux],
  ];
}

function emptyGeom(): PlaneGeom {
  return { outlines: [], ellipses: [], markers: [], names: [], mask: null, handles: [], closed: false, anchor: null, bounds: null };
}

/** Rightmost point, for placing text next to a shape. */
function rightmost(pts: Pt[]): Pt | null {
  let best: Pt | null = null;
  for (const p of pts) if (!best || p[0] > best[0]) best = p;
  return best;
}

/** Measurement/landmark point → plane coordinates on this view. */
function toPlanePt(view: Pick<ViewGeom, 'voxelToPlane'>, p: readonly number[]): Pt {
  if (p.length >= 3) {
    const q = view.voxelToPlane(p[0] ?? 0, p[1] ?? 0, p[2] ?? 0);
    return [q.x, q.y];
  }
  return copyPt(p);
}

/** A box object's corners, clockwise from its top-left (the order of its vertex handles). */
function boxCorners(obj: AnyObject): Pt[] {
  const x = Number(obj.x);
  const y = Number(obj.y);
  const w = Number(obj.width);
  const h = Number(obj.height);
  return [[x, y], [x + w, y], [x + w, y + h], [x, y + h]];
}

/** The object's drawable geometry on this view in plane coordinates (assumes `isOnView`). */
export function planeGeometry(obj: AnyObject, view: Pick<ViewGeom, 'slice' | 'voxelToPlane'>): PlaneGeom {
  const g = emptyGeom();
  switch (obj.kind) {
    case 'box': {
      const pts = boxCorners(obj);
      g.outlines.push({ pts, closed: true });
      g.handles = pts.map((p, index) => ({ p, index }));
      g.closed = true;
      g.anchor = [pts[1]![0], pts[1]![1]];
      g.bounds = boundsOf(pts);
      break;
    }
    case 'ellipse': {
      const e: EllipseGeometry = { cx: Number(obj.cx), cy: Number(obj.cy), rx: Number(obj.rx), ry: Number(obj.ry), rotation: isNum(obj.rotation) ? obj.rotation : 0 };
      g.ellipses.push(e);
      const ends = ellipseAxisEnds(e);
      g.handles = ends.map((p, index) => ({ p, index }));
      g.closed = true;
      const r = Math.max(e.rx, e.ry);
      g.bounds = { minX: e.cx - r, minY: e.cy - r, maxX: e.cx + r, maxY: e.cy + r };
      g.anchor = [e.cx + r, e.cy - r];
      break;
    }
    case 'polygon':
    case 'polyline': {
      const pts = pointList(obj.points).map(copyPt);
      const closed = obj.kind === 'polygon';
      g.outlines.push({ pts, closed });
      g.handles = pts.map((p, index) => ({ p, index }));
      g.closed = closed;
      g.anchor = rightmost(pts);
      g.bounds = boundsOf(pts);
      break;
    }
    case 'points': {
      const pts = pointList(obj.points).map(copyPt);
      g.markers = pts.map((p, index) => ({ p, index }));
      g.handles = g.markers;
      g.anchor = rightmost(pts);
      g.bounds = boundsOf(pts);
      break;
    }
    case 'landmarks': {
      landmarkList(obj.points).forEach((p, index) => {
        if ('k' in p) {
          if (!onThisSlice(view, [p.i, p.j, p.k])) return;
          g.markers.push({ p: toPlanePt(view, [p.i, p.j, p.k]), index });
        } else g.markers.push({ p: [p.x, p.y], index });
        g.names.push(p.name);
      });
      g.handles = g.markers;
      g.bounds = boundsOf(g.markers.map((m) => m.p));
      break;
    }
    case 'mask': {
      const rle = obj.rle as MaskRle;
      g.mask = rle;
      g.closed = true;
      g.bounds = { minX: 0, minY: 0, maxX: rle.size[1], maxY: rle.size[0] };
      break;
    }
    case 'measurement': {
      const pts = pointList(obj.points).map((p) => toPlanePt(view, p));
      g.handles = pts.map((p, index) => ({ p, index }));
      g.bounds = boundsOf(pts);
      if (obj.type === 'bidirectional' && pts.length === 4) {
        g.outlines.push({ pts: [pts[0]!, pts[1]!], closed: false }, { pts: [pts[2]!, pts[3]!], closed: false });
      } else if (obj.type === 'area') {
        g.outlines.push({ pts, closed: true });
        g.closed = true;
      } else g.outlines.push({ pts, closed: false });
      g.anchor = obj.type === 'angle' && pts[1] ? pts[1] : rightmost(pts);
      break;
    }
    default:
      break;
  }
  return g;
}

/**
 * Per-view cache of plane geometry keyed by object identity (objects are immutable: an edit
 * makes a new object). One cache per viewport, so MPR views do not evict each other.
 */
export function createGeometryCache(): (obj: AnyObject, view: Pick<ViewGeom, 'mapping' | 'slice' | 'voxelToPlane'>) => PlaneGeom {
  const cache = new WeakMap<AnyObject, { mapping: unknown; slice: number; geom: PlaneGeom }>();
  return (obj, view) => {
    const hit = cache.get(obj);
    if (hit && hit.mapping === view.mapping && hit.slice === view.slice) return hit.geom;
    const geom = planeGeometry(obj, view);
    cache.set(obj, { mapping: view.mapping, slice: view.slice, geom });
    return geom;
  };
}

// ------------------------------------------------------------------ hit testing (screen pixels)

export interface Hit {
  id: string;
  part: 'vertex' | 'edge' | 'body';
  /** Editable point index for `vertex`. */
  index?: number;
}

export const HIT_TOLERANCE = 6;

function distToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const l2 = dx * dx + dy * dy;
  let t = l2 === 0 ? 0 : ((px - ax) * dx + (py - ay) * dy) / l2;
  t = Math.max(0, Math.min(1, t));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

export function pointInPolygon(x: number, y: number, pts: readonly (readonly number[])[]): boolean {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const xi = pts[i]![0]!;
    const yi = pts[i]![1]!;
    const xj = pts[j]![0]!;
    const yj = pts[j]![1]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function ellipsePoints(e: EllipseGeometry, n: number): Pt[] {
  const r = e.rotation ?? 0;
  const c = Math.cos(r);
  const s = Math.sin(r);
  const out: Pt[] = [];
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    const ex = e.rx * Math.cos(t);
    const ey = e.ry * Math.sin(t);
    out.push([e.cx + ex * c - ey * s, e.cy + ex * s + ey * c]);
  }
  return out;
}

/** Hit test one object's geometry at screen point (sx, sy). */
export function hitGeometry(geom: PlaneGeom, view: Pick<ViewGeom, 'toScreen' | 'toPlane'>, sx: number, sy: number, tol = HIT_TOLERANCE): Omit<Hit, 'id'> | null {
  const scr = (p: Pt): Pt => view.toScreen(p[0], p[1]);
  let best: { d: number; index: number } | null = null;
  for (const h of geom.handles) {
    const [hx, hy] = scr(h.p);
    const d = Math.hypot(hx - sx, hy - sy);
    if (d <= tol && (!best || d < best.d)) best = { d, index: h.index };
  }
  if (best) return { part: 'vertex', index: best.index };
  const screenOutlines: Outline[] = geom.outlines.map((o) => ({ pts: o.pts.map(scr), closed: o.closed }));
  for (const e of geom.ellipses) screenOutlines.push({ pts: ellipsePoints(e, 72).map(scr), closed: true });
  for (const o of screenOutlines) {
    const n = o.pts.length;
    const segs = o.closed ? n : n - 1;
    for (let i = 0; i < segs; i++) {
      const a = o.pts[i]!;
      const b = o.pts[(i + 1) % n]!;
      if (distToSegment(sx, sy, a[0], a[1], b[0], b[1]) <= tol) return { part: 'edge' };
    }
  }
  if (geom.closed) {
    for (const o of screenOutlines) if (o.closed && o.pts.length >= 3 && pointInPolygon(sx, sy, o.pts)) return { part: 'body' };
    if (geom.mask) {
      const [px, py] = view.toPlane(sx, sy);
      if (rleValueAt(geom.mask, Math.floor(px), Math.floor(py))) return { part: 'body' };
    }
  }
  return null;
}

/**
 * The topmost object under screen point (sx, sy): the selected object's vertex handles first,
 * then objects from the end of the list (drawn last = on top). `objects` are those on the view
 * in document order; `zoom` (screen px per plane px) lets far objects be skipped by bounds.
 */
export function hitTest(
  objects: readonly AnyObject[],
  view: ViewGeom & { camera?: { zoom: number } },
  sx: number,
  sy: number,
  opts: { tolerance?: number; selectedId?: string | null; geometry?: (o: AnyObject) => PlaneGeom } = {},
): Hit | null {
  const tol = opts.tolerance ?? HIT_TOLERANCE;
  const geomOf = opts.geometry ?? ((o: AnyObject) => planeGeometry(o, view));
  if (opts.selectedId) {
    const sel = objects.find((o) => o.id === opts.selectedId);
    if (sel) {
      const h = hitGeometry(geomOf(sel), view, sx, sy, tol);
      if (h?.part === 'vertex') return { id: sel.id, ...h };
    }
  }
  const [px, py] = view.toPlane(sx, sy);
  // Bounds prefilter in plane units; generous so that anisotropic views stay correct.
  const margin = view.camera && view.camera.zoom > 0 ? (3 * tol) / view.camera.zoom : Infinity;
  for (let i = objects.length - 1; i >= 0; i--) {
    const o = objects[i]!;
    const g = geomOf(o);
    const b = g.bounds;
    if (b && Number.isFinite(margin) && (px < b.minX - margin || px > b.maxX + margin || py < b.minY - margin || py > b.maxY + margin)) continue;
    const h = hitGeometry(g, view, sx, sy, tol);
    if (h) return { id: o.id, ...h };
  }
  return null;
}

// ------------------------------------------------------------------ immutable edits

export interface EditContext {
  view: Pick<ViewGeom, 'planeToVoxel' | 'voxelToPlane'>;
  affine: Affine | null;
  /** ISO timestamp for updatedAt; defaults to now. */
  now?: string;
}

function touched(obj: AnyObject, ctx: EditContext, patch: Record<string, unknown>): AnyObject {
  return { ...obj, ...patch, updatedAt: ctx.now ?? new Date().toISOString() };
}

/** Move a voxel point by a plane delta, keeping its position along the view normal. */
function moveVoxel(ctx: EditContext, p: readonly number[], dx: number, dy: number): [number, number, number] {
  const q = ctx.view.voxelToPlane(p[0] ?? 0, p[1] ?? 0, p[2] ?? 0);
  return ctx.view.planeToVoxel(q.x + dx, q.y + dy, q.slice);
}

function voxelAt(ctx: EditContext, p: readonly number[], to: Pt): [number, number, number] {
  const q = ctx.view.voxelToPlane(p[0] ?? 0, p[1] ?? 0, p[2] ?? 0);
  return ctx.view.planeToVoxel(to[0], to[1], q.slice);
}

/** The object translated by (dx, dy) plane pixels (masks move by whole pixels). */
export function translateObject(obj: AnyObject, dx: number, dy: number, ctx: EditContext): AnyObject {
  switch (obj.kind) {
    case 'box':
      return touched(obj, ctx, { x: Number(obj.x) + dx, y: Number(obj.y) + dy });
    case 'ellipse':
      return touched(obj, ctx, { cx: Number(obj.cx) + dx, cy: Number(obj.cy) + dy });
    case 'polygon':
    case 'polyline':
    case 'points':
      return touched(obj, ctx, { points: pointList(obj.points).map((p) => [(p[0] ?? 0) + dx, (p[1] ?? 0) + dy]) });
    case 'mask': {
      const ix = Math.round(dx);
      const iy = Math.round(dy);
      if (ix === 0 && iy === 0) return obj;
      return touched(obj, ctx, { rle: shiftRle(obj.rle as MaskRle, ix, iy) });
    }
    case 'landmarks':
      return touched(obj, ctx, {
        points: landmarkList(obj.points).map((p) => {
          if ('k' in p) {
            const [i, j, k] = moveVoxel(ctx, [p.i, p.j, p.k], dx, dy);
            return { name: p.name, i, j, k };
          }
          return { name: p.name, x: p.x + dx, y: p.y + dy };
        }),
      });
    case 'measurement': {
      const points = pointList(obj.points).map((p) => (p.length >= 3 ? moveVoxel(ctx, p, dx, dy) : [(p[0] ?? 0) + dx, (p[1] ?? 0) + dy]));
      return touched(obj, ctx, { points });
    }
    default:
      return obj;
  }
}

/** The object with editable point `index` moved to plane point `to`. */
export function moveVertex(obj: AnyObject, index: number, to: Pt, ctx: EditContext): AnyObject {
  switch (obj.kind) {
    case 'box': {
      const corners = boxCorners(obj);
      const opposite = corners[(index + 2) % 4]!;
      const b = boxFromCorners(opposite, to);
      return touched(obj, ctx, { x: b.x, y: b.y, width: Math.max(b.width, 0.01), height: Math.max(b.height, 0.01) });
    }
    case 'ellipse': {
      const r = isNum(obj.rotation) ? obj.rotation : 0;
      const vx = to[0] - Number(obj.cx);
      const vy = to[1] - Number(obj.cy);
      if (index % 2 === 0) return touched(obj, ctx, { rx: Math.max(0.01, Math.abs(vx * Math.cos(r) + vy * Math.sin(r))) });
      return touched(obj, ctx, { ry: Math.max(0.01, Math.abs(-vx * Math.sin(r) + vy * Math.cos(r))) });
    }
    case 'polygon':
    case 'polyline':
    case 'points':
      return touched(obj, ctx, { points: pointList(obj.points).map((p, i) => (i === index ? [to[0], to[1]] : p)) });
    case 'landmarks':
      return touched(obj, ctx, {
        points: landmarkList(obj.points).map((p, i) => {
          if (i !== index) return p;
          if ('k' in p) {
            const [vi, vj, vk] = voxelAt(ctx, [p.i, p.j, p.k], to);
            return { name: p.name, i: vi, j: vj, k: vk };
          }
          return { name: p.name, x: to[0], y: to[1] };
        }),
      });
    case 'measurement': {
      const points = pointList(obj.points).map((p, i) => (i !== index ? p : p.length >= 3 ? voxelAt(ctx, p, to) : [to[0], to[1]]));
      return remeasure(touched(obj, ctx, { points }), ctx.affine);
    }
    default:
      return obj;
  }
}

/** `translateObject` followed by remeasuring (moving never changes a value, but keeps it exact). */
export function moveObject(obj: AnyObject, dx: number, dy: number, ctx: EditContext): AnyObject {
  const moved = translateObject(obj, dx, dy, ctx);
  return moved.kind === 'measurement' && moved !== obj ? remeasure(moved, ctx.affine) : moved;
}

/** Replace one object (by id) in the list; the list is new, other objects are kept as they are. */
export function replaceObject(objects: readonly AnyObject[], next: AnyObject): AnyObject[] {
  return objects.map((o) => (o.id === next.id ? next : o));
}

export function removeObject(objects: readonly AnyObject[], id: string): AnyObject[] {
  return objects.filter((o) => o.id !== id);
}

/** 2D shapes that sit on one slice or frame and can be copied to another. */
export function isPlaneShape(obj: AnyObject): boolean {
  return ['box', 'ellipse', 'polygon', 'polyline', 'points', 'mask'].includes(obj.kind) || (obj.kind === 'landmarks' && !isVoxelObject(obj)) || (obj.kind === 'measurement' && !isVoxelObject(obj));
}

/**
 * A copy of a 2D shape on another slice (or frame, whichever the object uses), with a new id
 * and timestamps; null for objects that are not on one slice/frame.
 */
export function copyToSlice(obj: AnyObject, slice: number, opts: { userId?: string; id?: string; now?: string } = {}): AnyObject | null {
  if (!isPlaneShape(obj)) return null;
  const field = isNum(obj.slice) ? 'slice' : isNum(obj.frame) ? 'frame' : null;
  if (field === null || slice < 0 || !Number.isInteger(slice)) return null;
  const now = opts.now ?? new Date().toISOString();
  const copy = structuredClone(obj);
  return { ...copy, id: opts.id ?? uuid(), [field]: slice, createdBy: opts.userId ?? String(obj.createdBy ?? ''), createdAt: now, updatedAt: now, source: 'manual' };
}

export type ZMove = 'front' | 'back' | 'forward' | 'backward';

/** Document order is z-order (later = drawn on top). Returns the same list if nothing moves. */
export function reorder(objects: readonly AnyObject[], id: string, how: ZMove): AnyObject[] {
  const i = objects.findIndex((o) => o.id === id);
  if (i < 0) return [...objects];
  const list = [...objects];
  const [obj] = list.splice(i, 1);
  const to = how === 'front' ? list.length : how === 'back' ? 0 : how === 'forward' ? Math.min(list.length, i + 1) : Math.max(0, i - 1);
  list.splice(to, 0, obj!);
  return list;
}

// ------------------------------------------------------------------ landmarks, points, masks on a plane

/** The label's landmarks object for this view: voxel landmarks (any slice) or pixel landmarks on `place`. */
export function findLandmarks(objects: readonly AnyObject[], label: string, voxel: boolean, place: Place | null): AnyObject | undefined {
  return objects.find((o) => {
    if (o.kind !== 'landmarks' || o.label !== label) return false;
    if (voxel) return isVoxelObject(o);
    return !isVoxelObject(o) && planeIndexOf(o) === (place && place.field ? place.index : undefined);
  });
}

/** The first name of the set not yet placed (null when all are placed); `P<n>` without a set. */
export function nextLandmarkName(existing: AnyObject | undefined, names: readonly string[] | undefined): string | null {
  const placed = new Set(landmarkList(existing?.points).map((p) => p.name));
  if (names && names.length > 0) return names.find((n) => !placed.has(n)) ?? null;
  let n = placed.size + 1;
  while (placed.has(`P${n}`)) n++;
  return `P${n}`;
}

/** The label's mask on this plane (a single 2D image has no slice/frame). */
export function findMask(objects: readonly AnyObject[], label: string, place: Place): AnyObject | undefined {
  const idx = place.field ? place.index : undefined;
  return objects.find((o) => o.kind === 'mask' && o.label === label && planeIndexOf(o) === idx);
}

/** Mask result of painting: replace, create, or remove an emptied mask. */
export function applyMask(objects: readonly AnyObject[], existing: AnyObject | undefined, rle: MaskRle, make: () => AnyObject, now?: string): AnyObject[] {
  if (existing) {
    if (isEmptyRle(rle)) return removeObject(objects, existing.id);
    return replaceObject(objects, { ...existing, rle, updatedAt: now ?? new Date().toISOString() });
  }
  if (isEmptyRle(rle)) return [...objects];
  return [...objects, make()];
}

// ------------------------------------------------------------------ freehand simplification

/** Ramer–Douglas–Peucker simplification of an open polyline (keeps first and last point). */
export function simplifyRdp(points: readonly Pt[], epsilon: number): Pt[] {
  if (points.length <= 2) return points.map(copyPt);
  const keep = new Uint8Array(points.length);
  keep[0] = 1;
  keep[points.length - 1] = 1;
  const stack: [number, number][] = [[0, points.length - 1]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    const [ax, ay] = points[a]!;
    const [bx, by] = points[b]!;
    let maxD = -1;
    let at = -1;
    for (let i = a + 1; i < b; i++) {
      const d = distToSegment(points[i]![0], points[i]![1], ax, ay, bx, by);
      if (d > maxD) {
        maxD = d;
        at = i;
      }
    }
    if (at >= 0 && maxD > epsilon) {
      keep[at] = 1;
      stack.push([a, at], [at, b]);
    }
  }
  return points.filter((_, i) => keep[i] === 1).map(copyPt);
}

/** Drop consecutive points closer than `minDist` (e.g. the two clicks of a double-click). */
export function dedupePoints(points: readonly Pt[], minDist: number): Pt[] {
  const out: Pt[] = [];
  for (const p of points) {
    const last = out[out.length - 1];
    if (!last || Math.hypot(p[0] - last[0], p[1] - last[1]) >= minDist) out.push(copyPt(p));
  }
  return out;
}

/** Clamp a plane point to the plane image. */
export function clampToPlane(p: Pt, mapping: { width: number; height: number }): Pt {
  return [Math.min(mapping.width, Math.max(0, p[0])), Math.min(mapping.height, Math.max(0, p[1]))];
}

// ------------------------------------------------------------------ object list helpers

/** The slice (or frame) to show an object on: its plane, else the (rounded) k of its first voxel point. */
export function jumpSliceOf(obj: AnyObject): number | undefined {
  const idx = planeIndexOf(obj);
  if (idx !== undefined) return idx;
  if (obj.kind === 'landmarks' && isVoxelObject(obj)) {
    const first = landmarkList(obj.points)[0];
    return first && 'k' in first ? Math.round(first.k) : undefined;
  }
  if (obj.kind === 'measurement' && isVoxelObject(obj)) {
    const first = pointList(obj.points)[0];
    return first ? Math.round(first[2] ?? 0) : undefined;
  }
  return undefined;
}

/** Kinds the imaging viewer lists and draws. */
export const VIEWER_KINDS: ReadonlySet<string> = DRAWABLE;

/** Move object `id` to just after (`above`: drawn on top of) or just before `targetId`. */
export function moveNextTo(objects: readonly AnyObject[], id: string, targetId: string, where: 'above' | 'below'): AnyObject[] {
  const obj = objects.find((o) => o.id === id);
  if (!obj || id === targetId || !objects.some((o) => o.id === targetId)) return [...objects];
  const list = objects.filter((o) => o.id !== id);
  const t = list.findIndex((o) => o.id === targetId);
  list.splice(where === 'above' ? t + 1 : t, 0, obj);
  return list;
}
