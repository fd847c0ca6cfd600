import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { FrameDtype } from '@caliper/core';
import { readAllBytes } from '../../blob/index.js';
import type { Deps } from '../../deps.js';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export type { FrameDtype };
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

/** Puts de-identified bytes into the blob store under their sha256. */
export async function putBytes(deps: Deps, bytes: Uint8Array, contentType: string): Promise<StoredBlob> {
  const { sha256 } = await deps.blobs.putBytes(bytes, { contentType });
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
  // One zlib call with an output buffer as large as the frame (the default 16 KiB chunks cross
  // to the thread pool dozens of times per frame).
  const packed = await gzipAsync(raw, { level: 1, chunkSize: Math.max(64 * 1024, raw.byteLength) });
  const stored = await putBytes(deps, packed, 'application/octet-stream');
  return { ...stored, rawSize: raw.byteLength };
}

/** The typed array of each stored frame dtype. */
export const FRAME_ARRAYS = {
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  float32: Float32Array,
  float64: Float64Array,
} as const;

/** Reads a stored frame back as its typed array. */
export async function loadFrame(deps: Deps, sha256: string, dtype: FrameDtype): Promise<FrameArray> {
  const raw = await gunzipAsync(await readAllBytes(await deps.blobs.get(sha256)), { chunkSize: 4 << 20 });
  const Ctor = FRAME_ARRAYS[dtype];
  const copy = new Uint8Array(raw.byteLength);
  copy.set(raw);
  return new Ctor(copy.buffer, 0, raw.byteLength / Ctor.BYTES_PER_ELEMENT);
}

/** Stores frames with a few writes in flight at once (the blob store's fsyncs overlap). */
export async function storeFrames(deps: Deps, frames: FrameArray[], inFlight = 6): Promise<StoredFrame[]> {
  const out: StoredFrame[] = new Array<StoredFrame>(frames.length);
  let next = 0;
  const lane = async () => {
    while (next < frames.length) {
      const i = next++;
      out[i] = await storeFrame(deps, frames[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, frames.length) }, lane));
  return out;
}
