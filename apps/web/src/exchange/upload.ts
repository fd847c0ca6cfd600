// Sends an import file as multipart/form-data to POST /api/tasks/:id/imports and reports byte
// progress (XMLHttpRequest, since fetch has no upload progress), like imaging/ingest.ts.

import { ApiError, csrfHeaders, problemFromBody } from '../api';
import type { ImportReport } from '../types';

export interface ImportHandle {
  done: Promise<ImportReport>;
  abort: () => void;
}

function isReport(body: unknown): body is ImportReport {
  const b = body as Partial<ImportReport> | null;
  return !!b && typeof b === 'object' && typeof b.dryRun === 'boolean' && Array.isArray(b.assets) && Array.isArray(b.skipped);
}

/**
 * Uploads `file` to `url` (the import route with its query string). Resolves with the server's
 * import report; rejects with an ApiError carrying the problem+json `detail` on 4xx/5xx.
 */
export function sendImport(url: string, file: File, onProgress: (loaded: number, total: number) => void): ImportHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<ImportReport>((resolve, reject) => {
    xhr.open('POST', url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [k, v] of Object.entries(csrfHeaders('POST'))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'Network error: the file did not reach the server.'));
    xhr.onabort = () => reject(new ApiError(0, 'Import cancelled.'));
    xhr.onload = () => {
      let body: unknown;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && isReport(body)) return resolve(body);
      const fallback =
        xhr.status === 413
          ? 'The file is too large for this server.'
          : xhr.status === 401
            ? 'Your session has ended. Sign in again.'
            : xhr.status >= 200 && xhr.status < 300
              ? 'The server answered with something that is not an import report.'
              : `Import failed (HTTP ${xhr.status}).`;
      reject(problemFromBody(xhr.status >= 200 && xhr.status < 300 ? 500 : xhr.status, body, fallback));
    };
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}
