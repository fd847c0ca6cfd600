import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  cohenKappa,
  fleissKappa,
  fleissKappaFromCounts,
  krippendorffAlpha,
  percentAgreement,
  type AlphaLevel,
  type KappaWeights,
  type MaybeRating,
  type Rating,
} from './categorical.js';
import { seededRandom } from '../../test/random.js';

const PYTHON = '/usr/bin/python3';

const rng = seededRandom;
const randInt = (r: () => number, n: number) => Math.floor(r() * n);

/** Run a Python oracle: the script reads JSON cases on stdin and prints a JSON list. NaN → null. */
function python(script: string, input: unknown): unknown {
  const res = spawnSync(PYTHON, ['-W', 'ignore', '-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (res.status !== 0) throw new Error(`python failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout);
}

function expectSame(actual: number, expected: number | null, tol: number) {
  if (expected === null) expect(actual).toBeNaN();
  else expect(Math.abs(actual - expected)).toBeLessThanOrEqual(tol);
}

// ---------------------------------------------------------------------------------------------

describe('cohenKappa = sklearn.metrics.cohen_kappa_score', () => {
  interface KappaCase {
    a: Rating[];
    b: Rating[];
    weights: KappaWeights;
    labels?: Rating[];
  }
  const cases: KappaCase[] = [];
  const weightings: KappaWeights[] = ['none', 'linear', 'quadratic'];
  for (let seed = 1; seed <= 12; seed++) {
    const r = rng(seed);
    const n = 5 + randInt(r, 400);
    const k = 2 + randInt(r, 8);
    const pAgree = r();
    const strings = seed % 3 === 0;
    const label = (i: number): Rating => (strings ? `c${String.fromCharCode(97 + i)}` : i * 2 - 3);
    const a: Rating[] = [];
    const b: Rating[] = [];
    for (let i = 0; i < n; i++) {
      const x = randInt(r, k);
      // b agrees, is off by one (ordinal noise), or random.
      const u = r();
      const y = u < pAgree ? x : u < pAgree + (1 - pAgree) / 2 ? Math.min(k - 1, Math.max(0, x + (r() < 0.5 ? -1 : 1))) : randInt(r, k);
      a.push(label(x));
      b.push(label(y));
    }
    for (const weights of weightings) {
      cases.push({ a, b, weights });
      // An explicit, shuffled label order (changes the weighted κ) ...
      const all = [...new Set([...a, ...b])];
      for (let i = all.length - 1; i > 0; i--) {
        const j = randInt(r, i + 1);
        [all[i], all[j]] = [all[j]!, all[i]!];
      }
      cases.push({ a, b, weights, labels: all });
      // ... and a subset of labels (pairs with other labels are ignored), plus one unused label.
      if (all.length > 2) cases.push({ a, b, weights, labels: [...all.slice(0, all.length - 1), strings ? 'zz' : 999] });
    }
  }
  // Edge cases: perfect agreement, one category only (sklearn → nan), complete disagreement.
  for (const weights of weightings) {
    cases.push({ a: [1, 2, 3, 1, 2], b: [1, 2, 3, 1, 2], weights });
    cases.push({ a: ['x', 'x', 'x'], b: ['x', 'x', 'x'], weights });
    cases.push({ a: [0, 1, 0, 1], b: [1, 0, 1, 0], weights });
  }

  const script = `
import json, sys
from sklearn.metrics import cohen_kappa_score
out = []
for c in json.load(sys.stdin):
    w = None if c['weights'] == 'none' else c['weights']
    k = float(cohen_kappa_score(c['a'], c['b'], labels=c.get('labels'), weights=w))
    out.append(None if k != k else k)
print(json.dumps(out))
`;

  it(`matches scikit-learn on ${cases.length} seeded cases (all three weightings, given/sorted label order) to 1e-9`, () => {
    const ref = python(script, cases) as (number | null)[];
    expect(ref).toHaveLength(cases.length);
    cases.forEach((c, i) => {
      const opts = c.labels ? { weights: c.weights, labels: c.labels } : { weights: c.weights };
      expectSame(cohenKappa(c.a, c.b, opts), ref[i]!, 1e-9);
    });
  });

  it('edge cases: κ = 1 for perfect agreement, NaN when only one category is used', () => {
    for (const weights of weightings) {
      expect(cohenKappa([1, 2, 3, 1], [1, 2, 3, 1], { weights })).toBe(1);
      expect(cohenKappa(['a', 'a'], ['a', 'a'], { weights })).toBeNaN();
    }
    expect(cohenKappa([0, 1, 0, 1], [1, 0, 1, 0])).toBe(-1);
    // null weights behave as 'none' (as sklearn's weights=None).
    expect(cohenKappa([0, 1, 1, 2], [0, 1, 2, 2], { weights: null })).toBe(cohenKappa([0, 1, 1, 2], [0, 1, 2, 2]));
  });

  it('rejects bad input', () => {
    expect(() => cohenKappa([], [])).toThrow(RangeError);
    expect(() => cohenKappa([1, 2], [1])).toThrow(RangeError);
    expect(() => cohenKappa([1, 2], [1, 2], { labels: [7] })).toThrow(RangeError);
    expect(() => cohenKappa([1, 2], [1, 2], { labels: [1, 1] })).toThrow(RangeError);
    expect(() => cohenKappa([1, 'a'], [1, 'a'])).toThrow(TypeError);
    expect(() => cohenKappa([1, NaN], [1, 2])).toThrow(TypeError);
    expect(() => cohenKappa([1, null as unknown as Rating], [1, 2])).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------

describe('fleissKappa', () => {
  // Wikipedia "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories.
  // Hand check: column sums 20, 28, 39, 21, 32 → P̄e = 4170 / 140² = 0.212755;
  // Σ n_ij² = 828 → P̄ = (828 − 140) / (10·14·13) = 688 / 1820 = 0.378022; κ = 0.20993 ≈ 0.210.
  const table = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
  ];
  const pBar = 688 / 1820;
  const pE = 4170 / 19600;
  const exact = (pBar - pE) / (1 - pE);

  it('reproduces the Wikipedia / Fleiss worked example (κ ≈ 0.210)', () => {
    expect(exact).toBeCloseTo(0.20993, 5);
    expect(Math.abs(fleissKappaFromCounts(table) - exact)).toBeLessThan(1e-15);
    expect(fleissKappaFromCounts(table).toFixed(3)).toBe('0.210');
    // Same example as items × raters labels (raters listed in a scrambled order).
    const ratings = table.map((row, i) => {
      const labels = row.flatMap((c, j) => Array<string>(c).fill(`cat${j + 1}`));
      return labels.map((_, r) => labels[(r * 5 + i) % labels.length]!);
    });
    expect(Math.abs(fleissKappa(ratings) - exact)).toBeLessThan(1e-15);
  });

  it('matches an independent Python implementation on seeded data (with missing ratings per rater)', () => {
    const cases: MaybeRating[][][] = [];
    for (let seed = 100; seed < 110; seed++) {
      const r = rng(seed);
      const items = 3 + randInt(r, 60);
      const raters = 2 + randInt(r, 6);
      const extra = randInt(r, 3); // extra rater columns, with exactly `extra` nulls per item
      const k = 2 + randInt(r, 5);
      cases.push(
        Array.from({ length: items }, () => {
          const truth = randInt(r, k);
          const row: MaybeRating[] = Array.from({ length: raters }, () => (r() < 0.6 ? truth : randInt(r, k)));
          for (let e = 0; e < extra; e++) row.splice(randInt(r, row.length + 1), 0, null);
          return row;
        }),
      );
    }
    const script = `
import json, sys
out = []
for data in json.load(sys.stdin):
    cats = sorted({x for row in data for x in row if x is not None})
    N = len(data); n = sum(x is not None for x in data[0])
    nij = [[sum(1 for x in row if x == c) for c in cats] for row in data]
    P = [(sum(v * v for v in r) - n) / (n * (n - 1)) for r in nij]
    p = [sum(r[j] for r in nij) / (N * n) for j in range(len(cats))]
    Pbar = sum(P) / N; Pe = sum(x * x for x in p)
    out.append((Pbar - Pe) / (1 - Pe))
print(json.dumps(out))
`;
    const ref = python(script, cases) as number[];
    cases.forEach((c, i) => expectSame(fleissKappa(c), ref[i]!, 1e-12));
  });

  it('edge cases: perfect agreement → 1, one category → NaN, unequal raters / empty → RangeError', () => {
    expect(fleissKappa([['a', 'a', 'a'], ['b', 'b', 'b'], ['c', 'c', 'c']])).toBe(1);
    expect(fleissKappa([['a', 'a'], ['a', 'a']])).toBeNaN();
    expect(() => fleissKappa([['a', 'b', 'a'], ['a', null, 'b']])).toThrow(RangeError);
    expect(() => fleissKappa([['a', 'b', 'a'], ['a', null, 'b']])).toThrow(/same number of raters/);
    expect(() => fleissKappa([])).toThrow(RangeError);
    expect(() => fleissKappa([['a'], ['b']])).toThrow(RangeError);
    expect(() => fleissKappaFromCounts([[1, 2], [1, 1]])).toThrow(RangeError);
    expect(() => fleissKappaFromCounts([[1, 0.5]])).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------

describe('percentAgreement', () => {
  it('is the mean over items of the share of agreeing pairs of non-missing ratings', () => {
    // item 0: 3 of 3 pairs agree; item 1: a,a,b → 1 of 3; item 2: one rating → skipped; item 3: 0 of 1.
    const ratings: MaybeRating[][] = [
      ['a', 'a', 'a'],
      ['a', 'a', 'b'],
      [null, 'a', null],
      ['a', null, 'b'],
    ];
    expect(percentAgreement(ratings)).toBeCloseTo((1 + 1 / 3 + 0) / 3, 15);
    expect(percentAgreement([[1, 1], [2, 2]])).toBe(1);
    expect(percentAgreement([[1, '1']])).toBe(0); // 1 and '1' are different categories
  });

  it("equals Fleiss' P̄ for complete data (Wikipedia example: 0.378)", () => {
    const table = [
      [0, 0, 0, 0, 14],
      [0, 2, 6, 4, 2],
      [0, 0, 3, 5, 6],
      [0, 3, 9, 2, 0],
      [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0],
      [3, 2, 6, 3, 0],
      [2, 5, 3, 2, 2],
      [6, 5, 2, 1, 0],
      [0, 2, 2, 3, 7],
    ];
    const ratings = table.map((row) => row.flatMap((c, j) => Array<number>(c).fill(j)));
    expect(percentAgreement(ratings)).toBeCloseTo(688 / 1820, 14);
  });

  it('rejects empty or unpairable input', () => {
    expect(() => percentAgreement([])).toThrow(RangeError);
    expect(() => percentAgreement([['a', null], [null, 'b']])).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------

describe("krippendorffAlpha", () => {
  // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", example C:
  // 4 observers × 12 units, values 1–5, with missing data (null).
  const paper: MaybeRating[][] = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
    [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
  ];
  const published: Record<AlphaLevel, number> = { nominal: 0.743, ordinal: 0.815, interval: 0.849, ratio: 0.797 };

  // Independent oracle: dense coincidence matrix built from ordered pairs of values, textbook δ².
  const oracle = `
import json, sys
import numpy as np
def alpha(data, level):
    vals = sorted({x for row in data for x in row if x is not None})
    idx = {x: i for i, x in enumerate(vals)}
    V = len(vals)
    o = np.zeros((V, V))
    for u in range(len(data[0])):
        col = [row[u] for row in data if row[u] is not None]
        m = len(col)
        if m < 2:
            continue
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[idx[col[i]], idx[col[j]]] += 1.0 / (m - 1)
    nc = o.sum(axis=1); n = nc.sum()
    d = np.zeros((V, V))
    for c in range(V):
        for k in range(V):
            if c == k:
                continue
            if level == 'nominal':
                d[c, k] = 1.0
            elif level == 'ordinal':
                lo, hi = min(c, k), max(c, k)
                d[c, k] = (nc[lo:hi + 1].sum() - (nc[lo] + nc[hi]) / 2) ** 2
            elif level == 'interval':
                d[c, k] = (vals[c] - vals[k]) ** 2
            else:
                s = vals[c] + vals[k]
                d[c, k] = ((vals[c] - vals[k]) / s) ** 2 if s != 0 else 0.0
    De = (np.outer(nc, nc) * d).sum()
    if De == 0:
        return None
    return float(1 - (n - 1) * (o * d).sum() / De)
print(json.dumps([alpha(c['data'], c['level']) for c in json.load(sys.stdin)]))
`;
  const levels: AlphaLevel[] = ['nominal', 'ordinal', 'interval', 'ratio'];

  it('reproduces the published values of Krippendorff (2011) example C (nominal .743, ordinal .815, interval .849, ratio .797)', () => {
    const ref = python(oracle, levels.map((level) => ({ data: paper, level }))) as number[];
    levels.forEach((level, i) => {
      const a = krippendorffAlpha(paper, level);
      expect(a.toFixed(3)).toBe(published[level].toFixed(3));
      expectSame(a, ref[i]!, 1e-12);
    });
  });

  it('reproduces Krippendorff (2011) example A (binary, two observers): α = 0.095', () => {
    const data = [
      [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
      [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
    ];
    // o_00 = 10, o_11 = 2, o_01 = o_10 = 4, n = 20 → α = 1 − 19·4 / (14·6).
    expect(krippendorffAlpha(data, 'nominal')).toBeCloseTo(1 - (19 * 4) / 84, 15);
    expect(krippendorffAlpha(data, 'nominal').toFixed(3)).toBe('0.095');
  });

  it('matches the independent coincidence-matrix oracle on seeded data with missing values, all levels, to 1e-9', () => {
    const cases: { data: MaybeRating[][]; level: AlphaLevel }[] = [];
    for (let seed = 200; seed < 216; seed++) {
      const r = rng(seed);
      const observers = 2 + randInt(r, 6);
      const units = 5 + randInt(r, 80);
      const k = 2 + randInt(r, 7);
      const pMissing = r() * 0.4;
      const real = seed % 4 === 0; // real-valued data (for interval/ratio) on a 0.25 grid
      const truth = Array.from({ length: units }, () => randInt(r, k));
      const data = Array.from({ length: observers }, () =>
        truth.map((t): MaybeRating => {
          if (r() < pMissing) return null;
          const v = r() < 0.6 ? t : randInt(r, k);
          return real ? v + randInt(r, 4) * 0.25 : v + 1;
        }),
      );
      for (const level of levels) cases.push({ data, level });
    }
    const ref = python(oracle, cases) as (number | null)[];
    cases.forEach((c, i) => expectSame(krippendorffAlpha(c.data, c.level), ref[i]!, 1e-9));
  });

  it('ordinal with an explicit order of string values equals the numeric coding', () => {
    const names = ['low', 'mid', 'high', 'top', 'max'];
    const named = paper.map((row) => row.map((v) => (v === null ? null : names[(v as number) - 1]!)));
    expect(Math.abs(krippendorffAlpha(named, 'ordinal', { order: names }) - krippendorffAlpha(paper, 'ordinal'))).toBeLessThan(
      1e-15,
    );
    expect(Math.abs(krippendorffAlpha(named, 'nominal') - krippendorffAlpha(paper, 'nominal'))).toBeLessThan(1e-15);
    expect(() => krippendorffAlpha(named, 'ordinal', { order: ['low', 'mid'] })).toThrow(TypeError);
    expect(() => krippendorffAlpha(named, 'interval')).toThrow(TypeError);
  });

  it('edge cases: perfect agreement → 1, one value only → NaN, empty / unpairable → RangeError', () => {
    for (const level of levels) {
      expect(krippendorffAlpha([[1, 2, 3, null], [1, 2, 3, 4], [null, 2, 3, 4]], level)).toBe(1);
      expect(krippendorffAlpha([[2, 2, null], [2, 2, 2]], level)).toBeNaN();
      expect(() => krippendorffAlpha([], level)).toThrow(RangeError);
      expect(() => krippendorffAlpha([[]], level)).toThrow(RangeError);
      expect(() => krippendorffAlpha([[1, null], [null, 2]], level)).toThrow(RangeError);
      expect(() => krippendorffAlpha([[1, 2], [1]], level)).toThrow(RangeError);
    }
    expect(() => krippendorffAlpha([[1, 2]], 'bogus' as AlphaLevel)).toThrow(RangeError);
  });
});
