// Annotation-save throughput benchmark: PUT /api/jobs/{id}/assets/{assetId}/annotations under
// 200 concurrent annotators, compared with a bare route on the same Fastify app that writes the
// same request bytes to the same database in one statement. See docs/benchmarks.md.
//
//   npm run bench:saves                         # SQLite and PostgreSQL
//   BENCH_DBS=sqlite npm run bench:saves        # only one database
//   BENCH_DURATION=15 BENCH_WARMUP=3 BENCH_CLIENTS=200 BENCH_AUTH=token|session BENCH_NO_DOCS=1
//
// Needs the server built (npx tsc -b packages/core packages/media apps/server apps/cli) and, for
// PostgreSQL, a server at 127.0.0.1:5432 that lets `postgres` create databases (CALIPER_BENCH_PG_URL
// overrides). Only 127.0.0.1 is contacted.
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { sql } from 'kysely';
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { printSummary, SAVE_PATH_FUNCTIONS, summarise } from './cpuprofile.mjs';
import { appendToDocs, backgroundLoad, machineInfo, procStat } from './common.mjs';
import { makeDocument, setupAnnotators, startBenchServer } from './fixture.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

const DBS = (process.env.BENCH_DBS ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 200);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 15);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 3);
const AUTH = process.env.BENCH_AUTH ?? 'token';
const PACED = process.env.BENCH_PACED !== '0';
const WRITE_DOCS = process.env.BENCH_NO_DOCS !== '1';
const CPU_PROFILE_DIR = process.env.BENCH_CPU_PROFILE ? path.resolve(process.env.BENCH_CPU_PROFILE) : null; // profile the server during the saturated phases
if (!(CLIENTS >= 1 && CLIENTS <= 1000) || !(DURATION_S > 0 && DURATION_S <= 300) || !(WARMUP_S >= 0 && WARMUP_S <= 60)) {
  console.error('BENCH_CLIENTS must be 1..1000, BENCH_DURATION 1..300 s, BENCH_WARMUP 0..60 s');
  process.exit(2);
}
if (!['token', 'session'].includes(AUTH)) {
  console.error('BENCH_AUTH must be token or session');
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// Running one load phase in a separate process

function runLoad(job) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(here, 'load.mjs'), [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('load generator did not finish in time'));
    }, job.warmupMs + job.durationMs + 120_000);
    let done = false;
    child.on('message', (m) => {
      done = true;
      clearTimeout(limit);
      if (m.ok) resolve(m.result);
      else reject(new Error(m.error));
    });
    child.on('exit', (code) => {
      clearTimeout(limit);
      if (!done) reject(new Error(`load generator exited with ${code}`));
    });
    child.send(job);
  });
}

/** Runs one phase and adds server-side measurements (server process CPU, event-loop delay, machine CPU). */
async function measured(job) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const st0 = procStat();
  const t0 = performance.now();
  const result = await runLoad(job);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const st1 = procStat();
  h.disable();
  return {
    ...result,
    serverCpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    machineBusyPct: ((st1.busy - st0.busy) / (st1.total - st0.total)) * 100,
    stealPct: ((st1.steal - st0.steal) / (st1.total - st0.total)) * 100,
    loopDelayP99: h.percentile(99) / 1e6,
    loopDelayMax: h.max / 1e6,
  };
}

// ---------------------------------------------------------------------------------------------

const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');

async function benchDatabase(kind) {
  const bench = await startBenchServer(kind);
  try {
    const { db, url } = bench;
    console.log(`[${kind}] server at ${url}; setting up ${CLIENTS} annotators…`);
    const { users, setupMs } = await setupAnnotators(url, { count: CLIENTS, auth: AUTH });
    const docs = users.map((u, i) => {
      const target = Math.round(5 * 1024 + ((45 * 1024) * i) / Math.max(1, CLIENTS - 1));
      return JSON.stringify(makeDocument(1000 + i, u.userId, target));
    });
    const docBytes = docs.map((d) => Buffer.byteLength(d));
    const objectsPerDoc = docs.map((d) => JSON.parse(d).objects.length);
    console.log(`[${kind}] setup took ${(setupMs / 1000).toFixed(1)} s; documents ${fmt(Math.min(...docBytes) / 1024)}–${fmt(Math.max(...docBytes) / 1024)} KB`);

    const revisions = users.map(() => 0);
    const phase = async (mode, intervalMs) => {
      const clients = users.map((u, i) => ({
        path: mode === 'saves' ? `/api/jobs/${u.jobId}/assets/${u.assetId}/annotations` : `/bench/bare/${u.jobId}.${u.assetId}`,
        headers: u.headers,
        doc: docs[i],
        revision: mode === 'saves' ? revisions[i] : 0,
      }));
      const label = `${mode}${intervalMs ? ` paced (1 per ${Math.round(intervalMs)} ms per client)` : ''}`;
      console.log(`[${kind}] ${label}: ${WARMUP_S} s warm-up + ${DURATION_S} s…`);
      let session = null;
      if (CPU_PROFILE_DIR && !intervalMs) {
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      const r = await measured({ url, mode, clients, warmupMs: WARMUP_S * 1000, durationMs: DURATION_S * 1000, intervalMs });
      if (session) {
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        mkdirSync(CPU_PROFILE_DIR, { recursive: true });
        const file = path.join(CPU_PROFILE_DIR, `${kind}-${mode}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        printSummary(summarise(profile, { top: 20, inclusiveOf: SAVE_PATH_FUNCTIONS }), `[${kind}] server CPU profile of the ${mode} phase → ${file}`);
      }
      if (mode === 'saves') r.finalRevisions.forEach((v, i) => (revisions[i] = v));
      console.log(
        `[${kind}] ${label}: ${fmt(r.throughput)} req/s, p50 ${fmt(r.p50)} p90 ${fmt(r.p90)} p99 ${fmt(r.p99)} max ${fmt(r.max)} ms, errors ${r.errors}, server CPU ${fmt(r.serverCpuPct, 0)}%, load-gen CPU ${fmt(r.loadgenCpuPct, 0)}%, machine busy ${fmt(r.machineBusyPct, 0)}% (+${fmt(r.stealPct, 0)}% steal), loop delay p99 ${fmt(r.loopDelayP99)} ms`,
      );
      console.log(`[${kind}]   slowest: ${r.slowest.map((x) => `${x.ms} ms (client ${x.client}, request #${x.nth + 1}, started at ${x.startedAtMs} ms)`).join('; ')}`);
      if (r.errorSamples.length) console.log(`[${kind}]   error samples: ${r.errorSamples.join(' | ')}`);
      delete r.finalRevisions;
      return r;
    };

    const saves = await phase('saves');
    const bare = await phase('bare');
    let pacedSaves = null;
    let pacedBare = null;
    if (PACED) {
      // Half of the measured save capacity, spread evenly over the clients (an autosave-like load).
      const intervalMs = Math.min(20_000, Math.max(100, (CLIENTS / Math.max(1, saves.throughput * 0.5)) * 1000));
      pacedSaves = await phase('saves', intervalMs);
      pacedBare = await phase('bare', intervalMs);
    }

    // Consistency check: every save the clients saw acknowledged is stored as a revision.
    const stored = await sql`select count(*) as n, coalesce(sum(revision), 0) as revs from annotation_docs`.execute(db);
    const revRows = await sql`select count(*) as n from annotation_revisions`.execute(db);
    const check = {
      docs: Number(stored.rows[0].n),
      headRevisionSum: Number(stored.rows[0].revs),
      clientRevisionSum: revisions.reduce((a, b) => a + b, 0),
      revisionRows: Number(revRows.rows[0].n),
    };
    console.log(`[${kind}] stored: ${check.docs} documents, ${check.revisionRows} revisions; head revisions ${check.headRevisionSum} vs acknowledged ${check.clientRevisionSum}`);
    return {
      kind,
      setupMs,
      docKb: { min: Math.min(...docBytes) / 1024, mean: docBytes.reduce((a, b) => a + b, 0) / docBytes.length / 1024, max: Math.max(...docBytes) / 1024 },
      objects: { min: Math.min(...objectsPerDoc), max: Math.max(...objectsPerDoc) },
      saves,
      bare,
      pacedSaves,
      pacedBare,
      check,
    };
  } finally {
    await bench.close();
  }
}

function row(name, r, bareRef) {
  return `| ${name} | ${fmt(r.throughput)} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.errors} | ${fmt(r.serverCpuPct, 0)}% | ${fmt(r.loadgenCpuPct, 0)}% | ${fmt(r.machineBusyPct, 0)}% (${fmt(r.stealPct, 0)}%) | ${bareRef ? `${fmt(r.throughput / bareRef.throughput, 2)}×` : ''} |`;
}

function markdown(results, info) {
  const L = [];
  L.push(`## Annotation saves vs bare write — ${info.date}`);
  L.push('');
  L.push(`Machine: ${info.nproc} vCPU (${info.cpu}), memory ${info.memory}; Node ${info.node}; PostgreSQL ${info.postgres} on 127.0.0.1.`);
  L.push('');
  const first = results[0];
  L.push(
    `Method: \`npm run bench:saves\`. Server built from this tree, started in-process with \`createServer\` (logging off); ` +
      `load generated by a separate process (\`bench/load.mjs\`, \`node:http\`, one keep-alive connection per client). ${CLIENTS} annotators, each assigned its own ` +
      `one-image job, each client loops \`PUT /api/jobs/{id}/assets/{assetId}/annotations\` with \`baseRevision\` taken from the previous response ` +
      `(${AUTH === 'token' ? 'personal access tokens, Bearer' : 'session cookie + X-CSRF-Token'}), no think time, ${WARMUP_S} s warm-up then ${DURATION_S} s measured ` +
      `(requests completing inside the window). Documents: ${first.objects.min}–${first.objects.max} objects (asset tags, boxes, polygons with 20–200 vertices), ` +
      `${fmt(first.docKb.min)}–${fmt(first.docKb.max)} KB (mean ${fmt(first.docKb.mean)} KB), valid against a 12-label chest X-ray schema. ` +
      `"bare" = the same bodies, same clients, to \`PUT /bench/bare/:key\` added to the same Fastify app, which upserts the raw body text into a ` +
      `\`bench_writes\` table in the same database in one statement (no auth lookup, no JSON parse, no validation, no transaction). ` +
      `"paced" = the same clients, each sending one request every N ms (offered load = half the saturated save throughput), to show latency below saturation. ` +
      `Server CPU / load-gen CPU = CPU time of that process / wall time (100% = one core); machine busy = share of all cores busy (user+system, incl. PostgreSQL), steal = time taken by the hypervisor.`,
  );
  L.push('');
  L.push('| run | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU | load-gen CPU | machine busy (steal) | saves/bare |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    L.push(row(`${r.kind}: saves`, r.saves, r.bare));
    L.push(row(`${r.kind}: bare`, r.bare));
    if (r.pacedSaves) {
      L.push(row(`${r.kind}: saves paced (${fmt(r.pacedSaves.clients / (r.pacedSaves.intervalMs / 1000), 0)} req/s offered)`, r.pacedSaves, r.pacedBare));
      L.push(row(`${r.kind}: bare paced`, r.pacedBare));
    }
  }
  L.push('');
  const verdicts = results.map((r) => {
    const ratio = r.saves.throughput / r.bare.throughput;
    const v = [`${r.kind}: saves/bare ${fmt(ratio, 2)}× (target ≥ 0.7×: ${ratio >= 0.7 ? 'met' : 'missed'})`];
    if (r.kind === 'sqlite') v.push(`p99 ${fmt(r.saves.p99)} ms at saturation (target < 50 ms: ${r.saves.p99 < 50 ? 'met' : 'missed'})${r.pacedSaves ? `, ${fmt(r.pacedSaves.p99)} ms paced (${r.pacedSaves.p99 < 50 ? 'met' : 'missed'})` : ''}`);
    v.push(`at saturation the mean latency is ${CLIENTS} clients / ${fmt(r.saves.throughput)} req/s = ${fmt((CLIENTS / r.saves.throughput) * 1000, 0)} ms by Little's law, so saturated latency is queueing`);
    v.push(`save errors ${r.saves.errorsTotal + (r.pacedSaves?.errorsTotal ?? 0)} (all requests incl. warm-up), bare errors ${r.bare.errorsTotal + (r.pacedBare?.errorsTotal ?? 0)}`);
    v.push(`stored ${r.check.revisionRows} revisions, head revisions match acknowledged saves: ${r.check.headRevisionSum === r.check.clientRevisionSum ? 'yes' : 'NO'}`);
    return `* ${v.join('; ')}.`;
  });
  L.push(...verdicts);
  L.push(`* Other load on the machine just before each database's run (3 s sample, this benchmark idle): ${results.map((r) => `${r.kind} ${fmt(r.background.busyPct, 0)}% busy, ${fmt(r.background.stealPct, 0)}% steal, loadavg ${r.background.loadavg}`).join('; ')}.`);
  L.push('');
  return L.join('\n');
}

{
  const info = machineInfo();
  const results = [];
  for (const kind of DBS) {
    if (!['sqlite', 'postgres'].includes(kind)) throw new Error(`unknown database ${kind}`);
    const bg = await backgroundLoad(3000);
    console.log(`[${kind}] background load before the run: ${fmt(bg.busyPct, 0)}% of all cores busy, ${fmt(bg.stealPct, 0)}% steal, loadavg ${bg.loadavg}`);
    results.push({ ...(await benchDatabase(kind)), background: bg });
  }
  const md = markdown(results, info);
  console.log('\n' + md);
  if (WRITE_DOCS) await appendToDocs(md);
  const failed = results.some((r) => r.saves.errorsTotal > 0 || (r.pacedSaves?.errorsTotal ?? 0) > 0);
  process.exit(failed ? 1 : 0);
}
