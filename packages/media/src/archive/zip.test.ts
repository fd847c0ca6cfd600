import { execFileSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { Zip, ZipDeflate, zipSync, strToU8, type ZipInputFile } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveError, checkEntryName, extractZip, gunzipToFile, isGzip, isZip } from './zip.js';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'caliper-zip-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let n = 0;
async function fresh(): Promise<string> {
  const d = join(tmp, `out${++n}`);
  return d;
}

/**
 * Streams a zip whose last entry inflates to `zeros` zero bytes (a bomb) to disk. Compressing
 * 1 GB takes fflate ~20 s, so the entry's deflate stream is made by repeating one sync-flushed
 * segment (16 MiB of zeros) and fed to fflate's streaming `Zip` as a pre-compressed input file.
 */
async function writeBomb(path: string, zeros: number, extra?: Record<string, Uint8Array>): Promise<void> {
  const out = createWriteStream(path);
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  const zip = new Zip((err, data, final) => {
    if (err) throw err;
    out.write(data);
    if (final) out.end();
  });
  for (const [name, data] of Object.entries(extra ?? {})) {
    const f = new ZipDeflate(name, { level: 6 });
    zip.add(f);
    f.push(data, true);
  }
  const SEG = 16 * 1024 * 1024;
  expect(zeros % SEG).toBe(0);
  const block = new Uint8Array(SEG);
  const segment = deflateRawSync(block, { finishFlush: constants.Z_SYNC_FLUSH });
  const bomb: ZipInputFile = { filename: 'bomb.bin', size: 0, crc: 0, compression: 8, terminate: () => {} };
  zip.add(bomb);
  let crc = 0;
  for (let left = zeros; left > 0; left -= SEG) {
    bomb.ondata?.(null, segment, false);
    crc = crc32(block, crc);
    await new Promise((r) => setImmediate(r));
  }
  bomb.size = zeros;
  bomb.crc = crc;
  bomb.ondata?.(null, new Uint8Array([0x03, 0x00]), true); // empty final fixed-Huffman block
  zip.end();
  await done;
}

describe('checkEntryName', () => {
  it('classifies names', () => {
    expect(checkEntryName('a/b/c.dcm')).toEqual({ kind: 'file', name: 'a/b/c.dcm' });
    expect(checkEntryName('a\\b\\c.dcm')).toEqual({ kind: 'file', name: 'a/b/c.dcm' });
    expect(checkEntryName('./a//b')).toEqual({ kind: 'file', name: 'a/b' });
    expect(checkEntryName('../evil.txt').kind).toBe('reject');
    expect(checkEntryName('a/../../evil').kind).toBe('reject');
    expect(checkEntryName('a\\..\\..\\evil').kind).toBe('reject');
    expect(checkEntryName('/etc/x').kind).toBe('reject');
    expect(checkEntryName('\\\\server\\x').kind).toBe('reject');
    expect(checkEntryName('C:/x').kind).toBe('reject');
    expect(checkEntryName('C:x').kind).toBe('reject');
    expect(checkEntryName('dir/').kind).toBe('skip');
    expect(checkEntryName('__MACOSX/._a.dcm').kind).toBe('skip');
    expect(checkEntryName('x/.DS_Store').kind).toBe('skip');
  });
});

describe('magic', () => {
  it('detects zip and gzip', () => {
    expect(isZip(zipSync({ a: strToU8('x') }))).toBe(true);
    expect(isGzip(gzipSync(Buffer.from('x')))).toBe(true);
    expect(isZip(gzipSync(Buffer.from('x')))).toBe(false);
    expect(isGzip(new Uint8Array([0x50, 0x4b, 3, 4]))).toBe(false);
    expect(isZip(new Uint8Array([0x50]))).toBe(false);
  });
});

describe('extractZip', () => {
  it('extracts a normal zip; names match `unzip -l`; files get generated names', async () => {
    const big = new Uint8Array(200_000).map((_, i) => (i * 7919) & 0xff);
    const zip = zipSync({
      'study/': {},
      'study/series1/IM0001.dcm': big,
      'study/series1/IM0002.dcm': [strToU8('hello'), { level: 0 }],
      'notes é.txt': strToU8('text'),
      '__MACOSX/study/._IM0001.dcm': strToU8('junk'),
      'study/.DS_Store': strToU8('junk'),
      'empty.txt': new Uint8Array(0),
    });
    const zp = join(tmp, 'normal.zip');
    await writeFile(zp, zip);
    const dest = await fresh();
    const res = await extractZip(zp, dest);
    expect(res.rejected).toEqual([]);
    expect(res.entries.map((e) => e.name)).toEqual(['study/series1/IM0001.dcm', 'study/series1/IM0002.dcm', 'notes é.txt', 'empty.txt']);
    expect(res.entries.map((e) => e.size)).toEqual([200_000, 5, 4, 0]);
    expect(res.entries.map((e) => e.path)).toEqual(['000001', '000002', '000003', '000004'].map((f) => join(dest, f)));
    expect(Buffer.compare(await readFile(join(dest, '000001')), Buffer.from(big))).toBe(0);
    expect((await readFile(join(dest, '000002'))).toString()).toBe('hello');
    // Independent listing by Debian's unzip (Info-ZIP).
    const listing = execFileSync('unzip', ['-Z1', zp], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } }).split('\n').filter(Boolean);
    const expected = listing.filter((l) => !l.endsWith('/') && !l.startsWith('__MACOSX/') && !l.endsWith('.DS_Store'));
    // Debian's unzip escapes non-ASCII names, so compare those against Python's zipfile instead.
    expect(res.entries.map((e) => e.name).filter((x) => /^[\x20-\x7e]*$/.test(x))).toEqual(expected.filter((x) => /^[\x20-\x7e]*$/.test(x)));
    const py = execFileSync('/usr/bin/python3', ['-c', 'import sys,zipfile,json; print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))', zp], { encoding: 'utf8' });
    const pyNames = (JSON.parse(py) as string[]).filter((l) => !l.endsWith('/') && !l.startsWith('__MACOSX/') && !l.endsWith('.DS_Store'));
    expect(res.entries.map((e) => e.name)).toEqual(pyNames);
    const sizes = execFileSync('unzip', ['-l', zp], { encoding: 'utf8' });
    expect(sizes).toMatch(/200000\s.*study\/series1\/IM0001\.dcm/);
  });

  it('rejects traversal and absolute names, continues with the others', async () => {
    const zip = zipSync({
      '../evil.txt': strToU8('evil'),
      '/etc/x': strToU8('evil'),
      'C:\\win.ini': strToU8('evil'),
      'a\\..\\..\\b.txt': strToU8('evil'),
      'ok.txt': strToU8('fine'),
    });
    const zp = join(tmp, 'evil.zip');
    await writeFile(zp, zip);
    const dest = await fresh();
    const res = await extractZip(zp, dest);
    expect(res.entries.map((e) => e.name)).toEqual(['ok.txt']);
    expect(res.rejected.map((r) => r.name)).toEqual(['../evil.txt', '/etc/x', 'C:\\win.ini', 'a\\..\\..\\b.txt']);
    expect(res.rejected[0]?.reason).toMatch(/traversal/);
    expect(res.rejected[1]?.reason).toMatch(/absolute/);
    expect(await readdir(dest)).toEqual(['000001']);
    expect(await readdir(tmp)).not.toContain('evil.txt');
  });

  it('stops a 1 GB zip bomb early and keeps the other entries', async () => {
    const zp = join(tmp, 'bomb.zip');
    await writeBomb(zp, 1024 ** 3, { 'first.txt': strToU8('first') });
    const dest = await fresh();
    const t0 = Date.now();
    const res = await extractZip(zp, dest);
    const ms = Date.now() - t0;
    expect(res.entries.map((e) => e.name)).toEqual(['first.txt']);
    expect(res.rejected).toEqual([{ name: 'bomb.bin', reason: 'compression ratio above 200' }]);
    expect(await readdir(dest)).toEqual(['000001']);
    expect(ms).toBeLessThan(5000);
    // The same file is a valid 1 GB entry to Info-ZIP (the bomb is real).
    const listing = execFileSync('unzip', ['-l', zp], { encoding: 'utf8' });
    expect(listing).toMatch(/1073741824\s.*bomb\.bin/);
  }, 60_000);

  it('enforces per-entry, total and entry-count limits', async () => {
    const data = new Uint8Array(3000).map((_, i) => (i * 31 + (i >> 3)) & 0xff);
    const zip = zipSync({ a: data, b: data.subarray(0, 1000), c: data.subarray(0, 1000), d: data.subarray(0, 1000) });
    const zp = join(tmp, 'limits.zip');
    await writeFile(zp, zip);

    let res = await extractZip(zp, await fresh(), { maxEntryBytes: 2000 });
    expect(res.entries.map((e) => e.name)).toEqual(['b', 'c', 'd']);
    expect(res.rejected).toEqual([{ name: 'a', reason: 'entry larger than 2000 bytes' }]);

    const dest = await fresh();
    res = await extractZip(zp, dest, { maxTotalBytes: 4500 });
    expect(res.entries.map((e) => e.name)).toEqual(['a', 'b']);
    expect(res.rejected.map((r) => r.name).sort()).toEqual(['c', 'd']);
    expect(res.rejected[0]?.reason).toMatch(/total/);
    expect((await readdir(dest)).sort()).toEqual(['000001', '000002']);

    res = await extractZip(zp, await fresh(), { maxEntries: 2 });
    expect(res.entries.map((e) => e.name)).toEqual(['a', 'b']);
    expect(res.rejected.map((r) => r.name).sort()).toEqual(['c', 'd']);
    expect(res.rejected[0]?.reason).toMatch(/more than 2 entries/);
  });

  it('checks sizes while streaming when the header has none (data descriptor); keeps nested zips', async () => {
    const zp = join(tmp, 'dd.zip');
    const random = new Uint8Array(5000).map((_, i) => (i * 2654435761) >>> 24);
    const inner = zipSync({ 'x.txt': strToU8('inner') });
    const parts: Uint8Array[] = [];
    const zip = new Zip((err, data) => {
      if (err) throw err;
      parts.push(data);
    });
    for (const [name, data] of [['big.bin', random], ['inner.zip', inner], ['small.txt', strToU8('ok')]] as const) {
      const f = new ZipDeflate(name); // streamed: sizes only in the data descriptor
      zip.add(f);
      f.push(data.subarray(0, 10), false);
      f.push(data.subarray(10), true);
    }
    zip.end();
    await writeFile(zp, Buffer.concat(parts));
    const dest = await fresh();
    const res = await extractZip(zp, dest, { maxEntryBytes: 2000 });
    expect(res.rejected).toEqual([{ name: 'big.bin', reason: 'entry larger than 2000 bytes' }]);
    expect(res.entries.map((e) => [e.name, e.size])).toEqual([['inner.zip', inner.length], ['small.txt', 2]]);
    expect((await readdir(dest)).sort()).toEqual(['000002', '000003']);
    expect(Buffer.compare(await readFile(join(dest, '000002')), Buffer.from(inner))).toBe(0);
  });

  it('handles an empty archive', async () => {
    const zp = join(tmp, 'empty.zip');
    await writeFile(zp, zipSync({}));
    expect(await extractZip(zp, await fresh())).toEqual({ entries: [], rejected: [] });
  });

  it('rejects encrypted and unsupported-method entries', async () => {
    const zip = Buffer.from(zipSync({ 'enc.bin': [strToU8('secret data'), { level: 0 }], 'm.bin': [strToU8('xx'), { level: 0 }], 'ok.txt': strToU8('fine') }));
    // Patch flags/method in both the local header and the central directory.
    const patch = (name: string, flags: number, method: number | null): void => {
      for (const [sig, flagOff, nameOff] of [[0x04034b50, 6, 30], [0x02014b50, 8, 46]] as const) {
        for (let i = 0; i < zip.length - 4; i++) {
          if (zip.readUInt32LE(i) !== sig) continue;
          const nl = zip.readUInt16LE(i + (sig === 0x04034b50 ? 26 : 28));
          if (zip.subarray(i + nameOff, i + nameOff + nl).toString() !== name) continue;
          zip.writeUInt16LE(zip.readUInt16LE(i + flagOff) | flags, i + flagOff);
          if (method !== null) zip.writeUInt16LE(method, i + flagOff + 2);
        }
      }
    };
    patch('enc.bin', 1, null);
    patch('m.bin', 0, 12);
    const zp = join(tmp, 'enc.zip');
    await writeFile(zp, zip);
    const res = await extractZip(zp, await fresh());
    expect(res.entries.map((e) => e.name)).toEqual(['ok.txt']);
    expect(res.rejected).toEqual([
      { name: 'enc.bin', reason: 'entry is encrypted' },
      { name: 'm.bin', reason: 'unsupported compression method 12' },
    ]);
  });

  it('throws ArchiveError on truncated or corrupt archives and leaves nothing behind', async () => {
    const data = new Uint8Array(100_000).map((_, i) => (i * 13) & 0xff);
    const zip = zipSync({ 'a.bin': data, 'b.bin': data });
    for (const [label, bytes] of [
      ['cut in the middle', zip.subarray(0, Math.floor(zip.length * 0.6))],
      ['cut in the directory', zip.subarray(0, zip.length - 30)],
      ['not a zip', new Uint8Array(1000)],
    ] as const) {
      const zp = join(tmp, 'trunc.zip');
      await writeFile(zp, bytes);
      const dest = await fresh();
      await expect(extractZip(zp, dest), label).rejects.toBeInstanceOf(ArchiveError);
      expect(await readdir(dest), label).toEqual([]);
    }
    // Directory intact, data of the second entry damaged: inflate or CRC fails after the first
    // entry was written, and that file is removed again.
    const bad = Buffer.from(zip);
    const second = bad.indexOf(Buffer.from('b.bin')) + 5 + 100;
    for (let i = second; i < second + 50; i++) bad[i] = bad[i]! ^ 0x55;
    const zp = join(tmp, 'corrupt.zip');
    await writeFile(zp, bad);
    const dest = await fresh();
    const err = await extractZip(zp, dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as Error).message).toMatch(/corrupt/);
    expect(await readdir(dest)).toEqual([]);
  });
});

describe('gunzipToFile', () => {
  it('decompresses, and stops bombs and corrupt data, removing the output', async () => {
    const data = Buffer.from(new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff));
    const gz = join(tmp, 'a.gz');
    await writeFile(gz, gzipSync(data));
    const out = join(tmp, 'a.out');
    expect(await gunzipToFile(gz, out)).toEqual({ size: 300_000 });
    expect(Buffer.compare(await readFile(out), data)).toBe(0);

    const bomb = join(tmp, 'bomb.gz');
    await writeFile(bomb, gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }));
    const bout = join(tmp, 'bomb.out');
    await expect(gunzipToFile(bomb, bout)).rejects.toThrow(/ratio above 200/);
    await expect(readFile(bout)).rejects.toThrow(/ENOENT/);
    await expect(gunzipToFile(gz, join(tmp, 'small.out'), { maxBytes: 1000, maxRatio: 1000 })).rejects.toThrow(/larger than 1000/);

    const trunc = join(tmp, 't.gz');
    const full = gzipSync(data);
    await writeFile(trunc, full.subarray(0, full.length - 100));
    const tout = join(tmp, 't.out');
    await expect(gunzipToFile(trunc, tout)).rejects.toBeInstanceOf(ArchiveError);
    await expect(readFile(tout)).rejects.toThrow(/ENOENT/);
  });
});
