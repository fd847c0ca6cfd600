// Peak memory of a ~2 GB imaging upload: `caliper serve` (CALIPER_WORKER=off) receives one
// streamed multipart upload of N synthetic CT series (300 slices of 512×512 int16 each, different
// seeds and UIDs; generated once under /tmp), and `caliper worker` ingests it as its own process.
// Both processes' RSS is read from /proc/<pid>/status (VmRSS every 100 ms, VmHWM at the end).
//
//   npx tsc -b packages/core packages/media apps/server apps/cli && npm run bench:ingest-memory
//
// Options (env): BENCH_SERIES (default 13), BENCH_DB (sqlite | postgres, default sqlite),
// BENCH_CACHE (default /tmp/caliper-bench-ingest-memory), BENCH_NO_DOCS=1.
import { existsSync } from 'node:fs';
import { readFile, writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { appendToDocs, backgroundLoad, machineInfo } from './common.mjs';
import { fmtS, listUploadFiles, procMem, requireBuilt, sampleRss, setupTask, startCaliper, uploadOnly } from './ingest-common.mjs';
import { writeSyntheticCtSeries } from './synthetic-ct.mjs';

requireBuilt();
const N = Number(process.env.BENCH_SERIES ?? 13);
const DB = process.env.BENCH_DB ?? 'sqlite';
const CACHE = process.env.BENCH_CACHE ?? '/tmp/caliper-bench-ingest-memory';
const TARGET_MIB = 500;
const here = path.dirname(fileURLToPath(import.meta.url));

const key = createHash('sha256').update(await readFile(path.join(here, 'synthetic-ct.mjs'))).digest('hex').slice(0, 12);
const dirs = [];
const tGen = performance.now();
for (let i = 0; i < N; i++) {
  const dir = path.join(CACHE, `${key}-series${i + 1}`);
  if (!existsSync(path.join(dir, '.complete'))) {
    await rm(dir, { recursive: true, force: true });
    await writeSyntheticCtSeries(dir, { slices: 300, seed: 1000 + i });
    await writeFile(path.join(dir, '.complete'), 'ok');
    console.log(`generated series ${i + 1}/${N}`);
  }
  dirs.push(dir);
}
const genSeconds = (performance.now() - tGen) / 1000;
const files = await listUploadFiles(dirs);
const bytes = files.reduce((a, f) => a + f.size, 0);
console.log(`${N} series, ${files.length} files, ${(bytes / 1e9).toFixed(2)} GB (${(bytes / 2 ** 30).toFixed(2)} GiB) in ${CACHE} (${genSeconds.toFixed(0)} s to prepare)`);

const load = await backgroundLoad(2000);
const c = await startCaliper({ db: DB, separateWorker: true });
let result;
try {
  const t = await setupTask(c.url);
  const idleServer = sampleRss(c.server.pid).stop().peakKiB;
  const idleWorker = sampleRss(c.worker.pid).stop().peakKiB;
  const server = sampleRss(c.server.pid, 100);
  const worker = sampleRss(c.worker.pid, 100);
  // The whole upload in one streamed multipart request (BENCH_BATCH splits it into requests of that many files).
  const BATCH = Number(process.env.BENCH_BATCH ?? files.length);
  const tUp = performance.now();
  const runs = [];
  for (let i = 0; i < files.length; i += BATCH) runs.push(await uploadOnly(c.url, t.token, t.taskId, files.slice(i, i + BATCH)));
  const uploadMs = performance.now() - tUp;
  const serverDuringUpload = Math.max(...server.stop().samples.map((s) => s.rss));
  const statuses = {};
  let lastLog = 0;
  let lastUpdated = 0;
  for (const { runId } of runs) {
    for (;;) {
      const j = await t.admin.req('GET', `/api/ingest-runs/${runId}`);
      const at = performance.now() - tUp;
      if (at - lastLog > 10_000) {
        lastLog = at;
        console.log(`  ${(at / 1000).toFixed(0)} s: run ${runs.findIndex((x) => x.runId === runId) + 1}/${runs.length} ${j.run.phase} ${j.run.filesDone}/${j.run.filesTotal}`);
      }
      if (j.run.state === 'done' || j.run.state === 'failed') {
        for (const f of j.files) statuses[f.status] = (statuses[f.status] ?? 0) + 1;
        lastUpdated = Math.max(lastUpdated, Date.parse(j.run.updatedAt));
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const totalMs = performance.now() - tUp;
  const firstCreated = Date.parse((await t.admin.req('GET', `/api/ingest-runs/${runs[0].runId}`)).run.createdAt);
  const r = { uploadMs, totalMs, workerMs: lastUpdated - firstCreated, statuses, requests: runs.length };
  const w = worker.stop();
  const studies = await t.admin.req('GET', `/api/tasks/${t.taskId}/studies`);
  const seriesCount = studies.items.reduce((a, s) => a + s.series.length, 0);
  result = { r, w, serverPeakKiB: serverDuringUpload, serverHwmKiB: procMem(c.server.pid)?.hwm, idleServer, idleWorker, studies: studies.items.length, seriesCount };
} finally {
  await c.close();
}
const { r, w } = result;
const mib = (k) => `${(k / 1024).toFixed(0)} MiB`;
const met = w.hwmKiB / 1024 < TARGET_MIB;
console.log(`upload ${fmtS(r.uploadMs)}, worker ${fmtS(r.workerMs)}, total ${fmtS(r.totalMs)}; files ${JSON.stringify(r.statuses)}; ${result.studies} studies, ${result.seriesCount} series`);
console.log(`worker RSS: idle ${mib(result.idleWorker)}, peak sampled ${mib(w.peakKiB)}, VmHWM ${mib(w.hwmKiB)} (target < ${TARGET_MIB} MiB: ${met ? 'met' : 'missed'})`);
console.log(`server RSS: idle ${mib(result.idleServer)}, peak during the upload ${mib(result.serverPeakKiB)}, VmHWM ${mib(result.serverHwmKiB)}`);

if (!process.env.BENCH_NO_DOCS) {
  const m = machineInfo();
  // RSS over time, 10 points, for the worker.
  const s0 = w.samples[0].t;
  const dur = w.samples[w.samples.length - 1].t - s0;
  const curve = Array.from({ length: 10 }, (_, i) => {
    const a = s0 + (dur * i) / 10;
    const b = s0 + (dur * (i + 1)) / 10;
    return mib(Math.max(...w.samples.filter((s) => s.t >= a && s.t <= b).map((s) => s.rss), 0));
  }).join(', ');
  const lines = [
    `## Imaging ingest peak memory — 2026-11-28 (${m.date})`,
    '',
    `Machine: ${m.nproc} vCPU (${m.cpu}), memory ${m.memory}; Node ${m.node}${DB === 'postgres' ? `; PostgreSQL ${m.postgres}` : ''}. Other load just before the run: ${load.busyPct.toFixed(0)}% of all cores busy, ${load.stealPct.toFixed(0)}% steal, loadavg ${load.loadavg}.`,
    '',
    `Method: \`npm run bench:ingest-memory\`. Input: ${N} synthetic CT series (\`bench/synthetic-ct.mjs\`, seeds 1000…${999 + N}, so different UIDs and pixels), ${files.length} files of 512×512 int16, ${(bytes / 1e9).toFixed(2)} GB, sent as ${r.requests} multipart \`POST /api/tasks/:id/uploads\` request(s) (BENCH_BATCH files each; default: all in one), streamed from disk; the worker starts on the first run while the next uploads arrive. \`caliper serve\` with \`CALIPER_WORKER=off\` and \`caliper worker\` as a separate process on the same data dir and ${DB === 'postgres' ? 'a fresh PostgreSQL database' : 'SQLite database'}; RSS = VmRSS from \`/proc/<pid>/status\` every 100 ms, plus VmHWM (kernel high-water mark) at the end.`,
    '',
    '| process | idle RSS | peak RSS (sampled) | VmHWM |',
    '|---|---:|---:|---:|',
    `| \`caliper worker\` (whole ingest) | ${mib(result.idleWorker)} | ${mib(w.peakKiB)} | ${mib(w.hwmKiB)} |`,
    `| \`caliper serve\` (during the streamed upload; VmHWM = whole run) | ${mib(result.idleServer)} | ${mib(result.serverPeakKiB)} | ${mib(result.serverHwmKiB)} |`,
    '',
    `* **Target** worker peak < ${TARGET_MIB} MB: **${met ? 'met' : 'missed'}** (VmHWM ${mib(w.hwmKiB)}).`,
    `* Times: uploads ${fmtS(r.uploadMs)} (${(bytes / 1e6 / (r.uploadMs / 1000)).toFixed(0)} MB/s), worker (first run created → last run done) ${fmtS(r.workerMs)} (${(files.length / (r.workerMs / 1000)).toFixed(1)} files/s), total ${fmtS(r.totalMs)}; file statuses ${JSON.stringify(r.statuses)}; ${result.studies} studies / ${result.seriesCount} series built.`,
    `* Worker RSS over the run (max per tenth of the time): ${curve}.`,
  ];
  await appendToDocs(lines.join('\n') + '\n');
}
