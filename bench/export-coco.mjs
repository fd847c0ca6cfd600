// COCO export through the running server: 1,000,000 boxes over 10,000 images (100 each),
// seeded straight into the embedded SQLite database, exported by the background job into a zip
// in the blob store. Measures wall time from the request to "done" and the server's peak RSS.
// Usage: npm run build && node bench/export-coco.mjs [images=10000] [boxesPerImage=100] [--docs]
// The server runs with --max-semi-space-size=64 as `npm start` and bin/caliper.js do
// (BENCH_NODE_ARGS='' measures Node's default young generation).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { appendToDocs, machineInfo } from './common.mjs';
import { fmtS, procMem, requireBuilt, setupTask, startCaliper } from './ingest-common.mjs';

const IMAGES = Number(process.argv[2] ?? 10_000);
const PER = Number(process.argv[3] ?? 100);
requireBuilt();
const Database = createRequire(path.resolve('apps/server/package.json'))('better-sqlite3');

const caliper = await startCaliper({ db: 'sqlite', nodeArgs: (process.env.BENCH_NODE_ARGS ?? '--max-semi-space-size=64').split(' ').filter(Boolean) });
try {
  const { admin, projectId, taskId } = await setupTask(caliper.url);
  const db = new Database(path.join(caliper.dataDir, 'caliper.sqlite'));
  db.pragma('busy_timeout = 10000');
  const now = new Date().toISOString();
  const adminId = (await admin.req('GET', '/api/auth/me')).user.id;
  const jobId = randomUUID();
  const t0 = performance.now();
  db.transaction(() => {
    db.prepare(`INSERT INTO jobs (id, project_id, task_id, name, assignee_id, stage, state, created_at, updated_at) VALUES (?, ?, ?, 'Job 1', ?, 'annotation', 'in_progress', ?, ?)`).run(jobId, projectId, taskId, adminId, now, now);
    const asset = db.prepare(
      `INSERT INTO assets (id, project_id, task_id, name, modality, media_type, size, sha256, metadata, created_at, frame_count, thumbnail_sha, hold, source_key) VALUES (?, ?, ?, ?, 'image', 'image/png', 1000, ?, ?, ?, 1, NULL, NULL, ?)`,
    );
    const ja = db.prepare('INSERT INTO job_assets (job_id, asset_id, position) VALUES (?, ?, ?)');
    const head = db.prepare('INSERT INTO annotation_docs (job_id, asset_id, revision, object_count, updated_at, updated_by) VALUES (?, ?, 1, ?, ?, ?)');
    const rev = db.prepare('INSERT INTO annotation_revisions (job_id, asset_id, revision, document, object_count, bytes, created_at, created_by) VALUES (?, ?, 1, ?, ?, ?, ?, ?)');
    const meta = JSON.stringify({ imaging: { kind: 'image', source: 'raster', modality: 'OT', dims: [640, 480, 1], timepoints: 1, samples: 1, dtype: 'uint8', photometric: 'MONOCHROME2', spacing: null, affineLps: null, rescale: { slope: 1, intercept: 0 }, windows: [], valueRange: null, frameTimesMs: null, frameRate: null, issues: [], flags: [] } });
    for (let n = 0; n < IMAGES; n++) {
      const id = randomUUID();
      asset.run(id, projectId, taskId, `img_${String(n).padStart(5, '0')}.png`, randomUUID().replace(/-/g, '').padEnd(64, '0'), meta, now, `bench:${n}`);
      ja.run(jobId, id, n);
      const objects = [];
      for (let b = 0; b < PER; b++) {
        objects.push({ id: `b${b}`, kind: 'box', label: 'Lesion', attributes: {}, source: 'manual', createdBy: adminId, createdAt: now, updatedAt: now, x: (b * 37) % 600, y: (b * 53) % 440, width: 12 + (b % 20), height: 9 + (b % 15) });
      }
      const text = JSON.stringify({ objects });
      head.run(jobId, id, PER, now, adminId);
      rev.run(jobId, id, text, PER, Buffer.byteLength(text), now, adminId);
    }
  })();
  db.close();
  console.log(`seeded ${IMAGES} images × ${PER} boxes in ${fmtS(performance.now() - t0)}`);

  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, procMem(caliper.server.pid).rss)), 100);
  const rssBefore = procMem(caliper.server.pid).rss;
  const start = performance.now();
  let st = await admin.req('POST', `/api/projects/${projectId}/exports`, { format: 'coco' });
  while (st.state === 'queued' || st.state === 'running') {
    await new Promise((r) => setTimeout(r, 50));
    st = await admin.req('GET', `/api/exports/${st.id}`);
  }
  const wall = performance.now() - start;
  clearInterval(sampler);
  if (st.state !== 'done') throw new Error(`export ${st.state}: ${st.error}`);
  if (st.stats.objects !== IMAGES * PER) throw new Error(`exported ${st.stats.objects} objects, expected ${IMAGES * PER}`);
  const mib = (b) => `${(b / 1048576).toFixed(0)} MiB`;
  const kib = (k) => `${(k / 1024).toFixed(0)} MiB`;
  console.log(`COCO export of ${st.stats.objects} boxes / ${IMAGES} images: ${fmtS(wall)}; zip ${mib(st.bytes)}; server RSS ${kib(rssBefore)} → peak ${kib(peak)}`);
  if (process.argv.includes('--docs')) {
    await appendToDocs(
      `## COCO export through the server (issue 5), ${new Date().toISOString().slice(0, 10)}\n\n${Object.entries(machineInfo()).map(([k, v]) => `${k}: ${v}`).join('; ')}\n\n| boxes | images | request → done | zip | server RSS before → peak |\n|---|---|---|---|---|\n| ${st.stats.objects} | ${IMAGES} | ${fmtS(wall)} | ${mib(st.bytes)} | ${kib(rssBefore)} → ${kib(peak)} |\n`,
    );
  }
} finally {
  await caliper.close();
}
