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
const CT5N_DIR = path.join(SHARED, 'dicom/series/pydicom_CT5N_16x16');
const US_CINE = path.join(SHARED, 'dicom/pydicom/examples_ybr_color.dcm'); // 30 frames, FrameTime 33.333 ms
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
let ct5n: AssetRow;
let us: AssetRow;
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
    await uploadAndIngest(api, task.id, filesIn(CT5N_DIR));
    await uploadAndIngest(api, task.id, [US_CINE]);
    // Ultrasound is held for a burned-in text review; a manager releases it (no text in this sample's pixels matters here).
    for (const held of (await api.call<{ items: { id: string }[] }>('GET', `/api/projects/${project.id}/held-assets`)).items) {
      await api.call('POST', `/api/assets/${held.id}/release`, {});
    }
    const assets = (await api.call<{ items: AssetRow[] }>('GET', `/api/tasks/${task.id}/assets`)).items;
    ct = assets.find((a) => a.frameCount === SLICES)!;
    mr = assets.find((a) => a.metadata.imaging?.modality === 'MR' && (a.frameCount ?? 0) > 1)!;
    ct5n = assets.find((a) => a.frameCount === 5 && a.metadata.imaging?.modality === 'CT')!;
    us = assets.find((a) => a.metadata.imaging?.modality === 'US')!;
    expect(us).toBeTruthy();
    expect(ct5n).toBeTruthy();
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

  it('draws a box, a polygon, a length, a landmark and a label-map stroke; after a reload they are where they were drawn', async () => {
    await page.getByTestId('layout-1x1').click();
    await page.getByTestId('plane-axial').click();
    const vp = page.getByTestId('viewport-axial');
    const k = Number(await vp.getAttribute('data-slice'));
    const box = (await vp.boundingBox())!;
    const t = await matrixOf(page, 'axial');
    // Plane px → page px (device scale 1).
    const at = (x: number, y: number): [number, number] => [box.x + t[0]! * x + t[2]! * y + t[4]!, box.y + t[1]! * x + t[3]! * y + t[5]!];
    const drag = async (a: [number, number], b: [number, number]) => {
      await page.mouse.move(...at(...a));
      await page.mouse.down();
      for (let i = 1; i <= 5; i++) await page.mouse.move(...at(a[0] + ((b[0] - a[0]) * i) / 5, a[1] + ((b[1] - a[1]) * i) / 5));
      await page.mouse.up();
    };
    const click = async (p: [number, number]) => page.mouse.click(...at(...p));

    await page.getByTestId('tool-box').click();
    await drag([100, 100], [200, 180]);
    await page.getByTestId('tool-polygon').click();
    await click([300, 300]);
    await click([360, 300]);
    await click([330, 350]);
    await page.keyboard.press('Enter');
    await page.getByTestId('tool-length').click();
    await drag([120, 300], [220, 300]);
    await page.getByTestId('tool-landmark').click();
    await click([256, 256]);
    await page.getByTestId('segtool-brush').click();
    await drag([240, 200], [280, 200]);
    await page.keyboard.press('Escape');
    await screenshot(page, 'imaging-05-ct-annotated');

    // The label map uploads first (a compact patch), then the document that references it.
    const kinds = async () =>
      (await api.call<{ document: { objects: { kind: string }[] } }>('GET', `/api/jobs/${jobId}/assets/${ct.id}/annotations`)).document.objects.map((o) => o.kind).sort().join(',');
    await expect.poll(kinds, { timeout: 20_000 }).toBe('box,labelmap,landmarks,measurement,polygon');
    await expect.poll(() => page.getByTestId('save-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('saved');
    const res = await api.call<{ revision: number; document: { objects: Record<string, unknown>[] } }>('GET', `/api/jobs/${jobId}/assets/${ct.id}/annotations`);
    const objs = res.document.objects;
    const boxObj = objs.find((o) => o.kind === 'box')!;
    expect(boxObj.slice).toBe(k);
    expect(Math.abs((boxObj.x as number) - 100)).toBeLessThan(1);
    expect(Math.abs((boxObj.y as number) - 100)).toBeLessThan(1);
    expect(Math.abs((boxObj.width as number) - 100)).toBeLessThan(1.5);
    expect(Math.abs((boxObj.height as number) - 80)).toBeLessThan(1.5);
    const poly = objs.find((o) => o.kind === 'polygon')!;
    expect((poly.points as number[][]).length).toBe(3);
    expect(Math.abs((poly.points as number[][])[1]![0]! - 360)).toBeLessThan(1);
    const length = objs.find((o) => o.kind === 'measurement')!;
    // 100 plane px along a row at the synthetic series' 0.7 mm... spacing read from the asset.
    const spacing = (ct.metadata.imaging as unknown as { spacing: number[] }).spacing;
    expect(length.unit).toBe('mm');
    expect(Math.abs((length.value as number) - 100 * spacing[0]!)).toBeLessThan(spacing[0]! * 1.5);
    const lm = objs.find((o) => o.kind === 'landmarks')!;
    const p0 = (lm.points as { i: number; j: number; k: number }[])[0]!;
    expect(Math.abs(p0.i - 255.5)).toBeLessThan(1);
    expect(Math.abs(p0.j - 255.5)).toBeLessThan(1);
    expect(p0.k).toBeCloseTo(k, 5);
    const lmap = objs.find((o) => o.kind === 'labelmap')!;
    expect(lmap.shape).toEqual([512, 512, SLICES]);
    const blob = await api.raw('GET', `/api/assets/${ct.id}/labelmaps/${lmap.blob as string}`);
    expect(blob.status).toBe(200);
    const { decodeLabelmap } = await import('@caliper/core/labelmap');
    const decoded = decodeLabelmap(new Uint8Array(await blob.arrayBuffer()));
    // The stroke's centre line (plane row 200 → voxel row 199.5 ± radius) on the current slice is labelled.
    expect(decoded.data[(k * 512 + 200) * 512 + 260]).toBe(1);
    expect(decoded.data[(k * 512 + 20) * 512 + 20]).toBe(0);

    await page.reload();
    await page.getByTestId('imaging-viewer').waitFor();
    await page.getByTestId('tab-objects').click();
    await expect.poll(() => page.locator('[data-testid="object-row"]').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(4);
    const again = await api.call<{ revision: number; document: { objects: Record<string, unknown>[] } }>('GET', `/api/jobs/${jobId}/assets/${ct.id}/annotations`);
    expect(again.document.objects).toEqual(objs);
    // The landmark is listed with its patient position: affine × (i, j, k, 1), computed here.
    await page.locator('[data-testid="object-row"][data-kind="landmarks"] .object-row-main').click();
    const A = (ct.metadata.imaging as unknown as { affineLps: number[][] }).affineLps;
    const lpsExpected = [0, 1, 2].map((r) => A[r]![0]! * p0.i + A[r]![1]! * p0.j + A[r]![2]! * p0.k + A[r]![3]!);
    expect(await page.getByTestId('landmark-lps').first().textContent()).toBe(lpsExpected.map((v) => v.toFixed(1)).join(', '));
    await screenshot(page, 'imaging-06-ct-reloaded');
  });

  it('undo and redo cover shapes and label-map strokes', async () => {
    const count = async () => (await api.call<{ document: { objects: { kind: string }[] } }>('GET', `/api/jobs/${jobId}/assets/${ct.id}/annotations`)).document.objects.filter((o) => o.kind === 'box').length;
    const vp = page.getByTestId('viewport-axial');
    await expect.poll(() => page.getByTestId('imaging-viewer').getAttribute('data-complete'), { timeout: 60_000 }).toBe('yes');
    const box = (await vp.boundingBox())!;
    const t = await matrixOf(page, 'axial');
    const at = (x: number, y: number): [number, number] => [box.x + t[0]! * x + t[2]! * y + t[4]!, box.y + t[1]! * x + t[3]! * y + t[5]!];
    await page.getByTestId('tool-box').click();
    await page.mouse.move(...at(50, 50));
    await page.mouse.down();
    await page.mouse.move(...at(70, 60));
    await page.mouse.move(...at(90, 80));
    await page.mouse.up();
    await expect.poll(count, { timeout: 20_000 }).toBe(2);
    await page.keyboard.press('Control+z');
    await expect.poll(count, { timeout: 20_000 }).toBe(1);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(count, { timeout: 20_000 }).toBe(2);

    // A label-map stroke is undone the same way: the next saved blob no longer has it.
    const k = Number(await vp.getAttribute('data-slice'));
    const labelAt = async (x: number, y: number) => {
      const doc = await api.call<{ document: { objects: { kind: string; blob?: string }[] } }>('GET', `/api/jobs/${jobId}/assets/${ct.id}/annotations`);
      const sha = doc.document.objects.find((o) => o.kind === 'labelmap')!.blob!;
      const r = await api.raw('GET', `/api/assets/${ct.id}/labelmaps/${sha}`);
      const { decodeLabelmap } = await import('@caliper/core/labelmap');
      return decodeLabelmap(new Uint8Array(await r.arrayBuffer())).data[(k * 512 + y) * 512 + x];
    };
    await page.getByTestId('segtool-brush').click();
    await page.mouse.move(...at(400, 400));
    await page.mouse.down();
    await page.mouse.move(...at(410, 400));
    await page.mouse.move(...at(420, 400));
    await page.mouse.up();
    await expect.poll(() => labelAt(410, 400), { timeout: 20_000 }).toBe(1);
    await page.keyboard.press('Control+z');
    await expect.poll(() => labelAt(410, 400), { timeout: 20_000 }).toBe(0);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(() => labelAt(410, 400), { timeout: 20_000 }).toBe(1);
    await page.keyboard.press('Escape');
  });

  it('a stroke in the coronal view shows in the axial view of the slices it crossed', async () => {
    await page.getByTestId('layout-1x3').click();
    const cor = page.getByTestId('viewport-coronal');
    await cor.waitFor();
    const j = Number(await cor.getAttribute('data-slice'));
    const box = (await cor.boundingBox())!;
    const t = await matrixOf(page, 'coronal');
    const at = (x: number, y: number): [number, number] => [box.x + t[0]! * x + t[2]! * y + t[4]!, box.y + t[1]! * x + t[3]! * y + t[5]!];
    await page.getByTestId('segtool-brush').click();
    // A vertical stroke on the coronal plane at column 100 crosses axial slices 140..160 (k = 299 - y).
    await page.mouse.move(...at(100.5, 140.5));
    await page.mouse.down();
    for (let y = 142; y <= 160; y += 2) await page.mouse.move(...at(100.5, y + 0.5));
    await page.mouse.up();
    await page.keyboard.press('Escape');
    await page.getByTestId('tab-segments').click();
    // The axial view on a crossed slice shows the segment colour at (100, j).
    const axial = page.getByTestId('viewport-axial');
    const k = 299 - 150;
    await page.getByTestId('plane-axial').count(); // layout stays 1×3
    const current = Number(await axial.getAttribute('data-slice'));
    await axial.hover();
    for (let n = 0; n < Math.abs(current - k); n++) await page.mouse.wheel(0, current > k ? -100 : 100);
    await expect.poll(() => axial.getAttribute('data-slice')).toBe(String(k));
    const ta = await matrixOf(page, 'axial');
    const sx = Math.floor(ta[0]! * 100.5 + ta[2]! * (j + 0.5) + ta[4]!);
    const sy = Math.floor(ta[1]! * 100.5 + ta[3]! * (j + 0.5) + ta[5]!);
    const pixel = await page.locator('[data-testid="seg-layer-axial"] canvas').first().evaluate((c, [x, y]) => {
      const canvas = c as HTMLCanvasElement;
      const d = canvas.getContext('2d')!.getImageData(Math.round(x! * (canvas.width / canvas.clientWidth)), Math.round(y! * (canvas.height / canvas.clientHeight)), 1, 1).data;
      return [d[0]!, d[1]!, d[2]!, d[3]!];
    }, [sx, sy]);
    expect(pixel[3]).toBeGreaterThan(0);
    await screenshot(page, 'imaging-08-ct-mpr-segmentation');
  });

  it('a save from a second tab makes the first one show the conflict instead of overwriting', async () => {
    // Everything of the first tab is on the server first (the last stroke's label map, then the
    // document that points at it), so the conflict below comes from the second tab alone.
    await page.getByTestId('tab-segments').click();
    await expect.poll(() => page.getByTestId('seg-save-state').getAttribute('data-state'), { timeout: 20_000 }).toBe('saved');
    await expect.poll(() => page.getByTestId('save-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('saved');
    const second = await ctx.newPage();
    watchPage(second, problems);
    await openAsset(second, ct);
    // The second tab tags the current slice; the first tab then draws; its save meets a newer revision.
    await second.getByTestId('tab-tags').click();
    await second.getByTestId('scoped-tag-slice').first().click();
    await expect.poll(() => second.getByTestId('save-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('saved');
    await page.getByTestId('tab-tags').click();
    await page.getByTestId('scoped-tag-series').first().click();
    await page.getByTestId('conflict-banner').waitFor({ timeout: 20_000 });
    await screenshot(page, 'imaging-07-conflict');
    await page.getByTestId('conflict-load-theirs').click();
    await expect.poll(() => page.getByTestId('save-status').getAttribute('data-status'), { timeout: 20_000 }).toBe('saved');
    await second.close();
  });

  it('opens the shared 16×16×5 CT series at its stored values', async () => {
    await openAsset(page, ct5n);
    const vp = page.getByTestId('viewport-axial');
    expect(await vp.getAttribute('data-slice')).toBe('2');
    const volume = await volumeOf(ct5n);
    const { slope, intercept } = ct5n.metadata.imaging!.rescale;
    const [center, width] = ((await vp.getAttribute('data-window')) ?? '').split('/').map(Number).reverse() as [number, number];
    const t = await matrixOf(page, 'axial');
    const pts: [number, number][] = [];
    const expected: number[] = [];
    for (let y = 0; y < 16; y += 3) {
      for (let x = 0; x < 16; x += 3) {
        pts.push([Math.floor(t[0]! * (x + 0.5) + t[4]!), Math.floor(t[3]! * (y + 0.5) + t[5]!)]);
        expected.push(voi(volume[(2 * 16 + y) * 16 + x]! * slope + intercept, center, width));
      }
    }
    expect(await canvasPixels(page, 'axial', pts)).toEqual(expected);
    await screenshot(page, 'imaging-11-ct5n');
  });

  it('plays an ultrasound cine at its recorded frame rate', async () => {
    await openAsset(page, us);
    const vp = page.getByTestId('viewport-axial');
    expect(await vp.locator('.vp-tl strong').textContent()).toBe('Frames');
    const play = page.getByTestId('cine-play');
    const fps = Number(/(\d+) fps/.exec((await play.textContent()) ?? '')?.[1]);
    const meta = us.metadata.imaging as unknown as { frameRate: number | null; frameTimesMs: number[] | null };
    const expected = meta.frameRate ?? (meta.frameTimesMs && meta.frameTimesMs.length > 1 ? 1000 / (meta.frameTimesMs[1]! - meta.frameTimesMs[0]!) : 10);
    expect(fps).toBe(Math.round(expected));
    const start = Number(await vp.getAttribute('data-slice'));
    await play.click();
    await expect.poll(async () => Number(await vp.getAttribute('data-slice')), { timeout: 10_000 }).not.toBe(start);
    await screenshot(page, 'imaging-12-us-cine');
    await play.click();
    const stopped = await vp.getAttribute('data-slice');
    await page.waitForTimeout(500);
    expect(await vp.getAttribute('data-slice')).toBe(stopped);
  });

  it('shows the oblique MR series in 2×2', async () => {
    await openAsset(page, mr);
    await page.getByTestId('layout-2x2').click();
    await page.getByTestId('volume-info').waitFor();
    await screenshot(page, 'imaging-04-mr-2x2');
    // The de-identified header of the slice in view.
    await page.getByTestId('tab-header').click();
    await page.getByTestId('dicom-header').waitFor();
    await page.getByTestId('dicom-header-filter').fill('PatientIdentityRemoved');
    await expect.poll(() => page.getByTestId('dicom-header').textContent(), { timeout: 15_000 }).toContain('YES');
    await screenshot(page, 'imaging-09-mr-header');
    await page.getByTestId('dicom-header-filter').blur();
    await page.keyboard.press('?');
    await page.getByText('Imaging tools').waitFor();
    await screenshot(page, 'imaging-10-shortcuts');
    await page.keyboard.press('Escape');
  });
});
