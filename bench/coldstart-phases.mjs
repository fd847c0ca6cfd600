// Where does cold-start time go? Repeats what `caliper serve` does (startServer → createServer)
// step by step with the built server's own functions, in a fresh process per run, and prints
// the time of each phase. Same work as the real start except the CLI's own argument parsing.
//
//   node bench/coldstart-phases.mjs                 # 5 fresh + 5 existing-dir runs, table
//   node bench/coldstart-phases.mjs --imports       # import time of each dependency alone
//   node bench/coldstart-phases.mjs --child <dir>   # (internal) one run, JSON on stdout
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

async function child(dataDir) {
  const t = {};
  let last = performance.now();
  t['node bootstrap (before user code)'] = last;
  const mark = (name) => {
    const n = performance.now();
    t[name] = (t[name] ?? 0) + (n - last);
    last = n;
  };
  const dist = (p) => pathToFileURL(path.join(root, 'apps/server/dist', p)).href;
  const server = await import(dist('index.js'));
  mark('import @caliper/server (module graph)');
  const { seedAdmin } = await import(dist('services/users.js'));
  const { generatePassword } = await import(dist('auth/crypto.js'));
  const { createBlobStore } = await import(dist('blob/index.js'));
  const { systemClock } = await import(dist('clock.js'));
  mark('import internals (already loaded)');
  const config = server.loadConfig({ CALIPER_HOST: '127.0.0.1', CALIPER_PORT: '0', CALIPER_DATA_DIR: dataDir, CALIPER_ADMIN_EMAIL: 'admin@bench.local', CALIPER_ADMIN_PASSWORD: 'bench-admin-password-1', CALIPER_LOG_LEVEL: 'warn' });
  const cfg = server.prepareDataDir(config);
  mark('loadConfig + prepareDataDir');
  const handle = await server.openDatabase(cfg.database);
  mark('openDatabase');
  const applied = await server.migrate(handle.db);
  mark(`migrate`);
  const deps = { db: handle.db, dbKind: handle.kind, blobs: await createBlobStore(cfg.blobStore), clock: systemClock, config: cfg };
  mark('createBlobStore');
  const seeded = await seedAdmin(deps, cfg.admin.email, cfg.admin.password, generatePassword);
  mark('seedAdmin');
  const app = await server.buildApp(deps, { logger: true });
  mark('buildApp (register plugins + routes)');
  await app.listen({ host: '127.0.0.1', port: 0 });
  mark('app.listen (ready: plugin init, route compile)');
  const res = await fetch(`http://127.0.0.1:${app.server.address().port}/api/health`);
  await res.text();
  mark('first GET /api/health');
  t.total = performance.now();
  await app.close();
  await handle.close();
  process.stdout.write(JSON.stringify({ t, applied: applied.length, seeded: Boolean(seeded) }) + '\n');
}

function runChild(dataDir) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').filter((l) => l.startsWith('{"t"')).pop();
      if (code !== 0 || !line) reject(new Error(`phase run failed (${code}): ${err.slice(-800)}`));
      else resolve(JSON.parse(line));
    });
  });
}

// Import cost of each top-level dependency on its own, in a fresh process (not additive: shared
// sub-dependencies are counted in each).
const IMPORTS = ['fastify', 'zod', '@caliper/core', '@caliper/media', 'kysely', 'pg', 'better-sqlite3', '@node-rs/argon2', '@fastify/swagger', '@fastify/swagger-ui', '@fastify/multipart', '@fastify/static', '@fastify/rate-limit', '@fastify/cookie', 'fastify-type-provider-zod'];

async function importChild(spec) {
  const t0 = performance.now();
  const { createRequire } = await import('node:module');
  const req = createRequire(path.join(root, 'apps/server/package.json'));
  let target;
  try {
    target = pathToFileURL(req.resolve(spec)).href;
  } catch {
    target = spec;
  }
  const t1 = performance.now();
  await import(target);
  process.stdout.write(JSON.stringify({ ms: performance.now() - t1, resolveMs: t1 - t0 }) + '\n');
}

function runImport(spec) {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--import', spec], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('exit', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()).ms);
      } catch {
        resolve(NaN);
      }
    });
  });
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]);
} else if (process.argv[2] === '--import') {
  await importChild(process.argv[3]);
} else if (process.argv[2] === '--imports') {
  console.log('import time of each dependency alone, fresh process, median of 3 (ms)');
  for (const spec of IMPORTS) {
    const xs = [await runImport(spec), await runImport(spec), await runImport(spec)].sort((a, b) => a - b);
    console.log(`${spec.padEnd(28)} ${xs[1].toFixed(0).padStart(6)}`);
  }
} else {
  const RUNS = Math.max(1, Math.min(20, Number(process.env.BENCH_RUNS ?? 5)));
  const fresh = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = await mkdtemp(path.join(tmpdir(), 'caliper-phase-'));
    try {
      fresh.push(await runChild(dir));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const existing = [];
  const dir = await mkdtemp(path.join(tmpdir(), 'caliper-phase-'));
  try {
    await runChild(dir);
    for (let i = 0; i < RUNS; i++) existing.push(await runChild(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const phases = Object.keys(fresh[0].t);
  console.log(`cold-start phases, median of ${RUNS} runs (ms), in-process timing of a fresh node process`);
  console.log(`${'phase'.padEnd(50)} ${'fresh dir'.padStart(10)} ${'existing'.padStart(10)}`);
  for (const p of phases) {
    const f = median(fresh.map((r) => r.t[p] ?? 0));
    const e = median(existing.map((r) => r.t[p] ?? 0));
    console.log(`${p.padEnd(50)} ${f.toFixed(0).padStart(10)} ${e.toFixed(0).padStart(10)}`);
  }
}
