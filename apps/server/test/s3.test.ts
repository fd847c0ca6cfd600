import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASSIFY_SCHEMA, Client, formWith, makePng, startTestServer, type TestServer } from './harness.js';
import { fetchFrame, SHARED, waitForRun } from './ingest-helpers.js';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('server on S3-compatible blob storage (s3rver in-process)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'caliper-s3-'));
  let s3: S3rverInstance;
  let ts: TestServer;
  let admin: Client;

  beforeAll(async () => {
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: work, configureBuckets: [{ name: 'caliper-it', configs: [] }] });
    const { port } = await s3.run();
    ts = await startTestServer('sqlite', {
      CALIPER_BLOB_STORE: 's3://caliper-it/blobs',
      S3_ENDPOINT: `http://127.0.0.1:${port}`,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
  });
  afterAll(async () => {
    await ts?.close();
    await s3?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('stores uploads in the bucket, serves them back byte-exact, and keeps rejected files out', async () => {
    const p = await admin.post('/api/projects', { name: 'S3 project', labelSchema: CLASSIFY_SCHEMA });
    const t = await admin.post(`/api/projects/${p.body.id}/tasks`, { name: 'T' });
    const png = await makePng(64, 64, 16, 7);
    const up = await admin.post(`/api/tasks/${t.body.id}/assets`, formWith([{ name: 'ct.png', data: png }, { name: 'bad.png', data: 'text' }]));
    expect(up.status).toBe(201);
    expect(up.body.accepted).toHaveLength(1);
    const asset = up.body.accepted[0];
    const media = await fetch(`${ts.url}/api/assets/${asset.id}/media`, { headers: { cookie: admin.cookie! } });
    expect(Buffer.from(await media.arrayBuffer()).equals(png)).toBe(true);
    // exactly one object in the bucket, named by the accepted file's sha256; nothing local
    const objects = walk(path.join(work, 'caliper-it')).filter((f) => !f.endsWith('._S3rver_metadata.json') && !f.endsWith('._S3rver_object.md5'));
    expect(objects.some((f) => f.includes(asset.sha256))).toBe(true);
    expect(objects.filter((f) => f.includes('blobs/')).length).toBe(1);
    expect(readdirSync(path.join(ts.dataDir, 'tmp'))).toEqual([]);
  });

  it('ingests a DICOM series into the bucket and serves its frames and thumbnail from there', async () => {
    const p = await admin.post('/api/projects', { name: 'S3 imaging', labelSchema: CLASSIFY_SCHEMA });
    const t = await admin.post(`/api/projects/${p.body.id}/tasks`, { name: 'T' });
    const dir = path.join(SHARED, 'dicom/series/pydicom_CT5N_16x16');
    const names = readdirSync(dir);
    const up = await admin.post(`/api/tasks/${t.body.id}/uploads`, formWith(names.map((n) => ({ name: n, data: readFileSync(path.join(dir, n)) }))));
    expect(up.status).toBe(202);
    const { run, files } = await waitForRun(admin, up.body.run.id);
    expect(run.state).toBe('done');
    const asset = (await admin.get(`/api/assets/${files[0].assetId}`)).body;
    expect(asset).toMatchObject({ modality: 'volume', frameCount: 5, hasThumbnail: true });
    const frame = await fetchFrame(admin, asset.id, 2);
    expect(frame.length).toBe(16 * 16 * 2);
    const objects = walk(path.join(work, 'caliper-it')).filter((f) => f.includes('blobs/') && !f.endsWith('._S3rver_metadata.json') && !f.endsWith('._S3rver_object.md5'));
    // 5 de-identified instances + 5 frames + 1 thumbnail (+ the PNG of the first test)
    expect(objects.length).toBeGreaterThanOrEqual(11);
    expect(walk(path.join(ts.dataDir, 'tmp')).length).toBe(0);
  }, 60_000);
});
