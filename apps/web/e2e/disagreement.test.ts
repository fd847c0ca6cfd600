import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeLabelmap } from '@caliper/core/labelmap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD, REPO_ROOT, launchBrowser, login, newContext, screenshot, startServer, watchPage, type RunningServer } from './harness.js';
import { apiLogin, filesIn, uploadAndIngest, type ApiClient } from './api.js';
import { syntheticScan } from './png.js';

// The side-by-side disagreement view on a small synthetic CT (4 slices of 512², generated here,
// no PHI): three annotators (task overlap 3) box the same lesion on slice K with slightly
// different boxes and paint slightly shifted label maps, and submit; once the consensus is in,
// the admin opens the consensus job's item: the Raters panel lists the three raters and the
// consensus, and the read-only overlay shows each rater's box edge in the rater's colour where
// the box lies on screen; turning a rater off removes its colour there.

const SLICES = 4;
const K = 2;
const N = 512;
const SCHEMA = {
  version: 1,
  labels: [
    { name: 'Lesion', color: '#e5484d', shortcut: '1', kinds: ['box'] },
    { name: 'Liver', color: '#6a1b9a', shortcut: '2', kinds: ['labelmap'] },
  ],
};
const NAMES = ['Ada', 'Ben', 'Cleo'];
/** Overlapping boxes (IoU ≥ 0.5, one consensus cluster) whose left edges are ≥ 5 px from each other and from their mean (175). */
const BOXES = [
  { x: 150, y: 150, width: 200, height: 200 },
  { x: 170, y: 158, width: 200, height: 196 },
  { x: 205, y: 146, width: 196, height: 204 },
];
/** Label-map squares on slice K, shifted by 10 px per rater. */
const SQUARE = (r: number) => ({ i0: 300 + 10 * r, i1: 380 + 10 * r, j0: 60, j1: 120 });

let server: RunningServer;
let browser: Browser;
let page: Page;
let admin: ApiClient;
let ctDir = '';
let assetId = '';
let consensusJobId = '';
let projectId = '';
const jobOf = new Map<string, string>();
const problems: string[] = [];

async function waitForVolume(p: Page): Promise<void> {
  await p.getByTestId('imaging-viewer').waitFor();
  await expect.poll(() => p.getByTestId('imaging-viewer').getAttribute('data-complete'), { timeout: 60_000 }).toBe('yes');
}

const rgb = (hex: string): [number, number, number] => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];

/**
 * Pixels of the axial viewport's rater overlay within ±r CSS px of each plane point that are
 * (nearly) the colour `hex`, per point.
 */
async function colourHits(p: Page, points: [number, number][], hex: string, r = 2): Promise<number[]> {
  const m = (await p.getByTestId('viewport-axial').getAttribute('data-matrix'))!.split(',').map(Number);
  const screen = points.map(([x, y]) => [m[0]! * x + m[2]! * y + m[4]!, m[1]! * x + m[3]! * y + m[5]!]);
  return p.evaluate(
    ({ screen, want, r }) => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="viewport-axial"] [data-testid="rater-overlay"]');
      const ctx = canvas?.getContext('2d');
      if (!canvas || !ctx) return screen.map(() => -1);
      const scale = canvas.width / canvas.getBoundingClientRect().width;
      return screen.map(([sx, sy]) => {
        const x0 = Math.round((sx! - r) * scale);
        const y0 = Math.round((sy! - r) * scale);
        const size = Math.round(2 * r * scale) + 1;
        const d = ctx.getImageData(x0, y0, size, size).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3]! > 200 && Math.abs(d[i]! - want[0]) + Math.abs(d[i + 1]! - want[1]) + Math.abs(d[i + 2]! - want[2]) < 40) n++;
        }
        return n;
      });
    },
    { screen, want: rgb(hex), r },
  );
}

/** The middle of a box's left edge and of its top edge, in plane px. */
const edgePoints = (b: (typeof BOXES)[number]): [number, number][] => [
  [b.x, b.y + b.height / 2],
  [b.x + b.width / 2, b.y],
];

describe('side-by-side disagreement view', () => {
  beforeAll(async () => {
    server = await startServer();
    admin = await apiLogin(server.url, ADMIN_EMAIL, ADMIN_PASSWORD);
    projectId = (await admin.call<{ id: string }>('POST', '/api/projects', { name: 'Disagreement e2e', labelSchema: SCHEMA })).id;
    const taskId = (await admin.call<{ id: string }>('POST', `/api/projects/${projectId}/tasks`, { name: 'Small CT' })).id;
    const ids: string[] = [];
    for (const n of NAMES) {
      const u = await admin.call<{ id: string }>('POST', '/api/users', { email: `${n.toLowerCase()}@example.org`, name: n, password: `${n}-password-123` });
      await admin.call('PUT', `/api/projects/${projectId}/members/${u.id}`, { role: 'annotator' });
      ids.push(u.id);
    }
    await admin.call('PUT', `/api/tasks/${taskId}/quality`, { overlap: 3 });
    ctDir = mkdtempSync(path.join(tmpdir(), 'caliper-e2e-disagree-'));
    const { writeSyntheticCtSeries } = (await import(path.join(REPO_ROOT, 'bench/synthetic-ct.mjs'))) as {
      writeSyntheticCtSeries: (dir: string, o: { slices: number }) => Promise<unknown>;
    };
    await writeSyntheticCtSeries(ctDir, { slices: SLICES });
    await uploadAndIngest(admin, taskId, filesIn(ctDir));
    await admin.call('POST', `/api/tasks/${taskId}/jobs`, { assetsPerJob: 1, assigneeIds: ids });
    for (const [r, n] of NAMES.entries()) {
      const api = await apiLogin(server.url, `${n.toLowerCase()}@example.org`, `${n}-password-123`);
      const job = (await api.call<{ items: { id: string }[] }>('GET', `/api/tasks/${taskId}/jobs`)).items[0]!.id;
      jobOf.set(n, job);
      assetId = (await api.call<{ assets: { id: string }[] }>('GET', `/api/jobs/${job}`)).assets[0]!.id;
      const per = N * N;
      const data = new Uint8Array(per * SLICES);
      const sq = SQUARE(r);
      for (let j = sq.j0; j < sq.j1; j++) data.fill(1, K * per + j * N + sq.i0, K * per + j * N + sq.i1);
      const container = encodeLabelmap({ shape: [N, N, SLICES], dtype: 'uint8', slices: (k) => data.subarray(k * per, (k + 1) * per) });
      const res = await api.raw('POST', `/api/assets/${assetId}/labelmaps`, new Uint8Array(container), { 'content-type': 'application/octet-stream' });
      expect(res.status).toBe(201);
      const sha = ((await res.json()) as { sha: string }).sha;
      const now = new Date().toISOString();
      const common = { attributes: {}, source: 'manual', createdBy: api.userId, createdAt: now, updatedAt: now };
      const objects = [
        { id: 'b1', kind: 'box', label: 'Lesion', ...BOXES[r]!, slice: K, ...common },
        { id: 'lm', kind: 'labelmap', label: 'Liver', blob: sha, shape: [N, N, SLICES], segments: [{ value: 1, label: 'Liver' }], ...common },
      ];
      await api.call('PUT', `/api/jobs/${job}/assets/${assetId}/annotations`, { baseRevision: 0, document: { objects } });
      await api.call('PATCH', `/api/jobs/${job}`, { state: 'completed' });
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const items = (await admin.call<{ items: { state: string; jobId: string | null }[] }>('GET', `/api/tasks/${taskId}/consensus`)).items;
      if (items[0]?.state === 'done') {
        consensusJobId = items[0].jobId!;
        break;
      }
      if (Date.now() > deadline) throw new Error(`consensus not done: ${JSON.stringify(items)}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    browser = await launchBrowser();
    page = await (await newContext(browser, server.url)).newPage();
    watchPage(page, problems);
    await login(page, ADMIN_EMAIL, ADMIN_PASSWORD);
    // The sign-in page's session probe answers 401 before signing in; only what follows counts.
    problems.length = 0;
  }, 180_000);

  afterAll(async () => {
    if (problems.length) console.log('browser problems:\n' + problems.join('\n'));
    await browser?.close();
    await server?.stop();
    if (ctDir) rmSync(ctDir, { recursive: true, force: true });
  });

  it('the Raters panel lists the three raters and the consensus, with STAPLE figures for the label maps', async () => {
    await page.goto(`/jobs/${consensusJobId}/assets/${assetId}`);
    await waitForVolume(page);
    const rows = page.getByTestId('rater-row');
    await expect.poll(() => rows.count()).toBe(4);
    // Raters in the server's job order (one per annotator), the consensus last.
    const keys = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-key')!));
    expect(keys.slice(0, 3).sort()).toEqual(NAMES.map((n) => jobOf.get(n)!).sort());
    expect(keys[3]).toBe('consensus');
    for (const n of NAMES) {
      const text = await page.locator(`[data-testid="rater-row"][data-key="${jobOf.get(n)}"]`).textContent();
      expect(text).toContain(n);
      expect(text).toContain('2 objects');
      expect(text).toMatch(/Se \d\.\d\d · Sp \d\.\d\d/);
    }
    expect(await rows.nth(3).textContent()).toContain('Consensus');
    const colours = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-color')));
    expect(new Set(colours).size).toBe(4);
    expect(await rows.evaluateAll((els) => els.every((e) => e.getAttribute('data-visible') === 'yes'))).toBe(true);
  });

  it('with all raters on, each rater’s box edges show in its colour where the box lies; off removes them', async () => {
    const vp = page.getByTestId('viewport-axial');
    await vp.click({ position: { x: 20, y: 20 } });
    await page.keyboard.press('Home');
    for (let i = 0; i < K; i++) await page.keyboard.press('ArrowDown');
    await expect.poll(() => vp.getAttribute('data-slice')).toBe(String(K));
    // Colours by annotator (Ada, Ben, Cleo), then the consensus.
    const colourOf = async (key: string) => (await page.locator(`[data-testid="rater-row"][data-key="${key}"]`).getAttribute('data-color'))!;
    const colours = [...(await Promise.all(NAMES.map((n) => colourOf(jobOf.get(n)!)))), await colourOf('consensus')];
    for (let r = 0; r < 3; r++) {
      const hits = await colourHits(page, edgePoints(BOXES[r]!), colours[r]!);
      expect(hits.every((n) => n > 0), `${NAMES[r]}: ${hits}`).toBe(true);
      // Nobody else's box runs there.
      for (let o = 0; o < 3; o++) if (o !== r) expect((await colourHits(page, edgePoints(BOXES[o]!), colours[r]!)).every((n) => n === 0)).toBe(true);
    }
    // The first rater's label-map outline: its square's left edge on slice K.
    const sq = SQUARE(0);
    expect((await colourHits(page, [[sq.i0, (sq.j0 + sq.j1) / 2]], colours[0]!))[0]).toBeGreaterThan(0);
    // The consensus box (white): the mean of the three.
    const mean = { x: (150 + 170 + 205) / 3, y: (150 + 158 + 146) / 3, width: (200 + 200 + 196) / 3, height: (200 + 196 + 204) / 3 };
    expect((await colourHits(page, edgePoints(mean), colours[3]!)).every((n) => n > 0)).toBe(true);
    await screenshot(page, 'disagreement-01');

    // Ben off: his colour is gone from his edges, the others stay.
    await page.locator(`[data-testid="rater-row"][data-key="${jobOf.get('Ben')}"] [data-testid="rater-toggle"]`).click();
    await expect.poll(async () => (await colourHits(page, edgePoints(BOXES[1]!), colours[1]!)).every((n) => n === 0)).toBe(true);
    expect((await colourHits(page, edgePoints(BOXES[0]!), colours[0]!)).every((n) => n > 0)).toBe(true);
    expect((await colourHits(page, edgePoints(BOXES[2]!), colours[2]!)).every((n) => n > 0)).toBe(true);

    // The key shows all (one was off), then hides all.
    await page.keyboard.press('Shift+D');
    await expect.poll(async () => (await colourHits(page, edgePoints(BOXES[1]!), colours[1]!)).every((n) => n > 0)).toBe(true);
    await page.keyboard.press('Shift+D');
    await expect.poll(async () => (await Promise.all([0, 1, 2].map((r) => colourHits(page, edgePoints(BOXES[r]!), colours[r]!)))).flat().every((n) => n === 0)).toBe(true);
    // The key is listed in the ? overlay.
    await page.keyboard.press('Shift+D');
    await page.keyboard.press('?');
    await expect.poll(async () => (await page.locator('[role="dialog"]').textContent()) ?? '').toContain('every rater');
    await page.keyboard.press('Escape');
    expect(problems).toEqual([]);
  });

  it('a 2D PNG opens in the same workspace: the raters’ boxes show over it and a rater can be turned off', async () => {
    const taskId = (await admin.call<{ id: string }>('POST', `/api/projects/${projectId}/tasks`, { name: 'Films' })).id;
    await admin.call('PUT', `/api/tasks/${taskId}/quality`, { overlap: 3 });
    const file = path.join(ctDir, 'film.png');
    writeFileSync(file, syntheticScan(1, 320, 256));
    await uploadAndIngest(admin, taskId, [file]);
    const clients = await Promise.all(NAMES.map((n) => apiLogin(server.url, `${n.toLowerCase()}@example.org`, `${n}-password-123`)));
    await admin.call('POST', `/api/tasks/${taskId}/jobs`, { assetsPerJob: 1, assigneeIds: clients.map((a) => a.userId) });
    // Left edges 60, 75, 84; the consensus (mean) at 73.
    const boxes = [60, 75, 84].map((x) => ({ x, y: 50, width: 100, height: 90 }));
    const film = new Map<string, string>();
    let filmId = '';
    for (const [r, api] of clients.entries()) {
      const job = (await api.call<{ items: { id: string }[] }>('GET', `/api/tasks/${taskId}/jobs`)).items[0]!.id;
      film.set(NAMES[r]!, job);
      filmId = (await api.call<{ assets: { id: string }[] }>('GET', `/api/jobs/${job}`)).assets[0]!.id;
      const now = new Date().toISOString();
      const box = { id: 'b', kind: 'box', label: 'Lesion', ...boxes[r]!, attributes: {}, source: 'manual', createdBy: api.userId, createdAt: now, updatedAt: now };
      await api.call('PUT', `/api/jobs/${job}/assets/${filmId}/annotations`, { baseRevision: 0, document: { objects: [box] } });
      await api.call('PATCH', `/api/jobs/${job}`, { state: 'completed' });
    }
    let cjob = '';
    await expect
      .poll(
        async () => {
          const item = (await admin.call<{ items: { state: string; jobId: string | null }[] }>('GET', `/api/tasks/${taskId}/consensus`)).items[0];
          cjob = item?.jobId ?? '';
          return item?.state;
        },
        { timeout: 60_000 },
      )
      .toBe('done');
    await page.goto(`/jobs/${cjob}/assets/${filmId}`);
    await waitForVolume(page);
    await expect.poll(() => page.getByTestId('rater-row').count()).toBe(4);
    const colourOf = async (key: string) => (await page.locator(`[data-testid="rater-row"][data-key="${key}"]`).getAttribute('data-color'))!;
    const colours = await Promise.all(NAMES.map((n) => colourOf(film.get(n)!)));
    const left = (b: (typeof boxes)[number]): [number, number][] => [[b.x, b.y + b.height / 2]];
    for (let r = 0; r < 3; r++) await expect.poll(async () => (await colourHits(page, left(boxes[r]!), colours[r]!))[0]).toBeGreaterThan(0);
    await screenshot(page, 'disagreement-02');
    await page.locator(`[data-testid="rater-row"][data-key="${film.get('Ben')}"] [data-testid="rater-toggle"]`).click();
    await expect.poll(async () => (await colourHits(page, left(boxes[1]!), colours[1]!))[0]).toBe(0);
    expect((await colourHits(page, left(boxes[0]!), colours[0]!))[0]).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});
