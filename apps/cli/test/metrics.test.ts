import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../packages/core/test/random.js';

// `caliper metrics` run as a process (built CLI: `npx tsc -b packages/core packages/media apps/server apps/cli`)
// and checked against scikit-learn, a numpy Fleiss κ, Krippendorff's published example, scipy
// surface distances and a numpy STAPLE, all computed by /usr/bin/python3 in this test.
const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const PYTHON = '/usr/bin/python3';
const ready =
  Boolean(process.env.CI) || (existsSync(BIN) && spawnSync(PYTHON, ['-c', 'import sklearn, nibabel, scipy']).status === 0);
const work = mkdtempSync(path.join(tmpdir(), 'caliper-cli-metrics-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
let inputCounter = 0;
/** Writes `input` to a JSON file in the work folder and runs `caliper metrics <name> --input <file>`. */
function metrics(name: string, input: unknown, raw?: string): Promise<Run> {
  const file = path.join(work, `input-${inputCounter++}.json`);
  writeFileSync(file, raw ?? JSON.stringify(input));
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'metrics', name, '--input', file], { encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
async function ok(name: string, input: unknown): Promise<Record<string, unknown>> {
  const r = await metrics(name, input);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}
function python(script: string, args: string[] = []): unknown {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// ---------------------------------------------------------------------------------------------
// Categorical

const CATEGORICAL_PY = String.raw`
import json, sys, math
import numpy as np
from sklearn.metrics import cohen_kappa_score
cases = json.loads(sys.argv[1])
out = {'cohen': [], 'fleiss': []}
for c in cases['cohen']:
    k = cohen_kappa_score(c['a'], c['b'], weights=c['weights'])
    out['cohen'].append(None if math.isnan(k) else float(k))
for ratings in cases['fleiss']:
    # Fleiss (1971) from the definition: n_ij = raters assigning item i to category j.
    cats = sorted({str(v) for row in ratings for v in row})
    n = np.array([[sum(1 for v in row if str(v) == c) for c in cats] for row in ratings], dtype=float)
    N, m = n.shape[0], n.sum(axis=1)[0]
    P_i = (np.sum(n * n, axis=1) - m) / (m * (m - 1))
    p_j = n.sum(axis=0) / (N * m)
    P_bar, P_e = P_i.mean(), np.sum(p_j * p_j)
    out['fleiss'].append(float((P_bar - P_e) / (1 - P_e)))
print(json.dumps(out))
`;

const seeded = seededRandom;

describe.skipIf(!ready)('caliper metrics: categorical', () => {
  const rnd = seeded(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const numbers = [0, 1, 2, 3, 4];
  const strings = ['absent', 'mild', 'moderate', 'severe'];
  // Near-agreeing random vectors: b copies a 60% of the time.
  const vector = <T>(labels: readonly T[], n: number): [T[], T[]] => {
    const a = Array.from({ length: n }, () => pick(labels));
    return [a, a.map((v) => (rnd() < 0.6 ? v : pick(labels)))];
  };
  const cohenCases = [
    ...(['none', 'linear', 'quadratic'] as const).flatMap((w) => [
      { ...zip(vector(numbers, 200)), weights: w === 'none' ? null : w },
      { ...zip(vector(strings, 57)), weights: w === 'none' ? null : w },
    ]),
    { a: ['x', 'x', 'x'], b: ['x', 'x', 'x'], weights: null }, // one category only: sklearn gives nan
    { a: [3, 1, 2], b: [3, 1, 2], weights: 'quadratic' as const }, // full agreement
  ];
  function zip([a, b]: [(string | number)[], (string | number)[]]) {
    return { a, b };
  }
  const fleissCases = [
    Array.from({ length: 40 }, () => {
      const truth = pick(strings);
      return Array.from({ length: 5 }, () => (rnd() < 0.7 ? truth : pick(strings)));
    }),
    Array.from({ length: 25 }, () => Array.from({ length: 3 }, () => pick(numbers))),
  ];
  let reference: { cohen: (number | null)[]; fleiss: number[] };
  beforeAll(() => {
    reference = python(CATEGORICAL_PY, [JSON.stringify({ cohen: cohenCases, fleiss: fleissCases })]) as typeof reference;
  });

  it('cohen_kappa equals sklearn cohen_kappa_score (unweighted, linear, quadratic; numbers and strings)', async () => {
    const results = await Promise.all(cohenCases.map((c) => ok('cohen_kappa', c)));
    results.forEach((r, i) => {
      const expected = reference.cohen[i];
      if (expected === null) expect(r.value).toBeNull();
      else expect(Math.abs((r.value as number) - expected!)).toBeLessThanOrEqual(1e-12);
    });
    expect(reference.cohen.at(-2)).toBeNull(); // sklearn: nan for a single category
    expect(results.at(-1)!.value).toBe(1);
  });

  it('fleiss_kappa equals a numpy implementation of the definition', async () => {
    const results = await Promise.all(fleissCases.map((ratings) => ok('fleiss_kappa', { ratings })));
    results.forEach((r, i) => expect(Math.abs((r.value as number) - reference.fleiss[i]!)).toBeLessThanOrEqual(1e-12));
  });

  it("krippendorff_alpha reproduces Krippendorff's (2011) published example", async () => {
    // 4 coders × 12 units with missing values ("Computing Krippendorff's Alpha-Reliability").
    const data = [
      [1, 2, 3, 3, 2, 1, 4, 1, 2, null, null, null],
      [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, null, 3],
      [null, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, null],
      [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, null],
    ];
    const published = { nominal: 0.743, ordinal: 0.815, interval: 0.849, ratio: 0.797 };
    const levels = Object.entries(published);
    // The last run has no level: nominal is the default.
    const results = await Promise.all([...levels.map(([level]) => ok('krippendorff_alpha', { data, level })), ok('krippendorff_alpha', { data })]);
    levels.forEach(([, value], i) => expect((results[i]!.value as number).toFixed(3)).toBe(value.toFixed(3)));
    expect((results[4]!.value as number).toFixed(3)).toBe('0.743');
  });

  it('rejects bad categorical input with exit 2', async () => {
    const [lengths, weights, level, unknown, badJson] = await Promise.all([
      metrics('cohen_kappa', { a: [1, 2], b: [1] }),
      metrics('cohen_kappa', { a: [1], b: [1], weights: 'cubic' }),
      metrics('krippendorff_alpha', { data: [[1]], level: 'fuzzy' }),
      metrics('bogus', {}),
      metrics('fleiss_kappa', null, '{"ratings": [[1, 2],'),
    ]);
    expect(lengths.code).toBe(2);
    expect(lengths.stderr).toMatch(/different numbers of items/);
    expect(weights.code).toBe(2);
    expect(weights.stderr).toMatch(/weights/);
    expect(level.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown metric "bogus"/);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/not valid JSON/);
    const noInput = spawnSync(process.execPath, [BIN, 'metrics', 'cohen_kappa'], { encoding: 'utf8' });
    expect(noInput.status).toBe(2);
    expect(noInput.stderr).toMatch(/usage: caliper metrics/);
  });
});

// ---------------------------------------------------------------------------------------------
// Segmentation and STAPLE

const IMAGES_PY = String.raw`
import json, sys
import numpy as np
import nibabel as nib
from scipy import ndimage

work = sys.argv[1]
rng = np.random.default_rng(7)
shape = (48, 40, 20)
zooms = np.array([0.7, 0.9, 2.5])
# Oblique: rotation of 20° about z and 10° about x, times the anisotropic zooms.
def rot(axis, deg):
    t = np.deg2rad(deg); c, s = np.cos(t), np.sin(t)
    m = np.eye(3)
    i, j = [(1, 2), (0, 2), (0, 1)][axis]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m
affine = np.eye(4)
affine[:3, :3] = rot(2, 20) @ rot(0, 10) @ np.diag(zooms)
affine[:3, 3] = [-12.5, 30.0, 4.0]

grid = np.stack(np.meshgrid(*[np.arange(s) for s in shape], indexing='ij'), -1)
def blobs(n, seed, noise_seed=None, shift=(0, 0, 0), scale=1.0):
    # Union of n random ellipsoids with a smooth random boundary perturbation; a second rater
    # uses the same seed with another noise seed, a shift (voxels) and a radius scale.
    r = np.random.default_rng(seed)
    field = np.full(shape, -np.inf)
    for _ in range(n):
        c = r.uniform([8, 8, 3], [40, 32, 17]) + np.array(shift)
        rad = r.uniform([4, 4, 2], [9, 8, 5]) * scale
        field = np.maximum(field, 1 - np.sum(((grid - c) / rad) ** 2, -1))
    nr = np.random.default_rng(seed if noise_seed is None else noise_seed)
    noise = ndimage.gaussian_filter(nr.normal(size=shape), 1.0) * 0.6
    return field + noise > 0.15

def save(name, data, aff=affine, dtype=np.uint8):
    img = nib.Nifti1Image(np.asarray(data).astype(dtype), aff)
    nib.save(img, f'{work}/{name}')

st = ndimage.generate_binary_structure(3, 1)
sampling = np.sqrt((affine[:3, :3] ** 2).sum(0))
def metrics(a, b):
    na, nb = int(a.sum()), int(b.sum()); inter = int((a & b).sum())
    if na + nb == 0:
        return {'dice': 1.0, 'iou': 1.0, 'hd': 0.0, 'hd95': 0.0, 'assd': 0.0}
    if na == 0 or nb == 0:
        return {'dice': 0.0, 'iou': 0.0, 'hd': None, 'hd95': None, 'assd': None}
    sa = a & ~ndimage.binary_erosion(a, structure=st, border_value=0)
    sb = b & ~ndimage.binary_erosion(b, structure=st, border_value=0)
    ab = ndimage.distance_transform_edt(~sb, sampling=sampling)[sa]
    ba = ndimage.distance_transform_edt(~sa, sampling=sampling)[sb]
    return {'dice': 2 * inter / (na + nb), 'iou': inter / (na + nb - inter),
            'hd': float(max(ab.max(), ba.max())),
            'hd95': float(max(np.percentile(ab, 95), np.percentile(ba, 95))),
            'assd': float((ab.sum() + ba.sum()) / (ab.size + ba.size))}

ref = {}
a, b = blobs(3, 1), blobs(3, 1, noise_seed=2, shift=(1.5, -1, 0.5), scale=1.05)
save('a.nii.gz', a); save('b.nii', b)
ref['blobs'] = metrics(a, b)
# Label maps: label 2 of each.
la = a.astype(np.int16) + (blobs(2, 3) & ~a) * 2
lb = b.astype(np.int16) + (blobs(2, 3, noise_seed=4, shift=(-1, 0, 0)) & ~b) * 2
save('la.nii.gz', la, dtype=np.int16); save('lb.nii.gz', lb, dtype=np.int16)
ref['label2'] = metrics(la == 2, lb == 2)
# Disjoint and empty masks.
d1 = np.zeros(shape, bool); d1[2:10, 2:10, 2:6] = True
d2 = np.zeros(shape, bool); d2[30:40, 25:35, 10:16] = True
save('d1.nii.gz', d1); save('d2.nii.gz', d2); save('empty.nii.gz', np.zeros(shape))
ref['disjoint'] = metrics(d1, d2)
# Mismatches.
save('small.nii.gz', np.zeros((10, 10, 10)))
moved = affine.copy(); moved[0, 3] += 0.5
save('moved.nii.gz', a, aff=moved)

# STAPLE raters: a truth blob with per-rater boundary noise, flips and shifts.
truth = blobs(2, 11)
raters = []
for i in range(4):
    r = np.random.default_rng(100 + i)
    m = ndimage.binary_dilation(truth, iterations=1) if i % 2 else ndimage.binary_erosion(truth, iterations=1)
    m = np.roll(m, i - 1, axis=0)
    flip = r.random(shape) < 0.002 * (i + 1)
    m = m ^ flip
    raters.append(m)
    save(f'r{i}.nii.gz', m)

def staple(D, tol=1e-14, max_iter=100):
    # Binary STAPLE (Warfield 2004) voxel by voxel, ITK initialisation: p = q = 0.99999,
    # prior g = mean foreground fraction (fixed); E-step then M-step; stop when
    # sum |dp| + |dq| < tol or after max_iter iterations.
    D = D.reshape(D.shape[0], -1)
    g = D.mean()
    p = np.full(D.shape[0], 0.99999); q = np.full(D.shape[0], 0.99999)
    for it in range(1, max_iter + 1):
        la = np.log(g) + np.where(D, np.log(p)[:, None], np.log(1 - p)[:, None]).sum(0)
        lb = np.log(1 - g) + np.where(D, np.log(1 - q)[:, None], np.log(q)[:, None]).sum(0)
        W = 1 / (1 + np.exp(lb - la))
        sw, sv = W.sum(), (1 - W).sum()
        np_ = (D * W).sum(1) / sw
        nq = ((~D) * (1 - W)).sum(1) / sv
        change = np.abs(np_ - p).sum() + np.abs(nq - q).sum()
        p, q = np_, nq
        if change < tol:
            break
    return W, p, q, it

D = np.stack(raters)
W, p, q, iters = staple(D)
np.save(f'{work}/staple_ref.npy', (W >= 0.5).reshape(shape))
ref['staple'] = {'sensitivity': p.tolist(), 'specificity': q.tolist(), 'iterations': iters,
                 'ambiguous': int(np.sum(np.abs(W - 0.5) < 1e-9))}
# Multi-label raters: the same label map three times.
save('m0.nii.gz', la, dtype=np.int16); save('m1.nii.gz', la, dtype=np.int16); save('m2.nii.gz', la, dtype=np.int16)
print(json.dumps(ref))
`;

const CHECK_OUT_PY = String.raw`
import json, sys
import numpy as np
import nibabel as nib
work, out, expected = sys.argv[1:]
img = nib.load(f'{work}/{out}')
data = np.asarray(img.dataobj)
ref = nib.load(f'{work}/r0.nii.gz')
exp = np.load(f'{work}/{expected}') if expected.endswith('.npy') else np.asarray(nib.load(f'{work}/{expected}').dataobj)
print(json.dumps({'dtype': str(data.dtype), 'shape': list(data.shape), 'intent': img.header.get_intent()[0],
                  'affineDiff': float(np.abs(img.affine - ref.affine).max()),
                  'differences': int(np.sum(data.astype(np.int64) != exp.astype(np.int64))), 'foreground': int(np.sum(data != 0)),
                  'values': sorted(int(v) for v in np.unique(data))}))
`;

type Seg = { dice: number; iou: number; hd: number | null; hd95: number | null; assd: number | null };

describe.skipIf(!ready)('caliper metrics: segmentation and staple', () => {
  let ref: Record<'blobs' | 'label2' | 'disjoint', Seg> & {
    staple: { sensitivity: number[]; specificity: number[]; iterations: number; ambiguous: number };
  };
  beforeAll(() => {
    ref = python(IMAGES_PY, [work]) as typeof ref;
  });
  const expectSeg = (r: Record<string, unknown>, expected: Seg) => {
    for (const key of ['dice', 'iou', 'hd', 'hd95', 'assd'] as const) {
      const e = expected[key];
      if (e === null) expect(r[key]).toBeNull();
      else expect(Math.abs((r[key] as number) - e), key).toBeLessThanOrEqual(1e-6);
    }
  };

  it('segmentation equals the scipy reference on oblique anisotropic masks (.nii.gz and .nii, relative paths)', async () => {
    const r = await ok('segmentation', { a: 'a.nii.gz', b: path.join(work, 'b.nii') });
    expectSeg(r, ref.blobs);
    expect(ref.blobs.hd! > 0 && ref.blobs.dice > 0.5 && ref.blobs.dice < 0.99).toBe(true);
  });

  it('segmentation of one label of two label maps', async () => {
    expectSeg(await ok('segmentation', { a: 'la.nii.gz', b: 'lb.nii.gz', label: 2 }), ref.label2);
  });

  it('disjoint and empty masks', async () => {
    const disjoint = await ok('segmentation', { a: 'd1.nii.gz', b: 'd2.nii.gz' });
    expectSeg(disjoint, ref.disjoint);
    expect(disjoint.dice).toBe(0);
    // Two empty masks agree perfectly (core's convention): Dice = IoU = 1, distances 0.
    expect(await ok('segmentation', { a: 'empty.nii.gz', b: 'empty.nii.gz' })).toEqual({ dice: 1, iou: 1, hd: 0, hd95: 0, assd: 0 });
    // One empty: Dice 0 and infinite distances, printed as null.
    expect(await ok('segmentation', { a: 'empty.nii.gz', b: 'd1.nii.gz' })).toEqual({ dice: 0, iou: 0, hd: null, hd95: null, assd: null });
  });

  it('rejects missing files, different shapes and different affines with exit 2', async () => {
    const [missing, shape, affine, notNifti] = await Promise.all([
      metrics('segmentation', { a: 'a.nii.gz', b: 'nope/missing.nii.gz' }),
      metrics('segmentation', { a: 'a.nii.gz', b: 'small.nii.gz' }),
      metrics('segmentation', { a: 'a.nii.gz', b: 'moved.nii.gz' }),
      metrics('segmentation', { a: 'a.nii.gz', b: 'input-0.json' }),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(path.join(work, 'nope/missing.nii.gz'));
    expect(shape.code).toBe(2);
    expect(shape.stderr).toMatch(/shape 10×10×10 but .* has 48×40×20/);
    expect(affine.code).toBe(2);
    expect(affine.stderr).toMatch(/different affines \(max difference 0\.500/);
    expect(notNifti.code).toBe(2);
    expect(notNifti.stderr).toMatch(/input-0\.json/);
  });

  it('staple equals a numpy STAPLE (consensus, sensitivities, specificities)', async () => {
    const r = await ok('staple', { inputs: [0, 1, 2, 3].map((i) => `r${i}.nii.gz`), out: 'consensus.nii.gz' });
    expect(r.mode).toBe('binary');
    // Tolerance 1e-14 is at the level of rounding: a different summation order (core groups voxels
    // by decision pattern) may stop one iteration earlier or later, with the same parameters.
    expect(Math.abs((r.iterations as number) - ref.staple.iterations)).toBeLessThanOrEqual(2);
    (r.sensitivity as number[]).forEach((v, i) => expect(Math.abs(v - ref.staple.sensitivity[i]!)).toBeLessThanOrEqual(1e-6));
    (r.specificity as number[]).forEach((v, i) => expect(Math.abs(v - ref.staple.specificity[i]!)).toBeLessThanOrEqual(1e-6));
    const check = python(CHECK_OUT_PY, [work, 'consensus.nii.gz', 'staple_ref.npy']) as Record<string, unknown>;
    expect(check).toMatchObject({ dtype: 'uint8', shape: [48, 40, 20], intent: 'label', differences: 0 });
    expect(check.affineDiff as number).toBeLessThan(1e-4);
    expect(check.foreground as number).toBeGreaterThan(500); // a real consensus, not an empty volume
    expect(ref.staple.ambiguous).toBe(0);
  });

  it('staple on identical multi-label maps writes the same label map', async () => {
    const r = await ok('staple', { inputs: ['m0.nii.gz', 'm1.nii.gz', 'm2.nii.gz'], out: 'multi.nii' });
    expect(r.mode).toBe('multilabel');
    expect(r.labels).toEqual([0, 1, 2]);
    expect(r.sensitivity).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
    ]);
    const check = python(CHECK_OUT_PY, [work, 'multi.nii', 'm0.nii.gz']) as Record<string, unknown>;
    expect(check).toMatchObject({ dtype: 'uint8', intent: 'label', differences: 0, values: [0, 1, 2] });
  });

  it('staple rejects a bad output name and mismatched inputs', async () => {
    const ext = await metrics('staple', { inputs: ['r0.nii.gz'], out: 'consensus.png' });
    expect(ext.code).toBe(2);
    expect(ext.stderr).toMatch(/\.nii\.gz or \.nii/);
    const grid = await metrics('staple', { inputs: ['r0.nii.gz', 'small.nii.gz'], out: 'x.nii.gz' });
    expect(grid.code).toBe(2);
    expect(readFileSync(path.join(work, 'r0.nii.gz')).length).toBeGreaterThan(0);
    expect(existsSync(path.join(work, 'x.nii.gz'))).toBe(false);
  });
});
