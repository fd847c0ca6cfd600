import { describe, expect, it } from 'vitest';
import { applyVoxelMapping, matchVolumeGeometry, type Dims3, type GridGeometry, type VoxelMapping } from './reorient.js';

type V3 = [number, number, number];

/** Affine from three axis vectors (mm per voxel step) and the position of voxel (0, 0, 0). */
function affine(axes: [V3, V3, V3], origin: V3): number[][] {
  return [0, 1, 2].map((r) => [axes[0][r]!, axes[1][r]!, axes[2][r]!, origin[r]!]).concat([[0, 0, 0, 1]]);
}

function point(g: GridGeometry, ijk: readonly number[]): V3 {
  const m = g.affineLps;
  return [0, 1, 2].map((r) => m[r]![0]! * ijk[0]! + m[r]![1]! * ijk[1]! + m[r]![2]! * ijk[2]! + m[r]![3]!) as V3;
}

function inverse3(m: number[][]): number[][] {
  const [a, b, c] = m[0]!;
  const [d, e, f] = m[1]!;
  const [g, h, i] = m[2]!;
  const det = a! * (e! * i! - f! * h!) - b! * (d! * i! - f! * g!) + c! * (d! * h! - e! * g!);
  return [
    [(e! * i! - f! * h!) / det, (c! * h! - b! * i!) / det, (b! * f! - c! * e!) / det],
    [(f! * g! - d! * i!) / det, (a! * i! - c! * g!) / det, (c! * d! - a! * f!) / det],
    [(d! * h! - e! * g!) / det, (b! * g! - a! * h!) / det, (a! * e! - b! * d!) / det],
  ];
}

/** The source voxel whose centre is at the LPS point p (rounded), by inverting the source affine. */
function sourceVoxelAt(g: GridGeometry, p: V3): number[] {
  const inv = inverse3(g.affineLps);
  const q = [0, 1, 2].map((r) => p[r]! - g.affineLps[r]![3]!);
  return inv.map((row) => Math.round(row[0]! * q[0]! + row[1]! * q[1]! + row[2]! * q[2]!));
}

/**
 * Independent oracle: for every target voxel, find the source voxel at the same LPS position and copy its
 * value. The label map under test must come out of applyVoxelMapping identical to this.
 */
function resampleByPosition(src: Uint16Array, source: GridGeometry, target: GridGeometry): Uint16Array {
  const [t0, t1, t2] = target.dims;
  const [s0, s1] = source.dims;
  const out = new Uint16Array(t0 * t1 * t2);
  for (let k = 0; k < t2; k++) {
    for (let j = 0; j < t1; j++) {
      for (let i = 0; i < t0; i++) {
        const [a, b, c] = sourceVoxelAt(source, point(target, [i, j, k]));
        out[i + t0 * (j + t1 * k)] = src[a! + s0 * (b! + s1 * c!)]!;
      }
    }
  }
  return out;
}

function distinctValues(n: number): Uint16Array {
  return Uint16Array.from({ length: n }, (_, i) => i + 1);
}

const SPACING: V3 = [0.7, 0.8, 2.5];
const DIMS: Dims3 = [6, 5, 4];
const ORIGIN: V3 = [-120.5, -200.25, 33.75];
/** DICOM axial image: i → +x (L), j → +y (P), k → +z (S). */
const IMAGE: GridGeometry = {
  dims: DIMS,
  affineLps: affine(
    [
      [SPACING[0], 0, 0],
      [0, SPACING[1], 0],
      [0, 0, SPACING[2]],
    ],
    ORIGIN,
  ),
};

/** The same grid, voxels stored with target axis a along source axis perm[a], reversed where flip[a]. */
function reordered(target: GridGeometry, perm: V3, flip: [boolean, boolean, boolean]): GridGeometry {
  const dims = [0, 0, 0] as unknown as Dims3;
  const axes: V3[] = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const origin = point(target, [0, 1, 2].map((a) => (flip[a] ? target.dims[a]! - 1 : 0)));
  for (let a = 0; a < 3; a++) {
    const axis = perm[a]!;
    dims[axis] = target.dims[a]!;
    const col = [0, 1, 2].map((r) => target.affineLps[r]![a]! * (flip[a] ? -1 : 1)) as V3;
    axes[axis] = col;
  }
  return { dims, affineLps: affine(axes as [V3, V3, V3], origin) };
}

function expectPlaced(source: GridGeometry, target: GridGeometry, want: VoxelMapping): void {
  const match = matchVolumeGeometry(source, target);
  expect(match.ok).toBe(true);
  if (!match.ok) return;
  expect(match.mapping).toEqual(want);
  expect(match.maxErrorMm).toBeLessThan(1e-9);
  const n = source.dims[0] * source.dims[1] * source.dims[2];
  const src = distinctValues(n);
  const placed = applyVoxelMapping(src, source.dims, match.mapping);
  expect(placed).toBeInstanceOf(Uint16Array);
  expect(Array.from(placed)).toEqual(Array.from(resampleByPosition(src, source, target)));
}

describe('matchVolumeGeometry + applyVoxelMapping', () => {
  it('identity: the same grid', () => {
    expectPlaced(IMAGE, IMAGE, { kind: 'identity' });
    const copy = applyVoxelMapping(distinctValues(120), DIMS, { kind: 'identity' });
    expect(copy[119]).toBe(120);
  });

  it('a RAS-ordered label map of the same grid (x and y reversed)', () => {
    const ras = reordered(IMAGE, [0, 1, 2], [true, true, false]);
    // Its first voxel is the image's (nx−1, ny−1, 0) corner and its axes point to −x, −y.
    expect(ras.affineLps[0]![0]).toBeCloseTo(-0.7, 12);
    expect(ras.affineLps[0]![3]).toBeCloseTo(ORIGIN[0] + 5 * 0.7, 12);
    expectPlaced(ras, IMAGE, { kind: 'permute', perm: [0, 1, 2], flip: [true, true, false] });
  });

  it('permuted axes (slices stored first) with a flip', () => {
    const src = reordered(IMAGE, [1, 2, 0], [false, false, true]);
    expect(src.dims).toEqual([4, 6, 5]);
    expectPlaced(src, IMAGE, { kind: 'permute', perm: [1, 2, 0], flip: [false, false, true] });
  });

  it('an oblique image with equal dimensions (every permutation fits the shape) picks the right one', () => {
    const t = (20 * Math.PI) / 180;
    const oblique: GridGeometry = {
      dims: [5, 5, 5],
      affineLps: affine(
        [
          [Math.cos(t) * 0.9, Math.sin(t) * 0.9, 0],
          [-Math.sin(t) * 0.9, Math.cos(t) * 0.9, 0],
          [0, 0, 1.1],
        ],
        [10, -20, 30],
      ),
    };
    const src = reordered(oblique, [2, 0, 1], [true, false, true]);
    expectPlaced(src, oblique, { kind: 'permute', perm: [2, 0, 1], flip: [true, false, true] });
  });

  it('refuses a map shifted by half a voxel, saying how far off it is', () => {
    const shifted: GridGeometry = { dims: DIMS, affineLps: IMAGE.affineLps.map((row, r) => (r === 0 ? [...row.slice(0, 3), row[3]! + 0.35] : row)) };
    const match = matchVolumeGeometry(shifted, IMAGE);
    expect(match).toEqual({ ok: false, reason: 'label map is 0.35 mm away from the image (affine mismatch)', maxErrorMm: expect.closeTo(0.35, 9) });
    // Within a looser tolerance it is accepted.
    expect(matchVolumeGeometry(shifted, IMAGE, 0.5).ok).toBe(true);
  });

  it('refuses a different spacing, reporting the worst corner', () => {
    const finer: GridGeometry = { dims: DIMS, affineLps: IMAGE.affineLps.map((row, r) => (r === 2 ? [row[0]!, row[1]!, 2.0, row[3]!] : row)) };
    const match = matchVolumeGeometry(finer, IMAGE);
    expect(match.ok).toBe(false);
    expect(match.maxErrorMm).toBeCloseTo(1.5, 9); // 3 slices × 0.5 mm at the far corner
    if (!match.ok) expect(match.reason).toBe('label map is 1.5 mm away from the image (affine mismatch)');
  });

  it('refuses a wrong shape', () => {
    const a: GridGeometry = { dims: [512, 512, 3], affineLps: IMAGE.affineLps };
    const b: GridGeometry = { dims: [512, 512, 4], affineLps: IMAGE.affineLps };
    expect(matchVolumeGeometry(a, b)).toEqual({
      ok: false,
      reason: 'label map shape 512×512×3 does not match the image 512×512×4',
      maxErrorMm: Infinity,
    });
  });

  it('refuses unusable input', () => {
    const bad: GridGeometry = { dims: DIMS, affineLps: [[1, 0, 0, NaN], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] };
    expect(matchVolumeGeometry(bad, IMAGE)).toMatchObject({ ok: false, reason: 'label map affine is not a 4×4 matrix of finite numbers' });
    expect(matchVolumeGeometry({ dims: [0, 1, 1], affineLps: IMAGE.affineLps }, IMAGE).ok).toBe(false);
    expect(() => applyVoxelMapping(new Uint8Array(5), [2, 2, 2], { kind: 'identity' })).toThrow(RangeError);
    expect(() => applyVoxelMapping(new Uint8Array(8), [2, 2, 2], { kind: 'permute', perm: [0, 0, 1], flip: [false, false, false] })).toThrow(RangeError);
  });
});

describe('applyVoxelMapping', () => {
  it('matches a brute-force index formula for every permutation and flip, keeping the array type', () => {
    const dims: Dims3 = [4, 3, 2];
    const src = Int32Array.from({ length: 24 }, (_, i) => i * 7 - 50);
    const perms: V3[] = [
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ];
    for (const perm of perms) {
      for (let bits = 0; bits < 8; bits++) {
        const flip = [0, 1, 2].map((a) => ((bits >> a) & 1) === 1) as [boolean, boolean, boolean];
        const out = applyVoxelMapping(src, dims, { kind: 'permute', perm, flip });
        expect(out).toBeInstanceOf(Int32Array);
        const td = perm.map((axis) => dims[axis]!);
        for (let k = 0; k < td[2]!; k++) {
          for (let j = 0; j < td[1]!; j++) {
            for (let i = 0; i < td[0]!; i++) {
              const t = [i, j, k];
              const s = [0, 0, 0];
              for (let a = 0; a < 3; a++) s[perm[a]!] = flip[a] ? dims[perm[a]!]! - 1 - t[a]! : t[a]!;
              expect(out[i + td[0]! * (j + td[1]! * k)]).toBe(src[s[0]! + dims[0] * (s[1]! + dims[1] * s[2]!)]);
            }
          }
        }
      }
    }
  });
});
