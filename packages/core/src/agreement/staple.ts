/**
 * STAPLE consensus (Simultaneous Truth And Performance Level Estimation; Warfield, Zou &
 * Wells, IEEE TMI 2004) for binary masks and multi-label label maps of any dimension (the
 * voxel arrays are flat; 2D masks and 3D label maps are handled alike).
 *
 * ## Binary ({@link stapleBinary})
 * Model: hidden truth T_j ∈ {0,1} per voxel with prior P(T_j = 1) = g; rater i reports
 * D_ij = 1 with probability p_i (sensitivity) when T_j = 1 and D_ij = 0 with probability
 * q_i (specificity) when T_j = 0. Any non-zero value of a rater's array is foreground.
 *
 * Initialisation (as ITK's `STAPLEImageFilter`):
 * - p_i = q_i = 0.99999 for every rater;
 * - g = mean foreground fraction over all raters and voxels, i.e.
 *   Σ_i Σ_j [D_ij ≠ 0] / (N · V), multiplied by `confidenceWeight` (default 1, as ITK's
 *   `ConfidenceWeight`). An explicit `prior` replaces the mean foreground fraction (and is
 *   multiplied by `confidenceWeight` too). The effective prior must lie in [0, 1]. The prior
 *   stays fixed during the iterations (as in ITK and Warfield's paper).
 *
 * Iteration k (E-step first, then M-step, as ITK):
 * - E: W_j = g·a_j / (g·a_j + (1−g)·b_j) with a_j = Π_i p_i^D (1−p_i)^(1−D),
 *   b_j = Π_i (1−q_i)^D q_i^(1−D). Computed in log space, W_j = 1 / (1 + exp(log b' − log a'))
 *   with log a' = log g + Σ log(...), so that many raters (products of many factors < 1)
 *   cannot underflow. log 0 = −∞ is handled exactly (W = 0 or 1); if both terms are −∞
 *   (impossible configuration under the current parameters) W_j = g.
 * - M: p_i = Σ_{j: D_ij=1} W_j / Σ_j W_j, q_i = Σ_{j: D_ij=0} (1−W_j) / Σ_j (1−W_j).
 *   If Σ W = 0 (no voxel can be foreground, e.g. all raters empty) p_i keeps its previous
 *   value instead of becoming 0/0; likewise q_i when Σ (1−W) = 0.
 * - Stop when Σ_i |Δp_i| + |Δq_i| < `tolerance` (default 1e-14; `converged = true`) or after
 *   `maxIterations` iterations (default 100; `converged = false` unless the last one met the
 *   tolerance).
 *
 * Output: `probability` is W from the last E-step (ITK's output image), `sensitivity` and
 * `specificity` the parameters from the last M-step, `consensus` = [W ≥ 0.5].
 *
 * Implementation note: W_j depends only on the tuple of rater decisions at voxel j, so with
 * up to 20 raters the voxels are grouped by that bit pattern and the EM runs on the (at most
 * 2^N, usually far fewer) distinct patterns weighted by their counts. It is the same
 * algorithm; only the order of floating-point summation differs from a voxel-by-voxel loop.
 *
 * ## Multi-label ({@link stapleMultiLabel})
 * Warfield's multi-category formulation (as in Rohlfing's and ITK's `MultiLabelSTAPLE`):
 * truth T_j ∈ labels with fixed priors f_s; each rater i has a confusion matrix
 * θ_i[s][t] = P(D_ij = t | T_j = s) (rows: true label, columns: observed label).
 * - Labels: `labels` if given (every rater value must be one of them, else RangeError),
 *   otherwise the sorted distinct values found in the raters.
 * - Priors f_s: frequency of label s over all raters and voxels (ITK default).
 * - Initial confusion matrices: 0.99 on the diagonal, 0.01/(L−1) elsewhere (a single label:
 *   1). NB: ITK's `MultiLabelSTAPLEImageFilter` instead initialises from a majority-vote
 *   estimate; the diagonal initialisation here is the classic one and avoids a voting step.
 * - E: W_js ∝ f_s Π_i θ_i[s][D_ij], normalised over s, in log space (log-sum-exp).
 * - M: θ_i[s][t] = Σ_{j: D_ij=t} W_js / Σ_j W_js (row s unchanged if Σ_j W_js = 0).
 * - Stop when Σ |Δθ| over all raters and entries < `tolerance` (default 1e-14) or after
 *   `maxIterations` (default 100).
 * - Consensus: the label of maximal W_js; exact ties go to `undecidedLabel` if given,
 *   otherwise to the first tied label in `labels` order.
 */

const INITIAL_PERFORMANCE = 0.99999;
const INITIAL_DIAGONAL = 0.99;
const PATTERN_MAX_RATERS = 20;

export interface StapleBinaryOptions {
  /** Prior probability of foreground; default: mean foreground fraction over the raters (ITK). */
  prior?: number;
  /** Default 100. */
  maxIterations?: number;
  /** Stop when Σ |Δp| + |Δq| < tolerance. Default 1e-14. */
  tolerance?: number;
  /** Multiplies the prior (ITK's ConfidenceWeight). Default 1. */
  confidenceWeight?: number;
}

export interface StapleBinaryResult {
  /**
   * Posterior probability of foreground per voxel (W). With grouped decision patterns it is
   * expanded to every voxel on first read (8 bytes per voxel: 629 MB for 512×512×300), so a
   * caller that needs only the consensus and the rater performance never pays for it. That read
   * uses the rater arrays again: do not change them before.
   */
  readonly probability: Float64Array;
  /** The posterior of each distinct rater decision pattern: `posteriorOfKey[key]`, key bit i = rater i's decision (grouped runs only). */
  readonly posteriorOfKey: Float64Array | null;
  /** 1 where W ≥ 0.5, else 0. */
  consensus: Uint8Array;
  /** Estimated sensitivity p_i per rater. */
  sensitivity: number[];
  /** Estimated specificity q_i per rater. */
  specificity: number[];
  /** Prior actually used (after confidenceWeight). */
  prior: number;
  iterations: number;
  converged: boolean;
}

export interface StapleMultiLabelOptions {
  /** Default 100. */
  maxIterations?: number;
  /** Stop when Σ |Δθ| < tolerance. Default 1e-14. */
  tolerance?: number;
  /** Fixed prior per label (same order as the labels); default: label frequencies over the raters. */
  priors?: number[];
  /** Label written where several labels tie for the maximal posterior; default the first tied label. */
  undecidedLabel?: number;
}

export interface StapleMultiLabelResult {
  /** Labels in the order used by `probabilities`, `priors` and the confusion matrices. */
  labels: number[];
  consensus: Int32Array;
  /** probabilities[s][j] = posterior P(T_j = labels[s]). */
  probabilities: Float64Array[];
  /** confusion[i][s][t] = P(rater i reports labels[t] | truth labels[s]). */
  confusion: number[][][];
  priors: number[];
  iterations: number;
  converged: boolean;
}

function checkOptions(maxIterations: number, tolerance: number): void {
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new RangeError(`maxIterations must be a positive integer, got ${maxIterations}`);
  }
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be ≥ 0, got ${tolerance}`);
}

function checkRaters(raters: readonly ArrayLike<number>[]): number {
  if (raters.length === 0) throw new RangeError('STAPLE needs at least one rater');
  const n = raters[0]!.length;
  for (let i = 1; i < raters.length; i++) {
    if (raters[i]!.length !== n) {
      throw new RangeError(
        `all raters must have the same number of voxels: rater 0 has ${n}, rater ${i} has ${raters[i]!.length}`,
      );
    }
  }
  return n;
}

/**
 * Per voxel, the raters' decisions as bits (bit i = rater i says foreground), and (with
 * `perKey`) the number of voxels of each key. Up to 8 raters with 4-aligned masks, four voxels
 * are handled per 32-bit word: a byte's "is non-zero" bit is ((b | ((b & 0x7f) + 0x7f)) >> 7) & 1,
 * computed for four bytes at once without carries between them.
 */
function decisionKeys(raters: readonly ArrayLike<number>[], n: number, perKey?: Float64Array): Uint8Array | Uint16Array | Uint32Array {
  const nr = raters.length;
  const key = nr <= 8 ? new Uint8Array(n) : nr <= 16 ? new Uint16Array(n) : new Uint32Array(n);
  const words = n >>> 2;
  let done = 0;
  if (key instanceof Uint8Array && raters.every((r) => r instanceof Uint8Array && (r.byteOffset & 3) === 0)) {
    // One pass over the voxels, four at a time, all raters at once (counts fused in).
    const key32 = new Uint32Array(key.buffer, 0, words);
    const r32 = raters.map((r) => new Uint32Array((r as Uint8Array).buffer, (r as Uint8Array).byteOffset, words));
    for (let w = 0; w < words; w++) {
      let k = 0;
      for (let i = 0; i < nr; i++) {
        const x = r32[i]![w]!;
        k |= (((x | ((x & 0x7f7f7f7f) + 0x7f7f7f7f)) >>> 7) & 0x01010101) << i;
      }
      key32[w] = k;
      if (perKey) {
        perKey[k & 255]!++;
        perKey[(k >>> 8) & 255]!++;
        perKey[(k >>> 16) & 255]!++;
        perKey[k >>> 24]!++;
      }
    }
    done = words * 4;
  }
  for (let i = 0; i < nr; i++) {
    const r = raters[i]!;
    const bit = 1 << i;
    for (let j = done; j < n; j++) key[j]! |= r[j] !== 0 ? bit : 0;
  }
  if (perKey) for (let j = done; j < n; j++) perKey[key[j]!]!++;
  return key;
}

/** Posterior from the two log joint terms, exact at ±∞. */
function posterior(logA: number, logB: number, prior: number): number {
  if (logA === -Infinity) return logB === -Infinity ? prior : 0;
  if (logB === -Infinity) return 1;
  return 1 / (1 + Math.exp(logB - logA));
}

/**
 * Binary STAPLE over masks of equal length (flat voxel arrays; any non-zero value is
 * foreground). See the module documentation for the exact algorithm.
 */
export function stapleBinary(
  raters: readonly Uint8Array[],
  opts: StapleBinaryOptions = {},
): StapleBinaryResult {
  const n = checkRaters(raters);
  const nr = raters.length;
  const maxIterations = opts.maxIterations ?? 100;
  const tolerance = opts.tolerance ?? 1e-14;
  checkOptions(maxIterations, tolerance);
  const weight = opts.confidenceWeight ?? 1;

  // Group voxels by decision pattern when there are few raters (one pass per rater building a
  // key per voxel, one counting pass); otherwise one "pattern" per voxel.
  const usePatterns = nr <= PATTERN_MAX_RATERS;
  let patterns: Uint8Array[]; // per rater: decision per pattern
  let counts: Float64Array; // voxels per pattern
  let voxelKey: Uint8Array | Uint16Array | Uint32Array | null = null;
  let patternOfKey: Int32Array | null = null;
  let fg = 0;
  if (usePatterns) {
    const perKey = new Float64Array(1 << nr);
    const key = decisionKeys(raters, n, perKey);
    patternOfKey = new Int32Array(1 << nr).fill(-1);
    const keys: number[] = [];
    const cnt: number[] = [];
    for (let k = 0; k < perKey.length; k++) {
      if (perKey[k] === 0) continue;
      patternOfKey[k] = keys.length;
      keys.push(k);
      cnt.push(perKey[k]!);
      let bits = 0;
      for (let i = 0; i < nr; i++) bits += (k >>> i) & 1;
      fg += bits * perKey[k]!;
    }
    voxelKey = key;
    const m = keys.length;
    patterns = raters.map((_, i) => {
      const a = new Uint8Array(m);
      for (let k = 0; k < m; k++) a[k] = (keys[k]! >>> i) & 1;
      return a;
    });
    counts = Float64Array.from(cnt);
  } else {
    patterns = raters.map((r) => {
      const a = new Uint8Array(n);
      for (let j = 0; j < n; j++) if (r[j] !== 0) {
        a[j] = 1;
        fg++;
      }
      return a;
    });
    counts = new Float64Array(n).fill(1);
  }

  const base = opts.prior !== undefined ? opts.prior : n === 0 ? 0 : fg / (nr * n);
  const g = base * weight;
  if (!(g >= 0 && g <= 1)) {
    throw new RangeError(`prior × confidenceWeight must lie in [0, 1], got ${g}`);
  }

  const p = new Array<number>(nr).fill(INITIAL_PERFORMANCE);
  const q = new Array<number>(nr).fill(INITIAL_PERFORMANCE);
  const logG = Math.log(g);
  const log1G = Math.log(1 - g);
  const m = counts.length;
  const w = new Float64Array(m);
  const logA = new Float64Array(m);
  const logB = new Float64Array(m);

  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    // E-step (log space).
    logA.fill(logG);
    logB.fill(log1G);
    for (let i = 0; i < nr; i++) {
      const d = patterns[i]!;
      const lp = Math.log(p[i]!);
      const l1p = Math.log(1 - p[i]!);
      const lq = Math.log(q[i]!);
      const l1q = Math.log(1 - q[i]!);
      for (let k = 0; k < m; k++) {
        if (d[k] === 1) {
          logA[k]! += lp;
          logB[k]! += l1q;
        } else {
          logA[k]! += l1p;
          logB[k]! += lq;
        }
      }
    }
    let sumW = 0;
    let sumV = 0;
    for (let k = 0; k < m; k++) {
      const wk = posterior(logA[k]!, logB[k]!, g);
      w[k] = wk;
      sumW += counts[k]! * wk;
      sumV += counts[k]! * (1 - wk);
    }
    // M-step.
    let change = 0;
    for (let i = 0; i < nr; i++) {
      const d = patterns[i]!;
      let fgW = 0;
      let bgV = 0;
      for (let k = 0; k < m; k++) {
        if (d[k] === 1) fgW += counts[k]! * w[k]!;
        else bgV += counts[k]! * (1 - w[k]!);
      }
      const np = sumW > 0 ? fgW / sumW : p[i]!;
      const nq = sumV > 0 ? bgV / sumV : q[i]!;
      change += Math.abs(np - p[i]!) + Math.abs(nq - q[i]!);
      p[i] = np;
      q[i] = nq;
    }
    if (change < tolerance) {
      converged = true;
      break;
    }
  }

  let consensus: Uint8Array;
  let expand: () => Float64Array;
  let posteriorOfKey: Float64Array | null = null;
  if (voxelKey && patternOfKey) {
    // Expand through per-key tables: one lookup per voxel.
    const wOfKey = new Float64Array(patternOfKey.length);
    const cOfKey = new Uint8Array(patternOfKey.length);
    for (let k = 0; k < patternOfKey.length; k++) {
      const idx = patternOfKey[k]!;
      if (idx < 0) continue;
      wOfKey[k] = w[idx]!;
      cOfKey[k] = w[idx]! >= 0.5 ? 1 : 0;
    }
    posteriorOfKey = wOfKey;
    if (voxelKey instanceof Uint8Array) {
      // The key array becomes the consensus in place (no second voxel-sized allocation); the
      // posterior, when read, rebuilds the keys from the raters.
      for (let j = 0; j < n; j++) voxelKey[j] = cOfKey[voxelKey[j]!]!;
      consensus = voxelKey;
      expand = () => {
        const keys = decisionKeys(raters, n);
        const out = new Float64Array(n);
        for (let j = 0; j < n; j++) out[j] = wOfKey[keys[j]!]!;
        return out;
      };
    } else {
      const keys = voxelKey;
      consensus = new Uint8Array(n);
      for (let j = 0; j < n; j++) consensus[j] = cOfKey[keys[j]!]!;
      expand = () => {
        const out = new Float64Array(n);
        for (let j = 0; j < n; j++) out[j] = wOfKey[keys[j]!]!;
        return out;
      };
    }
  } else {
    consensus = new Uint8Array(n);
    for (let j = 0; j < n; j++) consensus[j] = w[j]! >= 0.5 ? 1 : 0;
    expand = () => w;
  }
  let probability: Float64Array | null = null;
  return {
    get probability() {
      probability ??= expand();
      return probability;
    },
    posteriorOfKey,
    consensus,
    sensitivity: p,
    specificity: q,
    prior: g,
    iterations,
    converged,
  };
}

/**
 * Multi-label STAPLE over label maps of equal length. See the module documentation for the
 * exact algorithm. Memory: one Float64Array per label of the voxel count.
 */
export function stapleMultiLabel(
  raters: readonly ArrayLike<number>[],
  labels?: readonly number[],
  opts: StapleMultiLabelOptions = {},
): StapleMultiLabelResult {
  const n = checkRaters(raters);
  const nr = raters.length;
  const maxIterations = opts.maxIterations ?? 100;
  const tolerance = opts.tolerance ?? 1e-14;
  checkOptions(maxIterations, tolerance);

  let labelList: number[];
  if (labels !== undefined) {
    labelList = [...labels];
    if (new Set(labelList).size !== labelList.length) throw new RangeError('labels must be distinct');
  } else {
    const seen = new Set<number>();
    for (const r of raters) for (let j = 0; j < n; j++) seen.add(r[j]!);
    labelList = [...seen].sort((a, b) => a - b);
  }
  const nl = labelList.length;
  if (nl === 0) {
    return {
      labels: [],
      consensus: new Int32Array(0),
      probabilities: [],
      confusion: raters.map(() => []),
      priors: [],
      iterations: 0,
      converged: true,
    };
  }
  const index = new Map<number, number>();
  labelList.forEach((l, s) => index.set(l, s));

  // Observed label indices per rater.
  const obs = raters.map((r, i) => {
    const a = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const s = index.get(r[j]!);
      if (s === undefined) {
        throw new RangeError(`rater ${i} has value ${r[j]} at voxel ${j}, which is not in labels`);
      }
      a[j] = s;
    }
    return a;
  });

  let priors: number[];
  if (opts.priors !== undefined) {
    if (opts.priors.length !== nl) throw new RangeError('priors must have one entry per label');
    priors = [...opts.priors];
    for (const f of priors) if (!(f >= 0 && f <= 1)) throw new RangeError('priors must lie in [0, 1]');
  } else {
    const c = new Float64Array(nl);
    for (const a of obs) for (let j = 0; j < n; j++) c[a[j]!]!++;
    priors = Array.from(c, (x) => (n === 0 ? 1 / nl : x / (nr * n)));
  }
  const logPrior = priors.map((f) => Math.log(f));

  const off = nl > 1 ? (1 - INITIAL_DIAGONAL) / (nl - 1) : 0;
  const theta: number[][][] = raters.map(() =>
    labelList.map((_, s) => labelList.map((__, t) => (nl === 1 ? 1 : s === t ? INITIAL_DIAGONAL : off))),
  );

  const probabilities = labelList.map(() => new Float64Array(n));
  const logTheta = new Float64Array(nr * nl * nl);
  const logJ = new Float64Array(nl);
  let iterations = 0;
  let converged = false;
  while (iterations < maxIterations) {
    iterations++;
    for (let i = 0; i < nr; i++)
      for (let s = 0; s < nl; s++)
        for (let t = 0; t < nl; t++) logTheta[(i * nl + s) * nl + t] = Math.log(theta[i]![s]![t]!);
    // E-step.
    for (let j = 0; j < n; j++) {
      let mx = -Infinity;
      for (let s = 0; s < nl; s++) {
        let v = logPrior[s]!;
        for (let i = 0; i < nr; i++) v += logTheta[(i * nl + s) * nl + obs[i]![j]!]!;
        logJ[s] = v;
        if (v > mx) mx = v;
      }
      if (mx === -Infinity) {
        // Impossible under the current parameters: fall back to the priors.
        const tot = priors.reduce((a, b) => a + b, 0);
        for (let s = 0; s < nl; s++) probabilities[s]![j] = tot > 0 ? priors[s]! / tot : 1 / nl;
        continue;
      }
      let sum = 0;
      for (let s = 0; s < nl; s++) {
        const e = Math.exp(logJ[s]! - mx);
        logJ[s] = e;
        sum += e;
      }
      for (let s = 0; s < nl; s++) probabilities[s]![j] = logJ[s]! / sum;
    }
    // M-step.
    const rowSum = new Float64Array(nl);
    for (let s = 0; s < nl; s++) {
      const ws = probabilities[s]!;
      let acc = 0;
      for (let j = 0; j < n; j++) acc += ws[j]!;
      rowSum[s] = acc;
    }
    let change = 0;
    for (let i = 0; i < nr; i++) {
      const a = obs[i]!;
      for (let s = 0; s < nl; s++) {
        if (!(rowSum[s]! > 0)) continue;
        const ws = probabilities[s]!;
        const acc = new Float64Array(nl);
        for (let j = 0; j < n; j++) acc[a[j]!]! += ws[j]!;
        const row = theta[i]![s]!;
        for (let t = 0; t < nl; t++) {
          const v = acc[t]! / rowSum[s]!;
          change += Math.abs(v - row[t]!);
          row[t] = v;
        }
      }
    }
    if (change < tolerance) {
      converged = true;
      break;
    }
  }

  const consensus = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let best = 0;
    let bestV = probabilities[0]![j]!;
    let tie = false;
    for (let s = 1; s < nl; s++) {
      const v = probabilities[s]![j]!;
      if (v > bestV) {
        bestV = v;
        best = s;
        tie = false;
      } else if (v === bestV) {
        tie = true;
      }
    }
    consensus[j] = tie && opts.undecidedLabel !== undefined ? opts.undecidedLabel : labelList[best]!;
  }
  return { labels: labelList, consensus, probabilities, confusion: theta, priors, iterations, converged };
}
