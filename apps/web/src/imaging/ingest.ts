// Sends one drop / selection as a single multipart request to POST /api/tasks/:id/uploads and
// reports byte progress (XMLHttpRequest, since fetch has no upload progress).

import { postWithProgress, type XhrUpload } from '../xhrUpload';
import type { PickedFile } from '../upload';
import type { IngestFile, IngestRun } from '../types';

export type UploadHandle = XhrUpload<IngestRun>;

export function uploadBatch(url: string, files: PickedFile[], onProgress: (loaded: number, total: number) => void): UploadHandle {
  const form = new FormData();
  for (const f of files) form.append('file', f.file, f.path);
  return postWithProgress(url, form, { accept: (b) => (b as { run?: IngestRun } | null)?.run ?? null, what: 'upload', onProgress });
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
