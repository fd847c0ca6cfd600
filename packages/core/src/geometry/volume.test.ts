import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { assembleSeries, lpsFromRas, lpsToVoxel, rasFromLps, voxelToLps } from './volume.js';
import type { Matrix4, SeriesGeometry, SliceGeometry, Vec3 } from './volume.js';

type Iop = [number, number, number, number, number, number];

const AXIAL: Iop = [1, 0, 0, 0, 1, 0];

function slice(id: string, ipp: Vec3 | undefined, extra: Partial<SliceGeometry> = {}): SliceGeometry {
  return {
    id,
    imagePositionPatient: ipp,
    imageOrientationPatient: AXIAL,
    pixelSpacing: [0.5, 0.8],
    rows: 4,
    columns: 3,
    ...extra,
  };
}

function codes(g: SeriesGeometry): string[] {
  return g.issues.map((i) => i.code).sort();
}

function expectClose(a: readonly number[], b: readonly number[], tol = 1e-4): void {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThanOrEqual(tol));
}

/** Every slice's IPP must equal affine · (0, 0, k). */
function expectIppsOnGrid(g: SeriesGeometry, slices: readonly SliceGeometry[]): void {
  const byId = new Map(slices.map((s) => [s.id, s]));
  g.order.forEach((id, k) => expectClose(voxelToLps(g.affineLps!, [0, 0, k]), byId.get(id)!.imagePositionPatient!));
}

function shuffle<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('assembleSeries: synthetic volumes', () => {
  it('sorts a shuffled axial series along the normal and builds the affine (row spacing first)', () => {
    const slices = [0, 1, 2, 3, 4, 5].map((k) => slice(`s${k}`, [-10, 20, -5 + 2 * k], { instanceNumber: 6 - k }));
    const g = assembleSeries(shuffle(slices, 7));
    expect(g.kind).toBe('volume');
    expect(g.order).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
    expect(g.issues).toEqual([]);
    expect(g.dims).toEqual([3, 4, 6]);
    expectClose(g.spacing!, [0.8, 0.5, 2], 1e-12);
    expectClose(g.affineLps!.flat(), [0.8, 0, 0, -10, 0, 0.5, 0, 20, 0, 0, 2, -5, 0, 0, 0, 1], 1e-12);
    expectIppsOnGrid(g, slices);
    // i runs along the row cosine scaled by the column spacing, j along the column cosine by the row spacing.
    expectClose(voxelToLps(g.affineLps!, [2, 3, 1]), [-10 + 1.6, 20 + 1.5, -3]);
  });

  it('handles an oblique orientation and round-trips voxel ↔ LPS', () => {
    const a = (30 * Math.PI) / 180;
    const b = (20 * Math.PI) / 180;
    // Row cosine rotated about z, column cosine tilted out of plane, orthonormal.
    const row: Vec3 = [Math.cos(a), Math.sin(a), 0];
    const col0: Vec3 = [-Math.sin(a), Math.cos(a), 0];
    const z: Vec3 = [0, 0, 1];
    const col: Vec3 = [col0[0] * Math.cos(b) + z[0] * Math.sin(b), col0[1] * Math.cos(b), Math.sin(b)];
    const n: Vec3 = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
    const iop: Iop = [...row, ...col];
    const origin: Vec3 = [12.5, -40.25, 7];
    const slices = [0, 1, 2, 3].map((k) =>
      slice(`o${k}`, [origin[0] + 1.25 * k * n[0], origin[1] + 1.25 * k * n[1], origin[2] + 1.25 * k * n[2]], {
        imageOrientationPatient: iop,
        pixelSpacing: [0.7, 0.9],
      }),
    );
    const g = assembleSeries([slices[2]!, slices[0]!, slices[3]!, slices[1]!]);
    expect(g.kind).toBe('volume');
    expect(g.issues).toEqual([]);
    expect(g.order).toEqual(['o0', 'o1', 'o2', 'o3']);
    expectIppsOnGrid(g, slices);
    expectClose(g.spacing!, [0.9, 0.7, 1.25], 1e-9);
    const m = g.affineLps!;
    expectClose([m[0]![0]!, m[1]![0]!, m[2]![0]!], row.map((v) => v * 0.9));
    expectClose([m[0]![1]!, m[1]![1]!, m[2]![1]!], col.map((v) => v * 0.7));
    const p = voxelToLps(m, [1.5, 2.25, 2.5]);
    expectClose(lpsToVoxel(m, p), [1.5, 2.25, 2.5], 1e-9);
  });

  it('sorts by the normal even when positions decrease with instance number (normal pointing -z)', () => {
    // Row = +x, column = -y → n = -z: ascending along n means descending z.
    const iop: Iop = [1, 0, 0, 0, -1, 0];
    const slices = [0, 1, 2].map((k) => slice(`c${k}`, [0, 0, 3 * k], { imageOrientationPatient: iop, instanceNumber: k + 1 }));
    const g = assembleSeries(slices);
    expect(g.order).toEqual(['c2', 'c1', 'c0']);
    expectClose([g.affineLps![0]![2]!, g.affineLps![1]![2]!, g.affineLps![2]![2]!], [0, 0, -3], 1e-12);
    expectIppsOnGrid(g, slices);
  });

  it('flags non-uniform spacing but keeps a volume', () => {
    const zs = [0, 2, 4, 7, 9];
    const g = assembleSeries(zs.map((z, k) => slice(`n${k}`, [0, 0, z])));
    expect(g.kind).toBe('volume');
    expect(codes(g)).toEqual(['non-uniform-spacing']);
    expect(g.positionsLps!.map((p) => p[2])).toEqual(zs);
    // Mean step: (9 - 0) / 4.
    expect(g.spacing![2]).toBeCloseTo(2.25, 12);
  });

  it('tolerates spacing jitter within 1 % of the smallest step, flags more', () => {
    const zs = [0, 2.5, 5.01, 7.5, 10.01]; // steps 2.5, 2.51, 2.49, 2.51: all within 1 % of the smallest
    const g = assembleSeries(zs.map((z, k) => slice(`j${k}`, [0, 0, z])));
    expect(g.issues).toEqual([]);
    const off = assembleSeries([0, 2.5, 5.01, 7.5, 10.02].map((z, k) => slice(`j${k}`, [0, 0, z])));
    expect(codes(off)).toEqual(['non-uniform-spacing']);
  });

  it('reports missing slices (a gap that is a whole multiple of the step)', () => {
    const zs = [0, 2.5, 5, 12.5, 15];
    const g = assembleSeries(zs.map((z, k) => slice(`m${k}`, [0, 0, z])));
    expect(g.kind).toBe('volume');
    expect(codes(g)).toEqual(['missing-slices']);
    expect(g.issues[0]!.message).toMatch(/^2 slice\(s\) missing in 1 gap/);
  });

  it('detects gantry tilt (positions stepping off the normal) and keeps the exact positions on the grid', () => {
    const tilt = (15 * Math.PI) / 180;
    const slices = [0, 1, 2, 3].map((k) => slice(`t${k}`, [0, 5 * k * Math.sin(tilt), 5 * k * Math.cos(tilt)]));
    const g = assembleSeries(shuffle(slices, 3));
    expect(g.kind).toBe('volume');
    expect(codes(g)).toEqual(['gantry-tilt']);
    expect(g.issues[0]!.message).toContain('15°');
    expectIppsOnGrid(g, slices);
    // The sheared affine still inverts exactly.
    expectClose(lpsToVoxel(g.affineLps!, slices[3]!.imagePositionPatient!), [0, 0, 3], 1e-9);
  });

  it('does not call a 0.3° step deviation a tilt', () => {
    const t = (0.3 * Math.PI) / 180;
    const g = assembleSeries([0, 1, 2].map((k) => slice(`u${k}`, [0, 5 * k * Math.sin(t), 5 * k * Math.cos(t)])));
    expect(g.issues).toEqual([]);
  });
});

describe('assembleSeries: stacks', () => {
  it('turns mixed orientations into a stack ordered by instance number', () => {
    const g = assembleSeries([
      slice('b', [0, 0, 0], { instanceNumber: 2 }),
      slice('a', [0, 0, 5], { instanceNumber: 1, imageOrientationPatient: [1, 0, 0, 0, 0, -1] }),
      slice('c', [0, 0, 10], { instanceNumber: 3 }),
    ]);
    expect(g.kind).toBe('stack');
    expect(g.order).toEqual(['a', 'b', 'c']);
    expect(codes(g)).toEqual(['mixed-orientation']);
    expect(g.affineLps).toBeNull();
  });

  it('calls slices at one position with different orientations projections', () => {
    const g = assembleSeries([
      slice('ax', [1, 2, 3], { instanceNumber: 1 }),
      slice('cor', [1, 2, 3], { instanceNumber: 2, imageOrientationPatient: [1, 0, 0, 0, 0, -1] }),
      slice('sag', [1, 2, 3], { instanceNumber: 3, imageOrientationPatient: [0, 1, 0, 0, 0, -1] }),
    ]);
    expect(g.kind).toBe('stack');
    expect(codes(g)).toEqual(['mixed-orientation', 'projection']);
  });

  it('keeps localizers (ImageType) as a stack even with volume-like geometry', () => {
    const g = assembleSeries(
      [0, 1, 2].map((k) => slice(`l${k}`, [0, 0, 2 * k], { instanceNumber: 3 - k, imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] })),
    );
    expect(g.kind).toBe('stack');
    expect(g.order).toEqual(['l2', 'l1', 'l0']);
    expect(codes(g)).toEqual(['projection']);
  });

  it('gives a single slice its plane geometry as a stack of one', () => {
    const g = assembleSeries([slice('only', [5, 6, 7], { imageOrientationPatient: [0, 1, 0, 0, 0, -1] })]);
    expect(g.kind).toBe('stack');
    expect(g.order).toEqual(['only']);
    expect(g.dims).toEqual([3, 4, 1]);
    expect(g.issues).toEqual([]);
    // Sagittal: n = (0,1,0) × (0,0,-1) = (-1, 0, 0), unit length by convention.
    expectClose(g.affineLps!.flat(), [0, 0, -1, 5, 0.8, 0, 0, 6, 0, -0.5, 0, 7, 0, 0, 0, 1], 1e-12);
  });

  it('keeps the plane affine of a single localizer, flagged', () => {
    const g = assembleSeries([slice('loc', [0, 0, 0], { imageType: ['ORIGINAL', 'PRIMARY', 'LOCALIZER'] })]);
    expect(g.kind).toBe('stack');
    expect(codes(g)).toEqual(['projection']);
    expect(g.affineLps).not.toBeNull();
  });

  it('reports missing IPP and falls back to a stack ordered by instance number, then id', () => {
    const g = assembleSeries([
      slice('z', [0, 0, 0], { instanceNumber: 2 }),
      slice('y', undefined, { instanceNumber: 1 }),
      slice('x', [0, 0, 4], { instanceNumber: 2 }),
      slice('w', [0, 0, 6]),
    ]);
    expect(g.kind).toBe('stack');
    expect(g.order).toEqual(['y', 'x', 'z', 'w']);
    expect(codes(g)).toEqual(['missing-geometry']);
    expect(g.issues[0]!.message).toContain('y: missing or invalid ImagePositionPatient');
    expect(g.affineLps).toBeNull();
  });

  it('rejects non-orthonormal orientations and non-positive spacing as missing geometry', () => {
    expect(codes(assembleSeries([slice('a', [0, 0, 0], { imageOrientationPatient: [1, 0, 0, 1, 0, 0] })]))).toEqual(['missing-geometry']);
    expect(codes(assembleSeries([slice('a', [0, 0, 0], { pixelSpacing: [0, 1] })]))).toEqual(['missing-geometry']);
  });

  it('reports duplicate positions and mixed dimensions as stacks', () => {
    const dup = assembleSeries([slice('a', [0, 0, 0]), slice('b', [0, 0, 2]), slice('c', [0, 0, 2])]);
    expect(dup.kind).toBe('stack');
    expect(codes(dup)).toEqual(['duplicate-position']);
    const dims = assembleSeries([slice('a', [0, 0, 0]), slice('b', [0, 0, 2], { rows: 8 })]);
    expect(dims.kind).toBe('stack');
    expect(codes(dims)).toEqual(['mixed-dimensions']);
  });

  it('flags unexpanded multi-frame instances', () => {
    const g = assembleSeries([slice('mf', [0, 0, 0], { numberOfFrames: 20 })]);
    expect(g.kind).toBe('stack');
    expect(codes(g)).toEqual(['missing-geometry']);
  });

  it('throws on empty input and repeated ids', () => {
    expect(() => assembleSeries([])).toThrow(RangeError);
    expect(() => assembleSeries([slice('a', [0, 0, 0]), slice('a', [0, 0, 1])])).toThrow(/given twice/);
  });
});

describe('affine helpers', () => {
  it('converts between LPS and RAS with diag(-1, -1, 1, 1)', () => {
    const lps: Matrix4 = [
      [0.8, 0, 0, -10],
      [0, 0.5, 0, 20],
      [0, 0, 2, -5],
      [0, 0, 0, 1],
    ];
    const ras = rasFromLps(lps);
    expect(ras).toEqual([
      [-0.8, 0, 0, 10],
      [0, -0.5, 0, -20],
      [0, 0, 2, -5],
      [0, 0, 0, 1],
    ]);
    expect(lpsFromRas(ras)).toEqual(lps);
    const p = voxelToLps(lps, [1, 2, 3]);
    const q = voxelToLps(ras, [1, 2, 3]);
    expect(q).toEqual([-p[0], -p[1], p[2]]);
  });

  it('refuses to invert a singular affine', () => {
    expect(() => lpsToVoxel([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1]], [0, 0, 0])).toThrow(/singular/);
  });
});

// ---------------------------------------------------------------- real series

const EXPECTED_URL = new URL('../../../../../shared/data/dicom/EXPECTED.json', import.meta.url);
const EXPECTED_PATH = fileURLToPath(EXPECTED_URL);

type Header = Record<string, unknown>;

function nums(v: unknown): number[] | undefined {
  if (v === undefined) return undefined;
  const arr = Array.isArray(v) ? v : [v];
  return arr.map((x) => Number(x));
}

function loadSeries(folder: string): SliceGeometry[] {
  const all = JSON.parse(readFileSync(EXPECTED_PATH, 'utf8')) as Record<string, Header>;
  const prefix = `series/${folder}/`;
  return Object.entries(all)
    .filter(([k]) => k.startsWith(prefix))
    .map(([, h]) => {
      const imageType = h.ImageType === undefined ? undefined : (Array.isArray(h.ImageType) ? h.ImageType : [h.ImageType]).map(String);
      return {
        id: String(h.SOPInstanceUID),
        imagePositionPatient: nums(h.ImagePositionPatient) as Vec3 | undefined,
        imageOrientationPatient: nums(h.ImageOrientationPatient) as Iop | undefined,
        pixelSpacing: nums(h.PixelSpacing) as [number, number] | undefined,
        rows: Number(h.Rows),
        columns: Number(h.Columns),
        instanceNumber: h.InstanceNumber === undefined ? undefined : Number(h.InstanceNumber),
        imageType,
      };
    });
}

describe('assembleSeries: real series from shared/data/dicom/series', () => {
  it('resolves EXPECTED.json next to the shared data', () => {
    expect(EXPECTED_PATH.endsWith('/shared/data/dicom/EXPECTED.json')).toBe(true);
    expect(existsSync(EXPECTED_PATH)).toBe(true);
  });

  it('pydicom_CT5N_16x16: a 5-slice volume, 2.5 mm steps, z -1.2375 … 8.7625', () => {
    const slices = loadSeries('pydicom_CT5N_16x16');
    expect(slices).toHaveLength(5);
    const g = assembleSeries(slices);
    expect(g.kind).toBe('volume');
    expect(g.issues).toEqual([]);
    expect(g.dims).toEqual([16, 16, 5]);
    expectClose(g.spacing!, [0.488281, 0.488281, 2.5], 1e-9);
    // Normal +z: ascending z, i.e. instance numbers 10 → 6.
    expect(g.order.map((id) => slices.find((s) => s.id === id)!.instanceNumber)).toEqual([10, 9, 8, 7, 6]);
    expect(g.positionsLps!.map((p) => p[2])).toEqual([-1.2375, 1.2625, 3.7625, 6.2625, 8.7625]);
    expectClose(g.affineLps!.flat(), [0.488281, 0, 0, -72.199997, 0, 0.488281, 0, -143, 0, 0, 2.5, -1.2375, 0, 0, 0, 1], 1e-9);
    expectIppsOnGrid(g, slices);
  });

  it('dwv_bbmri_MR: 6 oblique slices 9 mm apart form a regular volume', () => {
    const slices = loadSeries('dwv_bbmri_MR');
    expect(slices).toHaveLength(6);
    const g = assembleSeries(shuffle(slices, 11));
    expect(g.kind).toBe('volume');
    expect(g.issues).toEqual([]);
    expect(g.dims).toEqual([256, 256, 6]);
    expect(g.spacing![2]).toBeCloseTo(9, 6);
    // n points mostly to -x (patient right), while positions grow in x with instance number: order is reversed.
    expect(g.order.map((id) => slices.find((s) => s.id === id)!.instanceNumber)).toEqual([108, 99, 90, 81, 72, 63]);
    expectIppsOnGrid(g, slices);
  });

  it('dwv_bbmri_MR: the affine agrees with an independent numpy computation', () => {
    const python = '/usr/bin/python3';
    const g = assembleSeries(loadSeries('dwv_bbmri_MR'));
    const script = [
      'import json, sys, numpy as np',
      'd = json.load(open(sys.argv[1]))',
      "h = [v for k, v in d.items() if k.startswith('series/dwv_bbmri_MR/')]",
      "iop = np.array(h[0]['ImageOrientationPatient'], float); r, c = iop[:3], iop[3:]",
      "ps = np.array(h[0]['PixelSpacing'], float); n = np.cross(r, c)",
      "ipp = sorted((np.array(x['ImagePositionPatient'], float) for x in h), key=lambda p: p @ n)",
      'A = np.eye(4); A[:3, 0] = r * ps[1]; A[:3, 1] = c * ps[0]',
      'A[:3, 2] = (ipp[-1] - ipp[0]) / (len(ipp) - 1); A[:3, 3] = ipp[0]',
      'print(json.dumps(A.tolist()))',
    ].join('\n');
    const res = spawnSync(python, ['-c', script, EXPECTED_PATH], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const ref = JSON.parse(res.stdout) as number[][];
    expectClose(g.affineLps!.flat(), ref.flat(), 1e-9);
  });

  it('pydicom_MR700_16x16: angio projections stay a 2D stack in instance-number order', () => {
    const slices = loadSeries('pydicom_MR700_16x16');
    expect(slices).toHaveLength(7);
    const g = assembleSeries(slices);
    expect(g.kind).toBe('stack');
    expect(g.affineLps).toBeNull();
    expect(codes(g)).toEqual(['mixed-orientation']);
    expect(g.order.map((id) => slices.find((s) => s.id === id)!.instanceNumber)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // 4558.dcm is instance 1, 4467.dcm instance 4 (SOURCES.md).
    expect(g.dims).toEqual([16, 16, 7]);
  });

  it('pydicom_MR700_16x16: with the files\' ImageType (DERIVED\\SECONDARY\\PROJECTION IMAGE) it is also flagged a projection', () => {
    // EXPECTED.json does not list ImageType for these files; the value is the one pydicom reads from them.
    const slices = loadSeries('pydicom_MR700_16x16').map((s) => ({ ...s, imageType: ['DERIVED', 'SECONDARY', 'PROJECTION IMAGE'] }));
    const g = assembleSeries(slices);
    expect(g.kind).toBe('stack');
    expect(codes(g)).toEqual(['mixed-orientation', 'projection']);
  });
});

describe('stack order of frames without geometry', () => {
  it('orders sop#2 before sop#10', () => {
    const frames = [0, 1, 2, 10, 11, 3].map((f) => ({ id: `1.2.3#${f}`, rows: 4, columns: 4 }));
    const g = assembleSeries(frames);
    expect(g.kind).toBe('stack');
    expect(g.order).toEqual(['1.2.3#0', '1.2.3#1', '1.2.3#2', '1.2.3#3', '1.2.3#10', '1.2.3#11']);
  });
});
