import { describe, expect, it } from 'vitest';
import { type ContinuumUnit, krippendorffAlphaUnitizing, unitizingDistance } from './unitizing.js';

const sec = (start: number, length: number, unit: boolean) => ({ start, length, unit });

describe("Krippendorff's alpha for unitizing (2004)", () => {
  it('reproduces the worked example of Content Analysis (2004, p. 254): α_c 0.7286, α_k 1, α 0.8591', () => {
    // Two observers on the continuum [150, 450); categories c and k.
    const u = (rater: number, start: number, length: number, category: string): ContinuumUnit => ({ rater, start, length, category });
    const units = [u(0, 225, 70, 'c'), u(0, 370, 30, 'c'), u(1, 220, 80, 'c'), u(1, 355, 20, 'c'), u(1, 400, 20, 'c'), u(0, 180, 60, 'k'), u(0, 300, 50, 'k'), u(1, 180, 60, 'k'), u(1, 300, 50, 'k')];
    const r = krippendorffAlphaUnitizing(units, { raters: 2, begin: 150, length: 300 });
    expect(r.categories.c!.observed).toBeCloseTo(0.0144, 4);
    expect(r.categories.c!.expected).toBeCloseTo(0.0532, 4);
    expect(r.categories.c!.alpha).toBeCloseTo(0.7286, 4);
    expect(r.categories.k!.observed).toBe(0);
    expect(r.categories.k!.expected).toBeCloseTo(0.049, 4);
    expect(r.categories.k!.alpha).toBe(1);
    // The book divides the rounded means (0.0072 / 0.0511); exact arithmetic gives 0.85867.
    expect(Math.abs(r.alpha - 0.8591)).toBeLessThan(5e-4);
  });

  it('distances between sections follow the definition (values of the 2004 example)', () => {
    expect(unitizingDistance(sec(225, 70, true), sec(220, 80, true))).toBe(50);
    expect(unitizingDistance(sec(370, 30, true), sec(355, 20, true))).toBe(850);
    expect(unitizingDistance(sec(400, 50, false), sec(400, 20, true))).toBe(400); // unit inside a gap
    expect(unitizingDistance(sec(5, 6, true), sec(4, 2, true))).toBe(26);
    expect(unitizingDistance(sec(5, 6, true), sec(5, 6, true))).toBe(0);
    expect(unitizingDistance(sec(1, 8, true), sec(0, 2, false))).toBe(0); // only partly in the gap
    expect(unitizingDistance(sec(9, 2, false), sec(7, 4, false))).toBe(0); // two gaps
    expect(unitizingDistance(sec(1, 8, true), sec(20, 2, true))).toBe(0); // no overlap
  });

  it('agrees with DKPro Statistics on a fragmented unit (D_o 0.9100, D_e 0.5351, α −0.7003)', () => {
    // r0: one unit [1, 9); r1: three one-atom units at 2, 4 and 6; continuum of 10.
    const units = [
      { rater: 0, start: 1, length: 8, category: 'A' },
      { rater: 1, start: 2, length: 1, category: 'A' },
      { rater: 1, start: 4, length: 1, category: 'A' },
      { rater: 1, start: 6, length: 1, category: 'A' },
    ];
    const r = krippendorffAlphaUnitizing(units, { raters: 2, length: 10 });
    expect(r.categories.A!.observed).toBeCloseTo(0.91, 4);
    expect(Math.abs(r.categories.A!.expected - 0.5351)).toBeLessThan(1e-4); // 0.53518…, printed to 4 decimals
    expect(r.alpha).toBeCloseTo(-0.7003, 4);
  });

  it('identical unitizing gives 1, no units NaN, a single unit 0; bad input is refused', () => {
    const same = [0, 1, 2].flatMap((rater) => [
      { rater, start: 3, length: 4, category: 'X' },
      { rater, start: 12, length: 5, category: 'X' },
    ]);
    expect(krippendorffAlphaUnitizing(same, { raters: 3, length: 20 }).alpha).toBe(1);
    expect(krippendorffAlphaUnitizing([], { raters: 3, length: 20 }).alpha).toBeNaN();
    expect(krippendorffAlphaUnitizing([{ rater: 0, start: 0, length: 1, category: 'X' }], { raters: 3, length: 20 }).alpha).toBe(0);
    expect(() => krippendorffAlphaUnitizing([{ rater: 0, start: 18, length: 5, category: 'X' }], { raters: 2, length: 20 })).toThrow(RangeError);
    expect(() =>
      krippendorffAlphaUnitizing(
        [
          { rater: 0, start: 1, length: 5, category: 'X' },
          { rater: 0, start: 3, length: 5, category: 'X' },
        ],
        { raters: 2, length: 20 },
      ),
    ).toThrow(/overlap/);
  });
});
