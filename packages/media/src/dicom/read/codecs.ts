import { createRequire } from 'node:module';
import { decode as decodeJpegJs } from 'jpeg-js';
import { DicomError, describeThrown } from './errors.js';

const require = createRequire(import.meta.url);
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export const JPEG_LS_SYNTAXES: readonly string[] = ['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81'];
export const JPEG_2000_SYNTAXES: readonly string[] = ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91'];
/** High-Throughput JPEG 2000: lossless, lossless RPCL, and lossy. */
export const HTJ2K_SYNTAXES: readonly string[] = [
  '1.2.840.10008.1.2.4.201',
  '1.2.840.10008.1.2.4.202',
  '1.2.840.10008.1.2.4.203',
];
/** JPEG Baseline (Process 1): 8-bit DCT. */
export const JPEG_BASELINE_SYNTAXES: readonly string[] = ['1.2.840.10008.1.2.4.50'];
/** JPEG Extended (Process 2 and 4): 8- or 12-bit DCT. */
export const JPEG_EXTENDED_SYNTAXES: readonly string[] = ['1.2.840.10008.1.2.4.51'];
/** JPEG Lossless, Non-Hierarchical (Process 14), any predictor and Selection Value 1. */
export const JPEG_LOSSLESS_SYNTAXES: readonly string[] = ['1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70'];

/** What the cornerstone codec decoders report about a decoded frame. */
export interface CodecFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface CodecDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): ArrayBufferView;
  decode(): void;
  getFrameInfo(): CodecFrameInfo;
  getInterleaveMode?(): number;
  /** OpenJPH reports failures here instead of throwing. */
  getLastErrorMessage?(): string;
  delete(): void;
}

interface CharlsModule {
  JpegLSDecoder: new () => CodecDecoder;
}

interface OpenJpegModule {
  J2KDecoder: new () => CodecDecoder;
}

interface OpenJphModule {
  HTJ2KDecoder: new () => CodecDecoder;
}

/** The parts of jpeg-lossless-decoder-js's Decoder used here (the package ships no type declarations). */
interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number): Uint8Array | Uint16Array | null;
  xDim: number;
  yDim: number;
  numComp: number;
  precision: number | undefined;
  /** Where decoding stopped: `index` past `buffer.length` means it ran off the end. */
  stream: { index: number; buffer: Uint8Array } | null;
}

interface LosslessModule {
  Decoder: new () => LosslessDecoder;
}

interface EmscriptenOverrides {
  print: (text: string) => void;
  printErr: (text: string) => void;
}

type Factory<T> = (overrides: EmscriptenOverrides) => Promise<T>;

/**
 * OpenJPEG writes [INFO] lines to stdout through Emscripten's print: swallow them. Emscripten
 * turns the object it is given into that module's `Module`, so each codec needs its own: sharing
 * one makes the second embind module fail with "Cannot register multiple overloads".
 */
const quiet = (): EmscriptenOverrides => ({ print: () => undefined, printErr: () => undefined });

let charls: Promise<CharlsModule> | undefined;
let openjpeg: Promise<OpenJpegModule> | undefined;
let openjph: Promise<OpenJphModule> | undefined;

function loadCharls(): Promise<CharlsModule> {
  charls ??= (require('@cornerstonejs/codec-charls/decodewasmjs') as Factory<CharlsModule>)(quiet());
  return charls;
}

function loadOpenJpeg(): Promise<OpenJpegModule> {
  openjpeg ??= (require('@cornerstonejs/codec-openjpeg/decodewasmjs') as Factory<OpenJpegModule>)(quiet());
  return openjpeg;
}

function loadOpenJph(): Promise<OpenJphModule> {
  openjph ??= (require('@cornerstonejs/codec-openjph/wasmjs') as Factory<OpenJphModule>)(quiet());
  return openjph;
}

export interface CodecOutput {
  info: CodecFrameInfo;
  /** Decoded samples, little endian, 1 byte per sample up to 8 bits, 2 up to 16, interleaved. */
  bytes: Uint8Array;
}

function run(decoder: CodecDecoder, encoded: Uint8Array, what: string): CodecOutput {
  try {
    decoder.getEncodedBuffer(encoded.length).set(encoded);
    decoder.decode();
    const error = decoder.getLastErrorMessage?.() ?? '';
    if (error !== '') throw new DicomError(`The ${what} frame could not be decoded: ${error}.`);
    const info = decoder.getFrameInfo();
    // Copy out of the WebAssembly heap before the decoder is freed.
    let bytes = copyBytes(decoder.getDecodedBuffer());
    if (info.componentCount > 1 && decoder.getInterleaveMode?.() === 0) {
      bytes = planarToInterleaved(bytes, info);
    }
    return { info: { ...info }, bytes };
  } catch (thrown) {
    if (thrown instanceof DicomError) throw thrown;
    throw new DicomError(`The ${what} frame could not be decoded: ${describeThrown(thrown)}.`, { cause: thrown });
  } finally {
    decoder.delete();
  }
}

/** Copies any typed-array view (codecs hand back Uint8Array, Uint8ClampedArray or wider views) to bytes. */
function copyBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

function planarToInterleaved(bytes: Uint8Array, info: CodecFrameInfo): Uint8Array {
  const width = info.bitsPerSample <= 8 ? 1 : 2;
  const pixels = info.width * info.height;
  const out = new Uint8Array(bytes.length);
  for (let c = 0; c < info.componentCount; c += 1) {
    for (let p = 0; p < pixels; p += 1) {
      for (let k = 0; k < width; k += 1) {
        out[(p * info.componentCount + c) * width + k] = bytes[(c * pixels + p) * width + k] ?? 0;
      }
    }
  }
  return out;
}

export async function decodeJpegLs(encoded: Uint8Array): Promise<CodecOutput> {
  const lib = await loadCharls();
  return run(new lib.JpegLSDecoder(), encoded, 'JPEG-LS');
}

export async function decodeJpeg2000(encoded: Uint8Array): Promise<CodecOutput> {
  const lib = await loadOpenJpeg();
  return run(new lib.J2KDecoder(), encoded, 'JPEG 2000');
}

/**
 * OpenJPH decodes a truncated code stream without complaint (HTJ2K is built to be resilient), so
 * insist on the End Of Codestream marker that ISO 15444-1 requires, allowing trailing zero padding.
 */
function assertJ2kComplete(encoded: Uint8Array, what: string): void {
  let end = encoded.length;
  while (end > 0 && encoded[end - 1] === 0) end -= 1;
  if (end < 2 || encoded[end - 2] !== 0xff || encoded[end - 1] !== 0xd9) {
    throw new DicomError(`The ${what} code stream does not end with an EOC marker: it is truncated or corrupt.`);
  }
}

export async function decodeHtj2k(encoded: Uint8Array): Promise<CodecOutput> {
  assertJ2kComplete(encoded, 'HTJ2K');
  const lib = await loadOpenJph();
  return run(new lib.HTJ2KDecoder(), encoded, 'HTJ2K');
}

/** What a JPEG (ISO 10918) Start Of Frame segment says. */
export interface JpegFrameHeader {
  /** The SOF marker's low byte: 0xc0 baseline, 0xc1 extended, 0xc2 progressive, 0xc3 lossless, ... */
  process: number;
  precision: number;
  rows: number;
  columns: number;
  components: number;
}

/** Walks the marker segments of a JPEG stream up to its Start Of Frame. */
export function readJpegFrameHeader(encoded: Uint8Array): JpegFrameHeader {
  const at = (i: number): number => encoded[i] ?? 0;
  if (at(0) !== 0xff || at(1) !== 0xd8) throw new DicomError('The JPEG frame does not start with an SOI marker.');
  let offset = 2;
  while (offset + 4 <= encoded.length) {
    if (at(offset) !== 0xff) throw new DicomError(`The JPEG frame has no marker at byte ${offset}.`);
    const marker = at(offset + 1);
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    const length = at(offset + 2) * 256 + at(offset + 3);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (offset + 10 > encoded.length) break;
      return {
        process: marker - 0xc0,
        precision: at(offset + 4),
        rows: at(offset + 5) * 256 + at(offset + 6),
        columns: at(offset + 7) * 256 + at(offset + 8),
        components: at(offset + 9),
      };
    }
    if (marker === 0xda || marker === 0xd9) break;
    offset += 2 + length;
  }
  throw new DicomError('The JPEG frame has no Start Of Frame segment.');
}

/**
 * Decodes an 8-bit baseline (or progressive) DCT JPEG with jpeg-js. With `keepYbr` the three
 * components come back as coded (YCbCr, chroma upsampled), as pydicom returns YBR_FULL and
 * YBR_FULL_422 JPEGs; otherwise the decoder applies its usual JFIF/Adobe colour transform.
 */
export function decodeJpegBaseline(encoded: Uint8Array, keepYbr: boolean): Promise<CodecOutput> {
  const header = readJpegFrameHeader(encoded);
  if (header.precision !== 8 || ![0, 1, 2].includes(header.process)) {
    return Promise.reject(
      new DicomError(
        `The JPEG frame is ${header.precision}-bit SOF${header.process}; only 8-bit DCT (SOF0-2) frames can be decoded.`,
      ),
    );
  }
  let decoded: { width: number; height: number; data: Uint8Array };
  try {
    decoded = decodeJpegJs(encoded, {
      useTArray: true,
      formatAsRGBA: false,
      ...(keepYbr ? { colorTransform: false } : {}),
      // The DICOM header already bounds the frame; allow any frame up to 4 GB of samples.
      maxResolutionInMP: 4096,
      maxMemoryUsageInMB: 4096,
    });
  } catch (thrown) {
    return Promise.reject(
      new DicomError(`The JPEG frame could not be decoded: ${describeThrown(thrown)}.`, { cause: thrown }),
    );
  }
  const { width, height, data } = decoded;
  const componentCount = width * height > 0 ? data.length / (width * height) : 0;
  return Promise.resolve({
    info: { width, height, bitsPerSample: 8, componentCount, isSigned: false },
    bytes: data,
  });
}

/** The parts of dcmjs-codecs used here (its WebAssembly build of DCMTK's IJG 8/12/16-bit libjpeg). */
interface DcmjsCodecContext {
  getDecodedBuffer(): Uint8Array | undefined;
}

interface DcmjsCodecsModule {
  NativeCodecs: {
    initializeAsync(opts?: { logCodecsInfo?: boolean; logCodecsTrace?: boolean }): Promise<void>;
    isInitialized(): boolean;
    decodeJpeg(context: DcmjsCodecContext, parameters?: { convertColorspaceToRgb?: boolean }): DcmjsCodecContext;
  };
  Context: new (attrs: {
    width: number;
    height: number;
    bitsAllocated: number;
    bitsStored: number;
    samplesPerPixel: number;
    pixelRepresentation: number;
    planarConfiguration: number;
    photometricInterpretation: string;
    encodedBuffer: Uint8Array;
  }) => DcmjsCodecContext;
}

let dcmjsCodecs: Promise<DcmjsCodecsModule> | undefined;

function loadDcmjsCodecs(): Promise<DcmjsCodecsModule> {
  dcmjsCodecs ??= (async () => {
    const lib = require('dcmjs-codecs') as DcmjsCodecsModule;
    if (!lib.NativeCodecs.isInitialized()) {
      await lib.NativeCodecs.initializeAsync({ logCodecsInfo: false, logCodecsTrace: false });
    }
    return lib;
  })();
  return dcmjsCodecs;
}

/**
 * libjpeg fills a truncated scan with grey and only warns: insist on the EOI marker, allowing
 * trailing padding of 0x00 (even-length fragments) or 0xFF (fill bytes, seen in JPGExtended.dcm).
 */
function assertJpegComplete(encoded: Uint8Array): void {
  let end = encoded.length;
  while (end > 0 && (encoded[end - 1] === 0 || encoded[end - 1] === 0xff)) end -= 1;
  if (end < 2 || encoded[end - 2] !== 0xff || encoded[end - 1] !== 0xd9) {
    throw new DicomError('The JPEG frame does not end with an EOI marker: it is truncated or corrupt.');
  }
}

/**
 * Decodes a JPEG Extended (Process 2/4) frame. 8-bit frames go through {@link decodeJpegBaseline};
 * 12-bit frames through dcmjs-codecs (DCMTK's IJG libjpeg, 12-bit build, compiled to WebAssembly),
 * which is the library family GDCM and DCMTK decode with, and returns 16-bit samples. `keepYbr` as
 * for {@link decodeJpegBaseline} (three-component 12-bit frames are rare and untested here).
 */
export async function decodeJpegExtended(encoded: Uint8Array, keepYbr: boolean): Promise<CodecOutput> {
  const header = readJpegFrameHeader(encoded);
  if (header.precision === 8) return decodeJpegBaseline(encoded, keepYbr);
  if (header.precision !== 12 || ![1, 2].includes(header.process)) {
    throw new DicomError(
      `The JPEG frame is ${header.precision}-bit SOF${header.process}; JPEG Extended allows 8- or 12-bit SOF1/SOF2.`,
    );
  }
  if (header.components !== 1 && header.components !== 3) {
    throw new DicomError(`The JPEG frame has ${header.components} components; only 1 or 3 are supported.`);
  }
  assertJpegComplete(encoded);
  const lib = await loadDcmjsCodecs();
  const expected = header.rows * header.columns * header.components * 2;
  let bytes: Uint8Array | undefined;
  try {
    const context = new lib.Context({
      width: header.columns,
      height: header.rows,
      bitsAllocated: 16,
      bitsStored: 12,
      samplesPerPixel: header.components,
      pixelRepresentation: 0,
      planarConfiguration: 0,
      photometricInterpretation: header.components === 1 ? 'MONOCHROME2' : keepYbr ? 'YBR_FULL' : 'RGB',
      encodedBuffer: encoded,
    });
    const decoded = lib.NativeCodecs.decodeJpeg(context, { convertColorspaceToRgb: !keepYbr }).getDecodedBuffer();
    // Copy out: the buffer may be a view of the WebAssembly heap.
    bytes = decoded === undefined ? undefined : copyBytes(decoded);
  } catch (thrown) {
    throw new DicomError(`The 12-bit JPEG frame could not be decoded: ${describeThrown(thrown)}.`, { cause: thrown });
  }
  if (bytes?.length !== expected) {
    throw new DicomError(`The 12-bit JPEG frame decoded to ${bytes?.length ?? 0} bytes where ${expected} were expected.`);
  }
  // The codec writes 16-bit samples in host order.
  if (!HOST_LITTLE_ENDIAN) {
    for (let i = 0; i + 1 < bytes.length; i += 2) bytes.set([bytes[i + 1] ?? 0, bytes[i] ?? 0], i);
  }
  return {
    info: { width: header.columns, height: header.rows, bitsPerSample: 12, componentCount: header.components, isSigned: false },
    bytes,
  };
}

let lossless: LosslessModule | undefined;

/** Decodes a JPEG Lossless (Process 14) frame with jpeg-lossless-decoder-js. */
export function decodeJpegLossless(encoded: Uint8Array): Promise<CodecOutput> {
  const header = readJpegFrameHeader(encoded);
  if (header.process !== 3) {
    return Promise.reject(
      new DicomError(`The JPEG frame is SOF${header.process}, not a lossless Huffman (SOF3) frame.`),
    );
  }
  lossless ??= require('jpeg-lossless-decoder-js') as LosslessModule;
  const decoder = new lossless.Decoder();
  let samples: Uint8Array | Uint16Array | null;
  try {
    samples = decoder.decode(encoded.buffer as ArrayBuffer, encoded.byteOffset, encoded.byteLength);
  } catch (thrown) {
    return Promise.reject(
      new DicomError(`The JPEG Lossless frame could not be decoded: ${describeThrown(thrown)}.`, { cause: thrown }),
    );
  }
  if (samples === null) return Promise.reject(new DicomError('The JPEG Lossless frame decoded to nothing.'));
  // The decoder reads undefined past the end of a truncated stream and carries on: catch that.
  const { stream } = decoder;
  if (stream !== null && stream.index > stream.buffer.length) {
    return Promise.reject(
      new DicomError(
        `The JPEG Lossless frame is truncated: decoding needed ${stream.index} bytes, the frame has ${stream.buffer.length}.`,
      ),
    );
  }
  const bitsPerSample = decoder.precision ?? header.precision;
  // Uint16Array samples are in host order; copyBytes keeps that, so make them little endian.
  const bytes = copyBytes(samples);
  if (samples instanceof Uint16Array && !HOST_LITTLE_ENDIAN) {
    for (let i = 0; i + 1 < bytes.length; i += 2) bytes.set([bytes[i + 1] ?? 0, bytes[i] ?? 0], i);
  }
  return Promise.resolve({
    info: { width: decoder.xDim, height: decoder.yDim, bitsPerSample, componentCount: decoder.numComp },
    bytes,
  });
}
