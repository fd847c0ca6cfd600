import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomDeidError, type DeidSettings, deidentifyDicom, deidentifyDicomUsing } from './deidentify.js';

// The byte-level fast path (fast-path.ts) against the dcmjs path on every shared sample, under
// the Basic Profile and with each option switched on: same report / burned-in / identity, and
// the same data set at every depth as read by pydicom (compare_datasets.py; documented
// differences only: group lengths, Specific Character Set), identical Pixel Data bytes.
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const DATA = join(repoRoot, '../shared/data/dicom');
const SYNTHETIC = join(repoRoot, 'bench/synthetic-ct.mjs');
const COMPARE = fileURLToPath(new URL('./compare_datasets.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const havePydicom = spawnSync(PYTHON, ['-c', 'import pydicom']).status === 0;
const ready = Boolean(process.env.CI) || (existsSync(DATA) && havePydicom);
const haveDciodvfy = spawnSync('sh', ['-c', 'command -v dciodvfy']).status === 0;

const SETTINGS: Partial<DeidSettings>[] = [
  {},
  { retainLongitudinalTemporalModifiedDates: true },
  { retainPatientCharacteristics: true },
  { retainDeviceIdentity: true },
  { retainInstitutionIdentity: true },
  { retainUids: true },
  { cleanDescriptors: true },
  { retainSafePrivate: true },
  { keepPrivateTags: true },
  { retainLongitudinalTemporalModifiedDates: true, cleanDescriptors: true, retainPatientCharacteristics: true, keepPrivateTags: true },
];

/** Inputs the fast path leaves to dcmjs under the Basic Profile: big endian, deflate, no file meta. */
const EXPECTED_FALLBACKS = ['pydicom/ExplVR_BigEnd.dcm', 'pydicom/MR_small_bigendian.dcm', 'pydicom/image_dfl.dcm', 'pydicom/rtstruct.dcm'];

function dcmFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...dcmFiles(p));
    else if (name.endsWith('.dcm')) out.push(p);
  }
  return out;
}

interface Comparison {
  readable: boolean;
  diffs: string[];
  charset?: string[];
}

const tmp = mkdtempSync(join(tmpdir(), 'caliper-deid-fast-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let synthetic: string[] = [];
beforeAll(async () => {
  if (!existsSync(SYNTHETIC)) return;
  const mod = (await import(pathToFileURL(SYNTHETIC).href)) as {
    writeSyntheticCtSeries(dir: string, o: { slices: number; rows: number; cols: number }): Promise<unknown>;
  };
  const dir = join(tmp, 'synthetic');
  await mod.writeSyntheticCtSeries(dir, { slices: 3, rows: 64, cols: 64 });
  synthetic = dcmFiles(dir);
});

describe.skipIf(!ready)('byte-level fast path vs dcmjs path', () => {
  it('gives the same de-identified data sets on every sample, with every option', () => {
    const files = [...dcmFiles(DATA), ...synthetic];
    expect(files.length).toBeGreaterThan(50);
    const pairs: [string, string][] = [];
    const labels: string[] = [];
    const fallbacks: string[] = [];
    let n = 0;
    for (const file of files) {
      const name = file.startsWith(DATA) ? relative(DATA, file) : `synthetic/${basename(file)}`;
      const input = readFileSync(file);
      for (const settings of SETTINGS) {
        const opts = { secret: 'sec', projectId: 'proj', settings };
        const label = `${name} ${JSON.stringify(settings)}`;
        const slow = deidentifyDicomUsing(input, opts, 'dcmjs');
        const auto = deidentifyDicomUsing(input, opts, 'auto');
        if (auto.path === 'dcmjs') {
          if (Object.keys(settings).length === 0) fallbacks.push(name);
          continue;
        }
        const a = slow.result;
        const b = auto.result;
        expect(b.report, `report: ${label}`).toEqual(a.report);
        expect(b.burnedIn, `burnedIn: ${label}`).toEqual(a.burnedIn);
        expect(b.image, `image: ${label}`).toEqual(a.image);
        expect(b.transferSyntax, `syntax: ${label}`).toBe(a.transferSyntax);
        const pa = join(tmp, `${n}-dcmjs.dcm`);
        const pb = join(tmp, `${n}-bytes.dcm`);
        n++;
        writeFileSync(pa, a.bytes);
        writeFileSync(pb, b.bytes);
        pairs.push([pa, pb]);
        labels.push(label);
      }
    }
    expect(fallbacks.sort()).toEqual([...EXPECTED_FALLBACKS].sort());
    expect(pairs.length).toBeGreaterThan(400);

    const list = join(tmp, 'pairs.json');
    writeFileSync(list, JSON.stringify(pairs));
    const r = spawnSync(PYTHON, [COMPARE, list], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status, 'compare_datasets.py failed').toBe(0);
    const results = JSON.parse(r.stdout) as Comparison[];
    expect(results.length).toBe(pairs.length);
    const problems = results.flatMap((c, i) =>
      !c.readable ? [`${labels[i]}: pydicom cannot read the fast output`] : c.diffs.map((d) => `${labels[i]}: ${d}`),
    );
    expect(problems).toEqual([]);
  }, 240_000);

  it('falls back to dcmjs for ISO 2022 text the rules must read (Clean Descriptors)', () => {
    const input = readFileSync(join(DATA, 'pydicom/chrJapMulti.dcm'));
    const opts = { secret: 'sec', projectId: 'proj' };
    expect(deidentifyDicomUsing(input, opts, 'auto').path).toBe('bytes');
    expect(deidentifyDicomUsing(input, { ...opts, settings: { cleanDescriptors: true } }, 'auto').path).toBe('dcmjs');
    expect(() => deidentifyDicomUsing(input, { ...opts, settings: { cleanDescriptors: true } }, 'bytes')).toThrow(DicomDeidError);
  });

  it('refuses big endian in bytes mode and handles it through dcmjs in auto mode', () => {
    const input = readFileSync(join(DATA, 'pydicom/MR_small_bigendian.dcm'));
    const opts = { secret: 'sec', projectId: 'proj' };
    expect(() => deidentifyDicomUsing(input, opts, 'bytes')).toThrow(/transfer syntax or input form/);
    expect(deidentifyDicom(input, opts).transferSyntax).toBe('1.2.840.10008.1.2.1');
  });

  it('copies kept elements byte for byte and the Pixel Data element once, at the end', () => {
    const file = synthetic[0] ?? join(DATA, 'pydicom/CT_small.dcm');
    const input = readFileSync(file);
    const { result, path } = deidentifyDicomUsing(input, { secret: 'sec', projectId: 'proj' }, 'auto');
    expect(path).toBe('bytes');
    const pixelTag = Buffer.from([0xe0, 0x7f, 0x10, 0x00]);
    const inPixel = input.subarray(input.lastIndexOf(pixelTag));
    const out = Buffer.from(result.bytes);
    expect(out.subarray(out.length - inPixel.length).equals(inPixel)).toBe(true);
    // Rows (0028,0010) is kept: its encoded element appears unchanged in the output
    const at = input.indexOf(Buffer.from([0x28, 0x00, 0x10, 0x00, 0x55, 0x53]));
    expect(at).toBeGreaterThan(0);
    expect(out.indexOf(input.subarray(at, at + 10))).toBeGreaterThan(0);
  });

  it.skipIf(!haveDciodvfy)('dciodvfy finds no more errors in the fast output than in the dcmjs output (synthetic CT)', () => {
    const file = synthetic[0];
    expect(file).toBeDefined();
    const input = readFileSync(file!);
    const opts = { secret: 'sec', projectId: 'proj' };
    const count = (bytes: Uint8Array, name: string): number => {
      const p = join(tmp, name);
      writeFileSync(p, bytes);
      const r = spawnSync('dciodvfy', [p], { encoding: 'utf8' });
      return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^\s*(\(.*\)\s*\?\s*-\s*)?Error/.test(l)).length;
    };
    const slow = count(deidentifyDicomUsing(input, opts, 'dcmjs').result.bytes, 'dciodvfy-dcmjs.dcm');
    const fast = count(deidentifyDicomUsing(input, opts, 'bytes').result.bytes, 'dciodvfy-bytes.dcm');
    expect(fast).toBeLessThanOrEqual(slow);
  });
});
