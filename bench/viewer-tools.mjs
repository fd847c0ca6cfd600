// Annotation speed of the imaging workspace in headless Chromium, driving the real web app on the
// synthetic 512×512×300 int16 CT (job `/jobs/:jobId/assets/:assetId`, signed in as the admin):
//   1. one step of a 3D brush stroke (segment brush, 10 mm sphere): 200 pointermove events of a
//      held drag, one per animation frame, dispatched in the page; per step the synchronous
//      handler time (performance.now() around dispatchEvent), the label layer's redraw in the next
//      frame, and dispatch → next frame with the redraw done (target < 16 ms);
//   2. switching tools (box → brush → polygon → length → eraser → …) with real clicks: click →
//      toolbar state changed (`aria-pressed="true"`) → next animation frame (target < 100 ms);
//   3. 10,000 polygons (12 vertices) on the displayed slice, created through the API: frames/s
//      while panning (middle-button drag) and zooming (Ctrl+wheel) continuously for ~3 s, frames
//      counted with requestAnimationFrame (target ≥ 30);
//   4. label-map autosave after one brush stroke (40 px drag): bytes of the
//      `POST /api/assets/:id/labelmaps` body and its time from request start to response, first
//      save (full CLM1 container) and second stroke (patch) (targets < 200 KB, < 300 ms).
// Each repeat starts from an empty annotation document and a fresh page load; medians.
//
//   npx tsc -b packages/core packages/media apps/server apps/cli && node bench/viewer-tools.mjs
//
// The web app is built by this script into a temp folder (vite build --outDir) and served with
// CALIPER_WEB_DIR, so apps/web/dist is left alone; BENCH_WEB_DIR=<dir> uses an existing build.
// Options (env): BENCH_REPEATS (page loads for 1, 2, 4; default 3), BENCH_BRUSH_STEPS (default
// 200), BENCH_POLYGONS (default 10000), BENCH_MOTION_SECONDS (default 3), BENCH_NO_DOCS=1,
// BENCH_CACHE (series cache).
/* global window, document, CanvasRenderingContext2D, Element, MutationObserver, PointerEvent, requestAnimationFrame -- used in page.evaluate callbacks (browser) */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { appendToDocs, backgroundLoad, machineInfo, mulberry32, root } from './common.mjs';
import { DEFAULT_CACHE, ensureSeries, median } from './deid-tools.mjs';
import { ADMIN, Api } from './fixture.mjs';
import { listUploadFiles, requireBuilt, startCaliper, uploadAndWait } from './ingest-common.mjs';

requireBuilt();
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const BRUSH_STEPS = Number(process.env.BENCH_BRUSH_STEPS ?? 200);
const POLYGONS = Number(process.env.BENCH_POLYGONS ?? 10_000);
const MOTION_SECONDS = Number(process.env.BENCH_MOTION_SECONDS ?? 3);
const RADIUS_MM = 10;
const TARGET = { brushStepMs: 16, toolSwitchMs: 100, fps: 30, saveKB: 200, saveMs: 300 };
const VIEWPORT = { width: 1440, height: 900 };
const SWITCH_CYCLE = ['tool-box', 'segtool-brush', 'tool-polygon', 'tool-length', 'segtool-eraser'];
const SWITCH_ROUNDS = 4;

const SCHEMA = {
  version: 1,
  labels: [
    { name: 'Liver', color: '#d9822b', shortcut: '1', kinds: ['labelmap'], attributes: [] },
    { name: 'Lesion', color: '#e5484d', shortcut: '2', kinds: ['box', 'polygon', 'ellipse', 'polyline', 'points', 'mask'], attributes: [] },
    { name: 'Size', color: '#5ad28a', shortcut: '3', kinds: ['measurement'], attributes: [] },
  ],
};

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};
const stats = (xs) => ({ median: median(xs), p95: pct(xs, 95), max: Math.max(...xs), n: xs.length });
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');

// ---------- web app build ----------
const tmp = await mkdtemp(path.join(tmpdir(), 'caliper-bench-viewer-tools-'));
let webDir = process.env.BENCH_WEB_DIR;
if (!webDir) {
  webDir = path.join(tmp, 'web');
  const b = spawnSync(process.execPath, [path.join(root, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', webDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: path.join(root, 'apps/web'),
    encoding: 'utf8',
  });
  if (b.status !== 0) throw new Error(`vite build failed:\n${b.stdout}\n${b.stderr}`);
  console.log(`web app built → ${webDir}`);
}
if (!existsSync(path.join(webDir, 'index.html'))) throw new Error(`${webDir}/index.html is missing`);

const series = await ensureSeries({ slices: 300, cache: process.env.BENCH_CACHE ?? DEFAULT_CACHE });
const c = await startCaliper({ db: 'sqlite', env: { CALIPER_WEB_DIR: webDir } });
let browser = null;
let out;
const problems = [];
try {
  // ---------- project, upload, job ----------
  const admin = await Api.login(c.url, ADMIN.email, ADMIN.password);
  const project = await admin.req('POST', '/api/projects', { name: 'Viewer tools (bench)', labelSchema: SCHEMA });
  const task = await admin.req('POST', `/api/projects/${project.id}/tasks`, { name: 'CT' });
  const token = (await admin.req('POST', '/api/tokens', { name: 'bench' })).token;
  const run = await uploadAndWait(c.url, token, task.id, await listUploadFiles([series.dir]));
  if (run.run.state !== 'done') throw new Error(`ingest ${run.run.state}`);
  const studies = await admin.req('GET', `/api/tasks/${task.id}/studies`);
  const asset = studies.items[0].series[0].assets[0];
  const me = await admin.req('GET', '/api/auth/me');
  const userId = me.user?.id ?? me.id;
  const jobs = await admin.req('POST', `/api/tasks/${task.id}/jobs`, { assetsPerJob: 10, assigneeId: userId });
  const jobId = jobs.items[0].id;
  const docUrl = `/api/jobs/${jobId}/assets/${asset.id}/annotations`;
  const putDocument = async (objects) => {
    const cur = await admin.req('GET', docUrl);
    return admin.req('PUT', docUrl, { baseRevision: cur.revision, document: { objects } });
  };
  console.log(`asset ${asset.id}: ${asset.frameCount} frames; job ${jobId}`);

  // ---------- browser ----------
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  const ctx = await browser.newContext({ baseURL: c.url, viewport: VIEWPORT, deviceScaleFactor: 1 });
  ctx.setDefaultTimeout(60_000);
  // In-page records: label-map POSTs (fetch start/resolve, body bytes) and the last pointerup.
  await ctx.addInitScript(() => {
    window.__lm = [];
    window.__lastUp = null;
    window.__putAt = 0;
    window.__longTasks = [];
    try {
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    } catch {
      /* not supported */
    }
    // The label layer puts its slice with putImageData: marks when a redraw really happened.
    const put = CanvasRenderingContext2D.prototype.putImageData;
    CanvasRenderingContext2D.prototype.putImageData = function (...args) {
      window.__putAt = performance.now();
      return put.apply(this, args);
    };
    window.addEventListener('pointerup', () => (window.__lastUp = performance.now()), true);
    const original = window.fetch;
    window.fetch = async function (input, init) {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (init?.method === 'POST' && /\/api\/assets\/[^/]+\/labelmaps$/.test(url)) {
        const rec = { start: performance.now(), up: window.__lastUp, bytes: init.body?.byteLength ?? null, end: null, status: null };
        window.__lm.push(rec);
        const res = await original.call(this, input, init);
        rec.end = performance.now();
        rec.status = res.status;
        return res;
      }
      return original.call(this, input, init);
    };
  });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  // Network view of the same POSTs: body bytes from the request, timing from Chromium.
  const posts = [];
  page.on('requestfinished', (req) => {
    if (req.method() !== 'POST' || !/\/api\/assets\/[^/]+\/labelmaps$/.test(new URL(req.url()).pathname)) return;
    const t = req.timing();
    posts.push({ bytes: req.postDataBuffer()?.length ?? 0, requestToResponseEndMs: t.responseEnd, requestToHeadersMs: t.responseStart });
  });

  await page.goto('/login');
  await page.getByTestId('login-email').fill(ADMIN.email);
  await page.getByTestId('login-password').fill(ADMIN.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('current-user').waitFor();
  const assetPath = `/jobs/${jobId}/assets/${asset.id}`;

  const waitFor = async (fn, what, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const open = async () => {
    await page.goto(assetPath);
    await page.getByTestId('imaging-viewer').waitFor();
    await waitFor(async () => (await page.getByTestId('imaging-viewer').getAttribute('data-complete')) === 'yes', 'the volume');
    await page.getByTestId('viewport-axial').waitFor();
  };
  /** Plane px → page px of the axial viewport (device scale 1). */
  const mapper = async () => {
    const vp = page.getByTestId('viewport-axial');
    const box = await vp.boundingBox();
    const t = (await vp.getAttribute('data-matrix')).split(',').map(Number);
    return { at: (x, y) => [box.x + t[0] * x + t[2] * y + t[4], box.y + t[1] * x + t[3] * y + t[5]], scale: Math.hypot(t[0], t[1]), box };
  };
  const saved = async () => {
    await waitFor(async () => (await page.getByTestId('save-status').getAttribute('data-status')) === 'saved', 'the document save');
  };
  const setBrush = async () => {
    await page.getByTestId('segtool-brush').click();
    await page.getByTestId('seg-radius-input').fill(String(RADIUS_MM));
    await page.getByTestId('seg-sphere').check();
    await waitFor(async () => (await page.getByTestId('seg-radius').inputValue()) === String(RADIUS_MM), 'the radius');
  };
  /** A real mouse drag of `steps` moves from plane (x0, y) to (x1, y). */
  const drag = async (m, x0, x1, y, steps = 8) => {
    await page.mouse.move(...m.at(x0, y));
    await page.mouse.down();
    for (let i = 1; i <= steps; i++) await page.mouse.move(...m.at(x0 + ((x1 - x0) * i) / steps, y));
    await page.mouse.up();
  };
  const lmCount = () => page.evaluate(() => window.__lm.filter((r) => r.end !== null).length);

  /** Clicks through the tools; per click: click event → aria-pressed → next frame (→ a task after it). */
  const switchTools = async (rounds) => {
    const res = [];
    await page.getByTestId('tool-select').click();
    for (let r = 0; r < rounds; r++) {
      for (const id of SWITCH_CYCLE) {
        await page.evaluate((testId) => {
          const el = document.querySelector(`[data-testid="${testId}"]`);
          window.__sw = new Promise((resolve) => {
            let clickAt = null;
            const onClick = (e) => {
              if (e.target instanceof Element && e.target.closest(`[data-testid="${testId}"]`)) clickAt = e.timeStamp;
            };
            window.addEventListener('click', onClick, true);
            const mo = new MutationObserver(() => {
              if (el.getAttribute('aria-pressed') !== 'true') return;
              mo.disconnect();
              window.removeEventListener('click', onClick, true);
              const state = performance.now();
              requestAnimationFrame(() => {
                const frame = performance.now();
                const ch = new MessageChannel();
                ch.port1.onmessage = () => resolve({ clickAt, state, frame, after: performance.now() });
                ch.port2.postMessage(0);
              });
            });
            mo.observe(el, { attributes: true, attributeFilter: ['aria-pressed'] });
          });
        }, id);
        await page.getByTestId(id).click();
        const t = await page.evaluate(() => window.__sw);
        res.push({ tool: id, toState: t.state - t.clickAt, toFrame: t.frame - t.clickAt, toAfterFrame: t.after - t.clickAt });
      }
    }
    await page.keyboard.press('Escape');
    return res;
  };

  const brushSteps = [];
  const brushRuns = [];
  const switches = [];
  const saves = { first: [], patch: [] };
  const load = await backgroundLoad(2000);

  for (let rep = 0; rep < REPEATS; rep++) {
    // Fresh start: no label map in the document, so the first save is a full container.
    await page.goto('about:blank');
    await putDocument([]);
    await open();
    await setBrush();
    let m = await mapper();

    // 4. autosave: first stroke (full container), then a second stroke (patch).
    for (const [kind, y] of [
      ['first', 100],
      ['patch', 140],
    ]) {
      const before = await lmCount();
      const postsBefore = posts.length;
      await drag(m, 200, 200 + 40 / m.scale, y);
      await waitFor(async () => (await lmCount()) > before, `the ${kind} label-map save`, 30_000);
      await waitFor(() => posts.length > postsBefore, 'the request event', 10_000);
      const rec = (await page.evaluate(() => window.__lm.filter((r) => r.end !== null))).at(-1);
      const net = posts.at(-1);
      if (rec.status !== 200 && rec.status !== 201) throw new Error(`labelmap POST → ${rec.status}`);
      const longest = await page.evaluate(([a, b]) => Math.max(0, ...window.__longTasks.filter((x) => x.start + x.ms > a && x.start < b).map((x) => x.ms)), [rec.up, rec.end]);
      saves[kind].push({ longestTaskMs: longest, bytes: net.bytes, pageBytes: rec.bytes, requestMs: net.requestToResponseEndMs, fetchMs: rec.end - rec.start, upToResponseMs: rec.end - rec.up, upToRequestMs: rec.start - rec.up });
      console.log(`rep ${rep + 1} save ${kind}: ${net.bytes} B, request→response ${f1(net.requestToResponseEndMs)} ms (fetch ${f1(rec.end - rec.start)} ms), pointerup→request ${f1(rec.start - rec.up)} ms, →response ${f1(rec.end - rec.up)} ms, longest main-thread task ${f1(longest)} ms`);
      await saved();
    }

    // 1. brush stroke steps: real pointerdown (pointer capture), synthetic moves, real pointerup.
    m = await mapper();
    const y = 220 + rep * 90;
    const x0 = 90;
    const stepPlane = 300 / BRUSH_STEPS; // 1.5 plane px (~1 mm) per move with the defaults
    const points = Array.from({ length: BRUSH_STEPS }, (_, i) => m.at(x0 + (i + 1) * stepPlane, y));
    const volBefore = await page.getByTestId('segment-volume-1').textContent();
    const verBefore = Number(await page.getByTestId('seg-layer-axial').getAttribute('data-version'));
    await page.mouse.move(...m.at(x0, y));
    await page.mouse.down();
    const steps = await page.evaluate(async (pts) => {
      const el = document.querySelector('[data-testid="seg-layer-axial"]');
      const frame = () => new Promise((r) => requestAnimationFrame(() => r(performance.now())));
      await frame();
      const outp = [];
      for (const [x, y2] of pts) {
        let pre = null;
        requestAnimationFrame(() => (pre = performance.now())); // runs before the layer's redraw in the next frame
        const ev = new PointerEvent('pointermove', { bubbles: true, cancelable: true, composed: true, pointerId: 1, pointerType: 'mouse', isPrimary: true, clientX: x, clientY: y2, button: -1, buttons: 1 });
        const t0 = performance.now();
        el.dispatchEvent(ev);
        const t1 = performance.now();
        const done = await frame(); // registered after the layer's redraw: runs after it
        outp.push({ handler: t1 - t0, draw: done - pre, toFrame: done - t0, frameAt: done, redrawn: window.__putAt > pre && window.__putAt < done });
      }
      return outp;
    }, points);
    await page.mouse.up();
    const intervals = steps.slice(1).map((s, i) => s.frameAt - steps[i].frameAt);
    const version = Number(await page.getByTestId('seg-layer-axial').getAttribute('data-version'));
    const volAfter = await page.getByTestId('segment-volume-1').textContent();
    if (!(parseFloat(volAfter) > parseFloat(volBefore)) || !(version > verBefore)) throw new Error(`the measured stroke painted nothing (${volBefore} → ${volAfter})`);
    brushSteps.push(...steps);
    brushRuns.push({ redrawnSteps: steps.filter((s) => s.redrawn).length, handler: median(steps.map((s) => s.handler)), draw: median(steps.map((s) => s.draw)), toFrame: median(steps.map((s) => s.toFrame)), interval: median(intervals), intervalP95: pct(intervals, 95), version });
    console.log(
      `rep ${rep + 1} brush step (${BRUSH_STEPS} moves): handler median ${f1(brushRuns.at(-1).handler)} ms p95 ${f1(pct(steps.map((s) => s.handler), 95))}, redraw ${f1(brushRuns.at(-1).draw)} ms, dispatch→frame ${f1(brushRuns.at(-1).toFrame)} ms, label slice redrawn in ${brushRuns.at(-1).redrawnSteps}/${steps.length} steps, frame interval ${f1(brushRuns.at(-1).interval)} ms (p95 ${f1(brushRuns.at(-1).intervalP95)})`,
    );
    await waitFor(async () => (await page.getByTestId('seg-save-state').getAttribute('data-state')) === 'saved', 'the stroke save', 30_000);
    await saved();

    // 2. tool switching.
    const sw = await switchTools(SWITCH_ROUNDS);
    switches.push(...sw);
    console.log(`rep ${rep + 1} tool switch: click→frame median ${f1(median(sw.map((s) => s.toFrame)))} ms, max ${f1(Math.max(...sw.map((s) => s.toFrame)))} ms`);
    await saved();
  }

  // 3. many polygons on the displayed slice.
  await page.goto('about:blank');
  const slice = Math.floor(asset.frameCount / 2);
  const rand = mulberry32(20261201);
  const now = new Date().toISOString();
  const polys = Array.from({ length: POLYGONS }, () => {
    const r = 4 + rand() * 14;
    const cx = r + 1 + rand() * (510 - 2 * r);
    const cy = r + 1 + rand() * (510 - 2 * r);
    const points = Array.from({ length: 12 }, (_, k) => {
      const a = (k / 12) * 2 * Math.PI;
      const rr = r * (0.7 + 0.3 * rand());
      return [Math.round((cx + rr * Math.cos(a)) * 100) / 100, Math.round((cy + rr * Math.sin(a)) * 100) / 100];
    });
    return { id: randomUUID(), kind: 'polygon', label: 'Lesion', attributes: {}, source: 'manual', createdBy: userId, createdAt: now, updatedAt: now, points, slice };
  });
  const docBytes = JSON.stringify({ objects: polys }).length;
  const tPut = performance.now();
  await putDocument(polys);
  const putMs = performance.now() - tPut;
  const tOpen = performance.now();
  await page.goto(assetPath);
  await page.getByTestId('imaging-viewer').waitFor();
  await waitFor(async () => ((await page.getByTestId('tab-objects').textContent()) ?? '').includes(`(${POLYGONS})`), 'the polygons in the object list');
  const listedMs = performance.now() - tOpen;
  await waitFor(async () => (await page.getByTestId('imaging-viewer').getAttribute('data-complete')) === 'yes', 'the volume');
  if (Number(await page.getByTestId('viewport-axial').getAttribute('data-slice')) !== slice) throw new Error('the polygons are not on the displayed slice');
  const m = await mapper();
  const centre = [m.box.x + m.box.width / 2, m.box.y + m.box.height / 2];

  const countFrames = (fn) =>
    (async () => {
      await page.evaluate(() => {
        window.__frames = [];
        window.__counting = true;
        const vp = document.querySelector('[data-testid="viewport-axial"]');
        let last = vp.getAttribute('data-matrix');
        const tick = () => {
          if (!window.__counting) return;
          const mx = vp.getAttribute('data-matrix');
          window.__frames.push({ t: performance.now(), moved: mx !== last });
          last = mx;
          requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
      });
      await fn();
      const frames = await page.evaluate(() => {
        window.__counting = false;
        return window.__frames;
      });
      const span = (frames.at(-1).t - frames[0].t) / 1000;
      const intervals = frames.slice(1).map((f, i) => f.t - frames[i].t);
      return { frames: frames.length, seconds: span, fps: (frames.length - 1) / span, movedFps: frames.filter((f) => f.moved).length / span, intervalP95: pct(intervals, 95), intervalMax: Math.max(...intervals) };
    })();
  const pan = () =>
    countFrames(async () => {
      await page.mouse.move(...centre);
      await page.mouse.down({ button: 'middle' });
      const t0 = performance.now();
      let i = 0;
      while (performance.now() - t0 < MOTION_SECONDS * 1000) {
        const a = i++ / 20;
        await page.mouse.move(centre[0] + 150 * Math.cos(a) - 150, centre[1] + 150 * Math.sin(a));
      }
      await page.mouse.up({ button: 'middle' });
    });
  const zoom = () =>
    countFrames(async () => {
      await page.mouse.move(...centre);
      await page.keyboard.down('Control');
      const t0 = performance.now();
      let i = 0;
      while (performance.now() - t0 < MOTION_SECONDS * 1000) {
        await page.mouse.wheel(0, Math.floor(i++ / 10) % 2 === 0 ? -100 : 100);
      }
      await page.keyboard.up('Control');
    });
  const motion = { pan: [], zoom: [] };
  for (let rep = 0; rep < REPEATS; rep++) {
    for (const [k, fn] of [
      ['pan', pan],
      ['zoom', zoom],
    ]) {
      const r = await fn();
      motion[k].push(r);
      console.log(`rep ${rep + 1} ${POLYGONS} polygons ${k}: ${f1(r.fps)} frames/s (${r.frames} frames in ${r.seconds.toFixed(2)} s; ${f1(r.movedFps)}/s with a new camera; frame interval p95 ${f1(r.intervalP95)} ms, max ${f1(r.intervalMax)} ms)`);
    }
  }
  const switchesMany = await switchTools(2);
  console.log(`tool switch with ${POLYGONS} polygons: click→frame median ${f1(median(switchesMany.map((s) => s.toFrame)))} ms, max ${f1(Math.max(...switchesMany.map((s) => s.toFrame)))} ms`);
  out = { load, brushSteps, brushRuns, switches, switchesMany, saves, motion, polygons: { count: POLYGONS, docBytes, putMs, listedMs }, asset };
} finally {
  await browser?.close();
  await c.close();
  await rm(tmp, { recursive: true, force: true });
}
if (problems.length) console.log(`browser problems:\n${problems.slice(0, 20).join('\n')}`);

// ---------- summary ----------
const { load, brushSteps, brushRuns, switches, switchesMany, saves, motion, polygons } = out;
const handler = stats(brushSteps.map((s) => s.handler));
const draw = stats(brushSteps.map((s) => s.draw));
const work = stats(brushSteps.map((s) => s.handler + s.draw));
const toFrame = stats(brushSteps.map((s) => s.toFrame));
const sw = stats(switches.map((s) => s.toFrame));
const swState = stats(switches.map((s) => s.toState));
const swMany = stats(switchesMany.map((s) => s.toFrame));
const perTool = Object.fromEntries(SWITCH_CYCLE.map((id) => [id, median(switches.filter((s) => s.tool === id).map((s) => s.toFrame))]));
const perToolMany = Object.fromEntries(SWITCH_CYCLE.map((id) => [id, Math.max(...switchesMany.filter((s) => s.tool === id).map((s) => s.toFrame))]));
const fps = { pan: median(motion.pan.map((r) => r.fps)), zoom: median(motion.zoom.map((r) => r.fps)), panMoved: median(motion.pan.map((r) => r.movedFps)), zoomMoved: median(motion.zoom.map((r) => r.movedFps)) };
const save = Object.fromEntries(
  Object.entries(saves).map(([k, v]) => [
    k,
    { bytes: median(v.map((s) => s.bytes)), requestMs: median(v.map((s) => s.requestMs)), fetchMs: median(v.map((s) => s.fetchMs)), upToResponseMs: median(v.map((s) => s.upToResponseMs)), upToRequestMs: median(v.map((s) => s.upToRequestMs)), longestTaskMs: median(v.map((s) => s.longestTaskMs)), all: v },
  ]),
);
const met = (ok) => (ok ? 'met' : 'missed');
const verdict = {
  brushStep: met(work.median < TARGET.brushStepMs),
  toolSwitch: met(sw.max < TARGET.toolSwitchMs),
  pan: met(fps.pan >= TARGET.fps),
  zoom: met(fps.zoom >= TARGET.fps),
  saveBytes: met(save.first.bytes < TARGET.saveKB * 1000 && save.patch.bytes < TARGET.saveKB * 1000),
  saveMs: met(save.first.requestMs < TARGET.saveMs && save.patch.requestMs < TARGET.saveMs),
};
const summary = { load, targets: TARGET, brushStep: { radiusMm: RADIUS_MM, sphere: true, steps: brushSteps.length, redrawnSteps: brushSteps.filter((s) => s.redrawn).length, handler, draw, work, toFrame, runs: brushRuns }, toolSwitch: { clickToFrame: sw, clickToState: swState, perTool, with10k: swMany, perToolMaxWith10k: perToolMany }, polygons: { ...polygons, fps, runs: motion }, autosave: save, verdict };
console.log(JSON.stringify(summary, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 100) / 100 : v), 2));

if (!process.env.BENCH_NO_DOCS) {
  const mi = machineInfo();
  const ver = JSON.parse(readFileSync(path.join(root, 'node_modules/playwright-core/package.json'), 'utf8')).version;
  const kb = (b) => `${(b / 1000).toFixed(1)} KB`;
  const lines = [
    `## Imaging annotation tools in the browser (${mi.date})`,
    '',
    `Machine: ${mi.nproc} vCPU (${mi.cpu}), memory ${mi.memory}; Node ${mi.node}; Chromium (Debian \`/usr/bin/chromium\`, headless, software rendering) via playwright-core ${ver}, viewport ${VIEWPORT.width}×${VIEWPORT.height}. Other load just before the timed runs: ${load.busyPct.toFixed(0)}% of all cores busy, ${load.stealPct.toFixed(0)}% steal, loadavg ${load.loadavg}.`,
    '',
    `Method: \`node bench/viewer-tools.mjs\`. The synthetic 512×512×300 int16 CT (0.7×0.7×1.25 mm) is ingested through the API (\`caliper serve\`, SQLite) and opened in its job by the signed-in admin; ${REPEATS} repeats, each from an empty annotation document and a fresh page load, after every slice has loaded. Brush: segment brush, ${RADIUS_MM} mm 3D sphere; a real pointerdown, then ${BRUSH_STEPS} \`pointermove\` events (1.5 plane px ≈ 1 mm apart) dispatched on the label layer, each in its own animation frame (${brushSteps.filter((s) => s.redrawn).length}/${brushSteps.length} steps saw the label slice redrawn between the two rAF marks): handler = \`performance.now()\` around \`dispatchEvent\`; redraw = the label layer's rAF redraw in the next frame (a rAF callback registered before the event to one registered after it); dispatch → frame = from the event to the end of that redraw (includes waiting for the next frame). Tool switch: real clicks through ${SWITCH_CYCLE.map((s) => s.replace(/^(seg)?tool-/, '')).join(' → ')} (${SWITCH_ROUNDS} rounds per repeat), from the click event's timestamp to the first animation frame after the button's \`aria-pressed\` turned true. Polygons: ${polygons.count.toLocaleString('en')} polygons of 12 vertices (${(polygons.docBytes / 1e6).toFixed(1)} MB document, PUT in ${polygons.putMs.toFixed(0)} ms) on the displayed slice; ${MOTION_SECONDS} s of continuous middle-button pan (Playwright mouse moves, each awaited) and of Ctrl+wheel zoom (10 steps in, 10 out), frames counted with requestAnimationFrame; "new camera" counts frames whose \`data-matrix\` changed. Autosave: a 40 px brush drag; body bytes of \`POST /api/assets/:id/labelmaps\` from the request, request → response end from Chromium's resource timing; pointerup → response includes the ${700} ms debounce.`,
    '',
    '| measure | median | p95 / max | target | |',
    '|---|---:|---:|---:|---|',
    `| brush step (10 mm sphere): handler | ${f1(handler.median)} ms | ${f1(handler.p95)} / ${f1(handler.max)} ms | | |`,
    `| brush step: label-layer redraw | ${f1(draw.median)} ms | ${f1(draw.p95)} / ${f1(draw.max)} ms | | |`,
    `| brush step: handler + redraw | ${f1(work.median)} ms | ${f1(work.p95)} / ${f1(work.max)} ms | < ${TARGET.brushStepMs} ms | **${verdict.brushStep}** |`,
    `| brush step: dispatch → next frame redrawn | ${f1(toFrame.median)} ms | ${f1(toFrame.p95)} / ${f1(toFrame.max)} ms | | |`,
    `| tool switch: click → next frame (${sw.n} clicks) | ${f1(sw.median)} ms | ${f1(sw.p95)} / ${f1(sw.max)} ms | < ${TARGET.toolSwitchMs} ms | **${verdict.toolSwitch}** |`,
    `| tool switch with ${polygons.count.toLocaleString('en')} polygons | ${f1(swMany.median)} ms | ${f1(swMany.p95)} / ${f1(swMany.max)} ms | < ${TARGET.toolSwitchMs} ms | |`,
    `| ${polygons.count.toLocaleString('en')} polygons: pan | ${f1(fps.pan)} frames/s (${f1(fps.panMoved)} with a new camera) | p95 frame ${f1(median(motion.pan.map((r) => r.intervalP95)))} ms | ≥ ${TARGET.fps} | **${verdict.pan}** |`,
    `| ${polygons.count.toLocaleString('en')} polygons: zoom | ${f1(fps.zoom)} frames/s (${f1(fps.zoomMoved)} with a new camera) | p95 frame ${f1(median(motion.zoom.map((r) => r.intervalP95)))} ms | ≥ ${TARGET.fps} | **${verdict.zoom}** |`,
    `| autosave, first stroke (full container): bytes | ${kb(save.first.bytes)} | | < ${TARGET.saveKB} KB | **${met(save.first.bytes < TARGET.saveKB * 1000)}** |`,
    `| autosave, first stroke: request → response | ${f1(save.first.requestMs)} ms | ${save.first.all.map((s) => f1(s.requestMs)).join(', ')} | < ${TARGET.saveMs} ms | **${met(save.first.requestMs < TARGET.saveMs)}** |`,
    `| autosave, second stroke (patch): bytes | ${kb(save.patch.bytes)} | | < ${TARGET.saveKB} KB | **${met(save.patch.bytes < TARGET.saveKB * 1000)}** |`,
    `| autosave, second stroke: request → response | ${f1(save.patch.requestMs)} ms | ${save.patch.all.map((s) => f1(s.requestMs)).join(', ')} | < ${TARGET.saveMs} ms | **${met(save.patch.requestMs < TARGET.saveMs)}** |`,
    `| autosave: pointerup → request start (first / patch) | ${f1(save.first.upToRequestMs)} / ${f1(save.patch.upToRequestMs)} ms | | | |`,
    `| autosave: pointerup → response (first / patch) | ${f1(save.first.upToResponseMs)} / ${f1(save.patch.upToResponseMs)} ms | | | |`,
    `| autosave: longest main-thread task from pointerup to response (first / patch) | ${f1(save.first.longestTaskMs)} / ${f1(save.patch.longestTaskMs)} ms | | | |`,
    '',
    `Per tool (click → frame, median): ${Object.entries(perTool).map(([k, v]) => `${k.replace(/^(seg)?tool-/, '')} ${f1(v)} ms`).join(', ')}. With ${polygons.count.toLocaleString('en')} polygons (slowest of 2 clicks): ${Object.entries(perToolMany).map(([k, v]) => `${k.replace(/^(seg)?tool-/, '')} ${f1(v)} ms`).join(', ')}. Opening the asset with ${polygons.count.toLocaleString('en')} polygons until the object list showed them: ${(polygons.listedMs / 1000).toFixed(1)} s.`,
  ];
  await appendToDocs(lines.join('\n') + '\n');
}
