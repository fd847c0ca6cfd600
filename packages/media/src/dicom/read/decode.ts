import { endianness } from 'node:os';
import { DicomError, describeThrown } from './errors.js';
import { type DataSet, type Element, dicomParser } from './parser.js';
import {
  type CodecFrameInfo,
  type CodecOutput,
  HTJ2K_SYNTAXES,
  JPEG_2000_SYNTAXES,
  JPEG_BASELINE_SYNTAXES,
  JPEG_EXTENDED_SYNTAXES,
  JPEG_LOSSLESS_SYNTAXES,
  JPEG_LS_SYNTAXES,
  decodeHtj2k,
  decodeJpeg2000,
  decodeJpegBaseline,
  decodeJpegExtended,
  decodeJpegLossless,
  decodeJpegLs,
} from './codecs.js';
import { type DicomInstance, TRANSFER_SYNTAX } from './read.js';
import { decodeRleFrame } from './rle.js';

export type PixelDtype = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32';
export type PixelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array;

export interface DecodedPixels {
  dtype: PixelDtype;
  /** `[frames, rows, columns]` for one sample per pixel, else `[frames, rows, columns, samples]`. */
  shape: [number, number, number] | [number, number, number, number];
  /** Stored values (no rescale, no colour conversion), C order, samples interleaved. */
  data: PixelArray;
}

/** Transfer syntaxes whose pixel data {@link decodeFrames} can decode. */
export const SUPPORTED_PIXEL_TRANSFER_SYNTAXES: readonly string[] = [
  TRANSFER_SYNTAX.implicitLittle,
  TRANSFER_SYNTAX.explicitLittle,
  TRANSFER_SYNTAX.deflatedExplicitLittle,
  TRANSFER_SYNTAX.explicitBig,
  TRANSFER_SYNTAX.rleLossless,
];

/**
 * Transfer syntaxes whose pixel data {@link decodeFramesAsync} can decode (adds JPEG Baseline,
 * JPEG Extended 8/12-bit, JPEG Lossless, JPEG-LS, JPEG 2000 and HTJ2K).
 */
export const SUPPORTED_PIXEL_TRANSFER_SYNTAXES_ASYNC: readonly string[] = [
  ...SUPPORTED_PIXEL_TRANSFER_SYNTAXES,
  ...JPEG_BASELINE_SYNTAXES,
  ...JPEG_EXTENDED_SYNTAXES,
  ...JPEG_LOSSLESS_SYNTAXES,
  ...JPEG_LS_SYNTAXES,
  ...JPEG_2000_SYNTAXES,
  ...HTJ2K_SYNTAXES,
];

const PIXEL_DATA = 'x7fe00010';
const HOST_LITTLE_ENDIAN = endianness() === 'LE';

interface Geometry {
  frames: number;
  rows: number;
  columns: number;
  samples: number;
  bitsAllocated: number;
  bitsStored: number;
  signed: boolean;
  planar: boolean;
}

function geometry(instance: DicomInstance): Geometry {
  const { rows, columns, bitsAllocated } = instance;
  if (rows === undefined || columns === undefined || bitsAllocated === undefined) {
    throw new DicomError('The image lacks Rows, Columns or Bits Allocated, so its pixel data cannot be decoded.');
  }
  if (rows < 1 || columns < 1) throw new DicomError(`The image has an empty matrix (${rows} x ${columns}).`);
  if (![1, 8, 16, 32].includes(bitsAllocated)) {
    throw new DicomError(`Bits Allocated ${bitsAllocated} is not supported (only 1, 8, 16 and 32 are).`);
  }
  const samples = instance.samplesPerPixel ?? 1;
  if (samples < 1) throw new DicomError(`Samples per Pixel ${samples} is invalid.`);
  const frames = instance.numberOfFrames ?? 1;
  if (frames < 1) throw new DicomError(`Number of Frames ${frames} is invalid.`);
  const bitsStored = instance.bitsStored ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw new DicomError(`Bits Stored ${bitsStored} does not fit in Bits Allocated ${bitsAllocated}.`);
  }
  return {
    frames,
    rows,
    columns,
    samples,
    bitsAllocated,
    bitsStored,
    signed: instance.pixelRepresentation === 1,
    planar: samples > 1 && instance.planarConfiguration === 1,
  };
}

function dtypeFor(g: Geometry): PixelDtype {
  const bits = g.bitsAllocated === 1 ? 8 : g.bitsAllocated;
  const sign = g.signed && g.bitsAllocated !== 1 ? 'int' : 'uint';
  return `${sign}${bits}` as PixelDtype;
}

function shapeFor(g: Geometry): DecodedPixels['shape'] {
  return g.samples === 1 ? [g.frames, g.rows, g.columns] : [g.frames, g.rows, g.columns, g.samples];
}

function pixelElement(instance: DicomInstance): Element {
  const element = instance.dataSet.elements[PIXEL_DATA];
  if (element === undefined) throw new DicomError('The instance has no Pixel Data (7FE0,0010) to decode.');
  return element;
}

/** Swaps bytes within each `width`-byte word, in place. */
function swapWords(bytes: Uint8Array, width: number): void {
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a += 1, b -= 1) {
      const t = bytes[a] ?? 0;
      bytes[a] = bytes[b] ?? 0;
      bytes[b] = t;
    }
  }
}

/** Converts colour-by-plane frames to colour-by-pixel, returning new bytes. */
function interleavePlanes(bytes: Uint8Array, g: Geometry, bytesPerSample: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  const pixels = g.rows * g.columns;
  const frameBytes = pixels * g.samples * bytesPerSample;
  for (let f = 0; f < g.frames; f += 1) {
    const frameStart = f * frameBytes;
    for (let s = 0; s < g.samples; s += 1) {
      const planeStart = frameStart + s * pixels * bytesPerSample;
      for (let p = 0; p < pixels; p += 1) {
        const src = planeStart + p * bytesPerSample;
        const dst = frameStart + (p * g.samples + s) * bytesPerSample;
        for (let k = 0; k < bytesPerSample; k += 1) out[dst + k] = bytes[src + k] ?? 0;
      }
    }
  }
  return out;
}

function unpackBitsLsbFirst(bytes: Uint8Array, count: number): Uint8Array {
  const out = new Uint8Array(count);
  for (let i = 0; i < count; i += 1) out[i] = ((bytes[i >> 3] ?? 0) >> (i & 7)) & 1;
  return out;
}

function decodeNative(dataSet: DataSet, element: Element, g: Geometry, bigEndian: boolean): Uint8Array {
  if (element.encapsulatedPixelData) {
    throw new DicomError('Pixel Data is encapsulated although the transfer syntax is uncompressed.');
  }
  const available = dataSet.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
  const sampleCount = g.frames * g.rows * g.columns * g.samples;
  if (g.bitsAllocated === 1) {
    const needed = Math.ceil(sampleCount / 8);
    if (available.length < needed) throw truncated(available.length, needed);
    return unpackBitsLsbFirst(available, sampleCount);
  }
  const bytesPerSample = g.bitsAllocated / 8;
  const needed = sampleCount * bytesPerSample;
  if (available.length < needed) throw truncated(available.length, needed);
  let bytes: Uint8Array = Uint8Array.from(available.subarray(0, needed));
  if (bigEndian) {
    if (bytesPerSample > 1) swapWords(bytes, bytesPerSample);
    else if (element.vr === 'OW') swapWords(bytes, 2);
  }
  if (g.planar) bytes = interleavePlanes(bytes, g, bytesPerSample);
  return bytes;
}

function truncated(have: number, need: number): DicomError {
  return new DicomError(`Pixel Data holds ${have} bytes but the image needs ${need}; the data is truncated.`);
}

/** Does a fragment open a code stream: JPEG / JPEG-LS SOI (FFD8 FF) or JPEG 2000 SOC + SIZ (FF4F FF51)? */
function startsCodeStream(bytes: Uint8Array, at: number, length: number): boolean {
  if (length < 4) return false;
  const [a, b, c, d] = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
  return (a === 0xff && b === 0xd8 && c === 0xff) || (a === 0xff && b === 0x4f && c === 0xff && d === 0x51);
}

/**
 * Without a Basic Offset Table and with more fragments than frames, a frame is the run of
 * fragments from one that opens a code stream up to the next (PS3.5 A.4: each frame starts a new
 * fragment). Gives up (undefined) unless exactly `frames` such starts are found, the first at
 * fragment 0.
 */
function framesByStartMarker(
  dataSet: DataSet,
  fragments: NonNullable<Element['fragments']>,
  frames: number,
): [number, number][] | undefined {
  const starts: number[] = [];
  fragments.forEach((fragment, i) => {
    if (startsCodeStream(dataSet.byteArray, fragment.position, fragment.length)) starts.push(i);
  });
  if (starts.length !== frames || starts[0] !== 0) return undefined;
  return starts.map((start, i) => [start, (starts[i + 1] ?? fragments.length) - start]);
}

/** Groups encapsulated fragments into frames using the Basic Offset Table when it has one. */
function frameFragmentRanges(dataSet: DataSet, element: Element, frames: number): [number, number][] {
  const fragments = element.fragments ?? [];
  if (fragments.length === 0) throw new DicomError('Encapsulated Pixel Data has no fragments.');
  const table = element.basicOffsetTable ?? [];
  if (table.length > 0) {
    if (table.length !== frames) {
      throw new DicomError(`The Basic Offset Table lists ${table.length} frames but Number of Frames is ${frames}.`);
    }
    return table.map((offset, i) => {
      const start = fragments.findIndex((fragment) => fragment.offset === offset);
      const nextOffset = table[i + 1];
      const end =
        nextOffset === undefined ? fragments.length : fragments.findIndex((fragment) => fragment.offset === nextOffset);
      if (start < 0 || end < 0 || end <= start) {
        throw new DicomError(`The Basic Offset Table entry for frame ${i + 1} does not point at a fragment.`);
      }
      return [start, end - start];
    });
  }
  if (frames === 1) return [[0, fragments.length]];
  if (fragments.length === frames) return fragments.map((_, i) => [i, 1]);
  const byMarker = framesByStartMarker(dataSet, fragments, frames);
  if (byMarker !== undefined) return byMarker;
  throw new DicomError(
    `Encapsulated Pixel Data has ${fragments.length} fragments for ${frames} frames and no Basic Offset Table, so frames cannot be located.`,
  );
}

function decodeRle(dataSet: DataSet, element: Element, g: Geometry): Uint8Array {
  if (!element.encapsulatedPixelData) throw new DicomError('RLE Lossless Pixel Data is not encapsulated.');
  if (g.bitsAllocated === 1) throw new DicomError('RLE Lossless with Bits Allocated 1 is not supported.');
  const bytesPerSample = g.bitsAllocated / 8;
  const pixels = g.rows * g.columns;
  const frameBytes = pixels * g.samples * bytesPerSample;
  const out = new Uint8Array(frameBytes * g.frames);
  frameFragmentRanges(dataSet, element, g.frames).forEach(([start, count], frame) => {
    const encoded = readFragments(dataSet, element, start, count, frame);
    out.set(decodeRleFrame(encoded, pixels, g.samples, bytesPerSample), frame * frameBytes);
  });
  return out;
}

function toTypedArray(bytes: Uint8Array, dtype: PixelDtype): PixelArray {
  const width = dtype.endsWith('32') ? 4 : dtype.endsWith('16') ? 2 : 1;
  if (!HOST_LITTLE_ENDIAN && width > 1) swapWords(bytes, width);
  const { buffer, byteOffset, byteLength } = bytes;
  switch (dtype) {
    case 'uint8':
      return bytes;
    case 'int8':
      return new Int8Array(buffer, byteOffset, byteLength);
    case 'uint16':
      return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case 'int16':
      return new Int16Array(buffer, byteOffset, byteLength / 2);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, byteLength / 4);
    case 'int32':
      return new Int32Array(buffer, byteOffset, byteLength / 4);
  }
}

/** Sign-extends signed samples whose Bits Stored is below Bits Allocated (as pydicom does). */
function signExtend(data: PixelArray, g: Geometry): void {
  if (!g.signed || g.bitsAllocated === 1 || g.bitsStored >= g.bitsAllocated) return;
  const shift = 32 - g.bitsStored;
  for (let i = 0; i < data.length; i += 1) data[i] = ((data[i] ?? 0) << shift) >> shift;
}

/**
 * Decodes every frame of an instance's Pixel Data to its stored values (no rescale or
 * colour-space conversion). Supports the uncompressed transfer syntaxes (including deflate and
 * big endian) and RLE Lossless; anything else throws {@link DicomError}.
 */
export function decodeFrames(instance: DicomInstance): DecodedPixels {
  const syntax = instance.transferSyntaxUID;
  if (!SUPPORTED_PIXEL_TRANSFER_SYNTAXES.includes(syntax)) {
    throw new DicomError(
      SUPPORTED_PIXEL_TRANSFER_SYNTAXES_ASYNC.includes(syntax)
        ? `Pixel data in transfer syntax ${syntax} needs a WebAssembly codec: use decodeFramesAsync.`
        : `Pixel data in transfer syntax ${syntax} cannot be decoded yet.`,
    );
  }
  const element = pixelElement(instance);
  const g = geometry(instance);
  const bytes =
    syntax === TRANSFER_SYNTAX.rleLossless
      ? decodeRle(instance.dataSet, element, g)
      : decodeNative(instance.dataSet, element, g, syntax === TRANSFER_SYNTAX.explicitBig);
  return finish(bytes, g);
}

function finish(bytes: Uint8Array, g: Geometry): DecodedPixels {
  const dtype = dtypeFor(g);
  const data = toTypedArray(bytes, dtype);
  signExtend(data, g);
  return { dtype, shape: shapeFor(g), data };
}

function readFragments(dataSet: DataSet, element: Element, start: number, count: number, frame: number): Uint8Array {
  try {
    return dicomParser.readEncapsulatedPixelDataFromFragments(dataSet, element, start, count);
  } catch (thrown) {
    throw new DicomError(`Frame ${frame + 1} could not be read from its fragments: ${describeThrown(thrown)}.`, {
      cause: thrown,
    });
  }
}

/** Rewrites codec samples (1, 2 or 4 bytes wide) as `width`-byte little-endian samples. */
function widen(bytes: Uint8Array, info: CodecFrameInfo, width: number, sampleCount: number): Uint8Array {
  const from = info.bitsPerSample <= 8 ? 1 : info.bitsPerSample <= 16 ? 2 : 4;
  if (bytes.length !== sampleCount * from) {
    throw new DicomError(`The codec returned ${bytes.length} bytes where ${sampleCount * from} were expected.`);
  }
  if (from === width) return bytes;
  if (from > width) {
    throw new DicomError(`The codec returned ${info.bitsPerSample}-bit samples, wider than Bits Allocated allows.`);
  }
  const out = new Uint8Array(sampleCount * width);
  const range = 2 ** (8 * from);
  const target = 2 ** (8 * width);
  for (let i = 0; i < sampleCount; i += 1) {
    let value = 0;
    for (let k = from - 1; k >= 0; k -= 1) value = value * 256 + (bytes[i * from + k] ?? 0);
    if (info.isSigned === true && value >= range / 2) value -= range;
    let unsigned = (value + target) % target;
    for (let k = 0; k < width; k += 1) {
      out[i * width + k] = unsigned % 256;
      unsigned = Math.floor(unsigned / 256);
    }
  }
  return out;
}

/**
 * Like {@link decodeFrames}, and also decodes JPEG-LS (lossless and near-lossless), JPEG 2000
 * (lossless and lossy) and HTJ2K with the CharLS, OpenJPEG and OpenJPH WebAssembly codecs, 8-bit
 * JPEG Baseline with jpeg-js, 12-bit JPEG Extended with dcmjs-codecs (IJG libjpeg) and JPEG
 * Lossless (Process 14) with jpeg-lossless-decoder-js.
 * Colour transforms the codec applies itself (JPEG 2000 multi-component transform) are kept, so
 * YBR_ICT/YBR_RCT come back as RGB. JPEG Baseline frames labelled YBR_FULL or YBR_FULL_422 come
 * back as YCbCr, chroma upsampled to full size (as pydicom returns them); other JPEG Baseline
 * frames get the decoder's usual JFIF/Adobe colour handling. Frames are always returned
 * interleaved.
 */
export async function decodeFramesAsync(instance: DicomInstance): Promise<DecodedPixels> {
  const syntax = instance.transferSyntaxUID;
  if (SUPPORTED_PIXEL_TRANSFER_SYNTAXES.includes(syntax)) return decodeFrames(instance);
  let codec: ((encoded: Uint8Array) => Promise<CodecOutput>) | undefined;
  if (JPEG_LS_SYNTAXES.includes(syntax)) codec = decodeJpegLs;
  else if (JPEG_2000_SYNTAXES.includes(syntax)) codec = decodeJpeg2000;
  else if (HTJ2K_SYNTAXES.includes(syntax)) codec = decodeHtj2k;
  else if (JPEG_LOSSLESS_SYNTAXES.includes(syntax)) codec = decodeJpegLossless;
  else if (JPEG_BASELINE_SYNTAXES.includes(syntax) || JPEG_EXTENDED_SYNTAXES.includes(syntax)) {
    const keepYbr = instance.photometricInterpretation?.startsWith('YBR_FULL') === true;
    codec = JPEG_BASELINE_SYNTAXES.includes(syntax)
      ? (encoded) => decodeJpegBaseline(encoded, keepYbr)
      : (encoded) => decodeJpegExtended(encoded, keepYbr);
  }
  if (codec === undefined) throw new DicomError(`Pixel data in transfer syntax ${syntax} cannot be decoded yet.`);

  const element = pixelElement(instance);
  const g = geometry(instance);
  if (!element.encapsulatedPixelData) throw new DicomError('Compressed Pixel Data is not encapsulated.');
  if (g.bitsAllocated === 1) throw new DicomError('Compressed Pixel Data with Bits Allocated 1 is not supported.');
  const bytesPerSample = g.bitsAllocated / 8;
  const samplesPerFrame = g.rows * g.columns * g.samples;
  const frameBytes = samplesPerFrame * bytesPerSample;
  const out = new Uint8Array(frameBytes * g.frames);
  for (const [frame, [start, count]] of frameFragmentRanges(instance.dataSet, element, g.frames).entries()) {
    const { info, bytes } = await codec(readFragments(instance.dataSet, element, start, count, frame));
    if (info.width !== g.columns || info.height !== g.rows || info.componentCount !== g.samples) {
      throw new DicomError(
        `Frame ${frame + 1} decodes to ${info.width} x ${info.height} x ${info.componentCount} but the header says ${g.columns} x ${g.rows} x ${g.samples}.`,
      );
    }
    out.set(widen(bytes, info, bytesPerSample, samplesPerFrame), frame * frameBytes);
  }
  return finish(out, g);
}
