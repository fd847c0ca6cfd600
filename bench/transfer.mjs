// Volume transfer to the browser: headless Chromium (playwright-core) fetches every slice of the
// ingested 512×512×300 CT volume from GET /api/assets/:id/frames/:i (6 in flight, each body read
// as an ArrayBuffer, as a viewer does), compared with one plain static transfer of the same raw
// bytes (one file, node:http on 127.0.0.1, no compression) fetched in the same page.
//
//   npx tsc -b packages/core packages/media apps/server apps/cli && npm run bench:transfer
//
// Options (env): BENCH_REPEATS (default 5), BENCH_NO_DOCS=1, BENCH_CACHE (series cache).
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { appendToDocs, backgroundLoad, machineInfo, root } from './common.mjs';
import { DEFAULT_CACHE, ensureSeries, median } from './deid-tools.mjs';
import { listUploadFiles, requireBuilt, serveRawVolume, setupTask, startCaliper, uploadAndWait } from './ingest-common.mjs';

requireBuilt();
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
/** Frames per slab request (BENCH_SLAB). */
const SLAB = Number(process.env.BENCH_SLAB ?? 50);
const CONCURRENCY = 6;
const TARGET = 1.5;
const series = await ensureSeries({ slices: 300, cache: process.env.BENCH_CACHE ?? DEFAULT_CACHE });

const tmp = await mkdtemp(path.join(tmpdir(), 'caliper-bench-transfer-'));
const c = await startCaliper({ db: 'sqlite' });
let staticServer = null;
let browser = null;
let out;
try {
  const t = await setupTask(c.url);
  const run = await uploadAndWait(c.url, t.token, t.taskId, await listUploadFiles([series.dir]));
  if (run.run.state !== 'done') throw new Error(`ingest ${run.run.state}`);
  const studies = await t.admin.req('GET', `/api/tasks/${t.taskId}/studies`);
  const asset = studies.items[0].series[0].assets[0];
  const frames = asset.frameCount;
  console.log(`asset ${asset.id}: ${frames} frames, ${JSON.stringify(asset.metadata.imaging?.dims ?? asset.metadata.imaging?.shape ?? '')}`);

  // The same raw samples as one static file: the baseline.
  staticServer = await serveRawVolume(c.url, t.token, asset.id, frames, tmp);
  const rawSize = staticServer.size;
  const staticUrl = staticServer.url;

  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const pages = {};
  for (const [name, headers] of [
    ['gzip', {}],
    ['identity', { 'accept-encoding': 'identity' }],
  ]) {
    const ctx = await browser.newContext({ extraHTTPHeaders: headers });
    const page = await ctx.newPage();
    await page.goto(`${c.url}/api/health`);
    await page.evaluate(() => performance.setResourceTimingBufferSize(100000));
    pages[name] = page;
  }

  // All frames with CONCURRENCY requests in flight: one frame per request (`per` = 1, /frames/:i)
  // or slabs of `per` frames (/frames?start&count), each body read in full.
  const fetchAll = (page, per) =>
    page.evaluate(
      async ({ assetId, frames, token, conc, per }) => {
        performance.clearResourceTimings();
        let next = 0;
        let bytes = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: conc }, async () => {
            while (next < frames) {
              const start = next;
              next += per;
              const url = per === 1 ? `/api/assets/${assetId}/frames/${start}` : `/api/assets/${assetId}/frames?start=${start}&count=${per}`;
              const r = await fetch(url, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
              if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
              // Read first, then add: `bytes += await …` would read `bytes` before the await
              // and lose the other lanes' additions.
              const n = (await r.arrayBuffer()).byteLength;
              bytes += n;
            }
          }),
        );
        const ms = performance.now() - t0;
        const e = performance.getEntriesByType('resource').filter((x) => x.name.includes('/frames'));
        return { ms, bytes, encoded: e.reduce((a, x) => a + x.encodedBodySize, 0), transfer: e.reduce((a, x) => a + x.transferSize, 0), requests: e.length };
      },
      { assetId: asset.id, frames, token: t.token, conc: CONCURRENCY, per },
    );
  const framesIn = (page) => fetchAll(page, 1);
  const slabsIn = (page) => fetchAll(page, SLAB);
  const staticIn = (page) =>
    page.evaluate(async (u) => {
      performance.clearResourceTimings();
      const t0 = performance.now();
      const r = await fetch(u, { cache: 'no-store' });
      const bytes = (await r.arrayBuffer()).byteLength;
      const ms = performance.now() - t0;
      const e = performance.getEntriesByType('resource').filter((x) => x.name === u);
      return { ms, bytes, encoded: e.reduce((a, x) => a + x.encodedBodySize, 0), transfer: e.reduce((a, x) => a + x.transferSize, 0), requests: e.length };
    }, staticUrl);

  // Warm-up (one of each, not counted).
  await framesIn(pages.gzip);
  await framesIn(pages.identity);
  await staticIn(pages.gzip);
  await slabsIn(pages.gzip);

  const load = await backgroundLoad(2000);
  const res = { gzip: [], identity: [], slabs: [], static: [] };
  const runners = { gzip: () => framesIn(pages.gzip), identity: () => framesIn(pages.identity), slabs: () => slabsIn(pages.gzip), static: () => staticIn(pages.gzip) };
  for (let rep = 0; rep < REPEATS; rep++) {
    const order = rep % 2 === 0 ? ['static', 'gzip', 'slabs', 'identity'] : ['identity', 'slabs', 'gzip', 'static'];
    for (const k of order) {
      const r = await runners[k]();
      if (r.bytes !== rawSize) throw new Error(`${k}: received ${r.bytes} bytes, expected ${rawSize}`);
      res[k].push(r);
      console.log(`rep ${rep + 1} ${k.padEnd(8)} ${r.ms.toFixed(0)} ms, ${(r.bytes / 1e6).toFixed(1)} MB decoded, ${(r.encoded / 1e6).toFixed(1)} MB body on the wire, ${r.requests} requests`);
    }
  }
  out = { res, load, rawSize, frames, asset };
} finally {
  await browser?.close();
  if (staticServer) await staticServer.close();
  await c.close();
  await rm(tmp, { recursive: true, force: true });
}

const { res, load, rawSize, frames } = out;
const med = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, median(v.map((r) => r.ms))]));
const ratio = { gzip: med.gzip / med.static, identity: med.identity / med.static, slabs: med.slabs / med.static };
const wire = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v[0].encoded]));
const xfer = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v[0].transfer]));
for (const k of ['gzip', 'identity', 'slabs']) console.log(`${k}: ${ratio[k].toFixed(2)}× static (target ≤ ${TARGET}×: ${ratio[k] <= TARGET ? 'met' : 'missed'})`);

if (!process.env.BENCH_NO_DOCS) {
  const m = machineInfo();
  const ver = JSON.parse(readFileSync(path.join(root, 'node_modules/playwright-core/package.json'), 'utf8')).version;
  const row = (k, label) =>
    `| ${label} | ${med[k].toFixed(0)} ms | ${(rawSize / 1e6 / (med[k] / 1000)).toFixed(0)} MB/s | ${(wire[k] / 1e6).toFixed(1)} MB (${xfer[k] ? `${(xfer[k] / 1e6).toFixed(1)} MB with headers` : 'headers n/a'}) | ${res[k][0].requests} | ${k === 'static' ? '' : `${ratio[k].toFixed(2)}×`} | ${res[k].map((r) => r.ms.toFixed(0)).join(', ')} |`;
  const lines = [
    `## Volume transfer to the browser — 2026-11-28 (${m.date})`,
    '',
    `Machine: ${m.nproc} vCPU (${m.cpu}), memory ${m.memory}; Node ${m.node}; Chromium (Debian \`/usr/bin/chromium\`, headless) via playwright-core ${ver}. Other load just before the timed runs: ${load.busyPct.toFixed(0)}% of all cores busy, ${load.stealPct.toFixed(0)}% steal, loadavg ${load.loadavg}.`,
    '',
    `Method: \`npm run bench:transfer\`. The synthetic 512×512×300 int16 CT series is ingested through the API (\`caliper serve\`, SQLite), giving one volume asset of ${frames} frames (${(rawSize / 1e6).toFixed(1)} MB of raw samples). In one headless Chromium page on the server's origin, \`fetch\` of all \`GET /api/assets/:id/frames/:i\` with ${CONCURRENCY} in flight (Bearer token, \`cache: 'no-store'\`), each body read with \`arrayBuffer()\`; timed from the first request to the last body with \`performance.now()\` in the page. "gzip" = the browser's own Accept-Encoding (the server sends the stored gzip slices, the browser inflates them); "identity" = a second browser context with \`Accept-Encoding: identity\` (the server inflates on the fly). Static = the same ${(rawSize / 1e6).toFixed(1)} MB as one file from a plain \`node:http\` server on 127.0.0.1 (another port, \`createReadStream\` pipe, no compression, CORS), one \`fetch\` + \`arrayBuffer()\` in the same page. One warm-up of each, then ${REPEATS} rounds alternating the order; medians. Bytes on the wire = sum of Resource Timing \`encodedBodySize\` (\`transferSize\` incl. headers).`,
    '',
    '| transfer | median | decoded MB/s | bytes on the wire (bodies) | requests | / static | all runs (ms) |',
    '|---|---:|---:|---:|---:|---:|---|',
    row('gzip', `${frames} slices, gzip (stored form)`),
    row('identity', `${frames} slices, no gzip (Accept-Encoding: identity)`),
    row('slabs', `slabs of ${SLAB} slices (\`GET /api/assets/:id/frames?start&count\`, raw samples)`),
    row('static', 'one static raw file, no compression'),
    '',
    `* **Target** ≤ ${TARGET}× the static transfer: with gzip **${ratio.gzip <= TARGET ? 'met' : 'missed'} (${ratio.gzip.toFixed(2)}×)**; without gzip **${ratio.identity <= TARGET ? 'met' : 'missed'} (${ratio.identity.toFixed(2)}×)**; in slabs of ${SLAB} slices (${Math.ceil(frames / SLAB)} requests) **${ratio.slabs <= TARGET ? 'met' : 'missed'} (${ratio.slabs.toFixed(2)}×)**. gzip sends ${((wire.gzip / rawSize) * 100).toFixed(0)}% of the raw bytes.`,
  ];
  await appendToDocs(lines.join('\n') + '\n');
}
