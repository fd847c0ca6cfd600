import type { BlobStore } from './blob/index.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db, DbKind } from './db/index.js';
import type { JobQueue } from './queue/index.js';

/** What every service receives explicitly: no module-level singletons. */
export interface Deps {
  db: Db;
  dbKind: DbKind;
  blobs: BlobStore;
  clock: Clock;
  config: Config;
  /** Background jobs (ingest); see queue/. */
  queue: JobQueue;
}

/** The authenticated caller. */
export interface Actor {
  id: string;
  email: string;
  name: string;
  systemRole: 'admin' | 'user';
  via: 'session' | 'token';
  credentialHash: string;
  ip: string | null;
}
