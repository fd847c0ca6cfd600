/**
 * Agreement metrics for categorical (and, for Krippendorff's α, ordinal, interval and ratio) ratings.
 *
 * All functions are pure and isomorphic. Conventions shared by every function here:
 *
 * - A rating is a `string` or a finite `number`; `null` (where accepted) means "missing".
 *   `1` and `'1'` are different categories. `NaN` and ±Infinity are rejected with a `TypeError`
 *   (they are almost always a missing value in disguise).
 * - Empty input (no items / units / raters) throws a `RangeError`.
 * - When a coefficient is undefined because the data show no variation at all (e.g. every rating
 *   is the same category, so expected disagreement is 0), the result is `NaN` — the value
 *   scikit-learn's `cohen_kappa_score` returns in the same situation — rather than an exception.
 *
 * Default label order (used by Cohen's weighted κ and ordinal α when no explicit order is given):
 * numbers ascending numerically, strings ascending by Unicode code point (the order of
 * `numpy.unique`, hence of scikit-learn's `unique_labels`). Mixing numbers and strings without an
 * explicit order is a `TypeError` (scikit-learn rejects it too).
 */

/** A single categorical rating. */
export type Rating = string | number;
/** A rating that may be missing. */
export type MaybeRating = Rating | null;

export type KappaWeights = 'none' | 'linear' | 'quadratic';

export interface CohenKappaOptions {
  /** `'none'` (default): unweighted κ; `'linear'` / `'quadratic'`: weighted by label-index distance. */
  weights?: KappaWeights | null;
  /**
   * Label set and order (as scikit-learn's `labels=`). Pairs where either rating is not listed
   * are ignored. Defaults to the sorted union of the labels in `a` and `b`.
   */
  labels?: readonly Rating[];
}

export type AlphaLevel = 'nominal' | 'ordinal' | 'interval' | 'ratio';

export interface KrippendorffAlphaOptions {
  /**
   * Order of the values for the ordinal metric (lowest first). Defaults to the sorted values.
   * Every non-missing value must be listed. Ignored for the other levels.
   */
  order?: readonly Rating[];
}

// ---------------------------------------------------------------------------------------------
// Helpers

function checkRating(v: unknown, where: string): asserts v is Rating {
  if (typeof v === 'string') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`${where}: rating ${String(v)} is not a finite number`);
    return;
  }
  throw new TypeError(`${where}: rating must be a string or a number, got ${v === null ? 'null' : typeof v}`);
}

function checkMaybeRating(v: unknown, where: string): asserts v is MaybeRating {
  if (v === null) return;
  checkRating(v, where);
}

/** Compare strings by Unicode code point (not UTF-16 code unit), as numpy does. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done) return cb.done ? 0 : -1;
    if (cb.done) return 1;
    const d = (ca.value.codePointAt(0) ?? 0) - (cb.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
}

/** Sort distinct labels: numbers numerically or strings by code point; mixed types → TypeError. */
function sortLabels(values: Iterable<Rating>, where: string): Rating[] {
  const list = [...values];
  const hasNum = list.some((v) => typeof v === 'number');
  const hasStr = list.some((v) => typeof v === 'string');
  if (hasNum && hasStr) {
    throw new TypeError(`${where}: ratings mix numbers and strings; pass an explicit label order`);
  }
  if (hasNum) return (list as number[]).sort((x, y) => x - y);
  return (list as string[]).sort(compareCodePoints);
}

function indexLabels(labels: readonly Rating[], where: string): Map<Rating, number> {
  const index = new Map<Rating, number>();
  labels.forEach((l, i) => {
    checkRating(l, `${where} labels[${i}]`);
    if (index.has(l)) throw new RangeError(`${where}: label ${JSON.stringify(l)} is listed twice`);
    index.set(l, i);
  });
  return index;
}

// ---------------------------------------------------------------------------------------------
// Percent agreement

/**
 * Observed pairwise percent agreement.
 *
 * `ratings` is items × raters (`ratings[i][r]` = rater r's label for item i, `null` = missing).
 * For each item i with m_i ≥ 2 non-missing ratings, the item's agreement is the proportion of
 * agreeing pairs among its m_i(m_i − 1)/2 pairs of non-missing ratings:
 *
 *     P_i = Σ_c n_ic (n_ic − 1) / (m_i (m_i − 1))
 *
 * where n_ic is the number of ratings of category c on item i. The result is the mean of P_i over
 * the items with at least two ratings (items with fewer are skipped):
 *
 *     P = (1 / N') Σ_i P_i ∈ [0, 1]
 *
 * With complete data and a constant number of raters this equals Fleiss' P̄.
 *
 * @throws RangeError if there are no items, or no item has two non-missing ratings.
 */
export function percentAgreement(ratings: readonly (readonly MaybeRating[])[]): number {
  if (ratings.length === 0) throw new RangeError('percentAgreement: no items');
  let sum = 0;
  let count = 0;
  ratings.forEach((row, i) => {
    const counts = new Map<Rating, number>();
    let m = 0;
    row.forEach((v, r) => {
      checkMaybeRating(v, `percentAgreement: ratings[${i}][${r}]`);
      if (v === null) return;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      m++;
    });
    if (m < 2) return;
    let agree = 0;
    for (const c of counts.values()) agree += c * (c - 1);
    sum += agree / (m * (m - 1));
    count++;
  });
  if (count === 0) throw new RangeError('percentAgreement: no item has at least two non-missing ratings');
  return sum / count;
}

// ---------------------------------------------------------------------------------------------
// Cohen's kappa

/**
 * Cohen's κ between two raters, identical to scikit-learn's
 * `sklearn.metrics.cohen_kappa_score(a, b, labels=labels, weights=weights)`.
 *
 * With K labels in order ℓ_0 … ℓ_{K−1}, let C be the K × K confusion matrix
 * (C_ij = number of items with a = ℓ_i and b = ℓ_j; pairs with a label outside the list are
 * ignored), r_i = Σ_j C_ij, s_j = Σ_i C_ij, n = Σ C_ij and the expected matrix E_ij = r_i s_j / n.
 * The disagreement weights are
 *
 *     none:      w_ij = 0 if i = j, else 1
 *     linear:    w_ij = |i − j|
 *     quadratic: w_ij = (i − j)²
 *
 * (distances are label *index* distances in the given / sorted order, not label values), and
 *
 *     κ = 1 − Σ w_ij C_ij / Σ w_ij E_ij.
 *
 * Unweighted this is the usual (p_o − p_e) / (1 − p_e). When the expected disagreement is 0
 * (e.g. both raters use one and the same category throughout) κ is 0/0 and the result is `NaN`,
 * as in scikit-learn.
 *
 * @throws RangeError if `a` and `b` differ in length, are empty, or (with `labels`) none of the
 *   labels occurs in `a` (scikit-learn's "At least one label specified must be in y_true").
 * @throws TypeError for non-finite numbers, `null`, or mixed number/string labels without `labels`.
 */
export function cohenKappa(a: readonly Rating[], b: readonly Rating[], options: CohenKappaOptions = {}): number {
  if (a.length !== b.length) {
    throw new RangeError(`cohenKappa: the raters rated different numbers of items (${a.length} vs ${b.length})`);
  }
  if (a.length === 0) throw new RangeError('cohenKappa: no items');
  a.forEach((v, i) => checkRating(v, `cohenKappa: a[${i}]`));
  b.forEach((v, i) => checkRating(v, `cohenKappa: b[${i}]`));

  const weights = options.weights ?? 'none';
  if (weights !== 'none' && weights !== 'linear' && weights !== 'quadratic') {
    throw new RangeError(`cohenKappa: unknown weighting ${JSON.stringify(weights)}`);
  }

  let labels: readonly Rating[];
  if (options.labels) {
    labels = options.labels;
    const index = indexLabels(labels, 'cohenKappa');
    if (!a.some((v) => index.has(v))) {
      throw new RangeError('cohenKappa: at least one of the given labels must occur in a');
    }
  } else {
    labels = sortLabels(new Set<Rating>([...a, ...b]), 'cohenKappa');
  }
  const index = indexLabels(labels, 'cohenKappa');
  const k = labels.length;

  const confusion = new Float64Array(k * k);
  for (let t = 0; t < a.length; t++) {
    const i = index.get(a[t] as Rating);
    const j = index.get(b[t] as Rating);
    if (i === undefined || j === undefined) continue;
    confusion[i * k + j]! += 1;
  }
  const rowSum = new Float64Array(k);
  const colSum = new Float64Array(k);
  let n = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const c = confusion[i * k + j]!;
      rowSum[i]! += c;
      colSum[j]! += c;
      n += c;
    }
  }

  const weight = (i: number, j: number): number =>
    weights === 'none' ? (i === j ? 0 : 1) : weights === 'linear' ? Math.abs(i - j) : (i - j) * (i - j);

  let observed = 0;
  let expected = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = weight(i, j);
      if (w === 0) continue;
      observed += w * confusion[i * k + j]!;
      expected += (w * colSum[i]! * rowSum[j]!) / n;
    }
  }
  return 1 - observed / expected;
}

// ---------------------------------------------------------------------------------------------
// Fleiss' kappa

/**
 * Fleiss' κ (Fleiss 1971) from a subjects × categories count table:
 * `counts[i][j]` = number of raters who put subject i in category j. Every row must sum to the same
 * number of ratings n ≥ 2.
 *
 * With N subjects:
 *
 *     p_j = Σ_i n_ij / (N n)                     (share of all ratings in category j)
 *     P_i = (Σ_j n_ij² − n) / (n (n − 1))        (agreement on subject i)
 *     P̄  = (1/N) Σ_i P_i,   P̄_e = Σ_j p_j²
 *     κ  = (P̄ − P̄_e) / (1 − P̄_e)
 *
 * If all ratings fall in one category, P̄ = P̄_e = 1 and κ = 0/0 = `NaN`.
 *
 * @throws RangeError for an empty table, unequal row sums, fewer than two ratings per subject, or
 *   negative / non-integer counts.
 */
export function fleissKappaFromCounts(counts: readonly (readonly number[])[]): number {
  const subjects = counts.length;
  if (subjects === 0) throw new RangeError('fleissKappa: no items');
  const k = counts[0]!.length;
  if (k === 0) throw new RangeError('fleissKappa: no categories');
  let n = -1;
  const colSum = new Float64Array(k);
  let pSum = 0;
  counts.forEach((row, i) => {
    if (row.length !== k) throw new RangeError(`fleissKappa: row ${i} has ${row.length} categories, expected ${k}`);
    let m = 0;
    let sq = 0;
    row.forEach((c, j) => {
      if (!Number.isInteger(c) || c < 0) {
        throw new RangeError(`fleissKappa: counts[${i}][${j}] = ${c} is not a non-negative integer`);
      }
      m += c;
      sq += c * c;
      colSum[j]! += c;
    });
    if (n === -1) n = m;
    if (m !== n) {
      throw new RangeError(
        `fleissKappa: every item must be rated by the same number of raters (item 0 has ${n}, item ${i} has ${m})`,
      );
    }
    if (m < 2) throw new RangeError(`fleissKappa: item ${i} has ${m} rating(s); at least two are needed`);
    pSum += (sq - m) / (m * (m - 1));
  });
  const total = subjects * n;
  const pBar = pSum / subjects;
  let pE = 0;
  for (let j = 0; j < k; j++) {
    const p = colSum[j]! / total;
    pE += p * p;
  }
  return (pBar - pE) / (1 - pE);
}

/**
 * Fleiss' κ from items × raters ratings (`ratings[i][r]`, `null` = missing). Every item must have
 * the same number n ≥ 2 of non-missing ratings (which raters gave them may differ). The categories
 * are the distinct ratings; see {@link fleissKappaFromCounts} for the formula.
 *
 * @throws RangeError for empty input or when items have different numbers of ratings.
 */
export function fleissKappa(ratings: readonly (readonly MaybeRating[])[]): number {
  if (ratings.length === 0) throw new RangeError('fleissKappa: no items');
  const index = new Map<Rating, number>();
  const rows: Map<number, number>[] = ratings.map((row, i) => {
    const counts = new Map<number, number>();
    row.forEach((v, r) => {
      checkMaybeRating(v, `fleissKappa: ratings[${i}][${r}]`);
      if (v === null) return;
      let j = index.get(v);
      if (j === undefined) {
        j = index.size;
        index.set(v, j);
      }
      counts.set(j, (counts.get(j) ?? 0) + 1);
    });
    return counts;
  });
  const k = Math.max(index.size, 1);
  const table = rows.map((counts) => {
    const row = new Array<number>(k).fill(0);
    for (const [j, c] of counts) row[j] = c;
    return row;
  });
  return fleissKappaFromCounts(table);
}

// ---------------------------------------------------------------------------------------------
// Krippendorff's alpha

/**
 * Krippendorff's α for reliability data with missing values, computed through the coincidence
 * matrix as in Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability".
 *
 * `ratings` is Krippendorff's reliability data matrix: observers (raters) × units,
 * `ratings[r][u]` = value given by observer r to unit u, `null` = missing.
 *
 * Let m_u be the number of values in unit u. Units with m_u < 2 are not pairable and are dropped.
 * The coincidence matrix is
 *
 *     o_ck = Σ_u (number of ordered pairs (c, k) of values from different observers in unit u) / (m_u − 1)
 *
 * with marginals n_c = Σ_k o_ck and n = Σ_c n_c (the number of pairable values). Then
 *
 *     α = 1 − D_o / D_e = 1 − (n − 1) Σ_c Σ_k o_ck δ²_ck / Σ_c Σ_k n_c n_k δ²_ck
 *
 * with the difference function δ² of the level of measurement:
 *
 *     nominal:  δ²_ck = 0 if c = k, else 1
 *     ordinal:  δ²_ck = (Σ_{g=c..k} n_g − (n_c + n_k) / 2)²   (ranks c ≤ k in the value order, using
 *               the marginal frequencies n_g of the coincidence matrix)
 *     interval: δ²_ck = (c − k)²
 *     ratio:    δ²_ck = ((c − k) / (c + k))²   (0 when c = k = 0)
 *
 * Interval and ratio data must be numbers (ratio data should be non-negative). Ordinal data use
 * `options.order` or the default sort order. α = 1 is perfect reliability, α = 0 chance level.
 * If the pairable values show no variation (D_e = 0) α is 0/0 and the result is `NaN`.
 *
 * @throws RangeError for no observers or units, rows of different lengths, or no pairable unit.
 * @throws TypeError for string values at the interval/ratio level, or ordinal values missing from `order`.
 */
export function krippendorffAlpha(
  ratings: readonly (readonly MaybeRating[])[],
  level: AlphaLevel,
  options: KrippendorffAlphaOptions = {},
): number {
  if (level !== 'nominal' && level !== 'ordinal' && level !== 'interval' && level !== 'ratio') {
    throw new RangeError(`krippendorffAlpha: unknown level ${JSON.stringify(level)}`);
  }
  const observers = ratings.length;
  if (observers === 0) throw new RangeError('krippendorffAlpha: no observers');
  const units = ratings[0]!.length;
  if (units === 0) throw new RangeError('krippendorffAlpha: no units');
  ratings.forEach((row, r) => {
    if (row.length !== units) {
      throw new RangeError(`krippendorffAlpha: observer ${r} rated ${row.length} units, observer 0 rated ${units}`);
    }
    row.forEach((v, u) => {
      checkMaybeRating(v, `krippendorffAlpha: ratings[${r}][${u}]`);
      if (v !== null && typeof v !== 'number' && (level === 'interval' || level === 'ratio')) {
        throw new TypeError(`krippendorffAlpha: ${level} data must be numbers, got ${JSON.stringify(v)} at [${r}][${u}]`);
      }
    });
  });

  // Value index over all non-missing values.
  const index = new Map<Rating, number>();
  const values: Rating[] = [];
  for (const row of ratings) {
    for (const v of row) {
      if (v !== null && !index.has(v)) {
        index.set(v, values.length);
        values.push(v);
      }
    }
  }
  const v = values.length;

  // Coincidence matrix (sparse: key = c * v + k).
  const coincidence = new Map<number, number>();
  const marginal = new Float64Array(v);
  let n = 0;
  const inUnit = new Map<number, number>();
  for (let u = 0; u < units; u++) {
    inUnit.clear();
    let m = 0;
    for (let r = 0; r < observers; r++) {
      const x = ratings[r]![u]!;
      if (x === null) continue;
      const c = index.get(x)!;
      inUnit.set(c, (inUnit.get(c) ?? 0) + 1);
      m++;
    }
    if (m < 2) continue;
    for (const [c, nc] of inUnit) {
      for (const [k, nk] of inUnit) {
        const pairs = c === k ? nc * (nc - 1) : nc * nk;
        if (pairs === 0) continue;
        const key = c * v + k;
        coincidence.set(key, (coincidence.get(key) ?? 0) + pairs / (m - 1));
      }
      marginal[c]! += nc;
    }
    n += m;
  }
  if (n === 0) throw new RangeError('krippendorffAlpha: no unit has at least two values (nothing is pairable)');

  const delta2 = differenceFunction(level, values, marginal, options);

  let observed = 0;
  for (const [key, o] of coincidence) {
    const c = Math.floor(key / v);
    const k = key - c * v;
    if (c !== k) observed += o * delta2(c, k);
  }
  let expected = 0;
  for (let c = 0; c < v; c++) {
    const nc = marginal[c]!;
    if (nc === 0) continue;
    for (let k = c + 1; k < v; k++) {
      const nk = marginal[k]!;
      if (nk === 0) continue;
      expected += 2 * nc * nk * delta2(c, k);
    }
  }
  return 1 - ((n - 1) * observed) / expected;
}

/** δ² for value indices c, k (symmetric, δ²(c, c) = 0). */
function differenceFunction(
  level: AlphaLevel,
  values: readonly Rating[],
  marginal: Float64Array,
  options: KrippendorffAlphaOptions,
): (c: number, k: number) => number {
  switch (level) {
    case 'nominal':
      return (c, k) => (c === k ? 0 : 1);
    case 'interval':
      return (c, k) => {
        const d = (values[c] as number) - (values[k] as number);
        return d * d;
      };
    case 'ratio':
      return (c, k) => {
        const x = values[c] as number;
        const y = values[k] as number;
        if (x === y) return 0;
        const d = (x - y) / (x + y);
        return d * d;
      };
    case 'ordinal': {
      let ordered: readonly Rating[];
      if (options.order) {
        const orderIndex = indexLabels(options.order, 'krippendorffAlpha');
        for (const x of values) {
          if (!orderIndex.has(x)) {
            throw new TypeError(`krippendorffAlpha: value ${JSON.stringify(x)} is not in the given ordinal order`);
          }
        }
        ordered = options.order;
      } else {
        ordered = sortLabels(values, 'krippendorffAlpha');
      }
      // rank[c] = position of value c in the order; cum[g] = Σ_{h<g} n_h over ranks.
      const valueIndex = new Map<Rating, number>(values.map((x, i) => [x, i]));
      const rank = new Int32Array(values.length);
      const cum = new Float64Array(ordered.length + 1);
      ordered.forEach((x, g) => {
        const c = valueIndex.get(x);
        if (c !== undefined) rank[c] = g;
        cum[g + 1] = cum[g]! + (c === undefined ? 0 : marginal[c]!);
      });
      return (c, k) => {
        if (c === k) return 0;
        let lo = rank[c]!;
        let hi = rank[k]!;
        if (lo > hi) [lo, hi] = [hi, lo];
        const nLo = cum[lo + 1]! - cum[lo]!;
        const nHi = cum[hi + 1]! - cum[hi]!;
        const d = cum[hi + 1]! - cum[lo]! - (nLo + nHi) / 2;
        return d * d;
      };
    }
  }
}
