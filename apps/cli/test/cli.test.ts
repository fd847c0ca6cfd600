import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/caliper.js', import.meta.url));
const dataDir = mkdtempSync(path.join(tmpdir(), 'caliper-cli-'));
const env = { ...process.env, CALIPER_DATA_DIR: dataDir, CALIPER_LOG_LEVEL: 'silent' };
const run = (args: string[], extraEnv: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { env: { ...env, ...extraEnv }, encoding: 'utf8', timeout: 30_000 });

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('caliper CLI', () => {
  it('prints help', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('audit verify');
  });

  it('migrate, user create and token create work on the embedded database', async () => {
    expect(run(['migrate']).status).toBe(0);
    const u = run(['user', 'create', '--email', 'ml@example.org', '--password', 'ml-engineer-pw', '--name', 'ML']);
    expect(u.status).toBe(0);
    expect(u.stdout).toMatch(/Created user ml@example.org/);
    const t = run(['token', 'create', '--email', 'ml@example.org', '--name', 'training']);
    expect(t.status).toBe(0);
    const token = t.stdout.trim();
    expect(token).toMatch(/^cal_[A-Za-z0-9_-]{43}$/);

    // The token authenticates against a server on the same data.
    const server = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /Caliper is running at (http:\/\/\S+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
      });
      const me = await fetch(`${url}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { user: { email: string } }).user.email).toBe('ml@example.org');
    } finally {
      server.kill('SIGTERM');
    }
  });

  it('refuses to start with an invalid configuration and says why', () => {
    const r = run(['serve'], { CALIPER_PORT: 'http' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('CALIPER_PORT');
  });

  it('audit verify passes on an intact trail and names the first tampered entry', () => {
    const ok = run(['audit', 'verify']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/intact: \d+ entries/);
    const db = new SQLite(path.join(dataDir, 'caliper.sqlite'));
    const count = (db.prepare('select count(*) as c from audit_log').get() as { c: number }).c;
    expect(count).toBe(2); // user create + token create (no admin seeded: a user already existed)
    db.prepare("update audit_log set action = 'user.delete' where seq = 2").run();
    db.close();
    const bad = run(['audit', 'verify']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('first bad entry #2');
  });

  it('audit verify notices entries removed from the end', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'caliper-cli-'));
    try {
      const e = { CALIPER_DATA_DIR: dir };
      for (const n of [1, 2, 3]) expect(run(['user', 'create', '--email', `u${n}@example.org`, '--password', 'long-enough-pw'], e).status).toBe(0);
      expect(run(['audit', 'verify'], e).status).toBe(0);
      const db = new SQLite(path.join(dir, 'caliper.sqlite'));
      db.prepare('delete from audit_log where seq = 3').run();
      db.close();
      const bad = run(['audit', 'verify'], e);
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain('#3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
