// A small API client for end-to-end set-up (projects, tasks, uploads, jobs) that the UI tests
// are not about. It signs in like the web app (session cookie + CSRF header).

import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ApiClient {
  call<T>(method: string, url: string, body?: unknown): Promise<T>;
  raw(method: string, url: string, body?: BodyInit, headers?: Record<string, string>): Promise<Response>;
  userId: string;
}

export async function apiLogin(base: string, email: string, password: string): Promise<ApiClient> {
  const res = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (!res.ok) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!;
  const body = (await res.json()) as { csrfToken: string; user: { id: string } };
  const raw = (method: string, url: string, payload?: BodyInit, headers: Record<string, string> = {}) =>
    fetch(`${base}${url}`, { method, headers: { cookie, 'x-csrf-token': body.csrfToken, ...headers }, body: payload });
  return {
    userId: body.user.id,
    raw,
    async call<T>(method: string, url: string, payload?: unknown): Promise<T> {
      const r = await raw(method, url, payload === undefined ? undefined : JSON.stringify(payload), payload === undefined ? {} : { 'content-type': 'application/json' });
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${url} → ${r.status}: ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}

/** Uploads every file of `dir` (or the single file) to a task and waits for the ingest run to finish. */
export async function uploadAndIngest(api: ApiClient, taskId: string, files: string[]): Promise<void> {
  const form = new FormData();
  for (const f of files) form.append('file', new Blob([readFileSync(f)]), path.basename(f));
  const res = await api.raw('POST', `/api/tasks/${taskId}/uploads`, form);
  if (res.status !== 202) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  const { run } = (await res.json()) as { run: { id: string } };
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await api.call<{ run: { state: string; phase: string } }>('GET', `/api/ingest-runs/${run.id}`);
    if (r.run.state === 'done') return;
    if (r.run.state === 'failed') throw new Error(`ingest failed in phase ${r.run.phase}`);
    if (Date.now() > deadline) throw new Error('ingest did not finish within 120 s');
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

export function filesIn(dir: string): string[] {
  return readdirSync(dir)
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}
