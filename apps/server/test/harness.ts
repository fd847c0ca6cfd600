import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Config, loadConfig, type RunningServer, startServer } from '../src/index.js';

export const DB_KINDS = ['sqlite', 'postgres'] as const;
export type DbKindName = (typeof DB_KINDS)[number];

export const PG_ADMIN_URL = process.env.CALIPER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestServer {
  url: string;
  server: RunningServer;
  dataDir: string;
  admin: { email: string; password: string };
  close(): Promise<void>;
}

/**
 * Starts a real server on 127.0.0.1 (random port) with a fresh data dir and, for PostgreSQL,
 * a freshly created database that is dropped again in close().
 */
export async function startTestServer(kind: DbKindName, overrides: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'caliper-it-'));
  const admin = { email: 'admin@example.org', password: 'correct-horse-battery' };
  let dbName: string | null = null;
  const env: Record<string, string> = {
    CALIPER_HOST: '127.0.0.1',
    CALIPER_PORT: '0',
    CALIPER_DATA_DIR: dataDir,
    CALIPER_ADMIN_EMAIL: admin.email,
    CALIPER_ADMIN_PASSWORD: admin.password,
    CALIPER_LOG_LEVEL: 'silent',
    ...overrides,
  };
  if (kind === 'postgres') {
    dbName = `caliper_test_${randomBytes(6).toString('hex')}`;
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    await c.query(`CREATE DATABASE ${dbName}`);
    await c.end();
    const u = new URL(PG_ADMIN_URL);
    u.pathname = `/${dbName}`;
    env.CALIPER_DATABASE_URL = u.toString();
  }
  const config: Config = loadConfig(env);
  const server = await startServer(config, { logger: false });
  return {
    url: server.url,
    server,
    dataDir,
    admin,
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
      if (dbName) {
        const c = new pg.Client({ connectionString: PG_ADMIN_URL });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
        await c.end();
      }
    },
  };
}

export interface Res<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small HTTP client that keeps a session cookie and CSRF token, or sends a bearer token. */
export class Client {
  cookie: string | null = null;
  csrf: string | null = null;
  token: string | null = null;
  constructor(readonly base: string) {}

  static async login(base: string, email: string, password: string): Promise<Client> {
    const c = new Client(base);
    const r = await c.post('/api/auth/login', { email, password });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return c;
  }

  static withToken(base: string, token: string): Client {
    const c = new Client(base);
    c.token = token;
    return c;
  }

  async request<T = any>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res<T>> {
    const h: Record<string, string> = { ...headers };
    if (this.cookie) h.cookie = this.cookie;
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (this.csrf && method !== 'GET' && !('x-csrf-token' in h)) h['x-csrf-token'] = this.csrf;
    let payload: BodyInit | undefined;
    if (body instanceof FormData) payload = body;
    else if (typeof body === 'string') {
      payload = body;
      h['content-type'] ??= 'application/json';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    const res = await fetch(this.base + url, { method, headers: h, body: payload });
    const set = res.headers.getSetCookie();
    for (const s of set) {
      const [pair] = s.split(';');
      if (pair?.startsWith('caliper_session=')) this.cookie = pair.endsWith('=') ? null : pair;
    }
    const ct = res.headers.get('content-type') ?? '';
    const parsed = ct.includes('json') ? await res.json() : await res.text();
    if (parsed && typeof parsed === 'object' && 'csrfToken' in parsed && typeof parsed.csrfToken === 'string') this.csrf = parsed.csrfToken;
    return { status: res.status, body: parsed as T, headers: res.headers };
  }
  get<T = any>(url: string) {
    return this.request<T>('GET', url);
  }
  post<T = any>(url: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', url, body, headers);
  }
  put<T = any>(url: string, body?: unknown) {
    return this.request<T>('PUT', url, body);
  }
  patch<T = any>(url: string, body?: unknown) {
    return this.request<T>('PATCH', url, body);
  }
  delete<T = any>(url: string) {
    return this.request<T>('DELETE', url);
  }
}

export const CLASSIFY_SCHEMA = {
  version: 1,
  labels: [
    { name: 'Normal', color: '#2e7d32', shortcut: '1', kinds: ['tag'], attributes: [] },
    {
      name: 'Abnormal',
      color: '#c62828',
      shortcut: '2',
      kinds: ['tag', 'box'],
      attributes: [
        { name: 'severity', type: 'select', options: ['mild', 'moderate', 'severe'], required: true },
        { name: 'confidence', type: 'number', min: 0, max: 100, step: 1, required: false },
      ],
    },
    { name: 'Ungradable', color: '#616161', shortcut: '3', kinds: ['tag'], attributes: [] },
  ],
};

/** Builds a real greyscale PNG (8 or 16 bit) in memory with pngjs, different for every seed. */
export async function makePng(width: number, height: number, bitDepth: 8 | 16, seed = 0): Promise<Buffer> {
  const { PNG } = await import('pngjs');
  const max = bitDepth === 16 ? 65536 : 256;
  const samples = bitDepth === 16 ? new Uint16Array(width * height) : Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) samples[y * width + x] = (x * 37 + y * 11 + seed * 101) % max;
  const opts = { width, height, bitDepth, colorType: 0, inputColorType: 0, inputHasAlpha: false } as const;
  const png = new PNG(opts);
  png.data = samples as unknown as Buffer;
  return PNG.sync.write(png, opts);
}

export function formWith(files: { name: string; data: Buffer | string; type?: string }[], field = 'file'): FormData {
  const fd = new FormData();
  for (const f of files) fd.append(field, new Blob([typeof f.data === "string" ? f.data : new Uint8Array(f.data)], { type: f.type ?? 'application/octet-stream' }), f.name);
  return fd;
}

export const tag = (label: string, userId: string, attributes: Record<string, unknown> = {}, id = `t-${label}`) => ({
  id,
  kind: 'tag',
  scope: { type: 'asset' },
  label,
  attributes,
  source: 'manual',
  createdBy: userId,
  createdAt: '2026-11-28T00:00:00.000Z',
  updatedAt: '2026-11-28T00:00:00.000Z',
});
