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
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { appendToDocs, backgroundLoad, machineInfo, root } from './common.mjs';
import { printSummary, summarise } from './cpuprofile.mjs';

const SECRET = 'bench-secret-not-for-production';
const PROJECT = 'bench-project';
const here = path.dirname(fileURLToPath(import.meta.url));
const PY = '/usr/bin/python3';

// ---------------------------------------------------------------- worker: Caliper in-process
if (process.argv[2] === '--worker') {
  const [inDir, outDir] = process.argv.slice(3);
  const { deidentifyDicom } = await import(pathToFileURL(path.join(root, 'packages/media/dist/index.js')).href);
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

// ---------------------------------------------------------------- helpers
const SLICES = Number(process.env.BENCH_SLICES ?? 300);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const CACHE = process.env.BENCH_CACHE ?? '/tmp/caliper-bench-deid';
const TABLE = path.resolve(root, '../shared/data/standards/confidentiality_profile_attributes.json');
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Runs a command under /usr/bin/time; returns wall seconds (measured here), peak RSS and stdout. */
function timed(cmd, args, opts = {}) {
  const useTime = existsSync('/usr/bin/time');
  const argv = useTime ? ['-f', '__MAXRSS_KIB=%M', cmd, ...args] : args;
  const t0 = performance.now();
  const r = spawnSync(useTime ? '/usr/bin/time' : cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}: ${(r.stderr ?? '').slice(-2000)}`);
  const rss = /__MAXRSS_KIB=(\d+)/.exec(r.stderr ?? '');
  return { seconds, maxRssKiB: rss ? Number(rss[1]) : null, stdout: r.stdout, stderr: r.stderr };
}

async function ensureSeries() {
  const genSource = await readFile(path.join(here, 'synthetic-ct.mjs'));
  const key = createHash('sha256').update(genSource).digest('hex').slice(0, 12);
  const dir = path.join(CACHE, `ct-512x512x${SLICES}-${key}`);
  const marker = path.join(dir, '.complete');
  if (existsSync(marker)) return { dir, ...JSON.parse(await readFile(marker, 'utf8')), cached: true };
  await rm(dir, { recursive: true, force: true });
  const { writeSyntheticCtSeries } = await import('./synthetic-ct.mjs');
  const t0 = performance.now();
  const { files, totalBytes } = await writeSyntheticCtSeries(dir, { slices: SLICES });
  const info = { files: files.length, totalBytes, generateSeconds: (performance.now() - t0) / 1000 };
  await writeFile(marker, JSON.stringify(info));
  return { dir, ...info, cached: false };
}

function dciodvfy(file) {
  if (!have('dciodvfy')) return null;
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  const text = `${r.stdout}\n${r.stderr}`;
  const lines = text.split('\n');
  return {
    errors: lines.filter((l) => /^\s*(\(.*\)\s*\?\s*-\s*)?Error/.test(l)).length,
    warnings: lines.filter((l) => /^\s*(\(.*\)\s*\?\s*-\s*)?Warning/.test(l)).length,
    errorLines: lines.filter((l) => /Error/.test(l)).map((l) => l.trim()),
  };
}

// Same rule as packages/media/src/dicom/deid/deidentify.ts (effectiveAction).
function effectiveAction(action, vr) {
  const parts = action.replace(/\*/g, '').split('/');
  if (parts.includes('U')) return 'U';
  if (parts.length === 1) return parts[0] === 'C' ? 'D' : parts[0];
  if (vr === 'SQ') return 'Z';
  if (parts.includes('D')) return 'D';
  if (parts.includes('Z')) return 'Z';
  return 'X';
}

const DUMMY = { AS: '000Y', DA: '19000101', DS: '0', DT: '19000101000000', IS: '0', TM: '000000', PN: 'ANONYMOUS', UI: '2.25.0' };

/**
 * gdcmanon --dumb arguments equivalent (at top level) to what the Basic Profile does to this
 * series: the profile table applied to the top-level attributes present in the first file.
 * gdcmanon's --empty/--replace insert absent attributes, so only present ones are listed.
 * It cannot remap UIDs per file (a constant UID is written), derive a pseudonym, recurse into
 * sequences, or remove "all private tags" (the private tags present are listed explicitly).
 */
function gdcmanonArgs(firstFile) {
  const require = createRequire(path.join(root, 'packages/media/package.json'));
  const dcmjs = require('dcmjs');
  dcmjs.log.setLevel('silent');
  const bytes = readFileSync(firstFile);
  const parsed = dcmjs.data.DicomMessage.readFile(new Uint8Array(bytes).buffer, { ignoreErrors: true });
  const rows = JSON.parse(readFileSync(TABLE, 'utf8'));
  const exact = new Map();
  const patterns = [];
  for (const row of rows) {
    const m = /^\(([0-9A-Fa-fXx]{4}),([0-9A-Fa-fXx]{4})\)$/.exec(String(row.tag).trim());
    if (!m) continue;
    const t = (m[1] + m[2]).toUpperCase();
    if (t.includes('X')) patterns.push([new RegExp(`^${t.replace(/X/g, '[0-9A-F]')}$`), row.basicProfile.trim()]);
    else exact.set(t, row.basicProfile.trim());
  }
  const args = [];
  const counts = { remove: 0, empty: 0, replace: 0, keep: 0 };
  const fmt = (t) => `${t.slice(0, 4)},${t.slice(4)}`.toLowerCase();
  for (const [key, el] of Object.entries(parsed.dict)) {
    const tag = key.toUpperCase();
    if (tag === '7FE00010') continue;
    if (parseInt(tag.slice(0, 4), 16) % 2 === 1) {
      args.push('--remove', fmt(tag));
      counts.remove++;
      continue;
    }
    if (tag === '00100020' || tag === '00100010') {
      args.push('--replace', `${fmt(tag)}=PSEUDONYM0000001`);
      counts.replace++;
      continue;
    }
    const action = exact.get(tag) ?? patterns.find(([re]) => re.test(tag))?.[1];
    const eff = action ? effectiveAction(action, el.vr) : 'K';
    if (eff === 'X') {
      args.push('--remove', fmt(tag));
      counts.remove++;
    } else if (eff === 'Z' && el.vr === 'SQ') {
      // gdcmanon --dumb fails (exit 1, no message) on --empty of a sequence; remove it instead.
      args.push('--remove', fmt(tag));
      counts.remove++;
    } else if (eff === 'Z') {
      args.push('--empty', fmt(tag));
      counts.empty++;
    } else if ((eff === 'D' || eff === 'U') && el.vr !== 'SQ') {
      args.push('--replace', `${fmt(tag)}=${DUMMY[el.vr] ?? 'ANONYMIZED'}`);
      counts.replace++;
    } else counts.keep++;
  }
  args.push('--replace', '0012,0062=YES', '--replace', '0012,0063=DICOM PS3.15 E.1 Basic Application Confidentiality Profile');
  counts.replace += 2;
  return { args, counts };
}

/** Checks one output file with pydicom: identity gone, private tags gone, Pixel Data identical to the input. */
function checkOutput(inFile, outFile) {
  const code = `
import sys, pydicom
a = pydicom.dcmread(sys.argv[1]); b = pydicom.dcmread(sys.argv[2])
priv = sum(1 for e in b.iterall() if e.tag.is_private)
leak = [k for k in ('SYNTHETIC^PATIENT', 'SYN-000123', '19700101', 'SYNTHETIC GENERAL HOSPITAL', 'SYN-SN-000042', 'SYNACC0001') if k.encode() in open(sys.argv[2], 'rb').read()]
print(int(a.PixelData == b.PixelData), priv, len(leak), int(b.SOPInstanceUID != a.SOPInstanceUID), int(b.StudyInstanceUID != a.StudyInstanceUID))
`;
  const r = spawnSync(PY, ['-c', code, inFile, outFile], { encoding: 'utf8' });
  if (r.status !== 0) return { ok: false, detail: 'pydicom could not read the output' };
  const [pixels, priv, leaks, sop, study] = r.stdout.trim().split(' ').map(Number);
  return {
    ok: pixels === 1 && priv === 0 && leaks === 0,
    detail: `pixels identical ${pixels ? 'yes' : 'no'}, private tags ${priv}, fake identifiers left ${leaks}, SOP/Study UID changed ${sop && study ? 'yes' : 'no'}`,
  };
}

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
  gdcmanon: {
    label: '`gdcmanon --dumb` (GDCM 3.0, C++)',
    run: () => {
      const r = timed('gdcmanon', ['--dumb', '--continue', '-i', series.dir, '-o', outDir('gdcmanon'), ...gdcm.args]);
      return { wall: r.seconds, loop: null, maxRssKiB: r.maxRssKiB };
    },
  },
  pydicom: {
    label: 'pydicom script (`bench/deid_pydicom.py`)',
    run: () => {
      const r = timed(PY, [path.join(here, 'deid_pydicom.py'), series.dir, outDir('pydicom'), '--secret', SECRET, '--project', PROJECT, '--table', TABLE]);
      const j = JSON.parse(r.stdout.trim().split('\n').pop());
      return { wall: r.seconds, loop: j.seconds, maxRssKiB: r.maxRssKiB };
    },
  },
};
const ORDERS = [
  ['caliper', 'gdcmanon', 'pydicom'],
  ['gdcmanon', 'pydicom', 'caliper'],
  ['pydicom', 'caliper', 'gdcmanon'],
];

const load = await backgroundLoad(3000);
console.log(`background load: ${load.busyPct.toFixed(0)}% busy, ${load.stealPct.toFixed(0)}% steal, loadavg ${load.loadavg}`);
const results = { caliper: [], gdcmanon: [], pydicom: [] };
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
const ratioG = med.gdcmanon.wall / med.caliper.wall;
const ratioP = med.pydicom.wall / med.caliper.wall;
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
    const ratio = tool === 'caliper' ? '' : `${(r.wall / med.caliper.wall).toFixed(2)}×`;
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
    `Method: \`npm run bench:deid\` (media built with \`npx tsc -b packages/core packages/media\`). Input: one synthetic CT series from \`bench/synthetic-ct.mjs\`, ${series.files} files of 512×512 int16 (${MB.toFixed(1)} MB, Explicit VR Little Endian, CT Image Storage, 1.25 mm slice step, phantom ellipses + seeded noise), each with ~85 attributes of which ~45 are identifying under the Basic Profile (fake names, IDs, dates/times, institution/equipment, UIDs, ReferencedStudySequence, 5 private tags); dciodvfy on slice 1: ${inputCheck ? `${inputCheck.errors} errors, ${inputCheck.warnings} warnings (private tags unknown to it; Patient's Address / Requested Procedure Description not in the CT IOD)` : 'not run'}; read by pydicom: ${pyRead.status === 0 ? 'yes' : 'no'}. Each tool is one process over the whole directory (read each file, de-identify, write each output file to another directory on the same disk, page cache warm); time = process wall time incl. start-up, median of ${REPEATS} runs, order rotated per run (C,G,P / G,P,C / P,C,G). "loop" = the time inside the process's file loop (start-up and imports excluded). Peak RSS from \`getrusage\` (Caliper) and \`/usr/bin/time\` (others).`,
    '',
    `* Caliper: \`deidentifyDicom(bytes, { secret, projectId })\` from \`packages/media/dist\`, \`readFileSync\` → de-identify → \`writeFileSync\`, one file at a time, single thread.`,
    `* gdcmanon: \`gdcmanon --dumb --continue -i <dir> -o <dir>\` with ${gdcm.counts.remove} \`--remove\`, ${gdcm.counts.empty} \`--empty\` and ${gdcm.counts.replace} \`--replace\` arguments derived from the same profile table and the same combined-code rule, for the top-level attributes present in this series (\`--empty\`/\`--replace\` insert absent attributes, so the whole table cannot be passed). It does less work: constant replacement values (no HMAC UID remap or pseudonym), no recursion into sequences, private tags named explicitly, file meta left as is; a sequence the profile empties (ReferencedStudySequence) is removed, since \`--empty\` on a sequence makes gdcmanon exit with status 1.`,
    `* pydicom: \`bench/deid_pydicom.py\`, the same table and rules as Caliper (combined codes, UID remap with HMAC-SHA256 → 2.25, pseudonym, recursion into sequences, private tags removed, de-identification attributes added), \`dcmread\` → walk → \`save_as\`.`,
    '',
    '| tool | median wall | files/s | MB/s | median loop | peak RSS | Caliper throughput / this tool | all runs (wall, s) |',
    '|---|---:|---:|---:|---:|---:|---:|---|',
    row('caliper'),
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
