import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASSIFY_SCHEMA, Client, DB_KINDS, formWith, makePng, startTestServer, tag, type TestServer } from './harness.js';

const SECRET = 'Patient Jane Roe has a lesion here';

describe.each(DB_KINDS)('review rounds and issues (%s)', (kind) => {
  let ts: TestServer;
  let admin: Client;
  let annotator: Client;
  let reviewer: Client;
  let outsider: Client;
  let viewer: Client;
  let annotatorId: string;
  let reviewerId: string;
  let projectId: string;
  let jobId: string;
  let assetIds: string[];
  let issueId: string;

  const docUrl = (assetId: string) => `/api/jobs/${jobId}/assets/${assetId}/annotations`;
  async function save(c: Client, assetId: string, objects: unknown[]) {
    const cur = await c.get(docUrl(assetId));
    return c.put(docUrl(assetId), { baseRevision: cur.body.revision, document: { objects } });
  }

  beforeAll(async () => {
    ts = await startTestServer(kind);
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
    const mk = async (email: string, name: string) => (await admin.post('/api/users', { email, name, password: 'long-enough-pass-1' })).body.id as string;
    annotatorId = await mk('ann@example.org', 'Ann Otator');
    reviewerId = await mk('rev@example.org', 'Rev Iewer');
    await mk('out@example.org', 'Out Sider');
    await mk('view@example.org', 'Vi Ewer');
    const viewerId = (await admin.get('/api/users')).body.items.find((u: { email: string }) => u.email === 'view@example.org').id as string;
    projectId = (await admin.post('/api/projects', { name: 'Review rounds', labelSchema: CLASSIFY_SCHEMA })).body.id;
    await admin.put(`/api/projects/${projectId}/members/${annotatorId}`, { role: 'annotator' });
    await admin.put(`/api/projects/${projectId}/members/${reviewerId}`, { role: 'reviewer' });
    await admin.put(`/api/projects/${projectId}/members/${viewerId}`, { role: 'viewer' });
    const taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'Batch' })).body.id;
    const up = await admin.post(
      `/api/tasks/${taskId}/assets`,
      formWith([
        { name: 'a.png', data: await makePng(8, 6, 8, 1), type: 'image/png' },
        { name: 'b.png', data: await makePng(8, 6, 8, 2), type: 'image/png' },
      ]),
    );
    expect(up.status).toBe(201);
    const jobs = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 2, assigneeId: annotatorId });
    jobId = jobs.body.items[0].id;
    assetIds = (await admin.get(`/api/jobs/${jobId}`)).body.assets.map((a: { id: string }) => a.id);
    annotator = await Client.login(ts.url, 'ann@example.org', 'long-enough-pass-1');
    reviewer = await Client.login(ts.url, 'rev@example.org', 'long-enough-pass-1');
    outsider = await Client.login(ts.url, 'out@example.org', 'long-enough-pass-1');
    viewer = await Client.login(ts.url, 'view@example.org', 'long-enough-pass-1');
  });
  afterAll(async () => ts?.close());

  it('a job enters the review queue when its annotator completes it; review cannot start before', async () => {
    expect((await reviewer.post(`/api/jobs/${jobId}/review/start`)).status).toBe(409);
    for (const a of assetIds) expect((await save(annotator, a, [tag('Normal', annotatorId)])).status).toBe(200);
    expect((await reviewer.get('/api/review/queue')).body.items).toHaveLength(0);
    expect((await annotator.patch(`/api/jobs/${jobId}`, { state: 'completed' })).status).toBe(200);
    const q = await reviewer.get('/api/review/queue');
    expect(q.status).toBe(200);
    expect(q.body.items).toHaveLength(1);
    expect(q.body.items[0]).toMatchObject({ id: jobId, projectName: 'Review rounds', taskName: 'Batch', assigneeName: 'Ann Otator', round: 0, openIssues: 0, stage: 'annotation', state: 'completed' });
    // annotators and outsiders have an empty queue; they cannot start reviews
    expect((await annotator.get('/api/review/queue')).body.items).toHaveLength(0);
    expect((await outsider.get('/api/review/queue')).body.items).toHaveLength(0);
    expect((await annotator.post(`/api/jobs/${jobId}/review/start`)).status).toBe(403);
    expect((await outsider.post(`/api/jobs/${jobId}/review/start`)).status).toBe(404);
    expect((await viewer.post(`/api/jobs/${jobId}/review/start`)).status).toBe(403);
  });

  it('the reviewer starts the review; the annotator can no longer write', async () => {
    const s = await reviewer.post(`/api/jobs/${jobId}/review/start`);
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ stage: 'review', reviewerId, round: 0, canReview: true, changedByReviewer: false });
    expect((await reviewer.post(`/api/jobs/${jobId}/review/start`)).status).toBe(200); // continuing is fine
    const locked = await save(annotator, assetIds[0]!, [tag('Ungradable', annotatorId)]);
    expect(locked.status).toBe(409);
    expect(locked.body.detail).toMatch(/under review/);
    const st = await annotator.get(`/api/jobs/${jobId}/review`);
    expect(st.body).toMatchObject({ stage: 'review', canReview: false, canDiscuss: true, reviewerName: 'Rev Iewer' });
  });

  it('issues: pinned with slice + point, validated, hidden from outsiders', async () => {
    const url = `/api/jobs/${jobId}/issues`;
    const bad = [
      {},
      { slice: -1 },
      { slice: 1.5 },
      { range: [5, 2] },
      { point: [1] },
      { point: [1, 2, 3, 4] },
      { region: { x: 0, y: 0, width: 0, height: 3 } },
      { colour: 'red' },
    ];
    for (const location of bad) {
      const r = await reviewer.post(url, { assetId: assetIds[0], location, text: 'x' });
      expect([400, 422], JSON.stringify(location)).toContain(r.status);
    }
    expect((await reviewer.post(url, { assetId: assetIds[0], location: { slice: 0 }, text: '' })).status).toBe(400);
    expect((await reviewer.post(url, { assetId: assetIds[0], location: { slice: 0 }, text: 'y'.repeat(5001) })).status).toBe(400);
    // a PNG has one frame: slice 3 is outside it
    expect((await reviewer.post(url, { assetId: assetIds[0], location: { slice: 3, point: [1, 2, 3] }, text: 'x' })).status).toBe(422);
    // an asset outside the job
    expect((await reviewer.post(url, { assetId: '00000000-0000-4000-8000-000000000000', location: { slice: 0 }, text: 'x' })).status).toBe(404);

    const created = await reviewer.post(url, { assetId: assetIds[0], location: { slice: 0, point: [3, 2, 0] }, text: SECRET });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ state: 'open', round: 0, location: { slice: 0, point: [3, 2, 0] }, createdByName: 'Rev Iewer' });
    expect(created.body.comments).toHaveLength(1);
    issueId = created.body.id;

    for (const c of [outsider, viewer]) {
      expect((await c.post(url, { assetId: assetIds[0], location: { slice: 0 }, text: 'x' })).status).toBe(404);
      expect((await c.get(url)).status).toBe(404);
      expect((await c.post(`/api/issues/${issueId}/comments`, { text: 'x' })).status).toBe(404);
      expect((await c.patch(`/api/issues/${issueId}`, { state: 'resolved' })).status).toBe(404);
    }
    expect((await outsider.get(`/api/jobs/${jobId}/review`)).status).toBe(404);
  });

  it('reject needs an open issue or a comment; rejection returns the job for round 1', async () => {
    expect((await annotator.post(`/api/jobs/${jobId}/review`, { decision: 'reject', comment: 'x' })).status).toBe(403);
    expect((await reviewer.post(`/api/jobs/${jobId}/review`, { decision: 'maybe' })).status).toBe(400);
    // resolve the only issue: now rejecting without a comment is refused
    expect((await reviewer.patch(`/api/issues/${issueId}`, { state: 'resolved' })).body.state).toBe('resolved');
    const none = await reviewer.post(`/api/jobs/${jobId}/review`, { decision: 'reject' });
    expect(none.status).toBe(422);
    expect((await reviewer.patch(`/api/issues/${issueId}`, { state: 'open' })).body.state).toBe('open');
    const r = await reviewer.post(`/api/jobs/${jobId}/review`, { decision: 'reject' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ stage: 'annotation', state: 'rejected', round: 1, openIssues: 1 });
  });

  it('the annotator sees the issue, replies, resolves, fixes and completes again', async () => {
    const job = await annotator.get(`/api/jobs/${jobId}`);
    expect(job.body).toMatchObject({ stage: 'annotation', state: 'rejected' });
    const list = await annotator.get(`/api/jobs/${jobId}/issues?state=open`);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(list.body.items[0]).toMatchObject({ id: issueId, location: { slice: 0, point: [3, 2, 0] }, assetId: assetIds[0] });
    expect(list.body.items[0].comments[0]).toMatchObject({ text: SECRET, authorName: 'Rev Iewer' });
    expect((await annotator.get(`/api/jobs/${jobId}/issues?assetId=${assetIds[1]}`)).body.items).toHaveLength(0);

    const reply = await annotator.post(`/api/issues/${issueId}/comments`, { text: 'Fixed: now Abnormal, severe.' });
    expect(reply.status).toBe(201);
    expect(reply.body.comments.map((c: { authorName: string }) => c.authorName)).toEqual(['Rev Iewer', 'Ann Otator']);
    expect((await annotator.post(`/api/issues/${issueId}/comments`, { text: '   ' })).status).toBe(400);
    const resolved = await annotator.patch(`/api/issues/${issueId}`, { state: 'resolved' });
    expect(resolved.body).toMatchObject({ state: 'resolved', resolvedBy: annotatorId });

    expect((await save(annotator, assetIds[0]!, [tag('Abnormal', annotatorId, { severity: 'severe' })])).status).toBe(200);
    expect((await annotator.patch(`/api/jobs/${jobId}`, { state: 'in_progress' })).status).toBe(200);
    expect((await annotator.patch(`/api/jobs/${jobId}`, { state: 'completed' })).status).toBe(200);
    const q = await reviewer.get('/api/review/queue');
    expect(q.body.items[0]).toMatchObject({ id: jobId, round: 1, openIssues: 0, stage: 'annotation', state: 'completed' });
  });

  it('the reviewer fix-edits during review (allowed) and fix-accepts', async () => {
    expect((await reviewer.post(`/api/jobs/${jobId}/review/start`)).body).toMatchObject({ round: 1, changedByReviewer: false });
    const fix = await save(reviewer, assetIds[1]!, [tag('Ungradable', reviewerId)]);
    expect(fix.status).toBe(200);
    expect((await reviewer.get(`/api/jobs/${jobId}/review`)).body.changedByReviewer).toBe(true);
    // the viewer (no review role) and the annotator still cannot write
    expect((await save(viewer, assetIds[1]!, [])).status).toBe(403);
    expect((await save(annotator, assetIds[1]!, [])).status).toBe(409);
    const done = await reviewer.post(`/api/jobs/${jobId}/review`, { decision: 'fix-accept' });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ stage: 'acceptance', state: 'completed', round: 1 });
    expect((await admin.get(`/api/jobs/${jobId}`)).body).toMatchObject({ stage: 'acceptance', state: 'completed' });
    // after acceptance: out of the queue, nobody but managers writes
    expect((await reviewer.get('/api/review/queue')).body.items).toHaveLength(0);
    expect((await save(annotator, assetIds[1]!, [])).status).toBe(409);
    expect((await save(reviewer, assetIds[1]!, [])).status).toBe(403);
    expect((await reviewer.post(`/api/jobs/${jobId}/review`, { decision: 'accept' })).status).toBe(409);
  });

  it('every transition is audited with ids and counts, never the comment text', async () => {
    const r = await admin.get('/api/audit?limit=1000');
    const items = r.body.items as { action: string; targetId: string; details: Record<string, unknown> }[];
    const actions = items.map((e) => e.action);
    for (const a of ['review.start', 'review.reject', 'review.fix-accept', 'issue.create', 'issue.comment', 'issue.resolve', 'issue.reopen']) expect(actions).toContain(a);
    const reject = items.find((e) => e.action === 'review.reject')!;
    expect(reject.details).toMatchObject({ jobId, round: 0, openIssues: 1 });
    const fixAccept = items.find((e) => e.action === 'review.fix-accept')!;
    expect(fixAccept.details).toMatchObject({ jobId, round: 1, revisedByReviewer: true, reviewerRevisions: 1 });
    expect(JSON.stringify(items)).not.toContain('Jane Roe');
    expect(JSON.stringify(items)).not.toContain('severe.');
    expect((await admin.get('/api/audit/verify')).body.ok).toBe(true);
  });

  it('a reject with only a comment opens an asset-level issue on the first asset', async () => {
    const taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'Second' })).body.id;
    await admin.post(`/api/tasks/${taskId}/assets`, formWith([{ name: 'c.png', data: await makePng(4, 4, 8, 3), type: 'image/png' }]));
    const j2 = (await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 1, assigneeId: annotatorId })).body.items[0].id as string;
    const a = (await admin.get(`/api/jobs/${j2}`)).body.assets[0].id as string;
    await annotator.put(`/api/jobs/${j2}/assets/${a}/annotations`, { baseRevision: 0, document: { objects: [tag('Normal', annotatorId)] } });
    await annotator.patch(`/api/jobs/${j2}`, { state: 'completed' });
    expect((await reviewer.post(`/api/jobs/${j2}/review/start`)).status).toBe(200);
    // a manager (admin) may take the review over
    expect((await admin.post(`/api/jobs/${j2}/review/start`)).body.reviewerId).not.toBe(reviewerId);
    expect((await reviewer.post(`/api/jobs/${j2}/review`, { decision: 'reject', comment: 'x' })).status).toBe(409);
    const r = await admin.post(`/api/jobs/${j2}/review`, { decision: 'reject', comment: 'Look again at the whole image.' });
    expect(r.body).toMatchObject({ state: 'rejected', round: 1, openIssues: 1 });
    const issues = (await annotator.get(`/api/jobs/${j2}/issues`)).body.items;
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ assetId: a, location: {}, round: 0 });
  });
});
