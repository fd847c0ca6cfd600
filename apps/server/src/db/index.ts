import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Migrator } from 'kysely/migration';
import type { Config } from '../config.js';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

export type { Database } from './schema.js';
export type Db = Kysely<Database>;
export type DbKind = 'sqlite' | 'postgres';

export interface DbHandle {
  db: Db;
  kind: DbKind;
  close(): Promise<void>;
}

/**
 * Opens the database named by the configuration (SQLite in WAL mode, or a PostgreSQL pool).
 * The PostgreSQL driver is loaded only when used, to keep the embedded default's start fast.
 */
export async function openDatabase(database: Config['database']): Promise<DbHandle> {
  if (database.kind === 'sqlite') {
    mkdirSync(path.dirname(database.file), { recursive: true });
    const sqlite = new SQLite(database.file);
    sqlite.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before the save is acknowledged (NORMAL in WAL mode may lose the
    // last commits on power loss).
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    // Kysely prepares every query anew; the same few hundred SQL texts repeat, so keep their
    // prepared statements (queries run synchronously, so a cached statement is never in use twice).
    const prepare = sqlite.prepare.bind(sqlite);
    const statements = new Map<string, ReturnType<typeof prepare>>();
    sqlite.prepare = ((source: string) => {
      let stmt = statements.get(source);
      if (!stmt) {
        stmt = prepare(source);
        if (statements.size >= 1000) statements.clear();
        statements.set(source, stmt);
      }
      return stmt;
    }) as typeof sqlite.prepare;
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { db, kind: 'sqlite', close: () => db.destroy() };
  }
  const { default: pg } = await import('pg');
  // PostgreSQL returns bigint/count as strings; parse int8 as numbers (our values stay < 2^53).
  pg.types.setTypeParser(20, (v: string) => Number(v));
  const pool = new pg.Pool({ connectionString: database.url, max: 20 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, kind: 'postgres', close: () => db.destroy() };
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrate(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${reason}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
