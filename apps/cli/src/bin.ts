import { parseArgs } from 'node:util';
import { runDeid } from './deid.js';
import { METRICS_HELP, runMetrics } from './metrics.js';
import { EXCHANGE_HELP, runExportCommand, runImportCommand, UsageError } from './exchange.js';
import type * as ServerExports from '@caliper/server';
import type { Config, Deps } from '@caliper/server';

// The server package (Fastify, database drivers, ...) is loaded only by the commands that use it,
// so `caliper deid` starts quickly.
type ServerModule = typeof ServerExports;
let serverModule: ServerModule | null = null;
const server = async (): Promise<ServerModule> => (serverModule ??= await import('@caliper/server'));

const HELP = `caliper <command> [options]

Commands:
  serve [--port N] [--host H]        start the server (configuration from CALIPER_* variables)
  worker                             run background jobs (ingest) without the HTTP server
  migrate                            apply database migrations and exit
  user create --email E --password P [--name N] [--admin]
                                     create a user directly in the database
  token create --email E --name N    create a personal access token for a user (printed once)
  audit verify                       check the audit trail's hash chain; exit 1 at the first tampered entry
  deid <input> <output> [--secret-file F] [--project-id ID] [--settings F.json] [--redactions F.json]
                                     de-identify DICOM files offline (PS3.15 Annex E), mirroring folders
${METRICS_HELP}
${EXCHANGE_HELP}

Configuration: CALIPER_HOST, CALIPER_PORT, CALIPER_DATA_DIR, CALIPER_DATABASE_URL,
CALIPER_BLOB_STORE, CALIPER_ADMIN_EMAIL, CALIPER_ADMIN_PASSWORD, CALIPER_SECRET (see README).`;

const out = (s: string) => process.stdout.write(s + '\n');
const fail = (s: string, code = 1): never => {
  process.stderr.write(`caliper: ${s}\n`);
  process.exit(code);
};

async function withDb<T>(config: Config, fn: (deps: Deps) => Promise<T>): Promise<T> {
  const { prepareDataDir, openDatabase, migrate } = await server();
  const cfg = prepareDataDir(config);
  const handle = await openDatabase(cfg.database);
  try {
    await migrate(handle.db);
    const deps: Deps = {
      db: handle.db,
      dbKind: handle.kind,
      blobs: { putFile: unavailable, putBytes: unavailable, get: unavailable, stat: unavailable, delete: unavailable, list: unavailableIter },
      clock: { now: () => new Date() },
      config: cfg,
      queue: { kind: 'db', enqueue: unavailable, work: unavailable, stop: () => Promise.resolve() },
    };
    return await fn(deps);
  } finally {
    await handle.close();
  }
}
function unavailable(): never {
  throw new Error('the blob store is not available in this command');
}
// eslint-disable-next-line require-yield
async function* unavailableIter(): AsyncGenerator<string> {
  unavailable();
}

async function main(argv: string[]) {
  const [cmd, sub, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') return out(HELP);
  if (cmd === 'deid') {
    process.exitCode = await runDeid(argv.slice(1), out, (s) => process.stderr.write(s + '\n'));
    return;
  }
  if (cmd === 'metrics') {
    process.exitCode = await runMetrics(argv.slice(1), out, (s) => process.stderr.write(s + '\n'));
    return;
  }
  if (cmd === 'export' || cmd === 'import') {
    try {
      process.exitCode = cmd === 'export' ? await runExportCommand(argv.slice(1), out, (s) => process.stderr.write(s + '\n')) : await runImportCommand(argv.slice(1), out);
    } catch (err) {
      if (err instanceof UsageError) return fail(err.message, 2);
      throw err;
    }
    return;
  }
  const { ConfigError, createToken, createUser, loadConfig, startServer, startWorker, verifyAudit } = await server();
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message, 2);
    throw err;
  }

  if (cmd === 'serve') {
    const { values } = parseArgs({ args: argv.slice(1), options: { port: { type: 'string' }, host: { type: 'string' } } });
    if (values.port !== undefined) {
      const p = Number(values.port);
      if (!Number.isInteger(p) || p < 0 || p > 65535) return fail('--port must be a number between 0 and 65535', 2);
      config = { ...config, port: p };
    }
    if (values.host) config = { ...config, host: values.host };
    const server = await startServer(config, { logger: true });
    out(`Caliper is running at ${server.url}`);
    if (server.seededAdmin) {
      out(`First admin: ${server.seededAdmin.email}`);
      if (server.seededAdmin.generated) out(`Password:    ${server.seededAdmin.password}   (shown only this once; change it under Account)`);
      else out('Password:    the value of CALIPER_ADMIN_PASSWORD');
    } else {
      out(`Sign in with an existing account (the first admin was ${config.admin.email}).`);
    }
    let closing = false;
    const stop = () => {
      if (closing) return;
      closing = true;
      server.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }

  if (cmd === 'worker') {
    const worker = await startWorker(config);
    // The queue's poll timer does not hold the process open; the worker runs until stopped.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    out(`Caliper worker is running (${config.database.kind === 'postgres' ? 'pg-boss on PostgreSQL' : 'database queue on SQLite'}).`);
    let closing = false;
    const stop = () => {
      if (closing) return;
      closing = true;
      clearInterval(keepAlive);
      worker.close().then(() => process.exit(0), () => process.exit(1));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    return;
  }

  if (cmd === 'migrate') {
    const applied = await withDb(config, async () => []);
    out(`Database is up to date${applied.length ? '' : ''}.`);
    return;
  }

  if (cmd === 'user' && sub === 'create') {
    const { values } = parseArgs({
      args: rest,
      options: { email: { type: 'string' }, password: { type: 'string' }, name: { type: 'string' }, admin: { type: 'boolean' } },
    });
    if (!values.email || !values.password) return fail('user create needs --email and --password', 2);
    const u = await withDb(config, (deps) =>
      createUser(deps, null, { email: values.email!, password: values.password!, name: values.name ?? '', systemRole: values.admin ? 'admin' : 'user' }),
    );
    out(`Created ${u.systemRole} ${u.email} (${u.id})`);
    return;
  }

  if (cmd === 'token' && sub === 'create') {
    const { values } = parseArgs({ args: rest, options: { email: { type: 'string' }, name: { type: 'string' } } });
    if (!values.email || !values.name) return fail('token create needs --email and --name', 2);
    const t = await withDb(config, async (deps) => {
      const u = await deps.db.selectFrom('users').select(['id', 'email', 'name', 'system_role', 'active']).where('email', '=', values.email!.toLowerCase()).executeTakeFirst();
      if (!u || !u.active) return fail(`no active user with email ${values.email}`);
      return createToken(deps, { id: u.id, email: u.email, name: u.name, systemRole: u.system_role, via: 'token', credentialHash: '', ip: null }, values.name!);
    });
    out(t.token);
    return;
  }

  if (cmd === 'audit' && sub === 'verify') {
    const r = await withDb(config, (deps) => verifyAudit(deps.db));
    if (r.ok) return out(`Audit trail intact: ${r.checked} entries verified.`);
    return fail(`Audit trail TAMPERED: first bad entry #${r.firstBad?.seq} (${r.firstBad?.reason}); ${r.checked} entries before it are intact.`);
  }

  return fail(`unknown command "${[cmd, sub].filter(Boolean).join(' ')}"\n\n${HELP}`, 2);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  fail(err instanceof Error ? err.message : String(err));
});
