import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../api';
import { DEBOUNCE_MS, syncStore } from './sync';

// A tiny fake server for one asset: optimistic concurrency exactly as docs/api.md describes.
function fakeServer() {
  const state = { revision: 0, document: { objects: [] as unknown[] }, puts: [] as { baseRevision: number; csrf: string | null }[], offline: false };
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': status >= 400 ? 'application/problem+json' : 'application/json' } });
  const fetchMock = vi.fn(async (url: string, init?: RequestInit) => {
    if (state.offline) throw new TypeError('Failed to fetch');
    if (!url.includes('/annotations')) return json(404, { detail: 'nope' });
    if (!init?.method || init.method === 'GET') return json(200, { revision: state.revision, document: state.document, updatedAt: null, updatedBy: null });
    const body = JSON.parse(String(init.body)) as { baseRevision: number; document: { objects: unknown[] } };
    state.puts.push({ baseRevision: body.baseRevision, csrf: (init.headers as Record<string, string>)['X-CSRF-Token'] ?? null });
    if (body.baseRevision !== state.revision) return json(409, { status: 409, detail: 'stale', currentRevision: state.revision });
    state.revision++;
    state.document = body.document;
    return json(200, { revision: state.revision, updatedAt: new Date().toISOString() });
  });
  return { state, fetchMock };
}

const tag = (label: string) => ({ id: label, kind: 'tag', label, attributes: {}, scope: { type: 'asset' } });

let n = 0;
describe('sync store', () => {
  let server: ReturnType<typeof fakeServer>;
  let job: string;
  beforeEach(() => {
    vi.useFakeTimers();
    server = fakeServer();
    vi.stubGlobal('fetch', server.fetchMock);
    setCsrfToken('csrf-1');
    job = `job${++n}`;
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  async function loaded(asset: string) {
    syncStore.ensure(job, asset);
    await vi.waitFor(() => expect(syncStore.snapshot(job, asset)?.loaded).toBe(true));
  }

  it('debounces edits into one save with the CSRF header and adopts the new revision', async () => {
    await loaded('a');
    syncStore.edit(job, 'a', (d) => ({ ...d, objects: [tag('A')] }));
    syncStore.edit(job, 'a', (d) => ({ ...d, objects: [tag('B')] }));
    expect(syncStore.snapshot(job, 'a')?.status).toBe('pending');
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS + 10);
    await vi.waitFor(() => expect(syncStore.snapshot(job, 'a')?.status).toBe('saved'));
    expect(server.state.puts).toEqual([{ baseRevision: 0, csrf: 'csrf-1' }]);
    expect(syncStore.snapshot(job, 'a')?.revision).toBe(1);
    expect(syncStore.hasUnsaved()).toBe(false);
  });

  it('stops on 409 and resolves only by an explicit choice', async () => {
    await loaded('b');
    server.state.revision = 5; // someone else saved meanwhile
    syncStore.edit(job, 'b', (d) => ({ ...d, objects: [tag('Mine')] }));
    expect(await syncStore.flush(job, 'b')).toBe('conflict');
    expect(syncStore.snapshot(job, 'b')?.conflict).toMatchObject({ currentRevision: 5 });
    // Further edits do not save on their own.
    syncStore.edit(job, 'b', (d) => ({ ...d, objects: [tag('Mine2')] }));
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS * 3);
    expect(server.state.puts.length).toBe(1);
    await syncStore.keepMine(job, 'b');
    await vi.waitFor(() => expect(syncStore.snapshot(job, 'b')?.status).toBe('saved'));
    expect(server.state.puts.at(-1)?.baseRevision).toBe(5);
    expect(server.state.document.objects).toEqual([tag('Mine2')]);
  });

  it('load theirs discards mine but keeps it on the undo stack', async () => {
    await loaded('c');
    server.state.revision = 2;
    server.state.document = { objects: [tag('Theirs')] };
    syncStore.edit(job, 'c', (d) => ({ ...d, objects: [tag('Mine')] }));
    expect(await syncStore.flush(job, 'c')).toBe('conflict');
    await syncStore.loadTheirs(job, 'c');
    expect(syncStore.snapshot(job, 'c')?.doc.objects).toEqual([tag('Theirs')]);
    expect(syncStore.snapshot(job, 'c')?.dirty).toBe(false);
    syncStore.undo(job, 'c');
    expect(syncStore.snapshot(job, 'c')?.doc.objects).toEqual([tag('Mine')]);
  });

  it('retries with backoff while offline and saves once back', async () => {
    await loaded('d');
    server.state.offline = true;
    syncStore.edit(job, 'd', (d) => ({ ...d, objects: [tag('X')] }));
    expect(await syncStore.flush(job, 'd')).toBe('offline');
    await vi.advanceTimersByTimeAsync(1100);
    expect(syncStore.snapshot(job, 'd')?.status).toBe('offline');
    server.state.offline = false;
    await vi.advanceTimersByTimeAsync(2100);
    await vi.waitFor(() => expect(syncStore.snapshot(job, 'd')?.status).toBe('saved'));
    expect(server.state.document.objects).toEqual([tag('X')]);
  });

  it('undo and redo walk the history of the asset', async () => {
    await loaded('e');
    syncStore.edit(job, 'e', (d) => ({ ...d, objects: [tag('1')] }));
    syncStore.edit(job, 'e', (d) => ({ ...d, objects: [tag('2')] }));
    syncStore.undo(job, 'e');
    expect(syncStore.snapshot(job, 'e')?.doc.objects).toEqual([tag('1')]);
    syncStore.redo(job, 'e');
    expect(syncStore.snapshot(job, 'e')?.doc.objects).toEqual([tag('2')]);
    expect(await syncStore.flush(job, 'e')).toBe('saved');
  });
});
