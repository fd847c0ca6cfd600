import type { FastifyInstance } from 'fastify';
import { generatePassword } from './auth/crypto.js';
import { createBlobStore } from './blob/index.js';
import { systemClock, type Clock } from './clock.js';
import { type Config, prepareDataDir } from './config.js';
import { migrate, openDatabase } from './db/index.js';
import type { Deps } from './deps.js';
import { buildApp } from './http/app.js';
import { DbJobQueue, PgBossJobQueue, type JobQueue } from './queue/index.js';
import { registerWorkers } from './services/workers.js';
import { seedAdmin } from './services/users.js';

export interface RunningServer {
  app: FastifyInstance;
  deps: Deps;
  url: string;
  /** Set only on the very first start, when the first admin was created. */
  seededAdmin: { email: string; password: string; generated: boolean } | null;
  close(): Promise<void>;
}

/** Opens storage (database, migrated; blob store; job queue) and returns the shared dependencies. */
async function openDeps(cfg: Config, clock: Clock): Promise<{ deps: Deps; close(): Promise<void> }> {
  const handle = await openDatabase(cfg.database);
  let queue: JobQueue;
  try {
    await migrate(handle.db);
    queue = cfg.database.kind === 'postgres' ? await PgBossJobQueue.start(cfg.database.url) : new DbJobQueue(handle.db, handle.kind, clock);
  } catch (err) {
    await handle.close();
    throw err;
  }
  const deps: Deps = {
    db: handle.db,
    dbKind: handle.kind,
    blobs: await createBlobStore(cfg.blobStore),
    clock,
    config: cfg,
    queue,
  };
  const close = async () => {
    await queue.stop();
    await deps.blobs.close?.();
    await handle.close();
  };
  return { deps, close };
}

/** Opens storage, migrates, seeds the first admin and builds the HTTP app (not yet listening). */
export async function createServer(config: Config, opts: { clock?: Clock; logger?: boolean } = {}) {
  const cfg = prepareDataDir(config);
  const { deps, close: closeDeps } = await openDeps(cfg, opts.clock ?? systemClock);
  const seededAdmin = await seedAdmin(deps, cfg.admin.email, cfg.admin.password, generatePassword);
  const app = await buildApp(deps, { logger: opts.logger });
  if (cfg.worker) await registerWorkers(deps);
  const close = async () => {
    // Requests in flight get a few seconds to finish; then connections a client keeps open
    // (an unread response body holds one) are cut so shutdown never hangs.
    const cut = setTimeout(() => app.server.closeAllConnections(), 5000);
    try {
      await app.close();
    } finally {
      clearTimeout(cut);
    }
    await closeDeps();
  };
  return { app, deps, seededAdmin, close };
}

/** A background worker without the HTTP server (`caliper worker`), for deployments that scale them apart. */
export async function startWorker(config: Config, opts: { clock?: Clock } = {}) {
  const cfg = prepareDataDir(config);
  const { deps, close } = await openDeps(cfg, opts.clock ?? systemClock);
  await registerWorkers(deps);
  return { deps, close };
}

export async function startServer(config: Config, opts: { clock?: Clock; logger?: boolean } = {}): Promise<RunningServer> {
  const s = await createServer(config, opts);
  try {
    await s.app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await s.close();
    throw err;
  }
  const addr = s.app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return { ...s, url: `http://${host}:${port}` };
}
