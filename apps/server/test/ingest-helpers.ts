import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { expect } from 'vitest';
import type { Client } from './harness.js';

/** The shared sample data beside the repository (read in place, never copied). */
export const SHARED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/data');

export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** A multipart body with the files under `root` named by their relative path (prefixed). */
export async function formOfFiles(root: string, names: string[], prefix = ''): Promise<FormData> {
  const fd = new FormData();
  for (const n of names) fd.append('file', new Blob([await readFile(path.join(root, n))]), prefix + n);
  return fd;
}

export async function waitForRun(client: Client, runId: string, timeoutMs = 180_000) {
  const t0 = Date.now();
  for (;;) {
    const r = await client.get(`/api/ingest-runs/${runId}`);
    expect(r.status).toBe(200);
    if (r.body.run.state === 'done' || r.body.run.state === 'failed') return r.body as { run: any; files: any[] };
    if (Date.now() - t0 > timeoutMs) throw new Error(`ingest run ${runId} still ${r.body.run.state} (${r.body.run.phase}) after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

/** One stored frame as raw samples (sent uncompressed: the client asks for identity encoding). */
export async function fetchFrame(client: Client, assetId: string, index: number): Promise<Buffer> {
  const h: Record<string, string> = { 'accept-encoding': 'identity' };
  if (client.cookie) h.cookie = client.cookie;
  if (client.token) h.authorization = `Bearer ${client.token}`;
  const res = await fetch(`${client.base}/api/assets/${assetId}/frames/${index}`, { headers: h });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** All frames of an asset concatenated. */
export async function fetchFrames(client: Client, assetId: string, count: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) parts.push(await fetchFrame(client, assetId, i));
  return Buffer.concat(parts);
}

export function maybeGunzip(b: Buffer): Buffer {
  if (b[0] === 0x1f && b[1] === 0x8b) {
    try {
      return gunzipSync(b);
    } catch {
      return b;
    }
  }
  return b;
}
