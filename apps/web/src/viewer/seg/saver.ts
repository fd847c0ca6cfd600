// Label-map autosave: after edits (debounced), uploads only the slices changed since the last
// successful save as a CLM1 PATCH against the last saved sha (a FULL container the first time),
// and hands the new sha to the page (onSaved) so it can go into the document's labelmap object.
//
// Rules:
// * the slices of a request are marked saved when the request is built; edits made while it is
//   in flight mark their slices dirty again; a failed request marks its slices dirty again, so
//   nothing is lost and nothing is sent twice needlessly;
// * network failures and 5xx (also 408/429) retry with exponential backoff (1 s → 30 s) and at
//   once on the browser's `online` event; state 'offline';
// * a 404 for a patch (the server does not know the base) falls back to a full container once;
// * other 4xx stop autosaving (state 'error') until retry().

import { encodeLabelmap, type LabelMap } from '@caliper/core/labelmap';
import { csrfHeaders, enc, problemFromBody } from '../../api';
import type { SegmentRef } from './segments';

export type SegSaveState = 'saved' | 'pending' | 'saving' | 'offline' | 'error';

export interface SegSaved {
  /** sha256 of the stored full container: the labelmap object's `blob`. */
  sha: string;
  shape: [number, number, number];
  /** Segments that had voxels in the saved label map (the labelmap object's `segments`). */
  segments: SegmentRef[];
}

/** What the saver reads from its session. */
export interface SegSaverSource {
  readonly map: LabelMap;
  /** A pointer drag is running: the debounce waits for its end. */
  readonly inStroke: boolean;
  /** Segments with at least one voxel now. */
  usedSegments(): SegmentRef[];
}

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface SegSaverOptions {
  assetId: string;
  /** sha of the label map the session was opened from (patches start from it); null: first save is full. */
  base: string | null;
  fetch?: FetchLike;
  debounceMs?: number;
  minRetryMs?: number;
  maxRetryMs?: number;
  onSaved?: (saved: SegSaved) => void;
  /** The next save must be a full container even with a base (e.g. the stored dtype differs). */
  forceFull?: boolean;
}

export const SEG_SAVE_DEBOUNCE_MS = 700;

export class SegSaver {
  readonly assetId: string;
  state: SegSaveState = 'saved';
  /** Human-readable problem of the last failed request (state 'error' or 'offline'). */
  error: string | null = null;
  /** When the next automatic retry happens (ms since epoch), in state 'offline'. */
  retryAt: number | null = null;
  /** sha of the last stored full container (null before the first save of a new map). */
  base: string | null;
  /** Request body bytes of the last request sent, and how many slices it carried. */
  lastRequestBytes = 0;
  lastRequestSlices = 0;
  onSaved: ((saved: SegSaved) => void) | undefined;

  private readonly source: SegSaverSource;
  private readonly fetchImpl: FetchLike;
  private readonly debounceMs: number;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;
  private forceFull = false;
  private inFlight: Promise<void> | null = null;
  private debounceTimer: ReturnType<typeof setTimeout> | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryDelay = 0;
  private disposed = false;
  private listeners = new Set<() => void>();
  private readonly onOnline = () => {
    if (this.state === 'offline') this.retryNow();
  };

  constructor(source: SegSaverSource, opts: SegSaverOptions) {
    this.source = source;
    this.assetId = opts.assetId;
    this.base = opts.base;
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    this.debounceMs = opts.debounceMs ?? SEG_SAVE_DEBOUNCE_MS;
    this.minRetryMs = opts.minRetryMs ?? 1000;
    this.maxRetryMs = opts.maxRetryMs ?? 30_000;
    this.onSaved = opts.onSaved;
    this.forceFull = opts.forceFull === true && opts.base !== null;
    if (typeof globalThis.addEventListener === 'function') globalThis.addEventListener('online', this.onOnline);
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Whether something has not reached the server yet. */
  get hasUnsaved(): boolean {
    return this.forceFull || this.source.map.dirtySlices().size > 0;
  }

  /** Call after every finished edit (stroke end, fill, undo, ...): schedules a save. */
  changed(): void {
    if (this.disposed) return;
    if (this.state === 'error' || this.state === 'offline' || this.inFlight) return; // picked up after the running request / by the retry
    this.setState('pending');
    this.scheduleDebounce();
  }

  /**
   * Saves now (also while offline or after an error) and resolves with the resulting state:
   * 'saved' when everything reached the server, otherwise 'offline' or 'error' (retries go on).
   */
  async flush(): Promise<SegSaveState> {
    this.clearDebounce();
    let attempted = false;
    for (let guard = 0; guard < 6 && !this.disposed; guard++) {
      if (this.inFlight) {
        await this.inFlight;
        continue;
      }
      if (!this.hasUnsaved) {
        this.clearRetry();
        this.error = null;
        this.setState('saved');
        return this.state;
      }
      if (attempted && (this.state === 'offline' || this.state === 'error')) return this.state;
      this.clearRetry();
      attempted = true;
      await this.start();
    }
    return this.state;
  }

  /** Retry button: tries again at once, whatever the state. */
  retryNow(): void {
    if (this.disposed) return;
    this.clearRetry();
    this.clearDebounce();
    if (this.inFlight) return;
    if (!this.hasUnsaved) {
      this.error = null;
      this.setState('saved');
      return;
    }
    void this.start();
  }

  dispose(): void {
    this.disposed = true;
    this.clearDebounce();
    this.clearRetry();
    this.listeners.clear();
    if (typeof globalThis.removeEventListener === 'function') globalThis.removeEventListener('online', this.onOnline);
  }

  private setState(s: SegSaveState): void {
    this.state = s;
    for (const fn of [...this.listeners]) fn();
  }

  private scheduleDebounce(): void {
    this.clearDebounce();
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      if (this.source.inStroke) {
        this.scheduleDebounce(); // wait for the drag to end (endStroke calls changed() again)
        return;
      }
      if (!this.inFlight) void this.start();
    }, this.debounceMs);
  }

  private clearDebounce(): void {
    if (this.debounceTimer !== null) clearTimeout(this.debounceTimer);
    this.debounceTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.retryAt = null;
  }

  private start(): Promise<void> {
    const p = this.send().finally(() => {
      if (this.inFlight === p) this.inFlight = null;
      // Edits that arrived while saving: save them too.
      if (!this.disposed && this.state === 'saved' && this.hasUnsaved) {
        this.setState('pending');
        this.scheduleDebounce();
      }
    });
    this.inFlight = p;
    return p;
  }

  private async send(): Promise<void> {
    const map = this.source.map;
    const dirty = map.dirtySlices();
    const full = this.base === null || this.forceFull;
    if (!full && dirty.size === 0) {
      this.setState('saved');
      return;
    }
    if (full && dirty.size === 0 && !this.forceFull) {
      this.setState('saved');
      return;
    }
    const shape: [number, number, number] = [map.dims[0], map.dims[1], map.dims[2]];
    const segments = this.source.usedSegments();
    let body: Uint8Array<ArrayBuffer>;
    try {
      body = encodeLabelmap({
        shape,
        dtype: map.data instanceof Uint16Array ? 'uint16' : 'uint8',
        slices: (k) => map.sliceView(k),
        ...(full ? {} : { only: dirty, base: this.base! }),
        // The first save of a map that started empty: every painted slice is still dirty, so
        // the others are background and need not be scanned.
        ...(full && this.base === null && !this.forceFull ? { knownEmpty: (k: number) => !dirty.has(k) } : {}),
      }) as Uint8Array<ArrayBuffer>;
    } catch (err) {
      this.fail('error', err instanceof Error ? err.message : 'The label map could not be encoded.');
      return;
    }
    // From here on, new edits mark their slices dirty again.
    map.markSaved();
    this.lastRequestBytes = body.byteLength;
    this.lastRequestSlices = full ? shape[2] : dirty.size;
    this.setState('saving');
    const restore = () => {
      for (const k of dirty) map.markDirty(k);
    };
    let res: Response;
    try {
      res = await this.fetchImpl(`/api/assets/${enc(this.assetId)}/labelmaps`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream', Accept: 'application/json', ...csrfHeaders('POST') },
        body,
        credentials: 'same-origin',
      });
    } catch {
      restore();
      this.backoff('Cannot reach the server. Check your connection.');
      return;
    }
    if (this.disposed) return;
    if (res.ok) {
      let sha: unknown;
      try {
        sha = ((await res.json()) as { sha?: unknown }).sha;
      } catch {
        sha = undefined;
      }
      if (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)) {
        restore();
        this.fail('error', 'The server did not answer with the sha of the saved label map.');
        return;
      }
      this.base = sha;
      this.forceFull = false;
      this.retryDelay = 0;
      this.error = null;
      this.clearRetry();
      this.setState('saved');
      this.onSaved?.({ sha, shape, segments });
      return;
    }
    restore();
    let detail = `HTTP ${res.status}`;
    try {
      const type = res.headers.get('content-type') ?? '';
      detail = problemFromBody(res.status, type.includes('json') ? await res.json() : null, `The label map could not be saved (HTTP ${res.status}).`).detail;
    } catch {
      /* keep the status line */
    }
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      this.backoff(detail);
      return;
    }
    if (res.status === 404 && !full) {
      // The server does not know our base (e.g. it was stored elsewhere): send everything once.
      this.forceFull = true;
      await this.send();
      return;
    }
    this.fail('error', detail);
  }

  private fail(state: 'error' | 'offline', message: string): void {
    this.error = message;
    this.setState(state);
  }

  private backoff(message: string): void {
    this.retryDelay = this.retryDelay === 0 ? this.minRetryMs : Math.min(this.maxRetryMs, this.retryDelay * 2);
    this.clearRetry();
    this.retryAt = Date.now() + this.retryDelay;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retryAt = null;
      if (!this.inFlight) void this.start();
    }, this.retryDelay);
    this.fail('offline', message);
  }
}
