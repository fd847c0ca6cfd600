// Minimal fetch wrapper for the Caliper API: JSON in/out, problem+json errors, CSRF header on
// unsafe requests, and a hook that sends the user to /login when the session is gone.

export interface FieldError {
  path: string;
  message: string;
  /** Set by routes whose problems concern one asset (job submission). */
  assetId?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  readonly errors: FieldError[];
  readonly body: Record<string, unknown>;

  constructor(status: number, detail: string, errors: FieldError[] = [], body: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.errors = errors;
    this.body = body;
  }

  /** True when the request never reached the server (offline, DNS, connection refused). */
  get isNetwork(): boolean {
    return this.status === 0;
  }
}

let csrfToken: string | null = null;
let onUnauthorized: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}
export function getCsrfToken(): string | null {
  return csrfToken;
}
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  onUnauthorized = handler;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function csrfHeaders(method: string): Record<string, string> {
  return UNSAFE.has(method.toUpperCase()) && csrfToken ? { 'X-CSRF-Token': csrfToken } : {};
}

/** Normalises a server error path ("labels.0.name", "/labels/0/name", ["labels",0,"name"]). */
export function normalizePath(path: unknown): string {
  if (Array.isArray(path)) return path.map(String).join('.');
  if (typeof path !== 'string') return '';
  return path.replace(/^[#/]+/, '').replace(/\[(\d+)\]/g, '.$1').replace(/\//g, '.').replace(/^\./, '');
}

export function problemFromBody(status: number, body: unknown, fallback: string): ApiError {
  const obj = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const detail =
    (typeof obj.detail === 'string' && obj.detail) ||
    (typeof obj.title === 'string' && obj.title) ||
    (typeof obj.message === 'string' && obj.message) ||
    fallback;
  const errors: FieldError[] = Array.isArray(obj.errors)
    ? obj.errors.map((e: unknown) => {
        const err = (e ?? {}) as Record<string, unknown>;
        const fe: FieldError = { path: normalizePath(err.path), message: String(err.message ?? '') };
        if (typeof err.assetId === 'string') fe.assetId = err.assetId;
        return fe;
      })
    : [];
  return new ApiError(status, detail, errors, obj);
}

function statusText(status: number): string {
  if (status === 401) return 'Your session has ended. Please sign in again.';
  if (status === 403) return 'You are not allowed to do this.';
  if (status === 404) return 'Not found.';
  if (status === 413) return 'The request is too large.';
  if (status === 429) return 'Too many requests. Please wait a moment and try again.';
  if (status >= 500) return `The server had a problem (HTTP ${status}).`;
  return `Request failed (HTTP ${status}).`;
}

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** Do not redirect to /login on 401 (login form, session probe). */
  allow401?: boolean;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...csrfHeaders(method) };
  let body: BodyInit | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', signal: opts.signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'Cannot reach the server. Check your connection.');
  }
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  let parsed: unknown = null;
  if (type.includes('json')) {
    try {
      parsed = await res.json();
    } catch {
      parsed = null;
    }
  } else {
    await res.text().catch(() => '');
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.allow401) onUnauthorized?.();
    throw problemFromBody(res.status, parsed, statusText(res.status));
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, { ...opts, body: body ?? {} }),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, { ...opts, body: body ?? {} }),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, { ...opts, body: body ?? {} }),
  del: <T = void>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, opts),
};

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.detail;
  if (err instanceof Error) return err.message;
  return String(err);
}

export const enc = encodeURIComponent;
