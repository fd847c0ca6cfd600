// A multipart POST with byte progress (XMLHttpRequest, since fetch has no upload progress), the
// CSRF header and problem+json errors: the one way uploads and imports reach the server.

import { ApiError, csrfHeaders, problemFromBody } from './api';

export interface XhrUpload<T> {
  done: Promise<T>;
  abort: () => void;
}

export interface XhrUploadOptions<T> {
  /** The accepted 2xx body, or null when it is not what the caller expects. */
  accept: (body: unknown) => T | null;
  /** Words for messages: "upload", "import". */
  what: string;
  onProgress: (loaded: number, total: number) => void;
}

export function postWithProgress<T>(url: string, form: FormData, opts: XhrUploadOptions<T>): XhrUpload<T> {
  const xhr = new XMLHttpRequest();
  const What = opts.what.charAt(0).toUpperCase() + opts.what.slice(1);
  const done = new Promise<T>((resolve, reject) => {
    xhr.open('POST', url);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [k, v] of Object.entries(csrfHeaders('POST'))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) opts.onProgress(e.loaded, e.total);
    };
    xhr.onerror = () => reject(new ApiError(0, `Network error: the ${opts.what} did not reach the server.`));
    xhr.onabort = () => reject(new ApiError(0, `${What} cancelled.`));
    xhr.onload = () => {
      let body: unknown;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      const ok = xhr.status >= 200 && xhr.status < 300;
      const value = ok ? opts.accept(body) : null;
      if (value !== null) return resolve(value);
      const fallback =
        xhr.status === 413
          ? `The ${opts.what} is too large for this server.`
          : xhr.status === 401
            ? 'Your session has ended. Sign in again.'
            : ok
              ? `The server answered the ${opts.what} with something unexpected.`
              : `${What} failed (HTTP ${xhr.status}).`;
      reject(problemFromBody(ok ? 500 : xhr.status, body, fallback));
    };
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}
