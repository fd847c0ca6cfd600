import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ADMIN_EMAIL, ADMIN_PASSWORD, launchBrowser, login, newContext, screenshot, startServer, watchPage, type RunningServer } from './harness.js';
import { syntheticScan } from './png.js';

// One story, in order: an admin sets up a classification project and a job; an annotator
// labels it with the keyboard, survives a reload and a conflicting second tab, and submits.

const ANNOTATOR = { email: 'annotator@example.org', name: 'Ada Annotator', password: 'annotator-pass-123' };
const LABELS = ['Normal', 'Pneumonia', 'Other'];

let server: RunningServer;
let browser: Browser;
let adminCtx: BrowserContext;
let admin: Page;
let annCtx: BrowserContext;
let ann: Page;
const problems: string[] = [];

async function waitSaved(page: Page): Promise<void> {
  await page.locator('[data-testid="save-status"][data-status="saved"]').waitFor();
}

async function activeLabels(page: Page): Promise<string[]> {
  return page.locator('[data-testid="label-button"][data-active="true"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-label') ?? ''));
}

function annotationsPath(pageUrl: string): string {
  return new URL(pageUrl).pathname.replace(/^\/jobs\/([^/]+)\/assets\/([^/]+)$/, '/api/jobs/$1/assets/$2/annotations');
}

async function assetName(page: Page): Promise<string> {
  return (await page.getByTestId('ws-asset-name').textContent()) ?? '';
}

describe('classification workflow', () => {
  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
    adminCtx = await newContext(browser, server.url);
    admin = await adminCtx.newPage();
    watchPage(admin, problems);
  });

  afterAll(async () => {
    if (problems.length) console.log('browser problems:\n' + problems.join('\n'));
    await browser?.close();
    await server?.stop();
  });

  it('admin signs in (wrong password first)', async () => {
    await admin.goto('/projects');
    await admin.waitForURL(/\/login/);
    await admin.getByTestId('login-email').fill(ADMIN_EMAIL);
    await admin.getByTestId('login-password').fill('not-the-password');
    await admin.getByTestId('login-submit').click();
    await expect.poll(() => admin.getByTestId('login-error').textContent()).toContain('Wrong email or password');
    await screenshot(admin, '01-login-error');
    // Rate limiting (per address and email): the eleventh attempt within a minute is refused.
    await admin.evaluate(async () => {
      for (let i = 0; i < 10; i++) {
        await fetch('/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'ghost@example.org', password: 'wrong-password-1' }) });
      }
    });
    await admin.getByTestId('login-email').fill('ghost@example.org');
    await admin.getByTestId('login-submit').click();
    await expect.poll(() => admin.getByTestId('login-error').textContent()).toMatch(/too many/i);
    await screenshot(admin, '01b-login-rate-limited');
    await admin.getByTestId('login-email').fill(ADMIN_EMAIL);
    await admin.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await admin.getByTestId('login-submit').click();
    await admin.waitForURL(/\/projects$/);
    await admin.getByTestId('current-user').waitFor();
    await screenshot(admin, '02-projects-empty');
  });

  it('admin creates the annotator account', async () => {
    await admin.getByTestId('nav-users').click();
    await admin.getByTestId('users-table').waitFor();
    await admin.getByTestId('user-new').click();
    await admin.getByTestId('user-email').fill(ANNOTATOR.email);
    await admin.getByTestId('user-name').fill(ANNOTATOR.name);
    await admin.getByTestId('user-password').fill(ANNOTATOR.password);
    await screenshot(admin, '03-user-dialog');
    await admin.getByTestId('user-create').click();
    await admin.locator(`[data-testid="user-row"][data-email="${ANNOTATOR.email}"]`).waitFor();
    await screenshot(admin, '04-users');
  });

  it('admin creates a project with a 3-label schema', async () => {
    await admin.getByTestId('nav-projects').click();
    await admin.getByTestId('new-project').click();
    await admin.getByTestId('project-name').fill('Chest X-ray triage');
    await admin.getByTestId('project-description').fill('Classify frontal chest radiographs and short reports.');
    await admin
      .getByTestId('project-guidelines')
      .fill('# Guidelines\n\nLabel **every** image.\n\n- *Normal*: no acute finding\n- *Pneumonia*: consolidation; grade the `Severity`\n- *Other*: anything else\n\n<script>alert(1)</script> is shown as text.');
    // Label 1 exists already; add two more.
    await admin.getByTestId('label-add').click();
    await admin.getByTestId('label-add').click();
    const rows = admin.getByTestId('label-row');
    await expect.poll(() => rows.count()).toBe(3);
    for (let i = 0; i < 3; i++) await rows.nth(i).getByTestId('label-name').fill(LABELS[i]!);
    // Pneumonia gets a required select attribute.
    const pneu = rows.nth(1);
    await pneu.getByTestId('attr-add').click();
    await pneu.getByTestId('attr-name').fill('Severity');
    await pneu.getByTestId('attr-type').selectOption('select');
    await pneu.getByTestId('attr-required').check();
    for (const o of ['mild', 'moderate', 'severe']) {
      await pneu.getByTestId('option-input').fill(o);
      await pneu.getByTestId('option-input').press('Enter');
    }
    await screenshot(admin, '05-new-project');
    await admin.getByTestId('project-create').click();
    await admin.waitForURL(/\/projects\/[^/]+$/);
    await admin.getByTestId('project-title').waitFor();
    expect(await admin.getByTestId('guidelines').locator('script').count()).toBe(0);
    expect(await admin.getByTestId('guidelines').textContent()).toContain('<script>alert(1)</script>');
    await screenshot(admin, '06-project-overview');
    await admin.getByTestId('tab-labels').click();
    await admin.getByTestId('schema-editor').waitFor();
    await screenshot(admin, '07-project-labels');

    // Client-side check: duplicate names are flagged inline before anything is sent.
    const rows2 = admin.getByTestId('label-row');
    await rows2.nth(2).getByTestId('label-name').fill('normal');
    await admin.getByTestId('schema-save').click();
    await expect.poll(() => rows2.nth(2).getByTestId('schema-error').first().textContent()).toContain('Duplicate');
    // Server-side check: a text attribute with maxLength 0 is refused by the server and shown
    // next to the field it concerns.
    await rows2.nth(2).getByTestId('label-name').fill('Other');
    await rows2.nth(2).getByTestId('attr-add').click();
    await rows2.nth(2).getByTestId('attr-name').fill('Comment');
    await rows2.nth(2).getByTestId('attr-type').selectOption('text');
    await rows2.nth(2).getByTestId('attr-maxlength').fill('0');
    await admin.getByTestId('schema-save').click();
    await rows2.nth(2).locator('[data-testid="schema-error"][data-path="labels.2.attributes.0.maxLength"]').waitFor();
    await screenshot(admin, '07b-labels-server-error');
    await admin.reload();
    await admin.getByTestId('schema-editor').waitFor();
    expect(await admin.getByTestId('attr-row').count()).toBe(1);
  });

  it('admin adds the annotator as a member', async () => {
    await admin.getByTestId('tab-members').click();
    await admin.getByTestId('member-email').fill('nobody@example.org');
    await admin.getByTestId('member-add').click();
    await expect.poll(() => admin.getByTestId('member-error').textContent()).toContain('No active user');
    await admin.getByTestId('member-email').fill(ANNOTATOR.email);
    await admin.getByTestId('member-role').selectOption('annotator');
    await admin.getByTestId('member-add').click();
    await admin.getByTestId('member-row').filter({ hasText: ANNOTATOR.email }).waitFor();
    await screenshot(admin, '08-members');
  });

  it('admin creates a task and uploads images, a text and a bad file', async () => {
    await admin.getByTestId('tab-tasks').click();
    await admin.getByTestId('task-name').fill('Batch 1');
    await admin.getByTestId('task-create').click();
    await admin.waitForURL(/\/tasks\//);
    await admin.getByTestId('task-title').waitFor();
    await admin.getByTestId('file-input').setInputFiles([
      { name: 'scan-001.png', mimeType: 'image/png', buffer: syntheticScan(0) },
      { name: 'scan-002.png', mimeType: 'image/png', buffer: syntheticScan(1) },
      { name: 'scan-003.png', mimeType: 'image/png', buffer: syntheticScan(2, 256, 320) },
      {
        name: 'report-004.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from(
          'CHEST RADIOGRAPH, PA AND LATERAL\n\nFINDINGS: The lungs are clear. No focal consolidation, pleural effusion or pneumothorax. ' +
            'The cardiomediastinal silhouette is within normal limits.\n\nIMPRESSION: No acute cardiopulmonary process.\n',
        ),
      },
      { name: 'not-really.png', mimeType: 'image/png', buffer: Buffer.from('this is plain text pretending to be a PNG\n') },
    ]);
    const items = admin.getByTestId('upload-item');
    await expect.poll(() => items.count()).toBe(5);
    await expect
      .poll(async () => (await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))).filter((s) => s === 'done' || s === 'error').length, { timeout: 30_000 })
      .toBe(5);
    const bad = admin.locator('[data-testid="upload-item"][data-name="not-really.png"]');
    expect(await bad.getAttribute('data-status')).toBe('error');
    const badText = (await bad.getByTestId('upload-error').textContent()) ?? '';
    expect(badText.length).toBeGreaterThan(5);
    expect(await admin.locator('[data-testid="upload-item"][data-status="done"]').count()).toBe(4);
    await expect.poll(() => admin.getByTestId('asset-row').count()).toBe(4);
    await screenshot(admin, '09-task-uploads');
  });

  it('admin splits the task into a job for the annotator', async () => {
    await admin.getByTestId('assets-per-job').fill('10');
    await admin.getByTestId('split-assignee').selectOption({ label: `${ANNOTATOR.name} (annotator)` });
    await admin.getByTestId('split-submit').click();
    await admin.getByTestId('split-done').waitFor();
    await expect.poll(() => admin.getByTestId('job-row').count()).toBe(1);
    expect(await admin.getByTestId('job-assignee').inputValue()).not.toBe('');
    await screenshot(admin, '10-task-jobs');
  });

  it('admin creates a personal access token (shown once)', async () => {
    await admin.getByTestId('nav-account').click();
    await admin.getByTestId('token-name').fill('training pipeline');
    await admin.getByTestId('token-create').click();
    await admin.getByTestId('token-created').waitFor();
    expect(((await admin.getByTestId('token-value').textContent()) ?? '').length).toBeGreaterThan(16);
    await screenshot(admin, '10b-account-token');
  });

  it('annotator starts the next job from the queue', async () => {
    annCtx = await newContext(browser, server.url);
    ann = await annCtx.newPage();
    watchPage(ann, problems);
    await login(ann, ANNOTATOR.email, ANNOTATOR.password);
    expect(await ann.getByTestId('nav-users').count()).toBe(0);
    await ann.getByTestId('nav-queue').click();
    await ann.getByTestId('queue-row').first().waitFor();
    await screenshot(ann, '11-queue');
    await ann.getByTestId('start-next').click();
    await ann.waitForURL(/\/jobs\/[^/]+\/assets\/[^/]+$/);
    await ann.getByTestId('workspace').waitFor();
    await ann.locator('[data-testid="save-status"]:not([data-status="loading"])').waitFor();
    expect(await ann.getByTestId('ws-position').textContent()).toContain('1 / 4');
  });

  it('annotator classifies with number keys, moves on, and the labels survive a reload', async () => {
    // Asset 1: "Normal" with key 1.
    await ann.keyboard.press('1');
    expect(await activeLabels(ann)).toEqual(['Normal']);
    await waitSaved(ann);
    await screenshot(ann, '12-workspace-labelled');
    // Pressing another label replaces it; pressing it again removes it; undo restores.
    await ann.keyboard.press('3');
    expect(await activeLabels(ann)).toEqual(['Other']);
    await ann.keyboard.press('3');
    expect(await activeLabels(ann)).toEqual([]);
    await ann.keyboard.press('Control+z');
    expect(await activeLabels(ann)).toEqual(['Other']);
    await ann.keyboard.press('Control+z');
    expect(await activeLabels(ann)).toEqual(['Normal']);
    await waitSaved(ann);

    // Asset 2: Pneumonia needs its required Severity.
    await ann.keyboard.press('ArrowRight');
    await expect.poll(() => ann.getByTestId('ws-position').textContent()).toContain('2 / 4');
    await ann.locator('[data-testid="save-status"]:not([data-status="loading"])').waitFor();
    await ann.keyboard.press('2');
    expect(await activeLabels(ann)).toEqual(['Pneumonia']);
    await ann.getByTestId('attr-form').waitFor();
    expect(await ann.getByTestId('attr-error').first().textContent()).toContain('Required');
    await ann.keyboard.press('Enter'); // focus the attribute form
    await ann.locator('[data-testid="attr-input"][data-attr="Severity"]').selectOption('moderate');
    await ann.keyboard.press('Escape');
    await waitSaved(ann);
    await screenshot(ann, '13-workspace-attributes');
    const second = await assetName(ann);

    // Asset 3: Other.
    await ann.keyboard.press('ArrowRight');
    await expect.poll(() => ann.getByTestId('ws-position').textContent()).toContain('3 / 4');
    await ann.locator('[data-testid="save-status"]:not([data-status="loading"])').waitFor();
    await ann.keyboard.press('3');
    await waitSaved(ann);

    await ann.reload();
    await ann.getByTestId('workspace').waitFor();
    await ann.locator('[data-testid="save-status"][data-status="saved"]').waitFor();
    await ann.getByTestId('label-button').first().waitFor();
    expect(await activeLabels(ann)).toEqual(['Other']);
    await ann.keyboard.press('ArrowLeft');
    await expect.poll(() => assetName(ann)).toBe(second);
    await ann.getByTestId('attr-form').waitFor();
    expect(await activeLabels(ann)).toEqual(['Pneumonia']);
    expect(await ann.locator('[data-testid="attr-input"][data-attr="Severity"]').inputValue()).toBe('moderate');
    await ann.keyboard.press('ArrowRight');
    await expect.poll(() => ann.getByTestId('ws-position').textContent()).toContain('3 / 4');
  });

  it('a stale save from a second tab shows the conflict instead of overwriting', async () => {
    const url = ann.url();
    const tab2 = await annCtx.newPage();
    watchPage(tab2, problems);
    await tab2.goto(url);
    await tab2.getByTestId('workspace').waitFor();
    await tab2.locator('[data-testid="save-status"][data-status="saved"]').waitFor();
    await tab2.getByTestId('label-button').first().waitFor();
    expect(await activeLabels(tab2)).toEqual(['Other']);

    // Tab 1 saves first...
    await ann.bringToFront();
    await ann.keyboard.press('1');
    await waitSaved(ann);
    const rev = Number(await ann.getByTestId('workspace').getAttribute('data-revision'));
    expect(rev).toBeGreaterThan(1);
    // ...then tab 2, still on the old revision, tries to save.
    await tab2.bringToFront();
    await tab2.keyboard.press('2');
    const banner = tab2.getByTestId('conflict-banner');
    await banner.waitFor();
    const text = (await banner.textContent()) ?? '';
    expect(text).toContain('This asset was changed elsewhere');
    expect(text).toContain(`revision ${rev}`);
    expect(await tab2.getByTestId('save-status').getAttribute('data-status')).toBe('conflict');
    await screenshot(tab2, '14-conflict');

    // Nothing was overwritten: the server still has tab 1's label.
    const apiState = await tab2.evaluate(async (path) => {
      const r = await fetch(path);
      return (await r.json()) as { revision: number; document: { objects: { label: string }[] } };
    }, annotationsPath(url));
    expect(apiState.document.objects.map((o) => o.label)).toEqual(['Normal']);

    await tab2.getByTestId('conflict-load-theirs').click();
    await banner.waitFor({ state: 'detached' });
    expect(await activeLabels(tab2)).toEqual(['Normal']);

    // The other choice: tab 1 saves again, tab 2 (now stale) edits and keeps its version.
    await ann.bringToFront();
    await ann.keyboard.press('3');
    await waitSaved(ann);
    await tab2.bringToFront();
    await tab2.keyboard.press('Shift+3'); // multi-label: Normal + Other
    await banner.waitFor();
    await tab2.getByTestId('conflict-keep-mine').click();
    await banner.waitFor({ state: 'detached' });
    await waitSaved(tab2);
    const after = await tab2.evaluate(async (path) => ((await (await fetch(path)).json()) as { document: { objects: { label: string }[] } }).document.objects.map((o) => o.label), annotationsPath(url));
    expect(after).toEqual(['Normal', 'Other']);
    await tab2.close();
    await ann.bringToFront();
  });

  it('annotator sees what is missing, finishes and submits the job', async () => {
    await ann.keyboard.press('ArrowRight');
    await expect.poll(() => ann.getByTestId('ws-position').textContent()).toContain('4 / 4');
    await ann.locator('[data-testid="save-status"]:not([data-status="loading"])').waitFor();
    await ann.keyboard.press('Control+g');
    await ann.getByTestId('guidelines-drawer').waitFor();
    expect(await ann.getByTestId('guidelines-drawer').textContent()).toContain('Label every image.');
    await screenshot(ann, '15a-guidelines');
    await ann.keyboard.press('Escape');
    await ann.getByTestId('guidelines-drawer').waitFor({ state: 'detached' });
    await ann.keyboard.press('?');
    await ann.getByTestId('shortcut-help').waitFor();
    await screenshot(ann, '15-shortcuts');
    await ann.keyboard.press('Escape');
    await ann.getByTestId('shortcut-help').waitFor({ state: 'detached' });

    // Submitting with an unlabelled asset is refused with a list.
    await ann.getByTestId('submit-job').click();
    await ann.getByTestId('submit-confirm').click();
    await ann.getByTestId('submit-error').waitFor();
    expect(await ann.getByTestId('submit-error').textContent()).toContain('cannot be submitted');
    await screenshot(ann, '16-submit-refused');

    // Offline: the change is kept and retried, then saved when the network is back.
    await annCtx.setOffline(true);
    await ann.keyboard.press('1');
    await ann.locator('[data-testid="save-status"][data-status="offline"]').waitFor();
    expect(await ann.getByTestId('save-status').textContent()).toContain('Offline');
    await screenshot(ann, '16b-offline');
    await annCtx.setOffline(false);
    await waitSaved(ann);
    if (await ann.getByTestId('asset-text').count()) await screenshot(ann, '17-text-asset');
    else {
      // Make sure the text document gets a screenshot too.
      const textIdx = await ann.getByTestId('asset-list').locator('button').evaluateAll((els) => els.findIndex((e) => /\.txt/.test(e.textContent ?? '')));
      await ann.getByTestId('asset-list').locator('button').nth(textIdx).click();
      await ann.getByTestId('asset-text').waitFor();
      await screenshot(ann, '17-text-asset');
    }
    await ann.getByTestId('submit-job').click();
    await ann.getByTestId('submit-confirm').click();
    await ann.waitForURL(/\/queue$/);
    await ann.getByTestId('queue-notice').waitFor();
    await screenshot(ann, '18-queue-after-submit');
    const state = await ann.evaluate(async () => {
      const r = await fetch('/api/me/jobs');
      return ((await r.json()) as { items: { state: string }[] }).items.map((j) => j.state);
    });
    expect(state).toEqual(['completed']);
    expect(problems.filter((p) => !/Failed to load resource/.test(p))).toEqual([]);
  });
});
