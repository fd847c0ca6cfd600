// Imaging ingest throughput: upload + de-identify + ingest of the synthetic 512×512×300 CT series
// (bench/synthetic-ct.mjs, no PHI) through Caliper's API on SQLite and on PostgreSQL, side by side
// in one run with `gdcmanon --dumb` and the pydicom script (bench/deid-tools.mjs), then a CPU
// profile of the server with its in-process worker.
//
//   npx tsc -b packages/core packages/media apps/server apps/cli && npm run bench:ingest
//
// Options (env): BENCH_REPEATS (default 3), BENCH_DBS (default sqlite,postgres), BENCH_NO_DOCS=1,
// BENCH_NO_PROFILE=1, BENCH_CACHE (series cache, default /tmp/caliper-bench-deid).
//
// Caliper's time = from the start of the multipart POST /api/tasks/:id/uploads (all 300 files in
// one request, streamed from disk) until GET /api/ingest-runs/:id (polled every 100 ms) reports
// `done`; `caliper serve` runs as its own process with the worker in-process (CALIPER_WORKER=on),
// fresh data dir / database per run. gdcmanon and pydicom are timed as processes over the
// directory, as in bench/deid.mjs. Repeats rotate the order; medians are reported.
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { appendToDocs, backgroundLoad, machineInfo } from './common.mjs';
import { printSummary, summarise } from './cpuprofile.mjs';
import { DEFAULT_CACHE, PY, ensureSeries, gdcmVersion, gdcmanonArgs, have, median, pythonVersion, runGdcmanon, runPydicom } from './deid-tools.mjs';
import { fmtS, listUploadFiles, requireBuilt, setupTask, startCaliper, uploadAndWait } from './ingest-common.mjs';

requireBuilt();
for (const cmd of ['gdcmanon', PY]) {
  if (!have(cmd)) {
    console.error(`${cmd} is missing (apt-get install -y libgdcm-tools python3-pydicom)`);
    process.exit(1);
  }
}
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const DBS = (process.env.BENCH_DBS ?? 'sqlite,postgres').split(',');
const CACHE = process.env.BENCH_CACHE ?? DEFAULT_CACHE;

const series = await ensureSeries({ slices: 300, cache: CACHE });
const MB = series.totalBytes / 1e6;
console.log(`series: ${series.files} files, ${MB.toFixed(1)} MB in ${series.dir}`);
const names = (await readdir(series.dir)).filter((n) => n.endsWith('.dcm')).sort();
const gdcm = gdcmanonArgs(path.join(series.dir, names[0]));
const uploadFiles = await listUploadFiles([series.dir]);
const work = path.join(CACHE, 'ingest-out');
const outDir = (tool) => path.join(work, tool);

const AREAS = [
  ['de-identification (packages/media dicom/deid)', (u) => /\/packages\/media\/dist\/dicom\/deid\//.test(u)],
  ['DICOM parse / pixel decode (media, dicom-parser, dcmjs, codecs)', (u) => /\/packages\/media\/dist\/|\/node_modules\/(dicom-parser|dcmjs|jpeg|@cornerstonejs|charls|openjpeg)/.test(u)],
  ['gzip (node:zlib JS side; deflate itself runs on the libuv pool)', (u) => /^node:zlib/.test(u)],
  ['sha256 (node:crypto)', (u, f) => /^node:internal\/crypto/.test(u) || (!u && /^(update|digest)$/.test(f))],
  ['file I/O: spool, blob writes, fsync, rename (fs natives)', (u, f) => /^node:(internal\/)?fs/.test(u) || (!u && /^(writeBuffer|writeBuffers|writeString|openFileHandle|open|close|fsync|fdatasync|rename|mkdir|read|readFileUtf8|unlink|rmSync|rm|stat|lstat|fstat|readdir|copyFile)$/.test(f))],
  ['DB (kysely, better-sqlite3, pg)', (u) => /\/node_modules\/(kysely|better-sqlite3|pg|pg-protocol|pg-pool|pg-boss)\//.test(u)],
  ['HTTP + multipart (fastify, busboy, node:http/net/stream)', (u) => /\/node_modules\/(fastify|@fastify|busboy|find-my-way|avvio|light-my-request|fast-json-stringify)\/|^node:(_http|http|net|stream|internal\/(streams|http))/.test(u)],
  ['server code (apps/server)', (u) => /\/apps\/server\//.test(u)],
  ['start-up: module loading/compile', (u, f) => /^node:internal\/modules/.test(u) || /^(compileSourceTextModule|wrapSafe|parseCJS|compileFunction)$/.test(f)],
  ['garbage collector', (u, f) => f === '(garbage collector)'],
];

/** Self time (ms) by area from a V8 .cpuprofile; idle excluded from the percentages. */
function areaSummary(profile) {
  const self = new Map();
  for (let i = 0; i < profile.samples.length; i++) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const out = new Map();
  let idle = 0;
  let busy = 0;
  for (const [id, us] of self) {
    const { url = '', functionName: f } = byId.get(id).callFrame;
    if (f === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const area = AREAS.find(([, test]) => test(url, f))?.[0] ?? 'other (V8 builtins, program, other modules)';
    out.set(area, (out.get(area) ?? 0) + us);
  }
  return { idleMs: idle / 1000, busyMs: busy / 1000, areas: [...out.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000, pct: (us / busy) * 100 })) };
}

/** user+system CPU seconds of a process (all its threads) from /proc/<pid>/stat. */
function cpuSeconds(pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return NaN;
  }
}

async function runCaliper(db, nodeArgs = []) {
  const c = await startCaliper({ db, nodeArgs });
  try {
    const t = await setupTask(c.url);
    const cpu0 = cpuSeconds(c.server.pid);
    const r = await uploadAndWait(c.url, t.token, t.taskId, uploadFiles, { pollMs: 100 });
    const cpu = cpuSeconds(c.server.pid) - cpu0;
    if (r.run.state !== 'done' || r.statuses.stored !== series.files) throw new Error(`run ended ${r.run.state}: ${JSON.stringify(r.statuses)} ${r.run.error ?? ''}`);
    const studies = await t.admin.req('GET', `/api/tasks/${t.taskId}/studies`);
    const asset = studies.items[0]?.series[0]?.assets[0];
    const at = (p) => r.phases.find((x) => x.phase === p)?.atMs;
    const phaseMs = { queued: at('files') - r.uploadMs, files: at('building') - at('files'), building: at('done') - at('building') };
    return { wall: r.totalMs / 1000, uploadMs: r.uploadMs, workerMs: r.workerMs, phaseMs, cpu, summary: r.run.summary, assets: studies.items.length, frames: asset?.frameCount ?? null };
  } finally {
    await c.close();
  }
}

const tools = {
  sqlite: { label: 'Caliper upload + ingest, SQLite (worker in-process)', run: () => runCaliper('sqlite') },
  postgres: { label: 'Caliper upload + ingest, PostgreSQL (worker in-process)', run: () => runCaliper('postgres') },
  gdcmanon: { label: '`gdcmanon --dumb` (de-identify only)', run: async () => runGdcmanon(series.dir, outDir('gdcmanon'), gdcm.args) },
  pydicom: { label: 'pydicom script (de-identify only)', run: async () => runPydicom(series.dir, outDir('pydicom')) },
};
const order = [...DBS, 'gdcmanon', 'pydicom'];

const load = await backgroundLoad(3000);
console.log(`background load: ${load.busyPct.toFixed(0)}% busy, ${load.stealPct.toFixed(0)}% steal, loadavg ${load.loadavg}`);
const results = Object.fromEntries(order.map((k) => [k, []]));
const t0 = performance.now();
for (let rep = 0; rep < REPEATS; rep++) {
  const rot = [...order.slice(rep % order.length), ...order.slice(0, rep % order.length)];
  for (const tool of rot) {
    await rm(outDir(tool), { recursive: true, force: true });
    await mkdir(outDir(tool), { recursive: true });
    const r = await tools[tool].run();
    results[tool].push(r);
    const extra = r.uploadMs !== undefined ? ` (upload ${fmtS(r.uploadMs)}, worker ${fmtS(r.workerMs)}: queued ${fmtS(r.phaseMs.queued)}, files ${fmtS(r.phaseMs.files)}, building ${fmtS(r.phaseMs.building)}; server CPU ${r.cpu.toFixed(1)} s)` : '';
    console.log(`rep ${rep + 1} ${tool.padEnd(8)} ${r.wall.toFixed(2)} s, ${(series.files / r.wall).toFixed(1)} files/s, ${(MB / r.wall).toFixed(1)} MB/s${extra}`);
  }
}
await rm(work, { recursive: true, force: true });
const totalSeconds = (performance.now() - t0) / 1000;
const med = Object.fromEntries(order.map((k) => [k, median(results[k].map((r) => r.wall))]));
const medOf = (k, f) => median(results[k].map(f));
const ratios = {};
for (const db of DBS) {
  ratios[db] = { g: med.gdcmanon / med[db], p: med.pydicom / med[db] };
  console.log(`${db}: ${ratios[db].g.toFixed(3)}× gdcmanon (target ≥ 1.0×: ${ratios[db].g >= 1 ? 'met' : 'missed'}), ${ratios[db].p.toFixed(2)}× pydicom (target ≥ 5×: ${ratios[db].p >= 5 ? 'met' : 'missed'})`);
}

// CPU profile of the server + in-process worker (SQLite), one extra run.
let profile = null;
let profiledRun = null;
if (!process.env.BENCH_NO_PROFILE) {
  const dir = path.join(CACHE, 'ingest-profile');
  await rm(dir, { recursive: true, force: true });
  profiledRun = await runCaliper('sqlite', ['--cpu-prof', '--cpu-prof-dir', dir]);
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  const areas = [
    'processFiles',
    'ingestDicomBytes',
    'deidentifyDicom',
    'headerOf',
    'buildSeries',
    'decodeInstance',
    'storeFrames',
    'storeFrame',
    'putBytes',
    'putFile',
    'fsyncPath',
    'readBlob',
    'upsertAsset',
    'autoWindow',
    'valueRange',
    'record',
    'spoolToTemp',
    'receiveUpload',
  ];
  const raw = JSON.parse(await readFile(path.join(dir, file), 'utf8'));
  profile = summarise(raw, { top: 20, inclusiveOf: areas });
  printSummary(profile, `server + worker CPU profile (${path.join(dir, file)})`);
  profile.byArea = areaSummary(raw);
  console.log(`  by area (self time, % of non-idle ${profile.byArea.busyMs.toFixed(0)} ms; idle ${profile.byArea.idleMs.toFixed(0)} ms):`);
  for (const a of profile.byArea.areas) console.log(`    ${a.pct.toFixed(1).padStart(5)}%  ${a.ms.toFixed(0).padStart(7)} ms  ${a.name}`);
  if (process.env.BENCH_KEEP_PROFILE) console.log(`  kept ${path.join(dir, file)}`);
  else await rm(dir, { recursive: true, force: true });
}

if (!process.env.BENCH_NO_DOCS) {
  const m = machineInfo();
  const row = (k) => {
    const rs = results[k];
    const w = med[k];
    const isCal = k === 'sqlite' || k === 'postgres';
    const split = isCal ? `${fmtS(medOf(k, (r) => r.uploadMs))} / ${fmtS(medOf(k, (r) => r.workerMs))} (files ${fmtS(medOf(k, (r) => r.phaseMs.files))}, building ${fmtS(medOf(k, (r) => r.phaseMs.building))})` : '';
    const vs = isCal ? `${(med.gdcmanon / w).toFixed(3)}× / ${(med.pydicom / w).toFixed(2)}×` : '';
    return `| ${tools[k].label} | ${w.toFixed(2)} s | ${(series.files / w).toFixed(1)} | ${(MB / w).toFixed(1)} | ${split} | ${vs} | ${rs.map((r) => r.wall.toFixed(2)).join(', ')} |`;
  };
  const lines = [
    `## Imaging ingest throughput — 2026-11-28 (${m.date})`,
    '',
    `Machine: ${m.nproc} vCPU (${m.cpu}), memory ${m.memory}; Node ${m.node}; PostgreSQL ${m.postgres}; GDCM ${gdcmVersion()}; ${pythonVersion()}. Other load just before the run: ${load.busyPct.toFixed(0)}% of all cores busy, ${load.stealPct.toFixed(0)}% steal, loadavg ${load.loadavg}. Total run ${totalSeconds.toFixed(0)} s.`,
    '',
    `Method: \`npm run bench:ingest\`. Input: the synthetic CT series of \`bench/synthetic-ct.mjs\` (${series.files} files, 512×512 int16, ${MB.toFixed(1)} MB, ~45 identifying attributes per file, no real PHI). Caliper: \`caliper serve\` as its own process (worker in-process, \`CALIPER_WORKER=on\`), fresh data dir (and fresh PostgreSQL database on 127.0.0.1:5432) per run; one multipart \`POST /api/tasks/:id/uploads\` with all ${series.files} files streamed from disk (Node fetch, Bearer token) and \`GET /api/ingest-runs/:id\` polled every 100 ms; time = start of the upload → first poll that sees \`done\` (so it includes up to 100 ms of polling lag). That is de-identification *and* ingest: spool to disk, classify, de-identify in memory, store the de-identified instance, record it in the DB, then build the volume (decode 300 slices, gzip level 1 per slice, content-addressed blob writes with fsync, thumbnail, asset row). gdcmanon and pydicom only de-identify (read, rewrite, write each file), timed as processes exactly as in the de-identification section. Median of ${REPEATS} runs, order rotated per repeat. "upload / worker" = until the 202 / run \`created_at\` → \`updated_at\` of the done run; files/building = the run's \`phase\` changes seen by the 100 ms polling.`,
    '',
    '| what | median wall | files/s | MB/s | upload / worker (phases) | Caliper throughput vs gdcmanon / pydicom | all runs (s) |',
    '|---|---:|---:|---:|---|---:|---|',
    ...order.map(row),
    '',
    ...DBS.map(
      (db) =>
        `* **Targets (${db})**: ≥ 1.0× gdcmanon: **${ratios[db].g >= 1 ? 'met' : 'missed'} (${ratios[db].g.toFixed(3)}×)**; ≥ 5× pydicom: **${ratios[db].p >= 5 ? 'met' : 'missed'} (${ratios[db].p.toFixed(2)}×)**. Ratio = other tool's time / Caliper's time.`,
    ),
    `* Server process CPU (user+system, all threads, /proc) during a run, median: SQLite ${medOf(DBS[0], (r) => r.cpu).toFixed(1)} s${DBS[1] ? `, ${DBS[1]} ${medOf(DBS[1], (r) => r.cpu).toFixed(1)} s` : ''} for ${medOf(DBS[0], (r) => r.wall).toFixed(1)} s of wall time. Run result: ${JSON.stringify(results[DBS[0]][0].summary.deid)} de-id actions, ${results[DBS[0]][0].summary.instancesStored} instances stored, ${results[DBS[0]][0].summary.assetsCreated} asset(s).`,
  ];
  if (profile) {
    const cat = profile.categories.slice(0, 8).map((c) => `${c.name} ${c.pct.toFixed(0)}%`).join('; ');
    const top = profile.functions.slice(0, 10).map((f) => `${f.name.replace(/\|/g, '\\|')} ${f.pct.toFixed(1)}%`).join('; ');
    const area = profile.byArea.areas.map((a) => `${a.name} ${a.pct.toFixed(0)}% (${(a.ms / 1000).toFixed(1)} s)`).join('; ');
    lines.push(
      `* CPU profile (\`node --cpu-prof\` on \`caliper serve\` incl. start-up, main thread only, one SQLite run of ${profiledRun.wall.toFixed(1)} s; ${profile.totalMs.toFixed(0)} ms of samples of which ${(profile.byArea.idleMs / 1000).toFixed(1)} s \`(idle)\` = main thread waiting, e.g. for deflate/fsync/file I/O on the libuv pool or for the next request). Self time by area, % of the ${(profile.byArea.busyMs / 1000).toFixed(1)} s non-idle: ${area}. By library: ${cat}. Top self time: ${top}.`,
    );
  }
  await appendToDocs(lines.join('\n') + '\n');
}
