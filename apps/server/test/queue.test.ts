import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DbJobQueue, TransientError } from '../src/queue/index.js';
import { DB_KINDS, startTestServer, type TestServer } from './harness.js';

const until = async (cond: () => Promise<boolean>, ms = 10_000) => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.each(DB_KINDS)('database job queue on %s', (kind) => {
  let ts: TestServer;
  let queue: DbJobQueue;

  beforeAll(async () => {
    ts = await startTestServer(kind, { CALIPER_WORKER: 'off' });
    const { db, dbKind, clock } = ts.server.deps;
    queue = new DbJobQueue(db, dbKind, clock, { leaseMs: 1500, pollMs: 50, retryDelayMs: 20 });
  });
  afterAll(async () => {
    await queue?.stop();
    await ts?.close();
  });

  const row = (id: string) => ts.server.deps.db.selectFrom('queue_jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('runs a job, retries a transient failure, and fails a permanent one at once', async () => {
    const seen: string[] = [];
    await queue.work('t-retry', async (job) => {
      seen.push(String(job.data.n));
      if (job.data.n === 'flaky' && seen.filter((s) => s === 'flaky').length === 1) throw new TransientError('try again');
      if (job.data.n === 'bad') throw new Error('permanent');
    });
    const ok = await queue.enqueue('t-retry', { n: 'ok' });
    const flaky = await queue.enqueue('t-retry', { n: 'flaky' });
    const bad = await queue.enqueue('t-retry', { n: 'bad' });
    await until(async () => ['done', 'failed'].includes((await row(ok)).state) && ['done', 'failed'].includes((await row(flaky)).state) && ['done', 'failed'].includes((await row(bad)).state));
    expect(await row(ok)).toMatchObject({ state: 'done', attempts: 1 });
    expect(await row(flaky)).toMatchObject({ state: 'done', attempts: 2 });
    expect(await row(bad)).toMatchObject({ state: 'failed', attempts: 1, last_error: 'permanent' });
  });

  it("picks up a crashed worker's job once its lease has run out", async () => {
    // A job claimed by a worker that died: active, lease expired a moment ago, never finished.
    const id = randomUUID();
    const now = new Date();
    await ts.server.deps.db
      .insertInto('queue_jobs')
      .values({ id, name: 't-crash', data: '{"x":1}', state: 'active', attempts: 1, max_attempts: 3, run_at: now.toISOString(), lease_until: new Date(now.getTime() - 1000).toISOString(), last_error: null, created_at: now.toISOString(), updated_at: now.toISOString() })
      .execute();
    // And one whose lease is still valid (its worker is alive): it must not run twice.
    const alive = randomUUID();
    await ts.server.deps.db
      .insertInto('queue_jobs')
      .values({ id: alive, name: 't-crash', data: '{"x":2}', state: 'active', attempts: 1, max_attempts: 3, run_at: now.toISOString(), lease_until: new Date(now.getTime() + 60_000).toISOString(), last_error: null, created_at: now.toISOString(), updated_at: now.toISOString() })
      .execute();
    const ran: number[] = [];
    await queue.work('t-crash', async (job) => {
      ran.push(Number(job.data.x));
    });
    await until(async () => (await row(id)).state === 'done');
    await new Promise((r) => setTimeout(r, 300));
    expect(ran).toEqual([1]);
    expect(await row(id)).toMatchObject({ state: 'done', attempts: 2 });
    expect((await row(alive)).state).toBe('active');
  });

  it('keeps renewing the lease of a long job so no second worker takes it', async () => {
    const other = new DbJobQueue(ts.server.deps.db, ts.server.deps.dbKind, ts.server.deps.clock, { leaseMs: 1500, pollMs: 50 });
    let runs = 0;
    const handler = async () => {
      runs++;
      await new Promise((r) => setTimeout(r, 2500));
    };
    await queue.work('t-long', handler);
    await other.work('t-long', handler);
    const id = await queue.enqueue('t-long', {});
    await until(async () => (await row(id)).state === 'done', 15_000);
    await other.stop();
    expect(runs).toBe(1);
  });
});
