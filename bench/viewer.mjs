// Imaging viewer in headless Chromium, driving the real web app: sign in, open the synthetic
// 512×512×300 int16 CT in its job (`/jobs/:jobId/assets/:assetId`) and measure
//   * first slice on screen (`caliper:volume-open` → `caliper:first-slice`, and from navigation start),
//   * whole volume loaded (`caliper:volume-complete` detail.ms) against a plain static transfer of
//     the same raw bytes (one file, node:http on 127.0.0.1, no compression) fetched in the same page,
//   * slice scrolling (wheel steps) in the 1×1 and 1×3 layouts and a window/level drag, in frames/s:
//     each step waits until the viewport shows the change (`data-slice` / `data-rendered`) and
//     the next animation frame,
// with the browser cache disabled and the page reloaded for every repeat; medians.
//
//   npx tsc -b packages/core packages/media apps/server apps/cli && node bench/viewer.mjs
//
// The web app is built by this script into a temp folder (vite build --outDir) and served with
// CALIPER_WEB_DIR, so apps/web/dist is left alone; BENCH_WEB_DIR=<dir> uses an existing build.
// Options (env): BENCH_REPEATS (default 5), BENCH_STEPS (default 100), BENCH_NO_DOCS=1,
// BENCH_CACHE (series cache), BENCH_CPU_PROFILE=<file.cpuprofile> (one extra, profiled open of
// the volume; the self time by function is printed).
/* global window, document, MutationObserver, PointerEvent, WheelEvent, requestAnimationFrame -- used in page.evaluate callbacks (browser) */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { appendToDocs, backgroundLoad, machineInfo, root } from './common.mjs';
import { DEFAULT_CACHE, ensureSeries, median } from './deid-tools.mjs';
import { ADMIN } from './fixture.mjs';
import { listUploadFiles, requireBuilt, serveRawVolume, setupTask, startCaliper, uploadAndWait } from './ingest-common.mjs';

requireBuilt();
const REPEATS = Number(process.env.BENCH_REPEATS ?? 5);
const STEPS = Number(process.env.BENCH_STEPS ?? 100);
const TARGET = { firstSliceMs: 250, loadRatio: 1.5, fps: 50 };
const VIEWPORT = { width: 1440, height: 900 };

const tmp = await mkdtemp(path.join(tmpdir(), 'caliper-bench-viewer-'));
let webDir = process.env.BENCH_WEB_DIR;
if (!webDir) {
  webDir = path.join(tmp, 'web');
  const t0 = performance.now();
  const b = spawnSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', webDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: path.join(root, 'apps/web'),
    encoding: 'utf8',
  });
  if (b.status !== 0) throw new Error(`vite build failed:\n${b.stdout}\n${b.stderr}`);
  console.log(`web app built in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${webDir}`);
}
if (!existsSync(path.join(webDir, 'index.html'))) throw new Error(`${webDir}/index.html is missing`);

const series = await ensureSeries({ slices: 300, cache: process.env.BENCH_CACHE ?? DEFAULT_CACHE });
const c = await startCaliper({ db: 'sqlite', env: { CALIPER_WEB_DIR: webDir } });
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
  const me = await t.admin.req('GET', '/api/auth/me');
  const userId = me.user?.id ?? me.id;
  const jobs = await t.admin.req('POST', `/api/tasks/${t.taskId}/jobs`, { assetsPerJob: 10, assigneeId: userId });
  const jobId = jobs.items[0].id;
  console.log(`asset ${asset.id}: ${frames} frames; job ${jobId}`);

  // The same raw samples as one static file: the baseline.
  staticServer = await serveRawVolume(c.url, t.token, asset.id, frames, tmp);
  const rawSize = staticServer.size;
  const staticUrl = staticServer.url;

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  // Long tasks (main thread busy > 50 ms) and when each fetch body was asked for and arrived,
  // from the start of every document.
  const initScript = () => {
    window.__longTasks = [];
    window.__bodies = [];
    try {
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    } catch {
      /* not supported */
    }
    const ab = Response.prototype.arrayBuffer;
    Response.prototype.arrayBuffer = async function () {
      const t0 = performance.now();
      const buf = await ab.call(this);
      window.__bodies.push({ url: this.url, asked: t0, got: performance.now(), bytes: buf.byteLength });
      return buf;
    };
  };
  const problems = [];
  // A fresh browser context per open: an empty HTTP cache (the frames are sent as immutable)
  // without attaching DevTools' network instrumentation, signed in with the first context's cookie.
  let storageState;
  const newPage = async () => {
    const ctx = await browser.newContext({ baseURL: c.url, viewport: VIEWPORT, deviceScaleFactor: 1, storageState });
    ctx.setDefaultTimeout(30_000);
    await ctx.addInitScript(initScript);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    return page;
  };
  let page = await newPage();
  await page.goto('/login');
  await page.getByTestId('login-email').fill(ADMIN.email);
  await page.getByTestId('login-password').fill(ADMIN.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('current-user').waitFor();
  storageState = await page.context().storageState();
  const assetPath = `/jobs/${jobId}/assets/${asset.id}`;

  /** Fresh navigation to the asset (viewer settings of earlier repeats forgotten), until every frame is in. */
  const openVolume = async (beforeGoto) => {
    await page.context().close();
    page = await newPage();
    await beforeGoto?.(page);
    await page.goto(assetPath);
    await page.waitForSelector('[data-testid="imaging-viewer"][data-complete="yes"]', { timeout: 180_000 });
    await page.waitForFunction(() => performance.getEntriesByName('caliper:first-slice').length > 0);
    return page.evaluate(() => {
      const mark = (n) => performance.getEntriesByName(n)[0];
      const open = mark('caliper:volume-open');
      const first = mark('caliper:first-slice');
      const done = mark('caliper:volume-complete');
      const res = performance.getEntriesByType('resource').filter((e) => e.name.includes('/frames'));
      const slabs = res.filter((e) => e.name.includes('/frames?'));
      const single = res.filter((e) => !e.name.includes('/frames?'));
      const lt = window.__longTasks.filter((x) => x.start >= open.startTime && x.start <= done.startTime);
      return {
        firstSliceMs: first.startTime - open.startTime,
        firstSliceFromNavMs: first.startTime,
        openFromNavMs: open.startTime,
        completeMs: done.detail.ms,
        firstFrameRequestMs: single[0] ? single[0].responseEnd - single[0].startTime : 0,
        firstFrameStartMs: single[0] ? single[0].startTime - open.startTime : 0,
        // Network view of the slabs: first request issued → last body received, the sum of
        // request durations, and time to first byte.
        slabRequests: slabs.length,
        slabUrls: slabs.map((e) => e.name),
        slabSpanMs: slabs.length ? Math.max(...slabs.map((e) => e.responseEnd)) - Math.min(...slabs.map((e) => e.startTime)) : 0,
        slabFirstStartMs: slabs.length ? Math.min(...slabs.map((e) => e.startTime)) - open.startTime : 0,
        slabLastEndMs: slabs.length ? Math.max(...slabs.map((e) => e.responseEnd)) - open.startTime : 0,
        slabMedianTtfbMs: slabs.length ? slabs.map((e) => e.responseStart - e.requestStart).sort((a, b) => a - b)[slabs.length >> 1] : 0,
        slabMedianMs: slabs.length ? slabs.map((e) => e.responseEnd - e.startTime).sort((a, b) => a - b)[slabs.length >> 1] : 0,
        slabBytes: slabs.reduce((a, e) => a + e.encodedBodySize, 0),
        longTasks: lt.length,
        longTaskMs: lt.reduce((a, x) => a + x.ms, 0),
        // Every caliper:* mark (ms after volume-open) and long tasks before the first slice.
        marks: performance
          .getEntriesByType('mark')
          .filter((m) => m.name.startsWith('caliper:'))
          .map((m) => `${m.name}@${Math.round(m.startTime - open.startTime)}`),
        longTasksBeforeFirstSlice: window.__longTasks.filter((x) => x.start + x.ms >= open.startTime - 500 && x.start <= first.startTime).map((x) => `${Math.round(x.start - open.startTime)}+${Math.round(x.ms)}`),
        // Per slab (in request order, ms after volume-open): request start, last byte on the
        // network, arrayBuffer() resolved in the page.
        timeline: slabs.map((e) => {
          const b = window.__bodies.find((x) => x.url === e.name);
          return [e.startTime, e.responseEnd, b ? b.got : NaN].map((x) => Math.round(x - open.startTime));
        }),
        rendered: Number(document.querySelector('[data-testid="viewport-axial"]')?.getAttribute('data-rendered') ?? 0),
      };
    });
  };

  const staticIn = () =>
    page.evaluate(async (u) => {
      const t0 = performance.now();
      const r = await fetch(u, { cache: 'no-store' });
      const bytes = (await r.arrayBuffer()).byteLength;
      return { ms: performance.now() - t0, bytes };
    }, staticUrl);

  /** The app's slab requests again (the same URLs, 3 in flight, bodies read), without the viewer's processing. */
  const slabsIn = (urls) =>
    page.evaluate(async (urls) => {
      let next = 0;
      let bytes = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 3 }, async () => {
          while (next < urls.length) {
            const r = await fetch(urls[next++], { cache: 'no-store' });
            const n = (await r.arrayBuffer()).byteLength;
            bytes += n;
          }
        }),
      );
      return { ms: performance.now() - t0, bytes };
    }, urls);

  /**
   * `steps` wheel steps (slice) or right-button pointer moves (window/level) dispatched in the
   * page on the viewport element; each waits until `attr` changed and the next animation frame.
   */
  const interact = (testId, kind, steps) =>
    page.evaluate(
      async ({ testId, kind, steps }) => {
        const el = document.querySelector(`[data-testid="${testId}"]`);
        if (!el) throw new Error(`${testId} not found`);
        const attr = kind === 'wheel' ? 'data-slice' : 'data-rendered';
        const box = el.getBoundingClientRect();
        const cx = box.left + box.width / 2;
        const cy = box.top + box.height / 2;
        const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
        const changed = (old) =>
          new Promise((resolve, reject) => {
            if (el.getAttribute(attr) !== old) return resolve();
            const timer = setTimeout(() => {
              mo.disconnect();
              reject(new Error(`${attr} of ${testId} did not change from ${old}`));
            }, 10_000);
            const mo = new MutationObserver(() => {
              if (el.getAttribute(attr) !== old) {
                clearTimeout(timer);
                mo.disconnect();
                resolve();
              }
            });
            mo.observe(el, { attributes: true, attributeFilter: [attr] });
          });
        const pointer = (type, x, buttons) =>
          el.dispatchEvent(new PointerEvent(type, { bubbles: true, cancelable: true, composed: true, clientX: x, clientY: cy, button: type === 'pointermove' ? -1 : 2, buttons, pointerId: 1, pointerType: 'mouse', isPrimary: true }));
        const depth = kind === 'wheel' ? Number(el.getAttribute('data-slice')) : 0;
        const dir = kind === 'wheel' && depth > 150 ? -1 : 1;
        if (kind === 'wl') pointer('pointerdown', cx, 2);
        await frame();
        const times = [];
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) {
          const s = performance.now();
          const old = el.getAttribute(attr);
          if (kind === 'wheel') el.dispatchEvent(new WheelEvent('wheel', { bubbles: true, cancelable: true, deltaY: 100 * dir, clientX: cx, clientY: cy }));
          else pointer('pointermove', cx + (i + 1) * 2, 2);
          await changed(old);
          await frame();
          times.push(performance.now() - s);
        }
        const ms = performance.now() - t0;
        if (kind === 'wl') pointer('pointerup', cx + steps * 2, 0);
        times.sort((a, b) => a - b);
        return { ms, fps: (steps / ms) * 1000, p50: times[times.length >> 1], p95: times[Math.floor(times.length * 0.95)], max: times[times.length - 1], final: el.getAttribute(attr) };
      },
      { testId, kind, steps },
    );

  // Warm-up (not counted): one open, one static fetch.
  await openVolume();
  await staticIn();

  if (process.env.BENCH_CPU_PROFILE) {
    let cdp;
    const r = await openVolume(async (p) => {
      cdp = await p.context().newCDPSession(p);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    });
    const { profile } = await cdp.send('Profiler.stop');
    await writeFile(process.env.BENCH_CPU_PROFILE, JSON.stringify(profile));
    console.log(`profiled open: complete in ${r.completeMs.toFixed(0)} ms; profile → ${process.env.BENCH_CPU_PROFILE}`);
    printProfile(profile);
  }

  const load = await backgroundLoad(2000);
  const rows = [];
  for (let rep = 0; rep < REPEATS; rep++) {
    const o = await openVolume();
    const st = await staticIn();
    if (st.bytes !== rawSize) throw new Error(`static: ${st.bytes} bytes, expected ${rawSize}`);
    const raw = await slabsIn(o.slabUrls);
    if (raw.bytes !== rawSize) throw new Error(`slabs: ${raw.bytes} bytes, expected ${rawSize}`);
    const scroll1 = await interact('viewport-axial', 'wheel', STEPS);
    const wl = await interact('viewport-axial', 'wl', STEPS);
    await page.getByTestId('layout-1x3').click();
    await page.waitForSelector('[data-testid="viewport-sagittal"]:not([data-rendered="0"])');
    const scroll3 = await interact('viewport-axial', 'wheel', STEPS);
    const row = { ...o, staticMs: st.ms, rawSlabsMs: raw.ms, ratio: o.completeMs / st.ms, scroll1, wl, scroll3 };
    rows.push(row);
    console.log(`  slabs [start, network end, body in page] ms after open: ${JSON.stringify(o.timeline)}`);
    console.log(`  marks: ${o.marks.join(' ')}; long tasks up to the first slice (start+ms): ${o.longTasksBeforeFirstSlice.join(' ') || 'none'}`);
    console.log(
      `rep ${rep + 1}: first slice ${o.firstSliceMs.toFixed(0)} ms after open (${o.firstSliceFromNavMs.toFixed(0)} ms from navigation; first-frame request at +${o.firstFrameStartMs.toFixed(0)} ms took ${o.firstFrameRequestMs.toFixed(0)} ms); volume ${o.completeMs.toFixed(0)} ms vs static ${st.ms.toFixed(0)} ms = ${row.ratio.toFixed(2)}× (bare slab fetch ${raw.ms.toFixed(0)} ms)` +
        ` [slabs: ${o.slabRequests} requests, first at +${o.slabFirstStartMs.toFixed(0)} ms, last body at +${o.slabLastEndMs.toFixed(0)} ms, median ${o.slabMedianMs.toFixed(0)} ms (TTFB ${o.slabMedianTtfbMs.toFixed(0)}); long tasks ${o.longTasks} = ${o.longTaskMs.toFixed(0)} ms; axial renders ${o.rendered}]` +
        `; scroll 1×1 ${scroll1.fps.toFixed(1)} fps (p95 ${scroll1.p95.toFixed(1)} ms), W/L ${wl.fps.toFixed(1)} fps (p95 ${wl.p95.toFixed(1)} ms), scroll 1×3 ${scroll3.fps.toFixed(1)} fps (p95 ${scroll3.p95.toFixed(1)} ms)`,
    );
  }
  if (problems.length) console.log(`browser problems:\n${problems.join('\n')}`);
  out = { rows, load, rawSize, frames };
} finally {
  await browser?.close();
  if (staticServer) await staticServer.close();
  await c.close();
  await rm(tmp, { recursive: true, force: true });
}

function printProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  const funcs = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url ? `${path.basename(cf.url)}:${cf.lineNumber + 1}` : ''}`.trim();
    funcs.set(key, (funcs.get(key) ?? 0) + us);
    total += us;
  }
  console.log(`renderer main thread, ${(total / 1000).toFixed(0)} ms sampled; self time:`);
  for (const [k, us] of [...funcs].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${(us / 1000).toFixed(0).padStart(6)} ms  ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
}

const { rows, load, rawSize, frames } = out;
const med = (f) => median(rows.map(f));
const summary = {
  repeats: REPEATS,
  steps: STEPS,
  rawBytes: rawSize,
  frames,
  firstSliceMs: med((r) => r.firstSliceMs),
  firstSliceFromNavigationMs: med((r) => r.firstSliceFromNavMs),
  firstFrameRequestMs: med((r) => r.firstFrameRequestMs),
  volumeCompleteMs: med((r) => r.completeMs),
  staticMs: med((r) => r.staticMs),
  bareSlabFetchMs: med((r) => r.rawSlabsMs),
  loadRatio: med((r) => r.ratio),
  slabSpanMs: med((r) => r.slabSpanMs),
  longTaskMsWhileLoading: med((r) => r.longTaskMs),
  scroll1x1Fps: med((r) => r.scroll1.fps),
  scroll1x3Fps: med((r) => r.scroll3.fps),
  windowLevelFps: med((r) => r.wl.fps),
  scroll1x1P95Ms: med((r) => r.scroll1.p95),
  scroll1x3P95Ms: med((r) => r.scroll3.p95),
  windowLevelP95Ms: med((r) => r.wl.p95),
  load,
};
const met = {
  firstSlice: summary.firstSliceMs < TARGET.firstSliceMs,
  load: summary.loadRatio <= TARGET.loadRatio,
  scroll1x1: summary.scroll1x1Fps >= TARGET.fps,
  scroll1x3: summary.scroll1x3Fps >= TARGET.fps,
  windowLevel: summary.windowLevelFps >= TARGET.fps,
};
console.log(JSON.stringify({ ...summary, met }, null, 2));

if (!process.env.BENCH_NO_DOCS) {
  const m = machineInfo();
  const ver = JSON.parse(readFileSync(path.join(root, 'node_modules/playwright-core/package.json'), 'utf8')).version;
  const yn = (b) => (b ? 'met' : 'missed');
  const all = (f, d = 0) => rows.map((r) => f(r).toFixed(d)).join(', ');
  const lines = [
    `## Imaging viewer in the browser — ${m.date}`,
    '',
    `Machine: ${m.nproc} vCPU (${m.cpu}), memory ${m.memory}; Node ${m.node}; Chromium (Debian \`/usr/bin/chromium\`, headless, ${VIEWPORT.width}×${VIEWPORT.height}, device scale 1) via playwright-core ${ver}. Other load just before the timed runs: ${load.busyPct.toFixed(0)}% of all cores busy, ${load.stealPct.toFixed(0)}% steal, loadavg ${load.loadavg}.`,
    '',
    `Method: \`node bench/viewer.mjs\`. The synthetic 512×512×300 int16 CT series is ingested through the API (\`caliper serve\`, SQLite, the web app built into a temp folder and served by Caliper), a job holding it is assigned to the admin, who signs in through the login page. Each repeat clears the viewer's saved settings, navigates to \`/jobs/:jobId/assets/:assetId\` with the browser cache disabled (CDP \`Network.setCacheDisabled\`) and waits for \`data-complete="yes"\`; times come from the app's performance marks. Static = the same ${(rawSize / 1e6).toFixed(1)} MB as one file from a plain \`node:http\` server on 127.0.0.1 (no compression), one \`fetch\` + \`arrayBuffer()\` in the same page right after. Interaction: ${STEPS} wheel events (slice) or right-button pointer moves (window/level) dispatched in the page on the axial viewport, each step waiting until \`data-slice\` / \`data-rendered\` changed and the next animation frame; frames/s = steps / elapsed. 1×3 = the same scroll with the axial, coronal and sagittal viewports shown. One warm-up open, then ${REPEATS} repeats; medians.`,
    '',
    '| measure | median | target | all runs |',
    '|---|---:|---|---|',
    `| first slice after \`caliper:volume-open\` | ${summary.firstSliceMs.toFixed(0)} ms | < ${TARGET.firstSliceMs} ms: **${yn(met.firstSlice)}** | ${all((r) => r.firstSliceMs)} |`,
    `| first slice from navigation start | ${summary.firstSliceFromNavigationMs.toFixed(0)} ms | | ${all((r) => r.firstSliceFromNavMs)} |`,
    `| whole volume loaded (\`caliper:volume-complete\`) | ${summary.volumeCompleteMs.toFixed(0)} ms | | ${all((r) => r.completeMs)} |`,
    `| static transfer of the same bytes | ${summary.staticMs.toFixed(0)} ms | | ${all((r) => r.staticMs)} |`,
    `| volume / static | ${summary.loadRatio.toFixed(2)}× | ≤ ${TARGET.loadRatio}×: **${yn(met.load)}** | ${all((r) => r.ratio, 2)} |`,
    `| long tasks on the main thread while loading | ${summary.longTaskMsWhileLoading.toFixed(0)} ms | | ${all((r) => r.longTaskMs)} |`,
    `| slice scroll, 1×1 | ${summary.scroll1x1Fps.toFixed(1)} frames/s (p95 step ${summary.scroll1x1P95Ms.toFixed(1)} ms) | ≥ ${TARGET.fps}: **${yn(met.scroll1x1)}** | ${all((r) => r.scroll1.fps, 1)} |`,
    `| slice scroll, 1×3 | ${summary.scroll1x3Fps.toFixed(1)} frames/s (p95 step ${summary.scroll1x3P95Ms.toFixed(1)} ms) | ≥ ${TARGET.fps}: **${yn(met.scroll1x3)}** | ${all((r) => r.scroll3.fps, 1)} |`,
    `| window/level drag, 1×1 | ${summary.windowLevelFps.toFixed(1)} frames/s (p95 step ${summary.windowLevelP95Ms.toFixed(1)} ms) | ≥ ${TARGET.fps}: **${yn(met.windowLevel)}** | ${all((r) => r.wl.fps, 1)} |`,
    '',
  ];
  await appendToDocs(lines.join('\n'));
}
