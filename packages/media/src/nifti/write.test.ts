import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync as zlibGunzipSync, gzipSync as zlibGzipSync } from 'node:zlib';
import { gunzipSync as fflateGunzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NiftiError } from './errors.js';
import { readNifti } from './read.js';
import { niftiHeader, qformFromAffine, writeNifti, writeNiftiGz, type NiftiWriteInput } from './write.js';

const PY = '/usr/bin/python3';

function rasOf(lps: number[][]): number[][] {
  return lps.map((row, r) => row.map((v) => (r < 2 ? -v : v) + 0));
}

function rotZ(deg: number): number[][] {
  const t = (deg * Math.PI) / 180;
  return [
    [Math.cos(t), -Math.sin(t), 0],
    [Math.sin(t), Math.cos(t), 0],
    [0, 0, 1],
  ];
}

function rotX(deg: number): number[][] {
  const t = (deg * Math.PI) / 180;
  return [
    [1, 0, 0],
    [0, Math.cos(t), -Math.sin(t)],
    [0, Math.sin(t), Math.cos(t)],
  ];
}

function mul3(a: number[][], b: number[][]): number[][] {
  return a.map((row) => [0, 1, 2].map((j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
}

/** 4×4 affine from a 3×3 direction matrix (columns = axis directions), spacings and origin. */
function affine(dir: number[][], spacing: number[], origin: number[]): number[][] {
  return [
    ...[0, 1, 2].map((r) => [...[0, 1, 2].map((c) => dir[r]![c]! * spacing[c]!), origin[r]!]),
    [0, 0, 0, 1],
  ];
}

const I3 = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
];

function labelVolume(nx: number, ny: number, nz: number): Uint8Array {
  const out = new Uint8Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const r = ((i - nx / 2) / (nx / 2)) ** 2 + ((j - ny / 2) / (ny / 2)) ** 2 + ((k - nz / 2) / (nz / 2)) ** 2;
        out[i + nx * (j + ny * k)] = r < 1 ? 1 + Math.floor(r * 5) : 0;
      }
    }
  }
  return out;
}

interface Case {
  name: string;
  input: NiftiWriteInput;
  /** True when the affine is sheared: the qform then differs from the sform by design. */
  sheared?: boolean;
  chunkBytes?: number;
}

const CASES: Case[] = [
  {
    // DICOM axial: i → +x (L), j → +y (P), k → +z (S). In RAS the rotation is 180° about z: det +1, qfac 1,
    // quaternion (0, 0, 0, 1) whose sign is a free choice.
    name: 'uint8 label map, axial LPS',
    input: {
      data: labelVolume(20, 16, 12),
      dims: [20, 16, 12],
      affineLps: affine(I3, [0.7, 0.7, 2.5], [-120.5, -200.25, 33.75]),
      intent: 'label',
      description: 'Caliper label map',
    },
  },
  {
    name: 'int16 CT with slope/inter, oblique',
    input: {
      data: Int16Array.from({ length: 18 * 14 * 10 }, (_, n) => ((n * 37) % 3000) - 1000),
      dims: [18, 14, 10],
      affineLps: affine(mul3(rotZ(30), rotX(12)), [0.8, 0.8, 1.5], [-90.3, 12.7, -45.1]),
      scaling: { slope: 1, inter: -1024 },
    },
  },
  {
    // i → −x (towards the patient's right): det(affine) < 0 in LPS and in RAS, so qfac = −1.
    name: 'float32, negative determinant, rotated, multi-chunk gzip',
    input: {
      data: Float32Array.from({ length: 48 * 40 * 30 }, (_, n) => Math.sin(n / 7) * 1000.5),
      dims: [48, 40, 30],
      affineLps: affine(
        mul3(rotZ(-20), [
          [-1, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ]),
        [1.2, 0.9, 3],
        [50.5, -30.25, 10],
      ),
    },
    chunkBytes: 64 * 1024,
  },
  {
    name: 'RGB24',
    input: {
      data: Uint8Array.from({ length: 8 * 6 * 4 * 3 }, (_, n) => (n * 29) % 256),
      dims: [8, 6, 4],
      affineLps: affine(I3, [0.5, 0.5, 1], [0, 0, 0]),
      rgb: true,
    },
  },
  {
    // Columns not orthogonal: nibabel's qform keeps the nearest rotation, the sform the exact affine.
    name: 'uint16 4D, sheared affine',
    input: {
      data: Uint16Array.from({ length: 10 * 8 * 6 * 3 }, (_, n) => (n * 1013) % 65536),
      dims: [10, 8, 6, 3],
      affineLps: [
        [0.9, 0.15, 0.05, -10],
        [0.02, 1.1, 0.3, 20],
        [-0.1, 0.05, 2.2, 30],
        [0, 0, 0, 1],
      ],
      timeStepSeconds: 2.5,
    },
    sheared: true,
  },
];

function rawSum(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i]!;
  return s;
}

function expectClose(actual: number, want: number, rel: number): void {
  expect(Math.abs(actual - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));
}

function expectMatrixClose(actual: number[][], want: number[][], tol: number): void {
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) expect(Math.abs(actual[r]![c]! - want[r]![c]!)).toBeLessThanOrEqual(tol);
}

const NIBABEL_SCRIPT = String.raw`
import json, sys
import numpy as np
import nibabel as nib
jobs = json.load(open(sys.argv[1]))
out = []
for job in jobs:
    img = nib.load(job['path'])
    h = img.header
    raw = np.asanyarray(img.dataobj.get_unscaled()) if hasattr(img.dataobj, 'get_unscaled') else np.asanyarray(img.dataobj)
    if raw.dtype.names:  # RGB: structured (R, G, B)
        flat = np.stack([raw[n].ravel(order='F') for n in raw.dtype.names], axis=1).reshape(-1)
        scaled_sum = None
    else:
        flat = raw.ravel(order='F')
        scaled_sum = float(np.sum(img.get_fdata(dtype=np.float64)))
    ref = nib.Nifti1Header()
    ref.set_data_shape(raw.shape)
    ref.set_qform(np.array(job['affineRas']), code=1)
    # nibabel moves scl_slope/scl_inter into the array proxy on load (and blanks them in img.header).
    slope, inter = img.dataobj.slope, img.dataobj.inter
    out.append({
        'shape': list(img.shape),
        'dtype': str(img.get_data_dtype()),
        'affine': img.affine.tolist(),
        'qform': img.get_qform().tolist(),
        'sformCode': int(h['sform_code']),
        'qformCode': int(h['qform_code']),
        'intentCode': int(h['intent_code']),
        'intentName': h['intent_name'].item().decode('latin-1'),
        'descrip': h['descrip'].item().decode('latin-1'),
        'slope': float(slope),
        'inter': float(inter),
        'zooms': [float(z) for z in h.get_zooms()],
        'xyztUnits': list(h.get_xyzt_units()),
        'rawSum': float(np.sum(flat, dtype=np.float64)),
        'scaledSum': scaled_sum,
        'voxels': [float(flat[i]) for i in job['probe']],
        'refQuatern': [float(ref['quatern_b']), float(ref['quatern_c']), float(ref['quatern_d'])],
        'refQfac': float(ref['pixdim'][0]),
        'refQform': ref.get_qform().tolist(),
        'ours': [float(h['quatern_b']), float(h['quatern_c']), float(h['quatern_d']), float(h['pixdim'][0])],
    })
print(json.dumps(out))
`;

interface NibabelResult {
  shape: number[];
  dtype: string;
  affine: number[][];
  qform: number[][];
  sformCode: number;
  qformCode: number;
  intentCode: number;
  intentName: string;
  descrip: string;
  slope: number;
  inter: number;
  zooms: number[];
  xyztUnits: string[];
  rawSum: number;
  scaledSum: number | null;
  voxels: number[];
  refQuatern: number[];
  refQfac: number;
  refQform: number[][];
  ours: number[];
}

function probes(length: number): number[] {
  return [0, 1, 17, Math.floor(length / 2), length - 1];
}

describe('writeNifti / writeNiftiGz', () => {
  let dir = '';
  const written: { c: Case; path: string; gz: boolean }[] = [];
  let nib: NibabelResult[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'caliper-nifti-write-'));
    for (const [n, c] of CASES.entries()) {
      const nii = join(dir, `case${n}.nii`);
      writeFileSync(nii, writeNifti(c.input));
      written.push({ c, path: nii, gz: false });
      const gz = join(dir, `case${n}.nii.gz`);
      writeFileSync(gz, await writeNiftiGz(c.input, c.chunkBytes ? { chunkBytes: c.chunkBytes } : {}));
      written.push({ c, path: gz, gz: true });
    }
    const jobs = written.map(({ c, path }) => ({
      path,
      affineRas: rasOf(c.input.affineLps),
      probe: probes(c.input.data.length),
    }));
    const jobFile = join(dir, 'jobs.json');
    writeFileSync(jobFile, JSON.stringify(jobs));
    const res = spawnSync(PY, ['-c', NIBABEL_SCRIPT, jobFile], { encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`nibabel check failed: ${res.stderr}`);
    nib = JSON.parse(res.stdout) as NibabelResult[];
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const [n, c] of CASES.entries()) {
    for (const gz of [false, true]) {
      describe(`${c.name} (${gz ? '.nii.gz' : '.nii'})`, () => {
        const index = n * 2 + (gz ? 1 : 0);
        const expectedRas = rasOf(c.input.affineLps);

        it('reads back through readNifti with the same dims, type, voxels and affine', async () => {
          const bytes = gz ? await writeNiftiGz(c.input, c.chunkBytes ? { chunkBytes: c.chunkBytes } : {}) : writeNifti(c.input);
          const vol = readNifti([{ name: gz ? 'x.nii.gz' : 'x.nii', bytes }]);
          expect(vol.dims).toEqual(c.input.dims);
          expect(vol.dataOffset).toBe(352);
          expect(vol.affineSource).toBe('sform');
          expect(vol.sformCode).toBe(1);
          expect(vol.qformCode).toBe(1);
          for (let r = 0; r < 4; r++) {
            for (let col = 0; col < 4; col++) expectClose(vol.affineLps[r]![col]!, c.input.affineLps[r]![col]!, 1e-6);
          }
          if (!c.sheared) expectMatrixClose(vol.qformAffine, expectedRas, 1e-4);
          const nt = c.input.dims[3] ?? 1;
          const perVolume = c.input.data.length / nt;
          for (let t = 0; t < nt; t++) {
            const got = vol.getVolume(t);
            expect(got.constructor).toBe(c.input.data.constructor);
            expect(Array.from(got as ArrayLike<number>)).toEqual(Array.from(c.input.data.subarray(t * perVolume, (t + 1) * perVolume)));
          }
          expect(vol.scaling).toEqual(c.input.scaling ?? null);
        });

        it('nibabel reads the same shape, dtype, affines, codes and voxels', () => {
          const r = nib[index]!;
          const { path } = written[index]!;
          expect(path.endsWith(gz ? '.nii.gz' : '.nii')).toBe(true);
          expect(r.shape).toEqual(c.input.dims);
          const wantDtype = c.input.rgb ? "[('R', 'u1'), ('G', 'u1'), ('B', 'u1')]" : c.input.data.constructor.name.replace('Array', '').replace('Uint', 'uint').replace('Int', 'int').replace('Float', 'float');
          expect(r.dtype).toBe(wantDtype);
          expect(r.sformCode).toBe(1);
          expect(r.qformCode).toBe(1);
          expectMatrixClose(r.affine, expectedRas, 1e-4);
          // Our qform parameters are the ones nibabel's set_qform computes for the exact affine.
          expect(r.ours[3]).toBe(r.refQfac);
          if (c.sheared) expectMatrixClose(r.qform, r.refQform, 1e-5);
          const sign = Math.sign(r.ours.slice(0, 3).reduce((s, v, i) => s + v * r.refQuatern[i]!, 0)) || 1;
          r.refQuatern.forEach((q, i) => expect(Math.abs(r.ours[i]! - sign * q)).toBeLessThan(1e-6));
          if (!c.sheared) expectMatrixClose(r.qform, expectedRas, 1e-4);
          expect(r.intentCode).toBe(c.input.intent === 'label' ? 1002 : 0);
          expect(r.intentName).toBe(c.input.intent === 'label' ? 'Labels' : '');
          expect(r.descrip).toBe(c.input.description ?? '');
          expect(r.slope).toBe(c.input.scaling?.slope ?? 1);
          expect(r.inter).toBe(c.input.scaling?.inter ?? 0);
          expect(r.xyztUnits).toEqual(c.input.timeStepSeconds ? ['mm', 'sec'] : ['mm', 'unknown']);
          if (c.input.timeStepSeconds) expect(r.zooms[3]).toBe(c.input.timeStepSeconds);
          const sum = rawSum(c.input.data);
          expectClose(r.rawSum, sum, 1e-9);
          if (c.input.scaling) expectClose(r.scaledSum!, sum * c.input.scaling.slope + c.input.data.length * c.input.scaling.inter, 1e-9);
          const flat = Array.from(c.input.data as ArrayLike<number>);
          expect(r.voxels).toEqual(probes(flat.length).map((i) => flat[i]!));
        });
      });
    }
  }

  it('the .nii.gz is one gzip member whose content is exactly the .nii, readable by zlib and Python gzip', async () => {
    const c = CASES[2]!;
    const nii = writeNifti(c.input);
    for (const opts of [{}, { chunkBytes: 64 * 1024 }, { chunkBytes: 100_000, level: 6 }]) {
      const gz = await writeNiftiGz(c.input, opts);
      expect(Buffer.from(zlibGunzipSync(gz)).equals(Buffer.from(nii))).toBe(true);
      expect(Buffer.from(fflateGunzipSync(gz)).equals(Buffer.from(nii))).toBe(true);
    }
    const path = join(dir, 'python-gzip.nii.gz');
    writeFileSync(path, await writeNiftiGz(c.input, { chunkBytes: 64 * 1024 }));
    const res = spawnSync(PY, ['-c', 'import gzip,hashlib,sys; print(hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())', path], {
      encoding: 'utf8',
    });
    const { createHash } = await import('node:crypto');
    expect(res.stdout.trim()).toBe(createHash('sha256').update(nii).digest('hex'));
  });

  it('why one member: fflate (our reader) stops after the first member of a multi-member gzip file', () => {
    const twoMembers = Buffer.concat([zlibGzipSync(Buffer.from('first ')), zlibGzipSync(Buffer.from('second'))]);
    expect(zlibGunzipSync(twoMembers).toString()).toBe('first second');
    expect(Buffer.from(fflateGunzipSync(twoMembers)).toString()).not.toBe('first second');
  });

  it('compresses a label map about as well as a one-shot gzip at the same level', async () => {
    const input: NiftiWriteInput = { data: labelVolume(128, 128, 64), dims: [128, 128, 64], affineLps: affine(I3, [1, 1, 1], [0, 0, 0]) };
    const ours = await writeNiftiGz(input, { chunkBytes: 64 * 1024 });
    const oneShot = zlibGzipSync(writeNifti(input), { level: 1 });
    expect(ours.length).toBeLessThan(oneShot.length * 1.05);
  });
});

describe('niftiHeader', () => {
  const base: NiftiWriteInput = { data: new Uint8Array(24), dims: [2, 3, 4], affineLps: affine(I3, [1, 1, 1], [0, 0, 0]) };

  it('is 352 bytes: sizeof_hdr 348, magic n+1, vox_offset 352, zero extension flag', () => {
    const h = niftiHeader(base);
    const v = new DataView(h.buffer, h.byteOffset, h.byteLength);
    expect(h.length).toBe(352);
    expect(v.getInt32(0, true)).toBe(348);
    expect(Array.from(h.subarray(344, 348))).toEqual([0x6e, 0x2b, 0x31, 0]);
    expect(v.getFloat32(108, true)).toBe(352);
    expect(Array.from(h.subarray(348, 352))).toEqual([0, 0, 0, 0]);
    expect(v.getInt16(40, true)).toBe(3);
    expect(v.getInt16(70, true)).toBe(2);
    expect(v.getInt16(72, true)).toBe(8);
  });

  it('keeps descrip to 79 printable ASCII characters', () => {
    const h = niftiHeader({ ...base, description: `Zürich ✓ ${'x'.repeat(100)}` });
    const field = h.subarray(148, 228);
    expect(new TextDecoder('latin1').decode(field.subarray(0, 9))).toBe('Z?rich ? ');
    expect(field[78]).toBe(0x78);
    expect(field[79]).toBe(0);
  });

  it('refuses inconsistent input with a NiftiError', () => {
    expect(() => niftiHeader({ ...base, data: new Uint8Array(23) })).toThrow(NiftiError);
    expect(() => niftiHeader({ ...base, rgb: true, data: new Uint16Array(72) })).toThrow(NiftiError);
    expect(() => niftiHeader({ ...base, dims: [2, 3] })).toThrow(NiftiError);
    expect(() => niftiHeader({ ...base, affineLps: affine([[1, 1, 0], [0, 0, 0], [0, 0, 1]], [1, 1, 1], [0, 0, 0]) })).toThrow(/singular/);
    expect(() => niftiHeader({ ...base, affineLps: [[1, 0, 0, NaN], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] })).toThrow(NiftiError);
    expect(() => niftiHeader({ ...base, scaling: { slope: 0, inter: 1 } })).toThrow(NiftiError);
  });

  it('qformFromAffine gives qfac −1 for a negative determinant', () => {
    const q = qformFromAffine(affine([[-1, 0, 0], [0, 1, 0], [0, 0, 1]], [2, 3, 4], [1, 2, 3]));
    expect(q.qfac).toBe(-1);
    expect(q.zooms).toEqual([2, 3, 4]);
    expect(q.offset).toEqual([1, 2, 3]);
  });
});
