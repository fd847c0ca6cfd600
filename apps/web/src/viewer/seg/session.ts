// One segmentation session per open imaging asset (no React): the 3D label map, its undo
// history, the segment table (from the project's label schema) with per-segment UI state, the
// edit operations the viewport layers call, and the autosave engine (SegSaver).

import {
  EditHistory,
  LabelMap,
  StrokeRecorder,
  decodeLabelmap,
  fillRect,
  fillCircle,
  fillSphere,
  floodFill,
  inPlaneAxes,
  interpolateSlices,
  removeSegment,
  segmentVolumeMl,
  strokeSegment,
  type EditDiff,
  type LabelArray,
  type LabelPlane,
  type ThresholdOptions,
} from '@caliper/core/labelmap';
import { problemFromBody, enc } from '../../api';
import type { LabelDef } from '../../types';
import { SegSaver, type FetchLike, type SegSaved, type SegSaverSource } from './saver';
import {
  DEFAULT_SEGMENT_OPACITY,
  colorTable,
  remapByLabel,
  segmentsFromLabels,
  type LabelmapGeometry,
  type SegmentDef,
  type SegmentRef,
  type SegmentUi,
} from './segments';

export type Vec3 = [number, number, number];
export type { LabelPlane, ThresholdOptions };

/** How segments are drawn: filled with an outline, filled only, or outline only. */
export type SegRenderMode = 'both' | 'fill' | 'outline';

/** One step of a brush / eraser / threshold-brush drag. */
export interface BrushStep {
  /** Active segment (painted; ignored by the eraser, which clears every unprotected segment). */
  segment: number;
  radiusMm: number;
  /** 3D sphere; otherwise a disc in `plane` (the view plane through the current slice). */
  sphere: boolean;
  plane: LabelPlane;
  /** Eraser: write background. */
  erase?: boolean;
  /** Threshold brush: only voxels whose image value is in [lo, hi] (modality units). */
  threshold?: ThresholdOptions;
}

/** Scissors shapes in continuous voxel coordinates. */
export type ScissorsShape =
  | { kind: 'rect'; plane: LabelPlane; from: Vec3; to: Vec3 }
  | { kind: 'circle'; plane: LabelPlane; center: Vec3; radiusMm: number }
  | { kind: 'sphere'; center: Vec3; radiusMm: number };

export interface FloodOptions {
  segment: number;
  /** Image values within seed ± tolerance (modality units). */
  tolerance: number;
  mode: '2d' | '3d';
  /** 2D: the plane's normal voxel axis (the view's mapping.normalAxis). */
  normalAxis: 0 | 1 | 2;
  image: ArrayLike<number>;
  rescale?: { slope: number; intercept: number };
  maxVoxels?: number;
}

export interface FloodOutcome {
  changedVoxels: number;
  regionVoxels: number;
  truncated: boolean;
}

export interface SegSessionOptions {
  /** The project's label schema labels; those allowing `labelmap` become the segments. */
  labels: readonly LabelDef[];
  /** Voxel → LPS affine of the volume: its determinant gives mm³ per voxel for volumes. */
  affineLps?: number[][] | null;
  fetch?: FetchLike;
  debounceMs?: number;
  minRetryMs?: number;
  maxRetryMs?: number;
  onSaved?: (saved: SegSaved) => void;
  /** Undo memory budget in bytes (default 64 MB). */
  historyBytes?: number;
}

interface SessionInit {
  data?: LabelArray;
  base: string | null;
  forceFull?: boolean;
  dirtySlices?: Iterable<number>;
  droppedLabels?: string[];
}

function affineDeterminant(a: number[][] | null | undefined): number | undefined {
  if (!a || a.length < 3) return undefined;
  const m = (r: number, c: number) => a[r]?.[c] ?? 0;
  const det =
    m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1)) -
    m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0)) +
    m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0));
  return Number.isFinite(det) && det !== 0 ? Math.abs(det) : undefined;
}

function checkSpacing(spacing: readonly number[] | null | undefined): [number, number, number] {
  const ok = (s: number | undefined) => (s !== undefined && s > 0 && Number.isFinite(s) ? s : 1);
  return [ok(spacing?.[0]), ok(spacing?.[1]), ok(spacing?.[2])];
}

export class SegSession implements SegSaverSource {
  readonly assetId: string;
  readonly map: LabelMap;
  readonly history: EditHistory;
  readonly segments: readonly SegmentDef[];
  /** Colour table for renderLabelSlice (index = label value). */
  readonly colors: Uint32Array;
  readonly saver: SegSaver;
  /** Labels of the stored label map that the schema no longer has (their voxels were cleared). */
  readonly droppedLabels: readonly string[];
  /** Bumped on every change (label data, segment UI state, render mode): re-render key. */
  version = 0;
  renderMode: SegRenderMode = 'both';

  private readonly ui = new Map<number, SegmentUi>();
  private readonly stroke = new StrokeRecorder();
  private lastPoint: Vec3 | null = null;
  private readonly listeners = new Set<() => void>();
  private readonly editListeners = new Set<() => void>();
  private readonly detMm3: number | undefined;
  /** Per-segment opacity table for renderLabelSlice (index = value). */
  private opacityTable: Float32Array;

  /**
   * Opens the session of one asset: an empty label map, or the stored one of the document's
   * labelmap object (`existing`), fetched and mapped onto the current segment table by label name.
   */
  static async open(
    assetId: string,
    volumeDims: readonly [number, number, number],
    spacing: readonly number[] | null,
    existing: LabelmapGeometry | null,
    opts: SegSessionOptions,
  ): Promise<SegSession> {
    const segments = segmentsFromLabels(opts.labels);
    const bits = segments.length > 255 ? 16 : 8;
    if (!existing) return new SegSession(assetId, volumeDims, spacing, opts, { base: null });
    const dims = volumeDims;
    if (existing.shape.some((d, i) => d !== dims[i])) {
      throw new Error(`The stored label map is ${existing.shape.join('×')} voxels but the image is ${dims.join('×')}.`);
    }
    const fetchImpl: FetchLike = opts.fetch ?? ((input, init) => fetch(input, init));
    let res: Response;
    try {
      res = await fetchImpl(`/api/assets/${enc(assetId)}/labelmaps/${enc(existing.blob)}`, {
        method: 'GET',
        headers: { Accept: 'application/octet-stream' },
        credentials: 'same-origin',
      });
    } catch {
      throw new Error('Cannot reach the server to load the label map. Check your connection.');
    }
    if (!res.ok) {
      const type = res.headers.get('content-type') ?? '';
      const body: unknown = type.includes('json') ? await res.json().catch(() => null) : null;
      throw problemFromBody(res.status, body, `The label map could not be loaded (HTTP ${res.status}).`);
    }
    const decoded = decodeLabelmap(new Uint8Array(await res.arrayBuffer()));
    if (decoded.shape.some((d, i) => d !== dims[i])) {
      throw new Error(`The stored label map is ${decoded.shape.join('×')} voxels but the image is ${dims.join('×')}.`);
    }
    const src = decoded.data;
    let maxValue = 0;
    for (let n = 0; n < src.length; n++) if ((src[n] as number) > maxValue) maxValue = src[n] as number;
    const remap = remapByLabel(existing.segments, segments, maxValue);
    const n = src.length;
    const data: LabelArray = bits === 16 ? new Uint16Array(n) : new Uint8Array(n);
    const sliceSize = dims[0] * dims[1];
    const dirty: number[] = [];
    const table = remap.table;
    for (let k = 0; k < dims[2]; k++) {
      let changed = false;
      const end = (k + 1) * sliceSize;
      for (let p = k * sliceSize; p < end; p++) {
        const o = src[p] as number;
        if (o === 0) continue;
        const v = table[o] as number;
        data[p] = v;
        if (v !== o) changed = true;
      }
      if (changed) dirty.push(k);
    }
    return new SegSession(assetId, volumeDims, spacing, opts, {
      data,
      base: existing.blob,
      forceFull: decoded.dtype !== (bits === 16 ? 'uint16' : 'uint8'),
      dirtySlices: dirty,
      droppedLabels: remap.dropped,
    });
  }

  constructor(assetId: string, volumeDims: readonly [number, number, number], spacing: readonly number[] | null, opts: SegSessionOptions, init: SessionInit) {
    this.assetId = assetId;
    this.segments = segmentsFromLabels(opts.labels);
    const bits = this.segments.length > 255 ? 16 : 8;
    this.map = new LabelMap([volumeDims[0], volumeDims[1], volumeDims[2]], checkSpacing(spacing), init.data ? { data: init.data } : { bits });
    for (const k of init.dirtySlices ?? []) this.map.markDirty(k);
    this.history = new EditHistory(opts.historyBytes !== undefined ? { maxBytes: opts.historyBytes } : {});
    this.colors = colorTable(this.segments);
    this.droppedLabels = init.droppedLabels ?? [];
    this.detMm3 = affineDeterminant(opts.affineLps);
    for (const s of this.segments) this.ui.set(s.value, { visible: true, locked: false, opacity: DEFAULT_SEGMENT_OPACITY });
    this.opacityTable = new Float32Array(this.colors.length);
    this.rebuildOpacity();
    this.saver = new SegSaver(this, {
      assetId,
      base: init.base,
      forceFull: init.forceFull,
      fetch: opts.fetch,
      debounceMs: opts.debounceMs,
      minRetryMs: opts.minRetryMs,
      maxRetryMs: opts.maxRetryMs,
      onSaved: opts.onSaved,
    });
  }

  // ---- subscriptions ------------------------------------------------------------------------

  /** Called on every change (re-render). */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called once per new undo step (the page records a "session" entry in its combined history). */
  onEdit(fn: () => void): () => void {
    this.editListeners.add(fn);
    return () => this.editListeners.delete(fn);
  }

  private notify(): void {
    this.version++;
    for (const fn of [...this.listeners]) fn();
  }

  /** Records a finished edit: one undo step, autosave, re-render. */
  private commit(diff: EditDiff | null): boolean {
    if (diff === null) return false;
    this.history.push(diff);
    for (const fn of [...this.editListeners]) fn();
    this.saver.changed();
    this.notify();
    return true;
  }

  dispose(): void {
    this.saver.dispose();
    this.listeners.clear();
    this.editListeners.clear();
  }

  // ---- segment table and UI state -----------------------------------------------------------

  segment(value: number): SegmentDef | undefined {
    return this.segments.find((s) => s.value === value);
  }

  segmentUi(value: number): SegmentUi {
    return this.ui.get(value) ?? { visible: true, locked: false, opacity: DEFAULT_SEGMENT_OPACITY };
  }

  setSegmentUi(value: number, patch: Partial<SegmentUi>): void {
    const cur = this.ui.get(value);
    if (!cur) return;
    const next = { ...cur, ...patch };
    next.opacity = Math.min(1, Math.max(0, Number.isFinite(next.opacity) ? next.opacity : cur.opacity));
    this.ui.set(value, next);
    this.rebuildOpacity();
    this.notify();
  }

  setRenderMode(mode: SegRenderMode): void {
    if (mode === this.renderMode) return;
    this.renderMode = mode;
    this.notify();
  }

  /** Hidden segments (not drawn). */
  hiddenSegments(): Set<number> {
    const out = new Set<number>();
    for (const [v, u] of this.ui) if (!u.visible) out.add(v);
    return out;
  }

  /** Segments whose voxels edits must not change: locked ones and hidden ones (you cannot see what you would erase). */
  protectedSegments(): Set<number> {
    const out = new Set<number>();
    for (const [v, u] of this.ui) if (u.locked || !u.visible) out.add(v);
    return out;
  }

  /** Per-value opacity table for renderLabelSlice. */
  segmentOpacity(): Float32Array {
    return this.opacityTable;
  }

  private rebuildOpacity(): void {
    const t = new Float32Array(this.colors.length);
    for (const [v, u] of this.ui) if (v < t.length) t[v] = u.opacity;
    this.opacityTable = t;
  }

  /** Whether the segment exists and may be edited (not locked). */
  canEdit(segment: number): boolean {
    const ui = this.ui.get(segment);
    return ui !== undefined && !ui.locked;
  }

  /** Segments with at least one voxel, as the labelmap object's `segments`. */
  usedSegments(): SegmentRef[] {
    return this.segments.filter((s) => this.map.segmentVoxelCount(s.value) > 0).map((s) => ({ value: s.value, label: s.label }));
  }

  /** Volume of a segment in mL (affine determinant when the volume has an affine). */
  volumeMl(value: number): number {
    return segmentVolumeMl(this.map, value, this.detMm3 !== undefined ? { affineDeterminant: this.detMm3 } : {});
  }

  voxelCount(value: number): number {
    return this.map.segmentVoxelCount(value);
  }

  // ---- edits --------------------------------------------------------------------------------

  get inStroke(): boolean {
    return this.stroke.inStroke;
  }

  /** Pointer down of a brush / eraser drag: the steps until endStroke() are one undo step. */
  beginStroke(): void {
    if (this.stroke.inStroke) this.endStroke();
    this.stroke.beginStroke(this.map);
    this.lastPoint = null;
  }

  /** Paints (or erases) from the previous point of the stroke to `voxel` (continuous voxel coordinates). */
  strokeTo(voxel: Vec3, step: BrushStep): void {
    if (!this.stroke.inStroke) this.beginStroke();
    if (!step.erase && !this.canEdit(step.segment)) return;
    const before = this.map.version;
    const plane = step.sphere ? undefined : step.plane;
    const to: Vec3 = [voxel[0], voxel[1], voxel[2]];
    // Keep discs in the view plane even if the pointer position carries a fractional slice.
    if (plane) to[plane.normalAxis] = plane.slice;
    const from = this.lastPoint ?? to;
    strokeSegment(this.map, from, to, step.radiusMm, {
      segment: step.erase ? Math.max(step.segment, 1) : step.segment,
      erase: step.erase === true,
      locked: this.protectedSegments(),
      ...(step.threshold ? { threshold: step.threshold } : {}),
      ...(plane ? { plane } : {}),
      skipStart: this.lastPoint !== null,
      stroke: this.stroke,
    });
    this.lastPoint = to;
    if (this.map.version !== before) this.notify();
  }

  /** Pointer up: the whole drag becomes one undo step. Returns whether anything changed. */
  endStroke(): boolean {
    if (!this.stroke.inStroke) return false;
    const diff = this.stroke.endStroke();
    this.lastPoint = null;
    const changed = this.commit(diff);
    if (!changed) this.saver.changed(); // a debounce waiting for the stroke end may be pending
    return changed;
  }

  /** Region growing from `seed` (rounded to a voxel) with the segment. */
  flood(seed: Vec3, opts: FloodOptions): FloodOutcome {
    const none = { changedVoxels: 0, regionVoxels: 0, truncated: false };
    if (!this.canEdit(opts.segment)) return none;
    const s: Vec3 = [Math.round(seed[0]), Math.round(seed[1]), Math.round(seed[2])];
    if (!this.map.contains(s[0], s[1], s[2])) return none;
    const r = floodFill(this.map, opts.image, s, {
      segment: opts.segment,
      tolerance: opts.tolerance,
      mode: opts.mode,
      plane: opts.normalAxis,
      locked: this.protectedSegments(),
      ...(opts.rescale ? { rescale: opts.rescale } : {}),
      ...(opts.maxVoxels !== undefined ? { maxVoxels: opts.maxVoxels } : {}),
    });
    const changedVoxels = r.diff ? r.diff.indices.length : 0;
    this.commit(r.diff);
    return { changedVoxels, regionVoxels: r.regionVoxels, truncated: r.truncated };
  }

  /** Scissors: fills the shape with `segment`, or clears it (`erase`: every unprotected segment). */
  scissors(shape: ScissorsShape, segment: number, erase: boolean): boolean {
    if (!erase && !this.canEdit(segment)) return false;
    const opts = { segment: Math.max(segment, 1), erase, locked: this.protectedSegments() };
    let diff: EditDiff | null;
    if (shape.kind === 'rect') {
      const [a, b] = inPlaneAxes(shape.plane.normalAxis);
      diff = fillRect(this.map, shape.plane, shape.from[a], shape.from[b], shape.to[a], shape.to[b], opts);
    } else if (shape.kind === 'circle') {
      diff = fillCircle(this.map, shape.plane, shape.center, shape.radiusMm, opts);
    } else {
      diff = fillSphere(this.map, shape.center, shape.radiusMm, opts);
    }
    return this.commit(diff);
  }

  /** Fills the empty slices between annotated slices of `segment` along `normalAxis` (default axial). */
  interpolate(segment: number, normalAxis: 0 | 1 | 2 = 2): { filledSlices: number[]; keySlices: number[] } {
    if (!this.canEdit(segment)) return { filledSlices: [], keySlices: [] };
    const locked = this.protectedSegments();
    locked.delete(segment);
    const r = interpolateSlices(this.map, segment, normalAxis, { locked });
    this.commit(r.diff);
    return { filledSlices: r.filledSlices, keySlices: r.keySlices };
  }

  /** Erases every voxel of a segment (one undo step). */
  clearSegment(segment: number): boolean {
    if (!this.canEdit(segment)) return false;
    return this.commit(removeSegment(this.map, segment));
  }

  get canUndo(): boolean {
    return this.history.canUndo && !this.stroke.inStroke;
  }

  get canRedo(): boolean {
    return this.history.canRedo && !this.stroke.inStroke;
  }

  /** Reverts the newest session edit; false when there was none (e.g. dropped by the memory budget). */
  undo(): boolean {
    if (this.stroke.inStroke) this.endStroke();
    const d = this.history.undo(this.map);
    if (d === null) return false;
    this.saver.changed();
    this.notify();
    return true;
  }

  redo(): boolean {
    if (this.stroke.inStroke) return false;
    const d = this.history.redo(this.map);
    if (d === null) return false;
    this.saver.changed();
    this.notify();
    return true;
  }
}
