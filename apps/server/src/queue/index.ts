export { DbJobQueue, type DbQueueOptions } from './db-queue.js';
export { PgBossJobQueue } from './pgboss-queue.js';
export { type EnqueueOptions, type JobHandler, type JobQueue, type QueuedJob, TransientError, isTransient } from './types.js';
