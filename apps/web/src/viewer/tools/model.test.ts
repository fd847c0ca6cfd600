import { describe, expect, it } from 'vitest';
import { annotationObjectSchema, decodeRle, encodeRle, validateDocument, type LabelSchema as CoreLabelSchema } from '@caliper/core';
import { planeMapping, planeToVoxel, voxelToPlane, type PlaneAxis } from '@caliper/core/mpr';
import type { AnyObject } from '../../types';
import {
  applyMask, boxFromCorners, copyToSlice, createBox, createEllipse, createLandmarks, createMask, createMeasurement, createPoints,
  createPolygon, createPolyline, dedupePoints, ellipseFromCorners, ellipseOutline, findLandmarks, hitTest, isOnView, moveObject,
  jumpSliceOf, moveNextTo, moveVertex, nextLandmarkName, objectsOnView, reorder, simplifyRdp, toolRefusal, type Pt, type ViewGeom,
} from './model';
import { areaOf, formatMeasured, formatStats, lengthOf, roiStats } from './measure';
import { paintDisc, paintSegment, rleValueAt, shiftRle } from './mask';

/** A view without rotation: screen = plane * zoom + offset. */
function makeView(opts: { dims?: [number, number, number]; affine?: number[][] | null; axis?: PlaneAxis; slice?: number; zoom?: number; ox?: number; oy?: number } = {}): ViewGeom & { camera: { zoom: number } } {
  const dims = opts.dims ?? [100, 80, 40];
  const mapping = planeMapping(dims, opts.affine ?? null, opts.axis ?? 'axial');
  const zoom = opts.zoom ?? 2;
  const ox = opts.ox ?? 10;
  const oy = opts.oy ?? 20;
  return {
    mapping,
    slice: opts.slice ?? 5,
    native: (opts.axis ?? 'axial') === 'axial',
    camera: { zoom },
    toScreen: (x, y) => [x * zoom + ox, y * zoom + oy],
    toPlane: (sx, sy) => [(sx - ox) / zoom, (sy - oy) / zoom],
    planeToVoxel: (x, y, s) => planeToVoxel(mapping, x, y, s ?? opts.slice ?? 5),
    voxelToPlane: (i, j, k) => voxelToPlane(mapping, i, j, k),
  };
}

const base = { label: 'Lesion', userId: 'u1', now: '2024-05-01T12:00:00.000Z' };
const slicePlace = { field: 'slice' as const, index: 5 };
const valid = (o: AnyObject): boolean => {
  const r = annotationObjectSchema.safeParse(o);
  if (!r.success) throw new Error(JSON.stringify(r.error.issues));
  return true;
};
// Anisotropic grid: 0.5 mm columns, 0.8 mm rows, 3 mm slices.
const aniso = [
  [0.5, 0, 0, -10],
  [0, 0.8, 0, 20],
  [0, 0, 3, 5],
  [0, 0, 0, 1],
];

describe('factories', () => {
  it('produce objects that pass core validation (structure and label schema)', () => {
    const rle = encodeRle(Uint8Array.from([0, 1, 1, 0, 0, 1]), 2, 3);
    const objects = [
      createBox(base, slicePlace, boxFromCorners([30, 20], [10, 5])),
      createEllipse(base, { field: 'frame', index: 3 }, ellipseFromCorners([0, 0], [10, 4])),
      createPolygon(base, slicePlace, [[1, 1], [5, 1], [3, 4]]),
      createPolyline(base, { field: null, index: 0 }, [[1, 1], [5, 1]]),
      createPoints(base, slicePlace, [[2, 2]]),
      createMask(base, slicePlace, rle),
      createLandmarks(base, [{ name: 'A', i: 1, j: 2, k: 3.5 }], slicePlace),
      createLandmarks(base, [{ name: 'A', x: 1, y: 2 }], { field: 'frame', index: 0 }),
      createMeasurement(base, 'length', [[0, 0, 5], [3, 4, 5]], aniso, slicePlace),
      createMeasurement(base, 'angle', [[1, 0], [0, 0], [0, 1]], null, { field: 'frame', index: 2 }),
      createMeasurement(base, 'bidirectional', [[0, 0, 1], [2, 0, 1], [1, -3, 1], [1, 3, 1]], aniso, null),
      createMeasurement(base, 'area', [[0, 0, 1], [4, 0, 1], [4, 4, 1]], aniso, null),
    ];
    for (const o of objects) expect(valid(o)).toBe(true);
    expect(objects[0]).toMatchObject({ kind: 'box', x: 10, y: 5, width: 20, height: 15, slice: 5, source: 'manual', createdBy: 'u1' });
    expect(objects[1]).toMatchObject({ frame: 3 });
    expect(objects[1]).not.toHaveProperty('slice');
    expect(objects[3]).not.toHaveProperty('slice');
    expect(objects[3]).not.toHaveProperty('frame');
    // voxel landmarks/measurements carry their own k: no slice even when a place is given
    expect(objects[6]).not.toHaveProperty('slice');
    expect(objects[8]).not.toHaveProperty('slice');
    expect(new Set(objects.map((o) => o.id)).size).toBe(objects.length);

    const labelSchema: CoreLabelSchema = {
      version: 1,
      labels: [{ name: 'Lesion', color: '#ff0000', kinds: ['box', 'ellipse', 'polygon', 'polyline', 'points', 'mask', 'landmarks', 'measurement'], attributes: [] }],
    };
    const res = validateDocument({ objects }, labelSchema);
    expect(res.ok).toBe(true);
  });

  it('bidirectional puts the longer axis first so shortAxis ≤ value', () => {
    const m = createMeasurement(base, 'bidirectional', [[0, 0, 1], [2, 0, 1], [1, -3, 1], [1, 3, 1]], null, null);
    expect(m.value).toBeCloseTo(6);
    expect(m.shortAxis).toBeCloseTo(2);
    expect((m.points as number[][])[0]).toEqual([1, -3, 1]);
    expect(valid(m)).toBe(true);
  });

  it('refuses tools without a label, with a label that does not allow the kind, and shapes off the acquisition plane', () => {
    const label = { name: 'Nodule', kinds: ['box', 'measurement'] };
    expect(toolRefusal('box', null, true)).toBe('Choose a label first');
    expect(toolRefusal('polygon', label, true)).toMatch(/does not allow polygon/);
    expect(toolRefusal('box', label, false)).toBe('2D shapes are drawn on the acquisition plane');
    expect(toolRefusal('length', label, false)).toBeNull();
    expect(toolRefusal('select', null, false)).toBeNull();
  });
});

describe('measurement values', () => {
  it('length on an anisotropic grid equals the hand-computed mm distance', () => {
    // Δi = 3 (1.5 mm), Δj = 4 (3.2 mm), Δk = 2 (6 mm) → sqrt(1.5² + 3.2² + 6²)
    expect(lengthOf([1, 1, 1], [4, 5, 3], aniso)).toBeCloseTo(Math.sqrt(1.5 ** 2 + 3.2 ** 2 + 36), 10);
    const m = createMeasurement(base, 'length', [[0, 0, 2], [10, 0, 2]], aniso, null);
    expect(m).toMatchObject({ value: 5, unit: 'mm', type: 'length' });
    // without geometry: pixels
    const px = createMeasurement(base, 'length', [[0, 0], [3, 4]], null, { field: null, index: 0 });
    expect(px).toMatchObject({ value: 5, unit: 'px' });
    expect(formatMeasured('length', { value: 23.44, unit: 'mm' })).toBe('23.4 mm');
  });

  it('polygon area in mm² on an anisotropic grid, and on a coronal plane', () => {
    // 10 x 10 voxel square on an axial slice: 10*0.5 mm x 10*0.8 mm = 40 mm²
    expect(areaOf([[0, 0, 3], [10, 0, 3], [10, 10, 3], [0, 10, 3]], aniso)).toBeCloseTo(40, 10);
    // a square in the i-k plane (coronal): 10 columns x 4 slices = 5 mm x 12 mm = 60 mm²
    expect(areaOf([[0, 7, 0], [10, 7, 0], [10, 7, 4], [0, 7, 4]], aniso)).toBeCloseTo(60, 10);
    const m = createMeasurement(base, 'area', [[0, 0, 3], [10, 0, 3], [10, 10, 3], [0, 10, 3]], aniso, null);
    expect(m).toMatchObject({ value: 40, unit: 'mm2' });
    expect(formatMeasured('area', { value: 312.2, unit: 'mm2' })).toBe('312 mm²');
  });

  it('angle in patient space (anisotropic pixels change the on-screen angle)', () => {
    const m = createMeasurement(base, 'angle', [[10, 0, 0], [0, 0, 0], [0, 10, 0]], aniso, null);
    expect(m.value).toBeCloseTo(90, 10);
    // diagonal in index space (1,1) is atan(0.8/0.5) from the i axis in mm
    const d = createMeasurement(base, 'angle', [[10, 0, 0], [0, 0, 0], [10, 10, 0]], aniso, null);
    expect(d.value).toBeCloseTo((Math.atan2(0.8, 0.5) * 180) / Math.PI, 10);
    expect(d.unit).toBe('deg');
  });

  it('ellipse ROI outline has the drawn ellipse area πab', () => {
    const pts = ellipseOutline({ cx: 50, cy: 40, rx: 10, ry: 6 });
    expect(areaOf(pts, null)).toBeCloseTo(Math.PI * 60, 8);
  });

  it('ROI statistics over the pixel centres inside an outline', () => {
    // 4 x 4 image, value = col + 10 * row; square covering pixels (1..2, 1..2)
    const s = roiStats([[1, 1], [3, 1], [3, 3], [1, 3]], 4, 4, (c, r) => c + 10 * r);
    expect(s).not.toBeNull();
    expect(s!.count).toBe(4);
    expect(s!.mean).toBeCloseTo((11 + 12 + 21 + 22) / 4);
    expect(s!.min).toBe(11);
    expect(s!.max).toBe(22);
    expect(s!.std).toBeCloseTo(Math.sqrt((5.5 ** 2 * 2 + 4.5 ** 2 * 2) / 4));
    expect(roiStats([[0, 0], [0.2, 0], [0.2, 0.2]], 4, 4, () => 1)).toBeNull();
    expect(formatStats({ count: 10, mean: 45.04, std: 12.3, min: 3, max: 90 }, 'HU')).toBe('mean 45.0 HU ± 12.3');
    expect(formatStats({ count: 10, mean: 145, std: 2, min: 3, max: 190 }, '', true)).toBe('mean 145 ± 2.00 (min 3.00, max 190)');
  });
});

describe('objectsOnView', () => {
  const polySlice5 = createPolygon(base, slicePlace, [[1, 1], [5, 1], [3, 4]]);
  const polySlice6 = createPolygon(base, { field: 'slice', index: 6 }, [[1, 1], [5, 1], [3, 4]]);
  const cineBox = createBox(base, { field: 'frame', index: 5 }, { x: 1, y: 1, width: 2, height: 2 });
  const imageBox = createBox(base, { field: null, index: 0 }, { x: 1, y: 1, width: 2, height: 2 });
  const lm = createLandmarks(base, [{ name: 'A', i: 10, j: 20, k: 5.3 }, { name: 'B', i: 40, j: 30, k: 12 }], null);
  const len = createMeasurement(base, 'length', [[10, 20, 5], [30, 20, 5]], null, null);
  const tag = { id: 't', kind: 'tag', label: 'x', attributes: {}, scope: { type: 'asset' } };

  it('2D shapes only on the native view at their slice or frame', () => {
    const axial5 = makeView({ slice: 5 });
    expect(objectsOnView([polySlice5, polySlice6, cineBox, imageBox, tag], axial5).map((o) => o.id)).toEqual([polySlice5.id, cineBox.id, imageBox.id]);
    const coronal = makeView({ axis: 'coronal', slice: 20 });
    expect(objectsOnView([polySlice5, cineBox, imageBox], coronal)).toEqual([]);
  });

  it('voxel landmarks and 3D measurements on any view within half a slice', () => {
    expect(isOnView(lm, makeView({ slice: 5 }))).toBe(true);
    expect(isOnView(lm, makeView({ slice: 12 }))).toBe(true);
    expect(isOnView(lm, makeView({ slice: 7 }))).toBe(false);
    expect(isOnView(len, makeView({ slice: 5 }))).toBe(true);
    expect(isOnView(len, makeView({ slice: 6 }))).toBe(false);
    // coronal view walks j: the length at j = 20 shows on coronal slice 20, and A (j = 20) too
    expect(isOnView(len, makeView({ axis: 'coronal', slice: 20 }))).toBe(true);
    expect(isOnView(len, makeView({ axis: 'coronal', slice: 21 }))).toBe(false);
    expect(isOnView(lm, makeView({ axis: 'coronal', slice: 20 }))).toBe(true);
    expect(isOnView(lm, makeView({ axis: 'sagittal', slice: 40 }))).toBe(true);
    expect(isOnView(lm, makeView({ axis: 'sagittal', slice: 41 }))).toBe(false);
  });
});

describe('hit testing in screen pixels', () => {
  const view = makeView({ zoom: 2, ox: 10, oy: 20, slice: 5 });
  const s = (x: number, y: number): [number, number] => view.toScreen(x, y);
  const box = createBox({ ...base, id: 'box' }, slicePlace, { x: 10, y: 10, width: 20, height: 10 });
  const poly = createPolygon({ ...base, id: 'poly' }, slicePlace, [[12, 5], [45, 5], [45, 40]]);
  const pts = createPoints({ ...base, id: 'pts' }, slicePlace, [[70, 70], [75, 70]]);
  const line = createPolyline({ ...base, id: 'line' }, slicePlace, [[60, 10], [90, 10]]);
  const ell = createEllipse({ ...base, id: 'ell' }, slicePlace, { cx: 50, cy: 50, rx: 16, ry: 8 });
  const all = [box, poly, pts, line, ell];

  it('finds vertices, edges and interiors with a 6 px tolerance, topmost first', () => {
    // inside both box and polygon: polygon is later in the list, so on top
    expect(hitTest(all, view, ...s(25, 13))).toEqual({ id: 'poly', part: 'body' });
    expect(hitTest(all, view, ...s(14, 16))).toEqual({ id: 'box', part: 'body' });
    // a box corner within 5 screen px (2.5 plane px) is a vertex
    expect(hitTest(all, view, s(10, 10)[0] - 4, s(10, 10)[1] + 3)).toEqual({ id: 'box', part: 'vertex', index: 0 });
    // 7 screen px away from the open polyline: miss; 5 px: edge
    expect(hitTest(all, view, s(75, 10)[0], s(75, 10)[1] + 7)).toBeNull();
    expect(hitTest(all, view, s(75, 10)[0], s(75, 10)[1] + 5)).toEqual({ id: 'line', part: 'edge' });
    // inside the polyline's "area" is not a hit (open)
    expect(hitTest(all, view, ...s(75, 14))).toBeNull();
    expect(hitTest(all, view, ...s(75.5, 70))).toEqual({ id: 'pts', part: 'vertex', index: 1 });
    expect(hitTest(all, view, ...s(55, 51))).toEqual({ id: 'ell', part: 'body' });
    expect(hitTest(all, view, ...s(62, 56.5))).toEqual({ id: 'ell', part: 'edge' });
    expect(hitTest(all, view, ...s(50, 62))).toBeNull();
  });

  it('prefers the selected object handles', () => {
    expect(hitTest(all, view, ...s(12, 5))).toEqual({ id: 'poly', part: 'vertex', index: 0 });
    // the box's top-right corner lies inside the polygon, which is on top
    expect(hitTest(all, view, ...s(30, 10))).toEqual({ id: 'poly', part: 'body' });
    expect(hitTest(all, view, ...s(30, 10), { selectedId: 'box' })).toEqual({ id: 'box', part: 'vertex', index: 1 });
  });

  it('hits masks on their set pixels', () => {
    const bm = new Uint8Array(100 * 80);
    paintDisc(bm, 100, 80, 20.5, 60.5, 3, 1);
    const mask = createMask({ ...base, id: 'mask' }, slicePlace, encodeRle(bm, 80, 100));
    expect(hitTest([mask], view, ...s(20.5, 60.5))).toEqual({ id: 'mask', part: 'body' });
    expect(hitTest([mask], view, ...s(30.5, 60.5))).toBeNull();
  });
});

describe('edits', () => {
  const view = makeView({ slice: 5 });
  const ctx = { view, affine: aniso, now: '2024-06-01T00:00:00.000Z' };

  it('moves immutably and keeps measurements exact', () => {
    const poly = createPolygon(base, slicePlace, [[1, 1], [5, 1], [3, 4]]);
    const moved = moveObject(poly, 2, -1, ctx);
    expect(moved.points).toEqual([[3, 0], [7, 0], [5, 3]]);
    expect(poly.points).toEqual([[1, 1], [5, 1], [3, 4]]);
    expect(moved.updatedAt).toBe(ctx.now);
    expect(moved.id).toBe(poly.id);

    const m = createMeasurement(base, 'length', [[0, 0, 5], [10, 0, 5]], aniso, null);
    const mm = moveObject(m, 3, 4, ctx);
    expect(mm.points).toEqual([[3, 4, 5], [13, 4, 5]]);
    expect(mm.value).toBeCloseTo(5);
    // on a coronal view a plane move changes i and k, keeps j
    const cor = makeView({ axis: 'coronal', slice: 0 });
    const mc = moveObject(m, 2, 0, { ...ctx, view: cor });
    expect(mc.points).toEqual([[2, 0, 5], [12, 0, 5]]);
    expect(valid(mm)).toBe(true);
  });

  it('vertex edits: polygon vertex, box corner against the opposite one, ellipse radius, measurement remeasured', () => {
    const poly = createPolygon(base, slicePlace, [[1, 1], [5, 1], [3, 4]]);
    expect(moveVertex(poly, 2, [3, 9], ctx).points).toEqual([[1, 1], [5, 1], [3, 9]]);
    const box = createBox(base, slicePlace, { x: 10, y: 10, width: 20, height: 10 });
    // drag the top-left corner past the bottom-right one: the box flips and stays valid
    expect(moveVertex(box, 0, [40, 25], ctx)).toMatchObject({ x: 30, y: 20, width: 10, height: 5 });
    const ell = createEllipse(base, slicePlace, { cx: 50, cy: 50, rx: 8, ry: 4 });
    expect(moveVertex(ell, 1, [50, 57], ctx)).toMatchObject({ rx: 8, ry: 7 });
    const m = createMeasurement(base, 'length', [[0, 0, 5], [10, 0, 5]], aniso, null);
    // plane (x, y) = voxel + 0.5 on the axial view
    const e = moveVertex(m, 1, [0.5, 10.5], ctx);
    expect(e.points).toEqual([[0, 0, 5], [0, 10, 5]]);
    expect(e.value).toBeCloseTo(8);
    const lm = createLandmarks(base, [{ name: 'A', i: 1, j: 2, k: 5.25 }], null);
    expect(moveVertex(lm, 0, [4.5, 6.5], ctx).points).toEqual([{ name: 'A', i: 4, j: 6, k: 5.25 }]);
  });

  it('copies 2D shapes to another slice with a new id, and not voxel objects', () => {
    const poly = createPolygon(base, slicePlace, [[1, 1], [5, 1], [3, 4]]);
    const c = copyToSlice(poly, 6, { userId: 'u2', now: '2024-07-01T00:00:00.000Z' })!;
    expect(c).toMatchObject({ slice: 6, points: [[1, 1], [5, 1], [3, 4]], createdBy: 'u2', kind: 'polygon' });
    expect(c.id).not.toBe(poly.id);
    (c.points as number[][])[0]![0] = 99;
    expect((poly.points as number[][])[0]![0]).toBe(1);
    const cine = createBox(base, { field: 'frame', index: 2 }, { x: 0, y: 0, width: 1, height: 1 });
    expect(copyToSlice(cine, 3)).toMatchObject({ frame: 3 });
    expect(copyToSlice(cine, 3)).not.toHaveProperty('slice');
    expect(copyToSlice(createLandmarks(base, [{ name: 'A', i: 1, j: 2, k: 3 }], null), 4)).toBeNull();
  });

  it('z-order: document order, moved in the array', () => {
    const ids = ['a', 'b', 'c', 'd'].map((id) => ({ id, kind: 'box', label: 'L', attributes: {} }));
    expect(reorder(ids, 'b', 'front').map((o) => o.id)).toEqual(['a', 'c', 'd', 'b']);
    expect(reorder(ids, 'c', 'back').map((o) => o.id)).toEqual(['c', 'a', 'b', 'd']);
    expect(reorder(ids, 'b', 'forward').map((o) => o.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(reorder(ids, 'a', 'backward').map((o) => o.id)).toEqual(['a', 'b', 'c', 'd']);
    // relative moves skip objects the list does not show (e.g. tags between shapes)
    expect(moveNextTo(ids, 'a', 'c', 'above').map((o) => o.id)).toEqual(['b', 'c', 'a', 'd']);
    expect(moveNextTo(ids, 'd', 'b', 'below').map((o) => o.id)).toEqual(['a', 'd', 'b', 'c']);
  });

  it('jumps to the plane of 2D shapes and the k of voxel objects', () => {
    expect(jumpSliceOf(createPolygon(base, { field: 'slice', index: 7 }, [[1, 1], [5, 1], [3, 4]]))).toBe(7);
    expect(jumpSliceOf(createBox(base, { field: 'frame', index: 3 }, { x: 0, y: 0, width: 1, height: 1 }))).toBe(3);
    expect(jumpSliceOf(createLandmarks(base, [{ name: 'A', i: 1, j: 2, k: 11.6 }], null))).toBe(12);
    expect(jumpSliceOf(createMeasurement(base, 'length', [[0, 0, 4], [3, 0, 4]], null, null))).toBe(4);
    expect(jumpSliceOf(createBox(base, { field: null, index: 0 }, { x: 0, y: 0, width: 1, height: 1 }))).toBeUndefined();
  });
});

describe('landmarks, masks, freehand', () => {
  it('places the next unplaced name of the set', () => {
    const lm = createLandmarks(base, [{ name: 'Nasion', i: 1, j: 2, k: 3 }], null);
    expect(nextLandmarkName(lm, ['Nasion', 'Sella', 'Menton'])).toBe('Sella');
    expect(nextLandmarkName(undefined, ['Nasion'])).toBe('Nasion');
    expect(nextLandmarkName(lm, ['Nasion'])).toBeNull();
    expect(nextLandmarkName(lm, undefined)).toBe('P2');
    expect(findLandmarks([lm], 'Lesion', true, null)).toBe(lm);
    expect(findLandmarks([lm], 'Lesion', false, slicePlace)).toBeUndefined();
  });

  it('paints, erases and moves masks; an emptied mask is removed', () => {
    const w = 20;
    const h = 10;
    const bm = new Uint8Array(w * h);
    paintSegment(bm, w, h, [3, 5], [15, 5], 2, 1);
    const rle = encodeRle(bm, h, w);
    expect(rleValueAt(rle, 9, 5)).toBe(true);
    expect(rleValueAt(rle, 9, 8)).toBe(false);
    const shifted = shiftRle(rle, 2, 1);
    expect(rleValueAt(shifted, 11, 6)).toBe(true);
    expect(decodeRle(shifted).reduce((a, b) => a + b, 0)).toBe(bm.reduce((a, b) => a + b, 0));
    const mask = createMask(base, slicePlace, rle);
    paintSegment(bm, w, h, [0, 5], [19, 5], 6, 0);
    const after = applyMask([mask], mask, encodeRle(bm, h, w), () => mask);
    expect(after).toEqual([]);
  });

  it('RDP keeps corners and drops collinear points; dedupe drops double-click repeats', () => {
    const pts: Pt[] = [];
    for (let i = 0; i <= 10; i++) pts.push([i, 0]);
    for (let j = 1; j <= 10; j++) pts.push([10, j + (j % 2) * 0.1]);
    expect(simplifyRdp(pts, 0.5)).toEqual([[0, 0], [10, 0], [10, 10]]);
    expect(dedupePoints([[0, 0], [5, 5], [5.2, 5.1], [9, 9]], 1)).toEqual([[0, 0], [5, 5], [9, 9]]);
  });
});
