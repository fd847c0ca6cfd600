// Shared helpers for the benchmarks: machine description and docs/benchmarks.md.
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { cpus, freemem, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PG_ADMIN_URL = process.env.CALIPER_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function machineInfo() {
  const sh = (cmd) => {
    try {
      return execSync(cmd, { encoding: 'utf8', timeout: 5000 }).trim();
    } catch {
      return '?';
    }
  };
  const model = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ?? [])[1] ?? cpus()[0]?.model ?? '?';
  return {
    date: sh('date -u'),
    nproc: sh('nproc'),
    memory: sh('free -h | awk \'/^Mem:/ {print $2 " total, " $7 " available"}\'') || `${(totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(freemem() / 2 ** 30).toFixed(1)} GiB free`,
    cpu: model,
    node: process.version,
    postgres: sh(`psql "${PG_ADMIN_URL}" -Atc 'show server_version' 2>/dev/null`),
  };
}

export const DOC_HEADER = `# Benchmarks

How to run (build the server first: \`npx tsc -b packages/core packages/media apps/server apps/cli\`):

* \`npm run bench:saves\` — annotation-save throughput and latency with 200 concurrent annotators on SQLite and
  PostgreSQL (127.0.0.1:5432, user \`postgres\`; a fresh database is created and dropped), compared with a bare
  write route on the same server (about 4 minutes). Options: \`BENCH_DBS=sqlite\`, \`BENCH_DURATION\` (s),
  \`BENCH_WARMUP\` (s), \`BENCH_CLIENTS\`, \`BENCH_AUTH=token|session\`, \`BENCH_PACED=0\`, \`BENCH_NO_DOCS=1\` (do not
  append here), \`BENCH_CPU_PROFILE=<dir>\` (V8 CPU profile of the server during the saturated phases, summarised).
* \`npm run bench:coldstart\` — time from spawning \`caliper serve\` to the first 200 from \`GET /api/health\`,
  on a fresh and on an existing data directory (\`BENCH_PG=1\` adds a fresh PostgreSQL database).
* Diagnosis: \`node bench/profile-saves.mjs\` times each phase of one save in-process (no concurrency);
  \`node bench/coldstart-phases.mjs\` (and \`--imports\`) times each phase of a start; \`node bench/cpuprofile.mjs
  <file.cpuprofile>\` summarises a profile by library and function.

Each run appends a dated section below. Timings come from shared 2-vCPU machines where the server, the load
generator, PostgreSQL and other tenants' jobs compete for the same cores, so absolute numbers are noisy from run
to run; compare the ratios within one run (saves vs bare, SQLite vs PostgreSQL) rather than absolute numbers
across runs. Each section records how busy the machine was just before it ran.
`;

export async function appendToDocs(section) {
  const file = path.join(root, 'docs/benchmarks.md');
  if (!existsSync(file) || !(await readFile(file, 'utf8')).startsWith('# Benchmarks')) {
    const old = existsSync(file) ? await readFile(file, 'utf8') : '';
    await writeFile(file, DOC_HEADER + '\n' + old);
  }
  await appendFile(file, '\n' + section);
  console.log(`appended to ${path.relative(process.cwd(), file)}`);
}


/** Whole-machine CPU counters from /proc/stat (user nice system idle iowait irq softirq steal). */
export function procStat() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return { busy: f[0] + f[1] + f[2] + f[5] + f[6], steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
}

/** Share of all cores busy (and stolen) over `ms` while this benchmark is idle: other tenants' load. */
export async function backgroundLoad(ms = 2000) {
  const a = procStat();
  await new Promise((r) => setTimeout(r, ms));
  const b = procStat();
  const total = b.total - a.total;
  return { busyPct: ((b.busy - a.busy) / total) * 100, stealPct: ((b.steal - a.steal) / total) * 100, loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') };
}

/** Deterministic PRNG (mulberry32), shared by the benchmarks so runs are repeatable. */
export function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh PostgreSQL database for one bench run: `{ url, drop() }` (drop is safe to call twice). */
export async function createBenchDatabase() {
  const name = `caliper_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (q) => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL });
    await c.connect();
    try {
      await c.query(q);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  let dropped = false;
  return {
    url: u.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
