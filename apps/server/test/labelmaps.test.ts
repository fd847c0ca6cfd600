import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { decodeLabelmap, decodeLabelmapHeader, encodeLabelmap } from '@caliper/core/labelmap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, DB_KINDS, startTestServer, type TestServer } from './harness.js';
import { waitForRun } from './ingest-helpers.js';

const SCHEMA = {
  version: 1,
  labels: [
    { name: 'Liver', color: '#2e7d32', kinds: ['labelmap'], attributes: [] },
    { name: 'Tumor', color: '#c62828', kinds: ['labelmap'], attributes: [] },
  ],
};

/** A minimal NIfTI-1 volume (uint8, 1 mm voxels, sform only), gzip-compressed; no PHI anywhere. */
function niftiGz(cols: number, rows: number, slices: number, seed: number): Buffer {
  const h = Buffer.alloc(352);
  h.writeInt32LE(348, 0);
  [3, cols, rows, slices, 1, 1, 1, 1].forEach((d, i) => h.writeInt16LE(d, 40 + i * 2));
  h.writeInt16LE(2, 70); // DT_UNSIGNED_CHAR
  h.writeInt16LE(8, 72);
  [1, 1, 1, 1, 0, 0, 0, 0].forEach((d, i) => h.writeFloatLE(d, 76 + i * 4));
  h.writeFloatLE(352, 108);
  h.writeFloatLE(1, 112); // scl_slope
  h.writeInt16LE(0, 252); // qform_code
  h.writeInt16LE(1, 254); // sform_code
  [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
  ].forEach((row, r) => row.forEach((v, c) => h.writeFloatLE(v, 280 + r * 16 + c * 4)));
  h.write('n+1\0', 344, 'latin1');
  const data = Buffer.alloc(cols * rows * slices);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + seed * 31) % 251;
  return gzipSync(Buffer.concat([h, data]));
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A label volume: a disc of label 1 on slices 1..4 and a square of label 2 on slice 2. */
function paintVolume(cols: number, rows: number, slices: number) {
  const per = cols * rows;
  const data = new Uint8Array(per * slices);
  for (let k = 1; k < Math.min(5, slices); k++)
    for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) if ((i - cols / 2) ** 2 + (j - rows / 2) ** 2 < (rows / 5) ** 2) data[k * per + j * cols + i] = 1;
  for (let j = 10; j < 30; j++) for (let i = 10; i < 30; i++) data[2 * per + j * cols + i] = 2;
  return { data, per, slice: (k: number) => data.subarray(k * per, (k + 1) * per) };
}

const labelmapObject = (id: string, blob: string, shape: number[], userId: string) => ({
  id,
  kind: 'labelmap',
  label: 'Liver',
  attributes: {},
  source: 'manual',
  createdBy: userId,
  createdAt: '2026-11-28T00:00:00.000Z',
  updatedAt: '2026-11-28T00:00:00.000Z',
  blob,
  shape,
  segments: [
    { value: 1, label: 'Liver' },
    { value: 2, label: 'Tumor' },
  ],
});

/** POST a binary body (fetch, with the client's credentials). */
async function postBytes(client: Client, url: string, body: Uint8Array | string, contentType = 'application/octet-stream') {
  const h: Record<string, string> = { 'content-type': contentType };
  if (client.cookie) h.cookie = client.cookie;
  if (client.csrf) h['x-csrf-token'] = client.csrf;
  if (client.token) h.authorization = `Bearer ${client.token}`;
  const res = await fetch(client.base + url, { method: 'POST', headers: h, body: typeof body === 'string' ? body : new Uint8Array(body) });
  const ct = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, body: (ct.includes('json') ? await res.json() : await res.text()) as any };
}

async function getBytes(client: Client, url: string, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { ...headers };
  if (client.cookie) h.cookie = client.cookie;
  if (client.token) h.authorization = `Bearer ${client.token}`;
  const res = await fetch(client.base + url, { headers: h });
  return { status: res.status, headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe.each(DB_KINDS)('label maps on %s', (kind) => {
  let ts: TestServer;
  let admin: Client;
  let annotator: Client;
  let annotatorId: string;
  let viewer: Client;
  let outsider: Client;
  let projectId: string;
  let taskId: string;
  let assetId: string; // 512×512×6
  let smallAssetId: string; // 64×48×5, same task
  let jobId: string;
  const SHAPE: [number, number, number] = [512, 512, 6];
  const vol = paintVolume(512, 512, 6);
  let fullSha: string;
  let patchedSha: string;
  let smallSha: string;
  let revision = 0;

  const blobCount = async () => {
    let n = 0;
    for await (const _ of ts.server.deps.blobs.list()) n++;
    return n;
  };
  const rowCount = async () => Number((await ts.server.deps.db.selectFrom('labelmap_blobs').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const auditCount = async () =>
    Number((await ts.server.deps.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', 'labelmap.save').executeTakeFirstOrThrow()).n);

  async function upload(task: string, files: { name: string; data: Buffer }[]) {
    const fd = new FormData();
    for (const f of files) fd.append('file', new Blob([new Uint8Array(f.data)]), f.name);
    const up = await admin.post(`/api/tasks/${task}/uploads`, fd);
    expect(up.status, JSON.stringify(up.body)).toBe(202);
    const report = await waitForRun(admin, up.body.run.id);
    expect(report.run.state).toBe('done');
    const assets = (await admin.get(`/api/tasks/${task}/assets`)).body.items as { id: string; name: string; metadata: { imaging: { dims: number[] } } }[];
    return assets;
  }

  async function saveDoc(objects: unknown[]) {
    const r = await annotator.put(`/api/jobs/${jobId}/assets/${assetId}/annotations`, { baseRevision: revision, document: { objects } });
    if (r.status === 200) revision = r.body.revision;
    return r;
  }

  beforeAll(async () => {
    ts = await startTestServer(kind);
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
    const mk = async (email: string) => (await admin.post('/api/users', { email, name: email.split('@')[0], password: 'labelmap-pass-1' })).body.id as string;
    annotatorId = await mk('ann@example.org');
    const viewerId = await mk('view@example.org');
    const outsiderId = await mk('out@example.org');
    projectId = (await admin.post('/api/projects', { name: 'Segmentation', labelSchema: SCHEMA })).body.id;
    await admin.put(`/api/projects/${projectId}/members/${annotatorId}`, { role: 'annotator' });
    await admin.put(`/api/projects/${projectId}/members/${viewerId}`, { role: 'viewer' });
    const other = (await admin.post('/api/projects', { name: 'Other', labelSchema: SCHEMA })).body.id;
    await admin.put(`/api/projects/${other}/members/${outsiderId}`, { role: 'manager' });
    taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'CT' })).body.id;
    const assets = await upload(taskId, [
      { name: 'big.nii.gz', data: niftiGz(512, 512, 6, 1) },
      { name: 'small.nii.gz', data: niftiGz(64, 48, 5, 2) },
    ]);
    assetId = assets.find((a) => a.name.startsWith('big'))!.id;
    smallAssetId = assets.find((a) => a.name.startsWith('small'))!.id;
    expect(assets.find((a) => a.id === assetId)!.metadata.imaging.dims).toEqual(SHAPE);
    const jobs = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 10, assigneeId: annotatorId });
    expect(jobs.status).toBe(201);
    jobId = jobs.body.items[0].id;
    annotator = await Client.login(ts.url, 'ann@example.org', 'labelmap-pass-1');
    viewer = await Client.login(ts.url, 'view@example.org', 'labelmap-pass-1');
    outsider = await Client.login(ts.url, 'out@example.org', 'labelmap-pass-1');
  }, 120_000);
  afterAll(async () => ts?.close());

  it('saves a full container (201) and serves it back byte for byte, immutable', async () => {
    const full = encodeLabelmap({ shape: SHAPE, dtype: 'uint8', slices: vol.slice });
    const audits = await auditCount();
    const r = await postBytes(annotator, `/api/assets/${assetId}/labelmaps`, full);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toEqual({ sha: sha256(full), shape: SHAPE, dtype: 'uint8', bytes: full.length, slices: 6 });
    fullSha = r.body.sha;
    expect(await auditCount()).toBe(audits + 1);
    // Saving the same map again is idempotent (same sha, no second row).
    const rows = await rowCount();
    expect((await postBytes(annotator, `/api/assets/${assetId}/labelmaps`, full)).body.sha).toBe(fullSha);
    expect(await rowCount()).toBe(rows);

    const g = await getBytes(annotator, `/api/assets/${assetId}/labelmaps/${fullSha}`);
    expect(g.status).toBe(200);
    expect(g.headers.get('content-type')).toBe('application/octet-stream');
    expect(g.headers.get('etag')).toBe(`"${fullSha}"`);
    expect(g.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(Buffer.from(g.bytes).equals(Buffer.from(full))).toBe(true);
    expect(Buffer.from(decodeLabelmap(g.bytes).data).equals(Buffer.from(vol.data))).toBe(true);
    const again = await getBytes(annotator, `/api/assets/${assetId}/labelmaps/${fullSha}`, { 'if-none-match': `"${fullSha}"` });
    expect(again.status).toBe(304);
  });

  it('saves a one-slice patch (small body) and GET returns the edited volume', async () => {
    const edited = vol.data.slice();
    for (let j = 300; j < 340; j++) for (let i = 300; i < 380; i++) edited[3 * vol.per + j * 512 + i] = 2;
    const patch = encodeLabelmap({ shape: SHAPE, dtype: 'uint8', slices: (k) => edited.subarray(k * vol.per, (k + 1) * vol.per), only: [3], base: fullSha });
    expect(decodeLabelmapHeader(patch).chunks.map((c) => c.k)).toEqual([3]);
    expect(patch.length).toBeLessThan(8 * 1024);
    const r = await postBytes(annotator, `/api/assets/${assetId}/labelmaps`, patch);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ shape: SHAPE, dtype: 'uint8', slices: 1 });
    patchedSha = r.body.sha;
    expect(patchedSha).not.toBe(fullSha);
    // The stored container is exactly what encoding the edited volume gives.
    const expected = encodeLabelmap({ shape: SHAPE, dtype: 'uint8', slices: (k) => edited.subarray(k * vol.per, (k + 1) * vol.per) });
    expect(patchedSha).toBe(sha256(expected));
    expect(r.body.bytes).toBe(expected.length);
    const g = await getBytes(viewer, `/api/assets/${assetId}/labelmaps/${patchedSha}`);
    expect(g.status).toBe(200);
    expect(Buffer.from(decodeLabelmap(g.bytes).data).equals(Buffer.from(edited))).toBe(true);
    // The old version stays available.
    expect((await getBytes(viewer, `/api/assets/${assetId}/labelmaps/${fullSha}`)).status).toBe(200);
  });

  it('a document may reference the saved label map; unknown, foreign or mis-shaped blobs are refused with 422 and the object ids', async () => {
    const ok = await saveDoc([labelmapObject('lm-1', patchedSha, SHAPE, annotatorId)]);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);

    // A label map of another asset (same project): saved by a manager for the small asset.
    const small = paintVolume(64, 48, 5);
    const smallFull = encodeLabelmap({ shape: [64, 48, 5], dtype: 'uint8', slices: small.slice });
    const s = await postBytes(admin, `/api/assets/${smallAssetId}/labelmaps`, smallFull);
    expect(s.status, JSON.stringify(s.body)).toBe(201);
    smallSha = s.body.sha;
    // It is not reachable through the big asset either.
    expect((await getBytes(admin, `/api/assets/${assetId}/labelmaps/${smallSha}`)).status).toBe(404);

    const before = revision;
    const foreign = await saveDoc([labelmapObject('lm-ok', patchedSha, SHAPE, annotatorId), labelmapObject('lm-foreign', smallSha, [64, 48, 5], annotatorId)]);
    expect(foreign.status).toBe(422);
    expect(foreign.body.objectIds).toEqual(['lm-foreign']);
    expect(foreign.body.detail).toContain('lm-foreign');

    const unknown = await saveDoc([labelmapObject('lm-unknown', 'f'.repeat(64), SHAPE, annotatorId)]);
    expect(unknown.status).toBe(422);
    expect(unknown.body.objectIds).toEqual(['lm-unknown']);

    const misShaped = await saveDoc([labelmapObject('lm-shape', patchedSha, [512, 512, 7], annotatorId), labelmapObject('lm-shape2', fullSha, [6, 512, 512], annotatorId)]);
    expect(misShaped.status).toBe(422);
    expect(misShaped.body.objectIds).toEqual(['lm-shape', 'lm-shape2']);
    expect(misShaped.body.errors[0].message).toMatch(/shape \[512, 512, 7\] differs/);
    // Nothing was written by the refused saves.
    expect(revision).toBe(before);
    expect((await annotator.get(`/api/jobs/${jobId}/assets/${assetId}/annotations`)).body.revision).toBe(before);
  });

  it('refuses bad bodies with 4xx problem+json and writes nothing', async () => {
    const blobs = await blobCount();
    const rows = await rowCount();
    const audits = await auditCount();
    const url = `/api/assets/${assetId}/labelmaps`;
    const full = encodeLabelmap({ shape: SHAPE, dtype: 'uint8', slices: vol.slice });
    const expectProblem = async (r: { status: number; headers: Headers; body: any }, status: number, detail: RegExp) => {
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      expect(r.body.detail).toMatch(detail);
    };
    await expectProblem(await postBytes(annotator, url, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])), 400, /bad magic/);
    await expectProblem(await postBytes(annotator, url, full.subarray(0, full.length - 100)), 400, /truncated/);
    await expectProblem(await postBytes(annotator, url, full.subarray(0, 30)), 400, /beyond the end/);
    await expectProblem(await postBytes(annotator, url, new Uint8Array(0)), 400, /too short|body/);
    await expectProblem(await postBytes(annotator, url, JSON.stringify({ shape: SHAPE }), 'application/json'), 415, /application\/octet-stream/);
    // A full container that lacks slices.
    const partial = encodeLabelmap({ shape: SHAPE, dtype: 'uint8', slices: vol.slice, only: [1, 2], base: fullSha });
    const ph = decodeLabelmapHeader(partial);
    const json = new TextEncoder().encode(JSON.stringify({ shape: SHAPE, dtype: 'uint8', chunks: ph.chunks }));
    const noBase = new Uint8Array(8 + json.length + (partial.length - ph.bodyOffset));
    noBase.set(partial.subarray(0, 4));
    new DataView(noBase.buffer).setUint32(4, json.length, true);
    noBase.set(json, 8);
    noBase.set(partial.subarray(ph.bodyOffset), 8 + json.length);
    await expectProblem(await postBytes(annotator, url, noBase), 400, /must list all 6 slices/);
    // A chunk that inflates to the wrong size: a 64×48 slice declared as 512×512.
    const smallSlices = paintVolume(64, 48, 6);
    const wrong = encodeLabelmap({ shape: [64, 48, 6], dtype: 'uint8', slices: smallSlices.slice });
    const wh = decodeLabelmapHeader(wrong);
    const wjson = new TextEncoder().encode(JSON.stringify({ shape: SHAPE, dtype: 'uint8', chunks: wh.chunks }));
    const lying = new Uint8Array(8 + wjson.length + (wrong.length - wh.bodyOffset));
    lying.set(wrong.subarray(0, 4));
    new DataView(lying.buffer).setUint32(4, wjson.length, true);
    lying.set(wjson, 8);
    lying.set(wrong.subarray(wh.bodyOffset), 8 + wjson.length);
    await expectProblem(await postBytes(annotator, url, lying), 400, /inflates to \d+ bytes, expected 262144/);
    // Shape different from the asset's grid.
    const seven = encodeLabelmap({ shape: [512, 512, 7], dtype: 'uint8', slices: () => new Uint8Array(512 * 512) });
    await expectProblem(await postBytes(annotator, url, seven), 422, /\[512, 512, 7\] does not match the asset's voxel grid \[512, 512, 6\]/);
    // A patch of an unknown base, and of a base that belongs to another asset.
    const unknownBase = encodeLabelmap({ shape: SHAPE, dtype: 'uint8', slices: vol.slice, only: [2], base: 'e'.repeat(64) });
    await expectProblem(await postBytes(annotator, url, unknownBase), 404, /base label map/);
    const foreignBase = encodeLabelmap({ shape: SHAPE, dtype: 'uint8', slices: vol.slice, only: [2], base: smallSha });
    await expectProblem(await postBytes(annotator, url, foreignBase), 404, /base label map/);
    // A patch whose dtype differs from its base.
    const u16 = encodeLabelmap({ shape: SHAPE, dtype: 'uint16', slices: () => new Uint16Array(512 * 512).fill(3), only: [2], base: fullSha });
    await expectProblem(await postBytes(annotator, url, u16), 422, /dtype uint16 differs/);
    // Declared larger than the limit: refused before the body is read.
    const tooBig = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        ts.url + url,
        { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': String(300 * 1024 * 1024), cookie: annotator.cookie!, 'x-csrf-token': annotator.csrf! } },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => {
            req.destroy();
            resolve({ status: res.statusCode ?? 0, body: text });
          });
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(1024));
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toMatch(/larger than the limit of 256 MB/);

    expect(await blobCount()).toBe(blobs);
    expect(await rowCount()).toBe(rows);
    expect(await auditCount()).toBe(audits);
  });

  it('only people who may edit the asset’s annotations can save; only those who see the asset can read', async () => {
    const full = encodeLabelmap({ shape: SHAPE, dtype: 'uint8', slices: vol.slice });
    const v = await postBytes(viewer, `/api/assets/${assetId}/labelmaps`, full);
    expect(v.status).toBe(403);
    const o = await postBytes(outsider, `/api/assets/${assetId}/labelmaps`, full);
    expect(o.status).toBe(404);
    expect((await getBytes(outsider, `/api/assets/${assetId}/labelmaps/${fullSha}`)).status).toBe(404);
    expect((await getBytes(viewer, `/api/assets/${assetId}/labelmaps/${fullSha}`)).status).toBe(200);
    expect((await getBytes(new Client(ts.url), `/api/assets/${assetId}/labelmaps/${fullSha}`)).status).toBe(401);
    expect((await getBytes(viewer, `/api/assets/${assetId}/labelmaps/not-a-sha`)).status).toBe(400);
    // An annotator of the project without a job holding the asset does not see it at all.
    const ann2Id = (await admin.post('/api/users', { email: 'ann2@example.org', name: 'ann2', password: 'labelmap-pass-1' })).body.id as string;
    await admin.put(`/api/projects/${projectId}/members/${ann2Id}`, { role: 'annotator' });
    const ann2 = await Client.login(ts.url, 'ann2@example.org', 'labelmap-pass-1');
    expect((await postBytes(ann2, `/api/assets/${assetId}/labelmaps`, full)).status).toBe(404);
    expect((await getBytes(ann2, `/api/assets/${assetId}/labelmaps/${fullSha}`)).status).toBe(404);
    // Once the annotator's job is completed, the label map can no longer be changed by them (as with documents).
    // (Set directly: completing through the API needs a classification of every asset.)
    const setState = (state: 'completed' | 'in_progress') => ts.server.deps.db.updateTable('jobs').set({ state }).where('id', '=', jobId).execute();
    await setState('completed');
    const done = await postBytes(annotator, `/api/assets/${assetId}/labelmaps`, full);
    expect(done.status).toBe(409);
    expect(done.body.detail).toMatch(/completed/);
    await setState('in_progress');
    expect((await postBytes(annotator, `/api/assets/${assetId}/labelmaps`, full)).status).toBe(201);
  });

  it('label-map blobs are collected with their assets, and kept while another asset still references them', async () => {
    // A second task holding a copy of the big volume, with the same label map saved for it.
    const task2 = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'Copy' })).body.id as string;
    const [copy] = await upload(task2, [{ name: 'copy.nii.gz', data: niftiGz(512, 512, 6, 1) }]);
    const full = (await getBytes(admin, `/api/assets/${assetId}/labelmaps/${patchedSha}`)).bytes;
    const r = await postBytes(admin, `/api/assets/${copy!.id}/labelmaps`, full);
    expect(r.status).toBe(201);
    expect(r.body.sha).toBe(patchedSha);
    // A map only the copy has.
    const own = encodeLabelmap({ shape: SHAPE, dtype: 'uint8', slices: (k) => new Uint8Array(512 * 512).fill(k === 0 ? 1 : 0) });
    const ownSha = (await postBytes(admin, `/api/assets/${copy!.id}/labelmaps`, own)).body.sha as string;
    const has = async (sha: string) => (await ts.server.deps.blobs.stat(sha)) !== null;
    expect(await has(ownSha)).toBe(true);

    expect((await admin.delete(`/api/tasks/${task2}`)).status).toBe(204);
    expect(await has(ownSha)).toBe(false); // referenced by nobody any more
    expect(await has(patchedSha)).toBe(true); // still the first asset's
    expect((await getBytes(annotator, `/api/assets/${assetId}/labelmaps/${patchedSha}`)).status).toBe(200);

    expect((await admin.delete(`/api/tasks/${taskId}`)).status).toBe(204);
    expect(await has(patchedSha)).toBe(false);
    expect(await has(fullSha)).toBe(false);
    expect(await has(smallSha)).toBe(false);
    expect(await rowCount()).toBe(0);
  });
});
