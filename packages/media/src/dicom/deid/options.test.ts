import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dcmjs from 'dcmjs';
import { afterAll, describe, expect, it } from 'vitest';
import { deidentifyDicom, type DeidSettings } from './deidentify.js';
import { redactDicom } from './redact.js';
import { readDicom } from '../read/read.js';
import { decodeFrames, decodeFramesAsync } from '../read/decode.js';
import { dayOffset, normaliseDate, shiftDate, shiftDateTime } from './dates.js';
import { cleanText } from './clean.js';

// Options, dates, legacy inputs, burned-in flag and redaction; outputs checked with pydicom.
const repoRoot = fileURLToPath(new URL('../../../../../', import.meta.url));
const DATA = join(repoRoot, '../shared/data/dicom');
const COMPARE = fileURLToPath(new URL('./compare_pixels.py', import.meta.url));
const PYTHON = '/usr/bin/python3';
const havePydicom = spawnSync(PYTHON, ['-c', 'import pydicom, numpy']).status === 0;
const ready = Boolean(process.env.CI) || (existsSync(DATA) && havePydicom);

const opts = (settings: Partial<DeidSettings> = {}) => ({ secret: 'sec', projectId: 'proj', settings });
const tmp = mkdtempSync(join(tmpdir(), 'caliper-deid-opt-'));
afterAll(() => { if (!process.env.KEEP_TMP) rmSync(tmp, { recursive: true, force: true }); });
let n = 0;
const save = (bytes: Uint8Array, name: string): string => {
  const p = join(tmp, `${n++}-${name}`);
  writeFileSync(p, bytes);
  return p;
};
const dict = (bytes: Uint8Array) => dcmjs.data.DicomMessage.readFile(new Uint8Array(bytes).buffer, { ignoreErrors: true }).dict;
const first = (bytes: Uint8Array, tag: string): unknown => dict(bytes)[tag]?.Value?.[0];
const py = (code: string, ...args: string[]): string => {
  const r = spawnSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python check failed (exit ${String(r.status)})`);
  return r.stdout.trim();
};
const compare = (a: string, b: string): { readable: boolean; pixels: string; syntax: string } => {
  const r = spawnSync(PYTHON, [COMPARE, a, b], { encoding: 'utf8' });
  return JSON.parse(r.stdout) as { readable: boolean; pixels: string; syntax: string };
};

describe('date helpers', () => {
  it('shift whole days, parse legacy dates and refuse garbage', () => {
    expect(shiftDate('20000301', -1)).toBe('20000229');
    expect(shiftDate('1997.04.24', -24)).toBe('19970331');
    expect(shiftDate('not a date', -3)).toBeNull();
    expect(shiftDate('20230231', -3)).toBeNull();
    expect(normaliseDate('1997.04.24')).toBe('19970424');
    expect(shiftDateTime('20200101120000.5+0100', -1)).toBe('20191231120000.5+0100');
    const a = dayOffset('s', 'p', 'PAT1');
    expect(a).toBe(dayOffset('s', 'p', 'PAT1'));
    expect(a).toBeLessThan(0);
    expect(a).toBeGreaterThanOrEqual(-3650);
    expect(dayOffset('s', 'p', 'PAT2')).not.toBe(a);
  });
  it('cleans identifier-like tokens from descriptors', () => {
    expect(cleanText('CHEST PA 12345678 2024-01-31 DOE^JOHN x@y.org')).toBe('CHEST PA');
    expect(cleanText('T1 AX 3D')).toBe('T1 AX 3D');
  });
});

describe.skipIf(!ready)('profile options on real files', () => {
  const ct = () => readFileSync(join(DATA, 'pydicom/CT_small.dcm'));

  it('retainDeviceIdentity keeps StationName and DeviceSerialNumber, the basic profile drops them', () => {
    const src = readFileSync(join(DATA, 'pydicom-data/JPEG-LL.dcm'));
    expect(first(src, '00081010')).toBeTruthy();
    expect(first(src, '00181000')).toBeTruthy();
    const basic = deidentifyDicom(src, opts());
    const dev = deidentifyDicom(src, opts({ retainDeviceIdentity: true }));
    expect(first(basic.bytes, '00081010')).not.toBe(first(src, '00081010'));
    expect(first(basic.bytes, '00181000')).not.toBe(first(src, '00181000'));
    expect(first(dev.bytes, '00081010')).toBe(first(src, '00081010'));
    expect(first(dev.bytes, '00181000')).toBe(first(src, '00181000'));
    // nothing else differs: institution and dates follow the basic profile in both
    expect(first(dev.bytes, '00080080')).toBe(first(basic.bytes, '00080080'));
    expect(first(dev.bytes, '00080020')).toBe(first(basic.bytes, '00080020'));
    const codes = (b: Uint8Array) =>
      ((dict(b)['00120064']?.Value ?? []) as Record<string, { Value?: unknown[] }>[]).map((i) => i['00080100']?.Value?.[0]);
    expect(codes(basic.bytes)).toEqual(['113100']);
    expect(codes(dev.bytes)).toEqual(['113100', '113109']);
  });

  it('retainPatientCharacteristics, institution identity and UIDs do what they say', () => {
    const src = ct();
    const all = deidentifyDicom(
      src,
      opts({ retainPatientCharacteristics: true, retainInstitutionIdentity: true, retainUids: true }),
    );
    const basic = deidentifyDicom(src, opts());
    expect(first(all.bytes, '00100040')).toBe(first(src, '00100040')); // PatientSex
    expect(first(basic.bytes, '00100040') ?? '').toBe('');
    expect(first(src, '00100040')).toBeTruthy();
    expect(first(all.bytes, '00080080')).toBe(first(src, '00080080')); // InstitutionName
    expect(first(all.bytes, '00080018')).toBe(first(src, '00080018')); // SOPInstanceUID kept
    expect(first(basic.bytes, '00080018')).not.toBe(first(src, '00080018'));
    expect(all.report.uidsRemapped).toBe(0);
  });

  it('cleanDescriptors keeps descriptors without identifier-like tokens; keepPrivateTags keeps private tags', () => {
    const parsed = dcmjs.data.DicomMessage.readFile(new Uint8Array(ct()).buffer, { ignoreErrors: true });
    parsed.dict['0008103E'] = { vr: 'LO', Value: ['CHEST 12345678 AXIAL'] };
    parsed.dict['00081030'] = { vr: 'LO', Value: ['CT DOE^JANE'] };
    const src = new Uint8Array(parsed.write());
    const basic = deidentifyDicom(src, opts());
    expect(dict(basic.bytes)['0008103E']).toBeUndefined(); // X in the basic profile
    const clean = deidentifyDicom(src, opts({ cleanDescriptors: true }));
    expect(first(clean.bytes, '0008103E')).toBe('CHEST AXIAL');
    expect(first(clean.bytes, '00081030')).toBe('CT');
    expect(clean.report.cleaned).toBeGreaterThanOrEqual(2);
    const privateCount = (b: Uint8Array) => Object.keys(dict(b)).filter((k) => parseInt(k.slice(0, 4), 16) % 2 === 1).length;
    expect(privateCount(src)).toBeGreaterThan(0);
    expect(privateCount(basic.bytes)).toBe(0);
    expect(basic.report.privateRemoved).toBeGreaterThan(0);
    const safe = deidentifyDicom(src, opts({ retainSafePrivate: true }));
    expect(privateCount(safe.bytes)).toBe(0); // no safe-private table available: nothing kept
    const kept = deidentifyDicom(src, opts({ keepPrivateTags: true }));
    expect(privateCount(kept.bytes)).toBe(privateCount(src));
    expect(kept.report.privateKept).toBeGreaterThan(0);
    expect(kept.report.privateRemoved).toBe(0);
  });

  it('shifts dates consistently per patient and differently between patients', () => {
    const s = { retainLongitudinalTemporalModifiedDates: true };
    const a = readFileSync(join(DATA, 'series/pydicom_CT5N_16x16/2062.dcm'));
    const b = readFileSync(join(DATA, 'series/pydicom_CT5N_16x16/2392.dcm'));
    const ra = deidentifyDicom(a, opts(s));
    const rb = deidentifyDicom(b, opts(s));
    const orig = String(first(a, '00080020'));
    expect(orig).toMatch(/^\d{8}$/);
    const days = (x: string, y: string) =>
      (Date.UTC(+x.slice(0, 4), +x.slice(4, 6) - 1, +x.slice(6, 8)) - Date.UTC(+y.slice(0, 4), +y.slice(4, 6) - 1, +y.slice(6, 8))) / 864e5;
    const da = days(String(first(ra.bytes, '00080020')), orig);
    const db = days(String(first(rb.bytes, '00080020')), String(first(b, '00080020')));
    expect(da).toBeLessThan(0);
    expect(db).toBe(da); // same patient, same offset
    expect(first(ra.bytes, '00280303')).toBe('MODIFIED');
    expect(ra.report.datesShifted).toBeGreaterThan(0);
    // another patient (different PatientID) gets another offset
    const other = deidentifyDicom(ct(), opts(s));
    const dc = days(String(first(other.bytes, '00080020')), String(first(ct(), '00080020')));
    expect(first(a, '00100020')).not.toBe(first(ct(), '00100020'));
    expect(dc).not.toBe(da);
  });

  it('does not crash on legacy dates (1997.04.24) and writes valid ones', () => {
    const src = readFileSync(join(DATA, 'pydicom/ExplVR_BigEnd.dcm'));
    for (const s of [{}, { retainLongitudinalTemporalModifiedDates: true }]) {
      const r = deidentifyDicom(src, opts(s));
      const out = save(r.bytes, 'legacy.dcm');
      const dates = py(
        'import pydicom,sys\nd=pydicom.dcmread(sys.argv[1])\nprint(all(len(str(e.value))in(0,8) and str(e.value).isdigit() or e.value in ("",None) for e in d.iterall() if e.VR=="DA"))',
        out,
      );
      expect(dates).toBe('True');
    }
  });

  for (const rel of ['pydicom/MR_small_bigendian.dcm', 'pydicom/ExplVR_BigEnd.dcm', 'pydicom/image_dfl.dcm', 'pydicom/rtstruct.dcm']) {
    it(`de-identifies ${basename(rel)} into a Part-10 file pydicom reads with identical pixels`, () => {
      const r = deidentifyDicom(readFileSync(join(DATA, rel)), opts());
      const out = save(r.bytes, basename(rel));
      const v = compare(join(DATA, rel), out);
      expect(v.readable).toBe(true);
      expect(v.pixels).toMatch(/^(equal|none)$/);
      if (rel.includes('rtstruct')) expect(v.pixels).toBe('none');
      else expect(v.pixels).toBe('equal');
      if (!rel.includes('rtstruct')) expect(v.syntax).toBe('1.2.840.10008.1.2.1');
    });
  }

  it('flags burned-in annotation on the US sample, not on CT', () => {
    const us = deidentifyDicom(readFileSync(join(DATA, 'pydicom/examples_ybr_color.dcm')), opts());
    expect(us.burnedIn.flagged).toBe(true);
    expect(us.burnedIn.reasons).toContain('Modality US often has burned-in text');
    expect(us.image.rows).toBe(240);
    expect(us.image.columns).toBe(320);
    const ct0 = deidentifyDicom(ct(), opts());
    expect(ct0.burnedIn).toEqual({ flagged: false, reasons: [] });
    expect(ct0.image.manufacturer).toBe(String(first(ct(), '00080070')).trim());
  });

  it('de-identifies every DICOM object among the shared samples', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.dcm')) files.push(p);
      }
    };
    walk(DATA);
    const pairs: string[] = [];
    const failed = files.filter((f) => {
      try {
        const r = deidentifyDicom(readFileSync(f), opts({ retainLongitudinalTemporalModifiedDates: true, cleanDescriptors: true }));
        pairs.push(f, save(r.bytes, basename(f)));
        return false;
      } catch {
        return true;
      }
    });
    expect(files.length).toBeGreaterThan(50);
    expect(failed.map((f) => basename(f))).toEqual([]);
    // every output is a Part-10 file pydicom reads, with the same decoded pixels as its input
    const r = spawnSync(PYTHON, [COMPARE, ...pairs], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const verdicts = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { a: string; readable: boolean; pixels: string });
    expect(verdicts).toHaveLength(files.length);
    const bad = verdicts.filter((v) => !v.readable || !/^(equal|none|reference-undecodable:.*)$/.test(v.pixels));
    expect(bad).toEqual([]);
    const undecodable = verdicts.filter((v) => v.pixels.startsWith('reference-undecodable')).map((v) => v.a);
    expect(undecodable.length).toBeLessThanOrEqual(1); // HTJ2K: pydicom 2.3 has no decoder
    expect(verdicts.filter((v) => v.pixels === 'equal').length).toBeGreaterThanOrEqual(45);
  });
});

const REDACT_CHECK = `
import pydicom, sys, json, numpy as np
a = pydicom.dcmread(sys.argv[1]); b = pydicom.dcmread(sys.argv[2])
x, y, w, h = map(int, sys.argv[3:7]); fill = json.loads(sys.argv[7])
pa = a.pixel_array; pb = b.pixel_array
if 'NumberOfFrames' not in a or int(a.NumberOfFrames) == 1: pa = pa[None]; pb = pb[None]
rect = pb[:, y:y+h, x:x+w]
okrect = bool(np.all(rect == np.array(fill, dtype=rect.dtype)))
mask = np.ones(pb.shape[:3], bool); mask[:, y:y+h, x:x+w] = False
d = np.abs(pa[mask].astype(np.int64) - pb[mask].astype(np.int64))
print(json.dumps({"rect": okrect, "rest": bool(np.array_equal(pa[mask], pb[mask])), "shape": pa.shape == pb.shape,
  "maxdiff": int(d.max()) if d.size else 0, "fracdiff": float((d > 0).mean()) if d.size else 0.0,
  "pi": str(b.PhotometricInterpretation), "ts": str(b.file_meta.TransferSyntaxUID), "bia": str(b.get("BurnedInAnnotation", ""))}))
`;

describe.skipIf(!ready)('redactDicom (checked with pydicom)', () => {
  it('patches native RGB pixel data in place', async () => {
    const src = join(DATA, 'pydicom/SC_rgb_small_odd.dcm');
    const bytes = readFileSync(src);
    const rules = [{ manufacturer: 'no such vendor', rects: [{ x: 0, y: 0, width: 1, height: 1 }] }, { rects: [{ x: 1, y: 1, width: 2, height: 2 }] }];
    const r = await redactDicom(bytes, rules);
    expect(r.applied).toBe(1);
    expect(r.transcoded).toBe(false);
    expect(r.bytes.byteLength).toBe(bytes.byteLength);
    const v = JSON.parse(py(REDACT_CHECK, src, save(r.bytes, 'sc.dcm'), '1', '1', '2', '2', '[0,0,0]')) as Record<string, unknown>;
    expect(v).toMatchObject({ rect: true, rest: true, shape: true });
    const none = await redactDicom(bytes, [{ model: 'other', rects: [{ x: 0, y: 0, width: 5, height: 5 }] }]);
    expect(none.applied).toBe(0);
    expect(Buffer.from(none.bytes).equals(bytes)).toBe(true);
  });

  it('decodes, blacks out and re-writes a compressed multi-frame US (YBR) as Explicit VR LE', async () => {
    const src = join(DATA, 'pydicom/examples_ybr_color.dcm');
    const deid = deidentifyDicom(readFileSync(src), opts());
    const deidPath = save(deid.bytes, 'us-deid.dcm');
    const r = await redactDicom(deid.bytes, [{ rows: 240, columns: 320, rects: [{ x: 10, y: 20, width: 100, height: 30 }] }]);
    expect(r.applied).toBe(1);
    expect(r.transcoded).toBe(true);
    const v = JSON.parse(py(REDACT_CHECK, deidPath, save(r.bytes, 'us-red.dcm'), '10', '20', '100', '30', '[0,128,128]')) as Record<string, unknown>;
    expect(v).toMatchObject({ rect: true, shape: true, pi: 'YBR_FULL', ts: '1.2.840.10008.1.2.1', bia: 'NO' });
    // Outside the rect the pixels equal our own decode of the original exactly ...
    const ours = await decodeFramesAsync(readDicom(deid.bytes));
    const back = decodeFrames(readDicom(r.bytes));
    expect(back.shape).toEqual(ours.shape);
    let outsideDiff = 0;
    let insideNonBlack = 0;
    const [frames, rows, cols, spp] = ours.shape as [number, number, number, number];
    for (let f = 0; f < frames; f++)
      for (let y = 0; y < rows; y++)
        for (let x = 0; x < cols; x++)
          for (let c = 0; c < spp; c++) {
            const i = ((f * rows + y) * cols + x) * spp + c;
            const inRect = x >= 10 && x < 110 && y >= 20 && y < 50;
            if (inRect) insideNonBlack += back.data[i] === (c === 0 ? 0 : 128) ? 0 : 1;
            else outsideDiff += back.data[i] === ours.data[i] ? 0 : 1;
          }
    expect(outsideDiff).toBe(0);
    expect(insideNonBlack).toBe(0);
    // ... and pydicom's decode (Pillow/libjpeg) within JPEG decoder tolerance: two conformant
    // baseline decoders upsample chroma slightly differently (measured: max 11, ~2% of samples).
    expect(v.maxdiff as number).toBeLessThanOrEqual(16);
    expect(v.fracdiff as number).toBeLessThan(0.05);
  });

  it('redacts a lossless compressed MR (JPEG-LS) exactly as pydicom decodes it', async () => {
    const src = join(DATA, 'pydicom/MR_small_jpeg_ls_lossless.dcm');
    const r = await redactDicom(readFileSync(src), [{ rects: [{ x: 5, y: 6, width: 20, height: 10 }] }]);
    expect(r).toMatchObject({ applied: 1, transcoded: true });
    const pr = py('import pydicom,sys\nd=pydicom.dcmread(sys.argv[1])\nprint(d.PixelRepresentation, d.BitsStored)', src);
    const [repr, stored] = pr.split(' ').map(Number) as [number, number];
    const fill = repr === 1 ? -(2 ** (stored - 1)) : 0;
    const v = JSON.parse(py(REDACT_CHECK, src, save(r.bytes, 'mr-red.dcm'), '5', '6', '20', '10', JSON.stringify([fill]))) as Record<string, unknown>;
    expect(v).toMatchObject({ rect: true, rest: true, shape: true, ts: '1.2.840.10008.1.2.1', bia: 'NO' });
  });
});
