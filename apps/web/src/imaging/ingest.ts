// Sends one drop / selection as a single multipart request to POST /api/tasks/:id/uploads and
// reports byte progress (XMLHttpRequest, since fetch has no upload progress).

import { csrfHeaders, problemFromBody, ApiError } from '../api';
import type { PickedFile } from '../upload';
import type { IngestFile, IngestRun } from '../types';

export interface UploadHandle {
  done: Promise<IngestRun>;
  abort: () => void;
}

export function uploadBatch(url: string, files: PickedFile[], onProgress: (loaded: number, total: number) => void): UploadHandle {
  const xhr = new XMLHttpRequest();
  const done = new Promise<IngestRun>((resolve, reject) => {
    xhr.open('POST', url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [k, v] of Object.entries(csrfHeaders('POST'))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'Network error: the upload did not reach the server.'));
    xhr.onabort = () => reject(new ApiError(0, 'Upload cancelled.'));
    xhr.onload = () => {
      let body: unknown;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      const run = (body as { run?: IngestRun } | null)?.run;
      if (xhr.status >= 200 && xhr.status < 300 && run) return resolve(run);
      const fallback =
        xhr.status === 413 ? 'The upload is too large for this server.' : xhr.status === 401 ? 'Your session has ended. Sign in again.' : `Upload failed (HTTP ${xhr.status}).`;
      reject(problemFromBody(xhr.status, body, fallback));
    };
    const form = new FormData();
    for (const f of files) form.append('file', f.file, f.path);
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

export const isFinished = (run: IngestRun) => run.state === 'done' || run.state === 'failed';

/** A file row that needs attention: refused, skipped, or flagged with a warning (not just informed). */
export function isProblem(f: IngestFile): boolean {
  return f.status === 'rejected' || f.status === 'skipped' || f.flags.some((flag) => flagTone(flag) !== 'info');
}

const FLAG_TEXT: Record<string, string> = {
  'burned-in': 'burned-in text: waiting for review',
  redacted: 'pixels redacted',
  'build-failed': 'volume build failed',
  'header-cleared': 'header cleared',
  'non-uniform-spacing': 'non-uniform spacing',
  'missing-slices': 'missing slices',
  'mixed-orientation': 'mixed orientation',
  'duplicate-position': 'duplicate slice positions',
  'gantry-tilt': 'gantry tilt',
};

/** Human wording for a flag or issue code ("non-uniform-spacing" → "non-uniform spacing"). */
export function flagText(code: string): string {
  return FLAG_TEXT[code] ?? code.replace(/[-_]+/g, ' ');
}

export function flagTone(code: string): 'warn' | 'err' | 'info' {
  if (code === 'burned-in' || code === 'build-failed') return 'err';
  if (code === 'redacted' || code === 'header-cleared') return 'info';
  return 'warn';
}
