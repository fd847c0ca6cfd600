// An import upload: one file, or a zip of files, read into memory under limits. Entry names are
// checked like ingest's (no absolute paths, no "..").
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { extractZip, isZip } from '@caliper/media';
import { spoolToTemp } from '../../blob/index.js';
import type { Deps } from '../../deps.js';

export interface ImportFile {
  name: string;
  bytes: Uint8Array;
}

/** The most an import may hold once unpacked (annotations, label maps, SEG objects). */
export const MAX_IMPORT_UNPACKED = 2 * 1024 ** 3;

export class ImportError extends Error {
  override readonly name = 'ImportError';
  constructor(
    message: string,
    readonly status = 422,
  ) {
    super(message);
  }
}

/** Spools the upload, expands a zip, returns the files (zip members, or the single file). */
export async function readImportUpload(deps: Deps, fileName: string, stream: Readable): Promise<ImportFile[]> {
  const tmp = path.join(deps.config.dataDir, 'tmp', 'imports');
  const spooled = await spoolToTemp(stream, tmp, deps.config.maxUploadBytes);
  const dir = await mkdtemp(path.join(tmp, 'unzip-'));
  try {
    const bytes = await readFile(spooled.path);
    if (!isZip(bytes.subarray(0, 4))) return [{ name: path.basename(fileName || 'upload'), bytes }];
    let extracted;
    try {
      extracted = await extractZip(spooled.path, dir, { maxTotalBytes: MAX_IMPORT_UNPACKED, maxEntries: 200_000 });
    } catch (err) {
      throw new ImportError(err instanceof Error && err.name === 'ArchiveError' ? `The zip cannot be read: ${err.message}` : 'The zip cannot be read.');
    }
    if (extracted.rejected.length > 0) {
      const r = extracted.rejected[0]!;
      throw new ImportError(`The zip holds an entry that cannot be imported (${r.reason}).`);
    }
    const files: ImportFile[] = [];
    for (const e of extracted.entries) files.push({ name: e.name, bytes: await readFile(e.path) });
    return files;
  } finally {
    await rm(spooled.path, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
}
