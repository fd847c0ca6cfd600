import { describe, expect, it } from 'vitest';
import {
  angleDeg,
  bidirectional,
  ellipseAreaMm2,
  ellipseMask,
  lengthMm,
  pixelPointsToVoxel,
  polygonAreaMm2,
  polygonMask,
  regionStats,
  segmentVolumeMl,
} from './measure.js';
import { planeMapping, planeToVoxel } from './mpr.js';
import type { Affine, Vec3 } from './plane-types.js';

const deg = Math.PI / 180;
const c30 = Math.cos(30 * deg);
const s30 = Math.sin(30 * deg);

/** Spacing (0.7, 0.7, 2.5) rotated 30° about LPS z: i → (cos30, sin30, 0)·0.7, j → (-sin30, cos30, 0)·0.7. */
const rotZ: Affine = [
  [0.7 * c30, -0.7 * s30, 0, -100],
  [0.7 * s30, 0.7 * c30, 0, 40],
  [0, 0, 2.5, 7],
  [0, 0, 0, 1],
];
/** Same spacing, rotated 30° about LPS x (the slice axis is oblique). */
const rotX: Affine = [
  [0.7, 0, 0, 10],
  [0, 0.7 * c30, -2.5 * s30, -20],
  [0, 0.7 * s30, 2.5 * c30, 30],
  [0, 0, 0, 1],
];

describe('lengths and angles', () => {
  it('length between voxels of an anisotropic oblique volume, by hand', () => {
    // (0,0,0) → (3,4,2): in-plane 0.7·5 = 3.5 mm, through-plane 2·2.5 = 5 mm, orthogonal
    expect(lengthMm(rotZ, [0, 0, 0], [3, 4, 2])).toBeCloseTo(Math.sqrt(3.5 * 3.5 + 25), 12);
    expect(lengthMm(rotX, [0, 0, 0], [3, 4, 2])).toBeCloseTo(Math.sqrt(3.5 * 3.5 + 25), 12);
    // along j only on rotX: 10 voxels · 0.7 mm
    expect(lengthMm(rotX, [5, 0, 9], [5, 10, 9])).toBeCloseTo(7, 12);
    // no affine: pixel units
    expect(lengthMm(null, [0, 0, 0], [3, 4, 0])).toBe(5);
  });

  it('3-4-5 triangle angles', () => {
    expect(angleDeg(null, [3, 0, 0], [0, 0, 0], [0, 4, 0])).toBeCloseTo(90, 12);
    expect(angleDeg(null, [4, 0, 0], [0, 0, 0], [4, 3, 0])).toBeCloseTo(Math.atan2(3, 4) / deg, 12); // 36.87°
    // isotropic 1 mm affine rotated about x: angles are preserved
    const iso: Affine = [
      [1, 0, 0, 0],
      [0, c30, -s30, 0],
      [0, s30, c30, 0],
      [0, 0, 0, 1],
    ];
    expect(angleDeg(iso, [4, 0, 0], [0, 0, 0], [4, 3, 0])).toBeCloseTo(36.86989764584402, 10);
    // anisotropy changes angles: voxels (1,0,0) and (0,0,1) on rotZ are still at 90°, but
    // the diagonal (1,0,1) makes atan(2.5/0.7) with i
    expect(angleDeg(rotZ, [1, 0, 1], [0, 0, 0], [1, 0, 0])).toBeCloseTo(Math.atan2(2.5, 0.7) / deg, 12);
    expect(angleDeg(rotZ, [0, 0, 0], [0, 0, 0], [1, 0, 0])).toBeNaN();
  });

  it('bidirectional gives both axes in mm', () => {
    const r = bidirectional(rotZ, [0, 0, 3], [10, 0, 3], [5, -2, 3], [5, 2, 3]);
    expect(r.long).toBeCloseTo(7, 12);
    expect(r.short).toBeCloseTo(2.8, 12);
  });
});

describe('areas and volumes', () => {
  it('right triangle on a slice and on an oblique through-plane', () => {
    // legs 4·0.7 = 2.8 and 3·0.7 = 2.1 → 2.94 mm²
    expect(polygonAreaMm2(rotZ, [[0, 0, 5], [4, 0, 5], [0, 3, 5]])).toBeCloseTo(2.94, 12);
    // legs along i (2.8) and k (2·2.5 = 5) of rotX → 7 mm²
    expect(polygonAreaMm2(rotX, [[0, 0, 0], [4, 0, 0], [0, 0, 2]])).toBeCloseTo(7, 12);
    // a 10×10 voxel square, clockwise order, far from the origin
    expect(polygonAreaMm2(rotX, [[100, 50, 3], [100, 60, 3], [110, 60, 3], [110, 50, 3]])).toBeCloseTo(49, 10);
    expect(polygonAreaMm2(null, [[0, 0, 0], [4, 0, 0], [0, 3, 0]])).toBe(6);
    expect(polygonAreaMm2(rotX, [[0, 0, 0], [1, 1, 1]])).toBe(0);
  });

  it('ellipse area uses the plane pixel area', () => {
    const cor = planeMapping([64, 64, 20], rotX, 'coronal');
    expect(ellipseAreaMm2(cor, 10, 4)).toBeCloseTo(Math.PI * 10 * 4 * 0.7 * 2.5, 10);
    const flat = planeMapping([64, 64, 1], null, 'axial');
    expect(ellipseAreaMm2(flat, 2, 3)).toBeCloseTo(6 * Math.PI, 12);
  });

  it('segment volume in mL', () => {
    expect(segmentVolumeMl(1000, rotX)).toBeCloseTo(1.225, 12);
    expect(segmentVolumeMl(0, rotZ)).toBe(0);
  });

  it('pixel points → voxel indices agree with planeToVoxel and measure in mm', () => {
    const cor = planeMapping([64, 48, 20], rotX, 'coronal');
    const pts: [number, number][] = [
      [2.5, 3.5],
      [12.5, 3.5],
    ];
    const vox = pixelPointsToVoxel(cor, 7, pts);
    expect(vox).toEqual(pts.map(([x, y]) => planeToVoxel(cor, x, y, 7)));
    expect(vox[0]![1]).toBe(7);
    expect(lengthMm(rotX, vox[0] as Vec3, vox[1] as Vec3)).toBeCloseTo(7, 12);
  });
});

describe('regionStats', () => {
  const values = [1, 2, 3, 4, 5, 6]; // 3 wide, 2 high

  it('with a mask (hand example)', () => {
    const s = regionStats(values, 3, 2, new Uint8Array([1, 0, 1, 0, 1, 0]));
    expect(s.count).toBe(3);
    expect(s.mean).toBeCloseTo(3, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect([s.min, s.max]).toEqual([1, 5]);
  });

  it('with a predicate on pixel indices', () => {
    const s = regionStats(values, 3, 2, (x) => x >= 1); // 2, 3, 5, 6
    expect(s.count).toBe(4);
    expect(s.mean).toBeCloseTo(4, 12);
    expect(s.std).toBeCloseTo(Math.sqrt(2.5), 12);
    expect([s.min, s.max]).toEqual([2, 6]);
  });

  it('empty region and CT-like offsets', () => {
    const empty = regionStats(values, 3, 2, () => false);
    expect(empty.count).toBe(0);
    expect(empty.mean).toBeNaN();
    const ct = new Int16Array([-1024, -1022, -1020, -1018]);
    const s = regionStats(ct, 2, 2, () => true);
    expect(s.mean).toBe(-1021);
    expect(s.std).toBeCloseTo(Math.sqrt(5), 12);
    expect(() => regionStats(values, 4, 2, () => true)).toThrow(/values/);
  });
});

describe('masks', () => {
  const count = (m: Uint8Array): number => m.reduce((a, b) => a + b, 0);

  it('a square covers exactly the pixels whose centres are inside', () => {
    const m = polygonMask(8, 8, [
      [1, 1],
      [4, 1],
      [4, 4],
      [1, 4],
    ]);
    expect(count(m)).toBe(9);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) expect(m[y * 8 + x]).toBe(x >= 1 && x <= 3 && y >= 1 && y <= 3 ? 1 : 0);
    // a square on pixel centres: left/top edges inside, right/bottom outside → 4×4
    expect(count(polygonMask(10, 10, [[2.5, 2.5], [6.5, 2.5], [6.5, 6.5], [2.5, 6.5]]))).toBe(16);
    // clipped at the image border
    expect(count(polygonMask(4, 4, [[-5, -5], [10, -5], [10, 10], [-5, 10]]))).toBe(16);
  });

  it('matches a brute-force even-odd test on a concave, self-crossing polygon', () => {
    const poly: [number, number][] = [
      [1.2, 0.3],
      [17.7, 4.1],
      [3.3, 9.9],
      [15.2, 14.6],
      [0.4, 18.8],
      [9.1, 6.2],
    ];
    const w = 20, h = 20;
    const m = polygonMask(w, h, poly);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const px = x + 0.5, py = y + 0.5;
        let inside = false;
        for (let a = 0, b = poly.length - 1; a < poly.length; b = a++) {
          const [xa, ya] = poly[a]!;
          const [xb, yb] = poly[b]!;
          if (ya > py !== yb > py && px < ((xb - xa) * (py - ya)) / (yb - ya) + xa) inside = !inside;
        }
        expect(m[y * w + x]).toBe(inside ? 1 : 0);
      }
    }
  });

  it('polygonMask on 512×512 is a scanline fill', () => {
    const pts: [number, number][] = [];
    for (let t = 0; t < 200; t++) pts.push([256 + 200 * Math.cos((t / 200) * 2 * Math.PI), 256 + 200 * Math.sin((t / 200) * 2 * Math.PI)]);
    const m = polygonMask(512, 512, pts);
    // area of the inscribed 200-gon ≈ π·200²·(1 - small)
    const area = 0.5 * 200 * 200 * 200 * Math.sin((2 * Math.PI) / 200);
    expect(Math.abs(count(m) - area) / area).toBeLessThan(0.01);
  });

  it('ellipse mask matches the centre test', () => {
    const w = 15, h = 11;
    const m = ellipseMask(w, h, 7.2, 5.1, 5.5, 3.3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const dx = (x + 0.5 - 7.2) / 5.5, dy = (y + 0.5 - 5.1) / 3.3;
        expect(m[y * w + x]).toBe(dx * dx + dy * dy <= 1 ? 1 : 0);
      }
    }
    expect(count(ellipseMask(5, 5, 2.5, 2.5, 0, 2))).toBe(0);
  });
});
