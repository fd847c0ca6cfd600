import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { stapleBinary, stapleMultiLabel } from './staple.js';
import { seededRandom } from '../../test/random.js';

const PYTHON = '/usr/bin/python3';

const rng = seededRandom;

function python(script: string, input: unknown): unknown {
  const res = spawnSync(PYTHON, ['-W', 'ignore', '-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  if (res.status !== 0) throw new Error(`python failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout);
}

/** Truth: a 2D image with a few discs (spatially coherent, ~25% foreground). */
function truthDiscs(nx: number, ny: number, r: () => number): Uint8Array {
  const t = new Uint8Array(nx * ny);
  for (let d = 0; d < 6; d++) {
    const cx = r() * nx;
    const cy = r() * ny;
    const rad = 10 + r() * 25;
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= rad * rad) t[x + y * nx] = 1;
  }
  return t;
}

function simulateRater(truth: Uint8Array, sens: number, spec: number, r: () => number): Uint8Array {
  const out = new Uint8Array(truth.length);
  for (let j = 0; j < truth.length; j++) {
    out[j] = truth[j] ? (r() < sens ? 1 : 0) : r() < spec ? 0 : 1;
  }
  return out;
}

function diceOf(a: Uint8Array, b: Uint8Array): number {
  let inter = 0;
  let sa = 0;
  let sb = 0;
  for (let j = 0; j < a.length; j++) {
    if (a[j]) sa++;
    if (b[j]) sb++;
    if (a[j] && b[j]) inter++;
  }
  return sa + sb === 0 ? 1 : (2 * inter) / (sa + sb);
}

describe('stapleBinary recovers known rater performance', () => {
  const cases = [
    { seed: 1, sens: [0.95, 0.85, 0.75, 0.9, 0.8], spec: [0.97, 0.92, 0.95, 0.85, 0.9] },
    { seed: 2, sens: [0.9, 0.8, 0.85, 0.88], spec: [0.95, 0.9, 0.97, 0.93] },
    { seed: 3, sens: [0.99, 0.6, 0.85, 0.9, 0.75, 0.8, 0.95], spec: [0.9, 0.98, 0.93, 0.96, 0.88, 0.94, 0.92] },
  ];
  for (const c of cases) {
    it(`seed ${c.seed}, ${c.sens.length} raters`, () => {
      const r = rng(c.seed);
      const truth = truthDiscs(160, 125, r); // 20,000 voxels
      const raters = c.sens.map((s, i) => simulateRater(truth, s, c.spec[i]!, r));
      const res = stapleBinary(raters);
      expect(res.converged).toBe(true);
      for (let i = 0; i < raters.length; i++) {
        expect(Math.abs(res.sensitivity[i]! - c.sens[i]!)).toBeLessThanOrEqual(0.02);
        expect(Math.abs(res.specificity[i]! - c.spec[i]!)).toBeLessThanOrEqual(0.02);
      }
      const best = Math.max(...raters.map((x) => diceOf(x, truth)));
      expect(diceOf(res.consensus, truth)).toBeGreaterThan(best);
      for (const v of res.probability) expect(v >= 0 && v <= 1).toBe(true);
    });
  }
});

const NUMPY_STAPLE = String.raw`
import sys, json
import numpy as np
out = []
for case in json.load(sys.stdin):
    D = np.array(case['raters'], dtype=np.float64)  # raters x voxels, 0/1
    N, V = D.shape
    g = D.sum() / (N * V) if case.get('prior') is None else case['prior']
    g *= case.get('weight', 1.0)
    p = np.full(N, 0.99999); q = np.full(N, 0.99999)
    it = 0; conv = False
    with np.errstate(divide='ignore'):
        while it < case['maxIter']:
            it += 1
            la = np.log(g) + (D * np.log(p)[:, None] + (1 - D) * np.log(1 - p)[:, None]).sum(0)
            lb = np.log(1 - g) + (D * np.log(1 - q)[:, None] + (1 - D) * np.log(q)[:, None]).sum(0)
            W = 1.0 / (1.0 + np.exp(lb - la))
            sw = W.sum(); sv = (1 - W).sum()
            np_ = (D * W).sum(1) / sw if sw > 0 else p.copy()
            nq_ = ((1 - D) * (1 - W)).sum(1) / sv if sv > 0 else q.copy()
            ch = np.abs(np_ - p).sum() + np.abs(nq_ - q).sum()
            p, q = np_, nq_
            if ch < case['tol']:
                conv = True
                break
    out.append({'W': W.tolist(), 'p': p.tolist(), 'q': q.tolist(), 'it': it, 'conv': conv})
print(json.dumps(out))
`;

describe('stapleBinary = NumPy reference implementation', () => {
  interface Case {
    raters: number[][];
    prior: number | null;
    weight: number;
    maxIter: number;
    tol: number;
  }
  const cases: Case[] = [];
  const specs: { seed: number; nr: number; nx: number; ny: number; weight?: number; prior?: number }[] = [
    { seed: 11, nr: 3, nx: 80, ny: 60 },
    { seed: 12, nr: 5, nx: 100, ny: 100 },
    { seed: 13, nr: 11, nx: 120, ny: 100 }, // products of 11 factors: log space
    { seed: 14, nr: 11, nx: 100, ny: 80, weight: 0.8 },
    { seed: 15, nr: 4, nx: 90, ny: 70, prior: 0.3 },
    { seed: 16, nr: 22, nx: 60, ny: 50 }, // > 20 raters: voxel-by-voxel path
  ];
  for (const s of specs) {
    const r = rng(s.seed);
    const truth = truthDiscs(s.nx, s.ny, r);
    const raters: number[][] = [];
    for (let i = 0; i < s.nr; i++) {
      const rater = simulateRater(truth, 0.6 + 0.39 * r(), 0.8 + 0.19 * r(), r);
      raters.push(Array.from(rater));
    }
    cases.push({ raters, prior: s.prior ?? null, weight: s.weight ?? 1, maxIter: 100, tol: 1e-14 });
  }
  // A case stopped by maxIterations.
  cases.push({ ...cases[1]!, maxIter: 3 });
  const ref = python(NUMPY_STAPLE, cases) as { W: number[]; p: number[]; q: number[]; it: number; conv: boolean }[];

  cases.forEach((c, k) => {
    it(`case ${k}: ${c.raters.length} raters, ${c.raters[0]!.length} voxels`, () => {
      const res = stapleBinary(
        c.raters.map((x) => Uint8Array.from(x)),
        {
          maxIterations: c.maxIter,
          tolerance: c.tol,
          confidenceWeight: c.weight,
          ...(c.prior !== null ? { prior: c.prior } : {}),
        },
      );
      const e = ref[k]!;
      let maxW = 0;
      for (let j = 0; j < e.W.length; j++) maxW = Math.max(maxW, Math.abs(res.probability[j]! - e.W[j]!));
      expect(maxW).toBeLessThanOrEqual(1e-9);
      for (let i = 0; i < c.raters.length; i++) {
        expect(Math.abs(res.sensitivity[i]! - e.p[i]!)).toBeLessThanOrEqual(1e-9);
        expect(Math.abs(res.specificity[i]! - e.q[i]!)).toBeLessThanOrEqual(1e-9);
      }
      expect(res.converged).toBe(e.conv);
      if (c.maxIter === 3) expect(res.iterations).toBe(3);
      else expect(Math.abs(res.iterations - e.it)).toBeLessThanOrEqual(1);
    });
  });

  it('log space: 60 raters with many disagreements stay finite', () => {
    const r = rng(99);
    const truth = truthDiscs(50, 40, r);
    const raters = Array.from({ length: 60 }, () => simulateRater(truth, 0.7, 0.7, r));
    const res = stapleBinary(raters);
    for (const v of res.probability) expect(Number.isFinite(v)).toBe(true);
    expect(diceOf(res.consensus, truth)).toBeGreaterThan(0.99);
  });
});

describe('stapleBinary edge cases', () => {
  it('identical raters: consensus equals them, p = q ≈ 1', () => {
    const r = rng(5);
    const m = truthDiscs(64, 64, r);
    const res = stapleBinary([m, m.slice(), m.slice()]);
    expect(Array.from(res.consensus)).toEqual(Array.from(m));
    for (const v of [...res.sensitivity, ...res.specificity]) expect(v).toBeGreaterThan(1 - 1e-9);
    expect(res.converged).toBe(true);
  });

  it('all-empty raters: all-zero consensus, no NaN', () => {
    const z = new Uint8Array(1000);
    const res = stapleBinary([z, z.slice(), z.slice()]);
    expect(res.consensus.every((v) => v === 0)).toBe(true);
    for (const v of res.probability) expect(v).toBe(0);
    for (const v of [...res.sensitivity, ...res.specificity]) expect(Number.isNaN(v)).toBe(false);
    expect(res.specificity.every((v) => v === 1)).toBe(true);
  });

  it('all-full raters: all-one consensus, no NaN', () => {
    const o = new Uint8Array(500).fill(1);
    const res = stapleBinary([o, o.slice()]);
    expect(res.consensus.every((v) => v === 1)).toBe(true);
    for (const v of [...res.sensitivity, ...res.specificity]) expect(Number.isNaN(v)).toBe(false);
  });

  it('single rater: consensus equals it', () => {
    const m = truthDiscs(40, 30, rng(8));
    expect(Array.from(stapleBinary([m]).consensus)).toEqual(Array.from(m));
  });

  it('non-zero values count as foreground', () => {
    const a = Uint8Array.from([0, 255, 3, 0]);
    const b = Uint8Array.from([0, 1, 1, 0]);
    expect(Array.from(stapleBinary([a, b]).consensus)).toEqual([0, 1, 1, 0]);
  });

  it('errors', () => {
    expect(() => stapleBinary([new Uint8Array(4), new Uint8Array(5)])).toThrow(RangeError);
    expect(() => stapleBinary([])).toThrow(RangeError);
    expect(() => stapleBinary([new Uint8Array(4)], { maxIterations: 0 })).toThrow(RangeError);
    expect(() => stapleBinary([new Uint8Array(4)], { prior: 0.6, confidenceWeight: 2 })).toThrow(RangeError);
  });
});

const NUMPY_MULTI = String.raw`
import sys, json
import numpy as np
out = []
for case in json.load(sys.stdin):
    labels = case['labels']
    idx = {l: s for s, l in enumerate(labels)}
    D = np.array([[idx[v] for v in r] for r in case['raters']], dtype=np.int64)
    N, V = D.shape; L = len(labels)
    f = np.array([(D == s).sum() for s in range(L)], dtype=np.float64) / (N * V)
    th = np.full((N, L, L), 0.01 / (L - 1)); 
    for i in range(N): np.fill_diagonal(th[i], 0.99)
    it = 0; conv = False
    with np.errstate(divide='ignore'):
        while it < case['maxIter']:
            it += 1
            lj = np.tile(np.log(f)[:, None], (1, V))
            for i in range(N):
                lj += np.log(th[i])[:, D[i]]
            mx = lj.max(0)
            e = np.exp(lj - mx)
            W = e / e.sum(0)
            rs = W.sum(1)
            new = th.copy()
            for i in range(N):
                for t in range(L):
                    new[i][:, t] = W[:, D[i] == t].sum(1)
                for s in range(L):
                    if rs[s] > 0: new[i][s] /= rs[s]
                    else: new[i][s] = th[i][s]
            ch = np.abs(new - th).sum()
            th = new
            if ch < case['tol']:
                conv = True
                break
    out.append({'W': W.tolist(), 'theta': th.tolist(), 'it': it, 'conv': conv})
print(json.dumps(out))
`;

describe('stapleMultiLabel', () => {
  /** 3D label map (nx × ny × nz) with labels 0..3 from nested spheres. */
  function truthLabels(nx: number, ny: number, nz: number): Int32Array {
    const t = new Int32Array(nx * ny * nz);
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          const d = Math.hypot(x - nx / 2, y - ny / 2, (z - nz / 2) * 2);
          t[x + y * nx + z * nx * ny] = d < 6 ? 3 : d < 11 ? 2 : d < 16 ? 1 : 0;
        }
    return t;
  }
  function simulate(truth: Int32Array, acc: number, L: number, r: () => number): Int32Array {
    const out = new Int32Array(truth.length);
    for (let j = 0; j < truth.length; j++) {
      if (r() < acc) out[j] = truth[j]!;
      else {
        const o = Math.floor(r() * (L - 1));
        out[j] = o >= truth[j]! ? o + 1 : o;
      }
    }
    return out;
  }

  it('recovers per-rater accuracy and beats the best rater (3D, 4 labels)', () => {
    const r = rng(21);
    // Balanced classes: four 3D quadrant blocks (with a fixed prior taken from the raters' label
    // frequencies, rare classes inflated by uniformly spread errors would bias the estimates).
    const truth = new Int32Array(40 * 40 * 13); // 20,800 voxels
    for (let j = 0; j < truth.length; j++) {
      const x = j % 40;
      const y = Math.floor(j / 40) % 40;
      truth[j] = (x < 20 ? 0 : 1) + (y < 20 ? 0 : 2);
    }
    const accs = [0.92, 0.8, 0.85, 0.7, 0.88];
    const raters = accs.map((a) => simulate(truth, a, 4, r));
    const res = stapleMultiLabel(raters, undefined, { maxIterations: 1000 });
    expect(res.labels).toEqual([0, 1, 2, 3]);
    expect(res.converged).toBe(true);
    for (let i = 0; i < raters.length; i++) {
      for (let s = 0; s < 4; s++) {
        expect(Math.abs(res.confusion[i]![s]![s]! - accs[i]!)).toBeLessThanOrEqual(0.03);
        const rowSum = res.confusion[i]![s]!.reduce((a, b) => a + b, 0);
        expect(Math.abs(rowSum - 1)).toBeLessThan(1e-12);
      }
    }
    const accOf = (x: ArrayLike<number>) => {
      let c = 0;
      for (let j = 0; j < truth.length; j++) if (x[j] === truth[j]) c++;
      return c / truth.length;
    };
    expect(accOf(res.consensus)).toBeGreaterThan(Math.max(...raters.map(accOf)));
  });

  it('= NumPy reference implementation', () => {
    const cases: { raters: number[][]; labels: number[]; maxIter: number; tol: number }[] = [];
    for (const [seed, nr, L] of [
      [31, 3, 3],
      [32, 5, 4],
      [33, 11, 3],
    ] as const) {
      const r = rng(seed);
      const truth = truthLabels(24, 24, 8).map((v) => v % L);
      const raters = Array.from({ length: nr }, () => Array.from(simulate(truth, 0.6 + 0.35 * r(), L, r)));
      cases.push({ raters, labels: Array.from({ length: L }, (_, s) => s), maxIter: 100, tol: 1e-14 });
    }
    const ref = python(NUMPY_MULTI, cases) as { W: number[][]; theta: number[][][]; it: number; conv: boolean }[];
    cases.forEach((c, k) => {
      const res = stapleMultiLabel(c.raters, c.labels);
      const e = ref[k]!;
      let maxW = 0;
      for (let s = 0; s < c.labels.length; s++)
        for (let j = 0; j < c.raters[0]!.length; j++)
          maxW = Math.max(maxW, Math.abs(res.probabilities[s]![j]! - e.W[s]![j]!));
      expect(maxW).toBeLessThanOrEqual(1e-9);
      let maxT = 0;
      for (let i = 0; i < c.raters.length; i++)
        for (let s = 0; s < c.labels.length; s++)
          for (let t = 0; t < c.labels.length; t++)
            maxT = Math.max(maxT, Math.abs(res.confusion[i]![s]![t]! - e.theta[i]![s]![t]!));
      expect(maxT).toBeLessThanOrEqual(1e-9);
      expect(res.converged).toBe(e.conv);
    });
  });

  it('two labels agrees with binary STAPLE at convergence', () => {
    const r = rng(41);
    const truth = truthDiscs(80, 60, r);
    const raters = [0.9, 0.8, 0.85].map((s) => simulateRater(truth, s, 0.93, r));
    const b = stapleBinary(raters, { maxIterations: 1000 });
    const m = stapleMultiLabel(raters, [0, 1], { maxIterations: 1000 });
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(m.confusion[i]![1]![1]! - b.sensitivity[i]!)).toBeLessThan(1e-6);
      expect(Math.abs(m.confusion[i]![0]![0]! - b.specificity[i]!)).toBeLessThan(1e-6);
    }
    expect(Array.from(m.consensus)).toEqual(Array.from(b.consensus));
  });

  it('edge cases', () => {
    const a = Int32Array.from([0, 2, 2, 5, 5, 0]);
    const same = stapleMultiLabel([a, a.slice(), a.slice()]);
    expect(Array.from(same.consensus)).toEqual(Array.from(a));
    expect(same.labels).toEqual([0, 2, 5]);
    // One category only.
    const z = new Int32Array(50);
    const one = stapleMultiLabel([z, z.slice()]);
    expect(one.consensus.every((v) => v === 0)).toBe(true);
    expect(one.confusion[0]).toEqual([[1]]);
    // Ties go to undecidedLabel.
    const tie = stapleMultiLabel([Int32Array.from([1, 2]), Int32Array.from([2, 1])], [1, 2], {
      undecidedLabel: -1,
    });
    for (const v of tie.probabilities.flatMap((p) => Array.from(p))) expect(Number.isNaN(v)).toBe(false);
    expect(Array.from(tie.consensus)).toEqual([-1, -1]);
    expect(() => stapleMultiLabel([a, a.slice(1)])).toThrow(RangeError);
    expect(() => stapleMultiLabel([a], [0, 2])).toThrow(RangeError);
  });
});

describe('stapleBinary reads any non-zero value as foreground, whatever the array layout', () => {
  it('gives the same result for 0/1 masks and for masks of other non-zero values, unaligned views and odd lengths', () => {
    const rnd = seededRandom(77);
    const n = 1003; // not a multiple of 4: the word-wise path has a scalar tail
    const ones = Array.from({ length: 4 }, () => Uint8Array.from({ length: n }, () => (rnd() < 0.4 ? 1 : 0)));
    const values = [0x80, 0xff, 0x7f, 0x01, 0x10];
    const odd = ones.map((m, i) => {
      // A view starting at byte 1 (not 4-aligned) for rater 1, and high-bit values everywhere.
      const buf = new Uint8Array(n + 1);
      const view = i === 1 ? buf.subarray(1) : buf.subarray(0, n);
      for (let j = 0; j < n; j++) view[j] = m[j] ? values[(i + j) % values.length]! : 0;
      return view;
    });
    const a = stapleBinary(ones);
    const b = stapleBinary(odd);
    expect(b.sensitivity).toEqual(a.sensitivity);
    expect(b.specificity).toEqual(a.specificity);
    expect(Array.from(b.consensus)).toEqual(Array.from(a.consensus));
    expect(Array.from(b.probability)).toEqual(Array.from(a.probability));
    // The posterior per voxel is that of its decision pattern.
    for (let j = 0; j < n; j++) {
      let key = 0;
      for (let i = 0; i < 4; i++) if (ones[i]![j]) key |= 1 << i;
      expect(a.probability[j]).toBe(a.posteriorOfKey![key]);
    }
  });
});
