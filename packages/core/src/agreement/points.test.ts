import { describe, expect, it } from 'vitest';
import { landmarkErrors, measurementDifference, radialErrorMm } from './points.js';

const anisotropic = [
  [2, 0, 0, -100],
  [0, 0.5, 0, 40],
  [0, 0, 3, 7.5],
  [0, 0, 0, 1],
];

// Oblique: voxel columns rotated by 30° about z, in-plane spacing 0.5 (i) and 2 (j), slice 1 mm,
// with a patient-axis flip on x (as LPS from RAS) that must not change distances.
const c30 = Math.cos(Math.PI / 6);
const s30 = Math.sin(Math.PI / 6);
const oblique = [
  [-0.5 * c30, 2 * s30, 0, 12],
  [0.5 * s30, 2 * c30, 0, -3],
  [0, 0, 1, 55],
  [0, 0, 0, 1],
];

describe('radialErrorMm', () => {
  it('is the plain Euclidean distance for an identity affine', () => {
    const id = [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 1],
    ];
    expect(radialErrorMm([0, 0, 0], [3, 4, 0], id)).toBe(5);
    expect(radialErrorMm([1, 1, 1], [1, 1, 1], id)).toBe(0);
  });

  it('scales each axis by its spacing (anisotropic)', () => {
    // Δ = (1.5, 8, 4) voxels → (3, 4, 12) mm → 13 mm; the translation does not matter.
    expect(radialErrorMm([10, 20, 5], [11.5, 28, 9], anisotropic)).toBeCloseTo(13, 12);
    // One axis only: 2 slices × 3 mm.
    expect(radialErrorMm([0, 0, 0], [0, 0, 2], anisotropic)).toBeCloseTo(6, 12);
  });

  it('follows oblique, anisotropic voxel axes', () => {
    // Δ = (6, 1.5, 0): 6 × 0.5 = 3 mm along one in-plane axis, 1.5 × 2 = 3 mm along the
    // perpendicular one → 3√2 mm. Adding 4 slices of 1 mm → √(18 + 16) = √34.
    expect(radialErrorMm([0, 0, 0], [6, 1.5, 0], oblique)).toBeCloseTo(3 * Math.SQRT2, 12);
    expect(radialErrorMm([2, 3, 1], [8, 4.5, 5], oblique)).toBeCloseTo(Math.sqrt(34), 12);
  });

  it('is symmetric', () => {
    expect(radialErrorMm([1, 2, 3], [4, -5, 6.5], oblique)).toBe(radialErrorMm([4, -5, 6.5], [1, 2, 3], oblique));
  });

  it('rejects bad points and affines', () => {
    expect(() => radialErrorMm([0, 0, Number.NaN], [0, 0, 0], anisotropic)).toThrow(RangeError);
    expect(() => radialErrorMm([0, 0, 0], [0, 0, 0], [[1, 0, 0]])).toThrow(/4×4/);
  });
});

describe('landmarkErrors', () => {
  const ref = [
    { name: 'A', i: 10, j: 20, k: 5 },
    { name: 'B', i: 0, j: 0, k: 0 },
    { name: 'C', i: 1, j: 1, k: 1 },
  ];

  it('pairs landmarks by name, in reference order, null for missing ones', () => {
    const cand = [
      { name: 'B', i: 0, j: 0, k: 2 },
      { name: 'A', i: 11.5, j: 28, k: 9 },
      { name: 'extra', i: 0, j: 0, k: 0 },
    ];
    const errors = landmarkErrors(ref, cand, anisotropic);
    expect(errors.map((e) => e.name)).toEqual(['A', 'B', 'C']);
    expect(errors[0]!.errorMm).toBeCloseTo(13, 12);
    expect(errors[1]!.errorMm).toBeCloseTo(6, 12);
    expect(errors[2]!.errorMm).toBeNull();
  });

  it('works with an oblique affine', () => {
    const errors = landmarkErrors([{ name: 'x', i: 2, j: 3, k: 1 }], [{ name: 'x', i: 8, j: 4.5, k: 5 }], oblique);
    expect(errors[0]!.errorMm).toBeCloseTo(Math.sqrt(34), 12);
  });

  it('rejects duplicate names', () => {
    expect(() => landmarkErrors([...ref, { name: 'A', i: 0, j: 0, k: 0 }], [], anisotropic)).toThrow(/"A" twice/);
  });

  it('returns an empty list for an empty reference', () => {
    expect(landmarkErrors([], ref, anisotropic)).toEqual([]);
  });
});

describe('measurementDifference', () => {
  it('gives absolute and relative differences', () => {
    expect(measurementDifference(40, 42)).toEqual({ absolute: 2, relative: 0.05 });
    expect(measurementDifference(40, 38)).toEqual({ absolute: 2, relative: 0.05 });
    expect(measurementDifference(-8, -6)).toEqual({ absolute: 2, relative: 0.25 });
  });

  it('has no relative difference for a zero reference', () => {
    expect(measurementDifference(0, 3)).toEqual({ absolute: 3, relative: null });
    expect(measurementDifference(0, 0)).toEqual({ absolute: 0, relative: null });
  });

  it('rejects non-finite values', () => {
    expect(() => measurementDifference(Number.NaN, 1)).toThrow(RangeError);
    expect(() => measurementDifference(1, Infinity)).toThrow(RangeError);
  });
});
