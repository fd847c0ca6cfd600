import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRaster, RasterError } from './raster.js';

interface Meta {
  width: number;
  height: number;
  samples: number;
  dtype: string;
}

let dir: string;
let manifest: Record<string, Meta>;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'caliper-raster-'));
  const script = fileURLToPath(new URL('./make_test_rasters.py', import.meta.url));
  execFileSync('/usr/bin/python3', [script, dir]);
  manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, Meta>;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function check(name: string, file: string, format: 'png' | 'tiff'): Promise<void> {
  const meta = manifest[name];
  expect(meta, name).toBeDefined();
  const raw = await readFile(join(dir, `${name}.raw`));
  const expected = new Uint16Array(raw.buffer, raw.byteOffset, raw.byteLength / 2);
  const r = await decodeRaster(new Uint8Array(await readFile(join(dir, file))), format);
  expect({ width: r.width, height: r.height, samples: r.samples, dtype: r.dtype }, name).toEqual(meta);
  expect(r.data).toBeInstanceOf(meta?.dtype === 'uint16' ? Uint16Array : Uint8Array);
  expect(Array.from(r.data), name).toEqual(Array.from(expected));
}

describe('decodeRaster png', () => {
  for (const name of ['g16', 'ga16', 'rgb16', 'rgba16', 'rgb8', 'g8', 'pal8', 'g1bit', 'g2bit', 'g4bit']) {
    it(`decodes ${name} exactly`, async () => {
      await check(name, `${name}.png`, 'png');
    });
  }
  it('keeps 16-bit values above 255', async () => {
    const r = await decodeRaster(new Uint8Array(await readFile(join(dir, 'g16.png'))), 'png');
    expect(Array.from(r.data.subarray(0, 4))).toEqual([0, 255, 256, 65535]);
  });
  it('rejects truncated PNG', async () => {
    const b = await readFile(join(dir, 'rgb16.png'));
    await expect(decodeRaster(b.subarray(0, b.length - 40), 'png')).rejects.toBeInstanceOf(RasterError);
    await expect(decodeRaster(new Uint8Array(10), 'png')).rejects.toThrow(/not a PNG/);
  });
});

describe('decodeRaster tiff', () => {
  const cases: string[] = [];
  for (const name of ['g16', 'rgb16', 'g8', 'rgb8'])
    for (const bo of ['le', 'be'])
      for (const comp of ['none', 'lzw', 'deflate', 'packbits'])
        for (const layout of ['strip', 'tile']) cases.push(`t_${name}_${bo}_${comp}_${layout}`);
  for (const c of cases) {
    it(`decodes ${c} exactly`, async () => {
      await check(c, `${c}.tif`, 'tiff');
    });
  }
  it('values > 255 survive big-endian', async () => {
    const r = await decodeRaster(new Uint8Array(await readFile(join(dir, 't_g16_be_lzw_tile.tif'))), 'tiff');
    expect(Array.from(r.data.subarray(0, 4))).toEqual([0x0102, 256, 65535, 300]);
  });
  it('multi-page: first page and page count', async () => {
    await check('t_multi', 't_multi.tif', 'tiff');
    const r = await decodeRaster(new Uint8Array(await readFile(join(dir, 't_multi.tif'))), 'tiff');
    expect(r.pages).toBe(3);
  });
  it('refuses 32-bit float with a clear message', async () => {
    const b = new Uint8Array(await readFile(join(dir, 't_float32.tif')));
    await expect(decodeRaster(b, 'tiff')).rejects.toThrow(/unsupported TIFF sample format: 32-bit floating-point/);
  });
  it('rejects truncated TIFF', async () => {
    const b = await readFile(join(dir, 't_g16_le_deflate_strip.tif'));
    const err = await decodeRaster(b.subarray(0, 200), 'tiff').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RasterError);
    await expect(decodeRaster(new Uint8Array(3), 'tiff')).rejects.toBeInstanceOf(RasterError);
  });
});

describe('decodeRaster jpeg', () => {
  it('decodes colour and greyscale JPEG', async () => {
    const w = 16;
    const h = 8;
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([i * 2, 255 - i, 100, 255], i * 4);
    const colour = jpeg.encode({ width: w, height: h, data: rgba }, 100).data;
    const c = await decodeRaster(colour, 'jpeg');
    expect([c.width, c.height, c.samples, c.dtype]).toEqual([16, 8, 3, 'uint8']);
    // lossy: close to the input, not equal
    expect(Math.abs((c.data[3 * 5] ?? 0) - 10)).toBeLessThan(8);
    const grey = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) grey.set([i, i, i, 255], i * 4);
    const g = await decodeRaster(jpeg.encode({ width: w, height: h, data: grey }, 100).data, 'jpeg');
    expect(g.samples).toBe(1);
    expect(g.data.length).toBe(w * h);
    await expect(decodeRaster(colour.subarray(0, 100), 'jpeg')).rejects.toBeInstanceOf(RasterError);
  });
});
