import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD, REPO_ROOT, launchBrowser, login, newContext, screenshot, startServer, watchPage, type RunningServer } from './harness.js';
import { apiLogin, filesIn, uploadAndIngest, type ApiClient } from './api.js';

// The imaging workspace in headless Chromium on a synthetic 512×512×300 CT (generated here, no
// PHI) and the shared MR series: the volume streams in, window/level changes the rendered
// pixels, the coronal reformat shows the right plane (sampled against the stored voxels), and
// annotations survive a reload with the same coordinates.

const SHARED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data');
const MR_DIR = path.join(SHARED, 'dicom/series/dwv_bbmri_MR');
const SLICES = 300;

interface AssetRow {
  id: string;
  name: string;
  frameCount?: number;
  metadata: { imaging?: { dims: [number, number, number]; rescale: { slope: number; intercept: number }; modality: string } };
}

let server: RunningServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let api: ApiClient;
let ctDir = '';
let jobId = '';
let ct: AssetRow;
let mr: AssetRow;
const problems: string[] = [];

const SCHEMA = {
  version: 1,
  labels: [
    { name: 'Liver', color: '#d9822b', shortcut: '1', kinds: ['labelmap'] },
    { name: 'Lesion', color: '#e5484d', shortcut: '2', kinds: ['box', 'polygon', 'ellipse', 'polyline', 'points', 'mask'] },
    { name: 'Femoral heads', color: '#4fa3ff', shortcut: '3', kinds: ['landmarks'] },
    { name: 'Size', color: '#5ad28a', shortcut: '4', kinds: ['measurement'] },
    { name: 'Normal', color: '#a78bfa', shortcut: '5', kinds: ['tag'] },
  ],
};

/** DICOM linear VOI (PS3.3 C.11.2.1.2.1) to 0..255, written here independently of the app. */
function voi(x: number, center: number, width: number): number {
  const lo = center - 0.5 - (width - 1) / 2;
  const hi = center - 0.5 + (width - 1) / 2;
  if (x <= lo) return 0;
  if (x > hi) return 255;
  return Math.round(((x - (center - 0.5)) / (width - 1) + 0.5) * 255);
}

async function volumeOf(a: AssetRow): Promise<Int16Array> {
  const [cols, rows] = a.metadata.imaging!.dims;
  const frames = a.frameCount!;
  const out = new Int16Array(cols * rows * frames);
  for (let start = 0; start < frames; start += 100) {
    const r = await api.raw('GET', `/api/assets/${a.id}/frames?start=${start}&count=100`);
    const buf = new Uint8Array(await r.arrayBuffer());
    out.set(new Int16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2), start * cols * rows);
  }
  return out;
}

async function openAsset(p: Page, a: AssetRow): Promise<void> {
  await p.goto(`/jobs/${jobId}/assets/${a.id}`);
  await p.getByTestId('imaging-viewer').waitFor();
  await expect.poll(() => p.getByTestId('imaging-viewer').getAttribute('data-complete'), { timeout: 60_000 }).toBe('yes');
}

/** Reads canvas pixels of a viewport at screen positions (CSS px, device scale 1). */
async function canvasPixels(p: Page, axis: string, points: [number, number][]): Promise<number[]> {
  return p.locator(`[data-testid="viewport-${axis}"] [data-testid="viewport-canvas"]`).evaluate((c, pts) => {
    const canvas = c as HTMLCanvasElement;
    const ctx2 = canvas.getContext('2d')!;
    return pts.map(([x, y]) => ctx2.getImageData(x, y, 1, 1).data[0]!);
  }, points);
}

async function matrixOf(p: Page, axis: string): Promise<number[]> {
  const m = await p.getByTestId(`viewport-${axis}`).getAttribute('data-matrix');
  return m!.split(',').map(Number);
}

describe('imaging workspace', () => {
  beforeAll(async () => {
    server = await startServer();
    api = await apiLogin(server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const project = await api.call<{ id: string }>('POST', '/api/projects', { name: 'Imaging e2e', labelSchema: SCHEMA });
    const task = await api.call<{ id: string }>('POST', `/api/projects/${project.id}/tasks`, { name: 'CT and MR' });
    ctDir = mkdtempSync(path.join(tmpdir(), 'caliper-e2e-ct-'));
    const { writeSyntheticCtSeries } = (await import(path.join(REPO_ROOT, 'bench/synthetic-ct.mjs'))) as {
      writeSyntheticCtSeries: (dir: string, o: { slices: number }) => Promise<unknown>;
    };
    await writeSyntheticCtSeries(ctDir, { slices: SLICES });
    await uploadAndIngest(api, task.id, filesIn(ctDir));
    await uploadAndIngest(api, task.id, filesIn(MR_DIR));
    const assets = (await api.call<{ items: AssetRow[] }>('GET', `/api/tasks/${task.id}/assets`)).items;
    ct = assets.find((a) => a.frameCount === SLICES)!;
    mr = assets.find((a) => a.metadata.imaging?.modality === 'MR' && (a.frameCount ?? 0) > 1)!;
    expect(ct).toBeTruthy();
    expect(mr).toBeTruthy();
    const jobs = await api.call<{ items: { id: string }[] }>('POST', `/api/tasks/${task.id}/jobs`, { assetsPerJob: 100, assigneeId: api.userId });
    jobId = jobs.items[0]!.id;
    browser = await launchBrowser();
    ctx = await newContext(browser, server.url);
    page = await ctx.newPage();
    watchPage(page, problems);
    await login(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  }, 240_000);

  afterAll(async () => {
    if (problems.length) console.log('browser problems:\n' + problems.join('\n'));
    await browser?.close();
    await server?.stop();
    if (ctDir) rmSync(ctDir, { recursive: true, force: true });
  });

  it('streams the CT in and shows the middle slice with the CT window', async () => {
    await openAsset(page, ct);
    const vp = page.getByTestId('viewport-axial');
    expect(await vp.getAttribute('data-slice')).toBe(String(SLICES / 2));
    expect(await vp.getAttribute('data-window')).toBe('400/40');
    await screenshot(page, 'imaging-01-ct-axial');
  });

  it('window/level presets change the rendered pixels to the DICOM VOI of the stored values', async () => {
    const volume = await volumeOf(ct);
    const { slope, intercept } = ct.metadata.imaging!.rescale;
    const [cols, rows] = ct.metadata.imaging!.dims;
    const check = async (center: number, width: number) => {
      const t = await matrixOf(page, 'axial');
      const k = Number(await page.getByTestId('viewport-axial').getAttribute('data-slice'));
      const pts: [number, number][] = [];
      const expected: number[] = [];
      for (let n = 0; n < 60; n++) {
        const x = 20 + ((n * 97) % (cols - 40));
        const y = 20 + ((n * 61) % (rows - 40));
        const sx = Math.floor(t[0]! * (x + 0.5) + t[2]! * (y + 0.5) + t[4]!);
        const sy = Math.floor(t[1]! * (x + 0.5) + t[3]! * (y + 0.5) + t[5]!);
        pts.push([sx, sy]);
        expected.push(voi(volume[(k * rows + y) * cols + x]! * slope + intercept, center, width));
      }
      expect(await canvasPixels(page, 'axial', pts)).toEqual(expected);
    };
    await check(40, 400);
    await page.getByTestId('wl-preset').selectOption({ label: 'Lung 1500/-600 (Shift+2)' });
    await expect.poll(() => page.getByTestId('viewport-axial').getAttribute('data-window')).toBe('1500/-600');
    await check(-600, 1500);
    await screenshot(page, 'imaging-02-ct-lung-window');
  });

  it('the coronal reformat shows the right plane, superior up and patient right on the left', async () => {
    await page.getByTestId('layout-1x3').click();
    await page.getByTestId('viewport-coronal').waitFor();
    const volume = await volumeOf(ct);
    const { slope, intercept } = ct.metadata.imaging!.rescale;
    const [cols, rows] = ct.metadata.imaging!.dims;
    const frames = SLICES;
    const t = await matrixOf(page, 'coronal');
    const j = Number(await page.getByTestId('viewport-coronal').getAttribute('data-slice'));
    const pts: [number, number][] = [];
    const expected: number[] = [];
    for (let n = 0; n < 80; n++) {
      const x = 10 + ((n * 89) % (cols - 20));
      const y = 5 + ((n * 37) % (frames - 10));
      // Screen y grows downward = toward the patient's feet; the synthetic series' slice k grows
      // toward the head (sorted along the normal), so plane row y is slice frames-1-y.
      const k = frames - 1 - y;
      const sx = Math.floor(t[0]! * (x + 0.5) + t[2]! * (y + 0.5) + t[4]!);
      const sy = Math.floor(t[1]! * (x + 0.5) + t[3]! * (y + 0.5) + t[5]!);
      // Skip screen pixels straddling two plane pixels (the plane is magnified unevenly).
      const fx = (sx + 0.5 - t[4]!) / t[0]!;
      const fy = (sy + 0.5 - t[5]!) / t[3]!;
      if (Math.floor(fx) !== x || Math.floor(fy) !== y) continue;
      pts.push([sx, sy]);
      expected.push(voi(volume[(k * rows + j) * cols + x]! * slope + intercept, -600, 1500));
    }
    expect(pts.length).toBeGreaterThan(40);
    expect(await canvasPixels(page, 'coronal', pts)).toEqual(expected);
    const orient = page.getByTestId('viewport-coronal');
    expect(await orient.locator('.vp-orient-top').textContent()).toBe('S');
    expect(await orient.locator('.vp-orient-left').textContent()).toBe('R');
    expect(await page.getByTestId('viewport-sagittal').locator('.vp-orient-left').textContent()).toBe('A');
    await screenshot(page, 'imaging-03-ct-mpr-1x3');
  });

  it('shows the oblique MR series in 2×2', async () => {
    await openAsset(page, mr);
    await page.getByTestId('layout-2x2').click();
    await page.getByTestId('volume-info').waitFor();
    await screenshot(page, 'imaging-04-mr-2x2');
  });
});
