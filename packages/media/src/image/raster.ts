/**
 * Decoding of ordinary raster images (PNG, TIFF, JPEG) at their true bit depth.
 *
 * - PNG: pngjs with `skipRescale`, so 16-bit samples come back exactly as stored.
 * - TIFF: geotiff (maintained, pure JS, ESM, runs on Node 20; decodes strips and tiles,
 *   uncompressed / LZW / Deflate / PackBits, both byte orders). utif2 was the alternative; it
 *   is a small fork with fewer maintainers and decodes to RGBA8 for display, losing 16 bits.
 * - JPEG: jpeg-js (8-bit baseline/progressive).
 *
 * Error messages describe the structure only (format, depth, sizes), never metadata values.
 */
import { fromArrayBuffer } from 'geotiff';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';

export interface Raster {
  width: number;
  height: number;
  samples: 1 | 3 | 4;
  dtype: 'uint8' | 'uint16';
  /** Row-major, samples interleaved. */
  data: Uint8Array | Uint16Array;
  /** Number of pages (TIFF only); only the first page is decoded. */
  pages?: number;
}

export class RasterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RasterError';
  }
}

/** Largest image decoded, in pixels (guards against decompression bombs in headers). */
export const MAX_RASTER_PIXELS = 200_000_000;

export async function decodeRaster(bytes: Uint8Array, format: 'png' | 'tiff' | 'jpeg'): Promise<Raster> {
  switch (format) {
    case 'png':
      return decodePng(bytes);
    case 'tiff':
      return decodeTiff(bytes);
    case 'jpeg':
      return decodeJpeg(bytes);
    default:
      throw new RasterError('unsupported raster format');
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : 'unknown error';
}

// ---------------------------------------------------------------------------------------------
// PNG

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Returns the PNG without tRNS chunks. pngjs turns every pixel equal to the tRNS colour of a
 * grey or RGB image into 0 (RGBA 0,0,0,0), which would corrupt stored values; we do not return
 * alpha for those colour types, so the chunk is dropped before decoding.
 */
function withoutTrns(buf: Buffer): Buffer {
  const parts: Buffer[] = [buf.subarray(0, 8)];
  let p = 8;
  let changed = false;
  while (p + 12 <= buf.length) {
    const len = buf.readUInt32BE(p);
    const end = p + 12 + len;
    if (end > buf.length) break;
    if (buf.toString('latin1', p + 4, p + 8) === 'tRNS') changed = true;
    else parts.push(buf.subarray(p, end));
    p = end;
  }
  if (!changed) return buf;
  parts.push(buf.subarray(p));
  return Buffer.concat(parts);
}

function decodePng(bytes: Uint8Array): Raster {
  let buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 33 || PNG_SIGNATURE.some((b, i) => buf[i] !== b)) throw new RasterError('not a PNG file');
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const depth = buf[24] ?? 0;
  const colorType = buf[25] ?? 0;
  if (width * height > MAX_RASTER_PIXELS) throw new RasterError(`PNG too large (${width}x${height})`);
  if (colorType === 0 || colorType === 2) buf = withoutTrns(buf);
  let png: { width: number; height: number; data: Buffer | Uint16Array };
  try {
    png = PNG.sync.read(buf, { skipRescale: true }) as unknown as typeof png;
  } catch (e) {
    throw new RasterError(`PNG is corrupt or truncated (${message(e)})`, { cause: e });
  }
  const n = width * height;
  const rgba = png.data;
  if (rgba.length !== n * 4) throw new RasterError('PNG decoded to an unexpected size');
  // pngjs always yields RGBA; keep the channels the file really has.
  const samples: 1 | 3 | 4 = colorType === 0 || colorType === 4 ? 1 : colorType === 6 ? 4 : 3;
  const wide = depth === 16 && colorType !== 3;
  const out = wide ? new Uint16Array(n * samples) : new Uint8Array(n * samples);
  // Grey at 1, 2 or 4 bits is scaled to 0..255 exactly (x255, x85, x17), as the PNG spec does.
  const scale = depth < 8 && colorType === 0 ? 255 / ((1 << depth) - 1) : 1;
  for (let i = 0, o = 0; i < n; i++) {
    for (let s = 0; s < samples; s++) out[o++] = (rgba[i * 4 + s] ?? 0) * scale;
  }
  return { width, height, samples, dtype: wide ? 'uint16' : 'uint8', data: out };
}

// ---------------------------------------------------------------------------------------------
// TIFF

async function decodeTiff(bytes: Uint8Array): Promise<Raster> {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let tiff: Awaited<ReturnType<typeof fromArrayBuffer>>;
  let image: Awaited<ReturnType<typeof tiff.getImage>>;
  let pages: number;
  try {
    tiff = await fromArrayBuffer(ab);
    pages = await tiff.getImageCount();
    image = await tiff.getImage(0);
  } catch (e) {
    throw new RasterError(`TIFF is corrupt or truncated (${message(e)})`, { cause: e });
  }
  const width = image.getWidth();
  const height = image.getHeight();
  const spp = image.getSamplesPerPixel();
  if (width * height > MAX_RASTER_PIXELS) throw new RasterError(`TIFF too large (${width}x${height})`);
  const bits: number[] = [];
  const formats: number[] = [];
  for (let s = 0; s < spp; s++) {
    bits.push(image.getBitsPerSample(s));
    formats.push(image.getSampleFormat(s));
  }
  const bps = bits[0] ?? 0;
  if (bits.some((b) => b !== bps)) throw new RasterError('TIFF with mixed bits per sample is not supported');
  if (formats.some((f) => f !== 1)) {
    const kind = formats.includes(3) ? 'floating-point' : 'signed integer';
    throw new RasterError(`unsupported TIFF sample format: ${bps}-bit ${kind} (only unsigned 8/16-bit)`);
  }
  if (bps !== 8 && bps !== 16) throw new RasterError(`unsupported TIFF bit depth: ${bps} bits per sample (only 8 or 16)`);
  const photometric = image.fileDirectory.getValue('PhotometricInterpretation') as number | undefined;
  let samples: 1 | 3 | 4;
  if ((photometric === 0 || photometric === 1) && spp <= 2) samples = 1;
  else if (photometric === 2 && (spp === 3 || spp === 4)) samples = spp === 4 ? 4 : 3;
  else throw new RasterError(`unsupported TIFF layout (photometric ${String(photometric)}, ${spp} samples per pixel)`);
  let raster: ArrayLike<number>;
  try {
    const r = await image.readRasters({ interleave: true, samples: Array.from({ length: samples }, (_, i) => i) });
    raster = r as unknown as ArrayLike<number>;
  } catch (e) {
    throw new RasterError(`TIFF pixel data is corrupt, truncated or uses an unsupported compression (${message(e)})`, {
      cause: e,
    });
  }
  const n = width * height * samples;
  if (raster.length !== n) throw new RasterError('TIFF decoded to an unexpected size');
  const data = bps === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = raster[i] ?? 0;
  return { width, height, samples, dtype: bps === 16 ? 'uint16' : 'uint8', data, pages };
}

// ---------------------------------------------------------------------------------------------
// JPEG

function decodeJpeg(bytes: Uint8Array): Raster {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      tolerantDecoding: false,
      maxResolutionInMP: MAX_RASTER_PIXELS / 1e6,
      maxMemoryUsageInMB: 2048,
    });
  } catch (e) {
    throw new RasterError(`JPEG is corrupt, truncated or unsupported (${message(e)})`, { cause: e });
  }
  const { width, height, data } = img;
  const n = width * height;
  if (data.length !== n * 3) throw new RasterError('JPEG decoded to an unexpected size');
  // jpeg-js always returns RGB; a greyscale JPEG has R = G = B everywhere.
  let grey = true;
  for (let i = 0; i < n && grey; i++) grey = data[i * 3] === data[i * 3 + 1] && data[i * 3] === data[i * 3 + 2];
  if (!grey) return { width, height, samples: 3, dtype: 'uint8', data: new Uint8Array(data) };
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * 3] ?? 0;
  return { width, height, samples: 1, dtype: 'uint8', data: out };
}
