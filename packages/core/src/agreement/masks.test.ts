import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  assd,
  dice,
  hausdorff,
  hd95,
  iou,
  labelMask,
  percentile,
  segmentationMetrics,
  surfaceDice,
  surfaceDistances,
  type Mask,
  type MaskShape,
  type MaskSpacing,
} from './masks.js';
import { seededRandom } from '../../test/random.js';

const PYTHON = '/usr/bin/python3';

/** scipy reference: same surface definition, EDT of ~surface_b sampled at surface_a, numpy percentiles. */
const REFERENCE = `
import json, sys
import numpy as np
from scipy.ndimage import binary_erosion, distance_transform_edt, generate_binary_structure

def surface(m):
    st = generate_binary_structure(m.ndim, 1)
    return m & ~binary_erosion(m, structure=st, border_value=0)

def directed(sa, sb, spacing):
    if not sa.any():
        return np.zeros(0)
    if not sb.any():
        return np.full(int(sa.sum()), np.inf)
    dt = distance_transform_edt(~sb, sampling=spacing)
    # x-fastest order = Fortran order of an (nx, ny, nz) array
    return dt.ravel(order='F')[np.flatnonzero(sa.ravel(order='F'))]

def fin(x):
    return None if not np.isfinite(x) else float(x)

out = []
for c in json.load(sys.stdin):
    shape = tuple(c['shape'])
    a = np.array(c['a'], dtype=bool).reshape(shape, order='F')
    b = np.array(c['b'], dtype=bool).reshape(shape, order='F')
    sp = c['spacing']
    sa, sb = surface(a), surface(b)
    ab, ba = directed(sa, sb, sp), directed(sb, sa, sp)
    inter = int((a & b).sum()); na = int(a.sum()); nb = int(b.sum())
    r = {
        'ab': [fin(x) for x in ab], 'ba': [fin(x) for x in ba],
        'dice': 2 * inter / (na + nb) if na + nb else 1.0,
        'iou': inter / int((a | b).sum()) if (a | b).any() else 1.0,
    }
    if len(ab) and len(ba):
        all_d = np.concatenate([ab, ba])
        r['hd'] = float(max(ab.max(), ba.max()))
        r['hd95'] = float(max(np.percentile(ab, 95), np.percentile(ba, 95)))
        r['assd'] = float(all_d.mean())
        r['sdice'] = [float((all_d <= t).sum() / len(all_d)) for t in c['tolerances']]
    out.append(r)
json.dump(out, sys.stdout)
`;

interface RefResult {
  ab: (number | null)[];
  ba: (number | null)[];
  dice: number;
  iou: number;
  hd?: number;
  hd95?: number;
  assd?: number;
  sdice?: number[];
}

interface Case {
  name: string;
  a: Mask;
  b: Mask;
  spacing: MaskSpacing;
  tolerances: number[];
}

function reference(cases: Case[]): RefResult[] {
  const input = JSON.stringify(
    cases.map((c) => ({ shape: c.a.shape, a: Array.from(c.a.data), b: Array.from(c.b.data), spacing: c.spacing, tolerances: c.tolerances })),
  );
  const run = spawnSync(PYTHON, ['-c', REFERENCE], { input, encoding: 'utf8', maxBuffer: 256 << 20 });
  if (run.status !== 0) throw new Error(`reference failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as RefResult[];
}

const mulberry32 = seededRandom;

/**
 * A union of random ellipsoids (ellipses in 2D) whose centres lie within [lo, hi) of the x
 * range, plus a little salt noise so the surfaces are irregular.
 */
function blob(shape: MaskShape, seed: number, xRange: [number, number] = [0, 1], noise = 0.01): Mask {
  const rand = mulberry32(seed);
  const [nx, ny] = shape;
  const nz = shape.length === 3 ? shape[2] : 1;
  const data = new Uint8Array(nx * ny * nz);
  const count = 1 + Math.floor(rand() * 3);
  for (let e = 0; e < count; e++) {
    const cx = (xRange[0] + rand() * (xRange[1] - xRange[0])) * nx;
    const cy = rand() * ny;
    const cz = rand() * nz;
    const rx = 1 + rand() * nx * 0.25;
    const ry = 1 + rand() * ny * 0.3;
    const rz = 1 + rand() * nz * 0.3;
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          const q = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 + (shape.length === 3 ? ((z - cz) / rz) ** 2 : 0);
          if (q <= 1) data[x + nx * (y + ny * z)] = 1;
        }
  }
  const lo = Math.floor(xRange[0] * nx);
  const hi = Math.ceil(xRange[1] * nx);
  for (let i = 0; i < data.length; i++) {
    const x = i % nx;
    if (x >= lo && x < hi && rand() < noise) data[i] = 1;
  }
  return { data, shape };
}

function points(shape: MaskShape, ...coords: number[][]): Mask {
  const [nx, ny] = shape;
  const nz = shape.length === 3 ? shape[2] : 1;
  const data = new Uint8Array(nx * ny * nz);
  for (const [x = 0, y = 0, z = 0] of coords) data[x + nx * (y + ny * z)] = 1;
  return { data, shape };
}

function expectClose(actual: ArrayLike<number>, expected: (number | null)[]): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] ?? Number.POSITIVE_INFINITY;
    const a = actual[i] as number;
    if (!Number.isFinite(e)) expect(a).toBe(e);
    else expect(Math.abs(a - e)).toBeLessThanOrEqual(1e-6);
  }
}

describe('overlap metrics', () => {
  it('computes Dice and IoU', () => {
    const a = { data: Uint8Array.from([1, 1, 1, 0, 0, 0]), shape: [3, 2] as const };
    const b = { data: Uint8Array.from([0, 1, 1, 1, 0, 0]), shape: [3, 2] as const };
    expect(dice(a, b)).toBeCloseTo(2 / 3, 15);
    expect(iou(a, b)).toBeCloseTo(0.5, 15);
  });

  it('defines both-empty as 1 and one-empty as 0', () => {
    const empty = { data: new Uint8Array(8), shape: [2, 2, 2] as const };
    const one = points([2, 2, 2], [1, 1, 1]);
    expect(dice(empty, empty)).toBe(1);
    expect(iou(empty, empty)).toBe(1);
    expect(dice(empty, one)).toBe(0);
    expect(iou(one, empty)).toBe(0);
  });

  it('treats any non-zero value as foreground and extracts labels from label maps', () => {
    const labels = { data: Int16Array.from([0, 2, 2, 5, 5, 2]), shape: [3, 2] as const };
    expect(Array.from(labelMask(labels, 2).data)).toEqual([0, 1, 1, 0, 0, 1]);
    expect(Array.from(labelMask(labels, 5).data)).toEqual([0, 0, 0, 1, 1, 0]);
    expect(dice({ data: Uint8Array.from([0, 7, 255]), shape: [3, 1] }, { data: Uint8Array.from([0, 1, 1]), shape: [3, 1] })).toBe(1);
  });

  it('rejects mismatched shapes, data and spacing', () => {
    const a = points([3, 3], [1, 1]);
    expect(() => dice(a, points([3, 4], [1, 1]))).toThrow(RangeError);
    expect(() => dice(a, { data: new Uint8Array(8), shape: [3, 3] })).toThrow(RangeError);
    expect(() => hausdorff(a, a, [1, 1, 1])).toThrow(RangeError);
    expect(() => hausdorff(a, a, [1, 0])).toThrow(RangeError);
    expect(() => surfaceDice(a, a, [1, 1], -1)).toThrow(RangeError);
  });
});

describe('surface distances, hand-checkable', () => {
  it('two single voxels 3 mm apart', () => {
    const shape = [9, 5, 4] as const;
    const a = points(shape, [2, 2, 1]);
    const b = points(shape, [5, 2, 1]);
    const spacing = [1, 0.5, 2] as const;
    expect(Array.from(surfaceDistances(a, b, spacing))).toEqual([3]);
    expect(hausdorff(a, b, spacing)).toBe(3);
    expect(hd95(a, b, spacing)).toBe(3);
    expect(assd(a, b, spacing)).toBe(3);
    expect(surfaceDice(a, b, spacing, 2.9)).toBe(0);
    expect(surfaceDice(a, b, spacing, 3)).toBe(1);
  });

  it('uses the spacing of each axis (3-4-5 in mm)', () => {
    const shape = [6, 6, 6] as const;
    const a = points(shape, [0, 0, 0]);
    const b = points(shape, [1, 2, 5]);
    // dx = 1 voxel × 3 mm, dy = 2 voxels × 2 mm, dz = 5 voxels × 1 mm
    expect(hausdorff(a, b, [3, 2, 1])).toBeCloseTo(Math.sqrt(9 + 16 + 25), 12);
    expect(hausdorff(points([5, 5], [0, 0]), points([5, 5], [1, 2]), [3, 2])).toBe(5);
  });

  it('counts only surface voxels: interior voxels of a filled square are ignored', () => {
    // 5×5 square in a 7×7 image, against its own centre voxel.
    const shape = [7, 7] as const;
    const sq = new Uint8Array(49);
    for (let y = 1; y <= 5; y++) for (let x = 1; x <= 5; x++) sq[x + 7 * y] = 1;
    const a = { data: sq, shape };
    const b = points(shape, [3, 3]);
    const d = surfaceDistances(a, b, [1, 1]);
    expect(d.length).toBe(16); // the ring of the square, not its 9 inner voxels
    expect(Math.max(...d)).toBeCloseTo(Math.SQRT2 * 2, 12);
    expect(Array.from(surfaceDistances(b, a, [1, 1]))).toEqual([2]);
  });

  it('counts voxels on the volume border as surface', () => {
    const full = { data: new Uint8Array(9).fill(1), shape: [3, 3] as const };
    expect(surfaceDistances(full, full, [1, 1]).length).toBe(8);
    const slab = { data: new Uint8Array(27).fill(1), shape: [3, 3, 3] as const };
    expect(surfaceDistances(slab, slab, [1, 1, 1]).length).toBe(26);
    const thin = { data: new Uint8Array(9).fill(1), shape: [3, 3, 1] as const };
    expect(surfaceDistances(thin, thin, [1, 1, 1]).length).toBe(9);
  });

  it('defines the empty cases', () => {
    const shape = [4, 4, 4] as const;
    const empty = { data: new Uint8Array(64), shape };
    const one = points(shape, [1, 2, 3]);
    const sp = [1, 1, 1] as const;
    expect(surfaceDistances(empty, one, sp).length).toBe(0);
    expect(Array.from(surfaceDistances(one, empty, sp))).toEqual([Infinity]);
    for (const f of [hausdorff, hd95, assd]) {
      expect(f(empty, empty, sp)).toBe(0);
      expect(f(empty, one, sp)).toBe(Infinity);
      expect(f(one, empty, sp)).toBe(Infinity);
    }
    expect(surfaceDice(empty, empty, sp, 1)).toBe(1);
    expect(surfaceDice(one, empty, sp, 1)).toBe(0);
    expect(segmentationMetrics(empty, empty, sp)).toEqual({ dice: 1, iou: 1, hd: 0, hd95: 0, assd: 0 });
    expect(segmentationMetrics(one, empty, sp)).toEqual({ dice: 0, iou: 0, hd: Infinity, hd95: Infinity, assd: Infinity });
  });

  it('identical masks are at distance 0', () => {
    const m = blob([20, 20, 10], 7);
    expect(hausdorff(m, m, [0.7, 0.7, 2.5])).toBe(0);
    expect(surfaceDice(m, m, [0.7, 0.7, 2.5], 0)).toBe(1);
  });
});

describe('percentile', () => {
  it('matches numpy linear interpolation', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([4, 1, 3, 2], 95)).toBeCloseTo(3.85, 14); // h = 2.85
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([0, 10], 0)).toBe(0);
    expect(percentile([0, 10], 100)).toBe(10);
    expect(Number.isNaN(percentile([], 95))).toBe(true);
  });
});

describe('against scipy distance_transform_edt', () => {
  const cases: Case[] = [];
  const tolerances = [0.5, 1.3, 3.1];
  const spacings3: MaskSpacing[] = [
    [0.7, 0.7, 2.5],
    [1.1, 0.45, 1.7],
    [2, 1, 0.6],
  ];
  for (let s = 0; s < 6; s++) {
    const shape: MaskShape = s < 3 ? [24, 20, 12] : [32, 28, 16];
    const spacing = spacings3[s % 3] as MaskSpacing;
    cases.push({ name: `3D random blobs #${s}`, a: blob(shape, 100 + s), b: blob(shape, 200 + s), spacing, tolerances });
    // Same ellipsoids, different noise: overlapping, nearly identical surfaces.
    cases.push({ name: `3D overlapping blobs #${s}`, a: blob(shape, 150 + s, [0, 1], 0.01), b: blob(shape, 150 + s, [0, 1], 0.03), spacing, tolerances });
    cases.push({
      name: `3D disjoint blobs #${s}`,
      a: blob(shape, 300 + s, [0.05, 0.3], 0),
      b: blob(shape, 400 + s, [0.7, 0.95], 0.002),
      spacing,
      tolerances,
    });
  }
  const spacings2: MaskSpacing[] = [
    [0.7, 2.5],
    [0.3, 0.9],
  ];
  for (let s = 0; s < 6; s++) {
    const shape: MaskShape = s % 2 ? [40, 33] : [27, 38];
    const spacing = spacings2[s % 2] as MaskSpacing;
    cases.push({ name: `2D random blobs #${s}`, a: blob(shape, 500 + s, [0, 1], 0.03), b: blob(shape, 600 + s), spacing, tolerances });
    cases.push({ name: `2D overlapping blobs #${s}`, a: blob(shape, 550 + s, [0, 1], 0), b: blob(shape, 550 + s, [0, 1], 0.04), spacing, tolerances });
    cases.push({
      name: `2D disjoint blobs #${s}`,
      a: blob(shape, 700 + s, [0.6, 0.9], 0),
      b: blob(shape, 800 + s, [0.05, 0.4], 0),
      spacing,
      tolerances,
    });
  }
  // A blob against a single voxel, a full volume against a blob, a blob against empty.
  cases.push({ name: 'blob vs single voxel', a: blob([16, 16, 8], 901), b: points([16, 16, 8], [3, 12, 7]), spacing: [0.7, 0.7, 2.5], tolerances });
  cases.push({
    name: 'full volume vs blob',
    a: { data: new Uint8Array(14 * 10 * 6).fill(1), shape: [14, 10, 6] },
    b: blob([14, 10, 6], 902),
    spacing: [0.9, 1.3, 3],
    tolerances,
  });
  cases.push({ name: 'blob vs empty', a: blob([12, 12, 6], 903), b: { data: new Uint8Array(12 * 12 * 6), shape: [12, 12, 6] }, spacing: [1, 1, 1], tolerances });

  const refs = reference(cases);

  it.each(cases.map((c, i) => [c.name, i] as const))('%s', (_name, i) => {
    const c = cases[i]!;
    const r = refs[i]!;
    const ab = surfaceDistances(c.a, c.b, c.spacing);
    const ba = surfaceDistances(c.b, c.a, c.spacing);
    expectClose(ab, r.ab);
    expectClose(ba, r.ba);
    expect(Math.abs(dice(c.a, c.b) - r.dice)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(iou(c.a, c.b) - r.iou)).toBeLessThanOrEqual(1e-12);
    const m = segmentationMetrics(c.a, c.b, c.spacing);
    if (r.hd === undefined) {
      expect([m.hd, m.hd95, m.assd]).toEqual([Infinity, Infinity, Infinity]);
      return;
    }
    expect(r.hd).toBeGreaterThan(0);
    expect(Math.abs(hausdorff(c.a, c.b, c.spacing) - r.hd)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(hd95(c.a, c.b, c.spacing) - r.hd95!)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(assd(c.a, c.b, c.spacing) - r.assd!)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(m.hd - r.hd)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(m.hd95 - r.hd95!)).toBeLessThanOrEqual(1e-6);
    expect(Math.abs(m.assd - r.assd!)).toBeLessThanOrEqual(1e-6);
    c.tolerances.forEach((t, k) => {
      expect(Math.abs(surfaceDice(c.a, c.b, c.spacing, t) - r.sdice![k]!)).toBeLessThanOrEqual(1e-12);
    });
  });

  it('the disjoint cases really are disjoint and the overlapping ones overlap', () => {
    cases.forEach((c, i) => {
      if (c.name.includes('disjoint')) expect(refs[i]!.dice).toBe(0);
      if (c.name.includes('overlapping')) expect(refs[i]!.dice).toBeGreaterThan(0.5);
    });
    expect(refs.filter((r, i) => cases[i]!.name.includes('random') && r.dice > 0 && r.dice < 1).length).toBeGreaterThan(3);
  });
});
