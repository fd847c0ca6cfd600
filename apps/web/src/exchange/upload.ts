// Sends an import file as multipart/form-data to POST /api/tasks/:id/imports and reports byte
// progress (XMLHttpRequest, since fetch has no upload progress), like imaging/ingest.ts.

import type { ImportReport } from '../types';
import { postWithProgress, type XhrUpload } from '../xhrUpload';

export type ImportHandle = XhrUpload<ImportReport>;

function isReport(body: unknown): body is ImportReport {
  const b = body as Partial<ImportReport> | null;
  return !!b && typeof b === 'object' && typeof b.dryRun === 'boolean' && Array.isArray(b.assets) && Array.isArray(b.skipped);
}

/**
 * Uploads `file` to `url` (the import route with its query string). Resolves with the server's
 * import report; rejects with an ApiError carrying the problem+json `detail` on 4xx/5xx.
 */
export function sendImport(url: string, file: File, onProgress: (loaded: number, total: number) => void): ImportHandle {
  const form = new FormData();
  form.append('file', file, file.name);
  return postWithProgress(url, form, { accept: (b) => (isReport(b) ? b : null), what: 'import', onProgress });
}
