// Annotation-save throughput benchmark: PUT /api/jobs/{id}/assets/{assetId}/annotations under
// 200 concurrent annotators, compared with a bare route on the same Fastify app that writes the
// same request bytes to the same database in one statement. See docs/benchmarks.md.
//
//   npm run bench:saves                         # SQLite and PostgreSQL
//   BENCH_DBS=sqlite npm run bench:saves        # only one database
//   BENCH_DURATION=15 BENCH_WARMUP=3 BENCH_CLIENTS=200 BENCH_AUTH=token|session BENCH_NO_DOCS=1
//
// Needs the server built (npx tsc -b packages/core packages/media apps/server apps/cli) and, for
// PostgreSQL, a server at 127.0.0.1:5432 that lets `postgres` create databases (CALIPER_BENCH_PG_URL
// overrides). Only 127.0.0.1 is contacted.
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { deflateSync, crc32 } from 'node:zlib';
import { sql } from 'kysely';
import pg from 'pg';
import { appendToDocs, machineInfo, PG_ADMIN_URL } from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const serverDist = path.join(root, 'apps/server/dist/index.js');
if (!existsSync(serverDist)) {
  console.error('The server is not built; run: npx tsc -b packages/core packages/media apps/server apps/cli');
  process.exit(1);
}
const { createServer, loadConfig } = await import(serverDist);

const DBS = (process.env.BENCH_DBS ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 200);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 15);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 3);
const AUTH = process.env.BENCH_AUTH ?? 'token';
const PACED = process.env.BENCH_PACED !== '0';
const WRITE_DOCS = process.env.BENCH_NO_DOCS !== '1';
const ADMIN = { email: 'admin@bench.local', password: 'bench-admin-password-1' };
const USER_PASSWORD = 'annotator-bench-pass';
if (!(CLIENTS >= 1 && CLIENTS <= 1000) || !(DURATION_S > 0 && DURATION_S <= 300) || !(WARMUP_S >= 0 && WARMUP_S <= 60)) {
  console.error('BENCH_CLIENTS must be 1..1000, BENCH_DURATION 1..300 s, BENCH_WARMUP 0..60 s');
  process.exit(2);
}
if (!['token', 'session'].includes(AUTH)) {
  console.error('BENCH_AUTH must be token or session');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Realistic label schema and documents

const LABEL_SCHEMA = {
  version: 1,
  labels: [
    { name: 'Normal', color: '#2e7d32', shortcut: '1', kinds: ['tag'], attributes: [] },
    {
      name: 'Abnormal',
      color: '#c62828',
      shortcut: '2',
      kinds: ['tag'],
      attributes: [
        { name: 'severity', type: 'select', options: ['mild', 'moderate', 'severe'], required: true },
        { name: 'confidence', type: 'number', min: 0, max: 100, step: 1 },
      ],
    },
    { name: 'Ungradable', color: '#616161', shortcut: '3', kinds: ['tag'], attributes: [] },
    { name: 'Motion artifact', color: '#9e9d24', shortcut: '4', kinds: ['tag'], attributes: [] },
    {
      name: 'Nodule',
      color: '#ff7043',
      shortcut: 'n',
      kinds: ['box', 'polygon'],
      description: 'Rounded opacity up to 3 cm',
      attributes: [
        { name: 'type', type: 'select', options: ['solid', 'part-solid', 'ground-glass'], required: true },
        { name: 'calcified', type: 'checkbox', default: false },
        { name: 'size', type: 'number', min: 0, max: 100, step: 0.5 },
        { name: 'findings', type: 'multiselect', options: ['spiculated', 'lobulated', 'cavitated', 'juxtapleural'], default: [] },
        { name: 'note', type: 'text', maxLength: 500 },
      ],
    },
    {
      name: 'Mass',
      color: '#d81b60',
      shortcut: 'm',
      kinds: ['box', 'polygon'],
      attributes: [{ name: 'malignancy', type: 'select', options: ['benign', 'indeterminate', 'suspicious'], required: true }],
    },
    { name: 'Consolidation', color: '#8e24aa', shortcut: 'c', kinds: ['polygon'], attributes: [{ name: 'confidence', type: 'number', min: 0, max: 100, step: 1 }] },
    { name: 'Effusion', color: '#1e88e5', shortcut: 'e', kinds: ['polygon'], attributes: [{ name: 'side', type: 'select', options: ['left', 'right'], required: true }] },
    { name: 'Lung', color: '#00acc1', shortcut: 'l', kinds: ['polygon'], attributes: [{ name: 'side', type: 'select', options: ['left', 'right'], required: true }] },
    { name: 'Heart', color: '#e53935', shortcut: 'h', kinds: ['polygon'], attributes: [] },
    {
      name: 'Device',
      color: '#fdd835',
      shortcut: 'd',
      kinds: ['box'],
      attributes: [{ name: 'type', type: 'select', options: ['tube', 'line', 'pacemaker', 'clip'], required: true }],
    },
    { name: 'Fracture', color: '#6d4c41', shortcut: 'f', kinds: ['box', 'polygon'], attributes: [{ name: 'acute', type: 'checkbox' }] },
  ],
};

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const r2 = (v) => Math.round(v * 100) / 100;

/**
 * A document of about `targetBytes` of JSON for a 2048×2048 radiograph: 1–3 asset tags, then
 * boxes and polygons (20–200 vertices, 2 decimals) until the target is reached.
 */
function makeDocument(seed, userId, targetBytes) {
  const rng = mulberry32(seed);
  const int = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
  const pick = (xs) => xs[Math.floor(rng() * xs.length)];
  const at = new Date(Date.UTC(2026, 10, 28, 8, 0, int(0, 3599))).toISOString();
  const objects = [];
  let n = 0;
  const base = (kind, label, attributes) => ({
    id: `obj-${seed}-${++n}`,
    kind,
    label,
    attributes,
    source: n % 7 === 0 ? 'model:chestnet-v2' : 'manual',
    createdBy: userId,
    createdAt: at,
    updatedAt: at,
  });
  objects.push({ ...base('tag', 'Abnormal', { severity: pick(['mild', 'moderate', 'severe']), confidence: int(50, 100) }), scope: { type: 'asset' } });
  if (rng() < 0.5) objects.push({ ...base('tag', 'Motion artifact', {}), scope: { type: 'asset' } });
  const attrsFor = (label) => {
    switch (label) {
      case 'Nodule':
        return {
          type: pick(['solid', 'part-solid', 'ground-glass']),
          calcified: rng() < 0.3,
          size: int(4, 60) / 2,
          findings: ['spiculated', 'lobulated', 'cavitated', 'juxtapleural'].filter(() => rng() < 0.3),
          ...(rng() < 0.3 ? { note: 'Compare with prior study; follow-up CT in 3 months recommended.' } : {}),
        };
      case 'Mass':
        return { malignancy: pick(['benign', 'indeterminate', 'suspicious']) };
      case 'Consolidation':
        return { confidence: int(40, 100) };
      case 'Effusion':
      case 'Lung':
        return { side: pick(['left', 'right']) };
      case 'Device':
        return { type: pick(['tube', 'line', 'pacemaker', 'clip']) };
      case 'Fracture':
        return { acute: rng() < 0.5 };
      default:
        return {};
    }
  };
  const size = () => Buffer.byteLength(JSON.stringify({ objects }));
  for (let guard = 0; guard < 5000; guard++) {
    const remaining = targetBytes - size();
    if (remaining < 450) break;
    const maxVertices = Math.floor((remaining - 350) / 17);
    if (rng() < 0.35 || maxVertices < 20) {
      const label = pick(['Nodule', 'Mass', 'Device', 'Fracture']);
      const w = r2(10 + rng() * 300);
      const h = r2(10 + rng() * 300);
      objects.push({ ...base('box', label, attrsFor(label)), x: r2(rng() * (2048 - w)), y: r2(rng() * (2048 - h)), width: w, height: h });
    } else {
      const label = pick(['Nodule', 'Mass', 'Consolidation', 'Effusion', 'Lung', 'Heart', 'Fracture']);
      const count = Math.min(int(20, 200), maxVertices);
      const cx = 300 + rng() * 1448;
      const cy = 300 + rng() * 1448;
      const radius = 30 + rng() * 250;
      const points = [];
      for (let i = 0; i < count; i++) {
        const a = (2 * Math.PI * i) / count;
        const rr = radius * (0.85 + 0.3 * rng());
        points.push([r2(cx + rr * Math.cos(a)), r2(cy + rr * Math.sin(a))]);
      }
      objects.push({ ...base('polygon', label, attrsFor(label)), points });
    }
  }
  return { objects };
}

/** A tiny real 8-bit greyscale PNG, different for every seed. */
function makePng(width, height, seed) {
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = (x * 37 + y * 11 + seed * 101) % 256;
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// ---------------------------------------------------------------------------------------------
// A minimal API client for the setup (global fetch, 127.0.0.1 only)

class Api {
  constructor(base) {
    this.base = base;
    this.cookie = null;
    this.csrf = null;
  }
  async req(method, url, body) {
    const headers = {};
    if (this.cookie) headers.cookie = this.cookie;
    if (this.csrf && method !== 'GET') headers['x-csrf-token'] = this.csrf;
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(this.base + url, { method, headers, body: payload, signal: AbortSignal.timeout(60_000) });
    for (const s of res.headers.getSetCookie()) {
      const [pair] = s.split(';');
      if (pair.startsWith('caliper_session=')) this.cookie = pair;
    }
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    if (json && typeof json.csrfToken === 'string') this.csrf = json.csrfToken;
    if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${text.slice(0, 300)}`);
    return json;
  }
  static async login(base, email, password) {
    const a = new Api(base);
    await a.req('POST', '/api/auth/login', { email, password });
    return a;
  }
}

/** Runs fn over items with at most `limit` in flight. */
async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

async function setup(url) {
  const t0 = Date.now();
  const admin = await Api.login(url, ADMIN.email, ADMIN.password);
  const project = await admin.req('POST', '/api/projects', {
    name: 'Chest X-ray findings (bench)',
    guidelines: '# Guidelines\nOutline every finding; tag the study as a whole.',
    labelSchema: LABEL_SCHEMA,
  });
  const task = await admin.req('POST', `/api/projects/${project.id}/tasks`, { name: 'Bench batch' });
  const fd = new FormData();
  for (let i = 0; i < CLIENTS; i++) fd.append('file', new Blob([makePng(16, 16, i)], { type: 'image/png' }), `bench/img-${String(i).padStart(4, '0')}.png`);
  const up = await admin.req('POST', `/api/tasks/${task.id}/assets`, fd);
  if (up.accepted.length !== CLIENTS) throw new Error(`only ${up.accepted.length} of ${CLIENTS} PNGs were accepted: ${JSON.stringify(up.rejected).slice(0, 300)}`);
  const jobs = (await admin.req('POST', `/api/tasks/${task.id}/jobs`, { assetsPerJob: 1 })).items;
  const users = await mapLimit(Array.from({ length: CLIENTS }, (_, i) => i), 4, async (i) => {
    const u = await admin.req('POST', '/api/users', { email: `annotator${i}@bench.local`, name: `Annotator ${i}`, password: USER_PASSWORD });
    await admin.req('PUT', `/api/projects/${project.id}/members/${u.id}`, { role: 'annotator' });
    const job = jobs[i];
    await admin.req('PATCH', `/api/jobs/${job.id}`, { assigneeId: u.id });
    const full = await admin.req('GET', `/api/jobs/${job.id}`);
    const session = await Api.login(url, u.email, USER_PASSWORD);
    let headers;
    if (AUTH === 'token') {
      const t = await session.req('POST', '/api/tokens', { name: 'bench' });
      headers = { authorization: `Bearer ${t.token}` };
    } else {
      headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
    }
    return { userId: u.id, jobId: job.id, assetId: full.assets[0].id, headers };
  });
  return { users, projectId: project.id, setupMs: Date.now() - t0 };
}

// ---------------------------------------------------------------------------------------------
// Running one load phase in a separate process

function runLoad(job) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'load.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('load generator did not finish in time'));
    }, job.warmupMs + job.durationMs + 120_000);
    let done = false;
    child.on('message', (m) => {
      done = true;
      clearTimeout(limit);
      if (m.ok) resolve(m.result);
      else reject(new Error(m.error));
    });
    child.on('exit', (code) => {
      clearTimeout(limit);
      if (!done) reject(new Error(`load generator exited with ${code}`));
    });
    child.send(job);
  });
}

function procStat() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + (line[4] ?? 0);
  return { idle, total: line.reduce((a, b) => a + b, 0) };
}

/** Runs one phase and adds server-side measurements (server process CPU, event-loop delay, machine CPU). */
async function measured(job) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const st0 = procStat();
  const t0 = performance.now();
  const result = await runLoad(job);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const st1 = procStat();
  h.disable();
  return {
    ...result,
    serverCpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    machineBusyPct: (1 - (st1.idle - st0.idle) / (st1.total - st0.total)) * 100,
    loopDelayP99: h.percentile(99) / 1e6,
    loopDelayMax: h.max / 1e6,
  };
}

// ---------------------------------------------------------------------------------------------

const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');

async function benchDatabase(kind) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'caliper-bench-'));
  let dbName = null;
  const env = {
    CALIPER_HOST: '127.0.0.1',
    CALIPER_PORT: '0',
    CALIPER_DATA_DIR: dataDir,
    CALIPER_ADMIN_EMAIL: ADMIN.email,
    CALIPER_ADMIN_PASSWORD: ADMIN.password,
    CALIPER_LOG_LEVEL: 'silent',
  };
  if (kind === 'postgres') {
    dbName = `caliper_bench_${randomBytes(6).toString('hex')}`;
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const u = new URL(PG_ADMIN_URL);
    u.pathname = `/${dbName}`;
    env.CALIPER_DATABASE_URL = u.toString();
  }
  let server = null;
  try {
    server = await createServer(loadConfig(env), { logger: false });
    const { app, deps } = server;
    const db = deps.db;
    await sql`create table if not exists bench_writes (id text primary key, body text, created_at text)`.execute(db);
    // The comparison route: same app, same hooks, same database; one upsert of the raw body.
    await app.register(async (scope) => {
      scope.removeContentTypeParser('application/json');
      scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
      scope.put('/bench/bare/:key', { config: {} }, async (request) => {
        const now = new Date().toISOString();
        await sql`insert into bench_writes (id, body, created_at) values (${request.params.key}, ${request.body}, ${now})
                  on conflict (id) do update set body = excluded.body, created_at = excluded.created_at`.execute(db);
        return { ok: true, updatedAt: now };
      });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${app.server.address().port}`;
    console.log(`[${kind}] server at ${url}; setting up ${CLIENTS} annotators…`);
    const { users, setupMs } = await setup(url);
    const docs = users.map((u, i) => {
      const target = Math.round(5 * 1024 + ((45 * 1024) * i) / Math.max(1, CLIENTS - 1));
      return JSON.stringify(makeDocument(1000 + i, u.userId, target));
    });
    const docBytes = docs.map((d) => Buffer.byteLength(d));
    const objectsPerDoc = docs.map((d) => JSON.parse(d).objects.length);
    console.log(`[${kind}] setup took ${(setupMs / 1000).toFixed(1)} s; documents ${fmt(Math.min(...docBytes) / 1024)}–${fmt(Math.max(...docBytes) / 1024)} KB`);

    const revisions = users.map(() => 0);
    const phase = async (mode, intervalMs) => {
      const clients = users.map((u, i) => ({
        path: mode === 'saves' ? `/api/jobs/${u.jobId}/assets/${u.assetId}/annotations` : `/bench/bare/${u.jobId}.${u.assetId}`,
        headers: u.headers,
        doc: docs[i],
        revision: mode === 'saves' ? revisions[i] : 0,
      }));
      const label = `${mode}${intervalMs ? ` paced (1 per ${Math.round(intervalMs)} ms per client)` : ''}`;
      console.log(`[${kind}] ${label}: ${WARMUP_S} s warm-up + ${DURATION_S} s…`);
      const r = await measured({ url, mode, clients, warmupMs: WARMUP_S * 1000, durationMs: DURATION_S * 1000, intervalMs });
      if (mode === 'saves') r.finalRevisions.forEach((v, i) => (revisions[i] = v));
      console.log(
        `[${kind}] ${label}: ${fmt(r.throughput)} req/s, p50 ${fmt(r.p50)} p90 ${fmt(r.p90)} p99 ${fmt(r.p99)} max ${fmt(r.max)} ms, errors ${r.errors}, server CPU ${fmt(r.serverCpuPct, 0)}%, machine ${fmt(r.machineBusyPct, 0)}%`,
      );
      if (r.errorSamples.length) console.log(`[${kind}]   error samples: ${r.errorSamples.join(' | ')}`);
      delete r.finalRevisions;
      return r;
    };

    const saves = await phase('saves');
    const bare = await phase('bare');
    let pacedSaves = null;
    let pacedBare = null;
    if (PACED) {
      // Half of the measured save capacity, spread evenly over the clients (an autosave-like load).
      const intervalMs = Math.min(20_000, Math.max(100, (CLIENTS / Math.max(1, saves.throughput * 0.5)) * 1000));
      pacedSaves = await phase('saves', intervalMs);
      pacedBare = await phase('bare', intervalMs);
    }

    // Consistency check: every save the clients saw acknowledged is stored as a revision.
    const stored = await sql`select count(*) as n, coalesce(sum(revision), 0) as revs from annotation_docs`.execute(db);
    const revRows = await sql`select count(*) as n from annotation_revisions`.execute(db);
    const check = {
      docs: Number(stored.rows[0].n),
      headRevisionSum: Number(stored.rows[0].revs),
      clientRevisionSum: revisions.reduce((a, b) => a + b, 0),
      revisionRows: Number(revRows.rows[0].n),
    };
    console.log(`[${kind}] stored: ${check.docs} documents, ${check.revisionRows} revisions; head revisions ${check.headRevisionSum} vs acknowledged ${check.clientRevisionSum}`);
    return {
      kind,
      setupMs,
      docKb: { min: Math.min(...docBytes) / 1024, mean: docBytes.reduce((a, b) => a + b, 0) / docBytes.length / 1024, max: Math.max(...docBytes) / 1024 },
      objects: { min: Math.min(...objectsPerDoc), max: Math.max(...objectsPerDoc) },
      saves,
      bare,
      pacedSaves,
      pacedBare,
      check,
    };
  } finally {
    if (server) await server.close().catch((e) => console.error('close failed', e));
    await rm(dataDir, { recursive: true, force: true });
    if (dbName) {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
    }
  }
}

function row(name, r, bareRef) {
  return `| ${name} | ${fmt(r.throughput)} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.errors} | ${fmt(r.serverCpuPct, 0)}% | ${fmt(r.machineBusyPct, 0)}% | ${bareRef ? `${fmt(r.throughput / bareRef.throughput, 2)}×` : ''} |`;
}

function markdown(results, info) {
  const L = [];
  L.push(`## Annotation saves vs bare write — ${info.date}`);
  L.push('');
  L.push(`Machine: ${info.nproc} vCPU (${info.cpu}), memory ${info.memory}; Node ${info.node}; PostgreSQL ${info.postgres} on 127.0.0.1.`);
  L.push('');
  const first = results[0];
  L.push(
    `Method: \`npm run bench:saves\`. Server built from this tree, started in-process with \`createServer\` (logging off); ` +
      `load generated by a separate process (\`bench/load.mjs\`, \`node:http\` keep-alive agent). ${CLIENTS} annotators, each assigned its own ` +
      `one-image job, each client loops \`PUT /api/jobs/{id}/assets/{assetId}/annotations\` with \`baseRevision\` taken from the previous response ` +
      `(${AUTH === 'token' ? 'personal access tokens, Bearer' : 'session cookie + X-CSRF-Token'}), no think time, ${WARMUP_S} s warm-up then ${DURATION_S} s measured ` +
      `(requests completing inside the window). Documents: ${first.objects.min}–${first.objects.max} objects (asset tags, boxes, polygons with 20–200 vertices), ` +
      `${fmt(first.docKb.min)}–${fmt(first.docKb.max)} KB (mean ${fmt(first.docKb.mean)} KB), valid against a 12-label chest X-ray schema. ` +
      `"bare" = the same bodies, same clients, to \`PUT /bench/bare/:key\` added to the same Fastify app, which upserts the raw body text into a ` +
      `\`bench_writes\` table in the same database in one statement (no auth lookup, no JSON parse, no validation, no transaction). ` +
      `"paced" = the same clients, each sending one request every N ms (offered load = half the saturated save throughput), to show latency below saturation. ` +
      `Server CPU = CPU time of the server process / wall time (100% = one core); machine = all cores busy.`,
  );
  L.push('');
  L.push('| run | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU | machine busy | saves/bare |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    L.push(row(`${r.kind}: saves`, r.saves, r.bare));
    L.push(row(`${r.kind}: bare`, r.bare));
    if (r.pacedSaves) {
      L.push(row(`${r.kind}: saves paced (${fmt(r.pacedSaves.clients / (r.pacedSaves.intervalMs / 1000), 0)} req/s offered)`, r.pacedSaves, r.pacedBare));
      L.push(row(`${r.kind}: bare paced`, r.pacedBare));
    }
  }
  L.push('');
  const verdicts = results.map((r) => {
    const ratio = r.saves.throughput / r.bare.throughput;
    const v = [`${r.kind}: saves/bare ${fmt(ratio, 2)}× (target ≥ 0.7×: ${ratio >= 0.7 ? 'met' : 'missed'})`];
    if (r.kind === 'sqlite') v.push(`p99 ${fmt(r.saves.p99)} ms at saturation (target < 50 ms: ${r.saves.p99 < 50 ? 'met' : 'missed'})${r.pacedSaves ? `, ${fmt(r.pacedSaves.p99)} ms paced` : ''}`);
    v.push(`save errors ${r.saves.errors + (r.pacedSaves?.errors ?? 0)}`);
    v.push(`stored ${r.check.revisionRows} revisions, head revisions match acknowledged saves: ${r.check.headRevisionSum === r.check.clientRevisionSum ? 'yes' : 'NO'}`);
    return `* ${v.join('; ')}.`;
  });
  L.push(...verdicts);
  L.push('');
  return L.join('\n');
}

{
  const info = machineInfo();
  const results = [];
  for (const kind of DBS) {
    if (!['sqlite', 'postgres'].includes(kind)) throw new Error(`unknown database ${kind}`);
    results.push(await benchDatabase(kind));
  }
  const md = markdown(results, info);
  console.log('\n' + md);
  if (WRITE_DOCS) await appendToDocs(md);
  const failed = results.some((r) => r.saves.errors > 0 || (r.pacedSaves?.errors ?? 0) > 0);
  process.exit(failed ? 1 : 0);
}
