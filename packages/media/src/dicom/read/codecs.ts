import { createRequire } from 'node:module';
import { DicomError, describeThrown } from './errors.js';

const require = createRequire(import.meta.url);

export const JPEG_LS_SYNTAXES: readonly string[] = ['1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81'];
export const JPEG_2000_SYNTAXES: readonly string[] = ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91'];

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
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): CodecFrameInfo;
  getInterleaveMode?(): number;
  delete(): void;
}

interface CharlsModule {
  JpegLSDecoder: new () => CodecDecoder;
}

interface OpenJpegModule {
  J2KDecoder: new () => CodecDecoder;
}

interface EmscriptenOverrides {
  print: (text: string) => void;
  printErr: (text: string) => void;
}

type Factory<T> = (overrides: EmscriptenOverrides) => Promise<T>;

// OpenJPEG writes [INFO] lines to stdout through Emscripten's print: swallow them.
const quiet: EmscriptenOverrides = { print: () => undefined, printErr: () => undefined };

let charls: Promise<CharlsModule> | undefined;
let openjpeg: Promise<OpenJpegModule> | undefined;

function loadCharls(): Promise<CharlsModule> {
  charls ??= (require('@cornerstonejs/codec-charls/decodewasmjs') as Factory<CharlsModule>)(quiet);
  return charls;
}

function loadOpenJpeg(): Promise<OpenJpegModule> {
  openjpeg ??= (require('@cornerstonejs/codec-openjpeg/decodewasmjs') as Factory<OpenJpegModule>)(quiet);
  return openjpeg;
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
    const info = decoder.getFrameInfo();
    // Copy out of the WebAssembly heap before the decoder is freed.
    let bytes: Uint8Array = decoder.getDecodedBuffer().slice();
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
