/** An error that maps to an HTTP problem response. `detail` must be safe to show (no PHI). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export const badRequest = (detail: string, extra?: Record<string, unknown>) =>
  new HttpError(400, 'Bad Request', detail, extra);
export const unauthorized = (detail = 'Sign in to continue.') => new HttpError(401, 'Unauthorized', detail);
export const forbidden = (detail: string) => new HttpError(403, 'Forbidden', detail);
export const notFound = (what: string) => new HttpError(404, 'Not Found', `${what} was not found.`);
export const conflict = (detail: string, extra?: Record<string, unknown>) =>
  new HttpError(409, 'Conflict', detail, extra);
export const unprocessable = (detail: string, extra?: Record<string, unknown>) =>
  new HttpError(422, 'Unprocessable Content', detail, extra);
