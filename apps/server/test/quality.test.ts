import { gzipSync } from 'node:zlib';
import { boxIoU, detectionScores, dice, labelMask, matchObjects, stapleMultiLabel } from '@caliper/core';
import { decodeLabelmap, encodeLabelmap } from '@caliper/core/labelmap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, DB_KINDS, makePng, startTestServer, type TestServer } from './harness.js';
import { waitForRun } from './ingest-helpers.js';

const SCHEMA = {
  version: 1,
  labels: [
    { name: 'Normal', color: '#2e7d32', kinds: ['tag'], attributes: [] },
    { name: 'Abnormal', color: '#c62828', kinds: ['tag'], attributes: [] },
    { name: 'Lesion', color: '#1565c0', kinds: ['box'], attributes: [] },
    { name: 'Liver', color: '#6a1b9a', kinds: ['labelmap'], attributes: [] },
    { name: 'Tumor', color: '#ef6c00', kinds: ['labelmap'], attributes: [] },
  ],
};
const STAMP = '2026-11-28T00:00:00.000Z';
const COLS = 24;
const ROWS = 20;
const SLICES = 3;
const PER = COLS * ROWS;

/** A minimal NIfTI-1 volume (uint8, 1 mm voxels, sform only), gzip-compressed; no PHI anywhere. */
function niftiGz(cols: number, rows: number, slices: number, seed: number): Buffer {
  const h = Buffer.alloc(352);
  h.writeInt32LE(348, 0);
  [3, cols, rows, slices, 1, 1, 1, 1].forEach((d, i) => h.writeInt16LE(d, 40 + i * 2));
  h.writeInt16LE(2, 70);
  h.writeInt16LE(8, 72);
  [1, 1, 1, 1, 0, 0, 0, 0].forEach((d, i) => h.writeFloatLE(d, 76 + i * 4));
  h.writeFloatLE(352, 108);
  h.writeFloatLE(1, 112);
  h.writeInt16LE(0, 252);
  h.writeInt16LE(1, 254);
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

const common = (id: string, label: string, userId: string) => ({ id, label, attributes: {}, source: 'manual', createdBy: userId, createdAt: STAMP, updatedAt: STAMP });
const tagObj = (label: string, userId: string) => ({ ...common(`t-${label}`, label, userId), kind: 'tag', scope: { type: 'asset' } });
const boxObj = (id: string, b: { x: number; y: number; width: number; height: number }, userId: string) => ({ ...common(id, 'Lesion', userId), kind: 'box', ...b, slice: 1 });
const labelmapObj = (blob: string, userId: string) => ({
  ...common('lm', 'Liver', userId),
  kind: 'labelmap',
  blob,
  shape: [COLS, ROWS, SLICES],
  segments: [
    { value: 1, label: 'Liver' },
    { value: 2, label: 'Tumor' },
  ],
});

/** A label volume: a rectangle of Liver (1) shifted by `dx`, a Tumor (2) square inside. */
function volume(dx: number, tumor = true): Uint8Array {
  const v = new Uint8Array(PER * SLICES);
  for (let k = 0; k < SLICES; k++)
    for (let j = 4; j < 16; j++)
      for (let i = 4 + dx; i < 18 + dx; i++) {
        v[k * PER + j * COLS + i] = tumor && k === 1 && j >= 8 && j < 12 && i >= 8 + dx && i < 12 + dx ? 2 : 1;
      }
  return v;
}

async function postBytes(client: Client, url: string, body: Uint8Array) {
  const h: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (client.cookie) h.cookie = client.cookie;
  if (client.csrf) h['x-csrf-token'] = client.csrf;
  const res = await fetch(client.base + url, { method: 'POST', headers: h, body: new Uint8Array(body) });
  return { status: res.status, body: (await res.json()) as any };
}

describe.each(DB_KINDS)('quality on %s', (kind) => {
  let ts: TestServer;
  let admin: Client;
  let reviewer: Client;
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

  async function newTask(name: string, overlap: number, honeypotPercent = 0) {
    const taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name })).body.id as string;
    const r = await admin.put(`/api/tasks/${taskId}/quality`, { overlap, honeypotPercent });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toEqual({ taskId, overlap, honeypotPercent });
    expect((await admin.get(`/api/tasks/${taskId}`)).body).toMatchObject({ overlap, honeypotPercent });
    return taskId;
  }

  /** The jobs of a task with their assets (manager view), keyed by assignee. */
  async function jobsOf(taskId: string) {
    const jobs = (await admin.get(`/api/tasks/${taskId}/jobs`)).body.items as { id: string; assigneeId: string | null }[];
    const out: { id: string; assigneeId: string | null; assets: string[] }[] = [];
    for (const j of jobs) out.push({ id: j.id, assigneeId: j.assigneeId, assets: (await admin.get(`/api/jobs/${j.id}`)).body.assets.map((a: { id: string }) => a.id) });
    return out;
  }

  async function save(client: Client, jobId: string, assetId: string, objects: unknown[]) {
    const cur = await client.get(`/api/jobs/${jobId}/assets/${assetId}/annotations`);
    expect(cur.status).toBe(200);
    const r = await client.put(`/api/jobs/${jobId}/assets/${assetId}/annotations`, { baseRevision: cur.body.revision, document: { objects } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }

  async function saveLabelmap(client: Client, assetId: string, data: Uint8Array) {
    const r = await postBytes(client, `/api/assets/${assetId}/labelmaps`, encodeLabelmap({ shape: [COLS, ROWS, SLICES], dtype: 'uint8', slices: (k) => data.subarray(k * PER, (k + 1) * PER) }));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.sha as string;
  }

  async function complete(client: Client, jobId: string) {
    const r = await client.patch(`/api/jobs/${jobId}`, { state: 'completed' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  }

  async function waitConsensus(taskId: string, count: number) {
    const t0 = Date.now();
    for (;;) {
      const r = await admin.get(`/api/tasks/${taskId}/consensus`);
      expect(r.status).toBe(200);
      const items = r.body.items as { assetId: string; state: string; jobId: string; result: any; updatedAt: string }[];
      if (items.filter((i) => i.state === 'done' || i.state === 'failed').length >= count) return items;
      if (Date.now() - t0 > 30_000) throw new Error(`consensus not done: ${JSON.stringify(items)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  const scoreCount = async () => Number((await ts.server.deps.db.selectFrom('quality_scores').select((eb) => eb.fn.countAll<number>().as('n')).where('project_id', '=', projectId).executeTakeFirstOrThrow()).n);

  beforeAll(async () => {
    ts = await startTestServer(kind);
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
    projectId = (await admin.post('/api/projects', { name: 'Quality', labelSchema: SCHEMA })).body.id;
    for (let i = 1; i <= 4; i++) {
      const email = `ann${i}@example.org`;
      const id = (await admin.post('/api/users', { email, name: `Annotator ${i}`, password: 'quality-pass-1' })).body.id as string;
      await admin.put(`/api/projects/${projectId}/members/${id}`, { role: 'annotator' });
      annIds.push(id);
      ann.push(await Client.login(ts.url, email, 'quality-pass-1'));
    }
    const revId = (await admin.post('/api/users', { email: 'rev@example.org', name: 'Reviewer', password: 'quality-pass-1' })).body.id as string;
    await admin.put(`/api/projects/${projectId}/members/${revId}`, { role: 'reviewer' });
    reviewer = await Client.login(ts.url, 'rev@example.org', 'quality-pass-1');
  }, 120_000);
  afterAll(async () => ts?.close());

  it('overlap 3 with 4 annotators: every asset in 3 jobs of 3 different people; too few assignees is 422', async () => {
    const taskId = await newTask('Overlap', 3);
    const pngs = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => ({ name: `img-${i}.png`, data: await makePng(16, 12, 8, i) })));
    const assets = await upload(taskId, pngs);
    expect(assets).toHaveLength(6);
    expect((await admin.put(`/api/tasks/${taskId}/quality`, { overlap: 12 })).status).toBe(400);
    expect((await admin.put(`/api/tasks/${taskId}/quality`, { overlap: 3 })).status).toBe(200);
    expect((await ann[0]!.put(`/api/tasks/${taskId}/quality`, { overlap: 2 })).status).toBe(403);
    const few = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 2, assigneeIds: annIds.slice(0, 2) });
    expect(few.status).toBe(422);
    expect((await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 2, assigneeIds: [annIds[0], annIds[0], annIds[1]] })).status).toBe(422);
    const r = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 2, assigneeIds: annIds });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.items).toHaveLength(9);
    const jobs = await jobsOf(taskId);
    for (const a of assets) {
      const holders = jobs.filter((j) => j.assets.includes(a.id));
      expect(holders).toHaveLength(3);
      expect(new Set(holders.map((j) => j.assigneeId)).size).toBe(3);
    }
    // Nobody gets the same item twice, and the work is spread over all four.
    for (const id of annIds) {
      const mine = jobs.filter((j) => j.assigneeId === id).flatMap((j) => j.assets);
      expect(new Set(mine).size).toBe(mine.length);
    }
    expect(new Set(jobs.map((j) => j.assigneeId)).size).toBe(4);
    // Everything is in a job now.
    expect((await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 2, assigneeIds: annIds })).status).toBe(409);
  });

  it('consensus of three raters: tag majority, mean box, STAPLE label map; scores, dashboard, CSV, access', async () => {
    const taskId = await newTask('Consensus', 3);
    const [asset] = await upload(taskId, [{ name: 'ct.nii.gz', data: niftiGz(COLS, ROWS, SLICES, 1) }]);
    const assetId = asset!.id;
    const r = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 1, assigneeIds: annIds.slice(0, 3) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const jobs = await jobsOf(taskId);
    const jobOf = (i: number) => jobs.find((j) => j.assigneeId === annIds[i])!.id;
    const tags = [['Abnormal'], ['Abnormal'], ['Normal']];
    const boxes = [
      [
        { x: 10, y: 10, width: 10, height: 10 },
        { x: 0, y: 0, width: 3, height: 3 },
      ],
      [{ x: 11, y: 11, width: 10, height: 10 }],
      [{ x: 12, y: 10, width: 10, height: 12 }],
    ];
    const vols = [volume(0), volume(1), volume(3, false)];
    for (let i = 0; i < 3; i++) {
      const sha = await saveLabelmap(ann[i]!, assetId, vols[i]!);
      await save(ann[i]!, jobOf(i), assetId, [...tags[i]!.map((t) => tagObj(t, annIds[i]!)), ...boxes[i]!.map((b, k) => boxObj(`b${k}`, b, annIds[i]!)), labelmapObj(sha, annIds[i]!)]);
    }
    await complete(ann[0]!, jobOf(0));
    await complete(ann[1]!, jobOf(1));
    // Two of three replicas complete: no consensus yet.
    await new Promise((res) => setTimeout(res, 300));
    expect((await admin.get(`/api/tasks/${taskId}/consensus`)).body.items).toEqual([]);
    await complete(ann[2]!, jobOf(2));
    const [item] = await waitConsensus(taskId, 1);
    expect(item!.state).toBe('done');
    const result = item!.result;
    expect(result.tags[0].labels).toEqual(['Abnormal']);
    expect(result.tie).toBe(false);
    expect(result.labelmap.sensitivity).toHaveLength(3);
    expect(result.labelmap.specificity).toHaveLength(3);
    expect(Object.keys(result.labelmap.sensitivity[0])).toEqual(['Liver', 'Tumor']);

    // The consensus job: visible to a reviewer, its document carries source consensus.
    const cjob = await reviewer.get(`/api/jobs/${item!.jobId}`);
    expect(cjob.status).toBe(200);
    expect(cjob.body).toMatchObject({ stage: 'review', state: 'completed', assigneeId: null });
    const doc = (await reviewer.get(`/api/jobs/${item!.jobId}/assets/${assetId}/annotations`)).body.document;
    expect(doc.objects.every((o: { source: string }) => o.source === 'consensus')).toBe(true);
    expect(doc.objects.filter((o: any) => o.kind === 'tag').map((o: any) => o.label)).toEqual(['Abnormal']);
    const cbox = doc.objects.filter((o: any) => o.kind === 'box');
    expect(cbox).toHaveLength(1);
    expect(cbox[0].x).toBeCloseTo(11, 10);
    expect(cbox[0].y).toBeCloseTo(31 / 3, 10);
    expect(cbox[0].width).toBeCloseTo(10, 10);
    expect(cbox[0].height).toBeCloseTo(32 / 3, 10);
    expect(cbox[0].slice).toBe(1);
    expect(result.objects[cbox[0].id]).toMatchObject({ votes: 3, score: 1 });
    const clm = doc.objects.find((o: any) => o.kind === 'labelmap');
    const blob = await fetch(`${ts.url}/api/assets/${assetId}/labelmaps/${clm.blob}`, { headers: { cookie: reviewer.cookie! } });
    expect(blob.status).toBe(200);
    const stored = decodeLabelmap(new Uint8Array(await blob.arrayBuffer()));
    const expected = stapleMultiLabel(vols);
    expect(stored.shape).toEqual([COLS, ROWS, SLICES]);
    expect(Array.from(stored.data)).toEqual(Array.from(expected.consensus));
    // STAPLE's estimate for the third rater, wherever the consensus step listed it.
    const third = result.raters.findIndex((x: { annotatorId: string }) => x.annotatorId === annIds[2]);
    const order = result.raters.map((x: { annotatorId: string }) => annIds.indexOf(x.annotatorId));
    const inOrder = stapleMultiLabel(order.map((i: number) => vols[i]!));
    expect(Array.from(inOrder.consensus)).toEqual(Array.from(expected.consensus));
    expect(result.labelmap.sensitivity[third].Liver).toBeCloseTo(inOrder.confusion[third]![1]![1]!, 12);
    expect(result.labelmap.specificity[third]).toBeCloseTo(inOrder.confusion[third]![0]![0]!, 12);

    // Running it again (manager) changes nothing: same revision.
    const again = await admin.post(`/api/tasks/${taskId}/consensus`);
    expect(again.status).toBe(202);
    expect(again.body.queued).toBe(1);
    const revs = async () => (await admin.get(`/api/jobs/${item!.jobId}/assets/${assetId}/annotations/revisions`)).body.items.length;
    const t0 = Date.now();
    while ((await waitConsensus(taskId, 1))[0]!.updatedAt === item!.updatedAt) {
      if (Date.now() - t0 > 30_000) throw new Error('the re-run did not happen');
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(await revs()).toBe(1);

    // Agreement per annotator, recomputed here with the core functions.
    const dash = await admin.get(`/api/projects/${projectId}/quality?taskId=${taskId}`);
    expect(dash.status, JSON.stringify(dash.body)).toBe(200);
    const cons = stored.data;
    for (let i = 0; i < 3; i++) {
      const row = dash.body.annotators.find((a: { id: string }) => a.id === annIds[i]);
      expect(row.name).toBe(`Annotator ${i + 1}`);
      const tagScores = [...new Set([...tags[i]!, 'Abnormal'])].map((l) => (tags[i]!.includes(l) === (l === 'Abnormal') ? 1 : 0));
      expect(row.agreement.tags).toBeCloseTo(tagScores.reduce((a: number, b: number) => a + b, 0) / tagScores.length, 12);
      const f1 = detectionScores(matchObjects([cbox[0]], boxes[i]!, boxIoU, 0.5)).f1;
      expect(row.agreement.boxF1).toBeCloseTo(f1, 12);
      const n = cons.length;
      const dices = [1, 2].map((v) => dice(labelMask({ data: cons, shape: [n, 1] }, v), labelMask({ data: vols[i]!, shape: [n, 1] }, v)));
      expect(row.agreement.dice).toBeCloseTo((dices[0]! + dices[1]!) / 2, 12);
      expect(row.accuracy).toEqual({ tags: null, boxF1: null, polygonF1: null, dice: null });
    }
    expect(dash.body.confusion.labels).toEqual(['Normal', 'Abnormal', '(none)']);
    // rows = consensus, columns = annotators: two agree on Abnormal, one said Normal instead.
    expect(dash.body.confusion.matrix).toEqual([
      [0, 0, 0],
      [1, 2, 0],
      [0, 0, 0],
    ]);
    expect(dash.body.dice).toHaveLength(6);
    expect(dash.body.task.items).toBe(1);
    expect(dash.body.task.percentAgreement).toBeCloseTo(((1 / 3) * 2) / 2, 12); // units Normal (1 of 3) and Abnormal (2 of 3): 1/3 each
    expect(dash.body.trend.length).toBeGreaterThan(0);

    const csv = await admin.get(`/api/projects/${projectId}/quality.csv?taskId=${taskId}`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = (csv.body as string).trimEnd().split('\r\n');
    expect(lines[0]).toBe('date,task,asset,annotator,email,kind,metric,label,value,n');
    const n = Number((await ts.server.deps.db.selectFrom('quality_scores').select((eb) => eb.fn.countAll<number>().as('n')).where('task_id', '=', taskId).executeTakeFirstOrThrow()).n);
    expect(lines).toHaveLength(n + 1);
    expect(lines.some((l) => l.includes(asset!.name) && l.includes('ann1@example.org') && l.includes(',agreement,dice,Liver,'))).toBe(true);

    for (const url of [`/api/projects/${projectId}/quality`, `/api/projects/${projectId}/quality.csv`, `/api/tasks/${taskId}/consensus`, `/api/tasks/${taskId}/ground-truth`, `/api/tasks/${taskId}/quality`]) {
      expect((await ann[0]!.get(url)).status, url).toBe(403);
    }
    expect((await ann[0]!.post(`/api/tasks/${taskId}/consensus`)).status).toBe(403);
    expect((await reviewer.post(`/api/tasks/${taskId}/consensus`)).status).toBe(403);
    expect((await reviewer.get(`/api/projects/${projectId}/quality`)).status).toBe(200);
  });

  it('adversarial: identical raters (agreement 1, consensus = input), disjoint boxes, empty label maps', async () => {
    const taskId = await newTask('Adversarial', 3);
    const assets = await upload(taskId, [
      { name: 'a-same.nii.gz', data: niftiGz(COLS, ROWS, SLICES, 2) },
      { name: 'b-apart.nii.gz', data: niftiGz(COLS, ROWS, SLICES, 3) },
    ]);
    const same = assets.find((a) => a.name.startsWith('a-'))!.id;
    const apart = assets.find((a) => a.name.startsWith('b-'))!.id;
    expect((await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 2, assigneeIds: annIds.slice(1, 4) })).status).toBe(201);
    const jobs = await jobsOf(taskId);
    const vol = volume(2);
    const empty = new Uint8Array(PER * SLICES);
    const theBox = { x: 3, y: 4, width: 5, height: 6 };
    for (let i = 0; i < 3; i++) {
      const c = ann[i + 1]!;
      const uid = annIds[i + 1]!;
      const job = jobs.find((j) => j.assigneeId === uid)!.id;
      await save(c, job, same, [tagObj('Normal', uid), boxObj('b', theBox, uid), labelmapObj(await saveLabelmap(c, same, vol), uid)]);
      await save(c, job, apart, [boxObj('b', { x: i * 7, y: 0, width: 5, height: 5 }, uid), labelmapObj(await saveLabelmap(c, apart, empty), uid)]);
      await complete(c, job);
    }
    const items = await waitConsensus(taskId, 2);
    const it1 = items.find((x) => x.assetId === same)!;
    const it2 = items.find((x) => x.assetId === apart)!;
    expect(it1.state).toBe('done');
    expect(it2.state).toBe('done');
    const doc1 = (await admin.get(`/api/jobs/${it1.jobId}/assets/${same}/annotations`)).body.document;
    const box1 = doc1.objects.find((o: any) => o.kind === 'box');
    expect({ x: box1.x, y: box1.y, width: box1.width, height: box1.height }).toEqual(theBox);
    const lm1 = doc1.objects.find((o: any) => o.kind === 'labelmap');
    const bytes1 = new Uint8Array(await (await fetch(`${ts.url}/api/assets/${same}/labelmaps/${lm1.blob}`, { headers: { cookie: admin.cookie! } })).arrayBuffer());
    expect(Buffer.from(decodeLabelmap(bytes1).data).equals(Buffer.from(vol))).toBe(true);
    const doc2 = (await admin.get(`/api/jobs/${it2.jobId}/assets/${apart}/annotations`)).body.document;
    expect(doc2.objects.filter((o: any) => o.kind === 'box')).toEqual([]);
    const lm2 = doc2.objects.find((o: any) => o.kind === 'labelmap');
    const bytes2 = new Uint8Array(await (await fetch(`${ts.url}/api/assets/${apart}/labelmaps/${lm2.blob}`, { headers: { cookie: admin.cookie! } })).arrayBuffer());
    expect(decodeLabelmap(bytes2).data.every((v) => v === 0)).toBe(true);

    const rows = await ts.server.deps.db.selectFrom('quality_scores').selectAll().where('task_id', '=', taskId).where('asset_id', '=', same).execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => Number(r.value) === 1)).toBe(true);
    const apartRows = await ts.server.deps.db.selectFrom('quality_scores').selectAll().where('task_id', '=', taskId).where('asset_id', '=', apart).execute();
    // Every rater's lone box is a false positive against an empty consensus; empty maps agree (Dice 1).
    expect(apartRows.filter((r) => r.metric === 'boxF1').map((r) => Number(r.value))).toEqual([0, 0, 0]);
    expect(apartRows.filter((r) => r.metric === 'dice').every((r) => Number(r.value) === 1)).toBe(true);
  });

  it('ground truth and hidden honeypots: accuracy after completion, nothing reveals the flag', async () => {
    const taskId = await newTask('Mixed', 1);
    const first = await upload(taskId, await Promise.all([0, 1, 2, 3].map(async (i) => ({ name: `gt-${i}.png`, data: await makePng(8, 8, 8, 20 + i) }))));
    expect((await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 4, assigneeId: annIds[3] })).status).toBe(201);
    const [gtJob] = await jobsOf(taskId);
    // Not completed yet: refused.
    expect((await admin.post(`/api/jobs/${gtJob!.id}/ground-truth`, {})).status).toBe(409);
    for (const a of first) await save(ann[3]!, gtJob!.id, a.id, [tagObj('Normal', annIds[3]!)]);
    await complete(ann[3]!, gtJob!.id);
    expect((await ann[3]!.post(`/api/jobs/${gtJob!.id}/ground-truth`, {})).status).toBe(403);
    const mark = await admin.post(`/api/jobs/${gtJob!.id}/ground-truth`, {});
    expect(mark.status, JSON.stringify(mark.body)).toBe(200);
    expect(mark.body.marked).toBe(4);
    const gts = (await admin.get(`/api/tasks/${taskId}/ground-truth`)).body.items;
    expect(gts.map((g: { assetId: string }) => g.assetId).sort()).toEqual(first.map((a) => a.id).sort());
    // Unmark one and mark it again.
    expect((await admin.delete(`/api/assets/${first[0]!.id}/ground-truth`)).status).toBe(204);
    expect((await admin.get(`/api/tasks/${taskId}/ground-truth`)).body.items).toHaveLength(3);
    expect((await admin.post(`/api/jobs/${gtJob!.id}/ground-truth`, { assetIds: [first[0]!.id] })).body.marked).toBe(1);

    expect((await admin.put(`/api/tasks/${taskId}/quality`, { honeypotPercent: 50 })).status).toBe(200);
    const all = await upload(taskId, await Promise.all([0, 1, 2, 3].map(async (i) => ({ name: `new-${i}.png`, data: await makePng(8, 8, 8, 40 + i) }))));
    const fresh = all.filter((a) => a.name.startsWith('new-')).map((a) => a.id);
    const created = await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 2, assigneeIds: [annIds[0]] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.items).toHaveLength(2);
    const gtIds = new Set(first.map((a) => a.id));
    for (const j of created.body.items as { id: string; assetCount: number }[]) {
      const rows = await ts.server.deps.db.selectFrom('job_assets').select(['asset_id', 'honeypot']).where('job_id', '=', j.id).execute();
      expect(rows).toHaveLength(3);
      expect(rows.filter((r) => Number(r.honeypot) === 1).map((r) => gtIds.has(r.asset_id))).toEqual([true]);
      expect(rows.filter((r) => Number(r.honeypot) === 0).every((r) => fresh.includes(r.asset_id))).toBe(true);
      expect(j.assetCount).toBe(3);
    }
    // The annotator's views: the honeypot is just another asset.
    const a = ann[0]!;
    const seen: string[] = [];
    const mine = (await a.get('/api/me/jobs')).body.items.filter((j: { taskId: string }) => j.taskId === taskId);
    seen.push(JSON.stringify(mine), JSON.stringify((await a.get(`/api/tasks/${taskId}/jobs`)).body), JSON.stringify((await a.get(`/api/tasks/${taskId}/assets`)).body));
    for (const j of mine as { id: string }[]) {
      const detail = await a.get(`/api/jobs/${j.id}`);
      expect(detail.status).toBe(200);
      seen.push(JSON.stringify(detail.body));
      for (const asset of detail.body.assets as { id: string }[]) {
        const ann0 = await a.get(`/api/jobs/${j.id}/assets/${asset.id}/annotations`);
        expect(ann0.status).toBe(200);
        seen.push(JSON.stringify(ann0.body), JSON.stringify((await a.get(`/api/assets/${asset.id}`)).body));
        // Ground-truth items get a wrong tag (accuracy 0 for it), the others the right one.
        await save(a, j.id, asset.id, [tagObj(gtIds.has(asset.id) && asset.id === first[0]!.id ? 'Abnormal' : 'Normal', annIds[0]!)]);
      }
    }
    for (const s of seen) expect(s.toLowerCase()).not.toMatch(/honeypot|ground.?truth/);
    expect((await a.get(`/api/tasks/${taskId}/ground-truth`)).status).toBe(403);
    const before = await scoreCount();
    for (const j of mine as { id: string }[]) await complete(a, j.id);
    const t0 = Date.now();
    // Both jobs' honeypots scored (one accuracy run per completed job).
    while (new Set((await ts.server.deps.db.selectFrom('quality_scores').select('asset_id').where('task_id', '=', taskId).where('kind', '=', 'accuracy').execute()).map((r) => r.asset_id)).size < 2) {
      if (Date.now() - t0 > 30_000) throw new Error('no accuracy rows');
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(await scoreCount()).toBeGreaterThan(before);
    const dash = (await admin.get(`/api/projects/${projectId}/quality?taskId=${taskId}`)).body;
    const row = dash.annotators.find((x: { id: string }) => x.id === annIds[0]);
    const honeypotAssets = (await ts.server.deps.db.selectFrom('job_assets').select('asset_id').where('job_id', 'in', (mine as { id: string }[]).map((j) => j.id)).where('honeypot', '=', 1).execute()).map((r) => r.asset_id);
    const wrong = honeypotAssets.includes(first[0]!.id);
    // Per honeypot: the tag labels either side gave, 1 when both agree. A wrong item scores 0 on Normal and on Abnormal.
    const perItem = honeypotAssets.map((id) => (id === first[0]!.id ? [0, 0] : [1]));
    const flat = perItem.flat();
    expect(row.accuracy.tags).toBeCloseTo(flat.reduce((x, y) => x + y, 0) / flat.length, 12);
    expect(row.items).toBe(2);
    expect(wrong ? row.accuracy.tags < 1 : row.accuracy.tags === 1).toBe(true);
  });
});
