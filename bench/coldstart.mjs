// Cold start: time from spawning `node apps/cli/bin/caliper.js serve` to the first 200 from
// GET /api/health (polled every 10 ms), 10 times on a fresh data dir (migrations + admin seeding)
// and 10 times on an existing one. Target < 1.5 s. Appends to docs/benchmarks.md.
//
//   npm run bench:coldstart
//   BENCH_RUNS=10 BENCH_NO_DOCS=1 BENCH_CPU_PROF=<dir>   (BENCH_CPU_PROF: --cpu-prof every start)
//   BENCH_PG=1   also time starts against a fresh PostgreSQL database (127.0.0.1:5432)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { appendToDocs, backgroundLoad, machineInfo, PG_ADMIN_URL, root } from './common.mjs';

const RUNS = Math.max(1, Math.min(50, Number(process.env.BENCH_RUNS ?? 10)));
const WRITE_DOCS = process.env.BENCH_NO_DOCS !== '1';
const CPU_PROF = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : null;
const WITH_PG = process.env.BENCH_PG === '1';
const START_TIMEOUT_MS = 30_000;
const BIN = path.join(root, 'apps/cli/bin/caliper.js');
if (!existsSync(path.join(root, 'apps/cli/dist/bin.js'))) {
  console.error('The CLI is not built; run: npx tsc -b packages/core packages/media apps/server apps/cli');
  process.exit(1);
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function health(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/health', agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** One start: spawn → first 200 from /api/health; then SIGTERM (SIGKILL after 10 s). */
async function start(dataDir, extraEnv = {}) {
  const port = await freePort();
  const args = [...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : []), BIN, 'serve'];
  const t0 = now();
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CALIPER_HOST: '127.0.0.1',
      CALIPER_PORT: String(port),
      CALIPER_DATA_DIR: dataDir,
      CALIPER_ADMIN_EMAIL: 'admin@bench.local',
      CALIPER_ADMIN_PASSWORD: 'bench-admin-password-1',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d).length > 20_000 && (output = output.slice(-10_000)));
  child.stderr.on('data', (d) => (output += d).length > 20_000 && (output = output.slice(-10_000)));
  let exited = null;
  const exit = new Promise((r) => child.once('exit', (code, signal) => r((exited = { code, signal }))));
  let ms = null;
  try {
    for (let i = 0; i < START_TIMEOUT_MS / 10 + 100; i++) {
      if (exited) throw new Error(`server exited early (${JSON.stringify(exited)}): ${output.slice(-1000)}`);
      if ((await health(port)) === 200) {
        ms = now() - t0;
        break;
      }
      if (now() - t0 > START_TIMEOUT_MS) break;
      await sleep(10);
    }
    if (ms === null) throw new Error(`no 200 from /api/health within ${START_TIMEOUT_MS} ms: ${output.slice(-1000)}`);
  } finally {
    if (!exited) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(t);
    }
  }
  return ms;
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length / 2;
  return { min: s[0], median: s.length % 2 ? s[Math.floor(mid)] : (s[mid - 1] + s[mid]) / 2, max: s[s.length - 1], all: xs };
};

async function withTempDir(fn) {
  const dir = await mkdtemp(path.join(tmpdir(), 'caliper-cold-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function withPgDb(fn) {
  const name = `caliper_cold_${randomBytes(6).toString('hex')}`;
  const admin = async (q) => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  try {
    const u = new URL(PG_ADMIN_URL);
    u.pathname = `/${name}`;
    return await fn(u.toString());
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

const info = machineInfo();
const bg = await backgroundLoad(3000);
console.log(`background load: ${bg.busyPct.toFixed(0)}% busy, ${bg.stealPct.toFixed(0)}% steal, loadavg ${bg.loadavg}`);
const results = [];

// Node's own start-up, for reference: the floor for any Node server.
const bare = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = now();
  await new Promise((r) => spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).once('exit', r));
  bare.push(now() - t0);
}
results.push({ name: '`node -e 0` (process start/exit, reference)', ...stats(bare) });

const fresh = [];
for (let i = 0; i < RUNS; i++) fresh.push(await withTempDir((dir) => start(dir)));
results.push({ name: 'SQLite, fresh data dir (migrations + admin seeding)', ...stats(fresh) });
console.log(`fresh: ${fresh.map((x) => x.toFixed(0)).join(' ')} ms`);

const existing = await withTempDir(async (dir) => {
  await start(dir); // first start creates the database; not counted
  const xs = [];
  for (let i = 0; i < RUNS; i++) xs.push(await start(dir));
  return xs;
});
results.push({ name: 'SQLite, existing data dir', ...stats(existing) });
console.log(`existing: ${existing.map((x) => x.toFixed(0)).join(' ')} ms`);

if (WITH_PG) {
  const pgFresh = [];
  for (let i = 0; i < RUNS; i++) pgFresh.push(await withTempDir((dir) => withPgDb((url) => start(dir, { CALIPER_DATABASE_URL: url }))));
  results.push({ name: 'PostgreSQL, fresh database', ...stats(pgFresh) });
  console.log(`pg fresh: ${pgFresh.map((x) => x.toFixed(0)).join(' ')} ms`);
}

const L = [];
L.push(`## Cold start — ${info.date}`);
L.push('');
L.push(`Machine: ${info.nproc} vCPU (${info.cpu}), memory ${info.memory}; Node ${info.node}. Other load just before the run: ${bg.busyPct.toFixed(0)}% of all cores busy, ${bg.stealPct.toFixed(0)}% steal, loadavg ${bg.loadavg}.`);
L.push('');
L.push(
  `Method: \`npm run bench:coldstart\`. Spawn \`node apps/cli/bin/caliper.js serve\` (CALIPER_PORT = a free port, CALIPER_DATA_DIR = a temp dir, ` +
    `CALIPER_ADMIN_PASSWORD set, default logging) and poll \`GET /api/health\` every 10 ms; time from spawn to the first 200, then SIGTERM. ` +
    `${RUNS} runs each; "fresh" uses a new data dir every run (migrations + admin seeding with an Argon2 hash), "existing" reuses one data dir created by an uncounted first start.` +
    (CPU_PROF ? ' (Run with --cpu-prof, which adds overhead.)' : ''),
);
L.push('');
L.push('| start | min ms | median ms | max ms | target < 1500 ms | all runs (ms) |');
L.push('|---|---:|---:|---:|---|---|');
for (const r of results) {
  const target = r.name.startsWith('`node') ? '' : r.max < 1500 ? 'met (max)' : r.median < 1500 ? 'median met, max missed' : 'missed';
  L.push(`| ${r.name} | ${r.min.toFixed(0)} | ${r.median.toFixed(0)} | ${r.max.toFixed(0)} | ${target} | ${r.all.map((x) => x.toFixed(0)).join(', ')} |`);
}
L.push('');
const md = L.join('\n');
console.log('\n' + md);
if (WRITE_DOCS) await appendToDocs(md);
