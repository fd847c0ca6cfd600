export { type Config, ConfigError, loadConfig, prepareDataDir } from './config.js';
export { createServer, startServer, startWorker, type RunningServer } from './server.js';
export { openDatabase, migrate, type Db, type DbHandle, type DbKind } from './db/index.js';
export { verifyAudit, audit, type AuditVerification } from './services/audit.js';
export { createUser, createToken } from './services/users.js';
export { routeTable, buildApp } from './http/app.js';
export type { Deps, Actor } from './deps.js';
