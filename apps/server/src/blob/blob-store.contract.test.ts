import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, createBlobStore, InvalidBlobKeyError, spoolToTemp, TooLargeError } from './index.js';
import type { BlobStore } from './index.js';

// s3rver ships no types; describe just what the test uses.
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: {
  address: string; port: number; silent: boolean; directory: string; configureBuckets: { name: string; configs: string[] }[];
}) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const k of it) out.push(k);
  return out.sort();
}

let work: string;
let s3: S3rverInstance | undefined;
let s3Endpoint = '';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'caliper-blob-'));
  s3 = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: join(work, 's3rver'),
    configureBuckets: [{ name: 'caliper-test', configs: [] }],
  });
  const { port } = await s3.run();
  s3Endpoint = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

const makers: [string, () => Promise<BlobStore>][] = [
  ['local', () => createBlobStore({ kind: 'local', dir: join(work, 'local-store') })],
  ['s3', () => createBlobStore({
    kind: 's3', bucket: 'caliper-test', prefix: 'blobs/', endpoint: s3Endpoint, region: 'us-east-1',
    forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER',
  })],
];

describe.each(makers)('BlobStore contract: %s', (_name, make) => {
  let store: BlobStore;
  let big: Buffer;
  let bigPath: string;
  let bigKey: string;
  let small: Buffer;
  let smallPath: string;
  let smallKey: string;

  beforeAll(async () => {
    store = await make();
    big = randomBytes(12 * 1024 * 1024 + 123); // multipart on S3 (8 MB parts)
    bigKey = sha(big);
    bigPath = join(work, `src-${_name}-big`);
    await writeFile(bigPath, big);
    small = Buffer.from(`hello ${_name}\n`);
    smallKey = sha(small);
    smallPath = join(work, `src-${_name}-small`);
    await writeFile(smallPath, small);
  });

  afterAll(async () => {
    await store.close?.();
  });

  it('round-trips a multi-MB file byte-exact and leaves the source in place', async () => {
    expect(await store.putFile(bigPath, bigKey, { contentType: 'application/octet-stream' })).toEqual({ created: true });
    const back = await readAll(await store.get(bigKey));
    expect(back.length).toBe(big.length);
    expect(sha(back)).toBe(bigKey);
    expect(await readAll(createReadStream(bigPath))).toHaveLength(big.length);
  });

  it('put is idempotent', async () => {
    expect(await store.putFile(smallPath, smallKey, { contentType: 'text/plain' })).toEqual({ created: true });
    expect(await store.putFile(smallPath, smallKey, { contentType: 'text/plain' })).toEqual({ created: false });
    expect((await readAll(await store.get(smallKey))).equals(small)).toBe(true);
  });

  it('putBytes stores in-memory bytes under their sha256, idempotently', async () => {
    const bytes = new TextEncoder().encode(`frame bytes for ${_name}`);
    const key = sha(Buffer.from(bytes));
    expect(await store.putBytes(bytes, { contentType: 'application/octet-stream' })).toEqual({ sha256: key, created: true });
    expect(await store.putBytes(bytes, { contentType: 'application/octet-stream' })).toEqual({ sha256: key, created: false });
    expect((await readAll(await store.get(key))).equals(Buffer.from(bytes))).toBe(true);
    await store.delete(key);
  });

  it('stat gives the size, or null when absent', async () => {
    expect(await store.stat(bigKey)).toEqual({ size: big.length });
    expect(await store.stat(smallKey)).toEqual({ size: small.length });
    expect(await store.stat('0'.repeat(64))).toBeNull();
  });

  it('lists all keys', async () => {
    expect(await collect(store.list())).toEqual([bigKey, smallKey].sort());
  });

  it('get of a missing key rejects with BlobNotFoundError', async () => {
    await expect(store.get('f'.repeat(64))).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('rejects invalid keys', async () => {
    for (const bad of ['../../etc/passwd', 'A'.repeat(64), 'a'.repeat(63), '', `${'a'.repeat(63)}/`]) {
      await expect(store.get(bad)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.stat(bad)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.delete(bad)).rejects.toBeInstanceOf(InvalidBlobKeyError);
      await expect(store.putFile(smallPath, bad, { contentType: 'text/plain' })).rejects.toBeInstanceOf(InvalidBlobKeyError);
    }
  });

  it('delete removes the key and is silent when absent', async () => {
    await store.delete(smallKey);
    expect(await store.stat(smallKey)).toBeNull();
    await expect(store.get(smallKey)).rejects.toBeInstanceOf(BlobNotFoundError);
    await store.delete(smallKey);
    await store.delete('e'.repeat(64));
    expect(await collect(store.list())).toEqual([bigKey]);
  });
});

describe('LocalBlobStore layout', () => {
  it('stores at root/ab/cd/<sha> with no temp files left', async () => {
    const dir = join(work, 'layout');
    const store = await createBlobStore({ kind: 'local', dir });
    const data = Buffer.from('layout');
    const key = sha(data);
    const src = join(work, 'layout-src');
    await writeFile(src, data);
    await store.putFile(src, key, { contentType: 'text/plain' });
    expect(await readdir(join(dir, key.slice(0, 2), key.slice(2, 4)))).toEqual([key]);
  });
});

describe('spoolToTemp', () => {
  it('hashes while writing; sha256 equals node crypto', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 7);
    const tmp = join(work, 'spool-ok');
    const r = await spoolToTemp(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), tmp, data.length);
    expect(r.sha256).toBe(sha(data));
    expect(r.size).toBe(data.length);
    expect((await readAll(createReadStream(r.path))).equals(data)).toBe(true);
  });

  it('over the limit: throws TooLargeError naming the limit, destroys the source, leaves no temp file', async () => {
    const tmp = join(work, 'spool-big');
    const chunk = Buffer.alloc(64 * 1024, 1);
    let produced = 0;
    const source = new Readable({
      read() {
        produced += chunk.length;
        this.push(produced > 50 * 1024 * 1024 ? null : chunk); // would be 50 MB
      },
    });
    const err = await spoolToTemp(source, tmp, 1024 * 1024).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooLargeError);
    expect((err as Error).message).toContain('1 MiB (1048576 bytes)');
    expect(source.destroyed).toBe(true);
    expect(produced).toBeLessThan(4 * 1024 * 1024);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('removes the temp file when the source errors', async () => {
    const tmp = join(work, 'spool-err');
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(1000));
    setTimeout(() => source.destroy(new Error('client went away')), 10);
    await expect(spoolToTemp(source, tmp, 1e9)).rejects.toThrow('client went away');
    expect(await readdir(tmp)).toEqual([]);
  });
});
