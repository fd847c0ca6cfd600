import { describe, expect, it } from 'vitest';
import { decodeRle, encodeRle, rleArea, rleBounds, rleProblem } from './mask-rle.js';

describe('mask RLE (row-major, starting with zeros)', () => {
  it('encodes row by row, starting with a run of zeros', () => {
    // 2 rows x 3 columns:
    // 0 1 1
    // 1 0 0
    expect(encodeRle([0, 1, 1, 1, 0, 0], 2, 3)).toEqual({ size: [2, 3], counts: [1, 3, 2] });
  });

  it('starts with a zero-length run when the first pixel is set', () => {
    expect(encodeRle([1, 1, 0, 0], 2, 2).counts).toEqual([0, 2, 2]);
    expect(encodeRle([0, 0, 0, 0], 2, 2).counts).toEqual([4]);
  });

  it('round-trips random masks', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let n = 0; n < 20; n++) {
      const h = 1 + Math.floor(random() * 12);
      const w = 1 + Math.floor(random() * 12);
      const pixels = Uint8Array.from({ length: h * w }, () => (random() < 0.4 ? 1 : 0));
      const rle = encodeRle(pixels, h, w);
      expect(rleProblem(rle)).toBeUndefined();
      expect(decodeRle(rle)).toEqual(pixels);
      expect(rleArea(rle)).toBe(pixels.reduce((a, b) => a + b, 0));
    }
  });

  it('refuses pixel arrays of the wrong size', () => {
    expect(() => encodeRle([0, 1, 0], 2, 2)).toThrow(/3 pixels, expected 2 x 2/);
  });

  it('explains malformed RLEs', () => {
    expect(rleProblem({ size: [2, 2], counts: [1, 2] })).toBe('counts add up to 3 pixels but the mask has 2 x 2 = 4');
    expect(rleProblem({ size: [2, 2], counts: [1, 0, 3] })).toMatch(/counts\[1\] is 0/);
    expect(rleProblem({ size: [2, 2], counts: [-1, 5] })).toMatch(/non-negative/);
    expect(() => decodeRle({ size: [2, 2], counts: [5] })).toThrow(/invalid RLE/);
  });

  it('computes pixel-edge bounds, including runs that wrap a row end', () => {
    // One pixel at x=3, y=4 in a 10x10 mask.
    const single = new Uint8Array(100);
    single[4 * 10 + 3] = 1;
    expect(rleBounds(encodeRle(single, 10, 10))).toEqual({ minX: 3, minY: 4, maxX: 4, maxY: 5 });

    // A run from (x=3, y=1) through (x=1, y=2) in a 4-wide mask touches columns 0..3.
    const wrap = new Uint8Array(16);
    wrap.fill(1, 1 * 4 + 3, 2 * 4 + 2);
    expect(rleBounds(encodeRle(wrap, 4, 4))).toEqual({ minX: 0, minY: 1, maxX: 4, maxY: 3 });

    expect(rleBounds(encodeRle(new Uint8Array(4), 2, 2))).toBeUndefined();
  });
});
