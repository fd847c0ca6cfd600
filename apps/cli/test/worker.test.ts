import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/caliper.js', import.meta.url));
const SAMPLE = fileURLToPath(new URL('../../../../shared/data/dicom/series/pydicom_CT5N_16x16/2062.dcm', import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), 'caliper-worker-'));
const env = { ...process.env, CALIPER_DATA_DIR: dataDir, CALIPER_LOG_LEVEL: 'silent', CALIPER_ADMIN_EMAIL: 'a@example.org', CALIPER_ADMIN_PASSWORD: 'admin-password-1' };

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function start(args: string[], extraEnv: Record<string, string>, ready: RegExp) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const line = new Promise<RegExpExecArray>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = ready.exec(out);
      if (m) resolve(m);
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}`)));
  });
  return { child, line };
}

describe('caliper worker', () => {
  it('runs the ingest jobs a web-only server queued', async () => {
    const web = start(['serve', '--port', '0'], { CALIPER_WORKER: 'off' }, /Caliper is running at (http:\/\/\S+)/);
    let worker: ReturnType<typeof start> | null = null;
    try {
      const url = (await web.line)[1]!;
      const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'a@example.org', password: 'admin-password-1' }) });
      const cookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0]!;
      const csrf = ((await login.json()) as { csrfToken: string }).csrfToken;
      const h = { cookie, 'x-csrf-token': csrf };
      const post = async (u: string, body: unknown) => (await fetch(url + u, { method: 'POST', headers: { ...h, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<{ id: string }>;
      const project = await post('/api/projects', { name: 'W', labelSchema: { version: 1, labels: [{ name: 'A', color: '#112233', kinds: ['tag'], attributes: [] }] } });
      const task = await post(`/api/projects/${project.id}/tasks`, { name: 'T' });
      const fd = new FormData();
      fd.append('file', new Blob([readFileSync(SAMPLE)]), 'ct.dcm');
      const up = (await (await fetch(`${url}/api/tasks/${task.id}/uploads`, { method: 'POST', headers: h, body: fd })).json()) as { run: { id: string } };
      const state = async () => ((await (await fetch(`${url}/api/ingest-runs/${up.run.id}`, { headers: h })).json()) as { run: { state: string } }).run.state;
      await new Promise((r) => setTimeout(r, 1000));
      expect(await state()).toBe('queued');

      worker = start(['worker'], {}, /Caliper worker is running/);
      await worker.line;
      // It keeps running while idle (it waits for work instead of exiting).
      await new Promise((r) => setTimeout(r, 1500));
      expect(worker.child.exitCode).toBeNull();
      const t0 = Date.now();
      while ((await state()) !== 'done') {
        if (Date.now() - t0 > 20_000) throw new Error('the worker did not finish the run');
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      web.child.kill('SIGTERM');
      worker?.child.kill('SIGTERM');
    }
  }, 60_000);
});
