import { useSyncExternalStore } from 'react';
import { api, ApiError, enc } from '../api';
import type { AnnotationDocument, AnnotationsResponse } from '../types';

// The annotation sync engine. One store for the whole app (not per component) so that a save
// that is waiting for the network keeps retrying after the annotator moves to the next asset.
//
// Rules:
// * every edit bumps `version`; a save sends {baseRevision, document} and, on success, marks
//   the version it sent as saved and adopts the new revision;
// * 409 stops saving for that asset until the person chooses "Load theirs" or "Keep mine";
//   nothing is ever overwritten silently;
// * network failures and 5xx retry with exponential backoff, and at once on `online`;
// * unsaved documents are mirrored to localStorage, so closing the tab or a crash loses nothing;
//   they are offered again (or saved) the next time the asset is opened.

export type SaveStatus = 'loading' | 'saved' | 'pending' | 'saving' | 'offline' | 'conflict' | 'error';

export interface EntrySnapshot {
  key: string;
  jobId: string;
  assetId: string;
  loaded: boolean;
  loadError: unknown;
  doc: AnnotationDocument;
  revision: number;
  status: SaveStatus;
  dirty: boolean;
  conflict: { currentRevision: number | null; detail: string } | null;
  error: ApiError | null;
  retryAt: number | null;
  canUndo: boolean;
  canRedo: boolean;
  updatedAt: string | null;
  updatedBy: string | null;
}

interface Entry {
  key: string;
  jobId: string;
  assetId: string;
  loaded: boolean;
  loading: Promise<void> | null;
  loadError: unknown;
  doc: AnnotationDocument;
  revision: number;
  version: number;
  savedVersion: number;
  inFlight: boolean;
  status: SaveStatus;
  conflict: EntrySnapshot['conflict'];
  error: ApiError | null;
  retryDelay: number;
  retryAt: number | null;
  retryTimer: ReturnType<typeof setTimeout> | null;
  debounceTimer: ReturnType<typeof setTimeout> | null;
  undo: AnnotationDocument[];
  redo: AnnotationDocument[];
  coalesceKey: string | null;
  coalesceAt: number;
  updatedAt: string | null;
  updatedBy: string | null;
  snap: EntrySnapshot;
}

interface PendingRecord {
  baseRevision: number;
  document: AnnotationDocument;
  savedAt: string;
}

export const DEBOUNCE_MS = 600;
const MAX_RETRY_MS = 30_000;
const UNDO_LIMIT = 200;
const EMPTY_DOC: AnnotationDocument = { objects: [] };

const keyOf = (jobId: string, assetId: string) => `${jobId}/${assetId}`;

class SyncStore {
  private entries = new Map<string, Entry>();
  private listeners = new Set<() => void>();
  private waiters = new Set<() => void>();
  private flushHooks = new Map<string, () => Promise<SaveStatus>>();
  private unsavedChecks = new Set<() => boolean>();
  private userId = 'anonymous';
  private globalVersion = 0;

  constructor() {
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => this.retryAll());
      window.addEventListener('beforeunload', (e) => {
        if (this.hasUnsaved()) {
          e.preventDefault();
          e.returnValue = '';
        }
      });
    }
  }

  /**
   * Documents in memory belong to the person who edited them. When someone else signs in in
   * this tab, forget them (their unsent copies stay in localStorage under the first user).
   */
  setUser(id: string): void {
    if (id === this.userId) return;
    if (this.userId !== 'anonymous') this.reset();
    this.userId = id;
  }

  reset(): void {
    for (const e of this.entries.values()) {
      if (e.debounceTimer) clearTimeout(e.debounceTimer);
      if (e.retryTimer) clearTimeout(e.retryTimer);
    }
    this.entries.clear();
    this.globalVersion++;
    for (const fn of this.listeners) fn();
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getVersion = (): number => this.globalVersion;

  snapshot(jobId: string, assetId: string): EntrySnapshot | null {
    return this.entries.get(keyOf(jobId, assetId))?.snap ?? null;
  }

  /** Documents of this job already in memory (for progress that reflects local edits). */
  docsOfJob(jobId: string): Map<string, EntrySnapshot> {
    const out = new Map<string, EntrySnapshot>();
    for (const e of this.entries.values()) if (e.jobId === jobId && e.loaded) out.set(e.assetId, e.snap);
    return out;
  }

  hasUnsaved(): boolean {
    for (const e of this.entries.values()) if (e.version > e.savedVersion || e.inFlight) return true;
    for (const check of this.unsavedChecks) if (check()) return true;
    return false;
  }

  /** Other unsaved state (a label map not uploaded yet) that must also warn before leaving. */
  addUnsavedCheck(check: () => boolean): () => void {
    this.unsavedChecks.add(check);
    return () => this.unsavedChecks.delete(check);
  }

  unsavedCount(jobId?: string): number {
    let n = 0;
    for (const e of this.entries.values()) if ((!jobId || e.jobId === jobId) && (e.version > e.savedVersion || e.inFlight)) n++;
    return n;
  }

  private emit(e: Entry): void {
    const dirty = e.version > e.savedVersion;
    e.snap = {
      key: e.key,
      jobId: e.jobId,
      assetId: e.assetId,
      loaded: e.loaded,
      loadError: e.loadError,
      doc: e.doc,
      revision: e.revision,
      status: e.status,
      dirty,
      conflict: e.conflict,
      error: e.error,
      retryAt: e.retryAt,
      canUndo: e.undo.length > 0,
      canRedo: e.redo.length > 0,
      updatedAt: e.updatedAt,
      updatedBy: e.updatedBy,
    };
    this.globalVersion++;
    for (const fn of this.listeners) fn();
    for (const w of [...this.waiters]) w();
  }

  // ---------- persistence of unsent work ----------

  private storageKey(e: Entry): string {
    return `caliper.unsaved.v1:${this.userId}:${e.jobId}:${e.assetId}`;
  }
  private persist(e: Entry): void {
    try {
      if (e.version > e.savedVersion) {
        const rec: PendingRecord = { baseRevision: e.revision, document: e.doc, savedAt: new Date().toISOString() };
        localStorage.setItem(this.storageKey(e), JSON.stringify(rec));
      } else localStorage.removeItem(this.storageKey(e));
    } catch {
      // Storage full or disabled: the in-memory copy and the beforeunload warning remain.
    }
  }
  private readPending(e: Entry): PendingRecord | null {
    try {
      const raw = localStorage.getItem(this.storageKey(e));
      if (!raw) return null;
      const rec = JSON.parse(raw) as PendingRecord;
      return rec && typeof rec.baseRevision === 'number' && rec.document && Array.isArray(rec.document.objects) ? rec : null;
    } catch {
      return null;
    }
  }

  // ---------- loading ----------

  /** Makes sure the asset's document is in memory; refreshes a clean cached copy in the background. */
  ensure(jobId: string, assetId: string): void {
    const key = keyOf(jobId, assetId);
    let e = this.entries.get(key);
    if (!e) {
      e = {
        key,
        jobId,
        assetId,
        loaded: false,
        loading: null,
        loadError: null,
        doc: EMPTY_DOC,
        revision: 0,
        version: 0,
        savedVersion: 0,
        inFlight: false,
        status: 'loading',
        conflict: null,
        error: null,
        retryDelay: 1000,
        retryAt: null,
        retryTimer: null,
        debounceTimer: null,
        undo: [],
        redo: [],
        coalesceKey: null,
        coalesceAt: 0,
        updatedAt: null,
        updatedBy: null,
        snap: null as unknown as EntrySnapshot,
      };
      this.entries.set(key, e);
      this.emit(e);
      void this.load(e);
    } else if (e.loaded && !e.inFlight && e.version === e.savedVersion && !e.conflict && !e.loading) {
      void this.load(e, true);
    } else if (!e.loaded && !e.loading) {
      void this.load(e);
    }
  }

  private load(e: Entry, background = false): Promise<void> {
    if (e.loading) return e.loading;
    if (!background) {
      e.status = 'loading';
      e.loadError = null;
      this.emit(e);
    }
    const versionAtStart = e.version;
    e.loading = api
      .get<AnnotationsResponse>(`/api/jobs/${enc(e.jobId)}/assets/${enc(e.assetId)}/annotations`)
      .then((res) => {
        e.loading = null;
        // The person edited while the refresh was on its way: keep their work.
        if (background && e.version !== versionAtStart) return;
        const serverDoc = res.document && Array.isArray(res.document.objects) ? res.document : { ...EMPTY_DOC };
        e.updatedAt = res.updatedAt ?? null;
        e.updatedBy = res.updatedBy ?? null;
        const pending = !e.loaded ? this.readPending(e) : null;
        e.loaded = true;
        e.loadError = null;
        if (pending) {
          // Work left over from an earlier visit that never reached the server.
          e.doc = pending.document;
          e.version = e.savedVersion + 1;
          if (pending.baseRevision === res.revision) {
            e.revision = res.revision;
            e.status = 'pending';
            this.emit(e);
            void this.saveNow(e.jobId, e.assetId);
          } else {
            e.revision = pending.baseRevision;
            e.status = 'conflict';
            e.conflict = {
              currentRevision: res.revision,
              detail: 'Unsaved changes from an earlier session were found, but the asset has been saved elsewhere since.',
            };
            this.emit(e);
          }
          return;
        }
        if (background && e.revision === res.revision) {
          this.emit(e);
          return;
        }
        e.doc = serverDoc;
        e.revision = res.revision;
        e.status = 'saved';
        this.emit(e);
      })
      .catch((err: unknown) => {
        e.loading = null;
        if (background) return;
        e.loadError = err;
        e.status = 'error';
        this.emit(e);
      });
    return e.loading;
  }

  // ---------- editing ----------

  /**
   * Applies an edit. `undoable: false` is for bookkeeping that follows another history (a
   * label map's new blob after its own undoable stroke): it is saved like any edit but is not
   * an undo step and keeps the redo stack.
   */
  edit(jobId: string, assetId: string, update: (doc: AnnotationDocument) => AnnotationDocument, coalesce?: string, opts: { undoable?: boolean } = {}): void {
    const e = this.entries.get(keyOf(jobId, assetId));
    if (!e || !e.loaded) return;
    const next = update(e.doc);
    if (next === e.doc) return;
    if (opts.undoable === false) {
      this.apply(e, next);
      return;
    }
    const now = Date.now();
    const coalesced = coalesce !== undefined && coalesce === e.coalesceKey && now - e.coalesceAt < 1500;
    if (!coalesced) {
      e.undo.push(e.doc);
      if (e.undo.length > UNDO_LIMIT) e.undo.shift();
    }
    e.coalesceKey = coalesce ?? null;
    e.coalesceAt = now;
    e.redo = [];
    this.apply(e, next);
  }

  undo(jobId: string, assetId: string): boolean {
    const e = this.entries.get(keyOf(jobId, assetId));
    const prev = e?.undo.pop();
    if (!e || !prev) return false;
    e.redo.push(e.doc);
    e.coalesceKey = null;
    this.apply(e, prev);
    return true;
  }

  redo(jobId: string, assetId: string): boolean {
    const e = this.entries.get(keyOf(jobId, assetId));
    const next = e?.redo.pop();
    if (!e || !next) return false;
    e.undo.push(e.doc);
    e.coalesceKey = null;
    this.apply(e, next);
    return true;
  }

  private apply(e: Entry, doc: AnnotationDocument): void {
    e.doc = doc;
    e.version++;
    if (!e.conflict && e.status !== 'offline') e.status = e.inFlight ? 'saving' : 'pending';
    this.persist(e);
    this.emit(e);
    this.schedule(e, DEBOUNCE_MS);
  }

  private schedule(e: Entry, delay: number): void {
    if (e.conflict) return;
    if (e.debounceTimer) clearTimeout(e.debounceTimer);
    e.debounceTimer = setTimeout(() => {
      e.debounceTimer = null;
      void this.saveNow(e.jobId, e.assetId);
    }, delay);
  }

  // ---------- saving ----------

  async saveNow(jobId: string, assetId: string): Promise<void> {
    const e = this.entries.get(keyOf(jobId, assetId));
    if (!e || !e.loaded) return;
    if (e.debounceTimer) {
      clearTimeout(e.debounceTimer);
      e.debounceTimer = null;
    }
    if (e.retryTimer) {
      clearTimeout(e.retryTimer);
      e.retryTimer = null;
      e.retryAt = null;
    }
    if (e.inFlight || e.conflict) return;
    if (e.version === e.savedVersion) {
      if (e.status !== 'saved') {
        e.status = 'saved';
        this.emit(e);
      }
      return;
    }
    if (typeof navigator !== 'undefined' && navigator.onLine === false) {
      this.goOffline(e);
      return;
    }
    const sentVersion = e.version;
    const sentDoc = e.doc;
    e.inFlight = true;
    e.status = 'saving';
    e.error = null;
    this.emit(e);
    try {
      const res = await api.put<{ revision: number; updatedAt: string }>(
        `/api/jobs/${enc(e.jobId)}/assets/${enc(e.assetId)}/annotations`,
        { baseRevision: e.revision, document: sentDoc },
      );
      e.inFlight = false;
      e.revision = res.revision;
      e.updatedAt = res.updatedAt ?? new Date().toISOString();
      e.updatedBy = null;
      e.savedVersion = Math.max(e.savedVersion, sentVersion);
      e.retryDelay = 1000;
      e.retryAt = null;
      e.status = e.version > e.savedVersion ? 'pending' : 'saved';
      this.persist(e);
      this.emit(e);
      if (e.version > e.savedVersion) this.schedule(e, 0);
    } catch (err) {
      e.inFlight = false;
      const apiErr = err instanceof ApiError ? err : new ApiError(0, String(err));
      if (apiErr.status === 409 && typeof apiErr.body.currentRevision === 'number') {
        const current = apiErr.body.currentRevision;
        e.status = 'conflict';
        e.conflict = {
          currentRevision: current,
          detail: apiErr.detail,
        };
        this.emit(e);
      } else if (apiErr.isNetwork || apiErr.status >= 500 || apiErr.status === 429) {
        this.goOffline(e, apiErr);
      } else {
        // 401/403/404/422...: retrying the same body would fail the same way. Keep the work
        // (memory + localStorage); the next edit or "Retry" tries again.
        e.status = 'error';
        e.error = apiErr;
        this.emit(e);
      }
    }
  }

  private goOffline(e: Entry, err?: ApiError): void {
    e.status = 'offline';
    e.error = err ?? null;
    const delay = e.retryDelay;
    e.retryDelay = Math.min(MAX_RETRY_MS, e.retryDelay * 2);
    e.retryAt = Date.now() + delay;
    if (e.retryTimer) clearTimeout(e.retryTimer);
    e.retryTimer = setTimeout(() => {
      e.retryTimer = null;
      e.retryAt = null;
      void this.saveNow(e.jobId, e.assetId);
    }, delay);
    this.emit(e);
  }

  retryAll(): void {
    for (const e of this.entries.values()) {
      if ((e.status === 'offline' || e.status === 'error') && e.version > e.savedVersion && !e.conflict) {
        e.retryDelay = 1000;
        void this.saveNow(e.jobId, e.assetId);
      }
    }
  }

  retry(jobId: string, assetId: string): void {
    const e = this.entries.get(keyOf(jobId, assetId));
    if (!e) return;
    e.retryDelay = 1000;
    if (!e.loaded) void this.load(e);
    else void this.saveNow(jobId, assetId);
  }

  /**
   * Sends any pending change now and waits until the asset is saved or cannot be (offline,
   * conflict, error). Resolves with the resulting status.
   */
  /**
   * Work that must reach the server before the document does (a label map's blob, which the
   * document references): `flush` awaits it first. Returns a function that removes the hook.
   */
  addFlushHook(jobId: string, assetId: string, hook: () => Promise<SaveStatus>): () => void {
    const key = keyOf(jobId, assetId);
    this.flushHooks.set(key, hook);
    return () => {
      if (this.flushHooks.get(key) === hook) this.flushHooks.delete(key);
    };
  }

  async flush(jobId: string, assetId: string, timeoutMs = 10_000): Promise<SaveStatus> {
    const hook = this.flushHooks.get(keyOf(jobId, assetId));
    if (hook) {
      const first = await hook();
      if (first !== 'saved') return first;
    }
    const e = this.entries.get(keyOf(jobId, assetId));
    if (!e) return 'saved';
    if (e.loading && !e.loaded) await e.loading;
    if (e.version > e.savedVersion && !e.inFlight) void this.saveNow(jobId, assetId);
    const settled = () =>
      !e.inFlight && !e.debounceTimer && (e.version === e.savedVersion || e.status === 'offline' || e.status === 'conflict' || e.status === 'error');
    if (settled()) return e.version === e.savedVersion ? 'saved' : e.status;
    return new Promise<SaveStatus>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(e.status);
      }, timeoutMs);
      const check = () => {
        if (e.version > e.savedVersion && !e.inFlight && !e.debounceTimer && e.status === 'pending') void this.saveNow(jobId, assetId);
        if (settled()) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(e.version === e.savedVersion ? 'saved' : e.status);
        }
      };
      this.waiters.add(check);
    });
  }

  async flushJob(jobId: string): Promise<{ assetId: string; status: SaveStatus }[]> {
    const list = [...this.entries.values()].filter((e) => e.jobId === jobId);
    const results = await Promise.all(list.map(async (e) => ({ assetId: e.assetId, status: await this.flush(jobId, e.assetId) })));
    return results.filter((r) => r.status !== 'saved');
  }

  // ---------- conflict resolution ----------

  /** Discards local changes and shows the latest saved document. Mine stays on the undo stack. */
  async loadTheirs(jobId: string, assetId: string): Promise<void> {
    const e = this.entries.get(keyOf(jobId, assetId));
    if (!e) return;
    const mine = e.doc;
    const res = await api.get<AnnotationsResponse>(`/api/jobs/${enc(jobId)}/assets/${enc(assetId)}/annotations`);
    e.undo.push(mine);
    e.redo = [];
    e.doc = res.document && Array.isArray(res.document.objects) ? res.document : { ...EMPTY_DOC };
    e.revision = res.revision;
    e.updatedAt = res.updatedAt ?? null;
    e.updatedBy = res.updatedBy ?? null;
    e.savedVersion = e.version;
    e.conflict = null;
    e.error = null;
    e.status = 'saved';
    this.persist(e);
    this.emit(e);
  }

  /** Saves my document on top of the newest revision, after the person chose to. */
  async keepMine(jobId: string, assetId: string): Promise<void> {
    const e = this.entries.get(keyOf(jobId, assetId));
    if (!e || !e.conflict) return;
    let current = e.conflict.currentRevision;
    if (current === null) {
      const res = await api.get<AnnotationsResponse>(`/api/jobs/${enc(jobId)}/assets/${enc(assetId)}/annotations`);
      current = res.revision;
    }
    e.revision = current;
    e.conflict = null;
    if (e.version === e.savedVersion) e.version++;
    e.status = 'pending';
    this.persist(e);
    this.emit(e);
    await this.saveNow(jobId, assetId);
  }
}

export const syncStore = new SyncStore();

export function useEntry(jobId: string, assetId: string): EntrySnapshot | null {
  return useSyncExternalStore(syncStore.subscribe, () => syncStore.snapshot(jobId, assetId));
}

/** Re-renders on any store change; returns a number that changes with it. */
export function useStoreVersion(): number {
  return useSyncExternalStore(syncStore.subscribe, syncStore.getVersion);
}
