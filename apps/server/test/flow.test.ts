import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASSIFY_SCHEMA, Client, DB_KINDS, formWith, makePng, startTestServer, tag, type TestServer } from './harness.js';

describe.each(DB_KINDS)('platform flow on %s', (kind) => {
  let ts: TestServer;
  let admin: Client;
  let annotator: Client;
  let annotatorId: string;
  let projectId: string;
  let taskId: string;
  let jobId: string;
  let assetIds: string[];

  beforeAll(async () => {
    ts = await startTestServer(kind);
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
  });
  afterAll(async () => ts?.close());

  it('health is public and ok', async () => {
    const r = await new Client(ts.url).get('/api/health');
    expect(r).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
  });

  it('admin creates an annotator, a project with a schema, a member and a task', async () => {
    const u = await admin.post('/api/users', { email: 'Ann@Example.org', name: 'Ann Otator', password: 'annotator-pass-1' });
    expect(u.status).toBe(201);
    expect(u.body.email).toBe('ann@example.org');
    annotatorId = u.body.id;
    const dup = await admin.post('/api/users', { email: 'ann@example.org', name: 'x', password: 'annotator-pass-1' });
    expect(dup.status).toBe(409);

    const p = await admin.post('/api/projects', { name: 'Chest X-ray triage', guidelines: '# Rules\nLabel every image.', labelSchema: CLASSIFY_SCHEMA });
    expect(p.status).toBe(201);
    projectId = p.body.id;
    expect(p.body.labelSchema.labels.map((l: { name: string }) => l.name)).toEqual(['Normal', 'Abnormal', 'Ungradable']);

    const m = await admin.put(`/api/projects/${projectId}/members/${annotatorId}`, { role: 'annotator' });
    expect(m.status).toBe(200);
    const t = await admin.post(`/api/projects/${projectId}/tasks`, { name: 'Batch 1' });
    expect(t.status).toBe(201);
    taskId = t.body.id;
  });

  it('uploads PNG (8 and 16 bit) and text, rejecting a text file renamed .png', async () => {
    const png8 = await makePng(4, 3, 8, 1);
    const png16 = await makePng(5, 2, 16, 2);
    const r = await admin.post(
      `/api/tasks/${taskId}/assets`,
      formWith([
        { name: 'study/a.png', data: png8, type: 'image/png' },
        { name: 'study/b16.png', data: png16, type: 'image/png' },
        { name: 'notes/report.txt', data: '\uFEFFFindings: clear lungs. 🫁\nImpression: normal.\n', type: 'text/plain' },
        { name: 'fake.png', data: 'I am text pretending', type: 'image/png' },
      ]),
    );
    expect(r.status).toBe(201);
    expect(r.body.accepted).toHaveLength(3);
    expect(r.body.rejected).toEqual([expect.objectContaining({ fileName: 'fake.png', status: 415 })]);
    const byName = Object.fromEntries(r.body.accepted.map((a: { name: string }) => [a.name, a]));
    expect(byName['study/b16.png']).toMatchObject({ modality: 'image', mediaType: 'image/png', metadata: { width: 5, height: 2, bitDepth: 16 } });
    expect(byName['study/a.png'].metadata).toMatchObject({ width: 4, height: 3, bitDepth: 8 });
    expect(byName['notes/report.txt']).toMatchObject({ modality: 'text', metadata: { lines: 2 } });
    // jobs take assets in natural file-name order: notes/report.txt, study/a.png, study/b16.png
    assetIds = ['notes/report.txt', 'study/a.png', 'study/b16.png'].map((n) => byName[n].id);

    const media = await fetch(`${ts.url}/api/assets/${byName['study/b16.png'].id}/media`, { headers: { cookie: admin.cookie! } });
    expect(media.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await media.arrayBuffer()).equals(png16)).toBe(true);
  });

  it('splits into jobs and the annotator sees only their queue', async () => {
    const j = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 2, assigneeId: annotatorId });
    expect(j.status).toBe(201);
    expect(j.body.items.map((x: { assetCount: number }) => x.assetCount)).toEqual([2, 1]);
    jobId = j.body.items[0].id;
    const again = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 2 });
    expect(again.status).toBe(409);

    annotator = await Client.login(ts.url, 'ann@example.org', 'annotator-pass-1');
    const q = await annotator.get('/api/me/jobs');
    expect(q.body.items).toHaveLength(2);
    expect(q.body.items[0]).toMatchObject({ projectName: 'Chest X-ray triage', taskName: 'Batch 1', state: 'new' });
    const next = await annotator.post('/api/me/jobs/next');
    expect(next.body.id).toBe(jobId);
    const job = await annotator.get(`/api/jobs/${jobId}`);
    expect(job.body.assets.map((a: { id: string }) => a.id)).toEqual(assetIds.slice(0, 2));
    // annotators cannot list all the task's assets
    expect((await annotator.get(`/api/tasks/${taskId}/assets`)).status).toBe(403);
  });

  it('saves annotation revisions with optimistic concurrency', async () => {
    const a0 = assetIds[0]!;
    const url = `/api/jobs/${jobId}/assets/${a0}/annotations`;
    const empty = await annotator.get(url);
    expect(empty.body).toMatchObject({ revision: 0, document: { objects: [] } });

    const s1 = await annotator.put(url, { baseRevision: 0, document: { objects: [tag('Normal', annotatorId)] } });
    expect(s1.status).toBe(200);
    expect(s1.body.revision).toBe(1);
    const s2 = await annotator.put(url, { baseRevision: 1, document: { objects: [tag('Abnormal', annotatorId, { severity: 'mild' })] } });
    expect(s2.body.revision).toBe(2);

    // a stale save (second tab still at revision 1) is refused and changes nothing
    const stale = await annotator.put(url, { baseRevision: 1, document: { objects: [tag('Ungradable', annotatorId)] } });
    expect(stale.status).toBe(409);
    expect(stale.body.currentRevision).toBe(2);
    expect(stale.headers.get('content-type')).toContain('application/problem+json');
    const now = await annotator.get(url);
    expect(now.body.revision).toBe(2);
    expect(now.body.document.objects[0].label).toBe('Abnormal');

    const revs = await annotator.get(`${url}/revisions`);
    expect(revs.body.items.map((r: { revision: number }) => r.revision)).toEqual([2, 1]);
    const r1 = await annotator.get(`${url}/revisions/1`);
    expect(r1.body.document.objects[0].label).toBe('Normal');

    const job = await annotator.get(`/api/jobs/${jobId}`);
    expect(job.body.state).toBe('in_progress');
    expect(job.body.annotatedCount).toBe(1);
  });

  it('concurrent first saves: exactly one wins', async () => {
    const a1 = assetIds[1]!;
    const url = `/api/jobs/${jobId}/assets/${a1}/annotations`;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => annotator.put(url, { baseRevision: 0, document: { objects: [tag('Normal', annotatorId, {}, `t${i}`)] } })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
    const revs = await annotator.get(`${url}/revisions`);
    expect(revs.body.items).toHaveLength(1);
  });

  it('rejects documents that break the label schema with 422 naming the problem', async () => {
    const url = `/api/jobs/${jobId}/assets/${assetIds[0]}/annotations`;
    const unknown = await annotator.put(url, { baseRevision: 2, document: { objects: [tag('Pneumothorax', annotatorId)] } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail).toContain('Pneumothorax');
    const badAttr = await annotator.put(url, { baseRevision: 2, document: { objects: [tag('Abnormal', annotatorId, { severity: 'extreme' })] } });
    expect(badAttr.status).toBe(422);
    expect(badAttr.body.errors[0].path).toContain('document.objects[0].attributes');
    const range = await annotator.put(url, { baseRevision: 2, document: { objects: [tag('Abnormal', annotatorId, { severity: 'mild', confidence: 140 })] } });
    expect(range.status).toBe(422);
    expect((await annotator.get(url)).body.revision).toBe(2);
  });

  it('submitting needs every asset labelled with required attributes', async () => {
    const url = `/api/jobs/${jobId}/assets/${assetIds[0]}/annotations`;
    // Abnormal without the required severity is saved (work in progress) but blocks submission.
    const wip = await annotator.put(url, { baseRevision: 2, document: { objects: [tag('Abnormal', annotatorId)] } });
    expect(wip.status).toBe(200);
    const blocked = await annotator.patch(`/api/jobs/${jobId}`, { state: 'completed' });
    expect(blocked.status).toBe(422);
    expect(blocked.body.detail).toMatch(/severity/);
    await annotator.put(url, { baseRevision: 3, document: { objects: [tag('Abnormal', annotatorId, { severity: 'severe' })] } });
    const done = await annotator.patch(`/api/jobs/${jobId}`, { state: 'completed' });
    expect(done.status).toBe(200);
    expect(done.body.state).toBe('completed');
    const locked = await annotator.put(url, { baseRevision: 4, document: { objects: [] } });
    expect(locked.status).toBe(409);
    // annotators cannot reassign
    expect((await annotator.patch(`/api/jobs/${jobId}`, { assigneeId: null })).status).toBe(403);
  });

  it('personal access tokens: shown once, work as Bearer, revocable', async () => {
    const t = await annotator.post('/api/tokens', { name: 'cli' });
    expect(t.status).toBe(201);
    expect(t.body.token).toMatch(/^cal_/);
    const list = await annotator.get('/api/tokens');
    expect(JSON.stringify(list.body)).not.toContain(t.body.token);
    const bearer = Client.withToken(ts.url, t.body.token);
    expect((await bearer.get('/api/me/jobs')).status).toBe(200);
    // bearer requests need no CSRF header
    expect((await bearer.post('/api/tokens', { name: 'second' })).status).toBe(201);
    expect((await annotator.delete(`/api/tokens/${t.body.id}`)).status).toBe(204);
    expect((await bearer.get('/api/me/jobs')).status).toBe(401);
  });

  it('cookie requests without the CSRF token are refused', async () => {
    const r = await annotator.post('/api/tokens', { name: 'x' }, { 'x-csrf-token': 'nope' });
    expect(r.status).toBe(403);
    expect(r.body.detail).toMatch(/CSRF/);
  });

  it('password change, admin reset, deactivation and logout end sessions', async () => {
    const wrong = await annotator.post('/api/auth/password', { currentPassword: 'nope-nope-nope', newPassword: 'another-pass-22' });
    expect(wrong.status).toBe(400);
    expect((await annotator.post('/api/auth/password', { currentPassword: 'annotator-pass-1', newPassword: 'another-pass-22' })).status).toBe(204);
    expect((await annotator.get('/api/auth/me')).status).toBe(200);
    const again = await Client.login(ts.url, 'ann@example.org', 'another-pass-22');
    expect((await admin.post(`/api/users/${annotatorId}/password`, { password: 'reset-by-admin-1' })).status).toBe(204);
    expect((await again.get('/api/auth/me')).status).toBe(401);
    const third = await Client.login(ts.url, 'ann@example.org', 'reset-by-admin-1');
    expect((await third.post('/api/auth/logout')).status).toBe(204);
    expect((await third.get('/api/auth/me')).status).toBe(401);
    const fourth = await Client.login(ts.url, 'ann@example.org', 'reset-by-admin-1');
    expect((await admin.patch(`/api/users/${annotatorId}`, { active: false })).status).toBe(200);
    expect((await fourth.get('/api/auth/me')).status).toBe(401);
    expect((await new Client(ts.url).post('/api/auth/login', { email: 'ann@example.org', password: 'reset-by-admin-1' })).status).toBe(401);
  });

  it('sessions expire', async () => {
    const c = await Client.login(ts.url, ts.admin.email, ts.admin.password);
    expect((await c.get('/api/auth/me')).status).toBe(200);
    const cookieToken = c.cookie!.split('=')[1]!;
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update(cookieToken).digest('hex');
    await ts.server.deps.db.updateTable('sessions').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('id_hash', '=', hash).execute();
    expect((await c.get('/api/auth/me')).status).toBe(401);
  });

  it('login is rate limited', async () => {
    const anon = new Client(ts.url);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await anon.post('/api/auth/login', { email: 'brute@example.org', password: `guess-${i}` })).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it('deleting a task removes its assets and the blobs no other asset uses', async () => {
    const blobFiles = () =>
      readdirSync(path.join(ts.dataDir, 'blobs'), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => e.name);
    const shared = await makePng(4, 3, 8, 1); // same bytes as study/a.png in "Batch 1"
    const own = await makePng(6, 6, 8, 99);
    const t = await admin.post(`/api/projects/${projectId}/tasks`, { name: 'Scratch' });
    const up = await admin.post(`/api/tasks/${t.body.id}/assets`, formWith([{ name: 'copy.png', data: shared }, { name: 'own.png', data: own }]));
    expect(up.status).toBe(201);
    const [copy, mine] = up.body.accepted;
    expect(blobFiles()).toEqual(expect.arrayContaining([copy.sha256, mine.sha256]));
    expect((await admin.delete(`/api/tasks/${t.body.id}`)).status).toBe(204);
    expect((await admin.get(`/api/assets/${mine.id}`)).status).toBe(404);
    expect(blobFiles()).toContain(copy.sha256);
    expect(blobFiles()).not.toContain(mine.sha256);
  });

  it('the audit trail records the work and verifies', async () => {
    const r = await admin.get('/api/audit?limit=1000');
    const actions = new Set(r.body.items.map((e: { action: string }) => e.action));
    for (const a of ['auth.login', 'auth.login.failed', 'project.create', 'asset.create', 'asset.view', 'annotation.save', 'job.update', 'user.create', 'token.revoke']) {
      expect(actions).toContain(a);
    }
    const v = await admin.get('/api/audit/verify');
    expect(v.body).toMatchObject({ ok: true });
    expect(v.body.checked).toBeGreaterThan(20);
  });
});
