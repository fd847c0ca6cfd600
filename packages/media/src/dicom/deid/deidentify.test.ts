import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DicomDeidError, deidentifyDicom, effectiveAction } from './deidentify.js';
import { PRIVATE_ATTRIBUTES_ACTION, PROFILE_TABLE } from './profile-table.js';

// Real sample files are read in place; every check on the output is made independently with
// pydicom (verify_deid.py) and dcmdump. Test names and messages carry file names and tags only.
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const DATA = join(repoRoot, '../shared/data/dicom');
const TABLE = join(repoRoot, '../shared/data/standards/confidentiality_profile_attributes.json');
const VERIFY = fileURLToPath(new URL('./verify_deid.py', import.meta.url));
const PYTHON = '/usr/bin/python3';

const havePydicom = spawnSync(PYTHON, ['-c', 'import pydicom']).status === 0;
const haveDcmdump = spawnSync('dcmdump', ['--version']).status === 0;
// On a developer machine without the verifiers these checks are skipped; in CI (scripts/test.sh
// installs dcmtk and pydicom, and ../shared sits beside the checkout) they must run.
const ready = Boolean(process.env.CI) || (existsSync(DATA) && existsSync(TABLE) && havePydicom && haveDcmdump);

const SECRET = 'test-secret-1';
const PROJECT = 'project-a';

const SAMPLES = [
  'pydicom/CT_small.dcm', // explicit VR LE, many private tags
  'pydicom/MR_small_implicit.dcm', // implicit VR LE
  'pydicom/JPGExtended.dcm', // JPEG Extended, encapsulated
  'dicomParser/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm', // 2 frames in 11 fragments, empty offset table
  'pydicom/examples_ybr_color.dcm', // 30-frame JPEG baseline
  'dwv/nema-ct1_j2ki.dcm', // JPEG 2000
  'pydicom/rtplan.dcm', // deep sequences, implicit VR
  'pydicom/test-SR.dcm', // structured report: Content Sequence, referenced instances
];

interface Verdict {
  violations: string[];
  uidLeaks: number;
  origUidCount: number;
  remappedOk: boolean;
  private: number;
  patientIdentityRemoved: string;
  method: string;
  methodCode: string[];
  patientIdOk: boolean;
  patientNameOk: boolean;
  sopUidExpected: boolean;
  metaSopMatches: boolean;
  sopClassKept: boolean;
  transferSyntaxKept: boolean;
  hasPixelData: boolean;
  pixelEqual: boolean;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
}

const tmp = ready ? mkdtempSync(join(tmpdir(), 'caliper-deid-')) : '';
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
function deidToFile(rel: string, secret = SECRET, project = PROJECT): { out: string; orig: string } {
  const orig = join(DATA, rel);
  const { bytes } = deidentifyDicom(readFileSync(orig), { secret, projectId: project });
  const out = join(tmp, `${counter++}-${basename(rel)}`);
  writeFileSync(out, bytes);
  return { out, orig };
}

function verify(orig: string, out: string, secret = SECRET, project = PROJECT): Verdict {
  const r = spawnSync(PYTHON, [VERIFY, orig, out, TABLE, secret, project], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`verify_deid.py failed for ${basename(orig)} (exit ${String(r.status)})`);
  return JSON.parse(r.stdout) as Verdict;
}

describe('generated profile table', () => {
  it('holds every row of the standard table', () => {
    const rows = JSON.parse(readFileSync(TABLE, 'utf8')) as unknown[];
    expect(PROFILE_TABLE.length + 1).toBe(rows.length); // + the private-attributes row
    expect(PRIVATE_ATTRIBUTES_ACTION).toBe('X');
    const tags = PROFILE_TABLE.map((r) => r.tag);
    expect(tags).toContain('50XXXXXX');
    expect(tags).toContain('60XX3000');
    expect(tags).toContain('60XX4000');
    for (const t of tags) expect(t).toMatch(/^[0-9A-FX]{8}$/);
  }, 10_000);

  it('resolves combined action codes with the documented rule', () => {
    expect(effectiveAction('X/Z', 'DA')).toBe('Z');
    expect(effectiveAction('X/D', 'DA')).toBe('D');
    expect(effectiveAction('Z/D', 'LO')).toBe('D');
    expect(effectiveAction('X/Z/D', 'LO')).toBe('D');
    expect(effectiveAction('X/Z/D', 'SQ')).toBe('Z');
    expect(effectiveAction('X/Z/U*', 'SQ')).toBe('U');
    expect(effectiveAction('C', 'LO')).toBe('D');
    expect(effectiveAction('K', 'LO')).toBe('K');
  });
});

describe.skipIf(!ready)('deidentifyDicom on sample files (checked with pydicom and dcmdump)', () => {
  for (const rel of SAMPLES) {
    it(basename(rel), () => {
      const { out, orig } = deidToFile(rel);
      const v = verify(orig, out);
      expect(v.violations, 'attributes not handled per the Basic Profile').toEqual([]);
      expect(v.private, 'private attributes left').toBe(0);
      expect(v.origUidCount).toBeGreaterThan(0);
      expect(v.uidLeaks, 'original instance UIDs still present').toBe(0);
      expect(v.remappedOk).toBe(true);
      expect(v.sopUidExpected).toBe(true);
      expect(v.metaSopMatches).toBe(true);
      expect(v.sopClassKept).toBe(true);
      expect(v.transferSyntaxKept).toBe(true);
      expect(v.patientIdentityRemoved).toBe('YES');
      expect(v.method).toMatch(/Basic Application Confidentiality Profile/);
      expect(v.methodCode).toEqual(['113100/DCM']);
      expect(v.patientIdOk, 'PatientID is not the pseudonym').toBe(true);
      expect(v.patientNameOk, 'PatientName is not the pseudonym').toBe(true);
      expect(v.pixelEqual, 'Pixel Data changed').toBe(true);
      const dump = spawnSync('dcmdump', ['-M', out], { encoding: 'utf8' });
      expect(dump.status, 'dcmdump failed').toBe(0);
      expect(dump.stderr).not.toMatch(/^E:/m);
    });
  }

  it('keeps Pixel Data of an encapsulated multi-fragment file byte-identical at byte level', () => {
    const rel = 'dicomParser/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm';
    const { out, orig } = deidToFile(rel);
    expect(verify(orig, out).hasPixelData).toBe(true);
    const a = readFileSync(orig);
    const b = readFileSync(out);
    // The Pixel Data element runs to the end of both files; compare its encoded bytes.
    const tag = Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42]);
    const pa = a.subarray(a.lastIndexOf(tag, a.length - 1));
    expect(b.subarray(b.length - pa.length).equals(pa)).toBe(true);
  });

  it('is deterministic: the same file twice gives the same UIDs and pseudonym', () => {
    const first = deidToFile('pydicom/CT_small.dcm');
    const second = deidToFile('pydicom/CT_small.dcm');
    const v1 = verify(first.orig, first.out);
    const v2 = verify(second.orig, second.out);
    expect(v2.sopUid).toBe(v1.sopUid);
    expect(v2.seriesUid).toBe(v1.seriesUid);
    expect(v2.studyUid).toBe(v1.studyUid);
    expect(readFileSync(second.out).equals(readFileSync(first.out))).toBe(true);
  });

  it('gives different UIDs under another secret or another project', () => {
    const base = deidToFile('pydicom/CT_small.dcm');
    const otherSecret = deidToFile('pydicom/CT_small.dcm', 'another-secret');
    const otherProject = deidToFile('pydicom/CT_small.dcm', SECRET, 'project-b');
    const v = verify(base.orig, base.out);
    const vs = verify(otherSecret.orig, otherSecret.out, 'another-secret');
    const vp = verify(otherProject.orig, otherProject.out, SECRET, 'project-b');
    expect(vs.patientIdOk && vp.patientIdOk).toBe(true);
    for (const other of [vs, vp]) {
      expect(other.sopUid).not.toBe(v.sopUid);
      expect(other.seriesUid).not.toBe(v.seriesUid);
      expect(other.studyUid).not.toBe(v.studyUid);
    }
  });

  it('keeps files of one series together under common remapped Study and Series UIDs', () => {
    const a = deidToFile('series/pydicom_CT5N_16x16/2062.dcm');
    const b = deidToFile('series/pydicom_CT5N_16x16/2392.dcm');
    const va = verify(a.orig, a.out);
    const vb = verify(b.orig, b.out);
    expect(va.uidLeaks + vb.uidLeaks).toBe(0);
    expect(vb.studyUid).toBe(va.studyUid);
    expect(vb.seriesUid).toBe(va.seriesUid);
    expect(vb.sopUid).not.toBe(va.sopUid);
    expect(va.seriesUid.startsWith('2.25.')).toBe(true);
  });

  it('reports what it did', () => {
    const { report } = deidentifyDicom(readFileSync(join(DATA, 'pydicom/CT_small.dcm')), {
      secret: SECRET,
      projectId: PROJECT,
    });
    expect(report.removed).toBeGreaterThan(0);
    expect(report.emptied).toBeGreaterThan(0);
    expect(report.replaced).toBeGreaterThan(0);
    expect(report.uidsRemapped).toBeGreaterThanOrEqual(4);
  });
});

describe('deidentifyDicom rejects what it cannot handle', () => {
  const opts = { secret: SECRET, projectId: PROJECT };

  it('throws DicomDeidError for bytes that are not DICOM', () => {
    expect(() => deidentifyDicom(new TextEncoder().encode('just some text, not an image'), opts)).toThrow(DicomDeidError);
    const png = new Uint8Array(300);
    png.set([0x89, 0x50, 0x4e, 0x47]);
    expect(() => deidentifyDicom(png, opts)).toThrow(/not a DICOM Part-10 file/);
  });

  it('throws DicomDeidError for a DICM marker followed by garbage', () => {
    const bytes = new Uint8Array(400).fill(0x41);
    bytes.set([0x44, 0x49, 0x43, 0x4d], 128);
    expect(() => deidentifyDicom(bytes, opts)).toThrow(DicomDeidError);
  });

  it('requires a secret and a project id', () => {
    const bytes = new Uint8Array(200);
    expect(() => deidentifyDicom(bytes, { secret: '', projectId: PROJECT })).toThrow(DicomDeidError);
    expect(() => deidentifyDicom(bytes, { secret: SECRET, projectId: '' })).toThrow(DicomDeidError);
  });
});
