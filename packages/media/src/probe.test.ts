import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeFile } from './probe.js';
import { sanitizeFileName } from './filename.js';

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A real PNG: `rows` are raw scanlines without the filter byte. */
function png(width: number, height: number, bitDepth: number, colourType: number, rows: Buffer[]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  ihdr[9] = colourType;
  const raw = Buffer.concat(rows.map((r) => Buffer.concat([Buffer.from([0]), r])));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// 3×2, 16-bit greyscale, values beyond 8 bits.
const GRAY16 = png(3, 2, 16, 0, [
  Buffer.from([0x00, 0x00, 0x0f, 0xff, 0xff, 0xff]),
  Buffer.from([0x12, 0x34, 0x80, 0x00, 0x00, 0x01]),
]);
// 2×2, 8-bit RGB.
const RGB8 = png(2, 2, 8, 2, [Buffer.from([255, 0, 0, 0, 255, 0]), Buffer.from([0, 0, 255, 9, 9, 9])]);
// 4×2 baseline YCbCr JPEG made once with `ffmpeg -f lavfi -i color=c=red:s=5x3 -frames:v 1 -pix_fmt yuvj420p`.
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgEBAQEBAUFBQUFBQYGBgYGBgYGBgYGBgYHBwcICAgHBwcGBgcHCAgICAkJCQgICAgJCQoKCgwMCwsODg4RERT/xABMAAEBAAAAAAAAAAAAAAAAAAAABgEBAQAAAAAAAAAAAAAAAAAABgcQAQAAAAAAAAAAAAAAAAAAAAARAQAAAAAAAAAAAAAAAAAAAAD/wAARCAACAAQDASIAAhEAAxEA/9oADAMBAAIRAxEAPwCLAFF/f//Z',
  'base64',
);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'caliper-probe-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
async function probe(name: string, bytes: Buffer | string) {
  const path = join(dir, `f${n++}`); // stored name differs from the client name on purpose
  await writeFile(path, bytes);
  return probeFile(path, name);
}

describe('probeFile: images', () => {
  it('reads a 16-bit greyscale PNG', async () => {
    expect(await probe('scan.png', GRAY16)).toEqual({
      ok: true, modality: 'image', mediaType: 'image/png',
      metadata: { width: 3, height: 2, bitDepth: 16, channels: 1 },
    });
  });

  it('reads an 8-bit RGB PNG, extension case-insensitive', async () => {
    expect(await probe('photo.PNG', RGB8)).toMatchObject({
      ok: true, metadata: { width: 2, height: 2, bitDepth: 8, channels: 3 },
    });
  });

  it('reads a JPEG (.jpg and .jpeg)', async () => {
    const expected = { ok: true, modality: 'image', mediaType: 'image/jpeg', metadata: { width: 4, height: 2, bitDepth: 8, channels: 3 } };
    expect(await probe('a.jpg', JPEG)).toEqual(expected);
    expect(await probe('a.jpeg', JPEG)).toEqual(expected);
  });

  it('refuses text renamed .png with 415', async () => {
    const r = await probe('x.png', 'hello world\n');
    expect(r).toMatchObject({ ok: false, status: 415 });
    if (!r.ok) expect(r.detail).toContain('"x.png" is not a PNG image: its content is text');
  });

  it('refuses a PNG whose extension says otherwise', async () => {
    const r = await probe('x.jpg', RGB8);
    expect(r).toMatchObject({ ok: false, status: 415 });
    if (!r.ok) expect(r.detail).toMatch(/content is a PNG image/);
    expect(await probe('x.txt', JPEG)).toMatchObject({ ok: false, status: 415 });
  });

  it('refuses a truncated PNG with 422', async () => {
    expect(await probe('t.png', GRAY16.subarray(0, GRAY16.length - 20))).toMatchObject({ ok: false, status: 422 });
    // signature only: file-type still says PNG, but IHDR is missing
    expect(await probe('t.png', GRAY16.subarray(0, 30))).toMatchObject({ ok: false, status: 422 });
  });

  it('refuses a PNG with zero width or a bad IHDR checksum with 422', async () => {
    const zero = png(0, 2, 8, 0, [Buffer.alloc(0), Buffer.alloc(0)]);
    const r = await probe('z.png', zero);
    expect(r).toMatchObject({ ok: false, status: 422 });
    if (!r.ok) expect(r.detail).toMatch(/dimensions 0×2/);
    const badCrc = Buffer.from(RGB8);
    badCrc[29] = (badCrc[29] ?? 0) ^ 0xff;
    const r2 = await probe('c.png', badCrc);
    expect(r2).toMatchObject({ ok: false, status: 422 });
    if (!r2.ok) expect(r2.detail).toMatch(/checksum/);
  });

  it('refuses a PDF with 415 naming the type and the accepted formats', async () => {
    const pdf = '%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n';
    const r = await probe('report.pdf', pdf);
    expect(r).toMatchObject({ ok: false, status: 415 });
    if (!r.ok) {
      expect(r.detail).toContain('PDF');
      expect(r.detail).toContain('PNG');
      expect(r.detail).toContain('JPEG');
      expect(r.detail).toContain('UTF-8');
    }
  });

  it('refuses a zip renamed .txt with 415, and an unknown binary with 415', async () => {
    const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(26), Buffer.from([0xff, 0xfe, 0x00])]);
    const r = await probe('notes.txt', zip);
    expect(r).toMatchObject({ ok: false, status: 415 });
    if (!r.ok) expect(r.detail).toMatch(/not text: its content is a ZIP archive/);
    expect(await probe('tool.exe', Buffer.from([1, 2, 3, 0xff]))).toMatchObject({ ok: false, status: 415 });
  });
});

describe('probeFile: text', () => {
  it('counts code points (BOM and emoji) and lines', async () => {
    // BOM + "héllo 👋" (7 code points) + LF + "wörld" + CRLF + "x" (no final newline)
    const text = '\uFEFFhéllo 👋\nwörld\r\nx';
    expect(await probe('note.txt', text)).toEqual({
      ok: true, modality: 'text', mediaType: 'text/plain',
      metadata: { characters: [...text].length, lines: 3 },
    });
    expect([...text].length).toBe(1 + 7 + 1 + 5 + 2 + 1);
  });

  it('accepts .md, counts a final newline as ending the last line', async () => {
    expect(await probe('readme.md', '# Title\n\nbody\n')).toEqual({
      ok: true, modality: 'text', mediaType: 'text/markdown', metadata: { characters: 14, lines: 3 },
    });
  });

  it('counts correctly across 1 MB read boundaries', async () => {
    // a 4-byte emoji straddling every chunk boundary somewhere
    const text = '😀'.repeat(300_000) + '\n' + 'a'.repeat(10);
    expect(await probe('big.txt', text)).toMatchObject({ ok: true, metadata: { characters: 300_011, lines: 2 } });
  });

  it('refuses invalid UTF-8 with 422', async () => {
    const r = await probe('latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])); // "café" in Latin-1
    expect(r).toEqual({ ok: false, status: 422, detail: '"latin1.txt" is not valid UTF-8 text' });
    // truncated multi-byte sequence at the very end
    expect(await probe('cut.txt', Buffer.from([0x61, 0xf0, 0x9f, 0x98]))).toMatchObject({ ok: false, status: 422 });
  });

  it('refuses NUL bytes and UTF-16 with 422', async () => {
    expect(await probe('nul.txt', 'a\u0000b')).toMatchObject({ ok: false, status: 422 });
    const r = await probe('u16.txt', Buffer.from('\uFEFFhi', 'utf16le'));
    expect(r).toMatchObject({ ok: false, status: 422 });
    if (!r.ok) expect(r.detail).toMatch(/UTF-16/);
  });

  it('accepts text whose first bytes look like a binary signature to file-type', async () => {
    expect(await probe('mz.txt', 'MZ is the abbreviation used here\n')).toMatchObject({ ok: true, modality: 'text' });
    expect(await probe('id3.txt', 'ID3 tags\n')).toMatchObject({ ok: true, modality: 'text' });
  });

  it('refuses an empty file with 422', async () => {
    expect(await probe('x', '')).toEqual({ ok: false, status: 422, detail: '"x" is empty' });
    expect(await probe('x.png', '')).toMatchObject({ ok: false, status: 422 });
  });

  it('refuses text with an unsupported extension with 415', async () => {
    expect(await probe('data.csv', 'a,b\n1,2\n')).toMatchObject({ ok: false, status: 415 });
  });
});

describe('sanitizeFileName', () => {
  it('normalises relative folder paths', () => {
    expect(sanitizeFileName('scans/a/img1.png')).toEqual({ ok: true, name: 'scans/a/img1.png' });
    expect(sanitizeFileName('scans\\a\\img1.png')).toEqual({ ok: true, name: 'scans/a/img1.png' });
    expect(sanitizeFileName('./scans//a/./b.txt')).toEqual({ ok: true, name: 'scans/a/b.txt' });
    expect(sanitizeFileName('Cafe\u0301.txt')).toEqual({ ok: true, name: 'Caf\u00e9.txt' }); // NFC
    expect(sanitizeFileName('..foo.txt')).toEqual({ ok: true, name: '..foo.txt' });
  });

  it.each([
    ['../etc/passwd'],
    ['scans/../../x.png'],
    ['..\\..\\windows\\win.ini'],
    ['/etc/passwd'],
    ['\\\\server\\share\\x.png'],
    ['C:\\Users\\x.png'],
    ['c:x.png'],
    ['a\u0000.png'],
    ['a\nb.txt'],
    ['a\u007f.txt'],
    [''],
    ['./'],
    ['   '],
    ['a'.repeat(256)],
    ['é'.repeat(128)], // 256 bytes
    [`${'d/'.repeat(600)}x.txt`],
  ])('refuses %j', (name) => {
    const r = sanitizeFileName(name);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.detail.length).toBeGreaterThan(5);
  });

  it('accepts a 255-byte name', () => {
    expect(sanitizeFileName('a'.repeat(251) + '.txt').ok).toBe(true);
  });
});
