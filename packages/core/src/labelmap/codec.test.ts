import { createHash, randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  applyLabelmapPatch,
  canonicalLabelmap,
  decodeLabelmap,
  decodeLabelmapHeader,
  decodeLabelmapSlice,
  encodeLabelmap,
  LabelmapFormatError,
  type LabelmapDtype,
} from './codec.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A volume with a sphere of label 1, a box of label `boxValue` and some all-zero slices. */
function volume(cols: number, rows: number, slices: number, dtype: LabelmapDtype, boxValue = 2) {
  const data = dtype === 'uint16' ? new Uint16Array(cols * rows * slices) : new Uint8Array(cols * rows * slices);
  const c = [cols / 2, rows / 2, slices / 2];
  const r = Math.min(cols, rows, slices) / 3;
  for (let k = 1; k < slices - 1; k++)
    for (let j = 0; j < rows; j++)
      for (let i = 0; i < cols; i++) {
        const idx = (k * rows + j) * cols + i;
        if ((i - c[0]!) ** 2 + (j - c[1]!) ** 2 + (k - c[2]!) ** 2 < r * r) data[idx] = 1;
        if (i < 3 && j < 2 && k === 2) data[idx] = boxValue;
      }
  const slice = (k: number) => data.subarray(k * cols * rows, (k + 1) * cols * rows);
  return { data, slice, shape: [cols, rows, slices] as [number, number, number] };
}

/** Builds a container by hand from a header object and body bytes. */
function container(header: unknown, body: Uint8Array = new Uint8Array(0), headerLength?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + body.length);
  out.set(new TextEncoder().encode('CLM1'));
  new DataView(out.buffer).setUint32(4, headerLength ?? json.length, true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

function expectFormatError(fn: () => unknown, message: RegExp) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LabelmapFormatError);
    expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a LabelmapFormatError');
}

describe('label map container (CLM1)', () => {
  it.each(['uint8', 'uint16'] as const)('round-trips a %s volume, all-zero slices stored as "empty"', (dtype) => {
    const v = volume(20, 16, 10, dtype, dtype === 'uint16' ? 1000 : 200);
    const bytes = encodeLabelmap({ shape: v.shape, dtype, slices: v.slice });
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('CLM1');
    const header = decodeLabelmapHeader(bytes);
    expect(header.shape).toEqual([20, 16, 10]);
    expect(header.dtype).toBe(dtype);
    expect(header.base).toBeUndefined();
    expect(header.chunks.map((c) => c.k)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(header.chunks[0]).toMatchObject({ encoding: 'empty', length: 0 });
    expect(header.chunks[9]).toMatchObject({ encoding: 'empty', length: 0 });
    expect(header.chunks[5]!.encoding).toBe('deflate');
    const decoded = decodeLabelmap(bytes);
    expect(decoded.shape).toEqual([20, 16, 10]);
    expect(decoded.dtype).toBe(dtype);
    expect(decoded.data).toBeInstanceOf(dtype === 'uint16' ? Uint16Array : Uint8Array);
    expect(Array.from(decoded.data)).toEqual(Array.from(v.data));
    expect(decoded.data[(2 * 16 + 1) * 20 + 2]).toBe(dtype === 'uint16' ? 1000 : 200);
    // One slice on its own.
    const s5 = decodeLabelmapSlice(bytes, header, header.chunks[5]!);
    expect(Array.from(s5)).toEqual(Array.from(v.slice(5)));
    // Empty slices decode to zeros.
    const s0 = decodeLabelmapSlice(bytes, header, header.chunks[0]!);
    expect(s0.length).toBe(320);
    expect(s0.every((x) => x === 0)).toBe(true);
  });

  it('stores uint16 samples little-endian in the deflate stream', () => {
    const s = new Uint16Array([0x0102, 0, 0xfffe, 7]);
    const bytes = encodeLabelmap({ shape: [2, 2, 1], dtype: 'uint16', slices: () => s });
    const h = decodeLabelmapHeader(bytes);
    const c = h.chunks[0]!;
    // Node's zlib reads the chunk independently of fflate.
    const raw = inflateRawSync(bytes.subarray(h.bodyOffset + c.offset, h.bodyOffset + c.offset + c.length));
    expect(Array.from(raw)).toEqual([0x02, 0x01, 0, 0, 0xfe, 0xff, 7, 0]);
  });

  it('a patch lists only the changed slices and applying it equals re-encoding the edited volume', () => {
    const v = volume(64, 48, 12, 'uint8');
    const full = encodeLabelmap({ shape: v.shape, dtype: 'uint8', slices: v.slice });
    // Edit: paint on slice 3, erase slice 6 completely, paint on the formerly empty slice 0.
    const edited = v.data.slice();
    const per = 64 * 48;
    for (let i = 100; i < 400; i++) edited[3 * per + i] = 5;
    edited.fill(0, 6 * per, 7 * per);
    edited[0 * per + 17] = 9;
    const editedSlice = (k: number) => edited.subarray(k * per, (k + 1) * per);
    const patch = encodeLabelmap({ shape: v.shape, dtype: 'uint8', slices: editedSlice, only: [6, 3, 0, 3], base: sha(full) });
    const ph = decodeLabelmapHeader(patch);
    expect(ph.base).toBe(sha(full));
    expect(ph.chunks.map((c) => [c.k, c.encoding])).toEqual([
      [0, 'deflate'],
      [3, 'deflate'],
      [6, 'empty'],
    ]);
    const merged = applyLabelmapPatch(full, patch);
    const reencoded = encodeLabelmap({ shape: v.shape, dtype: 'uint8', slices: editedSlice });
    expect(Buffer.from(merged).equals(Buffer.from(reencoded))).toBe(true);
    expect(Array.from(decodeLabelmap(merged).data)).toEqual(Array.from(edited));
    // The unchanged slices' compressed bytes were copied, not recompressed.
    const fh = decodeLabelmapHeader(full);
    const mh = decodeLabelmapHeader(merged);
    const bytesOf = (b: Uint8Array, h: ReturnType<typeof decodeLabelmapHeader>, k: number) => {
      const c = h.chunks.find((x) => x.k === k)!;
      return Buffer.from(b.subarray(h.bodyOffset + c.offset, h.bodyOffset + c.offset + c.length));
    };
    expect(bytesOf(merged, mh, 5).equals(bytesOf(full, fh, 5))).toBe(true);
  });

  it('a one-slice patch of a 512×512 map is a few KB', () => {
    const per = 512 * 512;
    const slice = new Uint8Array(per);
    for (let j = 200; j < 260; j++) for (let i = 180; i < 300; i++) slice[j * 512 + i] = 1;
    const patch = encodeLabelmap({ shape: [512, 512, 300], dtype: 'uint8', slices: () => slice, only: [150], base: 'a'.repeat(64) });
    expect(patch.length).toBeLessThan(4096);
    expect(Array.from(decodeLabelmapSlice(patch, decodeLabelmapHeader(patch), decodeLabelmapHeader(patch).chunks[0]!))).toEqual(Array.from(slice));
  });

  it('canonicalLabelmap lays out a reordered container like the encoder does', () => {
    const v = volume(8, 8, 6, 'uint8');
    const full = encodeLabelmap({ shape: v.shape, dtype: 'uint8', slices: v.slice });
    const h = decodeLabelmapHeader(full);
    const body = full.subarray(h.bodyOffset);
    // Same chunks listed in reverse order, with 3 junk bytes at the end of the body.
    const reordered = container(
      { shape: h.shape, dtype: 'uint8', chunks: [...h.chunks].reverse().map(({ k, offset, length, encoding }) => ({ k, offset, length, encoding })) },
      new Uint8Array([...body, 1, 2, 3]),
    );
    expect(Array.from(decodeLabelmap(reordered).data)).toEqual(Array.from(v.data));
    expect(Buffer.from(canonicalLabelmap(reordered)).equals(Buffer.from(full))).toBe(true);
  });

  describe('refuses malformed containers with LabelmapFormatError', () => {
    const v = volume(10, 8, 4, 'uint8');
    const full = encodeLabelmap({ shape: v.shape, dtype: 'uint8', slices: v.slice });
    const h = decodeLabelmapHeader(full);
    const body = full.subarray(h.bodyOffset);
    const chunks = h.chunks.map(({ k, offset, length, encoding }) => ({ k, offset, length, encoding }));
    const deflated = chunks.find((c) => c.encoding === 'deflate')!;

    it('too short, bad magic, header length 0 or beyond the file, truncated body', () => {
      expectFormatError(() => decodeLabelmapHeader(new Uint8Array(5)), /too short/);
      const bad = full.slice();
      bad[3] = 0x32; // "CLM2"
      expectFormatError(() => decodeLabelmapHeader(bad), /bad magic/);
      expectFormatError(() => decodeLabelmapHeader(container('', new Uint8Array(0))), /header is empty/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: h.shape, dtype: 'uint8', chunks }, body, 100_000)), /beyond the end/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: h.shape, dtype: 'uint8', chunks }, body, 0xffffffff)), /over the limit/);
      expectFormatError(() => decodeLabelmapHeader(full.subarray(0, full.length - 1)), /outside the .*body/);
      expectFormatError(() => decodeLabelmapHeader(full.subarray(0, 20)), /beyond the end/);
    });

    it('header that is not JSON, not an object, or with bad fields', () => {
      expectFormatError(() => decodeLabelmapHeader(container('{"shape":')), /not valid UTF-8 JSON/);
      expectFormatError(() => decodeLabelmapHeader(container(new Uint8Array([0xff, 0xfe]).toString())), /JSON/);
      expectFormatError(() => decodeLabelmapHeader(container([1, 2, 3])), /must be a JSON object/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: [10, 8], dtype: 'uint8', chunks: [] })), /shape must be/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: [10, 0, 4], dtype: 'uint8', chunks: [] })), /shape must be/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: [10, 8, 4.5], dtype: 'uint8', chunks: [] })), /shape must be/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: [100000, 100000, 1], dtype: 'uint8', chunks: [] })), /larger than the limit/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: h.shape, dtype: 'float32', chunks }, body)), /dtype must be/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: h.shape, dtype: 'uint8', chunks: 'x' }, body)), /chunks must be an array/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: h.shape, dtype: 'uint8', base: 'ABC', chunks: [] }, body)), /base must be/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: h.shape, dtype: 'uint8', chunks, extra: 1 }, body)), /unknown header field "extra"/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: h.shape, dtype: 'uint8', chunks: [...chunks.slice(1), 5] }, body)), /chunks\[3\] must be an object/);
      expectFormatError(
        () => decodeLabelmapHeader(container({ shape: h.shape, dtype: 'uint8', chunks: chunks.map((c, i) => (i === 0 ? { ...c, encoding: 'gzip' } : c)) }, body)),
        /encoding must be/,
      );
      expectFormatError(
        () => decodeLabelmapHeader(container({ shape: h.shape, dtype: 'uint8', chunks: chunks.map((c, i) => (i === 0 ? { ...c, note: 'x' } : c)) }, body)),
        /unknown field "note"/,
      );
    });

    it('chunks out of range, k out of range, duplicate k, missing slices, inconsistent empty/deflate', () => {
      const withChunk = (i: number, patch: Record<string, unknown>) => container({ shape: h.shape, dtype: 'uint8', chunks: chunks.map((c, j) => (j === i ? { ...c, ...patch } : c)) }, body);
      const di = chunks.indexOf(deflated);
      expectFormatError(() => decodeLabelmapHeader(withChunk(di, { offset: body.length })), /outside the .*body/);
      expectFormatError(() => decodeLabelmapHeader(withChunk(di, { length: body.length + 1 })), /outside the .*body/);
      expectFormatError(() => decodeLabelmapHeader(withChunk(di, { offset: -1 })), /offset must be/);
      expectFormatError(() => decodeLabelmapHeader(withChunk(di, { length: 1.5 })), /length must be/);
      expectFormatError(() => decodeLabelmapHeader(withChunk(0, { k: 4 })), /not a slice in 0..3/);
      expectFormatError(() => decodeLabelmapHeader(withChunk(0, { k: -1 })), /not a slice in 0..3/);
      expectFormatError(() => decodeLabelmapHeader(withChunk(0, { k: 1 })), /slice 1 is listed twice/);
      expectFormatError(() => decodeLabelmapHeader(withChunk(di, { encoding: 'empty' })), /"empty" but has length/);
      expectFormatError(() => decodeLabelmapHeader(withChunk(0, { encoding: 'deflate' })), /"deflate" with length 0/);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: h.shape, dtype: 'uint8', chunks: chunks.slice(0, 3) }, body)), /must list all 4 slices; it lists 3 \(slice 3 is missing\)/);
      // A patch may list fewer slices.
      expect(decodeLabelmapHeader(container({ shape: h.shape, dtype: 'uint8', base: 'b'.repeat(64), chunks: chunks.slice(0, 1) }, body)).chunks).toHaveLength(1);
    });

    it('a chunk that inflates to fewer or more bytes than one slice, or is not deflate data', () => {
      const per = 10 * 8;
      const one = (data: Uint8Array) => container({ shape: [10, 8, 1], dtype: 'uint8', chunks: [{ k: 0, offset: 0, length: data.length, encoding: 'deflate' }] }, data);
      const short = one(deflateSync(new Uint8Array(per - 1).fill(1)));
      expectFormatError(() => decodeLabelmap(short), /inflates to 79 bytes, expected 80/);
      const long = one(deflateSync(new Uint8Array(per + 1).fill(1)));
      expectFormatError(() => decodeLabelmap(long), /more than 80 bytes/);
      const stored = one(deflateSync(new Uint8Array(randomBytes(per + 10)), { level: 0 }));
      expectFormatError(() => decodeLabelmap(stored), /more than 80 bytes/);
      const garbage = one(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]));
      expectFormatError(() => decodeLabelmap(garbage), /not valid deflate data/);
      const cut = deflateSync(new Uint8Array(randomBytes(per)));
      expectFormatError(() => decodeLabelmap(one(cut.subarray(0, cut.length - 10))), /slice 0/);
    });

    it('a deflate bomb is stopped at the slice size (large chunk, streaming path)', () => {
      const cols = 512;
      const rows = 512;
      // 100 MB of ones compress to ~100 KB; the slice is 256 KiB.
      const bomb = deflateSync(new Uint8Array(100 * 1024 * 1024).fill(1), { level: 9 });
      expect(bomb.length).toBeGreaterThan(65536);
      const c = container({ shape: [cols, rows, 1], dtype: 'uint8', chunks: [{ k: 0, offset: 0, length: bomb.length, encoding: 'deflate' }] }, bomb);
      const t0 = performance.now();
      expectFormatError(() => decodeLabelmap(c), /more than 262144 bytes/);
      expect(performance.now() - t0).toBeLessThan(2000);
      // Random bytes a little larger than the slice also take the streaming path.
      const rnd = deflateSync(new Uint8Array(randomBytes(cols * rows + 5000)).map((x, i) => (i % 2 ? x : 0)));
      const c2 = container({ shape: [cols, rows, 1], dtype: 'uint8', chunks: [{ k: 0, offset: 0, length: rnd.length, encoding: 'deflate' }] }, rnd);
      expectFormatError(() => decodeLabelmap(c2), /more than 262144 bytes/);
    });

    it('a chunk far longer than any deflate of a slice is refused by the header check', () => {
      const big = new Uint8Array(2000);
      expectFormatError(() => decodeLabelmapHeader(container({ shape: [4, 4, 1], dtype: 'uint8', chunks: [{ k: 0, offset: 0, length: 2000, encoding: 'deflate' }] }, big)), /more than any deflate/);
    });

    it('patches: shape or dtype different from the base, patch as base, full as patch, decodeLabelmap of a patch', () => {
      const other = volume(10, 8, 5, 'uint8');
      const base = sha(full);
      const wrongShape = encodeLabelmap({ shape: other.shape, dtype: 'uint8', slices: other.slice, only: [1], base });
      expectFormatError(() => applyLabelmapPatch(full, wrongShape), /patch shape \[10, 8, 5\] differs from the base shape \[10, 8, 4\]/);
      const wrongType = encodeLabelmap({ shape: v.shape, dtype: 'uint16', slices: () => new Uint16Array(80), only: [1], base });
      expectFormatError(() => applyLabelmapPatch(full, wrongType), /dtype uint16 differs/);
      const good = encodeLabelmap({ shape: v.shape, dtype: 'uint8', slices: v.slice, only: [1], base });
      expectFormatError(() => applyLabelmapPatch(good, good), /base must be a full container/);
      expectFormatError(() => applyLabelmapPatch(full, full), /has no base/);
      expectFormatError(() => decodeLabelmap(good), /this is a patch/);
      expectFormatError(() => canonicalLabelmap(good), /not a full container/);
    });
  });

  it('encodeLabelmap refuses wrong slices and options', () => {
    expectFormatError(() => encodeLabelmap({ shape: [4, 4, 2], dtype: 'uint8', slices: () => new Uint8Array(15) }), /slice 0 has 15 samples, expected 4×4 = 16/);
    expectFormatError(() => encodeLabelmap({ shape: [4, 4, 2], dtype: 'uint16', slices: () => new Uint8Array(16) }), /must be a Uint16Array/);
    expectFormatError(() => encodeLabelmap({ shape: [4, 4, 2], dtype: 'uint8', slices: () => new Uint8Array(16), only: [0] }), /needs the base/);
    expectFormatError(() => encodeLabelmap({ shape: [4, 4, 2], dtype: 'uint8', slices: () => new Uint8Array(16), only: [2], base: 'c'.repeat(64) }), /slice 2 is outside 0..1/);
    expectFormatError(() => encodeLabelmap({ shape: [4, 4, 2], dtype: 'uint8', slices: () => new Uint8Array(16), level: 12 }), /level/);
    expectFormatError(() => encodeLabelmap({ shape: [4, 4, 0], dtype: 'uint8', slices: () => new Uint8Array(16) }), /shape must be/);
  });
});

describe('known-empty slices', () => {
  it('gives the same container without reading the slices the caller knows are background', () => {
    const shape: [number, number, number] = [8, 6, 10];
    const data = new Uint8Array(8 * 6 * 10);
    data[5 * 48 + 7] = 3;
    data[7 * 48 + 20] = 1;
    const read: number[] = [];
    const slices = (k: number) => {
      read.push(k);
      return data.subarray(k * 48, (k + 1) * 48);
    };
    const plain = encodeLabelmap({ shape, dtype: 'uint8', slices: (k) => data.subarray(k * 48, (k + 1) * 48) });
    const hinted = encodeLabelmap({ shape, dtype: 'uint8', slices, knownEmpty: (k) => k !== 5 && k !== 7 });
    expect(Buffer.from(hinted).equals(Buffer.from(plain))).toBe(true);
    expect(read).toEqual([5, 7]);
  });
});
