import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLASSIFY_SCHEMA, Client, DB_KINDS, formWith, makePng, type Res, startTestServer, tag, type TestServer } from './harness.js';

/** A 4xx problem document whose `detail` says what is wrong. */
function expectProblem(r: Res, status: number, detail?: RegExp) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get('content-type') ?? '').toContain('application/problem+json');
  expect(r.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status, detail: expect.any(String) });
  if (detail) expect(r.body.detail).toMatch(detail);
}

/** Every regular file below `dir` (relative names), or [] when it does not exist. */
async function walk(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((e) => !e.isDirectory()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

async function expectHealthy(ts: TestServer) {
  const r = await new Client(ts.url).get('/api/health');
  expect(r).toMatchObject({ status: 200, body: { status: 'ok' } });
}

describe.each(DB_KINDS)('bad input on %s', (kind) => {
  let ts: TestServer;
  let admin: Client;
  let adminId: string;
  let projectId: string;
  let taskId: string;
  let jobId: string;
  let assetId: string;
  const accepted: { id: string; sha256: string }[] = [];

  beforeAll(async () => {
    ts = await startTestServer(kind);
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
    adminId = (await admin.get('/api/auth/me')).body.user.id;
    projectId = (await admin.post('/api/projects', { name: 'Inputs', labelSchema: CLASSIFY_SCHEMA })).body.id;
    taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'T' })).body.id;
    const up = await admin.post(`/api/tasks/${taskId}/assets`, formWith([{ name: 'good.png', data: await makePng(6, 6, 8, 7), type: 'image/png' }]));
    expect(up.status).toBe(201);
    accepted.push(...up.body.accepted);
    assetId = up.body.accepted[0].id;
    const jobs = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 10, assigneeId: adminId });
    expect(jobs.status).toBe(201);
    jobId = jobs.body.items[0].id;
    // one saved revision to compare against
    const s = await admin.put(`/api/jobs/${jobId}/assets/${assetId}/annotations`, { baseRevision: 0, document: { objects: [tag('Normal', adminId)] } });
    expect(s.status).toBe(200);
  });
  afterAll(async () => ts?.close());
  afterEach(async () => {
    if (ts) await expectHealthy(ts);
  });

  // ---- JSON bodies ------------------------------------------------------------------------

  it('malformed JSON → 400', async () => {
    const r = await admin.post('/api/projects', '{"name": "broken", ');
    expectProblem(r, 400, /not valid JSON/);
  });

  it('wrong types → 400 naming the field in errors[].path', async () => {
    const r = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 'two' });
    expectProblem(r, 400, /assetsPerJob/);
    expect(r.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path: 'body.assetsPerJob', message: expect.any(String) })]));
  });

  it('a body field PATCH project does not know → 400 naming it, and nothing changes', async () => {
    const r = await admin.patch(`/api/projects/${projectId}`, { name: 'Renamed', colour: 'red' });
    expectProblem(r, 400, /colour/);
    expect((await admin.get(`/api/projects/${projectId}`)).body.name).toBe('Inputs');
  });

  it('a non-UUID id in the path → 400', async () => {
    const r = await admin.get('/api/projects/not-a-uuid');
    expectProblem(r, 400, /id/);
    expect(r.body.errors).toEqual([expect.objectContaining({ path: 'params.id' })]);
    expectProblem(await admin.get(`/api/jobs/${jobId}/assets/123/annotations`), 400, /assetId/);
  });

  it('unknown route → 404 problem naming it', async () => {
    expectProblem(await admin.get('/api/no-such-thing'), 404, /GET \/api\/no-such-thing/);
    expectProblem(await admin.post('/api/projects/x/y/z', {}), 404, /POST \/api\/projects\/x\/y\/z/);
  });

  it('a content type other than JSON on a JSON route → 415', async () => {
    for (const type of ['application/xml', 'text/plain', 'application/x-www-form-urlencoded']) {
      const r = await admin.post('/api/projects', '{"name":"x","labelSchema":{"version":1,"labels":[]}}', { 'content-type': type });
      expectProblem(r, 415, /application\/json/);
    }
    expect((await admin.get('/api/projects')).body.items.map((p: { name: string }) => p.name)).toEqual(['Inputs']);
  });

  // ---- label schema and annotations ---------------------------------------------------------

  it.each([
    ['duplicate label names', { version: 1, labels: [{ name: 'Lung', color: '#112233', kinds: ['tag'] }, { name: 'lung', color: '#445566', kinds: ['tag'] }] }, /duplicate label name "lung"/],
    ['a bad colour', { version: 1, labels: [{ name: 'Lung', color: 'red', kinds: ['tag'] }] }, /#rrggbb/],
    ['a select without options', { version: 1, labels: [{ name: 'Lung', color: '#112233', kinds: ['tag'], attributes: [{ name: 'side', type: 'select', options: [] }] }] }, /at least one option/],
  ])('a label schema with %s → 422 and no project', async (_what, labelSchema, detail) => {
    const before = (await admin.get('/api/projects')).body.items.length;
    const r = await admin.post('/api/projects', { name: 'Bad schema', labelSchema });
    expectProblem(r, 422, detail);
    expect(r.body.errors[0].path).toMatch(/^labelSchema\.labels/);
    expect((await admin.get('/api/projects')).body.items).toHaveLength(before);
  });

  it('annotations with an unknown label or an invalid attribute value → 422, revisions unchanged', async () => {
    const url = `/api/jobs/${jobId}/assets/${assetId}/annotations`;
    const revsBefore = (await admin.get(`${url}/revisions`)).body;
    expect(revsBefore.items).toHaveLength(1);

    const unknown = await admin.put(url, { baseRevision: 1, document: { objects: [tag('Pneumothorax', adminId)] } });
    expectProblem(unknown, 422, /Pneumothorax/);
    const badValue = await admin.put(url, { baseRevision: 1, document: { objects: [tag('Abnormal', adminId, { severity: 'extreme' })] } });
    expectProblem(badValue, 422, /severity|extreme/);
    expect(badValue.body.errors[0].path).toContain('document.objects[0].attributes');
    const notADocument = await admin.put(url, { baseRevision: 1, document: 'objects' });
    expectProblem(notADocument, 422);

    expect((await admin.get(`${url}/revisions`)).body).toEqual(revsBefore);
    const head = await admin.get(url);
    expect(head.body.revision).toBe(1);
    expect(head.body.document.objects[0].label).toBe('Normal');
  });

  // ---- uploads ----------------------------------------------------------------------------

  const upload = (files: Parameters<typeof formWith>[0]) => admin.post(`/api/tasks/${taskId}/assets`, formWith(files));

  it.each([
    ['../../etc/passwd.png', /\.\./],
    ['/abs.png', /absolute/],
    ['a\\..\\..\\b.png', /\.\./],
  ])('path traversal file name %s → 400', async (name, detail) => {
    const r = await upload([{ name, data: await makePng(2, 2, 8, 3), type: 'image/png' }]);
    expectProblem(r, 400, detail);
    expect(r.body.accepted).toEqual([]);
  });

  it('a text file renamed .png → 415', async () => {
    const r = await upload([{ name: 'notes.png', data: 'Findings: none. This is plain text.\n', type: 'image/png' }]);
    expectProblem(r, 415, /notes\.png.*not a PNG image/);
  });

  it('an empty file → 422', async () => {
    const r = await upload([{ name: 'empty.png', data: Buffer.alloc(0), type: 'image/png' }]);
    expectProblem(r, 422, /empty\.png.*empty/);
  });

  it('an upload with no files → 400', async () => {
    expectProblem(await admin.post(`/api/tasks/${taskId}/assets`, new FormData()), 400, /no files/);
    const onlyField = new FormData();
    onlyField.append('comment', 'hello');
    expectProblem(await admin.post(`/api/tasks/${taskId}/assets`, onlyField), 400, /no files/);
  });

  it('a non-multipart body to the upload route → 415', async () => {
    expectProblem(await admin.post(`/api/tasks/${taskId}/assets`, { file: 'x' }), 415, /multipart/);
    const raw = await fetch(`${ts.url}/api/tasks/${taskId}/assets`, {
      method: 'POST',
      headers: { cookie: admin.cookie!, 'x-csrf-token': admin.csrf!, 'content-type': 'image/png' },
      body: new Uint8Array(await makePng(2, 2, 8, 4)),
    });
    expect(raw.status).toBe(415);
    expect(raw.headers.get('content-type')).toContain('application/problem+json');
  });

  it('a mixed upload keeps the good files and lists each rejected one', async () => {
    const good = await makePng(3, 2, 16, 9);
    const r = await upload([
      { name: '../escape.png', data: good, type: 'image/png' },
      { name: 'ok/scan.png', data: good, type: 'image/png' },
      { name: 'fake.png', data: 'text', type: 'image/png' },
      { name: 'empty.txt', data: '', type: 'text/plain' },
    ]);
    expect(r.status).toBe(201);
    expect(r.body.accepted.map((a: { name: string }) => a.name)).toEqual(['ok/scan.png']);
    expect(r.body.rejected.map((x: { fileName: string; status: number }) => [x.fileName, x.status])).toEqual([
      ['../escape.png', 400],
      ['fake.png', 415],
      ['empty.txt', 422],
    ]);
    accepted.push(...r.body.accepted);
  });

  it('nothing half-written remains after the rejected uploads', async () => {
    const list = await admin.get(`/api/tasks/${taskId}/assets`);
    expect(list.body.items.map((a: { id: string }) => a.id).sort()).toEqual(accepted.map((a) => a.id).sort());
    const blobs = await walk(path.join(ts.dataDir, 'blobs'));
    expect(blobs.map((f) => path.basename(f)).sort()).toEqual([...new Set(accepted.map((a) => a.sha256))].sort());
    // stored content-addressed under ab/cd/<sha256>
    for (const f of blobs) expect(f).toMatch(/^([0-9a-f]{2})\/([0-9a-f]{2})\/\1\2[0-9a-f]{60}$/);
    expect(await walk(path.join(ts.dataDir, 'tmp'))).toEqual([]);
  });

  // ---- limits (servers of their own) -------------------------------------------------------

  it('a JSON body over CALIPER_MAX_JSON_MB → 413', async () => {
    const small = await startTestServer(kind, { CALIPER_MAX_JSON_MB: '0.01' });
    try {
      const c = await Client.login(small.url, small.admin.email, small.admin.password);
      const r = await c.post('/api/projects', { name: 'Big', description: 'x'.repeat(20_000), labelSchema: CLASSIFY_SCHEMA });
      expectProblem(r, 413, /larger than the limit/);
      expect((await c.get('/api/projects')).body.items).toEqual([]);
      // a body under the limit still works on the same server
      expect((await c.post('/api/projects', { name: 'Small', labelSchema: CLASSIFY_SCHEMA })).status).toBe(201);
      await expectHealthy(small);
    } finally {
      await small.close();
    }
  });

  it('a file over CALIPER_MAX_UPLOAD_MB → 413 for that file, never a cut-off copy', async () => {
    const small = await startTestServer(kind, { CALIPER_MAX_UPLOAD_MB: '0.001' });
    try {
      const limit = small.server.deps.config.maxUploadBytes;
      expect(limit).toBe(1048);
      const c = await Client.login(small.url, small.admin.email, small.admin.password);
      const p = await c.post('/api/projects', { name: 'Limits', labelSchema: CLASSIFY_SCHEMA });
      const t = await c.post(`/api/projects/${p.body.id}/tasks`, { name: 'T' });
      const url = `/api/tasks/${t.body.id}/assets`;

      const big = await c.post(url, formWith([{ name: 'big.png', data: randomBytes(5 * 1024), type: 'image/png' }]));
      expectProblem(big, 413, /"big\.png" is larger than the upload limit of 1048 bytes/);
      await expectHealthy(small);

      // Text stays valid when cut short: it must be refused, not stored truncated.
      const report = 'Findings: normal.\n'.repeat(300);
      const text = await c.post(url, formWith([{ name: 'report.txt', data: report, type: 'text/plain' }]));
      expectProblem(text, 413, /report\.txt/);
      expect(text.body.rejected).toEqual([expect.objectContaining({ fileName: 'report.txt', status: 413 })]);

      // Exactly at the limit is fine; one byte over is not.
      const atLimit = await c.post(url, formWith([{ name: 'at-limit.txt', data: 'a'.repeat(limit), type: 'text/plain' }]));
      expect(atLimit.status).toBe(201);
      expect(atLimit.body.accepted[0].size).toBe(limit);
      expectProblem(await c.post(url, formWith([{ name: 'over.txt', data: 'b'.repeat(limit + 1), type: 'text/plain' }])), 413, /over\.txt/);

      // In a mixed upload the files around the oversize one are kept, and the answer says so.
      const mixed = await c.post(
        url,
        formWith([
          { name: 'tiny.png', data: await makePng(2, 2, 8, 5), type: 'image/png' },
          { name: 'huge.txt', data: report, type: 'text/plain' },
          { name: 'tiny2.png', data: await makePng(2, 2, 8, 6), type: 'image/png' },
        ]),
      );
      expect(mixed.status).toBe(201);
      expect(mixed.body.accepted.map((a: { name: string }) => a.name)).toEqual(['tiny.png', 'tiny2.png']);
      expect(mixed.body.rejected).toEqual([{ fileName: 'huge.txt', status: 413, detail: expect.stringContaining('huge.txt') }]);

      const kept = [...atLimit.body.accepted, ...mixed.body.accepted] as { name: string; sha256: string; size: number }[];
      const list = await c.get(url);
      expect(list.body.items.map((a: { name: string }) => a.name).sort()).toEqual(kept.map((a) => a.name).sort());
      expect((await walk(path.join(small.dataDir, 'blobs'))).map((f) => path.basename(f)).sort()).toEqual(kept.map((a) => a.sha256).sort());
      expect(await walk(path.join(small.dataDir, 'tmp'))).toEqual([]);
    } finally {
      await small.close();
    }
  });
});
