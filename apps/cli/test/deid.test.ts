import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runDeid } from '../src/deid.js';

// A real run of `caliper deid` on copies of shared samples in a temp dir, checked with pydicom.
const DATA = fileURLToPath(new URL('../../../../shared/data/dicom', import.meta.url));
const PYTHON = '/usr/bin/python3';
const ready = Boolean(process.env.CI) || (existsSync(DATA) && spawnSync(PYTHON, ['-c', 'import pydicom']).status === 0);
const work = mkdtempSync(path.join(tmpdir(), 'caliper-cli-deid-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runDeid(args, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

describe.skipIf(!ready)('caliper deid', () => {
  const input = path.join(work, 'in');
  const output = path.join(work, 'out');
  const samples = ['pydicom/CT_small.dcm', 'pydicom/rtstruct.dcm', 'pydicom/MR_small_bigendian.dcm', 'pydicom/examples_ybr_color.dcm'];
  mkdirSync(path.join(input, 'a', 'b'), { recursive: true });
  for (const [i, s] of samples.entries()) cpSync(path.join(DATA, s), path.join(input, i % 2 ? 'a/b' : 'a', path.basename(s)));
  writeFileSync(path.join(input, 'notes.txt'), 'not an image');
  // a truncated DICOM file: an error for that file only
  writeFileSync(path.join(input, 'broken.dcm'), readFileSync(path.join(DATA, 'pydicom/CT_small.dcm')).subarray(0, 1000));
  const secretFile = path.join(work, 'secret');
  writeFileSync(secretFile, 'cli-secret\n');
  const settingsFile = path.join(work, 'settings.json');
  writeFileSync(settingsFile, JSON.stringify({ retainLongitudinalTemporalModifiedDates: true }));
  const rulesFile = path.join(work, 'rules.json');
  writeFileSync(rulesFile, JSON.stringify([{ rows: 240, columns: 320, rects: [{ x: 0, y: 0, width: 320, height: 20 }] }]));

  it('de-identifies a folder tree into mirrored paths and prints a summary', async () => {
    const r = await run([input, output, '--secret-file', secretFile, '--project-id', 'p1', '--settings', settingsFile, '--redactions', rulesFile]);
    expect(r.code).toBe(1); // one broken file
    expect(r.err.join('\n')).toMatch(/^error broken\.dcm: /m);
    expect(r.out).toContain('skipped notes.txt: not DICOM');
    expect(r.out.join('\n')).toMatch(/files 6, de-identified 4, skipped 1, errors 1, flagged burned-in 1, redacted 1/);
    expect(r.out.join('\n')).toMatch(/totals: removed \d+, emptied \d+, replaced \d+, uidsRemapped \d+, datesShifted [1-9]\d*, cleaned 0, privateRemoved [1-9]\d*, privateKept 0/);
    expect(r.out.join('\n')).not.toMatch(/random secret/);
    const files = samples.map((s, i) => path.join(output, i % 2 ? 'a/b' : 'a', path.basename(s)));
    for (const f of files) expect(existsSync(f)).toBe(true);
    expect(existsSync(path.join(output, 'notes.txt'))).toBe(false);
    const check = spawnSync(
      PYTHON,
      [
        '-c',
        'import pydicom,sys\nfor f in sys.argv[1:]:\n d=pydicom.dcmread(f)\n print(d.PatientIdentityRemoved, d.get("LongitudinalTemporalInformationModified",""), d.file_meta.TransferSyntaxUID)',
        ...files,
      ],
      { encoding: 'utf8' },
    );
    expect(check.status).toBe(0);
    const lines = check.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const l of lines) expect(l).toMatch(/^YES MODIFIED /);
    expect(lines[2]).toMatch(/1\.2\.840\.10008\.1\.2\.1$/); // big endian written as explicit LE
  });

  it('refuses an output inside the input and never overwrites the input', async () => {
    const r = await run([input, path.join(input, 'sub')]);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/must not be the input or lie inside it/);
    const one = path.join(input, 'a', 'CT_small.dcm');
    expect((await run([one, one])).code).toBe(2);
  });

  it('without --secret-file uses a random secret and says so', async () => {
    const r = await run([path.join(input, 'a', 'CT_small.dcm'), path.join(work, 'single.dcm')]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/random secret/);
    expect(existsSync(path.join(work, 'single.dcm'))).toBe(true);
  });

  it('rejects bad arguments', async () => {
    expect((await run([input])).code).toBe(2);
    writeFileSync(settingsFile, JSON.stringify({ retainEverything: true }));
    const r = await run([input, path.join(work, 'o2'), '--settings', settingsFile]);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/unknown setting/);
  });
});
