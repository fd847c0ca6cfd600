// An imaging asset's frames in one typed array, filled progressively from the ingest API:
// the frame the viewer opens on first (single-frame endpoint), then the rest in slabs, a few
// requests in flight. Samples stay at their stored bit depth; rescale is applied on display.

import { enc } from '../api';
import type { ImagingMeta } from '../types';
import { decodeFrame, makeArray, type Samples } from '../imaging/pixels';
import { loadFrame } from '../imaging/SliceViewer';

/**
 * At most this many bytes per slab request (whole frames, at most the server's 1024). Measured
 * in headless Chromium on the 512×512×300 int16 CT (bench/viewer.mjs): slabs of 32 frames
 * (16 MB), 3 in flight, took 2.4× a static transfer of the same bytes, mostly per-request cost
 * in the browser; 3 slabs of 100 frames (52 MB) took 1.2–1.6×.
 */
export const SLAB_BYTES = 64 << 20;
const MAX_SLAB_FRAMES = 1024;
const IN_FLIGHT = 3;

/**
 * Frames per slab request: the frames split evenly over rounds of IN_FLIGHT requests, each
 * at most SLAB_BYTES (so no short slab is left to load alone at the end).
 */
export function slabFrames(frames: number, frameBytes: number): number {
  const maxPer = Math.max(1, Math.min(MAX_SLAB_FRAMES, Math.floor(SLAB_BYTES / Math.max(1, frameBytes))));
  const rounds = Math.ceil(frames / (IN_FLIGHT * maxPer));
  return Math.max(1, Math.min(maxPer, Math.ceil(frames / (IN_FLIGHT * rounds))));
}

type Listener = () => void;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class ImageVolume {
  readonly assetId: string;
  readonly meta: ImagingMeta;
  readonly cols: number;
  readonly rows: number;
  readonly frames: number;
  readonly samples: number;
  readonly frameSize: number;
  readonly data: Samples;
  /** 1 per frame once its samples are in `data`. */
  readonly loaded: Uint8Array;
  loadedCount = 0;
  error: string | null = null;
  /** performance.now() when loading started / the first frame arrived / everything arrived. */
  startedAt = 0;
  firstFrameAt = 0;
  completeAt = 0;
  private listeners = new Set<Listener>();
  private aborter = new AbortController();
  private emitTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(assetId: string, meta: ImagingMeta, frames: number) {
    this.assetId = assetId;
    this.meta = meta;
    this.cols = meta.dims[0];
    this.rows = meta.dims[1];
    this.frames = frames;
    this.samples = meta.samples;
    this.frameSize = this.cols * this.rows * this.samples;
    this.data = makeArray(meta.dtype, this.frameSize * frames);
    this.loaded = new Uint8Array(frames);
  }

  /** A true 3D grid the MPR views can cut: one sample per voxel, one timepoint, several slices. */
  get isVolume(): boolean {
    return this.meta.kind === 'volume' && this.samples === 1 && this.meta.timepoints <= 1 && this.frames > 1;
  }

  get complete(): boolean {
    return this.loadedCount === this.frames;
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }

  dispose(): void {
    this.aborter.abort();
    if (this.emitTimer) clearTimeout(this.emitTimer);
    this.listeners.clear();
  }

  /** Modality value (rescaled) of voxel (i, j, k), or undefined outside or not loaded yet. */
  value(i: number, j: number, k: number): number | undefined {
    if (i < 0 || j < 0 || k < 0 || i >= this.cols || j >= this.rows || k >= this.frames || !this.loaded[k]) return undefined;
    const v = this.data[(k * this.rows + j) * this.cols * this.samples + i * this.samples]!;
    return v * this.meta.rescale.slope + this.meta.rescale.intercept;
  }

  /** Starts loading; `first` is fetched before anything else so it can be shown at once. */
  load(first: number): void {
    this.startedAt = performance.now();
    performance.mark('caliper:volume-open', { detail: { assetId: this.assetId } });
    const signal = this.aborter.signal;
    const firstFrame = Math.min(this.frames - 1, Math.max(0, first));
    const per = slabFrames(this.frames, this.frameSize * this.data.BYTES_PER_ELEMENT);
    const slabs: number[] = [];
    for (let s = 0; s < this.frames; s += per) slabs.push(s);
    // Slabs nearest the first frame come first.
    slabs.sort((a, b) => Math.abs(a + per / 2 - firstFrame) - Math.abs(b + per / 2 - firstFrame));
    const run = async () => {
      // The opening frame first, alone: measured, starting the slabs alongside it (their chunks
      // keep the main thread busy) delayed the first slice from ~0.45 s to ~1 s. The slabs start
      // once that frame is in and the next animation frame (its first render) has passed.
      const first = this.fetchFrame(firstFrame, signal);
      await first;
      await new Promise<void>((ok) => (typeof requestAnimationFrame === 'function' ? requestAnimationFrame(() => ok()) : ok()));
      let next = 0;
      const worker = async () => {
        while (next < slabs.length && !signal.aborted) {
          const start = slabs[next++]!;
          const count = Math.min(per, this.frames - start);
          let missing = false;
          for (let k = start; k < start + count; k++) if (!this.loaded[k]) missing = true;
          if (missing) await this.fetchSlab(start, count, signal);
        }
      };
      await Promise.all([first, ...Array.from({ length: IN_FLIGHT }, worker)]);
    };
    run().catch((err: unknown) => {
      if (signal.aborted) return;
      this.error = err instanceof Error ? err.message : String(err);
      this.emit();
    });
  }

  /**
   * The opening frame goes through the shared frame cache, which the workspace also warms for
   * the next asset in the job (preload), so moving on shows that frame without a request.
   */
  private async fetchFrame(k: number, signal: AbortSignal): Promise<void> {
    const samples = await loadFrame(this.assetId, k, this.meta);
    if (signal.aborted) return;
    performance.mark('caliper:opening-frame-in');
    this.data.set(samples, k * this.frameSize);
    this.markLoaded(k, 1, true);
  }

  /**
   * Reads a slab as a stream straight into the volume's buffer (no 50 MB intermediate copy);
   * frames count as loaded as soon as their last byte is in, so scrolling there works early.
   */
  private async fetchSlab(start: number, count: number, signal: AbortSignal): Promise<void> {
    const res = await fetch(`/api/assets/${enc(this.assetId)}/frames?start=${start}&count=${count}`, { credentials: 'same-origin', signal });
    if (!res.ok) throw new Error(`Frames ${start + 1}–${start + count} could not be loaded (HTTP ${res.status}).`);
    const got = Number(res.headers.get('x-frame-count') ?? count);
    if (!res.body || !LITTLE_ENDIAN_HOST) {
      this.place(start, got, await res.arrayBuffer());
      return;
    }
    const frameBytes = this.frameSize * this.data.BYTES_PER_ELEMENT;
    const total = got * frameBytes;
    const target = new Uint8Array(this.data.buffer, this.data.byteOffset + start * frameBytes, total);
    const reader = res.body.getReader();
    let offset = 0;
    let framesIn = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (offset + value.byteLength > total) {
        await reader.cancel();
        throw new Error(`Frames ${start + 1}–${start + got} came with more data than expected.`);
      }
      target.set(value, offset);
      offset += value.byteLength;
      const whole = Math.floor(offset / frameBytes);
      if (whole > framesIn) {
        this.markLoaded(start + framesIn, whole - framesIn);
        framesIn = whole;
      }
    }
    if (offset !== total) throw new Error(`Frames ${start + 1}–${start + got} arrived incomplete (${offset} of ${total} bytes).`);
  }

  private markLoaded(start: number, count: number, immediate = false): void {
    for (let k = start; k < start + count; k++) {
      if (!this.loaded[k]) {
        this.loaded[k] = 1;
        this.loadedCount++;
      }
    }
    const now = performance.now();
    if (!this.firstFrameAt) this.firstFrameAt = now;
    if (this.complete && !this.completeAt) {
      this.completeAt = now;
      performance.mark('caliper:volume-complete', { detail: { assetId: this.assetId, ms: now - this.startedAt } });
      this.emit();
      return;
    }
    if (immediate) {
      this.emit();
      return;
    }
    // Many frames arrive per second while streaming: tell the views at most every 100 ms.
    if (!this.emitTimer) {
      this.emitTimer = setTimeout(() => {
        this.emitTimer = null;
        this.emit();
      }, 100);
    }
  }

  private place(start: number, count: number, buf: ArrayBuffer): void {
    const samples = decodeFrame(buf, this.meta.dtype, this.frameSize * count);
    this.data.set(samples, start * this.frameSize);
    this.markLoaded(start, count, true);
  }

}
