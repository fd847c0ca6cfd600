// Builds the bench page, serves it with `vite preview` on 127.0.0.1 and drives it with
// headless Chromium (playwright-core). Prints one JSON object with all numbers.
//
//   node run.mjs                  GPU path (WebGL; SwiftShader on a machine without a GPU)
//   node run.mjs --backend=cpu    Cornerstone's CPU rendering path
//   node run.mjs --mode=tiled     one shared WebGL context (default: contextPool)
//   node run.mjs --prefer-size    preferSizeOverAccuracy (16-bit textures instead of float32)
//   node run.mjs --no-build       reuse dist/
//   node run.mjs --screenshot=x.png
/* global window */ // used inside page.evaluate callbacks, which run in the browser
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import os from 'node:os';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? true];
  }),
);
const PORT = Number(args.get('port') ?? 4179);
const URL_BASE = `http://127.0.0.1:${PORT}/`;
const viteBin = path.join(here, 'node_modules/vite/bin/vite.js');
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function log(...m) {
  process.stderr.write(`[bench] ${m.join(' ')}\n`);
}

async function waitForServer(url, ms) {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`preview server did not answer on ${url} within ${ms} ms`);
}

async function main() {
  if (!args.get('no-build')) {
    const t0 = Date.now();
    execFileSync(process.execPath, [viteBin, 'build'], { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
    log(`vite build ${Date.now() - t0} ms`);
  }
  // Start vite directly (not through npx/npm) so that this PID is the server; SIGINT stops it.
  const preview = spawn(process.execPath, [viteBin, 'preview', '--host', '127.0.0.1', '--port', String(PORT), '--strictPort'], {
    cwd: here,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let browser;
  try {
    await waitForServer(URL_BASE, 20000);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        ...(args.get('unsafe-swiftshader') ? ['--enable-unsafe-swiftshader'] : []),
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1100, height: 1200 } });
    const consoleErrors = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`.slice(0, 300));
    });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${String(e).slice(0, 300)}`));
    const qs = new URLSearchParams();
    if (args.get('backend') === 'cpu') qs.set('backend', 'cpu');
    if (args.get('mode') === 'tiled') qs.set('mode', 'tiled');
    if (args.get('prefer-size')) qs.set('preferSize', '1');
    const query = qs.size ? `?${qs}` : '';
    await page.goto(URL_BASE + query);
    await page.waitForFunction(() => window.bench?.ready === true, null, { timeout: 30000 });

    const result = {
      chromium: browser.version(),
      variant: query || 'default',
      cpus: os.cpus().length,
      loadAvgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
    };
    log('render benchmarks');
    Object.assign(result, await page.evaluate(() => window.bench.runRender()));

    log('segmentation + sphere brush');
    try {
      result.segmentationSetup = await page.evaluate(() => window.bench.setupSegmentation());
      const rect = await page.evaluate(() => window.bench.armBrush());
      // One stroke: press near the lesion, then 40 mouse moves of 4 px (≈2.8 mm at fit zoom or
      // less), waiting after each move until its render has happened (as a user's hand would).
      const x0 = rect.x + rect.width * 0.55;
      const y0 = rect.y + rect.height * 0.45;
      await page.mouse.move(x0, y0);
      await page.mouse.down();
      for (let i = 1; i <= 40; i++) {
        await page.mouse.move(x0 + i * 4, y0 + (i % 2) * 2);
        await page.evaluate(() => window.bench.brushIdle());
      }
      await page.mouse.up();
      await page.evaluate(() => window.bench.brushIdle());
      result.sphereBrush = await page.evaluate(() => window.bench.brushResults());
      result.toolSwitch = await page.evaluate(() => window.bench.toolSwitchBench(40));
    } catch (e) {
      result.segmentationError = String(e).slice(0, 500);
    }
    if (args.get('screenshot')) {
      await page.screenshot({ path: String(args.get('screenshot')) });
    }
    result.loadAvgAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100);
    // Distinct console errors/warnings with their counts.
    const counts = new Map();
    for (const m of consoleErrors) counts.set(m, (counts.get(m) ?? 0) + 1);
    result.consoleMessages = [...counts].slice(0, 20).map(([text, count]) => ({ count, text }));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await browser?.close();
    preview.kill('SIGINT');
  }
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exitCode = 1;
});
