// Experiment only: caches better-sqlite3 prepared statements by SQL text (Kysely's SQLite driver
// prepares every query anew), to measure what a statement cache in openDatabase would gain. Usage:
//   BENCH_DBS=sqlite BENCH_PACED=0 BENCH_NO_DOCS=1 node --import ./bench/experiments/stmt-cache.mjs bench/saves.mjs
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const Database = createRequire(path.join(root, 'apps/server/package.json'))('better-sqlite3');
const prepare = Database.prototype.prepare;
const caches = new WeakMap();
Database.prototype.prepare = function (sql) {
  let cache = caches.get(this);
  if (!cache) caches.set(this, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = prepare.call(this, sql);
    if (cache.size < 500) cache.set(sql, stmt);
  }
  return stmt;
};
console.error('[experiment] better-sqlite3 prepare() cached by SQL text');
