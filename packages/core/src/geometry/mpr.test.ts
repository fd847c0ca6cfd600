import { describe, expect, it } from 'vitest';
import {
  extractPlane,
  invertAffine,
  lpsToVoxel,
  orientationLabels,
  planeIndex,
  planeMapping,
  planeToVoxel,
  sliceLineOnPlane,
  voxelToLps,
  voxelToPlane,
  voxelVolumeMm3,
  // re-exported from measure.ts through the @caliper/core/mpr entry
  lengthMm,
} from './mpr.js';
import type { Affine, PlaneAxis, PlaneMapping, Vec3, VoxelAxis } from './mpr.js';

const deg = Math.PI / 180;

/** Standard axial CT: i → patient left (+x), j → posterior (+y), k → superior or inferior. */
function axialCt(kTowardSuperior: boolean): Affine {
  const kz = kTowardSuperior ? 2.5 : -2.5;
  return [
    [0.7, 0, 0, -180],
    [0, 0.7, 0, -200],
    [0, 0, kz, 50],
    [0, 0, 0, 1],
  ];
}

/** Spacing (0.7, 0.7, 2.5), rotated 30° about the LPS x axis (an oblique acquisition). */
const c30 = Math.cos(30 * deg);
const s30 = Math.sin(30 * deg);
const oblique: Affine = [
  [0.7, 0, 0, 10],
  [0, 0.7 * c30, -2.5 * s30, -20],
  [0, 0.7 * s30, 2.5 * c30, 30],
  [0, 0, 0, 1],
];

/** DICOM coronal acquisition: IOP (1,0,0 / 0,0,-1), normal row × col = (0, 1, 0) (k → posterior). */
const coronalAcq: Affine = [
  [0.8, 0, 0, -150],
  [0, 0, 3, -40],
  [0, -0.8, 0, 120],
  [0, 0, 0, 1],
];

/** DICOM sagittal acquisition: IOP (0,1,0 / 0,0,-1), normal = (-1, 0, 0) (k → patient right). */
const sagittalAcq: Affine = [
  [0, 0, -4, 60],
  [0.9, 0, 0, -120],
  [0, -0.9, 0, 100],
  [0, 0, 0, 1],
];

describe('planeMapping', () => {
  const dims: [number, number, number] = [512, 400, 120];

  it('axial is the acquisition plane, unflipped, with column-norm spacings', () => {
    const m = planeMapping(dims, oblique, 'axial');
    expect(m).toMatchObject({ axis: 'axial', normalAxis: 2, uAxis: 0, vAxis: 1, uFlip: false, vFlip: false, width: 512, height: 400, depth: 120 });
    expect(m.pixelSpacing[0]).toBeCloseTo(0.7, 12);
    expect(m.pixelSpacing[1]).toBeCloseTo(0.7, 12);
    expect(m.sliceSpacing).toBeCloseTo(2.5, 12);
  });

  for (const sup of [true, false]) {
    it(`standard axial CT with k toward ${sup ? 'superior' : 'inferior'}: S up, R left on coronal, A left on sagittal`, () => {
      const a = axialCt(sup);
      const cor = planeMapping(dims, a, 'coronal');
      expect(cor).toMatchObject({ normalAxis: 1, uAxis: 0, vAxis: 2, uFlip: false, vFlip: sup, width: 512, height: 120, depth: 400 });
      expect(cor.pixelSpacing).toEqual([0.7, 2.5]);
      expect(cor.sliceSpacing).toBe(0.7);
      expect(orientationLabels(cor, a)).toEqual({ left: 'R', right: 'L', top: 'S', bottom: 'I' });
      // the voxel on the highest patient z is drawn on the top row
      const topVoxel = planeToVoxel(cor, 0.5, 0.5, 0);
      expect(voxelToLps(a, topVoxel)[2]).toBe(Math.max(voxelToLps(a, [0, 0, 0])[2], voxelToLps(a, [0, 0, 119])[2]));

      const sag = planeMapping(dims, a, 'sagittal');
      expect(sag).toMatchObject({ normalAxis: 0, uAxis: 1, vAxis: 2, uFlip: false, vFlip: sup, width: 400, height: 120, depth: 512 });
      expect(orientationLabels(sag, a)).toEqual({ left: 'A', right: 'P', top: 'S', bottom: 'I' });
    });
  }

  it('axial CT orientation labels: R left, L right, A top, P bottom', () => {
    const a = axialCt(true);
    expect(orientationLabels(planeMapping(dims, a, 'axial'), a)).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
  });

  it('flips u so patient right stays on screen left when i runs right-ward', () => {
    const a: Affine = [
      [-0.7, 0, 0, 0],
      [0, 0.7, 0, 0],
      [0, 0, 2.5, 0],
      [0, 0, 0, 1],
    ];
    const cor = planeMapping(dims, a, 'coronal');
    expect(cor.uFlip).toBe(true);
    expect(orientationLabels(cor, a)).toEqual({ left: 'R', right: 'L', top: 'S', bottom: 'I' });
    // the axial plane is never flipped, so here R is on the right
    expect(orientationLabels(planeMapping(dims, a, 'axial'), a).right).toBe('R');
  });

  it('coronal acquisition: the "coronal" voxel plane is a patient-axial view with A up and R left', () => {
    const cor = planeMapping(dims, coronalAcq, 'coronal');
    expect(cor.normalAxis).toBe(1);
    expect(orientationLabels(cor, coronalAcq)).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
    // the sagittal voxel plane (j = -z, k = +y) gets S up and A left: j becomes vertical
    const sag = planeMapping(dims, coronalAcq, 'sagittal');
    expect(sag).toMatchObject({ normalAxis: 0, uAxis: 2, vAxis: 1, vFlip: false, uFlip: false, width: 120, height: 400 });
    expect(orientationLabels(sag, coronalAcq)).toEqual({ left: 'A', right: 'P', top: 'S', bottom: 'I' });
    expect(sag.pixelSpacing).toEqual([3, 0.8]);
  });

  it('sagittal acquisition: S up where the plane contains the S/I axis, otherwise A up', () => {
    const sag = planeMapping(dims, sagittalAcq, 'sagittal');
    expect(sag).toMatchObject({ normalAxis: 0, uAxis: 2, vAxis: 1, width: 120, height: 400 });
    expect(orientationLabels(sag, sagittalAcq)).toEqual({ left: 'R', right: 'L', top: 'S', bottom: 'I' });
    const cor = planeMapping(dims, sagittalAcq, 'coronal');
    expect(cor).toMatchObject({ normalAxis: 1, uAxis: 2, vAxis: 0 });
    expect(orientationLabels(cor, sagittalAcq)).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
  });

  it('oblique labels combine the two strongest directions only above 0.3', () => {
    const a = axialCt(true);
    const rot = (t: number): Affine => [
      [Math.cos(t), -Math.sin(t), 0, 0],
      [Math.sin(t), Math.cos(t), 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    const ax = planeMapping(dims, a, 'axial');
    // i = (cos 30°, sin 30°, 0): main L, secondary P at 0.577 > 0.3
    expect(orientationLabels(ax, rot(30 * deg)).right).toBe('LP');
    expect(orientationLabels(ax, rot(30 * deg)).left).toBe('RA');
    // 10°: tan 10° = 0.176 < 0.3 → single letter
    expect(orientationLabels(ax, rot(10 * deg))).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P' });
  });

  it('without an affine: 1 mm spacing, k up on coronal/sagittal, empty labels', () => {
    for (const axis of ['axial', 'coronal', 'sagittal'] as PlaneAxis[]) {
      const m = planeMapping([64, 32, 10], null, axis);
      expect(m.pixelSpacing).toEqual([1, 1]);
      expect(m.sliceSpacing).toBe(1);
      expect(m.uFlip).toBe(false);
      expect(m.vFlip).toBe(axis !== 'axial');
      expect(orientationLabels(m, null)).toEqual({ left: '', right: '', top: '', bottom: '' });
    }
    expect(planeMapping([64, 32, 10], null, 'sagittal')).toMatchObject({ uAxis: 1, vAxis: 2, width: 32, height: 10, depth: 64 });
  });

  it('pixelAreaMm2 is |u × v| for a gantry-tilted (sheared) affine', () => {
    const tilted: Affine = [
      [0.7, 0, 0, 0],
      [0, 0.7, 0.5, 0],
      [0, 0, 2.5, 0],
      [0, 0, 0, 1],
    ];
    const sag = planeMapping(dims, tilted, 'sagittal');
    expect(sag.pixelSpacing[1]).toBeCloseTo(Math.sqrt(6.5), 12);
    expect(sag.pixelAreaMm2).toBeCloseTo(0.7 * 2.5, 12);
  });

  it('rejects bad dims', () => {
    expect(() => planeMapping([0, 2, 2], null, 'axial')).toThrow(/dims/);
  });
});

/** Every axis assignment and flip combination on a 7×5×4 grid. */
function allMappings(dims: [number, number, number]): PlaneMapping[] {
  const out: PlaneMapping[] = [];
  const perms: [VoxelAxis, VoxelAxis, VoxelAxis][] = [
    [2, 0, 1],
    [1, 0, 2],
    [0, 1, 2],
    [1, 2, 0],
    [0, 2, 1],
  ];
  for (const [n, u, v] of perms) {
    for (const uFlip of [false, true]) {
      for (const vFlip of [false, true]) {
        out.push({
          axis: n === 2 ? 'axial' : n === 1 ? 'coronal' : 'sagittal',
          normalAxis: n,
          uAxis: u,
          vAxis: v,
          uFlip,
          vFlip,
          width: dims[u],
          height: dims[v],
          depth: dims[n],
          pixelSpacing: [1, 1],
          sliceSpacing: 1,
        });
      }
    }
  }
  return out;
}

describe('plane ↔ voxel', () => {
  const dims: [number, number, number] = [7, 5, 4];

  it('pixel-corner convention: voxel n ↔ x = n + 0.5, flipped x = size - 1 - n + 0.5', () => {
    const m = planeMapping(dims, null, 'axial');
    expect(voxelToPlane(m, 3, 2, 1)).toEqual({ x: 3.5, y: 2.5, slice: 1 });
    const cor = planeMapping(dims, null, 'coronal'); // v = k, flipped
    expect(voxelToPlane(cor, 3, 2, 1)).toEqual({ x: 3.5, y: 4 - 1 - 1 + 0.5, slice: 2 });
    expect(planeToVoxel(cor, 0, 0, 2)).toEqual([-0.5, 2, 3.5]);
  });

  it('round trips exactly for every axis and flip', () => {
    for (const m of allMappings(dims)) {
      for (const [x, y, s] of [
        [0, 0, 0],
        [3.25, 1.75, 2],
        [m.width, m.height, m.depth - 1],
        [0.5, 4.5, 1],
      ] as const) {
        const v = planeToVoxel(m, x, y, s);
        expect(voxelToPlane(m, v[0], v[1], v[2])).toEqual({ x, y, slice: s });
      }
      const p = voxelToPlane(m, 1, 2, 3);
      expect(planeToVoxel(m, p.x, p.y, p.slice)).toEqual([1, 2, 3]);
    }
  });

  it('voxel ↔ LPS round trip to 1e-9 on an oblique anisotropic affine', () => {
    for (const v of [
      [0, 0, 0],
      [511, 511, 299],
      [12.3, -4.5, 77.25],
    ] as Vec3[]) {
      const back = lpsToVoxel(oblique, voxelToLps(oblique, v));
      for (let c = 0; c < 3; c++) expect(Math.abs(back[c]! - v[c]!)).toBeLessThan(1e-9);
    }
    // hand check: voxel (0, 4, 2) is 4·0.7 along (0, cos30, sin30) plus 2·2.5 along (0, -sin30, cos30)
    const p = voxelToLps(oblique, [0, 4, 2]);
    expect(p[0]).toBeCloseTo(10, 12);
    expect(p[1]).toBeCloseTo(-20 + 2.8 * c30 - 5 * s30, 12);
    expect(p[2]).toBeCloseTo(30 + 2.8 * s30 + 5 * c30, 12);
    expect(lengthMm(oblique, [0, 0, 0], [0, 4, 2])).toBeCloseTo(Math.sqrt(2.8 * 2.8 + 25), 12);
  });

  it('inverse of a 4x4 and a clear error on a singular affine', () => {
    const inv = invertAffine(oblique);
    expect(inv[3]).toEqual([0, 0, 0, 1]);
    const singular: Affine = [
      [0.7, 0, 0.7, 0],
      [0, 0.7, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 1],
    ];
    expect(() => lpsToVoxel(singular, [1, 2, 3])).toThrow(/singular/);
    expect(() => lpsToVoxel([[1, 0, 0]], [1, 2, 3])).toThrow(/4x4/);
  });

  it('voxel volume is |det| of the 3x3 (rotation-invariant)', () => {
    expect(voxelVolumeMm3(oblique)).toBeCloseTo(0.7 * 0.7 * 2.5, 12);
    expect(voxelVolumeMm3(axialCt(false))).toBeCloseTo(1.225, 12);
  });
});

describe('extractPlane / planeIndex', () => {
  const dims: [number, number, number] = [7, 5, 4];
  const n = dims[0] * dims[1] * dims[2];
  // deterministic pseudo-random volume (LCG)
  let seed = 12345;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed;
  };
  const vol = new Int16Array(n);
  for (let p = 0; p < n; p++) vol[p] = (rand() % 4000) - 2000;

  /** Naive reference: for each plane pixel centre, find the voxel through planeToVoxel. */
  function naive(m: PlaneMapping, slice: number): number[] {
    const out: number[] = [];
    for (let y = 0; y < m.height; y++) {
      for (let x = 0; x < m.width; x++) {
        const [i, j, k] = planeToVoxel(m, x + 0.5, y + 0.5, slice);
        out.push(vol[i + j * dims[0] + k * dims[0] * dims[1]]!);
      }
    }
    return out;
  }

  it('matches a naive triple loop for all three axes (with and without an affine)', () => {
    const mappings = [
      ...(['axial', 'coronal', 'sagittal'] as PlaneAxis[]).flatMap((a) => [planeMapping(dims, null, a), planeMapping(dims, axialCt(true), a), planeMapping(dims, sagittalAcq, a)]),
      ...allMappings(dims),
    ];
    for (const m of mappings) {
      for (let s = 0; s < m.depth; s++) {
        const typed = new Float32Array(m.width * m.height);
        extractPlane(m, vol, dims, s, typed);
        const plain: number[] = new Array<number>(m.width * m.height).fill(0);
        extractPlane(m, Array.from(vol), dims, s, plain);
        const ref = naive(m, s);
        expect(Array.from(typed)).toEqual(ref);
        expect(plain).toEqual(ref);
        for (let y = 0; y < m.height; y++) {
          for (let x = 0; x < m.width; x++) expect(vol[planeIndex(m, dims, x, y, s)]).toBe(ref[y * m.width + x]);
        }
      }
    }
  });

  it('rejects a slice out of range and a short output', () => {
    const m = planeMapping(dims, null, 'coronal');
    expect(() => extractPlane(m, vol, dims, 5, new Int16Array(28))).toThrow(/slice 5/);
    expect(() => extractPlane(m, vol, dims, 0, new Int16Array(3))).toThrow(/output/);
    expect(() => extractPlane(m, vol, [5, 7, 4], 0, new Int16Array(28))).toThrow(/does not match/);
  });
});

describe('sliceLineOnPlane', () => {
  const dims: [number, number, number] = [20, 16, 10];
  const a = axialCt(true);
  const ax = planeMapping(dims, a, 'axial');
  const cor = planeMapping(dims, a, 'coronal');
  const sag = planeMapping(dims, a, 'sagittal');

  it('gives lines through the voxel centres of the other slice, null for parallel views', () => {
    expect(sliceLineOnPlane(ax, cor, 7)).toEqual({ orientation: 'horizontal', at: 7.5 });
    expect(sliceLineOnPlane(ax, sag, 3)).toEqual({ orientation: 'vertical', at: 3.5 });
    // coronal has k flipped (S up): slice 2 of 10 is drawn at y = 10 - 1 - 2 + 0.5
    expect(sliceLineOnPlane(cor, ax, 2)).toEqual({ orientation: 'horizontal', at: 7.5 });
    expect(sliceLineOnPlane(ax, planeMapping(dims, null, 'axial'), 4)).toBeNull();
  });

  it('agrees with voxelToPlane for every pair of views and flips', () => {
    const maps = allMappings(dims);
    for (const t of maps) {
      for (const o of maps) {
        const line = sliceLineOnPlane(t, o, 3);
        if (t.normalAxis === o.normalAxis) {
          expect(line).toBeNull();
          continue;
        }
        // a voxel on the other view's slice 3
        const v: Vec3 = [1, 2, 4];
        v[o.normalAxis] = 3;
        const p = voxelToPlane(t, v[0], v[1], v[2]);
        expect(line!.at).toBe(line!.orientation === 'vertical' ? p.x : p.y);
      }
    }
  });
});
