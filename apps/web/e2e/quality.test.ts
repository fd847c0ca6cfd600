import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD, launchBrowser, login, newContext, screenshot, startServer, watchPage, type RunningServer } from './harness.js';
import { apiLogin, uploadAndIngest, type ApiClient } from './api.js';
import { syntheticScan } from './png.js';

// The quality dashboard with real replicas: three annotators label the same four scans (task
// overlap 3), the consensus runs when the last of them submits, and the project's Quality tab
// shows each annotator's agreement with the numbers the API computed, the confusion matrix and
// the trend; the CSV link downloads every score.

const SCHEMA = {
  version: 1,
  labels: [
    { name: 'Normal', color: '#2e7d32', kinds: ['tag'] },
    { name: 'Abnormal', color: '#c62828', kinds: ['tag'] },
    { name: 'Nodule', color: '#1e88e5', kinds: ['box'] },
  ],
};

interface Report {
  annotators: { id: string; name: string; items: number; agreement: { tags: number | null; boxF1: number | null } }[];
  confusion: { labels: string[]; matrix: number[][] };
  trend: unknown[];
}

let server: RunningServer;
let browser: Browser;
let page: Page;
let admin: ApiClient;
let tmp = '';
let projectId = '';
let taskId = '';
const problems: string[] = [];

describe('quality dashboard', () => {
  beforeAll(async () => {
    server = await startServer();
    admin = await apiLogin(server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    projectId = (await admin.call<{ id: string }>('POST', '/api/projects', { name: 'Quality e2e', labelSchema: SCHEMA })).id;
    taskId = (await admin.call<{ id: string }>('POST', `/api/projects/${projectId}/tasks`, { name: 'Chest films' })).id;
    const names = ['Ada', 'Ben', 'Cleo'];
    const ids: string[] = [];
    for (const n of names) {
      const u = await admin.call<{ id: string }>('POST', '/api/users', { email: `${n.toLowerCase()}@example.org`, name: n, password: `${n}-password-123` });
      await admin.call('PUT', `/api/projects/${projectId}/members/${u.id}`, { role: 'annotator' });
      ids.push(u.id);
    }
    await admin.call('PUT', `/api/tasks/${taskId}/quality`, { overlap: 3 });
    tmp = mkdtempSync(path.join(tmpdir(), 'caliper-e2e-quality-'));
    const files = [1, 2, 3, 4].map((i) => {
      const f = path.join(tmp, `film-${i}.png`);
      writeFileSync(f, syntheticScan(i % 3, 160, 128));
      return f;
    });
    await uploadAndIngest(admin, taskId, files);
    await admin.call('POST', `/api/tasks/${taskId}/jobs`, { assetsPerJob: 4, assigneeIds: ids });
    // Ada and Ben agree everywhere; Cleo calls film-4 normal and misses one nodule.
    for (const [r, n] of names.entries()) {
      const api = await apiLogin(server.url, `${n.toLowerCase()}@example.org`, `${n}-password-123`);
      const jobs = (await api.call<{ items: { id: string }[] }>('GET', `/api/tasks/${taskId}/jobs`)).items;
      expect(jobs).toHaveLength(1);
      const job = jobs[0]!.id;
      const assets = (await api.call<{ assets: { id: string; name: string }[] }>('GET', `/api/jobs/${job}`)).assets;
      const now = new Date().toISOString();
      for (const a of assets) {
        const k = Number(/film-(\d)/.exec(a.name)![1]);
        const abnormal = k >= 3 && !(r === 2 && k === 4);
        const common = { attributes: {}, source: 'manual', createdBy: api.userId, createdAt: now, updatedAt: now };
        const objects: unknown[] = [{ id: 't', kind: 'tag', scope: { type: 'asset' }, label: abnormal ? 'Abnormal' : 'Normal', ...common }];
        if (abnormal) objects.push({ id: 'b1', kind: 'box', label: 'Nodule', x: 40 + r, y: 30, width: 30, height: 24, ...common });
        if (abnormal && !(r === 2)) objects.push({ id: 'b2', kind: 'box', label: 'Nodule', x: 100, y: 70, width: 20, height: 20, ...common });
        await api.call('PUT', `/api/jobs/${job}/assets/${a.id}/annotations`, { baseRevision: 0, document: { objects } });
      }
      await api.call('PATCH', `/api/jobs/${job}`, { state: 'completed' });
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const items = (await admin.call<{ items: { state: string }[] }>('GET', `/api/tasks/${taskId}/consensus`)).items;
      if (items.length === 4 && items.every((i) => i.state === 'done')) break;
      if (Date.now() > deadline) throw new Error(`consensus did not finish: ${JSON.stringify(items)}`);
      await new Promise((ok) => setTimeout(ok, 250));
    }
    browser = await launchBrowser();
    const ctx = await newContext(browser, server.url);
    page = await ctx.newPage();
    watchPage(page, problems);
    await login(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  }, 180_000);

  afterAll(async () => {
    if (problems.length) console.log('browser problems:\n' + problems.join('\n'));
    await browser?.close();
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('shows each annotator’s agreement with the consensus, the confusion matrix and the trend', async () => {
    const report = await admin.call<Report>('GET', `/api/projects/${projectId}/quality`);
    const cleo = report.annotators.find((a) => a.name === 'Cleo')!;
    const ada = report.annotators.find((a) => a.name === 'Ada')!;
    expect(ada.agreement.tags).toBe(1);
    expect(cleo.agreement.tags).toBeLessThan(1);
    expect(cleo.agreement.boxF1).toBeLessThan(ada.agreement.boxF1!);

    await page.goto(`/projects/${projectId}/quality`);
    const table = page.getByTestId('quality-annotators');
    await table.getByText('Cleo').waitFor();
    const rows = await table.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(3);
    const cleoRow = rows.find((r) => r.startsWith('Cleo'))!;
    expect(cleoRow).toContain(cleo.agreement.tags!.toFixed(3));
    expect(cleoRow).toContain(cleo.agreement.boxF1!.toFixed(3));
    // The confusion matrix: one cell per (reference, annotator) label pair, counts as the API says.
    const cells = page.getByTestId('quality-confusion').locator('text.chart-value');
    const n = report.confusion.labels.length;
    expect(await cells.count()).toBe(n * n);
    expect((await cells.allTextContents()).map(Number)).toEqual(report.confusion.matrix.flat());
    expect(report.trend.length).toBeGreaterThan(0);
    // One series per annotator (all scores are from today: one point each).
    await page.getByTestId('quality-trend').locator('circle').first().waitFor();
    expect(await page.getByTestId('quality-trend').locator('polyline').count()).toBe(3);
    expect(await page.getByTestId('quality-trend').locator('circle').count()).toBe(3);
    await screenshot(page, 'quality-01-dashboard');
    // The CSV holds a header and one line per score.
    const csv = await page.evaluate(async (url) => (await fetch(url)).text(), `/api/projects/${projectId}/quality.csv`);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toMatch(/annotator/i);
    expect(lines.length).toBeGreaterThan(3);
  });
});
