// Experiment only: turns SQLite's WAL auto-checkpoint off (the WAL then grows for the whole run),
// to measure how much of the commit cost is checkpointing. Usage:
//   BENCH_DBS=sqlite BENCH_PACED=0 BENCH_NO_DOCS=1 node --import ./bench/experiments/no-autocheckpoint.mjs bench/saves.mjs
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const Database = createRequire(path.join(root, 'apps/server/package.json'))('better-sqlite3');
const pragma = Database.prototype.pragma;
Database.prototype.pragma = function (source, options) {
  const result = pragma.call(this, source, options);
  if (/journal_mode/.test(source)) {
    pragma.call(this, 'wal_autocheckpoint = 0');
    console.error('[experiment] wal_autocheckpoint = 0');
  }
  return result;
};
