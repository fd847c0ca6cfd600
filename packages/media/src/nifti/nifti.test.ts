import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { NiftiError, deidentifyNifti, readNifti, type NiftiInputFile } from './index.js';

// ../shared/data beside the repository (read in place, never copied into the project).
const DATA = fileURLToPath(new URL('../../../../../shared/data/nifti', import.meta.url));
const PY = '/usr/bin/python3';
const expected: Record<string, any> = JSON.parse(readFileSync(join(DATA, 'EXPECTED.json'), 'utf8'));

/** The files that make up the image EXPECTED.json keys as `key` (a .hdr key brings its .img along). */
function inputFor(key: string): NiftiInputFile[] {
  const paths = [key];
  const m = /^(.*)\.hdr(\.gz)?$/.exec(key);
  if (m) paths.push(`${m[1]}.img${m[2] ?? ''}`);
  return paths.map((p) => ({ name: p.split('/').pop()!, bytes: new Uint8Array(readFileSync(join(DATA, p))) }));
}

function sha256(chunks: Uint8Array[]): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

function expectMatrixClose(actual: number[][], want: number[][], tol = 1e-4): void {
  expect(actual.length).toBe(4);
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(Math.abs(actual[r]![c]! - want[r]![c]!)).toBeLessThan(tol);
}

function expectRel(actual: number, want: number, rel = 1e-6): void {
  expect(Math.abs(actual - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));
}

function hasNibabel(): boolean {
  if (!existsSync(PY)) return false;
  try {
    execFileSync(PY, ['-c', 'import nibabel'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('readNifti against nibabel (EXPECTED.json)', () => {
  it('EXPECTED.json covers every file in the data folder', () => {
    const onDisk = ['nibabel', 'nifti-reader-js'].flatMap((d) => readdirSync(join(DATA, d)).map((f) => `${d}/${f}`));
    const covered = Object.keys(expected).flatMap((k) => inputFor(k).map((f) => `${k.split('/')[0]}/${f.name}`));
    expect(covered.sort()).toEqual(onDisk.sort());
  });

  for (const [key, e] of Object.entries(expected)) {
    describe(key, () => {
      const files = inputFor(key);
      const vol = readNifti(files);

      it('is the file EXPECTED describes', () => {
        expect(sha256([files[0]!.bytes])).toBe(e.sha256);
      });

      it('header: shape, datatype, endianness, version, offsets, codes, text', () => {
        expect(vol.dims).toEqual(e.shape);
        expect(vol.dims).toEqual(e.raw_data_stats.shape);
        expect(vol.datatype.code).toBe(e.datatype_code);
        expect(vol.datatype.name).toBe(e.raw_data_stats.dtype);
        expect(vol.bitpix).toBe(e.bitpix);
        expect(vol.littleEndian).toBe(e.header_endianness === 'little');
        expect(vol.niftiVersion).toBe(e.magic.endsWith('2') ? 2 : 1);
        expect(vol.isPair).toBe(e.class === 'Nifti1Pair' || e.class === 'Nifti2Pair');
        expect(vol.dataOffset).toBe(e.data_offset_bytes);
        expect(vol.qformCode).toBe(e.qform_code);
        expect(vol.sformCode).toBe(e.sform_code);
        expect(vol.pixdim).toHaveLength(8);
        vol.pixdim.forEach((v, i) => expectRel(v, e.pixdim[i]));
        expect([vol.xyztUnits.spatial, vol.xyztUnits.temporal]).toEqual(e.xyzt_units);
        expect(vol.descrip).toBe(e.descrip);
        expect(vol.extensions.map((x) => x.code)).toEqual(e.extensions);
        expectRel(vol.sclSlope, e.scl_slope);
        expectRel(vol.sclInter, e.scl_inter);
        const [slope, inter] = e.dataobj_slope_inter_applied_by_nibabel;
        expectRel(vol.scaling?.slope ?? 1, slope);
        expectRel(vol.scaling?.inter ?? 0, inter);
        expect(vol.volumes).toBe((e.shape as number[]).slice(3).reduce((a, b) => a * b, 1));
      });

      it('affines: best (nibabel choice), sform, qform, LPS', () => {
        expectMatrixClose(vol.affineRas, e.best_affine_nibabel);
        expectMatrixClose(vol.sformAffine, e.sform_affine);
        expectMatrixClose(vol.qformAffine, e.qform_affine_nibabel_fixed);
        const flip = [-1, -1, 1, 1];
        expectMatrixClose(
          vol.affineLps,
          (e.best_affine_nibabel as number[][]).map((row, r) => row.map((v) => v * flip[r]!)),
        );
      });

      it('raw voxels: checksum (little-endian, x fastest), min/max/mean/NaNs', () => {
        const chunks: Uint8Array[] = [];
        for (let t = 0; t < vol.volumes; t++) {
          const v = vol.getVolume(t);
          expect(v.length).toBe(vol.voxelsPerVolume);
          chunks.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)); // host is little-endian
        }
        expect(sha256(chunks)).toBe(e.raw_data_stats.sha256_le_disk_order_x_fastest);
        const s = vol.stats();
        const r = e.raw_data_stats;
        expectRel(s.min, r.min);
        expectRel(s.max, r.max);
        expectRel(s.mean, r.mean);
        expect(s.nanCount).toBe(r.nan_count);
      });

      it('scaled voxels follow nibabel: raw × slope + inter', () => {
        const [slope, inter] = e.dataobj_slope_inter_applied_by_nibabel as [number, number];
        const r = e.raw_data_stats;
        const s = vol.stats({ scaled: true });
        const ends = [r.min * slope + inter, r.max * slope + inter];
        expectRel(s.min, Math.min(...ends));
        expectRel(s.max, Math.max(...ends));
        expectRel(s.mean, r.mean * slope + inter);
        expect(s.nanCount).toBe(r.nan_count);
        const raw = vol.getVolume(0);
        const scaled = vol.getScaledVolume(0);
        expect(scaled).toBeInstanceOf(Float64Array);
        const i = Array.from(raw, Number).findIndex((v) => Number.isFinite(v) && v !== 0);
        expect(i).toBeGreaterThanOrEqual(0);
        expectRel(scaled[i]!, Number(raw[i]) * slope + inter);
      });
    });
  }
});

describe('affine choice and scaling edge cases', () => {
  it('falls back to the pixdim affine (nibabel get_base_affine) when sform_code = qform_code = 0', () => {
    // standard.nii.gz: little-endian NIfTI-1, sform_code 2, qform_code 0 → zero the sform code.
    const bytes = gunzipSync(inputFor('nibabel/standard.nii.gz')[0]!.bytes);
    new DataView(bytes.buffer).setInt16(254, 0, true);
    const vol = readNifti([{ name: 'x.nii', bytes }]);
    expect(vol.affineSource).toBe('pixdim');
    // shape 4×5×7, pixdim 1, 3, 2 → diag(-1, 3, 2), origin at the centre.
    expectMatrixClose(vol.affineRas, [
      [-1, 0, 0, 1.5],
      [0, 3, 0, -6],
      [0, 0, 2, -6],
      [0, 0, 0, 1],
    ]);
  });

  it('prefers the sform whenever sform_code != 0, even when qform_code is higher (nifti-reader-js would not)', () => {
    // 5D_small.nii has qform_code 2 > sform_code 1: nifti-reader-js picks the qform, nibabel the sform.
    const vol = readNifti(inputFor('nifti-reader-js/5D_small.nii'));
    expect(vol.affineSource).toBe('sform');
    expect(vol.qformCode).toBeGreaterThan(vol.sformCode);
  });

  it('treats scl_slope 0 as "no scaling"', () => {
    const vol = readNifti(inputFor('nifti-reader-js/big.nii.gz'));
    expect(vol.sclSlope).toBe(0);
    expect(vol.scaling).toBeNull();
    expect(Array.from(vol.getScaledVolume(0).subarray(0, 50))).toEqual(Array.from(vol.getVolume(0).subarray(0, 50), Number));
  });

  it('rejects an out-of-range volume index', () => {
    const vol = readNifti(inputFor('nibabel/example4d.nii.gz'));
    expect(() => vol.getVolume(2)).toThrow(RangeError);
    expect(() => vol.getVolume(-1)).toThrow(RangeError);
  });
});

describe('bad input gives a NiftiError a person can act on', () => {
  const anat = () => inputFor('nibabel/anatomical.nii')[0]!.bytes;

  function expectNiftiError(fn: () => unknown, pattern: RegExp): void {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NiftiError);
    expect((caught as Error).message).toMatch(pattern);
  }

  it('wrong magic', () => {
    const bytes = anat().slice();
    bytes.set([0x58, 0x58, 0x58, 0], 344);
    expectNiftiError(() => readNifti([{ name: 'a.nii', bytes }]), /not a NIfTI-1 file: the magic string/);
  });

  it('not NIfTI at all (wrong header size)', () => {
    const bytes = new TextEncoder().encode('%PDF-1.7\n'.padEnd(400, 'x'));
    expectNiftiError(() => readNifti([{ name: 'scan.nii', bytes }]), /is not a NIfTI file/);
  });

  it('too short to hold a header', () => {
    expectNiftiError(() => readNifti([{ name: 'a.nii', bytes: anat().slice(0, 200) }]), /too short to hold a NIfTI header/);
  });

  it('truncated voxel data (plain and gzipped)', () => {
    const bytes = anat();
    const cut = bytes.slice(0, bytes.length - 1000);
    expectNiftiError(() => readNifti([{ name: 'a.nii', bytes: cut }]), /is truncated: .* needs 68002 bytes/);
    expectNiftiError(() => readNifti([{ name: 'a.nii.gz', bytes: gzipSync(cut) }]), /is truncated/);
  });

  it('truncated gzip stream', () => {
    const gz = inputFor('nibabel/example4d.nii.gz')[0]!.bytes;
    expectNiftiError(
      () => readNifti([{ name: 'example4d.nii.gz', bytes: gz.slice(0, gz.length / 2) }]),
      /could not be decompressed; it is probably truncated/,
    );
  });

  it('an .hdr without its .img, and an .img without its .hdr', () => {
    const [hdr, img] = inputFor('nifti-reader-js/air.hdr.gz');
    expectNiftiError(() => readNifti([hdr!]), /upload it together with its \.img file/);
    expectNiftiError(() => readNifti([img!]), /upload it together with its \.hdr file/);
    expectNiftiError(() => readNifti([hdr!, { ...img!, name: 'other.img.gz' }]), /do not belong together/);
  });

  it('a pair header uploaded as a single .nii', () => {
    const [hdr] = inputFor('nifti-reader-js/air.hdr.gz');
    expectNiftiError(() => readNifti([{ ...hdr!, name: 'air.nii.gz' }]), /holds only the header of an \.hdr\/\.img pair/);
  });

  it('unsupported datatype (complex64) and unknown datatype codes', () => {
    const bytes = anat().slice(); // big-endian header
    const dv = new DataView(bytes.buffer);
    dv.setInt16(70, 32, false);
    dv.setInt16(72, 64, false);
    expectNiftiError(() => readNifti([{ name: 'a.nii', bytes }]), /stores voxels as complex64, which Caliper cannot read/);
    dv.setInt16(70, 3, false);
    expectNiftiError(() => readNifti([{ name: 'a.nii', bytes }]), /datatype code 3/);
  });

  it('bitpix inconsistent with datatype', () => {
    const bytes = anat().slice();
    new DataView(bytes.buffer).setInt16(72, 8, false);
    expectNiftiError(() => readNifti([{ name: 'a.nii', bytes }]), /bitpix says 8/);
  });
});

describe('deidentifyNifti', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'caliper-nifti-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const nibabel = hasNibabel();

  for (const key of Object.keys(expected)) {
    it(`${key}: text fields blank, no extensions, voxels and geometry unchanged`, () => {
      const files = inputFor(key);
      const before = readNifti(files);
      const result = deidentifyNifti(files);
      expect(result.files.map((f) => f.name)).toEqual(files.map((f) => f.name));
      expect(result.removedExtensions).toBe(before.extensions.length);
      if (!before.isPair) expect(result.removedHeaderBytes).toBe(before.dataOffset - (before.niftiVersion === 1 ? 352 : 544));
      if (before.descrip) expect(result.clearedFields).toContain('descrip');

      const after = readNifti(result.files);
      expect(after.descrip).toBe('');
      expect(after.auxFile).toBe('');
      expect(after.extensions).toEqual([]);
      expect(after.dims).toEqual(before.dims);
      expect(after.datatype).toEqual(before.datatype);
      expect(after.affineRas).toEqual(before.affineRas);
      expect(after.scaling).toEqual(before.scaling);
      if (!after.isPair) expect(after.dataOffset).toBe(after.niftiVersion === 1 ? 352 : 544);
      for (let t = 0; t < before.volumes; t++) {
        const [x, y] = [before.getVolume(t), after.getVolume(t)];
        expect(Buffer.from(y.buffer).equals(Buffer.from(x.buffer))).toBe(true);
      }

      const header = files[0]!.name.endsWith('.gz') ? gunzipSync(result.files[0]!.bytes) : result.files[0]!.bytes;
      if (after.niftiVersion === 1) {
        expect(header.subarray(4, 32).every((b) => b === 0)).toBe(true); // data_type + db_name
      }
      const flagAt = after.niftiVersion === 1 ? 348 : 540;
      expect(Array.from(header.subarray(flagAt, flagAt + 4))).toEqual([0, 0, 0, 0]);
      if (files[0]!.name.endsWith('.gz')) expect(result.files[0]!.bytes[3]! & 0x08).toBe(0); // no gzip FNAME
    });
  }

  // Skipped only on a developer machine without nibabel; CI (scripts/test.sh installs it) must run it.
  it.skipIf(!nibabel && !process.env.CI)('nibabel loads every de-identified file: descrip empty, no extensions, identical data and affine', () => {
    const pairs: [string, string][] = [];
    for (const key of Object.keys(expected)) {
      const dir = join(tmp, key.replace(/[/.]/g, '_'));
      execFileSync('mkdir', ['-p', dir]);
      const out = deidentifyNifti(inputFor(key)).files;
      for (const f of out) writeFileSync(join(dir, f.name), f.bytes);
      pairs.push([join(DATA, key), join(dir, out[0]!.name)]);
    }
    const script = `
import json, sys
import numpy as np
import nibabel as nib
res = []
for orig, deid in json.loads(sys.argv[1]):
    a, b = nib.load(orig), nib.load(deid)
    da, db = np.asanyarray(a.dataobj), np.asanyarray(b.dataobj)
    res.append(dict(
        path=deid,
        descrip=b.header['descrip'].tobytes().rstrip(b'\\0').decode('latin1'),
        aux_file=b.header['aux_file'].tobytes().rstrip(b'\\0').decode('latin1'),
        db_name=(b.header['db_name'].tobytes().rstrip(b'\\0').decode('latin1') if 'db_name' in b.header else ''),
        extensions=len(b.header.extensions),
        same_data=bool(da.dtype == db.dtype and da.shape == db.shape and np.array_equal(da, db, equal_nan=True)),
        same_affine=bool(np.allclose(a.affine, b.affine)),
    ))
print(json.dumps(res))
`;
    const res = JSON.parse(execFileSync(PY, ['-c', script, JSON.stringify(pairs)], { encoding: 'utf8' })) as any[];
    expect(res).toHaveLength(pairs.length);
    for (const r of res) {
      expect(r, r.path).toMatchObject({ descrip: '', aux_file: '', db_name: '', extensions: 0, same_data: true, same_affine: true });
    }
  });
});
