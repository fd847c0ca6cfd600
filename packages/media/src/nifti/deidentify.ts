import { gzipSync } from 'fflate';
import { openFiles, parseHeader, type NiftiInputFile } from './io.js';
import { readNifti } from './read.js';

export interface NiftiDeidentifyResult {
  /** The same files, in the same order and with the same names, with identifying header content removed. */
  files: NiftiInputFile[];
  /** Names of the header text fields that were non-empty and have been blanked (never their content). */
  clearedFields: string[];
  /** How many header extensions were dropped (as nifti-reader-js finds them in a single file). */
  removedExtensions: number;
  /** Bytes between the end of the header and the voxels (extensions, padding) that were dropped. */
  removedHeaderBytes: number;
}

/** Free-text header fields that may carry identifying text: [name, start, end) per NIfTI version. */
const TEXT_FIELDS: Record<1 | 2, [string, number, number][]> = {
  1: [
    ['data_type', 4, 14],
    ['db_name', 14, 32],
    ['descrip', 148, 228],
    ['aux_file', 228, 252],
  ],
  2: [
    ['descrip', 240, 320],
    ['aux_file', 320, 344],
    ['unused_str', 525, 540],
  ],
};

/**
 * De-identify a NIfTI image (one `.nii`/`.nii.gz`, or an `.hdr` + `.img` pair): blank `descrip`, `aux_file`,
 * `db_name` and the other unused free-text fields, and drop every header extension (the extension flag is
 * zeroed and, for single files, the voxels move up to `vox_offset` = 352 / 544). Voxels and geometry are
 * unchanged. Gzipped inputs come back gzipped, without the original gzip file name or timestamp.
 */
export function deidentifyNifti(files: readonly NiftiInputFile[]): NiftiDeidentifyResult {
  const volume = readNifti(files); // validates everything and throws NiftiError first
  const set = openFiles(files);
  const isPair = set.image !== null;
  const p = parseHeader(set.header, isPair);

  const header = p.raw.slice(0, p.headerSize);
  const clearedFields: string[] = [];
  for (const [name, start, end] of TEXT_FIELDS[p.version]) {
    if (header.subarray(start, end).some((b) => b !== 0)) clearedFields.push(name);
    header.fill(0, start, end);
  }
  const extender = new Uint8Array(4); // extension flag bytes, all zero: no extensions follow

  const reencode = (bytes: Uint8Array<ArrayBuffer>, gzipped: boolean): Uint8Array =>
    gzipped ? gzipSync(bytes, { mtime: 0 }) : bytes;

  let out: NiftiInputFile[];
  let removedHeaderBytes: number;
  if (!isPair) {
    const newOffset = p.headerSize + 4;
    const dataBytes = volume.voxelsPerVolume * volume.volumes * (volume.bitpix / 8);
    const dv = new DataView(header.buffer);
    if (p.version === 1) dv.setFloat32(108, newOffset, p.littleEndian);
    else dv.setBigInt64(168, BigInt(newOffset), p.littleEndian);
    const file = new Uint8Array(newOffset + dataBytes);
    file.set(header, 0);
    file.set(extender, p.headerSize);
    file.set(set.header.bytes.subarray(volume.dataOffset, volume.dataOffset + dataBytes), newOffset);
    out = [{ name: set.header.name, bytes: reencode(file, set.header.gzipped) }];
    removedHeaderBytes = volume.dataOffset - newOffset;
  } else {
    // In a pair, extensions live in the .hdr after the header; vox_offset points into the .img and stays.
    const hdr = new Uint8Array(p.headerSize + 4);
    hdr.set(header, 0);
    const image = set.image!;
    removedHeaderBytes = set.header.bytes.length - hdr.length;
    out = [
      { name: set.header.name, bytes: reencode(hdr, set.header.gzipped) },
      { name: image.name, bytes: reencode(image.bytes, image.gzipped) },
    ];
  }
  // Keep the caller's order.
  const ordered = files.map((f) => out.find((o) => o.name === f.name)!);
  return { files: ordered, clearedFields, removedExtensions: volume.extensions.length, removedHeaderBytes };
}
