import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyLabelmapPatch, decodeLabelmap, decodeLabelmapHeader, encodeLabelmap } from '@caliper/core/labelmap';
import type { LabelDef } from '../../types';
import { SegSession, type BrushStep } from './session';
import type { FetchLike } from './saver';

const label = (name: string, color: string, kinds: string[]): LabelDef => ({ name, color, kinds, attributes: [] });
const LABELS: LabelDef[] = [
  label('Liver', '#aa3300', ['labelmap', 'polygon']),
  label('Finding', '#ffffff', ['box']),
  label('Kidney', '#00cc44', ['labelmap']),
  label('Spleen', '#3366ff', ['labelmap']),
];

/** Content hash in sha256 form (64 hex digits), synchronous so fake timers control every step. */
function contentSha(b: Uint8Array): string {
  let out = '';
  for (let seed = 0; seed < 8; seed++) {
    let h = (0x811c9dc5 ^ (seed * 0x9e3779b9)) >>> 0;
    for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193) >>> 0;
    h = Math.imul(h ^ b.length, 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, '0');
  }
  return out;
}

function sameBytes(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface Sent {
  bytes: Uint8Array;
  base: string | undefined;
  slices: number[];
}

/** An in-memory stand-in for POST/GET /api/assets/:id/labelmaps that stores and patches like the server. */
function fakeServer() {
  const store = new Map<string, Uint8Array>();
  const sent: Sent[] = [];
  /** Responses to give instead of storing: a status, or 'network' for a rejected fetch. */
  const failures: (number | 'network')[] = [];
  let hold: Promise<void> | null = null;

  const fetchFn: FetchLike = async (url, init) => {
    if (init.method === 'GET') {
      const m = /labelmaps\/([0-9a-f]{64})$/.exec(url);
      const blob = m ? store.get(m[1]!) : undefined;
      if (!blob) return new Response(JSON.stringify({ detail: 'Not found.' }), { status: 404, headers: { 'content-type': 'application/problem+json' } });
      return new Response(blob as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-type': 'application/octet-stream' } });
    }
    expect(url).toBe('/api/assets/a1/labelmaps');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/octet-stream');
    const body = init.body as Uint8Array;
    const header = decodeLabelmapHeader(body);
    sent.push({ bytes: body, base: header.base, slices: header.chunks.map((c) => c.k) });
    if (hold) await hold;
    const f = failures.shift();
    if (f === 'network') throw new TypeError('Failed to fetch');
    if (f !== undefined) return new Response(JSON.stringify({ detail: `failure ${f}` }), { status: f, headers: { 'content-type': 'application/problem+json' } });
    let full = body;
    if (header.base !== undefined) {
      const base = store.get(header.base);
      if (!base) return new Response(JSON.stringify({ detail: 'The base label map of this patch was not found.' }), { status: 404, headers: { 'content-type': 'application/problem+json' } });
      full = applyLabelmapPatch(base, body);
    }
    const s = contentSha(full);
    store.set(s, full);
    return new Response(JSON.stringify({ sha: s, shape: header.shape, dtype: header.dtype, bytes: full.length, slices: header.chunks.length }), {
      status: 201,
      headers: { 'content-type': 'application/json' },
    });
  };
  return {
    store,
    sent,
    failures,
    fetch: fetchFn,
    holdRequests() {
      let release!: () => void;
      hold = new Promise<void>((r) => (release = r));
      return () => {
        hold = null;
        release();
      };
    },
  };
}

const brush = (segment: number, slice: number, extra: Partial<BrushStep> = {}): BrushStep => ({
  segment,
  radiusMm: 2,
  sphere: false,
  plane: { normalAxis: 2, slice },
  ...extra,
});

function paintDot(s: SegSession, voxel: [number, number, number], step: BrushStep): void {
  s.beginStroke();
  s.strokeTo(voxel, step);
  s.endStroke();
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SegSession segments', () => {
  it('builds the segment table from labelmap labels in schema order', async () => {
    const s = await SegSession.open('a1', [8, 8, 4], [1, 1, 2], null, { labels: LABELS });
    expect(s.segments.map((x) => [x.value, x.label, x.color])).toEqual([
      [1, 'Liver', '#aa3300'],
      [2, 'Kidney', '#00cc44'],
      [3, 'Spleen', '#3366ff'],
    ]);
    expect(s.map.data).toBeInstanceOf(Uint8Array);
    expect(s.map.spacing).toEqual([1, 1, 2]);
    // packed little-endian RGBA: 0xAABBGGRR
    expect(s.colors[1]).toBe(0xff0033aa);
    s.dispose();
  });

  it('computes volumes with the affine determinant when there is one', async () => {
    const affine = [
      [0, 0.5, 0, 10],
      [2, 0, 0, 0],
      [0, 0, 3, 0],
      [0, 0, 0, 1],
    ];
    const s = await SegSession.open('a1', [10, 10, 10], [1, 1, 1], null, { labels: LABELS, affineLps: affine });
    s.scissors({ kind: 'rect', plane: { normalAxis: 2, slice: 0 }, from: [0, 0, 0], to: [9, 9, 0] }, 2, false);
    expect(s.voxelCount(2)).toBe(100);
    expect(s.volumeMl(2)).toBeCloseTo((100 * 3) / 1000, 10); // |det| = 0.5·2·3 = 3 mm³ per voxel, not the spacing product 1
    s.dispose();
  });

  it('does not edit locked segments and keeps hidden ones from the eraser', async () => {
    const s = await SegSession.open('a1', [16, 16, 2], [1, 1, 1], null, { labels: LABELS });
    paintDot(s, [8, 8, 0], brush(1, 0, { radiusMm: 3 }));
    const liver = s.voxelCount(1);
    expect(liver).toBeGreaterThan(20);
    s.setSegmentUi(1, { locked: true });
    paintDot(s, [8, 8, 0], brush(1, 0, { radiusMm: 6, erase: true }));
    expect(s.voxelCount(1)).toBe(liver);
    paintDot(s, [8, 8, 0], brush(2, 0, { radiusMm: 6 }));
    expect(s.voxelCount(1)).toBe(liver); // kidney paints around, not over, the locked liver
    expect(s.voxelCount(2)).toBeGreaterThan(0);
    s.setSegmentUi(1, { locked: false, visible: false });
    paintDot(s, [8, 8, 0], brush(2, 0, { radiusMm: 8, erase: true }));
    expect(s.voxelCount(1)).toBe(liver);
    expect(s.voxelCount(2)).toBe(0);
    s.dispose();
  });

  it('makes one undo step per drag and tells the page about it', async () => {
    const s = await SegSession.open('a1', [32, 32, 3], [1, 1, 1], null, { labels: LABELS });
    const edits = vi.fn();
    s.onEdit(edits);
    const v0 = s.version;
    s.beginStroke();
    s.strokeTo([5, 5, 1], brush(1, 1));
    s.strokeTo([15, 5, 1], brush(1, 1));
    s.strokeTo([25, 20, 1], brush(1, 1));
    expect(edits).not.toHaveBeenCalled();
    s.endStroke();
    expect(edits).toHaveBeenCalledTimes(1);
    expect(s.version).toBeGreaterThan(v0);
    // gap-free: the voxel half-way along the first segment is painted, on slice 1 only
    expect(s.map.get(10, 5, 1)).toBe(1);
    expect(s.map.get(10, 5, 0)).toBe(0);
    expect(s.canUndo).toBe(true);
    expect(s.undo()).toBe(true);
    expect(s.voxelCount(1)).toBe(0);
    expect(s.redo()).toBe(true);
    expect(s.map.get(10, 5, 1)).toBe(1);
    expect(s.undo()).toBe(true);
    expect(s.undo()).toBe(false);
    s.dispose();
  });

  it('interpolates between key slices and threshold-paints in modality units', async () => {
    const s = await SegSession.open('a1', [20, 20, 11], [1, 1, 1], null, { labels: LABELS });
    paintDot(s, [10, 10, 0], brush(3, 0, { radiusMm: 4 }));
    paintDot(s, [10, 10, 10], brush(3, 10, { radiusMm: 4 }));
    const r = s.interpolate(3);
    expect(r.filledSlices).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(s.map.get(10, 10, 5)).toBe(3);

    // stored = (HU + 1024) / 1; threshold 0..100 HU → stored 1024..1124
    const image = new Int16Array(20 * 20 * 11);
    for (let i = 0; i < image.length; i++) image[i] = i % 20 < 10 ? 1024 + 50 : 1024 - 500;
    s.beginStroke();
    s.strokeTo([10, 10, 2], brush(1, 2, { radiusMm: 9, threshold: { image, lo: 0, hi: 100, rescale: { slope: 1, intercept: -1024 } } }));
    s.endStroke();
    expect(s.map.get(5, 10, 2)).toBe(1);
    expect(s.map.get(15, 10, 2)).toBe(0);
    s.dispose();
  });

  it('flood fills in 2D within the tolerance', async () => {
    const s = await SegSession.open('a1', [10, 10, 3], [1, 1, 1], null, { labels: LABELS });
    const image = new Uint8Array(300);
    for (let i = 0; i < 300; i++) image[i] = i % 10 < 4 ? 100 : 10;
    const r = s.flood([1, 1, 1], { segment: 2, tolerance: 5, mode: '2d', normalAxis: 2, image });
    expect(r.changedVoxels).toBe(40);
    expect(s.map.get(3, 9, 1)).toBe(2);
    expect(s.map.get(4, 0, 1)).toBe(0);
    expect(s.map.get(1, 1, 0)).toBe(0);
    s.dispose();
  });
});

describe('SegSaver', () => {
  it('sends a full container first, then a patch of only the changed slices against the last sha', async () => {
    const server = fakeServer();
    const saved: string[] = [];
    const s = await SegSession.open('a1', [16, 16, 10], [1, 1, 1], null, {
      labels: LABELS,
      fetch: server.fetch,
      onSaved: (x) => saved.push(x.sha),
    });
    expect(s.saver.state).toBe('saved');
    expect(await s.saver.flush()).toBe('saved');
    expect(server.sent).toHaveLength(0); // nothing painted, nothing to store

    paintDot(s, [8, 8, 3], brush(1, 3));
    expect(s.saver.state).toBe('pending');
    expect(await s.saver.flush()).toBe('saved');
    expect(server.sent).toHaveLength(1);
    expect(server.sent[0]!.base).toBeUndefined();
    expect(server.sent[0]!.slices).toHaveLength(10);
    expect(saved).toHaveLength(1);

    paintDot(s, [4, 4, 6], brush(2, 6));
    paintDot(s, [4, 4, 7], brush(2, 7));
    expect(await s.saver.flush()).toBe('saved');
    expect(server.sent).toHaveLength(2);
    expect(server.sent[1]!.base).toBe(saved[0]);
    expect(server.sent[1]!.slices).toEqual([6, 7]);
    expect(s.map.dirtySlices().size).toBe(0);
    // The stored full container equals the session's label map.
    const stored = decodeLabelmap(server.store.get(saved[1]!)!);
    expect(sameBytes(stored.data, s.map.data)).toBe(true);
    s.dispose();
  });

  it('reports the sha, shape and the segments in use', async () => {
    const server = fakeServer();
    const onSaved = vi.fn();
    const s = await SegSession.open('a1', [16, 16, 4], [1, 1, 1], null, { labels: LABELS, fetch: server.fetch, onSaved });
    paintDot(s, [8, 8, 1], brush(3, 1));
    await s.saver.flush();
    expect(onSaved).toHaveBeenCalledWith({ sha: expect.stringMatching(/^[0-9a-f]{64}$/), shape: [16, 16, 4], segments: [{ value: 3, label: 'Spleen' }] });
    s.dispose();
  });

  it('debounces autosave until 700 ms after the stroke ends', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    const s = await SegSession.open('a1', [16, 16, 4], [1, 1, 1], null, { labels: LABELS, fetch: server.fetch });
    s.beginStroke();
    s.strokeTo([3, 3, 1], brush(1, 1));
    s.saver.changed();
    await vi.advanceTimersByTimeAsync(2000);
    expect(server.sent).toHaveLength(0); // never during a drag
    s.strokeTo([9, 3, 1], brush(1, 1));
    s.endStroke();
    await vi.advanceTimersByTimeAsync(600);
    expect(server.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(200);
    expect(server.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(s.saver.state).toBe('saved');
    s.dispose();
  });

  it('keeps the slices dirty on failure, retries with backoff, and keeps edits made in flight', async () => {
    vi.useFakeTimers();
    const server = fakeServer();
    const s = await SegSession.open('a1', [16, 16, 10], [1, 1, 1], null, { labels: LABELS, fetch: server.fetch });
    paintDot(s, [8, 8, 2], brush(1, 2));
    await s.saver.flush();
    expect(server.sent).toHaveLength(1);

    paintDot(s, [8, 8, 5], brush(1, 5));
    server.failures.push('network', 503);
    expect(await s.saver.flush()).toBe('offline');
    expect(s.map.dirtySlices()).toEqual(new Set([5]));
    expect(s.saver.retryAt).not.toBeNull();
    // first retry after 1 s (fails with 503), the next after 2 s
    await vi.advanceTimersByTimeAsync(999);
    expect(server.sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sent).toHaveLength(3);
    expect(s.saver.state).toBe('offline');
    expect(s.map.dirtySlices()).toEqual(new Set([5]));

    // The next attempt is held in flight while the annotator paints slice 8.
    const release = server.holdRequests();
    await vi.advanceTimersByTimeAsync(2000);
    expect(server.sent).toHaveLength(4);
    expect(s.saver.state).toBe('saving');
    expect(server.sent[3]!.slices).toEqual([5]);
    paintDot(s, [8, 8, 8], brush(2, 8));
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(s.map.dirtySlices()).toEqual(new Set([8])); // only what was sent is marked saved
    expect(s.saver.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(700);
    expect(server.sent).toHaveLength(5);
    expect(server.sent[4]!.slices).toEqual([8]);
    await vi.advanceTimersByTimeAsync(0);
    expect(s.saver.state).toBe('saved');
    s.dispose();
  });

  it('retries at once when the browser comes back online', async () => {
    vi.useFakeTimers();
    const target = new EventTarget();
    vi.stubGlobal('addEventListener', target.addEventListener.bind(target));
    vi.stubGlobal('removeEventListener', target.removeEventListener.bind(target));
    try {
      const server = fakeServer();
      const s = await SegSession.open('a1', [8, 8, 2], [1, 1, 1], null, { labels: LABELS, fetch: server.fetch });
      paintDot(s, [4, 4, 0], brush(1, 0));
      server.failures.push('network');
      expect(await s.saver.flush()).toBe('offline');
      target.dispatchEvent(new Event('online'));
      await vi.advanceTimersByTimeAsync(0);
      expect(server.sent).toHaveLength(2);
      expect(s.saver.state).toBe('saved');
      s.dispose();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('stops with an error on 4xx until retried', async () => {
    const server = fakeServer();
    const s = await SegSession.open('a1', [8, 8, 2], [1, 1, 1], null, { labels: LABELS, fetch: server.fetch });
    paintDot(s, [4, 4, 0], brush(1, 0));
    server.failures.push(403);
    expect(await s.saver.flush()).toBe('error');
    expect(s.saver.error).toBe('failure 403');
    expect(s.saver.retryAt).toBeNull();
    paintDot(s, [4, 4, 1], brush(1, 1));
    expect(s.saver.state).toBe('error');
    expect(await s.saver.flush()).toBe('saved');
    expect(server.sent.at(-1)!.slices).toHaveLength(2); // full container with both slices
    s.dispose();
  });

  it('falls back to a full container when the server does not know the base', async () => {
    const server = fakeServer();
    const s = await SegSession.open('a1', [8, 8, 3], [1, 1, 1], null, { labels: LABELS, fetch: server.fetch });
    paintDot(s, [4, 4, 0], brush(1, 0));
    await s.saver.flush();
    server.store.clear();
    paintDot(s, [4, 4, 2], brush(1, 2));
    expect(await s.saver.flush()).toBe('saved');
    expect(server.sent.map((x) => x.slices.length)).toEqual([3, 1, 3]);
    expect(server.sent[2]!.base).toBeUndefined();
    s.dispose();
  });

  it('undo after a save makes those slices dirty again and the next patch restores them', async () => {
    const server = fakeServer();
    const shas: string[] = [];
    const s = await SegSession.open('a1', [16, 16, 6], [1, 1, 1], null, { labels: LABELS, fetch: server.fetch, onSaved: (x) => shas.push(x.sha) });
    paintDot(s, [8, 8, 1], brush(1, 1));
    await s.saver.flush();
    const before = new Uint8Array(s.map.data);
    paintDot(s, [6, 6, 4], brush(2, 4, { radiusMm: 3 }));
    await s.saver.flush();
    expect(s.map.dirtySlices().size).toBe(0);
    expect(s.undo()).toBe(true);
    expect(s.map.dirtySlices()).toEqual(new Set([4]));
    expect(s.saver.state).toBe('pending');
    await s.saver.flush();
    expect(server.sent.at(-1)!.slices).toEqual([4]);
    expect(server.sent.at(-1)!.base).toBe(shas[1]);
    const restored = decodeLabelmap(server.store.get(shas[2]!)!).data;
    expect(sameBytes(restored, before)).toBe(true);
    // identical content → identical container → the same sha as the first save
    expect(shas[2]).toBe(shas[0]);
    s.dispose();
  });

  it('a one-stroke patch of a 512×512×300 map is a few KB', async () => {
    const server = fakeServer();
    const s = await SegSession.open('a1', [512, 512, 300], [0.7, 0.7, 1], null, { labels: LABELS, fetch: server.fetch });
    paintDot(s, [100, 100, 10], brush(1, 10));
    await s.saver.flush();
    const fullBytes = s.saver.lastRequestBytes;
    const t0 = performance.now();
    s.beginStroke();
    const steps: number[] = [];
    for (let n = 0; n <= 20; n++) {
      const a = performance.now();
      s.strokeTo([200 + n * 4, 250 + n * 2, 150], { segment: 2, radiusMm: 10, sphere: true, plane: { normalAxis: 2, slice: 150 } });
      steps.push(performance.now() - a);
    }
    s.endStroke();
    const strokeMs = performance.now() - t0;
    await s.saver.flush();
    const patch = server.sent.at(-1)!;
    expect(patch.base).toMatch(/^[0-9a-f]{64}$/);
    expect(patch.slices).toHaveLength(21); // a 10 mm sphere at 1 mm slices: k = 140..160
    expect(patch.bytes.byteLength).toBeLessThan(200 * 1024);
    console.info(
      `512×512×300: full ${fullBytes} B, one-stroke sphere patch ${patch.bytes.byteLength} B (${patch.slices.length} slices); ` +
        `brush step median ${steps.sort((a, b) => a - b)[10]!.toFixed(2)} ms, max ${steps.at(-1)!.toFixed(2)} ms, stroke ${strokeMs.toFixed(1)} ms`,
    );
    s.dispose();
  });
});

describe('SegSession.open from a stored label map', () => {
  it('maps stored segment values onto the current table by label name', async () => {
    const server = fakeServer();
    const dims: [number, number, number] = [6, 5, 4];
    const data = new Uint8Array(6 * 5 * 4);
    data[0] = 1; // stored 1 = Spleen (now 3)
    data[31] = 2; // stored 2 = Liver (now 1), slice 1
    data[95] = 7; // stored 7 = Pancreas (gone), slice 3
    data[100] = 4; // not in the stored table
    const full = encodeLabelmap({ shape: dims, dtype: 'uint8', slices: (k) => data.subarray(k * 30, (k + 1) * 30) });
    const sha = contentSha(full);
    server.store.set(sha, full);
    const s = await SegSession.open('a1', dims, [1, 1, 1], {
      blob: sha,
      shape: dims,
      segments: [
        { value: 1, label: 'Spleen' },
        { value: 2, label: 'Liver' },
        { value: 7, label: 'Pancreas' },
      ],
    }, { labels: LABELS, fetch: server.fetch });
    expect(s.map.get(0, 0, 0)).toBe(3);
    expect(s.map.get(1, 0, 1)).toBe(1);
    expect(s.map.get(5, 3, 3)).toBe(0);
    expect(s.map.get(4, 1, 3)).toBe(0);
    expect(s.droppedLabels).toEqual(['Pancreas']);
    expect(s.map.dirtySlices()).toEqual(new Set([0, 1, 3]));
    expect(s.usedSegments()).toEqual([
      { value: 1, label: 'Liver' },
      { value: 3, label: 'Spleen' },
    ]);
    // The first save is a patch on the stored blob.
    expect(await s.saver.flush()).toBe('saved');
    expect(server.sent[0]!.base).toBe(sha);
    expect(server.sent[0]!.slices).toEqual([0, 1, 3]);
    s.dispose();
  });

  it('rejects a stored map of another shape', async () => {
    const server = fakeServer();
    await expect(
      SegSession.open('a1', [6, 5, 4], [1, 1, 1], { blob: 'a'.repeat(64), shape: [6, 5, 3], segments: [] }, { labels: LABELS, fetch: server.fetch }),
    ).rejects.toThrow(/6×5×3 voxels but the image is 6×5×4/);
  });

  it('reports a missing blob', async () => {
    const server = fakeServer();
    await expect(
      SegSession.open('a1', [6, 5, 4], [1, 1, 1], { blob: 'b'.repeat(64), shape: [6, 5, 4], segments: [] }, { labels: LABELS, fetch: server.fetch }),
    ).rejects.toThrow(/Not found/);
  });
});
