// Shared fixture for the save benchmarks: label schema, documents, PNGs, API setup and the
// in-process server with the bare comparison route. Only 127.0.0.1 is contacted.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pngjs from 'pngjs';
import { sql } from 'kysely';
import { createBenchDatabase, root, mulberry32 } from './common.mjs';
const { PNG } = pngjs;

export const ADMIN = { email: 'admin@bench.local', password: 'bench-admin-password-1' };
const USER_PASSWORD = 'annotator-bench-pass';

/** The built server (apps/server/dist); exits with a hint when it is not built. */
export async function loadServer() {
  const dist = path.join(root, 'apps/server/dist/index.js');
  if (!existsSync(dist)) {
    console.error('The server is not built; run: npx tsc -b packages/core packages/media apps/server apps/cli');
    process.exit(1);
  }
  return import(dist);
}

/**
 * Creates the server in-process on a temp data dir (SQLite) or a fresh PostgreSQL database, adds
 * the bare comparison route `PUT /bench/bare/:key` (one upsert of the raw body text into
 * `bench_writes` in the same database) and listens on 127.0.0.1. close() drops everything.
 */
export async function startBenchServer(kind) {
  const { createServer, loadConfig } = await loadServer();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'caliper-bench-'));
  let database = null;
  const env = {
    CALIPER_HOST: '127.0.0.1',
    CALIPER_PORT: '0',
    CALIPER_DATA_DIR: dataDir,
    CALIPER_ADMIN_EMAIL: ADMIN.email,
    CALIPER_ADMIN_PASSWORD: ADMIN.password,
    CALIPER_LOG_LEVEL: 'silent',
  };
  let server = null;
  const close = async () => {
    if (server) await server.close().catch((e) => console.error('server close failed:', e));
    await rm(dataDir, { recursive: true, force: true });
    await database?.drop();
  };
  try {
    if (kind === 'postgres') {
      database = await createBenchDatabase();
      env.CALIPER_DATABASE_URL = database.url;
    }
    server = await createServer(loadConfig(env), { logger: false });
    const { app, deps } = server;
    const db = deps.db;
    await sql`create table if not exists bench_writes (id text primary key, body text, created_at text)`.execute(db);
    // Same app, same hooks, same database; the JSON body is kept as the raw text (own scope, so
    // the API's JSON parser is untouched) and written in one statement.
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
    return { app, deps, db, url, close };
  } catch (err) {
    await close();
    throw err;
  }
}

// Realistic label schema and documents

export const LABEL_SCHEMA = {
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

const r2 = (v) => Math.round(v * 100) / 100;

/**
 * A document of about `targetBytes` of JSON for a 2048×2048 radiograph: 1–3 asset tags, then
 * boxes and polygons (20–200 vertices, 2 decimals) until the target is reached.
 */
export function makeDocument(seed, userId, targetBytes) {
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

/** A tiny real 8-bit greyscale PNG (pngjs), different for every seed. */
export function makePng(width, height, seed) {
  const opts = { width, height, bitDepth: 8, colorType: 0, inputColorType: 0, inputHasAlpha: false };
  const png = new PNG(opts);
  png.data = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) png.data[y * width + x] = (x * 37 + y * 11 + seed * 101) % 256;
  return PNG.sync.write(png, opts);
}

// ---------------------------------------------------------------------------------------------
// A minimal API client for the setup (global fetch, 127.0.0.1 only)

export class Api {
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
export async function mapLimit(items, limit, fn) {
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

/**
 * Over the API: a project with LABEL_SCHEMA, one task with `count` tiny PNGs, `count` annotator
 * users each assigned a one-image job, each logged in; returns per user the request headers
 * (Bearer token, or session cookie + X-CSRF-Token).
 */
export async function setupAnnotators(url, { count, auth = 'token' }) {
  const CLIENTS = count;
  const AUTH = auth;
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
  return { users, projectId: project.id, taskId: task.id, setupMs: Date.now() - t0 };
}

