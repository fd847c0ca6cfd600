import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export class TooLargeError extends Error {
  override readonly name = 'TooLargeError';
  constructor(readonly limit: number) {
    super(`The file is larger than the limit of ${formatBytes(limit)}`);
  }
}

function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1 && Number.isInteger(v / 1024)) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v} ${units[i]} (${n} bytes)`;
}

/**
 * Stream `stream` into a new file in `tmpDir` while hashing it. Over `maxBytes` the source is
 * destroyed and TooLargeError thrown; on any error the temp file is removed.
 */
export async function spoolToTemp(
  stream: Readable,
  tmpDir: string,
  maxBytes: number,
): Promise<{ path: string; sha256: string; size: number }> {
  await mkdir(tmpDir, { recursive: true });
  const path = join(tmpDir, `spool-${randomUUID()}`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > maxBytes) return cb(new TooLargeError(maxBytes));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(stream, meter, createWriteStream(path, { flags: 'wx' }));
  } catch (err) {
    stream.destroy();
    await rm(path, { force: true });
    throw err;
  }
  return { path, sha256: hash.digest('hex'), size };
}
