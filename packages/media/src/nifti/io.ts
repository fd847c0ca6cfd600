import { gunzipSync } from 'fflate';
import { isNIFTI1, isNIFTI2, readHeader, type NIFTI1, type NIFTI2 } from 'nifti-reader-js';
import { NiftiError } from './errors.js';

/** One uploaded file: its original name and its bytes (possibly gzipped). */
export interface NiftiInputFile {
  name: string;
  bytes: Uint8Array;
}

export type NiftiFileRole = 'single' | 'header' | 'image';

/** An input file after gunzip, with the role its name gives it. */
export interface OpenedFile {
  name: string;
  role: NiftiFileRole;
  gzipped: boolean;
  bytes: Uint8Array<ArrayBuffer>;
  stem: string;
}

/** The files of one NIfTI image, classified: one `.nii` or an `.hdr` + `.img` pair. */
export interface OpenedSet {
  header: OpenedFile;
  image: OpenedFile | null;
}

/** Parsed header plus the facts we need about it that nifti-reader-js does not report directly. */
export interface ParsedHeader {
  hdr: NIFTI1 | NIFTI2;
  version: 1 | 2;
  littleEndian: boolean;
  /** sizeof_hdr: 348 or 540. */
  headerSize: number;
  /** The header bytes (decompressed), at least headerSize long. */
  raw: Uint8Array<ArrayBuffer>;
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzip(file: NiftiInputFile): Uint8Array<ArrayBuffer> {
  try {
    return gunzipSync(file.bytes);
  } catch (err) {
    throw new NiftiError(
      `"${file.name}" looks gzip-compressed but could not be decompressed; it is probably truncated or corrupt.`,
      { cause: err },
    );
  }
}

function classify(name: string): { role: NiftiFileRole; stem: string } {
  const lower = name.toLowerCase();
  const base = lower.endsWith('.gz') ? lower.slice(0, -3) : lower;
  for (const [ext, role] of [
    ['.hdr', 'header'],
    ['.img', 'image'],
    ['.nii', 'single'],
  ] as const) {
    if (base.endsWith(ext)) return { role, stem: base.slice(0, -ext.length) };
  }
  // Unknown extension: treat as a single-file NIfTI and let the magic decide.
  return { role: 'single', stem: base };
}

function open(file: NiftiInputFile): OpenedFile {
  const gzipped = isGzip(file.bytes);
  const bytes = gzipped ? gunzip(file) : new Uint8Array(file.bytes);
  return { name: file.name, gzipped, bytes, ...classify(file.name) };
}

/** Decide which file is the header and which (if any) holds the voxels. */
export function openFiles(files: readonly NiftiInputFile[]): OpenedSet {
  if (files.length === 0) throw new NiftiError('No file was given; expected one .nii(.gz) file or an .hdr/.img pair.');
  if (files.length > 2) {
    throw new NiftiError(
      `Got ${files.length} files; a NIfTI image is one .nii(.gz) file or an .hdr + .img pair.`,
    );
  }
  const roles = files.map((f) => ({ f, ...classify(f.name) }));
  const hdr = roles.find((r) => r.role === 'header');
  const img = roles.find((r) => r.role === 'image');
  if (files.length === 1) {
    const only = roles[0]!;
    if (only.role === 'header') {
      throw new NiftiError(
        `"${only.f.name}" is the header half of an .hdr/.img pair; upload it together with its .img file, which holds the voxels.`,
      );
    }
    if (only.role === 'image') {
      throw new NiftiError(
        `"${only.f.name}" is the voxel half of an .hdr/.img pair; upload it together with its .hdr file.`,
      );
    }
    return { header: open(only.f), image: null };
  }
  if (!hdr || !img) {
    throw new NiftiError(
      `Two files were given (${files.map((f) => `"${f.name}"`).join(', ')}), but a pair must be one .hdr and one .img file.`,
    );
  }
  if (hdr.stem !== img.stem) {
    throw new NiftiError(
      `"${hdr.f.name}" and "${img.f.name}" do not belong together: an .hdr/.img pair must share the same name.`,
    );
  }
  return { header: open(hdr.f), image: open(img.f) };
}

function exactBuffer(bytes: Uint8Array<ArrayBuffer>): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer;
}

/**
 * Validate sizeof_hdr and magic, then let nifti-reader-js parse the header.
 * `pair` says whether this header came from an .hdr file (magic ni1/ni2) or a single file (n+1/n+2).
 */
export function parseHeader(file: OpenedFile, pair: boolean): ParsedHeader {
  const raw = file.bytes;
  if (raw.length < 348) {
    throw new NiftiError(
      `"${file.name}" is only ${raw.length} bytes long, too short to hold a NIfTI header (348 bytes); it is not a NIfTI file or it is truncated.`,
    );
  }
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let version: 1 | 2;
  let littleEndian: boolean;
  const le = dv.getInt32(0, true);
  const be = dv.getInt32(0, false);
  if (le === 348 || be === 348) {
    version = 1;
    littleEndian = le === 348;
  } else if (le === 540 || be === 540) {
    version = 2;
    littleEndian = le === 540;
  } else {
    throw new NiftiError(
      `"${file.name}" is not a NIfTI file: its first four bytes should give the header size (348 for NIfTI-1, 540 for NIfTI-2).`,
    );
  }
  const headerSize = version === 1 ? 348 : 540;
  if (raw.length < headerSize) {
    throw new NiftiError(`"${file.name}" is truncated: the NIfTI-2 header alone needs 540 bytes, the file has ${raw.length}.`);
  }
  const ab = exactBuffer(raw);
  const isV = version === 1 ? isNIFTI1 : isNIFTI2;
  const singleMagic = isV(ab, false);
  const pairMagic = !singleMagic && isV(ab, true);
  if (!singleMagic && !pairMagic) {
    throw new NiftiError(
      `"${file.name}" is not a NIfTI-${version} file: the magic string is missing or wrong (plain Analyze 7.5 headers are not supported).`,
    );
  }
  if (pair && singleMagic) {
    throw new NiftiError(
      `"${file.name}" is named like an .hdr file but its magic says it is a single-file NIfTI (.nii); rename it to .nii and upload it alone.`,
    );
  }
  if (!pair && pairMagic) {
    throw new NiftiError(
      `"${file.name}" holds only the header of an .hdr/.img pair (magic ni${version}); upload it as .hdr together with its .img file.`,
    );
  }
  let hdr: NIFTI1 | NIFTI2;
  try {
    hdr = readHeader(ab, pair);
  } catch (err) {
    throw new NiftiError(`The NIfTI header of "${file.name}" could not be read (its extensions may be malformed).`, {
      cause: err,
    });
  }
  return { hdr, version, littleEndian, headerSize, raw };
}
