// Server-side cost of serving frames (no browser): fetch every frame of the synthetic CT with 6
// lanes from Node, optionally with the server under --cpu-prof. Diagnostic companion of transfer.mjs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_CACHE, ensureSeries } from './deid-tools.mjs';
import { listUploadFiles, setupTask, startCaliper, uploadAndWait } from './ingest-common.mjs';
import { printSummary, summarise } from './cpuprofile.mjs';

const profDir = await mkdtemp(path.join(tmpdir(), 'caliper-xfer-prof-'));
const series = await ensureSeries({ slices: 300, cache: process.env.BENCH_CACHE ?? DEFAULT_CACHE });
const c = await startCaliper({ db: 'sqlite', nodeArgs: process.env.PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [] });
try {
  const t = await setupTask(c.url);
  const run = await uploadAndWait(c.url, t.token, t.taskId, await listUploadFiles([series.dir]));
  const studies = await t.admin.req('GET', `/api/tasks/${t.taskId}/studies`);
  const asset = studies.items[0].series[0].assets[0];
  for (const enc of ['gzip', 'identity', 'gzip']) {
    let next = 0;
    let bytes = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < asset.frameCount) {
          const i = next++;
          const r = await fetch(`${c.url}/api/assets/${asset.id}/frames/${i}`, { headers: { authorization: `Bearer ${t.token}`, 'accept-encoding': enc } });
          const n = (await r.arrayBuffer()).byteLength;
          bytes += n;
        }
      }),
    );
    console.log(`${enc}: ${(performance.now() - t0).toFixed(0)} ms for ${asset.frameCount} frames, ${(bytes / 1e6).toFixed(1)} MB (run ${run.run.state})`);
  }
  // Server time alone: raw HTTP, bodies read but not inflated, one lane and six lanes.
  const http = await import('node:http');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
  const get = (i) =>
    new Promise((resolve, reject) => {
      const req = http.get(`${c.url}/api/assets/${asset.id}/frames/${i}`, { agent, headers: { authorization: `Bearer ${t.token}`, 'accept-encoding': 'gzip' } }, (res) => {
        let n = 0;
        res.on('data', (d) => (n += d.length));
        res.on('end', () => resolve(n));
      });
      req.on('error', reject);
    });
  for (const lanes of [1, 6]) {
    let next = 0;
    let wire = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        while (next < asset.frameCount) {
          const n = await get(next++);
          wire += n;
        }
      }),
    );
    console.log(`raw http, ${lanes} lane(s): ${(performance.now() - t0).toFixed(0)} ms, ${(wire / 1e6).toFixed(1)} MB on the wire`);
  }
  agent.destroy();
} finally {
  await c.close();
}
if (process.env.PROFILE) {
  const { readdir } = await import('node:fs/promises');
  const f = (await readdir(profDir)).find((n) => n.endsWith('.cpuprofile'));
  if (f) printSummary(summarise(JSON.parse(await (await import('node:fs/promises')).readFile(path.join(profDir, f), 'utf8'))), 'server');
}
await rm(profDir, { recursive: true, force: true });
