import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { crc32 } from 'node:zlib';
import { fileTypeFromFile } from 'file-type';
import { imageSizeFromFile } from 'image-size/fromFile';

export interface ProbeMetadata {
  width?: number;
  height?: number;
  bitDepth?: number;
  channels?: number;
  /** Unicode code points, a BOM included (brat offsets count it). */
  characters?: number;
  lines?: number;
}

export type ProbeResult =
  | { ok: true; modality: 'image' | 'text'; mediaType: string; metadata: ProbeMetadata }
  | { ok: false; status: 415 | 422; detail: string };

const ACCEPTED = 'Accepted: PNG and JPEG images, UTF-8 text (.txt, .md).';
const TEXT_EXTS: Record<string, string> = { '.txt': 'text/plain', '.md': 'text/markdown' };
const IMAGE_EXTS: Record<string, 'png' | 'jpg'> = { '.png': 'png', '.jpg': 'jpg', '.jpeg': 'jpg' };
const KIND_NAME = { png: 'a PNG image', jpg: 'a JPEG image' } as const;

const unsupported = (detail: string): ProbeResult => ({ ok: false, status: 415, detail });
const invalid = (detail: string): ProbeResult => ({ ok: false, status: 422, detail });

/**
 * Identify an uploaded file by its content, check that its extension agrees, and read the
 * metadata the viewers need. `fileName` is the client's name (used for the extension and in
 * messages only); `path` is where the bytes are.
 */
export async function probeFile(path: string, fileName: string): Promise<ProbeResult> {
  const q = JSON.stringify(fileName);
  const ext = extname(fileName).toLowerCase();
  const { size } = await stat(path);
  if (size === 0) return invalid(`${q} is empty`);

  const detected = await fileTypeFromFile(path);
  const kind = detected?.ext === 'png' ? 'png' : detected?.ext === 'jpg' ? 'jpg' : undefined;
  const wanted = IMAGE_EXTS[ext];
  const textType = TEXT_EXTS[ext];

  if (kind) {
    if (wanted !== kind) {
      return unsupported(
        `${q} has ${ext ? `a ${ext} extension` : 'no extension'} but its content is ${KIND_NAME[kind]}; ` +
          `rename it to ${kind === 'png' ? '.png' : '.jpg'}.`,
      );
    }
    return kind === 'png' ? probePng(path, q) : probeJpeg(path, q);
  }

  const what = detected ? `${describe(detected.ext)} (${detected.mime})` : undefined;
  if (textType) {
    const text = await probeText(path, q);
    if (text.ok) return { ...text, mediaType: textType };
    if (!what || text.detail.endsWith(UTF16)) return text; // file-type reads a UTF-16 BOM as MPEG audio
    return unsupported(`${q} is not text: its content is ${what}. ${ACCEPTED}`);
  }
  if (wanted) {
    const label = wanted === 'png' ? 'a PNG image' : 'a JPEG image';
    let content = what;
    if (!content) content = (await probeText(path, q)).ok ? 'text' : 'not a recognised format';
    return unsupported(`${q} is not ${label}: its content is ${content}. ${ACCEPTED}`);
  }
  return unsupported(
    what
      ? `${q} is ${what}, which is not supported. ${ACCEPTED}`
      : `${q} has an unsupported type${ext ? ` (${ext})` : ''}. ${ACCEPTED}`,
  );
}

function describe(ext: string): string {
  const names: Record<string, string> = {
    pdf: 'a PDF document', zip: 'a ZIP archive', exe: 'a Windows executable', gif: 'a GIF image',
    webp: 'a WebP image', tif: 'a TIFF image', bmp: 'a BMP image', dcm: 'a DICOM file',
  };
  return names[ext] ?? `a ${ext.toUpperCase()} file`;
}

// ---- PNG ------------------------------------------------------------------------------

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** colour type → [channels, allowed bit depths] */
const PNG_COLOUR: Record<number, [number, number[]]> = {
  0: [1, [1, 2, 4, 8, 16]], // greyscale
  2: [3, [8, 16]], // RGB
  3: [3, [1, 2, 4, 8]], // palette (expands to RGB)
  4: [2, [8, 16]], // greyscale + alpha
  6: [4, [8, 16]], // RGBA
};

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

async function probePng(path: string, q: string): Promise<ProbeResult> {
  const bad = (why: string) => invalid(`${q} is a damaged PNG image: ${why}`);
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = await readAt(fh, 0, 33);
    if (head.length < 33 || !head.subarray(0, 8).equals(PNG_SIGNATURE)) return bad('the file is truncated');
    if (head.readUInt32BE(8) !== 13 || head.toString('latin1', 12, 16) !== 'IHDR') {
      return bad('the IHDR header chunk is missing');
    }
    if (crc32(head.subarray(12, 29)) !== head.readUInt32BE(29)) return bad('the IHDR chunk checksum is wrong');
    const width = head.readUInt32BE(16);
    const height = head.readUInt32BE(20);
    const bitDepth = head[24] ?? 0;
    const colourType = head[25] ?? -1;
    if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) {
      return bad(`invalid dimensions ${width}×${height}`);
    }
    const colour = PNG_COLOUR[colourType];
    if (!colour || !colour[1].includes(bitDepth)) {
      return bad(`invalid colour type ${colourType} with bit depth ${bitDepth}`);
    }
    // Walk the chunk list (headers only) to catch truncated uploads.
    let pos = 33;
    let sawData = false;
    for (;;) {
      const hdr = await readAt(fh, pos, 8);
      if (hdr.length < 8) return bad('the file is truncated (no IEND chunk)');
      const type = hdr.toString('latin1', 4, 8);
      pos += 12 + hdr.readUInt32BE(0);
      if (pos > size) return bad(`the file is truncated inside a ${type} chunk`);
      if (type === 'IDAT') sawData = true;
      if (type === 'IEND') break;
    }
    if (!sawData) return bad('it has no image data (IDAT)');
    return { ok: true, modality: 'image', mediaType: 'image/png', metadata: { width, height, bitDepth, channels: colour[0] } };
  } finally {
    await fh.close();
  }
}

// ---- JPEG -----------------------------------------------------------------------------

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Find the start-of-frame segment: sample precision and component count. */
async function readJpegFrame(path: string): Promise<{ bitDepth: number; channels: number } | null> {
  const fh = await open(path, 'r');
  try {
    let pos = 2;
    for (;;) {
      const seg = await readAt(fh, pos, 10);
      if (seg.length < 4 || seg[0] !== 0xff) return null;
      const marker = seg[1] ?? 0;
      if (marker === 0xff) { pos += 1; continue; } // fill byte
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { pos += 2; continue; } // standalone
      if (marker === 0xda || marker === 0xd9) return null; // scan or end before any frame header
      if (SOF_MARKERS.has(marker)) {
        if (seg.length < 10) return null;
        return { bitDepth: seg[4] ?? 0, channels: seg[9] ?? 0 };
      }
      pos += 2 + seg.readUInt16BE(2);
    }
  } finally {
    await fh.close();
  }
}

async function probeJpeg(path: string, q: string): Promise<ProbeResult> {
  const bad = (why: string) => invalid(`${q} is a damaged JPEG image: ${why}`);
  const frame = await readJpegFrame(path);
  if (!frame || frame.channels === 0) return bad('no frame header found');
  let size: { width?: number; height?: number };
  try {
    size = await imageSizeFromFile(path);
  } catch {
    return bad('its dimensions cannot be read');
  }
  const width = size.width ?? 0;
  const height = size.height ?? 0;
  if (!width || !height) return bad(`invalid dimensions ${width}×${height}`);
  return { ok: true, modality: 'image', mediaType: 'image/jpeg', metadata: { width, height, ...frame } };
}

// ---- Text -----------------------------------------------------------------------------

/**
 * Stream-decode as strict UTF-8 (constant memory, any size). Counts code points (a BOM is
 * kept and counted) and lines (\n, \r\n and \r end a line; a last line without a break counts).
 */
const UTF16 = 'is UTF-16 text; only UTF-8 text is accepted';

async function probeText(path: string, q: string): Promise<ProbeResult> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let characters = 0;
  let breaks = 0;
  let last = -1;
  const count = (s: string): boolean => {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0) return false;
      if (c >= 0xdc00 && c <= 0xdfff) continue; // low half of a pair already counted
      characters++;
      if (c === 0x0d || (c === 0x0a && last !== 0x0d)) breaks++;
      last = c;
    }
    return true;
  };
  const fh = await open(path, 'r');
  try {
    let first = true;
    for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) {
      const bytes = chunk as Buffer;
      if (first && bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
        return invalid(`${q} ${UTF16}`);
      }
      first = false;
      if (!count(decoder.decode(bytes, { stream: true }))) return invalid(`${q} contains NUL bytes, so it is not a text file`);
    }
    if (!count(decoder.decode())) return invalid(`${q} contains NUL bytes, so it is not a text file`);
  } catch (err) {
    if (err instanceof TypeError) return invalid(`${q} is not valid UTF-8 text`);
    throw err;
  } finally {
    await fh.close();
  }
  const lines = breaks + (last === 0x0a || last === 0x0d || characters === 0 ? 0 : 1);
  return { ok: true, modality: 'text', mediaType: 'text/plain', metadata: { characters, lines } };
}
