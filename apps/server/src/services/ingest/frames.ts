import { createHash, randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Deps } from '../../deps.js';

const gzipAsync = promisify(gzip);

export type FrameDtype = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type FrameArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export function dtypeOf(a: FrameArray): FrameDtype {
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Float32Array) return 'float32';
  return 'float64';
}

export interface StoredBlob {
  sha256: string;
  size: number;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Puts bytes into the blob store under their sha256 (via a short-lived temp file holding de-identified data only). */
export async function putBytes(deps: Deps, bytes: Uint8Array, contentType: string): Promise<StoredBlob> {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const tmp = path.join(deps.config.dataDir, 'tmp', `blob-${randomUUID()}`);
  await writeFile(tmp, bytes, { flag: 'wx' });
  try {
    await deps.blobs.putFile(tmp, sha256, { contentType });
  } finally {
    await rm(tmp, { force: true });
  }
  return { sha256, size: bytes.byteLength };
}

export interface StoredFrame extends StoredBlob {
  rawSize: number;
}

/**
 * Stores one frame as little-endian samples in its own type, gzip-compressed (level 1: the
 * browser inflates it natively as Content-Encoding: gzip). Content-addressed, so identical
 * frames are stored once and a retried ingest writes nothing new.
 */
export async function storeFrame(deps: Deps, data: FrameArray): Promise<StoredFrame> {
  if (!HOST_LITTLE_ENDIAN) throw new Error('Frame storage assumes a little-endian host.');
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const packed = await gzipAsync(raw, { level: 1 });
  const stored = await putBytes(deps, packed, 'application/octet-stream');
  return { ...stored, rawSize: raw.byteLength };
}
