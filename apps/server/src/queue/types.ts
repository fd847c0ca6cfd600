/** A unit of background work as a handler sees it. */
export interface QueuedJob {
  id: string;
  name: string;
  data: Record<string, unknown>;
}

export type JobHandler = (job: QueuedJob) => Promise<void>;

export interface EnqueueOptions {
  /** Attempts in total, including the first (default 3). */
  maxAttempts?: number;
}

/**
 * Background jobs: a database table on the embedded default, pg-boss on PostgreSQL. Handlers
 * must be idempotent: a job whose worker died is run again once its lease (or pg-boss
 * heartbeat) expires.
 */
export interface JobQueue {
  readonly kind: 'db' | 'pg-boss';
  enqueue(name: string, data: Record<string, unknown>, options?: EnqueueOptions): Promise<string>;
  /** Registers the handler for `name`; jobs run one at a time per queue name in this process. */
  work(name: string, handler: JobHandler): Promise<void>;
  /** Stops taking jobs and waits for running handlers to finish (or the timeout). */
  stop(timeoutMs?: number): Promise<void>;
}

/** A failure worth retrying (I/O hiccup, lock timeout); everything else fails the job at once. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

export function isTransient(err: unknown): boolean {
  if (err instanceof TransientError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && ['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ECONNRESET', 'ETIMEDOUT', 'SQLITE_BUSY', '40001', '40P01', '57P01'].includes(code);
}
