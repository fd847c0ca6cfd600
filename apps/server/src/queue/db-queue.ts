import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import type { Db, DbKind } from '../db/index.js';
import { type EnqueueOptions, isTransient, type JobHandler, type JobQueue } from './types.js';

export interface DbQueueOptions {
  /** How long a claimed job stays leased without a heartbeat (ms). */
  leaseMs?: number;
  /** Idle poll interval (ms); an enqueue in this process wakes the poller at once. */
  pollMs?: number;
  /** Delay before a retry (ms), doubled per attempt. */
  retryDelayMs?: number;
}

/**
 * Jobs in the `queue_jobs` table. A worker claims a job by leasing it; while the handler runs
 * the lease is renewed; a crashed worker's lease runs out and the job is claimed again.
 */
export class DbJobQueue implements JobQueue {
  readonly kind = 'db' as const;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly running = new Set<Promise<void>>();
  private readonly busy = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly db: Db,
    private readonly dbKind: DbKind,
    private readonly clock: Clock,
    options: DbQueueOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 60_000;
    this.pollMs = options.pollMs ?? 500;
    this.retryDelayMs = options.retryDelayMs ?? 2_000;
  }

  async enqueue(name: string, data: Record<string, unknown>, options: EnqueueOptions = {}): Promise<string> {
    const id = randomUUID();
    const now = this.clock.now().toISOString();
    await this.db
      .insertInto('queue_jobs')
      .values({ id, name, data: JSON.stringify(data), state: 'queued', attempts: 0, max_attempts: options.maxAttempts ?? 3, run_at: now, lease_until: null, last_error: null, created_at: now, updated_at: now })
      .execute();
    this.wake();
    return id;
  }

  async work(name: string, handler: JobHandler): Promise<void> {
    this.handlers.set(name, handler);
    this.wake();
    return Promise.resolve();
  }

  private wake() {
    if (this.stopped || this.handlers.size === 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), 0);
  }

  private schedule() {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), this.pollMs);
    this.timer.unref();
  }

  private async poll() {
    this.timer = null;
    try {
      for (const name of this.handlers.keys()) {
        if (this.busy.has(name) || this.stopped) continue;
        const job = await this.claim(name);
        if (job) this.run(name, job);
      }
    } catch {
      // The database may be closing or busy; the next poll tries again.
    }
    this.schedule();
  }

  private async claim(name: string) {
    const now = this.clock.now();
    const nowIso = now.toISOString();
    const leaseUntil = new Date(now.getTime() + this.leaseMs).toISOString();
    const lock = this.dbKind === 'postgres' ? sql` for update skip locked` : sql``;
    const rows = await sql<{ id: string; data: string; attempts: number; max_attempts: number }>`
      update queue_jobs set state = 'active', attempts = attempts + 1, lease_until = ${leaseUntil}, updated_at = ${nowIso}
      where id = (
        select id from queue_jobs
        where name = ${name} and ((state = 'queued' and run_at <= ${nowIso}) or (state = 'active' and lease_until < ${nowIso}))
        order by created_at limit 1${lock}
      )
      returning id, data, attempts, max_attempts`.execute(this.db);
    return rows.rows[0] ?? null;
  }

  private run(name: string, job: { id: string; data: string; attempts: number; max_attempts: number }) {
    const handler = this.handlers.get(name);
    if (!handler) return;
    this.busy.add(name);
    const heartbeat = setInterval(() => {
      const until = new Date(this.clock.now().getTime() + this.leaseMs).toISOString();
      this.db.updateTable('queue_jobs').set({ lease_until: until }).where('id', '=', job.id).where('state', '=', 'active').execute().catch(() => undefined);
    }, Math.max(1000, Math.floor(this.leaseMs / 3)));
    heartbeat.unref();
    const p: Promise<void> = (async () => {
      try {
        await handler({ id: job.id, name, data: JSON.parse(job.data) as Record<string, unknown> });
        await this.finish(job.id, 'done', null);
      } catch (err) {
        const message = err instanceof Error ? err.message.slice(0, 500) : 'unknown error';
        if (isTransient(err) && job.attempts < job.max_attempts) {
          const runAt = new Date(this.clock.now().getTime() + this.retryDelayMs * 2 ** (job.attempts - 1)).toISOString();
          await this.db
            .updateTable('queue_jobs')
            .set({ state: 'queued', run_at: runAt, lease_until: null, last_error: message, updated_at: this.clock.now().toISOString() })
            .where('id', '=', job.id)
            .execute()
            .catch(() => undefined);
        } else {
          await this.finish(job.id, 'failed', message);
        }
      } finally {
        clearInterval(heartbeat);
        this.busy.delete(name);
        this.wake();
      }
    })();
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  private async finish(id: string, state: 'done' | 'failed', error: string | null) {
    await this.db
      .updateTable('queue_jobs')
      .set({ state, lease_until: null, last_error: error, updated_at: this.clock.now().toISOString() })
      .where('id', '=', id)
      .execute()
      .catch(() => undefined);
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const all = Promise.all([...this.running]);
    await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }
}
