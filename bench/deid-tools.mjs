// De-identification tools shared by bench/deid.mjs and bench/ingest.mjs: the cached synthetic
// CT series, `gdcmanon --dumb` arguments equivalent to the Basic Profile, the pydicom script,
// timing of a child process, and the output checks.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { root } from './common.mjs';

export const SECRET = 'bench-secret-not-for-production';
export const PROJECT = 'bench-project';
export const PY = '/usr/bin/python3';
const here = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_CACHE = '/tmp/caliper-bench-deid';
export const TABLE = path.resolve(root, '../shared/data/standards/confidentiality_profile_attributes.json');

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const have = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Runs a command under /usr/bin/time; returns wall seconds (measured here), peak RSS and stdout. */
export function timed(cmd, args, opts = {}) {
  const useTime = existsSync('/usr/bin/time');
  const argv = useTime ? ['-f', '__MAXRSS_KIB=%M', cmd, ...args] : args;
  const t0 = performance.now();
  const r = spawnSync(useTime ? '/usr/bin/time' : cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}: ${(r.stderr ?? '').slice(-2000)}`);
  const rss = /__MAXRSS_KIB=(\d+)/.exec(r.stderr ?? '');
  return { seconds, maxRssKiB: rss ? Number(rss[1]) : null, stdout: r.stdout, stderr: r.stderr };
}

/** The synthetic series (512×512×slices), generated once per generator version under `cache`. */
export async function ensureSeries({ slices = 300, cache = DEFAULT_CACHE } = {}) {
  const genSource = await readFile(path.join(here, 'synthetic-ct.mjs'));
  const key = createHash('sha256').update(genSource).digest('hex').slice(0, 12);
  const dir = path.join(cache, `ct-512x512x${slices}-${key}`);
  const marker = path.join(dir, '.complete');
  if (existsSync(marker)) return { dir, ...JSON.parse(await readFile(marker, 'utf8')), cached: true };
  await rm(dir, { recursive: true, force: true });
  const { writeSyntheticCtSeries } = await import('./synthetic-ct.mjs');
  const t0 = performance.now();
  const { files, totalBytes } = await writeSyntheticCtSeries(dir, { slices });
  const info = { files: files.length, totalBytes, generateSeconds: (performance.now() - t0) / 1000 };
  await writeFile(marker, JSON.stringify(info));
  return { dir, ...info, cached: false };
}

export function dciodvfy(file) {
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
export function gdcmanonArgs(firstFile) {
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
export function checkOutput(inFile, outFile) {
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

/** `gdcmanon --dumb` over a directory with the given profile arguments. */
export function runGdcmanon(inDir, outDir, args) {
  const r = timed('gdcmanon', ['--dumb', '--continue', '-i', inDir, '-o', outDir, ...args]);
  return { wall: r.seconds, loop: null, maxRssKiB: r.maxRssKiB };
}

/** The pydicom script (same table and rules as Caliper) over a directory. */
export function runPydicom(inDir, outDir) {
  const r = timed(PY, [path.join(here, 'deid_pydicom.py'), inDir, outDir, '--secret', SECRET, '--project', PROJECT, '--table', TABLE]);
  const j = JSON.parse(r.stdout.trim().split('\n').pop());
  return { wall: r.seconds, loop: j.seconds, maxRssKiB: r.maxRssKiB };
}

export const gdcmVersion = () => {
  const r = spawnSync('gdcmanon', ['--version'], { encoding: 'utf8' });
  return (r.stdout ?? '').trim().replace(/^gdcmanon: gdcm /, '').replace(/\s*\$Date\$/, '');
};
export const pythonVersion = () =>
  spawnSync(PY, ['-c', 'import sys,pydicom;print(f"Python {sys.version.split()[0]}, pydicom {pydicom.__version__}")'], { encoding: 'utf8' }).stdout.trim();
