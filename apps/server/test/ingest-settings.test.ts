import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { readDicom } from '@caliper/media';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASSIFY_SCHEMA, Client, DB_KINDS, formWith, startTestServer, type TestServer } from './harness.js';
import { fetchFrame, SHARED, waitForRun } from './ingest-helpers.js';

const sample = (p: string) => readFile(path.join(SHARED, 'dicom', p));

describe.each(DB_KINDS)('project de-identification settings on %s', (kind) => {
  let ts: TestServer;
  let admin: Client;

  beforeAll(async () => {
    ts = await startTestServer(kind);
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
  });
  afterAll(async () => ts?.close());

  async function project(name: string) {
    const projectId = (await admin.post('/api/projects', { name, labelSchema: CLASSIFY_SCHEMA })).body.id as string;
    const taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'T' })).body.id as string;
    return { projectId, taskId };
  }

  async function storedDicom(assetId: string) {
    const asset = (await admin.get(`/api/assets/${assetId}`)).body;
    const chunks: Buffer[] = [];
    for await (const c of await ts.server.deps.blobs.get(asset.sha256)) chunks.push(c as Buffer);
    return { asset, dicom: readDicom(new Uint8Array(Buffer.concat(chunks))) };
  }

  it('applies the options and redaction rules of the project at ingest', async () => {
    const basic = await project('Basic');
    const device = await project('Keeps device identity');
    expect((await admin.get(`/api/projects/${device.projectId}/deid-settings`)).body).toEqual({ settings: {}, redactions: [] });
    const put = await admin.put(`/api/projects/${device.projectId}/deid-settings`, {
      settings: { retainDeviceIdentity: true },
      redactions: [{ manufacturer: 'SonoSite, Inc.', rows: 240, columns: 320, rects: [{ x: 0, y: 0, width: 320, height: 24 }] }],
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);

    const files = [
      { name: 'ct.dcm', data: await sample('pydicom/CT_small.dcm') },
      { name: 'us.dcm', data: await sample('pydicom/examples_ybr_color.dcm') },
    ];
    const results: Record<string, { files: any[] }> = {};
    for (const [label, p] of Object.entries({ basic, device })) {
      const up = await admin.post(`/api/tasks/${p.taskId}/uploads`, formWith(files));
      results[label] = await waitForRun(admin, up.body.run.id);
      expect(results[label]!.files.every((f) => f.status === 'stored')).toBe(true);
    }
    const ctOf = (label: string) => results[label]!.files.find((f) => f.name === 'ct.dcm').assetId as string;
    const usOf = (label: string) => results[label]!.files.find((f) => f.name === 'us.dcm');

    // Station name is device identity: removed by the Basic Profile, kept with the option.
    expect((await storedDicom(ctOf('basic'))).dicom.getString('x00081010') ?? '').not.toBe('CT01_OC0');
    expect((await storedDicom(ctOf('device'))).dicom.getString('x00081010')).toBe('CT01_OC0');

    // The redaction rule blacked out the top 24 rows of the ultrasound frames, and only there.
    expect(usOf('device').flags).toEqual(expect.arrayContaining(['burned-in', 'redacted']));
    expect(usOf('basic').flags).not.toContain('redacted');
    const redacted = await fetchFrame(admin, usOf('device').assetId, 0);
    const original = await fetchFrame(admin, usOf('basic').assetId, 0);
    expect(redacted.length).toBe(240 * 320 * 3);
    expect(redacted.subarray(0, 24 * 320 * 3).every((v) => v === 0)).toBe(true);
    expect(original.subarray(0, 24 * 320 * 3).some((v) => v > 30)).toBe(true);
    // Below the rectangle the image is unchanged (the lossy JPEG was decoded and re-stored natively).
    let diff = 0;
    for (let i = 24 * 320 * 3 + 8 * 320 * 3; i < redacted.length; i++) diff = Math.max(diff, Math.abs(redacted[i]! - original[i]!));
    expect(diff).toBeLessThanOrEqual(16);
  }, 120_000);

  it('refuses invalid settings with 400 naming the field, and non-managers with 403/404', async () => {
    const p = await project('Invalid');
    const bad = await admin.put(`/api/projects/${p.projectId}/deid-settings`, { settings: { retainEverything: true }, redactions: [] });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/retainEverything|unrecognized/i);
    const bad2 = await admin.put(`/api/projects/${p.projectId}/deid-settings`, { settings: {}, redactions: [{ rects: [{ x: -1, y: 0, width: 0, height: 5 }] }] });
    expect(bad2.status).toBe(400);
    expect((await admin.get(`/api/projects/${p.projectId}/deid-settings`)).body).toEqual({ settings: {}, redactions: [] });

    const u = await admin.post('/api/users', { email: 'annotator@example.org', name: 'Ann', password: 'annotator-password-1' });
    expect(u.status).toBe(201);
    expect((await admin.put(`/api/projects/${p.projectId}/members/${u.body.id}`, { role: 'annotator' })).status).toBe(200);
    const ann = await Client.login(ts.url, 'annotator@example.org', 'annotator-password-1');
    expect((await ann.get(`/api/projects/${p.projectId}/deid-settings`)).status).toBe(200);
    expect((await ann.put(`/api/projects/${p.projectId}/deid-settings`, { settings: { retainUids: true }, redactions: [] })).status).toBe(403);
    expect((await ann.get(`/api/projects/${p.projectId}/held-assets`)).status).toBe(403);
    expect((await ann.post(`/api/tasks/${p.taskId}/uploads`, formWith([{ name: 'a.txt', data: 'x' }]))).status).toBe(403);
  });
});
