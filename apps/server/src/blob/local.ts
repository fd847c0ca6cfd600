import { createHash, randomUUID } from 'node:crypto';
import { copyFile, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { assertBlobKey, BlobNotFoundError, isBlobKey } from './types.js';
import type { BlobStore } from './types.js';

const code = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | null)?.code;

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Content-addressed files under `root/ab/cd/<sha256>`. Writes are atomic and durable. */
export class LocalBlobStore implements BlobStore {
  constructor(readonly root: string) {}

  private pathOf(key: string): string {
    assertBlobKey(key);
    return join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }

  async putFile(localPath: string, sha256: string, _opts: { contentType: string }): Promise<{ created: boolean }> {
    const final = this.pathOf(sha256);
    if (await this.stat(sha256)) return { created: false };
    const dir = dirname(final);
    const firstCreated = await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.tmp-${sha256}-${randomUUID()}`);
    try {
      // A hard link costs no copy and leaves the source in place; other file systems copy.
      try {
        await link(localPath, tmp);
      } catch (err) {
        if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK'].includes(code(err) ?? '')) throw err;
        await copyFile(localPath, tmp);
      }
      await fsyncPath(tmp);
      await rename(tmp, final); // atomic; a concurrent put of the same key writes the same bytes
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await fsyncPath(dir);
    // New directories must be durable too.
    if (firstCreated) for (const d of [dirname(dir), this.root]) await fsyncPath(d);
    return { created: true };
  }

  async putBytes(bytes: Uint8Array, _opts: { contentType: string }): Promise<{ sha256: string; created: boolean }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const final = this.pathOf(sha256);
    if (await this.stat(sha256)) return { sha256, created: false };
    const dir = dirname(final);
    const firstCreated = await mkdir(dir, { recursive: true });
    const tmp = join(dir, `.tmp-${sha256}-${randomUUID()}`);
    try {
      const fh = await open(tmp, 'wx');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, final);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    await fsyncPath(dir);
    if (firstCreated) for (const d of [dirname(dir), this.root]) await fsyncPath(d);
    return { sha256, created: true };
  }

  async get(sha256: string): Promise<NodeJS.ReadableStream> {
    const path = this.pathOf(sha256);
    try {
      const fh = await open(path, 'r');
      return fh.createReadStream(); // closes the handle at end or on destroy
    } catch (err) {
      if (code(err) === 'ENOENT') throw new BlobNotFoundError(sha256);
      throw err;
    }
  }

  async stat(sha256: string): Promise<{ size: number } | null> {
    try {
      const s = await stat(this.pathOf(sha256));
      return { size: s.size };
    } catch (err) {
      if (code(err) === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  async *list(): AsyncIterable<string> {
    const dirs = async (d: string) => {
      try {
        return (await readdir(d, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
      } catch (err) {
        if (code(err) === 'ENOENT') return [];
        throw err;
      }
    };
    for (const a of await dirs(this.root)) {
      if (!/^[0-9a-f]{2}$/.test(a)) continue;
      for (const b of await dirs(join(this.root, a))) {
        for (const name of (await readdir(join(this.root, a, b))).sort()) {
          if (isBlobKey(name) && name.startsWith(a + b)) yield name;
        }
      }
    }
  }
}
