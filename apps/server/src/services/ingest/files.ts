import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';

export type FileKind = 'dicom' | 'zip' | 'nifti' | 'nifti-header' | 'nifti-image' | 'raster' | 'other';

export async function readHead(filePath: string, n = 512): Promise<Uint8Array> {
  const fh = await open(filePath, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return new Uint8Array(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

export function sha256File(filePath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(filePath)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

const lower = (name: string) => name.toLowerCase();

/** Classifies an uploaded file by its first bytes, then by its name. */
export function classify(name: string, head: Uint8Array): { kind: FileKind; format?: 'png' | 'tiff' | 'jpeg' } {
  const n = lower(name);
  const at = (offset: number, sig: number[]) => sig.every((b, i) => head[offset + i] === b);
  if (at(128, [0x44, 0x49, 0x43, 0x4d])) return { kind: 'dicom' };
  if (at(0, [0x50, 0x4b, 0x03, 0x04]) || at(0, [0x50, 0x4b, 0x05, 0x06])) return { kind: 'zip' };
  if (n.endsWith('.nii') || n.endsWith('.nii.gz')) return { kind: 'nifti' };
  if (n.endsWith('.hdr') || n.endsWith('.hdr.gz')) return { kind: 'nifti-header' };
  if (n.endsWith('.img') || n.endsWith('.img.gz')) return { kind: 'nifti-image' };
  if (at(0, [0x89, 0x50, 0x4e, 0x47])) return { kind: 'raster', format: 'png' };
  if (at(0, [0x49, 0x49, 0x2a, 0x00]) || at(0, [0x4d, 0x4d, 0x00, 0x2a])) return { kind: 'raster', format: 'tiff' };
  if (at(0, [0xff, 0xd8, 0xff])) return { kind: 'raster', format: 'jpeg' };
  if (n.endsWith('.dcm') || n.endsWith('.dicom') || n.endsWith('.ima')) return { kind: 'dicom' };
  // DICOM files without preamble often have no extension: a data set starts with group 0x0002 or 0x0008.
  if (!/\.[a-z0-9]{1,5}$/.test(n) && head.length >= 8 && (at(0, [0x02, 0x00]) || at(0, [0x08, 0x00]))) return { kind: 'dicom' };
  return { kind: 'other' };
}

/** The stem shared by the two halves of an Analyze/NIfTI pair ("a/b.hdr" and "a/b.img.gz" → "a/b"). */
export function pairStem(name: string): string {
  return name.replace(/\.(hdr|img)(\.gz)?$/i, '');
}
