/**
 * A 3D label map: one label value per voxel (0 = background, 1..255 or 1..65535 = segments),
 * stored in the image volume's layout — flat index = i + j*cols + k*cols*rows (i = column,
 * j = row, k = slice). Keeps per-value voxel counts up to date on every edit (so
 * {@link LabelMap.segmentVoxelCount} is O(1)) and remembers which slices (k) changed since the
 * last {@link LabelMap.markSaved}, so that only those are uploaded.
 *
 * Edits go through the operations of this folder (paint, flood fill, interpolation, ...), which
 * return an {@link EditDiff}: changed flat indices + old values + new value(s). Applying a diff
 * backwards or forwards ({@link applyDiff}) is undo/redo; {@link EditHistory} keeps a bounded
 * list of them. Pure TypeScript: no DOM, no Node APIs.
 */

export type LabelArray = Uint8Array | Uint16Array;
export type Dims3 = readonly [number, number, number];

export interface LabelMapOptions {
  /** Initial contents (adopted, not copied); length must be cols*rows*slices. */
  data?: LabelArray;
  /** Storage when `data` is not given: 8 bits (segments 1..255, default) or 16 bits. */
  bits?: 8 | 16;
}

export class LabelMap {
  /** [cols, rows, slices]. */
  readonly dims: Dims3;
  /** Voxel size in mm along i, j, k. */
  readonly spacing: Dims3;
  /** The label values; edit through the operations (or {@link set}/{@link setSlice}) so counts stay right. */
  readonly data: LabelArray;
  /** cols * rows: the flat-index step from one slice to the next. */
  readonly sliceSize: number;
  /** Largest storable label value (255 or 65535). */
  readonly maxLabel: number;
  /**
   * Voxel count per label value (index = value). Maintained by every edit; read through
   * {@link segmentVoxelCount}. Exposed for the operations of this folder only.
   */
  readonly counts: Float64Array;
  /** 1 for each slice k changed since {@link markSaved}. Exposed for the operations of this folder only. */
  readonly dirtyFlags: Uint8Array;
  /** Incremented on every change (operations, undo/redo, loads): cheap "needs redraw" check. */
  version = 0;

  constructor(dims: Dims3, spacing: Dims3, options: LabelMapOptions = {}) {
    for (const d of dims) {
      if (!Number.isInteger(d) || d < 1) throw new RangeError(`label map dims must be positive integers, got ${dims.join('×')}`);
    }
    for (const s of spacing) {
      if (!(s > 0 && Number.isFinite(s))) throw new RangeError(`label map spacing must be positive and finite, got ${spacing.join(', ')}`);
    }
    this.dims = [dims[0], dims[1], dims[2]];
    this.spacing = [spacing[0], spacing[1], spacing[2]];
    this.sliceSize = dims[0] * dims[1];
    const n = this.sliceSize * dims[2];
    if (options.data) {
      if (options.data.length !== n) throw new RangeError(`label data has ${options.data.length} values but dims ${dims.join('×')} need ${n}`);
      this.data = options.data;
    } else {
      this.data = options.bits === 16 ? new Uint16Array(n) : new Uint8Array(n);
    }
    this.maxLabel = this.data instanceof Uint16Array ? 0xffff : 0xff;
    this.counts = new Float64Array(this.maxLabel + 1);
    this.dirtyFlags = new Uint8Array(dims[2]);
    if (options.data) this.recount();
    else this.counts[0] = n;
  }

  /** Number of voxels. */
  get length(): number {
    return this.data.length;
  }

  /** Flat index of voxel (i, j, k); no bounds check. */
  index(i: number, j: number, k: number): number {
    return i + j * this.dims[0] + k * this.sliceSize;
  }

  /** Whether (i, j, k) are integer indices inside the volume. */
  contains(i: number, j: number, k: number): boolean {
    return (
      Number.isInteger(i) && Number.isInteger(j) && Number.isInteger(k) &&
      i >= 0 && j >= 0 && k >= 0 && i < this.dims[0] && j < this.dims[1] && k < this.dims[2]
    );
  }

  /** Label at (i, j, k); 0 outside the volume. */
  get(i: number, j: number, k: number): number {
    return this.contains(i, j, k) ? (this.data[this.index(i, j, k)] as number) : 0;
  }

  /** Sets one voxel without recording a diff (loading, tests); counts and dirty slices follow. */
  set(i: number, j: number, k: number, value: number): void {
    if (!this.contains(i, j, k)) throw new RangeError(`voxel (${i}, ${j}, ${k}) is outside ${this.dims.join('×')}`);
    this.checkValue(value);
    const idx = this.index(i, j, k);
    const old = this.data[idx] as number;
    if (old === value) return;
    this.data[idx] = value;
    (this.counts[old] as number)--;
    (this.counts[value] as number)++;
    this.dirtyFlags[k] = 1;
    this.version++;
  }

  /** Voxels currently holding `value` (O(1)). */
  segmentVoxelCount(value: number): number {
    return Number.isInteger(value) && value >= 0 && value <= this.maxLabel ? (this.counts[value] as number) : 0;
  }

  /** Label values (≥ 1) that have at least one voxel, ascending. */
  segments(): number[] {
    const out: number[] = [];
    for (let v = 1; v <= this.maxLabel; v++) if ((this.counts[v] as number) > 0) out.push(v);
    return out;
  }

  /** Slice indices k changed since the last {@link markSaved} (or since construction). */
  dirtySlices(): Set<number> {
    const out = new Set<number>();
    const f = this.dirtyFlags;
    for (let k = 0; k < f.length; k++) if (f[k] === 1) out.add(k);
    return out;
  }

  /** Forgets the dirty slices: call after they were uploaded. */
  markSaved(): void {
    this.dirtyFlags.fill(0);
  }

  /** Marks slice k as changed (used by the operations). */
  markDirty(k: number): void {
    this.dirtyFlags[k] = 1;
  }

  /** Slice k as a view (no copy) into {@link data}: cols*rows values, i fastest. Do not write through it. */
  sliceView(k: number): LabelArray {
    this.checkSlice(k);
    return this.data.subarray(k * this.sliceSize, (k + 1) * this.sliceSize);
  }

  /**
   * Loads slice k (e.g. from the server). Counts follow; the slice is NOT marked dirty (it is
   * what the server has) unless `markDirty` is true.
   */
  setSlice(k: number, values: ArrayLike<number>, markDirty = false): void {
    this.checkSlice(k);
    if (values.length !== this.sliceSize) throw new RangeError(`slice needs ${this.sliceSize} values, got ${values.length}`);
    const base = k * this.sliceSize;
    const data = this.data;
    const counts = this.counts;
    const max = this.maxLabel;
    for (let n = 0; n < this.sliceSize; n++) {
      const v = values[n] as number;
      if (!(v >= 0 && v <= max && Number.isInteger(v))) throw new RangeError(`label value ${v} at ${n} is not an integer in 0..${max}`);
    }
    for (let n = 0; n < this.sliceSize; n++) {
      const idx = base + n;
      (counts[data[idx] as number] as number)--;
      const v = values[n] as number;
      data[idx] = v;
      (counts[v] as number)++;
    }
    if (markDirty) this.dirtyFlags[k] = 1;
    this.version++;
  }

  /** Recomputes the counts from {@link data} (after writing into it directly). */
  recount(): void {
    const counts = this.counts;
    counts.fill(0);
    const data = this.data;
    const len = data.length;
    // Label maps are mostly background: count only the non-zero values (no store per zero).
    let nonZero = 0;
    for (let n = 0; n < len; n++) {
      const v = data[n] as number;
      if (v !== 0) {
        (counts[v] as number)++;
        nonZero++;
      }
    }
    counts[0] = len - nonZero;
    this.version++;
  }

  /** Volume of one voxel in mm³. */
  voxelVolumeMm3(): number {
    return this.spacing[0] * this.spacing[1] * this.spacing[2];
  }

  /** Throws unless `value` is a storable label value. */
  checkValue(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > this.maxLabel) {
      throw new RangeError(`label value must be an integer in 0..${this.maxLabel}, got ${value}`);
    }
  }

  private checkSlice(k: number): void {
    if (!Number.isInteger(k) || k < 0 || k >= this.dims[2]) throw new RangeError(`slice ${k} is outside 0..${this.dims[2] - 1}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Diffs

/**
 * One undoable edit: the flat indices that changed, their values before, and their value(s)
 * after (one number when every changed voxel got the same value, which is the usual case).
 * Never a copy of the volume: 5 bytes per changed voxel for 8-bit maps (4 index + 1 old value).
 */
export interface EditDiff {
  readonly indices: Uint32Array;
  readonly before: LabelArray;
  readonly after: LabelArray | number;
  /** Memory held by the diff, in bytes (what {@link EditHistory} budgets). */
  readonly byteLength: number;
}

/** Fixed per-diff overhead counted by {@link EditHistory} (object and array headers). */
export const DIFF_OVERHEAD_BYTES = 128;

export function makeDiff(indices: Uint32Array, before: LabelArray, after: LabelArray | number): EditDiff {
  const byteLength = indices.byteLength + before.byteLength + (typeof after === 'number' ? 0 : after.byteLength) + DIFF_OVERHEAD_BYTES;
  return { indices, before, after, byteLength };
}

/** Number of voxels a diff changes. */
export function diffVoxelCount(diff: EditDiff): number {
  return diff.indices.length;
}

/**
 * Applies a diff to the map: 'redo' writes the after values, 'undo' the before values. Counts,
 * dirty slices and {@link LabelMap.version} follow.
 */
export function applyDiff(map: LabelMap, diff: EditDiff, direction: 'undo' | 'redo'): void {
  const { indices, before, after } = diff;
  const data = map.data;
  const counts = map.counts;
  const n = indices.length;
  if (direction === 'undo') {
    for (let m = 0; m < n; m++) {
      const idx = indices[m] as number;
      const v = before[m] as number;
      (counts[data[idx] as number] as number)--;
      (counts[v] as number)++;
      data[idx] = v;
    }
  } else if (typeof after === 'number') {
    for (let m = 0; m < n; m++) {
      const idx = indices[m] as number;
      (counts[data[idx] as number] as number)--;
      data[idx] = after;
    }
    (counts[after] as number) += n;
  } else {
    for (let m = 0; m < n; m++) {
      const idx = indices[m] as number;
      const v = after[m] as number;
      (counts[data[idx] as number] as number)--;
      (counts[v] as number)++;
      data[idx] = v;
    }
  }
  markDirtyIndices(map, indices);
  if (n > 0) map.version++;
}

/** Marks the slices of the given flat indices dirty. */
function markDirtyIndices(map: LabelMap, indices: Uint32Array): void {
  const dirty = map.dirtyFlags;
  const sliceSize = map.sliceSize;
  const n = indices.length;
  let start = 1;
  let end = 0; // empty range: the first index marks its slice
  for (let m = 0; m < n; m++) {
    const idx = indices[m] as number;
    if (idx >= start && idx < end) continue;
    const k = Math.floor(idx / sliceSize);
    dirty[k] = 1;
    start = k * sliceSize;
    end = start + sliceSize;
  }
}

/**
 * Records (flat index, old value) pairs while an operation writes, and turns them into an
 * {@link EditDiff}. With `dedupe` (a bitset over the whole volume) only the first change of
 * each voxel is kept — the value before the whole stroke — so several steps merge into one diff.
 */
export class DiffRecorder {
  private idx: Uint32Array;
  private old: LabelArray;
  private n = 0;

  constructor(
    readonly map: LabelMap,
    private readonly seen: Uint8Array | null = null,
    initialCapacity = 4096,
  ) {
    this.idx = new Uint32Array(initialCapacity);
    this.old = map.data instanceof Uint16Array ? new Uint16Array(initialCapacity) : new Uint8Array(initialCapacity);
  }

  get size(): number {
    return this.n;
  }

  /** Records that voxel `index` is about to change from `oldValue`. */
  add(index: number, oldValue: number): void {
    const seen = this.seen;
    if (seen !== null) {
      const byte = index >>> 3;
      const bit = 1 << (index & 7);
      const b = seen[byte] as number;
      if ((b & bit) !== 0) return;
      seen[byte] = b | bit;
    }
    if (this.n === this.idx.length) this.grow();
    this.idx[this.n] = index;
    this.old[this.n] = oldValue;
    this.n++;
  }

  private grow(): void {
    const cap = this.idx.length * 2;
    const idx = new Uint32Array(cap);
    idx.set(this.idx);
    this.idx = idx;
    const old = this.old instanceof Uint16Array ? new Uint16Array(cap) : new Uint8Array(cap);
    old.set(this.old);
    this.old = old;
  }

  /**
   * The diff of everything recorded, with the after values read from the map (so a voxel
   * painted then erased within one stroke drops out), or null when nothing changed. Clears
   * the recorder (and its bits in the dedupe bitset) for reuse.
   */
  finish(): EditDiff | null {
    const n = this.n;
    const data = this.map.data;
    const srcIdx = this.idx;
    const srcOld = this.old;
    this.n = 0;
    // Clear the dedupe bits of the recorded voxels only (O(changed), not O(volume)).
    const seen = this.seen;
    if (seen !== null) for (let m = 0; m < n; m++) seen[(srcIdx[m] as number) >>> 3] = 0;
    // Compact in place: drop voxels that ended where they started; note whether one value was written.
    let kept = 0;
    let constant = -1;
    let mixed = false;
    for (let m = 0; m < n; m++) {
      const idx = srcIdx[m] as number;
      const was = srcOld[m] as number;
      const now = data[idx] as number;
      if (now === was) continue;
      if (now !== constant) {
        if (constant < 0) constant = now;
        else mixed = true;
      }
      srcIdx[kept] = idx;
      srcOld[kept] = was;
      kept++;
    }
    if (kept === 0) return null;
    const indices = srcIdx.slice(0, kept);
    const before = srcOld.slice(0, kept);
    let after: LabelArray | number = constant;
    if (mixed) {
      const arr = srcOld instanceof Uint16Array ? new Uint16Array(kept) : new Uint8Array(kept);
      for (let m = 0; m < kept; m++) arr[m] = data[indices[m] as number] as number;
      after = arr;
    }
    // Do not pin a large growth buffer after a big edit.
    if (this.idx.length > 1 << 20) {
      this.idx = new Uint32Array(4096);
      this.old = srcOld instanceof Uint16Array ? new Uint16Array(4096) : new Uint8Array(4096);
    }
    return makeDiff(indices, before, after);
  }
}

// ---------------------------------------------------------------------------------------------
// History

export interface EditHistoryOptions {
  /** Memory budget of all stored diffs (undo + redo) in bytes; default 64 MB. */
  maxBytes?: number;
}

/**
 * Undo/redo stacks of {@link EditDiff}s with a byte budget: pushing beyond it drops the oldest
 * undo steps (then redo steps). A single diff larger than the whole budget is not kept (the
 * history is emptied instead), so memory never exceeds the budget.
 */
export class EditHistory {
  readonly maxBytes: number;
  private readonly undoStack: EditDiff[] = [];
  private readonly redoStack: EditDiff[] = [];
  private bytes = 0;

  constructor(options: EditHistoryOptions = {}) {
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    if (!(maxBytes > 0)) throw new RangeError(`maxBytes must be positive, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Records a diff that was just applied (null is ignored). Clears the redo stack. */
  push(diff: EditDiff | null): void {
    if (diff === null) return;
    for (const d of this.redoStack) this.bytes -= d.byteLength;
    this.redoStack.length = 0;
    if (diff.byteLength > this.maxBytes) {
      this.clear();
      return;
    }
    this.undoStack.push(diff);
    this.bytes += diff.byteLength;
    let drop = 0;
    while (this.bytes > this.maxBytes) {
      this.bytes -= (this.undoStack[drop] as EditDiff).byteLength;
      drop++;
    }
    if (drop > 0) this.undoStack.splice(0, drop);
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Steps available to undo / redo. */
  get undoDepth(): number {
    return this.undoStack.length;
  }

  get redoDepth(): number {
    return this.redoStack.length;
  }

  /** Bytes held by all stored diffs. */
  get byteLength(): number {
    return this.bytes;
  }

  /** Reverts the newest edit on `map`; returns its diff, or null when there is nothing to undo. */
  undo(map: LabelMap): EditDiff | null {
    const diff = this.undoStack.pop();
    if (diff === undefined) return null;
    applyDiff(map, diff, 'undo');
    this.redoStack.push(diff);
    return diff;
  }

  /** Re-applies the newest undone edit; returns its diff, or null when there is nothing to redo. */
  redo(map: LabelMap): EditDiff | null {
    const diff = this.redoStack.pop();
    if (diff === undefined) return null;
    applyDiff(map, diff, 'redo');
    this.undoStack.push(diff);
    return diff;
  }

  clear(): void {
    this.undoStack.length = 0;
    this.redoStack.length = 0;
    this.bytes = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Scanning

/**
 * Calls `visit(flatIndex)` for every voxel holding `value` (≥ 1), in increasing index order,
 * and stops once all of them (known from the counts) were seen. Background is skipped 4 bytes
 * at a time through a 32-bit view, so mostly-empty volumes scan fast.
 */
export function forEachVoxelOf(map: LabelMap, value: number, visit: (index: number) => void): void {
  const total = map.segmentVoxelCount(value);
  if (total === 0 || value === 0) return;
  const data = map.data;
  const per = 4 / data.BYTES_PER_ELEMENT; // labels per 32-bit word
  const aligned = data.byteOffset % 4 === 0;
  const nWords = aligned ? Math.floor(data.length / per) : 0;
  const words = new Uint32Array(data.buffer, data.byteOffset, nWords);
  let found = 0;
  for (let w = 0; w < nWords; w++) {
    if (words[w] === 0) continue;
    const base = w * per;
    for (let e = 0; e < per; e++) {
      if (data[base + e] === value) {
        visit(base + e);
        if (++found === total) return;
      }
    }
  }
  for (let idx = nWords * per; idx < data.length; idx++) {
    if (data[idx] === value) {
      visit(idx);
      if (++found === total) return;
    }
  }
}
