import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD, REPO_ROOT, launchBrowser, login, newContext, screenshot, startServer, watchPage, type RunningServer } from './harness.js';
import { apiLogin, filesIn, uploadAndIngest, type ApiClient } from './api.js';
import { syntheticScan } from './png.js';

// Review rounds in headless Chromium on a small synthetic CT (8 slices of 512², generated here, no PHI):
// the reviewer opens the job from the review queue, pins an issue by clicking on slice k and
// rejects; the annotator sees the banner and the pin at the clicked place on slice k, replies,
// resolves and submits again; the reviewer accepts.

const SLICES = 8;
const K = 2;
const PASSWORD = 'review-e2e-pass-1';
const SCHEMA = {
  version: 1,
  labels: [
    { name: 'Lesion', color: '#e5484d', shortcut: '1', kinds: ['box', 'polygon'] },
    { name: 'Normal', color: '#a78bfa', shortcut: '2', kinds: ['tag'] },
  ],
};

let server: RunningServer;
let browser: Browser;
let reviewerCtx: BrowserContext;
let annotatorCtx: BrowserContext;
let reviewerPage: Page;
let annotatorPage: Page;
let admin: ApiClient;
let ctDir = '';
let jobId = '';
let assetId = '';
let taskId = '';
/** Where the reviewer clicked: screen point in the axial viewport and the image (plane) point under it. */
let clicked = { sx: 0, sy: 0, px: 0, py: 0 };
const problems: string[] = [];

async function matrixOf(p: Page): Promise<number[]> {
  const m = await p.getByTestId('viewport-axial').getAttribute('data-matrix');
  return m!.split(',').map(Number);
}

async function waitForVolume(p: Page): Promise<void> {
  await p.getByTestId('imaging-viewer').waitFor();
  await expect.poll(() => p.getByTestId('imaging-viewer').getAttribute('data-complete'), { timeout: 60_000 }).toBe('yes');
}

/** The centre of the pin of `issueId` on the axial viewport, relative to the viewport's corner. */
async function pinCentre(p: Page, issueId: string): Promise<[number, number]> {
  const vp = await p.getByTestId('viewport-axial').boundingBox();
  const pin = await p.locator(`[data-testid="viewport-axial"] [data-testid="issue-pin"][data-issue-id="${issueId}"]`).boundingBox();
  return [pin!.x + pin!.width / 2 - vp!.x, pin!.y + pin!.height / 2 - vp!.y];
}

describe('review rounds with pinned issues', () => {
  beforeAll(async () => {
    server = await startServer();
    admin = await apiLogin(server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    const annotatorId = (await admin.call<{ id: string }>('POST', '/api/users', { email: 'ann@example.org', name: 'Ann Otator', password: PASSWORD })).id;
    const reviewerId = (await admin.call<{ id: string }>('POST', '/api/users', { email: 'rev@example.org', name: 'Rev Iewer', password: PASSWORD })).id;
    const project = await admin.call<{ id: string }>('POST', '/api/projects', { name: 'Review e2e', labelSchema: SCHEMA });
    await admin.call('PUT', `/api/projects/${project.id}/members/${annotatorId}`, { role: 'annotator' });
    await admin.call('PUT', `/api/projects/${project.id}/members/${reviewerId}`, { role: 'reviewer' });
    const task = await admin.call<{ id: string }>('POST', `/api/projects/${project.id}/tasks`, { name: 'Small CT' });
    taskId = task.id;
    ctDir = mkdtempSync(path.join(tmpdir(), 'caliper-e2e-review-'));
    const { writeSyntheticCtSeries } = (await import(path.join(REPO_ROOT, 'bench/synthetic-ct.mjs'))) as {
      writeSyntheticCtSeries: (dir: string, o: { slices: number }) => Promise<unknown>;
    };
    await writeSyntheticCtSeries(ctDir, { slices: SLICES });
    await uploadAndIngest(admin, task.id, filesIn(ctDir));
    const jobs = await admin.call<{ items: { id: string }[] }>('POST', `/api/tasks/${task.id}/jobs`, { assetsPerJob: 10, assigneeId: annotatorId });
    jobId = jobs.items[0]!.id;
    assetId = (await admin.call<{ assets: { id: string }[] }>('GET', `/api/jobs/${jobId}`)).assets[0]!.id;

    // The annotator labels the CT and submits it (through the API: the UI under test is the review).
    const ann = await apiLogin(server.url, 'ann@example.org', PASSWORD);
    const now = new Date().toISOString();
    const tag = { id: 'tag-normal', kind: 'tag', scope: { type: 'asset' }, label: 'Normal', attributes: {}, source: 'manual', createdBy: ann.userId, createdAt: now, updatedAt: now };
    await ann.call('PUT', `/api/jobs/${jobId}/assets/${assetId}/annotations`, { baseRevision: 0, document: { objects: [tag] } });
    await ann.call('PATCH', `/api/jobs/${jobId}`, { state: 'completed' });

    browser = await launchBrowser();
    reviewerCtx = await newContext(browser, server.url);
    annotatorCtx = await newContext(browser, server.url);
    reviewerPage = await reviewerCtx.newPage();
    annotatorPage = await annotatorCtx.newPage();
    watchPage(reviewerPage, problems);
    watchPage(annotatorPage, problems);
    await login(reviewerPage, 'rev@example.org', PASSWORD);
    await login(annotatorPage, 'ann@example.org', PASSWORD);
  }, 180_000);

  afterAll(async () => {
    if (problems.length) console.log('browser problems:\n' + problems.join('\n'));
    await browser?.close();
    await server?.stop();
    if (ctDir) rmSync(ctDir, { recursive: true, force: true });
  });

  it('the reviewer opens the completed job from the review queue', async () => {
    const p = reviewerPage;
    await p.goto('/queue');
    const row = p.locator(`[data-testid="review-row"][data-job-id="${jobId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('Ann Otator');
    await screenshot(p, 'review-01-queue');
    await row.getByTestId('review-open').click();
    await p.waitForURL(new RegExp(`/jobs/${jobId}/assets/${assetId}$`));
    await waitForVolume(p);
    await expect.poll(() => p.getByTestId('review-bar').getAttribute('data-stage')).toBe('review');
    expect((await admin.call<{ stage: string }>('GET', `/api/jobs/${jobId}`)).stage).toBe('review');
  });

  it('adds an issue by clicking on slice k: the pin sits where the click was', async () => {
    const p = reviewerPage;
    const vp = p.getByTestId('viewport-axial');
    await p.keyboard.press('Home');
    for (let i = 0; i < K; i++) await p.keyboard.press('ArrowDown');
    await expect.poll(() => vp.getAttribute('data-slice')).toBe(String(K));
    // "A" is the Add-issue key; the button says so.
    await p.keyboard.press('a');
    await expect.poll(() => p.getByTestId('add-issue').getAttribute('aria-pressed')).toBe('true');
    const t = await matrixOf(p);
    // A point in the right lung of the phantom, off the image centre: plane pixel (180.5, 300.25).
    const px = 180.5;
    const py = 300.25;
    const sx = t[0]! * px + t[2]! * py + t[4]!;
    const sy = t[1]! * px + t[3]! * py + t[5]!;
    clicked = { sx, sy, px, py };
    await vp.click({ position: { x: sx, y: sy } });
    await p.getByTestId('new-issue-dialog').waitFor();
    await p.getByTestId('new-issue-text').fill('Lesion on this slice is missing a box.');
    await p.getByTestId('new-issue-save').click();
    await p.getByTestId('issue-thread').first().waitFor();
    const issues = await admin.call<{ items: { id: string; location: { slice: number; point: number[] } }[] }>('GET', `/api/jobs/${jobId}/issues`);
    expect(issues.items).toHaveLength(1);
    const issue = issues.items[0]!;
    expect(issue.location.slice).toBe(K);
    expect(issue.location.point[2]).toBeCloseTo(K, 5);
    // voxel (i, j) of an axial plane pixel: the plane's x/y are the columns/rows (centres at +0.5)
    expect(Math.abs(issue.location.point[0]! - (px - 0.5))).toBeLessThan(0.02);
    expect(Math.abs(issue.location.point[1]! - (py - 0.5))).toBeLessThan(0.02);
    const [cx, cy] = await pinCentre(p, issue.id);
    expect(Math.abs(cx - sx)).toBeLessThan(2);
    expect(Math.abs(cy - sy)).toBeLessThan(2);
    // Not on other slices.
    await p.keyboard.press('ArrowDown');
    await expect.poll(() => vp.getAttribute('data-slice')).toBe(String(K + 1));
    expect(await p.locator('[data-testid="viewport-axial"] [data-testid="issue-pin"]').count()).toBe(0);
    await p.keyboard.press('ArrowUp');
    await p.locator('[data-testid="viewport-axial"] [data-testid="issue-pin"]').waitFor();
    await screenshot(p, 'review-02-pinned-issue');
  });

  it('the reviewer rejects the job', async () => {
    const p = reviewerPage;
    await p.getByTestId('review-reject').click();
    await p.getByTestId('reject-dialog').waitFor();
    await p.getByTestId('reject-confirm').click();
    await p.waitForURL(/\/queue$/);
    const job = await admin.call<{ stage: string; state: string }>('GET', `/api/jobs/${jobId}`);
    expect(job).toMatchObject({ stage: 'annotation', state: 'rejected' });
  });

  it('the annotator sees the banner and the pin on slice k at the clicked place, replies, resolves and submits', async () => {
    const p = annotatorPage;
    await p.goto(`/jobs/${jobId}`);
    await p.waitForURL(new RegExp(`/jobs/${jobId}/assets/${assetId}$`));
    await waitForVolume(p);
    const banner = p.getByTestId('returned-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Returned by the reviewer: 1 open issue');
    await p.getByTestId('returned-issue').click();
    const vp = p.getByTestId('viewport-axial');
    await expect.poll(() => vp.getAttribute('data-slice')).toBe(String(K));
    const issueId = (await p.getByTestId('returned-issue').getAttribute('data-issue-id'))!;
    // The same image point as the reviewer's click, through this viewport's own camera.
    const t = await matrixOf(p);
    const ex = t[0]! * clicked.px + t[2]! * clicked.py + t[4]!;
    const ey = t[1]! * clicked.px + t[3]! * clicked.py + t[5]!;
    const [cx, cy] = await pinCentre(p, issueId);
    expect(Math.abs(cx - ex)).toBeLessThan(2);
    expect(Math.abs(cy - ey)).toBeLessThan(2);
    await screenshot(p, 'review-03-annotator-banner');

    const thread = p.locator(`[data-testid="issue-thread"][data-issue-id="${issueId}"]`);
    await thread.getByTestId('issue-reply').fill('Added the box on this slice.');
    await thread.getByTestId('issue-reply-send').click();
    await expect.poll(() => thread.getByTestId('issue-comment').count()).toBe(2);
    await thread.getByTestId('issue-resolve').click();
    await expect.poll(() => thread.getAttribute('data-state')).toBe('resolved');
    await p.getByTestId('submit-job').click();
    await p.getByTestId('submit-confirm').click();
    await p.waitForURL(/\/queue$/);
    expect(await admin.call<{ state: string; stage: string }>('GET', `/api/jobs/${jobId}`)).toMatchObject({ stage: 'annotation', state: 'completed' });
  });

  it('the reviewer accepts; the job shows as accepted', async () => {
    const p = reviewerPage;
    await p.goto('/queue');
    const row = p.locator(`[data-testid="review-row"][data-job-id="${jobId}"]`);
    await row.waitFor();
    await row.getByTestId('review-open').click();
    await p.waitForURL(new RegExp(`/jobs/${jobId}/assets/`));
    await expect.poll(() => p.getByTestId('review-bar').getAttribute('data-stage')).toBe('review');
    expect(await p.getByTestId('review-fix-accept').isDisabled()).toBe(true);
    await p.getByTestId('review-accept').click();
    await p.waitForURL(/\/queue$/);
    expect(await admin.call<{ state: string; stage: string }>('GET', `/api/jobs/${jobId}`)).toMatchObject({ stage: 'acceptance', state: 'completed' });
    await annotatorPage.goto(`/jobs/${jobId}/assets/${assetId}`);
    await waitForVolume(annotatorPage);
    const accepted = annotatorPage.getByTestId('accepted-banner');
    await accepted.waitFor();
    expect(await accepted.textContent()).toContain('Accepted');
    // The resolved thread still jumps to its slice, where its (grey) pin stays.
    await annotatorPage.getByTestId('issue-thread').first().locator('.issue-summary').click();
    await expect.poll(() => annotatorPage.getByTestId('viewport-axial').getAttribute('data-slice')).toBe(String(K));
    await annotatorPage.locator('[data-testid="viewport-axial"] [data-testid="issue-pin"]').waitFor();
    await screenshot(annotatorPage, 'review-04-accepted');
  });

  it('on a 2D image an issue is pinned at the clicked image pixel [x, y]', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(syntheticScan(1))], { type: 'image/png' }), 'chest.png');
    const up = await admin.raw('POST', `/api/tasks/${taskId}/assets`, form);
    expect(up.status).toBe(201);
    const job2 = (await admin.call<{ items: { id: string }[] }>('POST', `/api/tasks/${taskId}/jobs`, { assetsPerJob: 10, assigneeId: (await admin.call<{ items: { id: string; email: string }[] }>('GET', '/api/users')).items.find((u) => u.email === 'ann@example.org')!.id })).items[0]!.id;
    const png = (await admin.call<{ assets: { id: string }[] }>('GET', `/api/jobs/${job2}`)).assets[0]!.id;
    const ann = await apiLogin(server.url, 'ann@example.org', PASSWORD);
    const now = new Date().toISOString();
    const tag = { id: 'tag-normal', kind: 'tag', scope: { type: 'asset' }, label: 'Normal', attributes: {}, source: 'manual', createdBy: ann.userId, createdAt: now, updatedAt: now };
    await ann.call('PUT', `/api/jobs/${job2}/assets/${png}/annotations`, { baseRevision: 0, document: { objects: [tag] } });
    await ann.call('PATCH', `/api/jobs/${job2}`, { state: 'completed' });

    const p = reviewerPage;
    await p.goto('/queue');
    await p.locator(`[data-testid="review-row"][data-job-id="${job2}"] [data-testid="review-open"]`).click();
    await p.waitForURL(new RegExp(`/jobs/${job2}/assets/${png}$`));
    const img = p.getByTestId('asset-image');
    await expect.poll(() => img.evaluate((el) => (el as HTMLImageElement).naturalWidth)).toBe(320);
    await p.getByTestId('add-issue').click();
    // object-fit: contain — where image pixel (200, 64) is on screen, computed here from the element box.
    const box = (await img.boundingBox())!;
    const scale = Math.min(box.width / 320, box.height / 256);
    const ox = box.x + (box.width - 320 * scale) / 2;
    const oy = box.y + (box.height - 256 * scale) / 2;
    const sx = ox + 200 * scale;
    const sy = oy + 64 * scale;
    await p.mouse.click(sx, sy);
    await p.getByTestId('new-issue-text').fill('Check this opacity.');
    await p.getByTestId('new-issue-save').click();
    const pin = p.getByTestId('issue-pin');
    await pin.waitFor();
    const issues = await admin.call<{ items: { id: string; location: { point: number[] } }[] }>('GET', `/api/jobs/${job2}/issues`);
    const [x, y] = issues.items[0]!.location.point;
    expect(Math.abs(x! - 200)).toBeLessThan(0.6);
    expect(Math.abs(y! - 64)).toBeLessThan(0.6);
    const pb = (await pin.boundingBox())!;
    expect(Math.abs(pb.x + pb.width / 2 - sx)).toBeLessThan(2);
    expect(Math.abs(pb.y + pb.height / 2 - sy)).toBeLessThan(2);
    await screenshot(p, 'review-05-2d-issue');
  });
});
