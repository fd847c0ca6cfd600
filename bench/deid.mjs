// DICOM de-identification throughput: Caliper's deidentifyDicom (packages/media/dist) vs
// `gdcmanon --dumb` (GDCM, C++) vs a plain pydicom script (bench/deid_pydicom.py), on one
// synthetic 512×512×N CT series (bench/synthetic-ct.mjs; cached under /tmp).
//
//   npx tsc -b packages/core packages/media && npm run bench:deid
//
// Options (env): BENCH_SLICES (default 300), BENCH_REPEATS (default 3), BENCH_NO_DOCS=1 (do not
// append to docs/benchmarks.md), BENCH_CPU_PROFILE=1 (always profile Caliper; otherwise only when
// a target is missed), BENCH_CACHE (default /tmp/caliper-bench-deid).
//
// Each tool runs as its own process over the whole directory (read every file, de-identify,
// write every output file); the time is the process wall time, start-up included, so the three
// are measured the same way. Caliper runs single-threaded in one Node process (this file with
// --worker). Repeats rotate the order (C,G,P / G,P,C / P,C,G); medians are reported.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { appendToDocs, backgroundLoad, machineInfo, root } from './common.mjs';
import { printSummary, summarise } from './cpuprofile.mjs';
import { DEFAULT_CACHE, PROJECT, PY, SECRET, checkOutput, dciodvfy, ensureSeries as ensureSeriesIn, gdcmanonArgs, have, median, runGdcmanon, runPydicom, timed } from './deid-tools.mjs';


// ---------------------------------------------------------------- worker: Caliper in-process
if (process.argv[2] === '--worker') {
  const [inDir, outDir] = process.argv.slice(3);
  const { deidentifyDicom } = await import(pathToFileURL(path.join(root, 'packages/media/dist/deid.js')).href);
  const names = readdirSync(inDir).filter((n) => n.endsWith('.dcm')).sort();
  const t0 = performance.now();
  let bytes = 0;
  let report;
  for (const name of names) {
    const input = readFileSync(path.join(inDir, name));
    bytes += input.byteLength;
    const out = deidentifyDicom(input, { secret: SECRET, projectId: PROJECT });
    report = out.report;
    writeFileSync(path.join(outDir, name), out.bytes);
  }
  const seconds = (performance.now() - t0) / 1000;
  const maxRssKiB = process.resourceUsage().maxRSS;
  console.log(JSON.stringify({ files: names.length, bytes, seconds, maxRssKiB, report }));
  process.exit(0);
}

// ---------------------------------------------------------------- helpers (bench/deid-tools.mjs)
const SLICES = Number(process.env.BENCH_SLICES ?? 300);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const CACHE = process.env.BENCH_CACHE ?? DEFAULT_CACHE;
const ensureSeries = () => ensureSeriesIn({ slices: SLICES, cache: CACHE });

// ---------------------------------------------------------------- main
const distIndex = path.join(root, 'packages/media/dist/index.js');
if (!existsSync(distIndex)) {
  console.error('packages/media/dist/index.js is missing: run `npx tsc -b packages/core packages/media` first');
  process.exit(1);
}
for (const cmd of ['gdcmanon', PY]) {
  if (!have(cmd)) {
    console.error(`${cmd} is missing (apt-get install -y libgdcm-tools python3-pydicom)`);
    process.exit(1);
  }
}

const series = await ensureSeries();
const MB = series.totalBytes / 1e6;
console.log(
  `series: ${series.files} files, ${MB.toFixed(1)} MB in ${series.dir} (${series.cached ? 'cached' : `generated in ${series.generateSeconds.toFixed(1)} s`})`,
);
const names = (await readdir(series.dir)).filter((n) => n.endsWith('.dcm')).sort();
const firstIn = path.join(series.dir, names[0]);
const inputCheck = dciodvfy(firstIn);
if (inputCheck) console.log(`dciodvfy input ${names[0]}: ${inputCheck.errors} errors, ${inputCheck.warnings} warnings`);
const pyRead = spawnSync(
  PY,
  ['-c', 'import sys,pydicom,os; d=sys.argv[1]; n=[pydicom.dcmread(os.path.join(d,f)).pixel_array.shape for f in sorted(os.listdir(d)) if f.endswith(".dcm")]; print(len(n), n[0])', series.dir],
  { encoding: 'utf8' },
);
console.log(`pydicom reads input: ${pyRead.status === 0 ? pyRead.stdout.trim() : 'FAILED'}`);

const gdcm = gdcmanonArgs(firstIn);
const work = path.join(CACHE, 'out');
const outDir = (tool) => path.join(work, tool);
const profileDir = path.join(CACHE, 'profile');

const tools = {
  caliper: {
    label: 'Caliper `deidentifyDicom` (Node, 1 thread)',
    run: (extraNodeArgs = []) => {
      const r = timed(process.execPath, [...extraNodeArgs, fileURLToPath(import.meta.url), '--worker', series.dir, outDir('caliper')]);
      const j = JSON.parse(r.stdout.trim().split('\n').pop());
      return { wall: r.seconds, loop: j.seconds, maxRssKiB: j.maxRssKiB, report: j.report };
    },
  },
  cli: {
    label: '`caliper deid <in> <out>` (the CLI, whole process)',
    run: () => {
      const r = timed(process.execPath, [path.join(root, 'apps/cli/bin/caliper.js'), 'deid', series.dir, outDir('cli'), '--secret-file', secretFile, '--project-id', PROJECT]);
      return { wall: r.seconds, loop: null, maxRssKiB: r.maxRssKiB ?? null };
    },
  },
  gdcmanon: {
    label: '`gdcmanon --dumb` (GDCM 3.0, C++)',
    run: () => runGdcmanon(series.dir, outDir('gdcmanon'), gdcm.args),
  },
  pydicom: {
    label: 'pydicom script (`bench/deid_pydicom.py`)',
    run: () => runPydicom(series.dir, outDir('pydicom')),
  },
};
const ORDERS = [
  ['caliper', 'cli', 'gdcmanon', 'pydicom'],
  ['gdcmanon', 'pydicom', 'cli', 'caliper'],
  ['pydicom', 'caliper', 'gdcmanon', 'cli'],
];
const secretFile = path.join(CACHE, 'bench-secret.txt');
writeFileSync(secretFile, SECRET);

const load = await backgroundLoad(3000);
console.log(`background load: ${load.busyPct.toFixed(0)}% busy, ${load.stealPct.toFixed(0)}% steal, loadavg ${load.loadavg}`);
const results = { caliper: [], cli: [], gdcmanon: [], pydicom: [] };
const t0 = performance.now();
for (let rep = 0; rep < REPEATS; rep++) {
  for (const tool of ORDERS[rep % ORDERS.length]) {
    await rm(outDir(tool), { recursive: true, force: true });
    await mkdir(outDir(tool), { recursive: true });
    const r = tools[tool].run();
    results[tool].push(r);
    console.log(
      `rep ${rep + 1} ${tool.padEnd(8)} wall ${r.wall.toFixed(2)} s (${(series.files / r.wall).toFixed(1)} files/s, ${(MB / r.wall).toFixed(1)} MB/s)` +
        (r.loop !== null ? `, loop ${r.loop.toFixed(2)} s` : '') +
        (r.maxRssKiB ? `, peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB` : ''),
    );
  }
}
const totalSeconds = (performance.now() - t0) / 1000;

// Output checks (last run of each tool, first slice).
const checks = {};
for (const tool of Object.keys(tools)) {
  const outFile = path.join(outDir(tool), names[0]);
  const outCount = (await readdir(outDir(tool))).filter((n) => n.endsWith('.dcm')).length;
  checks[tool] = { count: outCount, ...checkOutput(firstIn, outFile), dciodvfy: dciodvfy(outFile) };
  const d = checks[tool].dciodvfy;
  console.log(`check ${tool}: ${outCount} files; ${checks[tool].detail}` + (d ? `; dciodvfy ${d.errors} errors, ${d.warnings} warnings` : ''));
  if (d?.errors) for (const l of d.errorLines) console.log(`    ${l}`);
}

const med = {};
for (const tool of Object.keys(tools)) {
  const rs = results[tool];
  med[tool] = {
    wall: median(rs.map((r) => r.wall)),
    loop: rs[0].loop === null ? null : median(rs.map((r) => r.loop)),
    rss: rs[0].maxRssKiB === null ? null : Math.max(...rs.map((r) => r.maxRssKiB)),
  };
}
// Caliper's number is its faster whole-process form: the library loop or the CLI.
const best = med.cli.wall < med.caliper.wall ? 'cli' : 'caliper';
const ratioG = med.gdcmanon.wall / med[best].wall;
const ratioP = med.pydicom.wall / med[best].wall;
const metG = ratioG >= 1;
const metP = ratioP >= 5;
console.log(`\nCaliper/gdcmanon throughput ${ratioG.toFixed(2)}× (target ≥ 1.0×: ${metG ? 'met' : 'missed'})`);
console.log(`Caliper/pydicom throughput ${ratioP.toFixed(2)}× (target ≥ 5×: ${metP ? 'met' : 'missed'})`);

// Profile Caliper when a target is missed (or on request).
let profile = null;
if (!metG || !metP || process.env.BENCH_CPU_PROFILE) {
  await rm(profileDir, { recursive: true, force: true });
  await rm(outDir('caliper'), { recursive: true, force: true });
  await mkdir(outDir('caliper'), { recursive: true });
  tools.caliper.run(['--cpu-prof', '--cpu-prof-dir', profileDir]);
  const file = (await readdir(profileDir)).find((f) => f.endsWith('.cpuprofile'));
  const inclusiveOf = ['deidentifyDicom', 'readFile', 'write', 'dataset', 'topLevelLayout', 'readFileSync', 'writeFileSync', 'remapUid', 'patientPseudonym'];
  profile = summarise(JSON.parse(await readFile(path.join(profileDir, file), 'utf8')), { top: 15, inclusiveOf });
  printSummary(profile, `Caliper CPU profile (${path.join(profileDir, file)})`);
}

// ---------------------------------------------------------------- docs
if (!process.env.BENCH_NO_DOCS) {
  const m = machineInfo();
  const fmt = (s) => `${s.toFixed(2)} s`;
  const row = (tool) => {
    const r = med[tool];
    const all = results[tool].map((x) => x.wall.toFixed(2)).join(', ');
    const ratio = tool === 'caliper' || tool === 'cli' ? '' : `${(r.wall / med[best].wall).toFixed(2)}×`;
    return `| ${tools[tool].label} | ${fmt(r.wall)} | ${(series.files / r.wall).toFixed(1)} | ${(MB / r.wall).toFixed(1)} | ${r.loop === null ? '' : fmt(r.loop)} | ${r.rss === null ? '' : `${(r.rss / 1024).toFixed(0)} MiB`} | ${ratio} | ${all} |`;
  };
  const check = (tool) => {
    const c = checks[tool];
    const kinds = c.dciodvfy ? [...new Set(c.dciodvfy.errorLines.map((l) => l.replace(/<2\.25\.[0-9]+>/g, '<uid>').replace(/^Error - /, '')))] : [];
    const d = c.dciodvfy
      ? `; dciodvfy on slice 1: ${c.dciodvfy.errors} errors${kinds.length ? ` (${kinds.join('; ')})` : ''}, ${c.dciodvfy.warnings} warnings`
      : '';
    return `${tool} ${c.count} files, ${c.detail}${d}`;
  };
  const lines = [
    `## DICOM de-identification — 2026-11-28 (${m.date})`,
    '',
    `Machine: ${m.nproc} vCPU (${m.cpu}), memory ${m.memory}; Node ${m.node}; GDCM ${execFileSync('gdcmanon', ['--version'], { encoding: 'utf8' }).trim().replace(/^gdcmanon: gdcm /, '').replace(/\s*\$Date\$/, '')}; ${execFileSync(PY, ['-c', 'import sys,pydicom;print(f"Python {sys.version.split()[0]}, pydicom {pydicom.__version__}")'], { encoding: 'utf8' }).trim()}. Other load just before the run: ${load.busyPct.toFixed(0)}% of all cores busy, ${load.stealPct.toFixed(0)}% steal, loadavg ${load.loadavg}. Total run ${totalSeconds.toFixed(0)} s.`,
    '',
    `Method: \`npm run bench:deid\` (media built with \`npx tsc -b packages/core packages/media\`). Input: one synthetic CT series from \`bench/synthetic-ct.mjs\`, ${series.files} files of 512×512 int16 (${MB.toFixed(1)} MB, Explicit VR Little Endian, CT Image Storage, 1.25 mm slice step, phantom ellipses + seeded noise), each with ~85 attributes of which ~45 are identifying under the Basic Profile (fake names, IDs, dates/times, institution/equipment, UIDs, ReferencedStudySequence, 5 private tags); dciodvfy on slice 1: ${inputCheck ? `${inputCheck.errors} errors, ${inputCheck.warnings} warnings (private tags unknown to it; Patient's Address / Requested Procedure Description not in the CT IOD)` : 'not run'}; read by pydicom: ${pyRead.status === 0 ? 'yes' : 'no'}. Each tool is one process over the whole directory (read each file, de-identify, write each output file to another directory on the same disk, page cache warm); time = process wall time incl. start-up, median of ${REPEATS} runs, order rotated per run. "loop" = the time inside the process's file loop (start-up and imports excluded). Peak RSS from \`getrusage\` (Caliper) and \`/usr/bin/time\` (others).`,
    '',
    `* Caliper: \`deidentifyDicom(bytes, { secret, projectId })\` from \`packages/media/dist/deid.js\` (\`@caliper/media/deid\`), \`readFileSync\` → de-identify → \`writeFileSync\`, one file at a time, single thread; and the \`caliper deid\` CLI over the directory (same engine, prints one line per file). Ratios use the faster of the two (${best === 'cli' ? 'the CLI' : 'the library loop'}).`,
    `* gdcmanon: \`gdcmanon --dumb --continue -i <dir> -o <dir>\` with ${gdcm.counts.remove} \`--remove\`, ${gdcm.counts.empty} \`--empty\` and ${gdcm.counts.replace} \`--replace\` arguments derived from the same profile table and the same combined-code rule, for the top-level attributes present in this series (\`--empty\`/\`--replace\` insert absent attributes, so the whole table cannot be passed). It does less work: constant replacement values (no HMAC UID remap or pseudonym), no recursion into sequences, private tags named explicitly, file meta left as is; a sequence the profile empties (ReferencedStudySequence) is removed, since \`--empty\` on a sequence makes gdcmanon exit with status 1.`,
    `* pydicom: \`bench/deid_pydicom.py\`, the same table and rules as Caliper (combined codes, UID remap with HMAC-SHA256 → 2.25, pseudonym, recursion into sequences, private tags removed, de-identification attributes added), \`dcmread\` → walk → \`save_as\`.`,
    '',
    '| tool | median wall | files/s | MB/s | median loop | peak RSS | Caliper throughput / this tool | all runs (wall, s) |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    row('caliper'),
    row('cli'),
    row('gdcmanon'),
    row('pydicom'),
    '',
    `* **Targets**: Caliper ≥ 1.0× gdcmanon throughput: **${metG ? 'met' : 'missed'} (${ratioG.toFixed(2)}×)**; Caliper ≥ 5× the pydicom script: **${metP ? 'met' : 'missed'} (${ratioP.toFixed(2)}×)**. Throughput ratio = other tool's time / Caliper's time.`,
    `* Output checks (slice 1 of the last run, with pydicom): ${check('caliper')}; ${check('gdcmanon')}; ${check('pydicom')}.`,
    `* Caliper report per file: ${JSON.stringify(results.caliper[0].report)}.`,
  ];
  if (profile) {
    const top = profile.functions.slice(0, 8).map((f) => `${f.name.replace(/\|/g, '\\|')} ${f.pct.toFixed(0)}%`).join('; ');
    const incl = profile.inclusive.filter((f) => f.ms > 0).map((f) => `${f.name} ${f.pct.toFixed(0)}%`).join(', ');
    lines.push(`* Caliper CPU profile (\`node --cpu-prof\`, one run, ${profile.totalMs.toFixed(0)} ms of samples): top self time: ${top}. Inclusive: ${incl}.`);
  }
  await appendToDocs(lines.join('\n') + '\n');
}
