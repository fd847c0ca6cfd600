import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD, launchBrowser, login, newContext, screenshot, startServer, watchPage, type RunningServer } from './harness.js';

// Imaging ingest through the web app: a folder of real CT DICOM and a zip with a NIfTI volume
// are uploaded, de-identified and built on the server; the run report, the study browser, the
// slice viewer, the burned-in review queue and the de-identification settings are checked.

const SHARED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data');
const CT_DIR = path.join(SHARED, 'dicom/series/pydicom_CT5N_16x16');
const NIFTI = path.join(SHARED, 'nifti/nibabel/anatomical.nii');
const BURNED_IN = path.join(SHARED, 'dicom/pydicom/examples_ybr_color.dcm');

let server: RunningServer;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
let projectUrl = '';
let taskUrl = '';
const problems: string[] = [];

/** Runs `upload`, then waits until a new run is shown open and has finished. */
async function uploadAndWait(p: Page, upload: () => Promise<void>): Promise<void> {
  const run = p.locator('[data-testid="ingest-run"][data-open="true"]');
  const before = (await run.count()) ? await run.getAttribute('data-run-id') : null;
  await upload();
  await expect.poll(async () => ((await run.count()) ? await run.getAttribute('data-run-id') : null), { timeout: 30_000 }).not.toBe(before);
  await expect.poll(() => run.getAttribute('data-state'), { timeout: 60_000, interval: 300 }).toMatch(/done|failed/);
  expect(await run.getAttribute('data-state')).toBe('done');
}

async function summary(p: Page, key: string): Promise<number> {
  return Number(await p.locator('[data-testid="ingest-run"][data-open="true"]').getByTestId(`summary-${key}`).getAttribute('data-value'));
}

/** Sum of the canvas pixels, to see that a frame change draws something else. */
async function canvasDigest(p: Page): Promise<number> {
  return p.getByTestId('slice-canvas').first().evaluate((c) => {
    const canvas = c as HTMLCanvasElement;
    const d = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 4) h = (h * 31 + d[i]! * (i + 1)) % 1_000_000_007;
    return h;
  });
}

describe('imaging ingest', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    ctx = await newContext(browser, server.url);
    page = await ctx.newPage();
    watchPage(page, problems);
    await login(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  });

  afterAll(async () => {
    if (problems.length) console.log('browser problems:\n' + problems.join('\n'));
    await browser?.close();
    await server?.stop();
  });

  it('creates a project and a task', async () => {
    await page.goto('/projects/new');
    await page.getByTestId('project-name').fill('CT ingest');
    await page.getByTestId('label-row').first().getByTestId('label-name').fill('Lesion');
    await page.getByTestId('project-create').click();
    await page.getByTestId('project-title').waitFor();
    projectUrl = new URL(page.url()).pathname;
    await page.getByTestId('tab-tasks').click();
    await page.getByTestId('task-name').fill('CT batch');
    await page.getByTestId('task-create').click();
    await page.waitForURL(/\/tasks\//);
    taskUrl = new URL(page.url()).pathname;
    await page.getByTestId('task-title').waitFor();
  });

  it('uploads a DICOM folder and reads the run report', async () => {
    await uploadAndWait(page, () => page.getByTestId('folder-input').setInputFiles(CT_DIR));
    expect(await summary(page, 'instancesStored')).toBe(5);
    expect(await summary(page, 'assetsCreated')).toBe(1);
    expect(await summary(page, 'rejected')).toBe(0);
    expect(await summary(page, 'duplicates')).toBe(0);
    const rows = page.getByTestId('upload-item');
    expect(await rows.count()).toBe(5);
    const names = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-name') ?? ''));
    for (const n of names) expect(n).toMatch(/pydicom_CT5N_16x16\/\d+\.dcm$/);
    const statuses = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-file-status')));
    expect(new Set(statuses)).toEqual(new Set(['stored']));
    expect((await page.getByTestId('run-deid').textContent()) ?? '').toMatch(/\d+ removed/);
    // Problems-only filter: nothing is wrong with this folder.
    await page.getByTestId('problems-only').check();
    await expect.poll(() => page.getByTestId('upload-item').count()).toBe(0);
    await page.getByTestId('problems-only').uncheck();
    await screenshot(page, 'ingest-01-run-report');
    // De-identified at the door: the original name and ID never reach the page.
    const html = await page.content();
    expect(html).not.toContain('Doe^Peter');
    expect(html).not.toContain('98890234');
  });

  it('uploads a zip with a NIfTI volume; the first run is listed below', async () => {
    const zip = zipSync({ 'volumes/anatomical.nii': new Uint8Array(readFileSync(NIFTI)) });
    await uploadAndWait(page, () => page.getByTestId('file-input').setInputFiles([{ name: 'nifti.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) }]));
    expect(await summary(page, 'assetsCreated')).toBe(1);
    expect(await summary(page, 'rejected')).toBe(0);
    const rows = page.getByTestId('upload-item');
    const byStatus = await rows.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-name')}:${e.getAttribute('data-file-status')}`));
    expect(byStatus).toContain('nifti.zip:expanded');
    expect(byStatus.some((s) => /anatomical\.nii:stored$/.test(s))).toBe(true);
    expect(await page.getByTestId('earlier-run').count()).toBe(1);
    // The earlier run's report opens on demand.
    await page.getByTestId('earlier-run').first().locator('button').first().click();
    await page.getByTestId('earlier-run').first().getByTestId('report-table').waitFor();
    expect(await page.getByTestId('earlier-run').first().getByTestId('upload-item').count()).toBe(5);
    await page.getByTestId('earlier-run').first().locator('button').first().click();
  });

  it('shows the study and its series with a loaded thumbnail', async () => {
    const card = page.locator('[data-testid="series-card"][data-modality="CT"]');
    await card.waitFor();
    expect(await page.getByTestId('study').count()).toBe(1);
    expect((await card.getByTestId('series-dims').textContent())?.trim()).toBe('16×16×5');
    expect(await card.getByTestId('series-spacing').textContent()).toMatch(/0\.488 × 0\.488 × 2\.5\d* mm/);
    expect(await card.getByTestId('series-instances').textContent()).toContain('5 instances');
    const thumb = card.getByTestId('series-thumbnail');
    await expect.poll(() => thumb.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await page.getByTestId('study-browser').scrollIntoViewIfNeeded();
    await screenshot(page, 'ingest-02-study-browser');
  });

  it('shows the CT volume in the slice viewer and pages through it with the wheel', async () => {
    await page.locator('[data-testid="series-card"][data-modality="CT"]').getByTestId('series-open').click();
    const viewer = page.getByTestId('asset-preview').getByTestId('slice-viewer');
    await viewer.waitFor();
    const counter = viewer.getByTestId('frame-counter');
    await expect.poll(() => counter.textContent()).toBe('3 / 5');
    await expect.poll(() => viewer.getByRole('status').count()).toBe(0); // frame loaded
    const before = await canvasDigest(page);
    const canvas = viewer.getByTestId('slice-canvas');
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    // Middle slice (z = 3.7625 mm, 2693.dcm): pydicom gives 44 HU at row 8, column 8; the LPS
    // position is ImagePositionPatient + 8 × PixelSpacing (0.488281).
    await expect.poll(() => viewer.getByTestId('pixel-readout').textContent()).toContain('(8, 8) = 44 HU');
    expect(await viewer.getByTestId('pixel-readout').textContent()).toContain('LPS -68.3, -139.1, 3.8 mm');
    await page.mouse.wheel(0, 120);
    await expect.poll(() => counter.textContent()).toBe('4 / 5');
    // The neighbouring slices hold 8 HU (z 1.26) and -23 HU (z 6.26) at that voxel (pydicom).
    await expect.poll(() => viewer.getByTestId('pixel-readout').textContent()).toMatch(/\(8, 8\) = (8 HU.*LPS -68\.3, -139\.1, 1\.3 mm|-23 HU.*LPS -68\.3, -139\.1, 6\.3 mm)/);
    await expect.poll(() => canvasDigest(page)).not.toBe(before);
    // Right-drag changes window and level (sideways: width, down: center).
    const wl = viewer.getByTestId('window-values');
    expect(await wl.textContent()).toBe('C 40 W 400');
    const beforeWl = await canvasDigest(page);
    await page.mouse.down({ button: 'right' });
    await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2 + 40, { steps: 4 });
    await page.mouse.up({ button: 'right' });
    await expect.poll(() => wl.textContent()).not.toBe('C 40 W 400');
    expect(await viewer.getByTestId('window-preset').inputValue()).toBe('custom');
    await expect.poll(() => canvasDigest(page)).not.toBe(beforeWl);
    await viewer.getByTestId('window-preset').selectOption('0');
    await expect.poll(() => wl.textContent()).toBe('C 40 W 400');
    await viewer.getByTestId('slice-stage').press('ArrowUp');
    await expect.poll(() => counter.textContent()).toBe('3 / 5');
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await screenshot(page, 'ingest-03-slice-viewer');
    await page.getByTestId('asset-preview').getByRole('button', { name: /Close/ }).click();
  });

  it('holds a burned-in ultrasound for review and releases it', async () => {
    await uploadAndWait(page, () => page.getByTestId('file-input').setInputFiles(BURNED_IN));
    expect(await summary(page, 'flaggedBurnedIn')).toBe(1);
    const row = page.getByTestId('upload-item').first();
    expect(await row.locator('[data-testid="file-flag"][data-flag="burned-in"]').count()).toBe(1);
    await page.locator('[data-testid="series-flag"][data-flag="burned-in"]').waitFor();
    await page.goto(projectUrl);
    await page.getByTestId('review-link').click();
    await page.getByTestId('review-title').waitFor();
    await expect.poll(() => page.getByTestId('review-item').count()).toBe(1);
    const viewer = page.getByTestId('review-current').getByTestId('slice-viewer');
    await viewer.waitFor();
    await expect.poll(() => viewer.getByTestId('frame-counter').textContent()).toMatch(/^\d+ \/ 30$/);
    await expect.poll(() => viewer.getByRole('status').count()).toBe(0);
    await screenshot(page, 'ingest-04-review-queue');
    await page.getByTestId('review-release').click();
    await page.getByTestId('review-empty').waitFor();
    await page.reload();
    await page.getByTestId('review-empty').waitFor();
  });

  it('saves de-identification settings with inline server errors', async () => {
    await page.goto(`${projectUrl}/deid`);
    await page.getByTestId('deid-settings').waitFor();
    await page.getByTestId('deid-retainPatientCharacteristics').check();
    await page.getByTestId('rule-add').click();
    const rule = page.getByTestId('redaction-rule').first();
    await rule.getByTestId('rule-manufacturer').fill('ACME Ultrasound');
    await rule.getByTestId('rule-rows').fill('480');
    await rule.getByTestId('rule-columns').fill('640');
    await rule.getByTestId('rect-width').first().fill('0'); // refused by the server (min 1)
    await page.getByTestId('deid-save').click();
    await page.getByTestId('deid-error').waitFor();
    expect(await rule.getByTestId('rule-error').textContent()).toBeTruthy(); // shown next to the rule
    await page.getByTestId('deid-error').scrollIntoViewIfNeeded();
    await screenshot(page, 'ingest-05b-deid-error');
    await rule.getByTestId('rect-width').first().fill('640');
    await page.getByTestId('deid-save').click();
    await page.getByTestId('deid-saved').waitFor();
    await page.reload();
    await page.getByTestId('deid-settings').waitFor();
    expect(await page.getByTestId('deid-retainPatientCharacteristics').isChecked()).toBe(true);
    expect(await page.getByTestId('deid-retainUids').isChecked()).toBe(false);
    expect(await page.getByTestId('rule-manufacturer').inputValue()).toBe('ACME Ultrasound');
    expect(await page.getByTestId('rect-width').first().inputValue()).toBe('640');
    await screenshot(page, 'ingest-05-deid-settings');
  });

  it('shows imaging assets in the annotation workspace with the slice viewer', async () => {
    await page.goto(taskUrl);
    await page.getByTestId('split-submit').click();
    await page.getByTestId('split-done').waitFor();
    await page.getByTestId('job-open').first().click();
    await page.waitForURL(/\/jobs\/[^/]+\/assets\//);
    const viewer = page.getByTestId('imaging-viewer');
    await viewer.waitFor();
    await expect.poll(() => viewer.getAttribute('data-complete'), { timeout: 30_000 }).toBe('yes');
    await expect.poll(() => page.getByTestId('viewport-axial').getAttribute('data-rendered')).not.toBe('0');
    await screenshot(page, 'ingest-06-workspace-viewer');
    expect(problems.filter((p) => p.startsWith('pageerror'))).toEqual([]);
  });
});
