import type { PgBoss as PgBossType } from 'pg-boss';
import { type EnqueueOptions, isTransient, type JobHandler, type JobQueue } from './types.js';

/**
 * pg-boss on the PostgreSQL database (its own `pgboss` schema). A crashed worker's job is
 * retried once its heartbeat stops; non-transient failures are not retried.
 */
export class PgBossJobQueue implements JobQueue {
  readonly kind = 'pg-boss' as const;
  private readonly created = new Set<string>();
  private readonly running = new Set<Promise<void>>();

  private constructor(private readonly boss: PgBossType) {}

  static async start(connectionString: string): Promise<PgBossJobQueue> {
    const { PgBoss } = await import('pg-boss');
    const boss = new PgBoss({ connectionString, max: 4 });
    // pg-boss reports connection problems as events; without a listener they would crash the process.
    boss.on('error', () => undefined);
    await boss.start();
    return new PgBossJobQueue(boss);
  }

  private async ensureQueue(name: string) {
    if (this.created.has(name)) return;
    await this.boss.createQueue(name, { retryLimit: 2, retryDelay: 2, retryBackoff: true, heartbeatSeconds: 30 });
    this.created.add(name);
  }

  async enqueue(name: string, data: Record<string, unknown>, options: EnqueueOptions = {}): Promise<string> {
    await this.ensureQueue(name);
    const id = await this.boss.send(name, data, { retryLimit: Math.max(0, (options.maxAttempts ?? 3) - 1), retryDelay: 2, retryBackoff: true, heartbeatSeconds: 30 });
    if (!id) throw new Error(`The job queue refused a "${name}" job.`);
    return id;
  }

  async work(name: string, handler: JobHandler): Promise<void> {
    await this.ensureQueue(name);
    await this.boss.work<Record<string, unknown>>(name, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const job of jobs) {
        const p = (async () => {
          try {
            await handler({ id: job.id, name, data: job.data });
          } catch (err) {
            // Transient failures go back to pg-boss, which retries them with backoff. A permanent
            // failure would only fail again: the handler has recorded it in its own tables, so
            // the pg-boss job ends here.
            if (isTransient(err)) throw err;
          }
        })();
        this.running.add(p);
        try {
          await p;
        } finally {
          this.running.delete(p);
        }
      }
    });
  }

  async stop(timeoutMs = 30_000): Promise<void> {
    await this.boss.stop({ graceful: true, timeout: timeoutMs });
  }
}
