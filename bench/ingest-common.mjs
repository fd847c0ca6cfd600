// Shared by the imaging benchmarks (bench/ingest.mjs, ingest-memory.mjs, transfer.mjs, viewer.mjs):
// Caliper as child processes (`caliper serve`, optionally `caliper worker`) on a temp data dir
// and SQLite or a fresh PostgreSQL database, a streamed multipart upload of a directory, polling
// of the ingest run, and RSS sampling from /proc. Only 127.0.0.1 is contacted.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, openAsBlob, readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createBenchDatabase, root } from './common.mjs';
import { ADMIN, Api } from './fixture.mjs';

export const CLI = path.join(root, 'apps/cli/bin/caliper.js');

export function requireBuilt() {
  if (!existsSync(path.join(root, 'apps/cli/dist/bin.js')) || !existsSync(path.join(root, 'apps/server/dist/index.js'))) {
    console.error('Caliper is not built; run: npx tsc -b packages/core packages/media apps/server apps/cli');
    process.exit(1);
  }
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function spawnCaliper(cmd, env, nodeArgs, label) {
  const child = spawn(process.execPath, [...nodeArgs, CLI, cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  const keep = (d) => {
    tail = (tail + d.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.tail = () => `${label}: ${tail}`;
  return child;
}

async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await child.exited;
  clearTimeout(t);
}

/**
 * Starts `caliper serve` (and with `separateWorker`, `caliper worker` beside it, the server
 * running with CALIPER_WORKER=off) on a fresh data dir and SQLite or a fresh PostgreSQL
 * database. `nodeArgs` go to both processes (e.g. --cpu-prof). close() stops both and removes
 * the data dir and the database.
 */
export async function startCaliper({ db = 'sqlite', separateWorker = false, nodeArgs = [], workerNodeArgs = nodeArgs, env: extraEnv = {} } = {}) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'caliper-bench-ingest-'));
  const port = await freePort();
  let database = null;
  const env = {
    CALIPER_HOST: '127.0.0.1',
    CALIPER_PORT: String(port),
    CALIPER_DATA_DIR: dataDir,
    CALIPER_ADMIN_EMAIL: ADMIN.email,
    CALIPER_ADMIN_PASSWORD: ADMIN.password,
    CALIPER_LOG_LEVEL: 'warn',
    CALIPER_WORKER: separateWorker ? 'off' : 'on',
    ...extraEnv,
  };
  if (db === 'postgres') {
    database = await createBenchDatabase();
    env.CALIPER_DATABASE_URL = database.url;
  }
  const url = `http://127.0.0.1:${port}`;
  let server = null;
  let worker = null;
  const close = async () => {
    await stopChild(worker);
    await stopChild(server);
    await rm(dataDir, { recursive: true, force: true });
    await database?.drop();
  };
  try {
    server = spawnCaliper('serve', env, nodeArgs, 'serve');
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`caliper serve exited: ${server.tail()}`);
      try {
        const r = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) });
        if (r.ok) break;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error(`caliper serve did not start: ${server.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    if (separateWorker) {
      worker = spawnCaliper('worker', env, workerNodeArgs, 'worker');
      await new Promise((r) => setTimeout(r, 1500));
      if (worker.exitCode !== null) throw new Error(`caliper worker exited: ${worker.tail()}`);
    }
    return { url, dataDir, env, server, worker, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Admin session, a project and a task to upload into. */
export async function setupTask(url) {
  const admin = await Api.login(url, ADMIN.email, ADMIN.password);
  const project = await admin.req('POST', '/api/projects', { name: 'Imaging ingest (bench)', labelSchema: { version: 1, labels: [{ name: 'Lesion', color: '#ff7043', kinds: ['box'], attributes: [] }] } });
  const task = await admin.req('POST', `/api/projects/${project.id}/tasks`, { name: 'CT batch' });
  const token = (await admin.req('POST', '/api/tokens', { name: 'bench' })).token;
  return { admin, projectId: project.id, taskId: task.id, token };
}

/** The .dcm files of the given directories (file-backed Blobs: streamed from disk, never held in memory). */
export async function listUploadFiles(dirs) {
  const out = [];
  for (const [d, dir] of dirs.entries()) {
    for (const name of (await readdir(dir)).filter((n) => n.endsWith('.dcm')).sort()) {
      const p = path.join(dir, name);
      out.push({ path: p, name: dirs.length > 1 ? `series${d + 1}/${name}` : name, size: (await stat(p)).size });
    }
  }
  return out;
}

/**
 * One multipart POST /api/tasks/:id/uploads of all files, then GET /api/ingest-runs/:id every
 * `pollMs` until the run is done or failed. Returns wall times (upload = until the 202 arrives,
 * total = until the first poll that sees `done`), the phase change times seen by the polling,
 * the run and a summary of the file statuses.
 */
export async function uploadAndWait(url, token, taskId, files, { pollMs = 100, onPoll } = {}) {
  const fd = new FormData();
  for (const f of files) fd.append('file', await openAsBlob(f.path, { type: 'application/dicom' }), f.name);
  const headers = { authorization: `Bearer ${token}` };
  const t0 = performance.now();
  const res = await fetch(`${url}/api/tasks/${taskId}/uploads`, { method: 'POST', headers, body: fd });
  const body = await res.json();
  const tUploaded = performance.now();
  if (res.status !== 202) throw new Error(`upload → ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  const runId = body.run.id;
  const phases = [{ phase: body.run.phase, atMs: tUploaded - t0 }];
  let run;
  let filesList;
  for (;;) {
    const r = await fetch(`${url}/api/ingest-runs/${runId}`, { headers });
    const j = await r.json();
    const at = performance.now() - t0;
    if (r.status !== 200) throw new Error(`GET run → ${r.status}`);
    run = j.run;
    filesList = j.files;
    onPoll?.(run, at);
    if (phases[phases.length - 1].phase !== run.phase) phases.push({ phase: run.phase, atMs: at });
    if (run.state === 'done' || run.state === 'failed') break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const totalMs = performance.now() - t0;
  const statuses = {};
  for (const f of filesList) statuses[f.status] = (statuses[f.status] ?? 0) + 1;
  const workerMs = Date.parse(run.updatedAt) - Date.parse(run.createdAt);
  return { runId, run, statuses, uploadMs: tUploaded - t0, totalMs, workerMs, phases };
}

/** One multipart upload (≤ 1000 files, the server's part limit); returns the run id and the time to the 202. */
export async function uploadOnly(url, token, taskId, files) {
  const fd = new FormData();
  for (const f of files) fd.append('file', await openAsBlob(f.path, { type: 'application/dicom' }), f.name);
  const t0 = performance.now();
  const res = await fetch(`${url}/api/tasks/${taskId}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: fd });
  const body = await res.json();
  if (res.status !== 202) throw new Error(`upload → ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return { runId: body.run.id, uploadMs: performance.now() - t0 };
}

/** VmRSS and VmHWM of a process in KiB (null once it has gone). */
export function procMem(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k) => Number((new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s) ?? [])[1] ?? NaN);
    return { rss: get('VmRSS'), hwm: get('VmHWM') };
  } catch {
    return null;
  }
}

/** Samples the RSS of `pid` every `ms`; stop() returns { peakKiB, hwmKiB, samples }. */
export function sampleRss(pid, ms = 100) {
  const samples = [];
  let hwm = null;
  const tick = () => {
    const m = procMem(pid);
    if (m) {
      samples.push({ t: performance.now(), rss: m.rss });
      hwm = m.hwm;
    }
  };
  tick();
  const timer = setInterval(tick, ms);
  return {
    stop() {
      clearInterval(timer);
      tick();
      return { peakKiB: Math.max(...samples.map((s) => s.rss)), hwmKiB: hwm, samples };
    },
  };
}

export const fmtS = (ms) => `${(ms / 1000).toFixed(2)} s`;

/**
 * The asset's stored samples as one raw file (frames fetched decoded, concatenated in order),
 * served by a plain node:http server on 127.0.0.1 with no compression: the static-transfer
 * baseline the viewer benches compare with. Returns { url, size, close }.
 */
export async function serveRawVolume(baseUrl, token, assetId, frames, dir) {
  const rawPath = path.join(dir, 'volume.raw');
  const ws = createWriteStream(rawPath);
  for (let i = 0; i < frames; i++) {
    const r = await fetch(`${baseUrl}/api/assets/${assetId}/frames/${i}`, { headers: { authorization: `Bearer ${token}` } });
    if (r.status !== 200) throw new Error(`frame ${i} → ${r.status}`);
    if (!ws.write(Buffer.from(await r.arrayBuffer()))) await new Promise((res) => ws.once('drain', res));
  }
  await new Promise((res, rej) => ws.end((e) => (e ? rej(e) : res())));
  const size = (await stat(rawPath)).size;
  const server = createHttpServer((req, res) => {
    if (req.url !== '/volume.raw') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size, 'access-control-allow-origin': '*', 'timing-allow-origin': '*', 'cache-control': 'no-store' });
    createReadStream(rawPath).pipe(res);
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  return { url: `http://127.0.0.1:${server.address().port}/volume.raw`, size, close: () => new Promise((res) => server.close(() => res())) };
}
