import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD, launchBrowser, login, newContext, screenshot, startServer, watchPage, type RunningServer } from './harness.js';
import { apiLogin, uploadAndIngest, type ApiClient } from './api.js';
import { syntheticScan } from './png.js';

// Export and import through the dialogs: a manager exports a job's two boxes as COCO from the
// project page, downloads the zip, checks it, then imports the same zip on the task page (dry
// run first, then for real) and finds the boxes doubled with source "import:coco". A file that
// is not COCO is refused with the server's explanation shown in the dialog.

const SCHEMA = {
  version: 1,
  labels: [
    { name: 'Lesion', color: '#e5484d', shortcut: '1', kinds: ['box', 'polygon'] },
    { name: 'Liver', color: '#d9822b', shortcut: '2', kinds: ['labelmap'] },
  ],
};
const WIDTH = 320;
const HEIGHT = 256;
const BOXES = [
  { x: 12, y: 20, width: 40, height: 30 },
  { x: 150.5, y: 96, width: 60.25, height: 44 },
];

interface BoxObject {
  id: string;
  kind: string;
  label: string;
  source: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

let server: RunningServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let api: ApiClient;
let tmp = '';
let projectId = '';
let taskId = '';
let jobId = '';
let assetId = '';
let zip: Buffer = Buffer.alloc(0);
let zipName = '';
const problems: string[] = [];

async function documentOf(): Promise<{ revision: number; document: { objects: BoxObject[] } }> {
  return api.call('GET', `/api/jobs/${jobId}/assets/${assetId}/annotations`);
}

describe('export and import dialogs', () => {
  beforeAll(async () => {
    server = await startServer();
    api = await apiLogin(server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    projectId = (await api.call<{ id: string }>('POST', '/api/projects', { name: 'Exchange e2e', labelSchema: SCHEMA })).id;
    taskId = (await api.call<{ id: string }>('POST', `/api/projects/${projectId}/tasks`, { name: 'Radiographs' })).id;
    tmp = mkdtempSync(path.join(tmpdir(), 'caliper-e2e-exchange-'));
    const png = path.join(tmp, 'scan-001.png');
    writeFileSync(png, syntheticScan(1, WIDTH, HEIGHT));
    await uploadAndIngest(api, taskId, [png]);
    const assets = (await api.call<{ items: { id: string; name: string }[] }>('GET', `/api/tasks/${taskId}/assets`)).items;
    expect(assets).toHaveLength(1);
    assetId = assets[0]!.id;
    jobId = (await api.call<{ items: { id: string }[] }>('POST', `/api/tasks/${taskId}/jobs`, { assetsPerJob: 10, assigneeId: api.userId })).items[0]!.id;
    const now = new Date().toISOString();
    const objects = BOXES.map((b, i) => ({ id: `box-${i + 1}`, kind: 'box', label: 'Lesion', attributes: {}, source: 'manual', createdBy: api.userId, createdAt: now, updatedAt: now, ...b }));
    await api.call('PUT', `/api/jobs/${jobId}/assets/${assetId}/annotations`, { baseRevision: 0, document: { objects } });
    browser = await launchBrowser();
    ctx = await newContext(browser, server.url);
    page = await ctx.newPage();
    watchPage(page, problems);
    await login(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  }, 120_000);

  afterAll(async () => {
    if (problems.length) console.log('browser problems:\n' + problems.join('\n'));
    await browser?.close();
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('exports COCO from the project page and downloads a zip with both boxes', async () => {
    await page.goto(`/projects/${projectId}`);
    await page.getByTestId('recent-exports').getByText('No exports yet.').waitFor();
    await page.getByTestId('export-open').click();
    const dialog = page.getByTestId('export-dialog');
    await dialog.waitFor();
    // Focus starts on the format select and Tab stays inside the dialog.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('export-format');
    for (let i = 0; i < 25; i++) await page.keyboard.press('Tab');
    expect(await page.evaluate(() => !!document.activeElement?.closest('[data-testid="export-dialog"]'))).toBe(true);
    // Options follow the format: SEG type only for DICOM SEG, "all slices" only for 2D formats.
    await dialog.getByTestId('export-format').selectOption('dicom-seg');
    await dialog.getByTestId('export-seg-type').waitFor();
    expect(await dialog.getByTestId('export-all-slices').isDisabled()).toBe(true);
    await dialog.getByTestId('export-format').selectOption('coco');
    expect(await dialog.getByTestId('export-seg-type').count()).toBe(0);
    expect(await dialog.getByTestId('export-format-description').textContent()).toMatch(/COCO/);
    await dialog.getByTestId('export-scope').selectOption({ label: 'Task: Radiographs' });
    // No stage at all is refused before anything is sent.
    for (const s of ['annotation', 'review', 'acceptance']) await dialog.getByTestId(`export-stage-${s}`).uncheck();
    expect(await dialog.getByTestId('export-start').isDisabled()).toBe(true);
    await dialog.getByTestId('export-problem').waitFor();
    for (const s of ['annotation', 'review', 'acceptance']) await dialog.getByTestId(`export-stage-${s}`).check();
    await screenshot(page, 'exchange-01');

    await dialog.getByTestId('export-start').click();
    await dialog.getByTestId('export-run').waitFor();
    const download = dialog.getByTestId('export-download');
    await download.waitFor({ timeout: 60_000 });
    expect(await dialog.getByTestId('export-run').getAttribute('data-state')).toBe('done');
    expect(await dialog.getByTestId('export-stat-objects').textContent()).toBe('2');
    expect(await dialog.getByTestId('export-stat-assets').textContent()).toBe('1');
    const exportHref = await download.getAttribute('href');
    expect(exportHref).toMatch(/^\/api\/exports\/[^/]+\/download$/);
    await page.waitForTimeout(300); // let the progress bar's width transition end
    await screenshot(page, 'exchange-02');

    const [dl] = await Promise.all([page.waitForEvent('download'), download.click()]);
    zipName = dl.suggestedFilename();
    expect(zipName).toMatch(/\.zip$/);
    zip = readFileSync((await dl.path())!);
    const files = unzipSync(new Uint8Array(zip));
    const coco = JSON.parse(strFromU8(files['annotations/instances_default.json']!)) as {
      images: { id: number; file_name: string; width: number; height: number }[];
      categories: { id: number; name: string }[];
      annotations: { image_id: number; category_id: number; bbox: number[] }[];
    };
    expect(coco.images).toHaveLength(1);
    expect([coco.images[0]!.width, coco.images[0]!.height]).toEqual([WIDTH, HEIGHT]);
    expect(coco.annotations).toHaveLength(2);
    const lesion = coco.categories.find((c) => c.name === 'Lesion')!;
    const bboxes = coco.annotations.map((a) => {
      expect(a.category_id).toBe(lesion.id);
      expect(a.image_id).toBe(coco.images[0]!.id);
      return a.bbox;
    });
    expect(bboxes.sort((a, b) => a[0]! - b[0]!)).toEqual(BOXES.map((b) => [b.x, b.y, b.width, b.height]));

    // Esc closes the dialog; the project page lists the export with its download link.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    const row = page.getByTestId('export-row').first();
    await row.getByTestId('export-row-download').waitFor();
    expect(await row.getAttribute('data-state')).toBe('done');
    expect(await row.getByTestId('export-row-download').getAttribute('href')).toBe(exportHref);
    await screenshot(page, 'exchange-05');
  });

  it('imports the zip on the task page: dry run first, then for real', async () => {
    await page.goto(`/tasks/${taskId}`);
    await page.getByTestId('import-open').click();
    const dialog = page.getByTestId('import-dialog');
    await dialog.waitFor();
    expect(await dialog.getByTestId('import-submit').count()).toBe(0);
    await dialog.getByTestId('import-format').selectOption('coco');
    await dialog.getByTestId('import-file').setInputFiles({ name: zipName, mimeType: 'application/zip', buffer: zip });
    await dialog.getByTestId('import-check').click();
    const report = dialog.getByTestId('import-report');
    await report.waitFor({ timeout: 30_000 });
    expect(await report.getAttribute('data-dry-run')).toBe('true');
    const rows = report.getByTestId('import-asset-row');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-asset-id')).toBe(assetId);
    expect(await rows.first().locator('td').nth(1).textContent()).toBe('2');
    expect(await dialog.getByTestId('import-dry-summary').textContent()).toContain('2 objects');
    // Nothing was written by the dry run.
    expect((await documentOf()).document.objects).toHaveLength(2);
    await screenshot(page, 'exchange-03');

    await dialog.getByTestId('import-submit').click();
    await dialog.getByTestId('import-done').waitFor({ timeout: 30_000 });
    expect(await dialog.getByTestId('import-done').textContent()).toBe('Imported 2 objects and 0 label maps into 1 asset.');
    expect(await dialog.getByTestId('import-report').getAttribute('data-dry-run')).toBe('false');
    await screenshot(page, 'exchange-04');

    const doc = await documentOf();
    const boxes = doc.document.objects.filter((o) => o.kind === 'box');
    expect(boxes).toHaveLength(4);
    const imported = boxes.filter((o) => o.source === 'import:coco');
    expect(imported).toHaveLength(2);
    expect(imported.every((o) => o.label === 'Lesion')).toBe(true);
    const geometry = (list: BoxObject[]) => list.map((o) => [o.x, o.y, o.width, o.height]).sort((a, b) => a[0]! - b[0]!);
    expect(geometry(imported)).toEqual(BOXES.map((b) => [b.x, b.y, b.width, b.height]));
    expect(boxes.filter((o) => o.source === 'manual')).toHaveLength(2);
    await dialog.getByTestId('import-close').click();
    await dialog.waitFor({ state: 'detached' });
  });

  it('shows the server\'s explanation when the file is not COCO', async () => {
    const notCoco = Buffer.from(JSON.stringify({ hello: 'world', items: [1, 2, 3] }));
    // The detail the server gives for this file, asked directly.
    const form = new FormData();
    form.append('file', new Blob([notCoco]), 'not-coco.json');
    const res = await api.raw('POST', `/api/tasks/${taskId}/imports?format=coco&dryRun=true`, form);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const detail = ((await res.json()) as { detail: string }).detail;
    expect(detail.length).toBeGreaterThan(0);

    await page.getByTestId('import-open').click();
    const dialog = page.getByTestId('import-dialog');
    await dialog.waitFor();
    await dialog.getByTestId('import-file').setInputFiles({ name: 'not-coco.json', mimeType: 'application/json', buffer: notCoco });
    await dialog.getByTestId('import-check').click();
    const error = dialog.getByTestId('import-error');
    await error.waitFor();
    expect((await error.textContent())?.trim()).toBe(detail);
    expect(await dialog.getByTestId('import-report').count()).toBe(0);
    expect(await dialog.getByTestId('import-submit').count()).toBe(0);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect((await documentOf()).document.objects).toHaveLength(4);
  });

  it('refuses an unknown label, then maps it to one of ours', async () => {
    const coco = {
      images: [{ id: 7, file_name: 'scan-001.png', width: WIDTH, height: HEIGHT }],
      categories: [{ id: 3, name: 'Tumour' }],
      annotations: [{ id: 1, image_id: 7, category_id: 3, bbox: [5, 6, 7, 8], area: 56, iscrowd: 0, segmentation: [] }],
    };
    const file = { name: 'tumour.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(coco)) };
    await page.getByTestId('import-open').click();
    const dialog = page.getByTestId('import-dialog');
    await dialog.waitFor();
    await dialog.getByTestId('import-file').setInputFiles(file);
    await dialog.getByTestId('import-check').click();
    await dialog.getByTestId('import-report').waitFor();
    expect(await dialog.getByTestId('import-labels').textContent()).toContain('Tumour');
    await dialog.getByTestId('import-skipped').waitFor();
    await screenshot(page, 'exchange-07');
    expect(await dialog.getByTestId('import-submit').isDisabled()).toBe(true);

    // Changing an option drops the report: "Import" only ever sends what was checked.
    await dialog.getByTestId('import-labels-map').check();
    expect(await dialog.getByTestId('import-report').count()).toBe(0);
    expect(await dialog.getByTestId('import-submit').count()).toBe(0);
    await dialog.getByTestId('import-map-from').fill('Tumour');
    await dialog.getByTestId('import-map-to').selectOption('Lesion');
    await dialog.getByTestId('import-check').click();
    await expect.poll(() => dialog.getByTestId('import-dry-summary').textContent()).toContain('1 object');
    expect(await dialog.getByTestId('import-labels').textContent()).toContain('Tumour → Lesion');
    await screenshot(page, 'exchange-06');
    await dialog.getByTestId('import-submit').click();
    await dialog.getByTestId('import-done').waitFor();
    const boxes = (await documentOf()).document.objects.filter((o) => o.kind === 'box');
    expect(boxes).toHaveLength(5);
    const mapped = boxes.filter((o) => o.x === 5 && o.y === 6);
    expect(mapped.map((o) => [o.label, o.source, o.width, o.height])).toEqual([['Lesion', 'import:coco', 7, 8]]);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  it('lists what a format could not hold: NIfTI of a plain PNG', async () => {
    await page.goto(`/projects/${projectId}`);
    await page.getByTestId('export-open').click();
    const dialog = page.getByTestId('export-dialog');
    await dialog.getByTestId('export-format').selectOption('nifti');
    expect(await dialog.getByTestId('export-all-slices').isDisabled()).toBe(true);
    await dialog.getByTestId('export-start').click();
    await dialog.getByTestId('export-run').waitFor();
    await expect.poll(() => dialog.getByTestId('export-run').getAttribute('data-state'), { timeout: 60_000 }).toMatch(/done|failed/);
    const items = (await api.call<{ items: { id: string; state: string; stats: { skipped: { asset: string; reason: string }[]; dropped: Record<string, number> } | null; error: string | null }[] }>('GET', `/api/projects/${projectId}/exports`)).items;
    const view = items[0]!;
    if (view.state === 'failed') {
      expect(await dialog.getByTestId('export-failed').textContent()).toBe(view.error);
      return;
    }
    expect(view.stats!.skipped.length).toBeGreaterThan(0);
    const skipped = dialog.getByTestId('export-skipped');
    await skipped.waitFor();
    const shown = await skipped.locator('li').allTextContents();
    expect(shown).toEqual(view.stats!.skipped.map((x) => `${x.asset} ${x.reason}`));
    expect(shown[0]).toContain('scan-001.png');
    expect(await dialog.getByTestId('export-nothing-dropped').count()).toBe(0);
    const dropped = await dialog.getByTestId('export-dropped-item').allTextContents();
    expect(dropped.sort()).toEqual(Object.entries(view.stats!.dropped).filter(([, n]) => n > 0).map(([k, n]) => `${k}: ${n}`).sort());
    await page.waitForTimeout(300); // let the progress bar's width transition end
    await screenshot(page, 'exchange-08');
    await page.keyboard.press('Escape');
  });
});
