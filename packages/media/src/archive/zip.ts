/**
 * Safe extraction of uploaded ZIP and gzip archives, streamed from disk to disk.
 *
 * - ZIP: the central directory is read first (it is small: names, flags, sizes, CRCs), which
 *   tells us up front whether the archive is complete, which entries are encrypted, and the
 *   expected CRC-32 of every entry. The entries themselves are then streamed through fflate's
 *   `Unzip` in small chunks; each entry is written to a generated file name under `destDir`
 *   (never the archive's own name) while its size, the archive total and the expansion ratio are
 *   checked as the bytes flow, so a zip bomb is stopped after a few MB, not after 10 GB.
 * - gzip: node:zlib's streaming gunzip with the same byte and ratio checks.
 *
 * Error messages name entries only by their index, never by their (possibly identifying) names.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createGunzip } from 'node:zlib';
import { Unzip, UnzipInflate, UnzipPassThrough, type UnzipDecoder, type UnzipDecoderConstructor, type UnzipFile } from 'fflate';

export interface ArchiveLimits {
  /** Maximum number of file entries extracted; the rest are rejected. */
  maxEntries: number;
  /** Maximum sum of uncompressed bytes written; extraction stops when reached. */
  maxTotalBytes: number;
  /** Maximum uncompressed size of one entry. */
  maxEntryBytes: number;
  /** Maximum uncompressed/compressed ratio of one entry, checked while inflating. */
  maxRatio: number;
}

/**
 * Defaults sized for imaging uploads:
 * - 20 000 entries: a large CT/MR study export is a few thousand DICOM files; 20k leaves room
 *   for several studies while bounding per-entry bookkeeping.
 * - 20 GiB total, 4 GiB per entry: whole-body studies and long videos fit, a disk does not fill.
 * - ratio 200: real medical data compresses 2-10x (CT air background, mostly-zero label maps
 *   up to ~100x); deflate's theoretical maximum is ~1032x, which bombs approach. The ratio is only
 *   enforced once an entry has produced more than {@link RATIO_GRACE_BYTES} (1 MiB), so small
 *   highly compressible files (text, empty masks) are not rejected.
 */
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxEntries: 20_000,
  maxTotalBytes: 20 * 1024 ** 3,
  maxEntryBytes: 4 * 1024 ** 3,
  maxRatio: 200,
});

/** Output below this size is never rejected for its compression ratio. */
export const RATIO_GRACE_BYTES = 1024 * 1024;

export interface ExtractedEntry {
  /** Safe relative path inside the archive, '/'-separated. */
  name: string;
  /** Where it was written. */
  path: string;
  size: number;
}

export interface RejectedEntry {
  name: string;
  reason: string;
}

export class ArchiveError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArchiveError';
  }
}

const READ_CHUNK = 32 * 1024;
/** Central directories larger than this are refused (20 000 entries need ~2-5 MB). */
const MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024;

export function isZip(head: Uint8Array): boolean {
  return (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    ((head[2] === 0x03 && head[3] === 0x04) || (head[2] === 0x05 && head[3] === 0x06) || (head[2] === 0x07 && head[3] === 0x08))
  );
}

export function isGzip(head: Uint8Array): boolean {
  return head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08;
}

// ---------------------------------------------------------------------------------------------
// Entry names

export type NameCheck = { kind: 'file'; name: string } | { kind: 'skip' } | { kind: 'reject'; reason: string };

/** Classifies an archive entry name: a safe relative path, something to skip silently, or unsafe. */
export function checkEntryName(raw: string): NameCheck {
  if (raw.includes('\0')) return { kind: 'reject', reason: 'entry name contains a NUL character' };
  if (raw.endsWith('/') || raw.endsWith('\\')) return { kind: 'skip' };
  if (/^[a-zA-Z]:/.test(raw)) return { kind: 'reject', reason: 'absolute path (drive letter) in entry name' };
  if (raw.startsWith('/') || raw.startsWith('\\')) return { kind: 'reject', reason: 'absolute path in entry name' };
  const parts = raw.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return { kind: 'reject', reason: 'path traversal (..) in entry name' };
  if (parts.length === 0) return { kind: 'skip' };
  if (parts[0] === '__MACOSX' || parts[parts.length - 1] === '.DS_Store') return { kind: 'skip' };
  return { kind: 'file', name: parts.join('/') };
}

// ---------------------------------------------------------------------------------------------
// Central directory

interface CdEntry {
  rawName: string;
  flags: number;
  method: number;
  crc: number;
}

function u16(b: Buffer, o: number): number {
  return b.readUInt16LE(o);
}
function u32(b: Buffer, o: number): number {
  return b.readUInt32LE(o);
}
function u64(b: Buffer, o: number): number {
  return Number(b.readBigUInt64LE(o));
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  if (bytesRead !== length) throw new ArchiveError('ZIP archive is truncated (central directory incomplete)');
  return buf;
}

async function readCentralDirectory(fh: FileHandle, fileSize: number): Promise<CdEntry[]> {
  const tailLen = Math.min(fileSize, 22 + 0xffff);
  if (tailLen < 22) throw new ArchiveError('not a ZIP archive, or truncated (too short)');
  const tailPos = fileSize - tailLen;
  const tail = await readAt(fh, tailPos, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (u32(tail, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ArchiveError('ZIP archive is truncated or corrupt (end of central directory not found)');
  let count = u16(tail, eocd + 10);
  let cdSize = u32(tail, eocd + 12);
  let cdOffset = u32(tail, eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    // ZIP64: locator sits right before the EOCD record.
    const loc = eocd - 20;
    if (loc < 0 || u32(tail, loc) !== 0x07064b50) throw new ArchiveError('ZIP64 archive is corrupt (locator missing)');
    const z64pos = u64(tail, loc + 8);
    if (z64pos + 56 > fileSize) throw new ArchiveError('ZIP64 archive is corrupt (bad end record offset)');
    const z64 = await readAt(fh, z64pos, 56);
    if (u32(z64, 0) !== 0x06064b50) throw new ArchiveError('ZIP64 archive is corrupt (end record missing)');
    count = u64(z64, 32);
    cdSize = u64(z64, 40);
    cdOffset = u64(z64, 48);
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY) throw new ArchiveError('ZIP central directory is too large');
  if (cdOffset + cdSize > fileSize) throw new ArchiveError('ZIP archive is truncated or corrupt (central directory out of range)');
  const cd = await readAt(fh, cdOffset, cdSize);
  const out: CdEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || u32(cd, p) !== 0x02014b50) throw new ArchiveError('ZIP central directory is corrupt');
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen = u16(cd, p + 32);
    if (p + 46 + nameLen > cd.length) throw new ArchiveError('ZIP central directory is corrupt');
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
    // Bit 11: UTF-8 names; otherwise CP437, which fflate (and we) read as latin1.
    const rawName = nameBytes.toString(flags & 0x800 ? 'utf8' : 'latin1');
    out.push({ rawName, flags, method, crc });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoders that can be stopped: once an entry is rejected (or skipped) its remaining compressed
// bytes are dropped instead of being inflated.

function decoder(compression: number, create: (() => UnzipDecoder) | null): UnzipDecoderConstructor {
  class Stoppable implements UnzipDecoder {
    static readonly compression = compression;
    ondata: UnzipDecoder['ondata'] = () => {};
    private stopped = false;
    private readonly inner: UnzipDecoder | null;
    constructor() {
      this.inner = create ? create() : null;
      if (this.inner) this.inner.ondata = (err, data, final) => this.ondata(err, data, final);
    }
    push(chunk: Uint8Array, final: boolean): void {
      if (this.stopped || !this.inner) {
        if (final) this.ondata(null, new Uint8Array(0), true);
        return;
      }
      this.inner.push(chunk, final);
    }
    terminate(): void {
      this.stopped = true;
    }
  }
  return Stoppable;
}

let discards: UnzipDecoderConstructor[] | undefined;

/** Registers decoders on `unzip`: stored and deflate are extracted, every other method discarded. */
function registerDecoders(unzip: Unzip): void {
  // fflate keeps the data of an entry that is never started in memory, and fails on an
  // unregistered method, so every other method code gets a decoder that drops the bytes.
  discards ??= Array.from({ length: 0x10000 }, (_, c) => c)
    .filter((c) => c !== 0 && c !== 8)
    .map((c) => decoder(c, null));
  for (const d of discards) unzip.register(d);
  unzip.register(decoder(0, () => new UnzipPassThrough()));
  unzip.register(decoder(8, () => new UnzipInflate()));
}

// ---------------------------------------------------------------------------------------------
// Extraction

interface EntryState {
  index: number;
  name: string;
  path: string;
  written: number;
  crc: number;
  expectedCrc: number | null;
  chunkStart: number;
  ended: boolean;
  file: UnzipFile;
}

type Event =
  | { kind: 'open'; st: EntryState }
  | { kind: 'data'; st: EntryState; chunk: Uint8Array }
  | { kind: 'close'; st: EntryState }
  | { kind: 'abort'; st: EntryState; reason: string };

export async function extractZip(
  zipPath: string,
  destDir: string,
  limits?: Partial<ArchiveLimits>,
): Promise<{ entries: ExtractedEntry[]; rejected: RejectedEntry[] }> {
  const lim: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS, ...limits };
  const entries: ExtractedEntry[] = [];
  const rejected: RejectedEntry[] = [];
  const written = new Set<string>();
  const handles = new Map<EntryState, FileHandle>();

  await mkdir(destDir, { recursive: true });
  const src = await open(zipPath, 'r');
  try {
    const size = (await src.stat()).size;
    const cd = await readCentralDirectory(src, size);
    const byName = new Map<string, CdEntry[]>();
    for (const e of cd) {
      const list = byName.get(e.rawName);
      if (list) list.push(e);
      else byName.set(e.rawName, [e]);
    }

    const queue: Event[] = [];
    let seen = 0;
    let fileCount = 0;
    let total = 0;
    let stop: string | null = null;
    let fatal: unknown = null;
    let chunkStart = 0;
    let chunkEnd = 0;
    let seq = 0;

    const unzip = new Unzip((file) => {
      seen++;
      const cdEntry = byName.get(file.name)?.shift();
      const check = checkEntryName(file.name);
      const skip = (reason: string | null, label?: string): void => {
        if (reason !== null) rejected.push({ name: label ?? `#${seen}`, reason });
        file.ondata = () => {};
        file.start();
        file.terminate();
      };
      if (check.kind === 'skip') return skip(null);
      if (stop !== null) return skip(check.kind === 'file' ? stop : null, check.kind === 'file' ? check.name : undefined);
      if (check.kind === 'reject') return skip(check.reason, file.name);
      const name = check.name;
      if (!cdEntry) {
        fatal = new ArchiveError(`ZIP archive is inconsistent (entry #${seen} missing from central directory)`);
        return skip(null);
      }
      if (cdEntry.flags & 1) return skip('entry is encrypted', name);
      if (file.compression !== 0 && file.compression !== 8)
        return skip(`unsupported compression method ${file.compression}`, name);
      if (fileCount >= lim.maxEntries) {
        stop = `archive has more than ${lim.maxEntries} entries`;
        return skip(stop, name);
      }
      fileCount++;
      if (file.originalSize !== undefined && file.originalSize > lim.maxEntryBytes)
        return skip(`entry larger than ${lim.maxEntryBytes} bytes`, name);
      if (
        file.size !== undefined &&
        file.originalSize !== undefined &&
        file.originalSize > RATIO_GRACE_BYTES &&
        file.originalSize > lim.maxRatio * Math.max(1, file.size)
      )
        return skip(`compression ratio above ${lim.maxRatio}`, name);

      seq++;
      const st: EntryState = {
        index: seq,
        name,
        path: join(destDir, String(seq).padStart(6, '0')),
        written: 0,
        crc: 0,
        expectedCrc: cdEntry.flags & 8 && cdEntry.crc === 0 ? null : cdEntry.crc,
        chunkStart,
        ended: false,
        file,
      };
      queue.push({ kind: 'open', st });
      let dead = false;
      file.ondata = (err, data, final) => {
        if (dead) return;
        if (err) {
          dead = true;
          fatal = new ArchiveError(`ZIP entry #${seen} is corrupt (${err.message})`, { cause: err });
          return;
        }
        if (data.length) {
          st.written += data.length;
          total += data.length;
          const compressed = Math.max(1, chunkEnd - st.chunkStart);
          let reason: string | null = null;
          if (total > lim.maxTotalBytes) {
            reason = `archive total exceeds ${lim.maxTotalBytes} bytes`;
            stop = reason;
          } else if (st.written > lim.maxEntryBytes) reason = `entry larger than ${lim.maxEntryBytes} bytes`;
          else if (st.written > RATIO_GRACE_BYTES && st.written / compressed > lim.maxRatio)
            reason = `compression ratio above ${lim.maxRatio}`;
          if (reason !== null) {
            dead = true;
            file.terminate();
            queue.push({ kind: 'abort', st, reason });
            return;
          }
          st.crc = crc32(data, st.crc);
          queue.push({ kind: 'data', st, chunk: data });
        }
        if (final) {
          dead = true;
          st.ended = true;
          queue.push({ kind: 'close', st });
        }
      };
      file.start();
    });
    registerDecoders(unzip);

    const drain = async (): Promise<void> => {
      while (queue.length) {
        const ev = queue.shift() as Event;
        const fh = handles.get(ev.st);
        if (ev.kind === 'open') {
          written.add(ev.st.path);
          handles.set(ev.st, await open(ev.st.path, 'wx'));
        } else if (ev.kind === 'data') {
          if (fh) await fh.write(ev.chunk);
        } else {
          if (fh) await fh.close();
          handles.delete(ev.st);
          if (ev.kind === 'abort') {
            await rm(ev.st.path, { force: true });
            written.delete(ev.st.path);
            rejected.push({ name: ev.st.name, reason: ev.reason });
          } else if (ev.st.expectedCrc !== null && ev.st.crc !== ev.st.expectedCrc) {
            throw new ArchiveError(`ZIP entry #${ev.st.index} is corrupt (CRC-32 mismatch)`);
          } else {
            entries.push({ name: ev.st.name, path: ev.st.path, size: ev.st.written });
          }
        }
      }
    };

    let pos = 0;
    try {
      for (;;) {
        const buf = Buffer.alloc(READ_CHUNK);
        const { bytesRead } = await src.read(buf, 0, READ_CHUNK, pos);
        chunkStart = pos;
        pos += bytesRead;
        chunkEnd = pos;
        const last = bytesRead === 0 || pos >= size;
        unzip.push(buf.subarray(0, bytesRead), last);
        if (fatal) throw fatal;
        await drain();
        if (stop !== null || last) break;
      }
    } catch (e) {
      if (e instanceof ArchiveError) throw e;
      if (e instanceof Error && !('code' in e && typeof e.code === 'string' && e.code.startsWith('E')))
        throw new ArchiveError(`ZIP archive is corrupt or truncated (${e.message})`, { cause: e });
      throw e;
    }
    if (stop !== null) {
      // Name the entries never reached, from the central directory.
      const rest = [...byName.values()].flat();
      for (const e of rest) {
        const c = checkEntryName(e.rawName);
        if (c.kind === 'file') rejected.push({ name: c.name, reason: stop });
      }
      // Entries cut off mid-way.
      for (const st of handles.keys()) {
        await handles.get(st)?.close();
        handles.delete(st);
        await rm(st.path, { force: true });
        written.delete(st.path);
        rejected.push({ name: st.name, reason: stop });
      }
    } else {
      if (handles.size > 0) throw new ArchiveError('ZIP archive is truncated (an entry ends early)');
      if (seen < cd.length) throw new ArchiveError('ZIP archive is truncated or inconsistent (fewer entries than its directory lists)');
    }
    return { entries, rejected };
  } catch (e) {
    for (const fh of handles.values()) await fh.close().catch(() => {});
    for (const p of written) await rm(p, { force: true });
    throw e;
  } finally {
    await src.close();
  }
}

// ---------------------------------------------------------------------------------------------
// gzip

class Counter extends Transform {
  bytes = 0;
  constructor(private readonly check?: (n: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    try {
      this.check?.(this.bytes);
    } catch (e) {
      cb(e as Error);
      return;
    }
    cb(null, chunk);
  }
}

class LimitError extends Error {}

/**
 * Decompresses a gzip file to `dest` (created exclusively), stopping early if the output grows
 * beyond `maxBytes` or beyond `maxRatio` times the compressed bytes read so far (after 1 MiB).
 * On any failure `dest` is removed and an {@link ArchiveError} is thrown.
 */
export async function gunzipToFile(
  src: string,
  dest: string,
  limits?: { maxBytes: number; maxRatio: number },
): Promise<{ size: number }> {
  const maxBytes = limits?.maxBytes ?? DEFAULT_ARCHIVE_LIMITS.maxEntryBytes;
  const maxRatio = limits?.maxRatio ?? DEFAULT_ARCHIVE_LIMITS.maxRatio;
  const input = new Counter();
  const output = new Counter((n) => {
    if (n > maxBytes) throw new LimitError(`gzip output larger than ${maxBytes} bytes`);
    if (n > RATIO_GRACE_BYTES && n / Math.max(1, input.bytes) > maxRatio)
      throw new LimitError(`gzip compression ratio above ${maxRatio}`);
  });
  let created = false;
  try {
    const out = createWriteStream(dest, { flags: 'wx' });
    out.on('open', () => {
      created = true;
    });
    await pipeline(createReadStream(src, { highWaterMark: READ_CHUNK }), input, createGunzip(), output, out);
    return { size: output.bytes };
  } catch (e) {
    if (created) await rm(dest, { force: true });
    if (e instanceof LimitError) throw new ArchiveError(e.message);
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('Z_'))
      throw new ArchiveError(`gzip data is corrupt or truncated (${e.message})`, { cause: e });
    throw e;
  }
}
