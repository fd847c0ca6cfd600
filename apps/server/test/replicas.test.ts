import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, DB_KINDS, makePng, startTestServer, type TestServer } from './harness.js';
import { waitForRun } from './ingest-helpers.js';

const SCHEMA = {
  version: 1,
  labels: [
    { name: 'Normal', color: '#2e7d32', kinds: ['tag'], attributes: [] },
    { name: 'Lesion', color: '#1565c0', kinds: ['box'], attributes: [] },
  ],
};
const STAMP = '2026-11-28T00:00:00.000Z';
const boxObj = (id: string, b: { x: number; y: number; width: number; height: number }, userId: string) => ({
  id,
  label: 'Lesion',
  attributes: {},
  source: 'manual',
  createdBy: userId,
  createdAt: STAMP,
  updatedAt: STAMP,
  kind: 'box',
  ...b,
});
const tagObj = (userId: string) => ({ id: 't', label: 'Normal', attributes: {}, source: 'manual', createdBy: userId, createdAt: STAMP, updatedAt: STAMP, kind: 'tag', scope: { type: 'asset' } });

describe.each(DB_KINDS)('replicas of an item on %s', (kind) => {
  let ts: TestServer;
  let admin: Client;
  let reviewer: Client;
  let viewer: Client;
  let outsider: Client;
  const ann: Client[] = [];
  const annIds: string[] = [];
  let projectId: string;

  async function upload(task: string, files: { name: string; data: Buffer }[]) {
    const fd = new FormData();
    for (const f of files) fd.append('file', new Blob([new Uint8Array(f.data)]), f.name);
    const up = await admin.post(`/api/tasks/${task}/uploads`, fd);
    expect(up.status, JSON.stringify(up.body)).toBe(202);
    expect((await waitForRun(admin, up.body.run.id)).run.state).toBe('done');
    return (await admin.get(`/api/tasks/${task}/assets`)).body.items as { id: string; name: string }[];
  }

  async function newTask(name: string, overlap: number) {
    const taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name })).body.id as string;
    expect((await admin.put(`/api/tasks/${taskId}/quality`, { overlap })).status).toBe(200);
    return taskId;
  }

  async function jobsOf(taskId: string) {
    const jobs = (await admin.get(`/api/tasks/${taskId}/jobs`)).body.items as { id: string; assigneeId: string | null }[];
    const out: { id: string; assigneeId: string | null; assets: string[] }[] = [];
    for (const j of jobs) out.push({ id: j.id, assigneeId: j.assigneeId, assets: (await admin.get(`/api/jobs/${j.id}`)).body.assets.map((a: { id: string }) => a.id) });
    return out;
  }

  async function save(client: Client, jobId: string, assetId: string, objects: unknown[]) {
    const cur = await client.get(`/api/jobs/${jobId}/assets/${assetId}/annotations`);
    const r = await client.put(`/api/jobs/${jobId}/assets/${assetId}/annotations`, { baseRevision: cur.body.revision, document: { objects } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return r.body.revision as number;
  }

  async function complete(client: Client, jobId: string) {
    const r = await client.patch(`/api/jobs/${jobId}`, { state: 'completed' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }

  async function member(email: string, name: string, role: string | null) {
    const id = (await admin.post('/api/users', { email, name, password: 'replica-pass-1' })).body.id as string;
    if (role) await admin.put(`/api/projects/${projectId}/members/${id}`, { role });
    return { id, client: await Client.login(ts.url, email, 'replica-pass-1') };
  }

  beforeAll(async () => {
    ts = await startTestServer(kind);
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
    projectId = (await admin.post('/api/projects', { name: 'Replicas', labelSchema: SCHEMA })).body.id;
    for (let i = 1; i <= 3; i++) {
      const m = await member(`rater${i}@example.org`, `Rater ${i}`, 'annotator');
      annIds.push(m.id);
      ann.push(m.client);
    }
    reviewer = (await member('reviewer@example.org', 'Reviewer', 'reviewer')).client;
    viewer = (await member('viewer@example.org', 'Viewer', 'viewer')).client;
    outsider = (await member('outsider@example.org', 'Outsider', null)).client;
  }, 120_000);
  afterAll(async () => ts?.close());

  it('three raters and the consensus for a reviewer or manager, seen from any replica job or the consensus job; 404 for everyone else', async () => {
    const taskId = await newTask('Overlap', 3);
    const [asset] = await upload(taskId, [{ name: 'lesion.png', data: await makePng(40, 30, 8, 1) }]);
    const assetId = asset!.id;
    expect((await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 1, assigneeIds: annIds })).status).toBe(201);
    const jobs = await jobsOf(taskId);
    expect(jobs).toHaveLength(3);
    const jobOf = (i: number) => jobs.find((j) => j.assigneeId === annIds[i])!.id;
    const boxes = [
      { x: 10, y: 8, width: 12, height: 10 },
      { x: 11, y: 9, width: 12, height: 10 },
      { x: 9, y: 8, width: 14, height: 11 },
    ];
    const revisions: number[] = [];
    for (let i = 0; i < 3; i++) revisions.push(await save(ann[i]!, jobOf(i), assetId, [tagObj(annIds[i]!), boxObj(`b${i}`, boxes[i]!, annIds[i]!)]));

    // Before the consensus: raters only.
    const early = await reviewer.get(`/api/jobs/${jobOf(0)}/assets/${assetId}/replicas`);
    expect(early.status, JSON.stringify(early.body)).toBe(200);
    expect(early.body.consensus).toBeNull();
    expect(early.body.raters).toHaveLength(3);

    for (let i = 0; i < 3; i++) await complete(ann[i]!, jobOf(i));
    let item: { state: string; jobId: string; result: { objects: Record<string, { votes: number }> } } | undefined;
    for (const t0 = Date.now(); Date.now() - t0 < 30_000; await new Promise((res) => setTimeout(res, 100))) {
      item = (await admin.get(`/api/tasks/${taskId}/consensus`)).body.items[0];
      if (item?.state === 'done') break;
    }
    expect(item?.state).toBe('done');

    for (const [who, client] of [
      ['admin', admin],
      ['reviewer', reviewer],
    ] as const) {
      for (const from of [item!.jobId, jobOf(2)]) {
        const r = await client.get(`/api/jobs/${from}/assets/${assetId}/replicas`);
        expect(r.status, `${who} from ${from}: ${JSON.stringify(r.body)}`).toBe(200);
        const raters = r.body.raters as { jobId: string; annotatorId: string; annotatorName: string; revision: number; document: { objects: { kind: string; x?: number }[] } }[];
        expect(raters.map((x) => x.annotatorId).sort()).toEqual([...annIds].sort());
        for (const x of raters) {
          const i = annIds.indexOf(x.annotatorId);
          expect(x).toMatchObject({ jobId: jobOf(i), annotatorName: `Rater ${i + 1}`, revision: revisions[i] });
          expect(x.document.objects.find((o) => o.kind === 'box')).toMatchObject(boxes[i]!);
        }
        const c = r.body.consensus;
        expect(c.jobId).toBe(item!.jobId);
        expect(c.revision).toBeGreaterThanOrEqual(1);
        const cbox = c.document.objects.find((o: { kind: string }) => o.kind === 'box');
        expect(cbox.x).toBeCloseTo(10, 10);
        expect(cbox.width).toBeCloseTo(38 / 3, 10);
        expect(c.result.objects[cbox.id].votes).toBe(3);
        expect(c.result.raters).toHaveLength(3);
        // The same document as the consensus job's annotation route.
        expect((await client.get(`/api/jobs/${item!.jobId}/assets/${assetId}/annotations`)).body.document).toEqual(c.document);
      }
    }

    // An annotator (even the assignee of a replica job), a viewer, a non-member: 404.
    expect((await ann[0]!.get(`/api/jobs/${jobOf(0)}/assets/${assetId}/replicas`)).status).toBe(404);
    expect((await ann[0]!.get(`/api/jobs/${jobOf(1)}/assets/${assetId}/replicas`)).status).toBe(404);
    expect((await viewer.get(`/api/jobs/${jobOf(0)}/assets/${assetId}/replicas`)).status).toBe(404);
    expect((await outsider.get(`/api/jobs/${jobOf(0)}/assets/${assetId}/replicas`)).status).toBe(404);
  });

  it('404 for an asset with one annotation job, for honeypot placements, and for an asset the job does not hold', async () => {
    const taskId = await newTask('Single', 1);
    const [gt] = await upload(taskId, [{ name: 'gt.png', data: await makePng(16, 12, 8, 5) }]);
    expect((await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 1, assigneeId: annIds[2] })).status).toBe(201);
    const [gtJob] = await jobsOf(taskId);
    await save(ann[2]!, gtJob!.id, gt!.id, [tagObj(annIds[2]!)]);
    await complete(ann[2]!, gtJob!.id);
    expect((await admin.post(`/api/jobs/${gtJob!.id}/ground-truth`, {})).status).toBe(200);
    expect((await admin.get(`/api/jobs/${gtJob!.id}/assets/${gt!.id}/replicas`)).status).toBe(404);

    // Two more jobs that each hold the ground-truth asset as a hidden honeypot.
    expect((await admin.put(`/api/tasks/${taskId}/quality`, { honeypotPercent: 50 })).status).toBe(200);
    const all = await upload(taskId, await Promise.all([0, 1].map(async (i) => ({ name: `new-${i}.png`, data: await makePng(16, 12, 8, 10 + i) }))));
    const created = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 1, assigneeIds: annIds.slice(0, 2) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const jobs = (await jobsOf(taskId)).filter((j) => j.id !== gtJob!.id);
    expect(jobs).toHaveLength(2);
    for (const j of jobs) expect(j.assets).toContain(gt!.id);
    for (const from of [gtJob!.id, jobs[0]!.id]) expect((await admin.get(`/api/jobs/${from}/assets/${gt!.id}/replicas`)).status).toBe(404);
    expect((await reviewer.get(`/api/jobs/${jobs[0]!.id}/assets/${gt!.id}/replicas`)).status).toBe(404);
    // A regular asset in one job only.
    const fresh = all.find((a) => a.name === 'new-0.png')!;
    const holder = jobs.find((j) => j.assets.includes(fresh.id))!;
    expect((await admin.get(`/api/jobs/${holder.id}/assets/${fresh.id}/replicas`)).status).toBe(404);
    // A job that does not hold the asset.
    const other = jobs.find((j) => !j.assets.includes(fresh.id))!;
    expect((await admin.get(`/api/jobs/${other.id}/assets/${fresh.id}/replicas`)).status).toBe(404);
  });
});
