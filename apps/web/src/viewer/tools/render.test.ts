import { describe, expect, it } from 'vitest';
import { affineOf, applyAffine2D, invertAffine2D, multiplyAffine2D, rgbOf } from './render';

describe('retained layer transforms', () => {
  // plane → screen with zoom 2, a quarter turn clockwise and a pan
  const toScreenA = (x: number, y: number): [number, number] => [-2 * y + 300, 2 * x + 40];
  const toScreenB = (x: number, y: number): [number, number] => [3 * x + 10, 3 * y - 5];

  it('samples the plane → screen affine from toScreen', () => {
    const a = affineOf(toScreenA);
    for (const [x, y] of [[0, 0], [10, 3], [-4, 7.5]] as const) expect(applyAffine2D(a, x, y)).toEqual(toScreenA(x, y));
  });

  it('maps a bitmap rendered under one camera onto another camera', () => {
    const a0 = affineOf(toScreenA);
    const a1 = affineOf(toScreenB);
    // screen(C0) → plane → screen(C1)
    const t = multiplyAffine2D(a1, invertAffine2D(a0));
    for (const [x, y] of [[0, 0], [10, 3], [-4, 7.5]] as const) {
      const [sx, sy] = toScreenA(x, y);
      const [bx, by] = applyAffine2D(t, sx, sy);
      const [ex, ey] = toScreenB(x, y);
      expect(bx).toBeCloseTo(ex, 9);
      expect(by).toBeCloseTo(ey, 9);
    }
  });

  it('parses label colours', () => {
    expect(rgbOf('#ff8000')).toEqual([255, 128, 0]);
    expect(rgbOf('#0f0')).toEqual([0, 255, 0]);
    expect(rgbOf('nonsense')).toEqual([245, 197, 66]);
  });
});
