// Voxel ↔ patient (LPS, mm) mapping through a volume's 4×4 affine, and the pixel ↔ voxel
// offset of the annotation model. Shared by the SR and RTSTRUCT writers and readers.

/** A 3-vector. */
export type Vec3 = [number, number, number];

/** affine · (p, 1) for a row-major 4×4 affine (the last row is ignored: affine maps only). */
export function applyAffine(affine: number[][], p: readonly number[]): Vec3 {
  const r = (row: number): number => {
    const a = affine[row];
    if (!a) throw new RangeError('The affine must have 4 rows');
    return (a[0] ?? 0) * (p[0] ?? 0) + (a[1] ?? 0) * (p[1] ?? 0) + (a[2] ?? 0) * (p[2] ?? 0) + (a[3] ?? 0);
  };
  return [r(0), r(1), r(2)];
}

/** The inverse of an affine map (3×3 linear part inverted, translation undone); throws if singular. */
export function invertAffine(affine: number[][]): number[][] {
  const m = (r: number, c: number): number => affine[r]?.[c] ?? 0;
  const [a, b, c] = [m(0, 0), m(0, 1), m(0, 2)];
  const [d, e, f] = [m(1, 0), m(1, 1), m(1, 2)];
  const [g, h, i] = [m(2, 0), m(2, 1), m(2, 2)];
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  const scale = Math.max(...[a, b, c, d, e, f, g, h, i].map(Math.abs), 1e-300);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12 * scale ** 3) throw new RangeError('The affine is singular');
  const inv = [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ] as const;
  const t: Vec3 = [m(0, 3), m(1, 3), m(2, 3)];
  return inv.map((row) => [row[0], row[1], row[2], -(row[0] * t[0] + row[1] * t[1] + row[2] * t[2])]).concat([[0, 0, 0, 1]]);
}

/** Patient LPS of a pixel point (x, y) on slice k: the pixel origin is the top-left corner, the voxel origin the centre. */
export function pixelToLps(affine: number[][], x: number, y: number, k: number): Vec3 {
  return applyAffine(affine, [x - 0.5, y - 0.5, k]);
}

/** The pixel point (x, y) and fractional slice index k of a patient LPS point, given the inverse affine. */
export function lpsToPixel(inverse: number[][], p: readonly number[]): { x: number; y: number; k: number } {
  const [i, j, k] = applyAffine(inverse, p);
  return { x: i + 0.5, y: j + 0.5, k };
}

/**
 * A number as a DICOM Decimal String (at most 16 characters), with as many significant digits as
 * fit. Throws for non-finite numbers.
 */
export function decimalString(v: number): string {
  if (!Number.isFinite(v)) throw new RangeError('A Decimal String must be finite');
  if (Object.is(v, -0) || v === 0) return '0';
  for (let digits = 16; digits >= 1; digits--) {
    let s = v.toPrecision(digits);
    if (s.includes('e')) {
      const [mant = '', exp = ''] = s.split('e');
      s = `${mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant}e${exp.replace('+', '')}`;
    } else if (s.includes('.')) {
      s = s.replace(/0+$/, '').replace(/\.$/, '');
    }
    if (s.length <= 16) return s;
  }
  throw new RangeError('The number does not fit a Decimal String');
}
