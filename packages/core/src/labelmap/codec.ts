/**
 * "CLM1": the binary container of a 3D label map (segmentation), one raw-deflate chunk per slice.
 *
 * ```
 * bytes 0..3   ASCII "CLM1"
 * bytes 4..7   uint32 LE n = header length
 * bytes 8..8+n UTF-8 JSON header { shape: [cols, rows, slices], dtype, base?, chunks: [{ k, offset, length, encoding }] }
 * body         concatenated chunk bytes (raw deflate of one slice's cols*rows little-endian samples)
 * ```
 *
 * A FULL container lists every slice 0..slices-1 exactly once (all-zero slices as "empty", length 0).
 * A PATCH names the full container it applies to (`base`, sha256 hex) and lists only changed slices.
 * Applying a patch copies compressed chunk bytes (no recompression), so a server can build the
 * new full container from a one-slice patch in a few milliseconds. Pure TypeScript (fflate), for
 * the browser and Node alike.
 */
import { type DeflateOptions, deflateSync, Inflate, inflateSync } from 'fflate';

export const LABELMAP_MAGIC = 'CLM1';
export const LABELMAP_DTYPES = ['uint8', 'uint16'] as const;
export type LabelmapDtype = (typeof LABELMAP_DTYPES)[number];
export type LabelmapSlice = Uint8Array | Uint16Array;
export type LabelmapShape = [cols: number, rows: number, slices: number];

export interface LabelmapChunk {
  /** slice index */
  k: number;
  /** byte offset in the body (after the header) */
  offset: number;
  /** compressed bytes (0 for "empty") */
  length: number;
  encoding: 'empty' | 'deflate';
}

export interface LabelmapHeader {
  shape: LabelmapShape;
  dtype: LabelmapDtype;
  /** sha256 hex of the full container a patch applies to; absent in a full container */
  base?: string;
  chunks: LabelmapChunk[];
  /** where the body starts in the container (8 + header length); not part of the JSON */
  bodyOffset: number;
}

export interface EncodeLabelmapOptions {
  shape: readonly [number, number, number];
  dtype: LabelmapDtype;
  /** The samples of slice k (cols*rows, row-major), a Uint8Array for uint8 and a Uint16Array for uint16. */
  slices: (k: number) => LabelmapSlice;
  /** Encode only these slices (a patch; needs `base`). Without it every slice is encoded. */
  only?: Iterable<number>;
  /** sha256 hex of the full container this patch applies to. */
  base?: string;
  /** deflate level 1..9 (default 1: label maps compress well and speed matters for autosave). */
  level?: number;
  /**
   * Slices the caller knows are all background (e.g. never painted in a map that started
   * empty): written as "empty" without reading them, which keeps a first full save of a
   * 512×512×300 map to the few slices actually painted.
   */
  knownEmpty?: (k: number) => boolean;
}

export class LabelmapFormatError extends Error {
  override readonly name = 'LabelmapFormatError';
}

/** Bounds that keep a hostile container from asking for absurd allocations. */
export const LABELMAP_LIMITS = {
  /** JSON header bytes */
  maxHeaderBytes: 16 * 1024 * 1024,
  /** samples in one slice (cols*rows) */
  maxSliceSamples: 1 << 26,
  /** slices */
  maxSlices: 1 << 16,
} as const;

const SHA256_HEX = /^[0-9a-f]{64}$/;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const textEncoder = new TextEncoder();

const bytesPerSample = (dtype: LabelmapDtype) => (dtype === 'uint16' ? 2 : 1);

/**
 * The largest compressed chunk accepted for a slice of `raw` bytes: deflate never needs more
 * than the stored-block size plus a small overhead, so anything longer is not a real slice.
 */
const maxChunkBytes = (raw: number) => raw + 5 * Math.ceil(raw / 16383) + 1024 + (raw >> 3);

function fail(message: string): never {
  throw new LabelmapFormatError(`Label map container: ${message}`);
}

function checkShape(shape: unknown): LabelmapShape {
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((d) => Number.isInteger(d) && (d as number) > 0)) {
    fail('shape must be [cols, rows, slices] of positive integers');
  }
  const [cols, rows, slices] = shape as [number, number, number];
  if (cols * rows > LABELMAP_LIMITS.maxSliceSamples) fail(`a slice of ${cols}×${rows} samples is larger than the limit of ${LABELMAP_LIMITS.maxSliceSamples}`);
  if (slices > LABELMAP_LIMITS.maxSlices) fail(`${slices} slices is more than the limit of ${LABELMAP_LIMITS.maxSlices}`);
  return [cols, rows, slices];
}

function checkDtype(dtype: unknown): LabelmapDtype {
  if (dtype !== 'uint8' && dtype !== 'uint16') fail(`dtype must be "uint8" or "uint16", not ${JSON.stringify(dtype)?.slice(0, 40)}`);
  return dtype;
}

function isAllZero(s: LabelmapSlice): boolean {
  const bytes = new Uint8Array(s.buffer, s.byteOffset, s.byteLength);
  let i = 0;
  if (bytes.byteOffset % 4 === 0) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    for (; i < words.length; i++) if (words[i] !== 0) return false;
    i *= 4;
  }
  for (; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Little-endian bytes of a slice (a view when the platform is little-endian). */
function sliceBytes(s: LabelmapSlice): Uint8Array {
  if (s instanceof Uint8Array || LITTLE_ENDIAN) return new Uint8Array(s.buffer, s.byteOffset, s.byteLength);
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[i * 2] = s[i]! & 0xff;
    out[i * 2 + 1] = s[i]! >>> 8;
  }
  return out;
}

interface ChunkBytes {
  k: number;
  encoding: 'empty' | 'deflate';
  bytes: Uint8Array;
}

/** Lays out a container: magic, header length, JSON header, then the chunk bytes in the given order. */
function assemble(shape: LabelmapShape, dtype: LabelmapDtype, base: string | undefined, parts: ChunkBytes[]): Uint8Array {
  let offset = 0;
  const chunks: LabelmapChunk[] = parts.map((p) => {
    const c = { k: p.k, offset, length: p.bytes.length, encoding: p.encoding };
    offset += p.bytes.length;
    return c;
  });
  const json: Record<string, unknown> = { shape, dtype };
  if (base !== undefined) json.base = base;
  json.chunks = chunks;
  const header = textEncoder.encode(JSON.stringify(json));
  const out = new Uint8Array(8 + header.length + offset);
  out.set(textEncoder.encode(LABELMAP_MAGIC), 0);
  new DataView(out.buffer).setUint32(4, header.length, true);
  out.set(header, 8);
  let at = 8 + header.length;
  for (const p of parts) {
    out.set(p.bytes, at);
    at += p.bytes.length;
  }
  return out;
}

/** Encodes a full container (every slice) or, with `only` and `base`, a patch of the listed slices. */
export function encodeLabelmap(opts: EncodeLabelmapOptions): Uint8Array {
  const shape = checkShape([...opts.shape]);
  const dtype = checkDtype(opts.dtype);
  const [cols, rows, slices] = shape;
  if (opts.base !== undefined && !SHA256_HEX.test(opts.base)) fail('base must be a lowercase sha256 hex digest');
  if (opts.only !== undefined && opts.base === undefined) fail('a patch (only) needs the base it applies to');
  const level = opts.level ?? 1;
  if (!Number.isInteger(level) || level < 1 || level > 9) fail('level must be an integer 1..9');
  let ks: number[];
  if (opts.only === undefined) ks = Array.from({ length: slices }, (_, k) => k);
  else {
    ks = [...new Set(opts.only)].sort((a, b) => a - b);
    for (const k of ks) if (!Number.isInteger(k) || k < 0 || k >= slices) fail(`slice ${k} is outside 0..${slices - 1}`);
  }
  const parts: ChunkBytes[] = ks.map((k) => {
    if (opts.knownEmpty?.(k) === true) return { k, encoding: 'empty', bytes: new Uint8Array(0) };
    const s = opts.slices(k);
    const rightType = dtype === 'uint16' ? s instanceof Uint16Array : s instanceof Uint8Array;
    if (!rightType) fail(`slice ${k} must be a ${dtype === 'uint16' ? 'Uint16Array' : 'Uint8Array'} for dtype ${dtype}`);
    if (s.length !== cols * rows) fail(`slice ${k} has ${s.length} samples, expected ${cols}×${rows} = ${cols * rows}`);
    if (isAllZero(s)) return { k, encoding: 'empty', bytes: new Uint8Array(0) };
    return { k, encoding: 'deflate', bytes: deflateSync(sliceBytes(s), { level: level as DeflateOptions['level'] }) };
  });
  return assemble(shape, dtype, opts.base, parts);
}

/**
 * Reads and validates the header: magic, header length, JSON structure, every chunk inside the
 * body, k within range and listed once, and a full container complete. Throws LabelmapFormatError.
 */
export function decodeLabelmapHeader(bytes: Uint8Array): LabelmapHeader {
  if (bytes.length < 8) fail(`${bytes.length} bytes is too short (at least 8 bytes of magic and header length)`);
  if (bytes[0] !== 0x43 || bytes[1] !== 0x4c || bytes[2] !== 0x4d || bytes[3] !== 0x31) fail('bad magic (expected "CLM1")');
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (n === 0) fail('the header is empty');
  if (n > LABELMAP_LIMITS.maxHeaderBytes) fail(`header length ${n} is over the limit of ${LABELMAP_LIMITS.maxHeaderBytes} bytes`);
  if (8 + n > bytes.length) fail(`header length ${n} reaches beyond the end of the ${bytes.length}-byte container (truncated?)`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch {
    fail('the header is not valid UTF-8 JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('the header must be a JSON object');
  const h = json as Record<string, unknown>;
  for (const key of Object.keys(h)) if (!['shape', 'dtype', 'base', 'chunks'].includes(key)) fail(`unknown header field ${JSON.stringify(key.slice(0, 40))}`);
  const shape = checkShape(h.shape);
  const dtype = checkDtype(h.dtype);
  if (h.base !== undefined && (typeof h.base !== 'string' || !SHA256_HEX.test(h.base))) fail('base must be a lowercase sha256 hex digest');
  const base = h.base as string | undefined;
  if (!Array.isArray(h.chunks)) fail('chunks must be an array');
  const [cols, rows, slices] = shape;
  const raw = cols * rows * bytesPerSample(dtype);
  const bodyOffset = 8 + n;
  const bodyLength = bytes.length - bodyOffset;
  const seen = new Uint8Array(slices);
  const chunks: LabelmapChunk[] = h.chunks.map((c: unknown, i: number): LabelmapChunk => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) fail(`chunks[${i}] must be an object`);
    const { k, offset, length, encoding, ...rest } = c as Record<string, unknown>;
    if (Object.keys(rest).length) fail(`chunks[${i}] has unknown field ${JSON.stringify(Object.keys(rest)[0]!.slice(0, 40))}`);
    if (!Number.isInteger(k) || (k as number) < 0 || (k as number) >= slices) fail(`chunks[${i}].k = ${JSON.stringify(k)} is not a slice in 0..${slices - 1}`);
    if (!Number.isInteger(offset) || (offset as number) < 0) fail(`chunks[${i}].offset must be a non-negative integer`);
    if (!Number.isInteger(length) || (length as number) < 0) fail(`chunks[${i}].length must be a non-negative integer`);
    if (encoding !== 'empty' && encoding !== 'deflate') fail(`chunks[${i}].encoding must be "empty" or "deflate"`);
    const chunk: LabelmapChunk = { k: k as number, offset: offset as number, length: length as number, encoding: encoding as LabelmapChunk['encoding'] };
    if (encoding === 'empty' && chunk.length !== 0) fail(`chunks[${i}] (slice ${chunk.k}) is "empty" but has length ${chunk.length}`);
    if (encoding === 'deflate' && chunk.length === 0) fail(`chunks[${i}] (slice ${chunk.k}) is "deflate" with length 0`);
    if (chunk.offset + chunk.length > bodyLength) fail(`chunk of slice ${chunk.k} (offset ${chunk.offset}, length ${chunk.length}) is outside the ${bodyLength}-byte body (truncated?)`);
    if (chunk.length > maxChunkBytes(raw)) fail(`chunk of slice ${chunk.k} is ${chunk.length} bytes, more than any deflate of a ${raw}-byte slice`);
    if (seen[chunk.k]) fail(`slice ${chunk.k} is listed twice`);
    seen[chunk.k] = 1;
    return chunk;
  });
  if (base === undefined && chunks.length !== slices) {
    const missing = seen.findIndex((s) => s === 0);
    fail(`a full container must list all ${slices} slices; it lists ${chunks.length} (slice ${missing} is missing)`);
  }
  const header: LabelmapHeader = { shape, dtype, chunks, bodyOffset };
  if (base !== undefined) header.base = base;
  return header;
}

/** Inflates `src` into exactly `out.length` bytes; fails on more or less (deflate bombs, truncation). */
function inflateExact(src: Uint8Array, out: Uint8Array, k: number): void {
  const expected = out.length;
  const tooMuch = () => fail(`slice ${k} inflates to more than ${expected} bytes`);
  let got = 0;
  try {
    if (src.length <= 65536) {
      // Small input: even a maximal expansion (~1032×) stays cheap. One spare byte tells "more" apart.
      const buf = new Uint8Array(expected + 1);
      got = inflateSync(src, { out: buf }).length;
      if (got > expected) tooMuch();
      out.set(buf.subarray(0, got));
    } else {
      // Larger input: inflate in steps and stop as soon as the output passes the expected size.
      let overflow = false;
      const inf = new Inflate((data: Uint8Array) => {
        if (overflow) return;
        if (got + data.length > expected) {
          overflow = true;
          return;
        }
        out.set(data, got);
        got += data.length;
      });
      const STEP = 16384;
      for (let at = 0; at < src.length && !overflow; at += STEP) inf.push(src.subarray(at, at + STEP), at + STEP >= src.length);
      if (overflow) tooMuch();
    }
  } catch (err) {
    if (err instanceof LabelmapFormatError) throw err;
    // A stored block that does not fit the preallocated buffer surfaces as a RangeError.
    if (err instanceof RangeError) tooMuch();
    fail(`slice ${k} is not valid deflate data (${err instanceof Error ? err.message : 'inflate failed'})`);
  }
  if (got !== expected) fail(`slice ${k} inflates to ${got} bytes, expected ${expected}`);
}

/** The samples of one chunk (zeros for "empty"), checked to be exactly cols*rows samples. */
export function decodeLabelmapSlice(bytes: Uint8Array, header: LabelmapHeader, chunk: LabelmapChunk): LabelmapSlice {
  const [cols, rows] = header.shape;
  const samples = cols * rows;
  const bps = bytesPerSample(header.dtype);
  const buffer = new ArrayBuffer(samples * bps);
  const out = new Uint8Array(buffer);
  if (chunk.encoding === 'deflate') {
    const start = header.bodyOffset + chunk.offset;
    if (start + chunk.length > bytes.length) fail(`chunk of slice ${chunk.k} is outside the container`);
    inflateExact(bytes.subarray(start, start + chunk.length), out, chunk.k);
  }
  if (header.dtype === 'uint8') return out;
  const u16 = new Uint16Array(buffer);
  if (!LITTLE_ENDIAN) for (let i = 0; i < samples; i++) u16[i] = out[i * 2]! | (out[i * 2 + 1]! << 8);
  return u16;
}

/** The whole volume of a FULL container, slice-major (index = (k*rows + j)*cols + i). */
export function decodeLabelmap(bytes: Uint8Array): { shape: LabelmapShape; dtype: LabelmapDtype; data: LabelmapSlice } {
  const header = decodeLabelmapHeader(bytes);
  if (header.base !== undefined) fail('this is a patch (it has a base); decode the full container it applies to');
  const [cols, rows, slices] = header.shape;
  const per = cols * rows;
  const data = header.dtype === 'uint16' ? new Uint16Array(per * slices) : new Uint8Array(per * slices);
  for (const chunk of header.chunks) {
    if (chunk.encoding === 'empty') continue;
    data.set(decodeLabelmapSlice(bytes, header, chunk), chunk.k * per);
  }
  return { shape: header.shape, dtype: header.dtype, data };
}

function chunkBytes(bytes: Uint8Array, header: LabelmapHeader, chunk: LabelmapChunk): ChunkBytes {
  const start = header.bodyOffset + chunk.offset;
  return { k: chunk.k, encoding: chunk.encoding, bytes: bytes.subarray(start, start + chunk.length) };
}

/**
 * The full container after applying `patch` to `full`: the compressed bytes of unchanged slices
 * are copied from `full`, those of changed slices from `patch` (nothing is recompressed or
 * inflated; callers that must trust the result check the patch's chunks with decodeLabelmapSlice).
 * The caller checks that `patch.base` is the sha256 of `full`.
 */
export function applyLabelmapPatch(full: Uint8Array, patch: Uint8Array): Uint8Array {
  const fh = decodeLabelmapHeader(full);
  const ph = decodeLabelmapHeader(patch);
  if (fh.base !== undefined) fail('the base must be a full container, not a patch');
  if (ph.base === undefined) fail('the patch has no base');
  if (fh.shape.some((d, i) => d !== ph.shape[i])) fail(`the patch shape [${ph.shape.join(', ')}] differs from the base shape [${fh.shape.join(', ')}]`);
  if (fh.dtype !== ph.dtype) fail(`the patch dtype ${ph.dtype} differs from the base dtype ${fh.dtype}`);
  const parts: ChunkBytes[] = new Array<ChunkBytes>(fh.shape[2]);
  for (const c of fh.chunks) parts[c.k] = chunkBytes(full, fh, c);
  for (const c of ph.chunks) parts[c.k] = chunkBytes(patch, ph, c);
  return assemble(fh.shape, fh.dtype, undefined, parts);
}

/**
 * A full container rewritten in its canonical layout (chunks in slice order, contiguous, no
 * unreferenced bytes), so equal label maps stored from different encoders get equal hashes.
 */
export function canonicalLabelmap(full: Uint8Array): Uint8Array {
  const h = decodeLabelmapHeader(full);
  if (h.base !== undefined) fail('this is a patch (it has a base), not a full container');
  const parts: ChunkBytes[] = new Array<ChunkBytes>(h.shape[2]);
  for (const c of h.chunks) parts[c.k] = chunkBytes(full, h, c);
  return assemble(h.shape, h.dtype, undefined, parts);
}
