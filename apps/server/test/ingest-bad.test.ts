import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processRun } from '../src/services/ingest/worker.js';
import { TransientError } from '../src/queue/index.js';
import { CLASSIFY_SCHEMA, Client, DB_KINDS, formWith, makePng, startTestServer, type TestServer } from './harness.js';
import { fetchFrame, SHARED, waitForRun } from './ingest-helpers.js';

const sample = (p: string) => readFile(path.join(SHARED, 'dicom', p));

/** Every blob key the database still references. */
async function referencedBlobs(ts: TestServer): Promise<Set<string>> {
  const db = ts.server.deps.db;
  const keys = new Set<string>();
  for (const r of await db.selectFrom('assets').select(['sha256', 'thumbnail_sha']).execute()) {
    keys.add(r.sha256);
    if (r.thumbnail_sha) keys.add(r.thumbnail_sha);
  }
  for (const r of await db.selectFrom('asset_frames').select('sha256').execute()) keys.add(r.sha256);
  for (const r of await db.selectFrom('dicom_instances').select('sha256').execute()) keys.add(r.sha256);
  return keys;
}

async function storedBlobs(ts: TestServer): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const k of ts.server.deps.blobs.list()) out.add(k);
  return out;
}

describe.each(DB_KINDS)('ingest of bad input on %s', (kind) => {
  let ts: TestServer;
  let admin: Client;
  let taskId: string;

  beforeAll(async () => {
    ts = await startTestServer(kind, { CALIPER_MAX_EXPANDED_MB: '64' });
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
    const projectId = (await admin.post('/api/projects', { name: 'Bad input', labelSchema: CLASSIFY_SCHEMA })).body.id;
    taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'T' })).body.id;
  });
  afterAll(async () => ts?.close());

  it('reports every bad file on its own, ingests the good ones and leaves nothing half-written', async () => {
    const ct = await sample('series/pydicom_CT5N_16x16/2062.dcm');
    const truncated = (await sample('pydicom/CT_small.dcm')).subarray(0, 600);
    // JPEG-LS pixel data with its middle overwritten: the header is fine, the frame is not.
    const corrupt = Buffer.from(await sample('pydicom/MR_small_jpeg_ls_lossless.dcm'));
    const sos = corrupt.lastIndexOf(Buffer.from([0xff, 0xda]));
    corrupt.fill(0xff, sos + 30, sos + 430);
    const png16 = await makePng(9, 7, 16, 3);
    const archive = Buffer.from(
      zipSync({
        '../evil.txt': new TextEncoder().encode('escape attempt'),
        'ok/depth16.png': new Uint8Array(png16),
        'bomb.raw': [new Uint8Array(80 * 1024 * 1024), { level: 9 }],
      }),
    );
    const bombGz = gzipSync(Buffer.alloc(100 * 1024 * 1024), { level: 9 });
    const up = await admin.post(
      `/api/tasks/${taskId}/uploads`,
      formWith([
        { name: 'good/ct.dcm', data: ct },
        { name: 'truncated.dcm', data: truncated },
        { name: 'junk.dcm', data: randomBytes(4000) },
        { name: 'notes.bin', data: randomBytes(3000) },
        { name: 'corrupt-frame.dcm', data: corrupt },
        { name: 'bundle.zip', data: archive },
        { name: 'broken.zip', data: archive.subarray(0, Math.floor(archive.length / 2)) },
        { name: 'bomb.nii.gz', data: bombGz },
        { name: 'lonely.hdr', data: Buffer.alloc(348) },
      ]),
    );
    expect(up.status, JSON.stringify(up.body)).toBe(202);
    const { run, files } = await waitForRun(admin, up.body.run.id);
    expect(run.state, run.error ?? '').toBe('done');
    const byName = (n: string) => files.find((f) => f.name === n) ?? { status: 'missing', detail: '' };
    expect(byName('good/ct.dcm').status).toBe('stored');
    expect(byName('truncated.dcm')).toMatchObject({ status: 'rejected', detail: expect.any(String) });
    expect(byName('junk.dcm')).toMatchObject({ status: 'rejected', detail: expect.any(String) });
    expect(byName('notes.bin')).toMatchObject({ status: 'rejected' });
    expect(byName('corrupt-frame.dcm')).toMatchObject({ status: 'rejected', detail: expect.stringMatching(/pixel data could not be decoded/i) });
    expect(byName('bundle.zip').status).toBe('expanded');
    expect(byName('bundle.zip/../evil.txt')).toMatchObject({ status: 'rejected', detail: expect.stringMatching(/outside|travers|\.\./i) });
    expect(byName('bundle.zip/bomb.raw')).toMatchObject({ status: 'rejected', detail: expect.stringMatching(/ratio|limit|large/i) });
    expect(byName('bundle.zip/ok/depth16.png').status).toBe('stored');
    expect(byName('broken.zip')).toMatchObject({ status: 'rejected', detail: expect.stringMatching(/truncated|corrupt/i) });
    expect(byName('bomb.nii.gz')).toMatchObject({ status: 'rejected', detail: expect.stringMatching(/larger than|ratio/i) });
    expect(byName('lonely.hdr')).toMatchObject({ status: 'rejected', detail: expect.stringMatching(/pair/) });
    // No detail leaks an internal path or stack.
    for (const f of files) expect(f.detail ?? '', f.name).not.toMatch(/\/tmp\/|caliper-it-|at .*\.ts:/);

    // The 16-bit PNG keeps its true values.
    const pngAsset = (await admin.get(`/api/assets/${byName('bundle.zip/ok/depth16.png').assetId}`)).body;
    expect(pngAsset.metadata.imaging).toMatchObject({ dtype: 'uint16', dims: [9, 7, 1], samples: 1 });
    const frame = await fetchFrame(admin, pngAsset.id, 0);
    const values = new Uint16Array(frame.buffer, frame.byteOffset, frame.byteLength / 2);
    for (let y = 0; y < 7; y++) for (let x = 0; x < 9; x++) expect(values[y * 9 + x]).toBe((x * 37 + y * 11 + 3 * 101) % 65536);

    // Nothing half-written: no temporary files, every stored blob referenced, every reference stored.
    const { readdir } = await import('node:fs/promises');
    const tmp = await readdir(path.join(ts.dataDir, 'tmp'), { recursive: true }).catch(() => []);
    expect(tmp.filter((n) => !/^ingest$/.test(String(n)))).toEqual([]);
    const stored = await storedBlobs(ts);
    const referenced = await referencedBlobs(ts);
    expect([...stored].filter((k) => !referenced.has(k))).toEqual([]);
    expect([...referenced].filter((k) => !stored.has(k))).toEqual([]);
    expect((await admin.get('/api/health')).status).toBe(200);
  }, 120_000);

  it('refuses an upload that is not multipart (415) and one without files (400)', async () => {
    const r1 = await admin.post(`/api/tasks/${taskId}/uploads`, { files: [] });
    expect(r1.status).toBe(415);
    const r2 = await admin.post(`/api/tasks/${taskId}/uploads`, new FormData());
    expect([400, 415]).toContain(r2.status);
    expect(typeof r2.body.detail).toBe('string');
  });
});

describe.each(DB_KINDS)('ingest retried after a failure on %s', (kind) => {
  let ts: TestServer;
  let admin: Client;
  let taskId: string;

  beforeAll(async () => {
    ts = await startTestServer(kind, { CALIPER_WORKER: 'off' });
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
    const projectId = (await admin.post('/api/projects', { name: 'Retry', labelSchema: CLASSIFY_SCHEMA })).body.id;
    taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'T' })).body.id;
  });
  afterAll(async () => ts?.close());

  it('continues where it stopped, without duplicating instances or assets', async () => {
    const names = ['2062.dcm', '2392.dcm', '2693.dcm'];
    const files = await Promise.all(names.map(async (n) => ({ name: `ct/${n}`, data: await sample(`series/pydicom_CT5N_16x16/${n}`) })));
    const up = await admin.post(`/api/tasks/${taskId}/uploads`, formWith([...files, { name: 'x.png', data: await makePng(4, 4, 8, 1) }]));
    expect(up.status).toBe(202);
    const runId = up.body.run.id;
    // No worker in this server: the run waits.
    expect((await admin.get(`/api/ingest-runs/${runId}`)).body.run.state).toBe('queued');

    // A worker whose blob store fails transiently on the third write (after two files).
    const deps = ts.server.deps;
    let puts = 0;
    const flaky = {
      ...deps,
      blobs: {
        ...deps.blobs,
        putFile: (p: string, sha: string, o: { contentType: string }) => {
          puts++;
          if (puts === 3) return Promise.reject(new TransientError('storage hiccup'));
          return deps.blobs.putFile(p, sha, o);
        },
        putBytes: (b: Uint8Array, o: { contentType: string }) => {
          puts++;
          if (puts === 3) return Promise.reject(new TransientError('storage hiccup'));
          return deps.blobs.putBytes(b, o);
        },
      },
    };
    await expect(processRun(flaky, runId)).rejects.toThrow(TransientError);
    const mid = (await admin.get(`/api/ingest-runs/${runId}`)).body;
    expect(mid.run.state).toBe('queued');
    // Some files were handled before the failure; the rest wait for the retry.
    expect(mid.files.filter((f: any) => f.status === 'pending').length).toBeGreaterThan(0);

    await processRun(deps, runId);
    const done = (await admin.get(`/api/ingest-runs/${runId}`)).body;
    expect(done.run.state).toBe('done');
    expect(done.files.map((f: any) => f.status)).toEqual(['stored', 'stored', 'stored', 'stored']);
    const instances = await deps.db.selectFrom('dicom_instances').select('id').execute();
    expect(instances.length).toBe(3);
    const assets = (await admin.get(`/api/tasks/${taskId}/assets`)).body.items;
    expect(assets.map((a: any) => a.modality).sort()).toEqual(['image', 'volume']);
    expect(assets.find((a: any) => a.modality === 'volume').frameCount).toBe(3);
    // Running it again changes nothing.
    await processRun(deps, runId);
    expect((await admin.get(`/api/tasks/${taskId}/assets`)).body.items.length).toBe(2);
  }, 60_000);
});
