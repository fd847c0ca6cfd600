// Krippendorff's alpha for unitizing a continuum (uα; Krippendorff 2004, Content Analysis,
// 2nd ed., section 12.4): how well several raters agree on WHERE units of each category begin
// and end on a continuum (characters of a text, frames of a video, milliseconds of audio).
//
// The continuum [begin, begin + length) is made of integer atoms. Per category, each rater's
// continuum is cut into sections: that rater's units of the category, and the gaps between them.
// Two overlapping sections of different raters g, h are at distance
//   δ²(g, h) = (b_g − b_h)² + (e_g − e_h)²   when both are units (b = begin, e = end),
//   δ²(g, h) = l_g²                          when unit g lies inside gap h (or the other way round),
//   0                                        otherwise (two gaps, or a unit only partly in a gap).
// Observed disagreement: D_o = Σ over ordered rater pairs Σ overlapping sections δ² / (m(m−1)L²).
// Expected disagreement (N_c = units of the category over all raters, l = a unit's length, the
// inner sum over every rater's gaps at least as long as l):
//   D_e = (2/L) Σ_units [ (N_c − 1)(2l³ − 3l² + l)/3 + l² Σ_{gaps ≥ l} (gap − l + 1) ]
//         / ( mL(mL − 1) − Σ_units l(l − 1) ).
// α_c = 1 − D_o/D_e per category (0 when D_o = D_e); over all categories α = 1 − mean D_o / mean D_e.

export interface ContinuumUnit {
  /** 0-based rater index (< raters). */
  rater: number;
  /** First atom of the unit (integer, inside the continuum). */
  start: number;
  /** Atoms in the unit (integer ≥ 1). */
  length: number;
  category: string;
}

export interface UnitizingContinuum {
  raters: number;
  /** First atom of the continuum (default 0). */
  begin?: number;
  /** Atoms in the continuum. */
  length: number;
}

export interface UnitizingAlpha {
  /** α over all categories; NaN without any unit. */
  alpha: number;
  observed: number;
  expected: number;
  categories: Record<string, { alpha: number; observed: number; expected: number; units: number }>;
}

interface Section {
  start: number;
  length: number;
  unit: boolean;
}

/** δ² between two sections of different raters (0 when they do not overlap). */
export function unitizingDistance(g: Section, h: Section): number {
  const d = g.start - h.start;
  if (g.unit && h.unit) {
    if (!(-g.length < d && d < h.length)) return 0;
    const e = g.start + g.length - (h.start + h.length);
    return d * d + e * e;
  }
  if (g.unit && !h.unit && d >= 0 && g.start + g.length <= h.start + h.length) return g.length * g.length;
  if (!g.unit && h.unit && d <= 0 && h.start + h.length <= g.start + g.length) return h.length * h.length;
  return 0;
}

/** One rater's sections for one category: its units and the gaps between them, covering the continuum. */
function sectionsOf(units: readonly ContinuumUnit[], begin: number, end: number): Section[] {
  const sorted = [...units].sort((a, b) => a.start - b.start);
  const out: Section[] = [];
  let pos = begin;
  for (const u of sorted) {
    if (u.start < pos) throw new RangeError(`rater ${u.rater}: units of "${u.category}" overlap at ${u.start}`);
    if (u.start > pos) out.push({ start: pos, length: u.start - pos, unit: false });
    out.push({ start: u.start, length: u.length, unit: true });
    pos = u.start + u.length;
  }
  if (pos < end) out.push({ start: pos, length: end - pos, unit: false });
  return out;
}

function checkUnits(units: readonly ContinuumUnit[], c: UnitizingContinuum, begin: number): void {
  if (!Number.isInteger(c.raters) || c.raters < 2) throw new RangeError('unitizing alpha needs at least 2 raters');
  if (!Number.isInteger(c.length) || c.length < 1) throw new RangeError('the continuum length must be a positive integer');
  for (const u of units) {
    if (!Number.isInteger(u.rater) || u.rater < 0 || u.rater >= c.raters) throw new RangeError(`rater ${u.rater} is outside 0..${c.raters - 1}`);
    if (!Number.isInteger(u.start) || !Number.isInteger(u.length) || u.length < 1) throw new RangeError('unit start and length must be integers, length ≥ 1');
    if (u.start < begin || u.start + u.length > begin + c.length) throw new RangeError(`a unit [${u.start}, ${u.start + u.length}) lies outside the continuum`);
  }
}

/** Krippendorff's uα (2004) of units on a continuum; see the module comment for the definitions. */
export function krippendorffAlphaUnitizing(units: readonly ContinuumUnit[], continuum: UnitizingContinuum): UnitizingAlpha {
  const begin = continuum.begin ?? 0;
  checkUnits(units, continuum, begin);
  const m = continuum.raters;
  const L = continuum.length;
  const end = begin + L;
  const categories: UnitizingAlpha['categories'] = {};
  const names = [...new Set(units.map((u) => u.category))].sort();
  let sumO = 0;
  let sumE = 0;
  for (const c of names) {
    const mine = units.filter((u) => u.category === c);
    const sections = Array.from({ length: m }, (_, r) => sectionsOf(mine.filter((u) => u.rater === r), begin, end));
    // Observed: every overlapping pair of sections of two raters, both orders.
    let o = 0;
    for (let r1 = 0; r1 < m; r1++) {
      for (let r2 = r1 + 1; r2 < m; r2++) {
        const a = sections[r1]!;
        const b = sections[r2]!;
        let i = 0;
        let j = 0;
        while (i < a.length && j < b.length) {
          o += unitizingDistance(a[i]!, b[j]!);
          const ea = a[i]!.start + a[i]!.length;
          const eb = b[j]!.start + b[j]!.length;
          if (ea <= eb) i++;
          if (eb <= ea) j++;
        }
      }
    }
    const observed = (2 * o) / (m * (m - 1) * L * L);
    // Expected.
    const gaps = sections.flatMap((s) => s.filter((x) => !x.unit).map((x) => x.length)).sort((x, y) => y - x);
    const n = mine.length;
    let num = 0;
    let lengths = 0;
    for (const u of mine) {
      const l = u.length;
      let g = 0;
      for (const gap of gaps) {
        if (gap < l) break;
        g += gap - l + 1;
      }
      num += ((n - 1) * (2 * l * l * l - 3 * l * l + l)) / 3 + l * l * g;
      lengths += l * (l - 1);
    }
    const expected = ((2 / L) * num) / (m * L * (m * L - 1) - lengths);
    categories[c] = { observed, expected, alpha: observed === expected ? 0 : 1 - observed / expected, units: n };
    sumO += observed;
    sumE += expected;
  }
  const k = names.length;
  const observed = k ? sumO / k : NaN;
  const expected = k ? sumE / k : NaN;
  const alpha = k === 0 ? NaN : observed === expected ? 0 : 1 - observed / expected;
  return { alpha, observed, expected, categories };
}
