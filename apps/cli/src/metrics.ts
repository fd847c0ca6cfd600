// `caliper metrics <name> --input <file.json>`: offline agreement metrics. Prints one JSON object on
// stdout. Usage errors and bad input (unreadable or malformed JSON, missing files, mismatched
// images, invalid ratings) go to stderr with exit code 2. Uses @caliper/core and @caliper/media only.
//
// Metrics and their input:
//   cohen_kappa         {"a": [...], "b": [...], "weights"?: null | "linear" | "quadratic"} → {"value"}
//   fleiss_kappa        {"ratings": [[label | null per rater] per item]}                    → {"value"}
//   krippendorff_alpha  {"data": [[value | null per unit] per rater], "level"?: "nominal" (default)
//                        | "ordinal" | "interval" | "ratio"}                                → {"value"}
//   segmentation        {"a": path, "b": path, "label"?: number}          → {"dice","iou","hd","hd95","assd"}
//   staple              {"inputs": [path, ...], "out": path (.nii.gz or .nii)}
//
// Undefined values: a coefficient that is 0/0 (e.g. κ when both raters use one category only, as
// scikit-learn returns nan) is printed as null. Distances between an empty and a non-empty mask
// are infinite and printed as null; two empty masks give dice = iou = 1 and distances 0 (core's
// convention, see packages/core/src/agreement/masks.ts).
//
// STAPLE output: binary inputs (every input has at most one non-zero value) use stapleBinary and
// write uint8 0/1 (1 where the posterior is ≥ 0.5); it prints {"mode": "binary", "sensitivity",
// "specificity", "prior", "iterations", "converged"}. If any input has two or more distinct
// non-zero values, stapleMultiLabel runs on the label values and the label map is written
// (uint8, int16/uint16 or int32, the smallest that holds the labels); it prints {"mode":
// "multilabel", "labels", "sensitivity" (per rater, the diagonal of its confusion matrix: P(rater
// says ℓ | truth ℓ) per label, in "labels" order), "confusion" (per rater, rows = true label,
// columns = reported label), "iterations", "converged"}. Output files get the first input's
// affine and intent "label".
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  cohenKappa,
  fleissKappa,
  krippendorffAlpha,
  labelMask,
  segmentationMetrics,
  stapleBinary,
  stapleMultiLabel,
  type Mask,
  type MaskShape,
  type MaskSpacing,
} from '@caliper/core';
import { NiftiError, readNifti, writeNifti, writeNiftiGz, type NiftiVolume } from '@caliper/media';

type Print = (line: string) => void;

const USAGE = 'usage: caliper metrics <cohen_kappa|fleiss_kappa|krippendorff_alpha|segmentation|staple> --input <file.json>';
export const METRICS_HELP = `  metrics <name> --input F.json      offline agreement metric, one JSON object on stdout
                                     (cohen_kappa, fleiss_kappa, krippendorff_alpha, segmentation, staple)`;

/** Bad usage or bad input: reported on stderr with exit code 2. */
export class MetricsInputError extends Error {
  override readonly name = 'MetricsInputError';
}

const AFFINE_TOLERANCE = 1e-3;

const rating = z.union([z.string(), z.number()]);
const maybeRating = z.union([rating, z.null()]);
const schemas = {
  cohen_kappa: z.strictObject({
    a: z.array(rating),
    b: z.array(rating),
    weights: z.union([z.null(), z.literal('linear'), z.literal('quadratic')]).optional(),
  }),
  fleiss_kappa: z.strictObject({ ratings: z.array(z.array(maybeRating)) }),
  krippendorff_alpha: z.strictObject({
    data: z.array(z.array(maybeRating)),
    level: z.enum(['nominal', 'ordinal', 'interval', 'ratio']).optional(),
  }),
  segmentation: z.strictObject({ a: z.string().min(1), b: z.string().min(1), label: z.number().optional() }),
  staple: z.strictObject({ inputs: z.array(z.string().min(1)).min(1), out: z.string().min(1) }),
} as const;
type MetricName = keyof typeof schemas;
const isMetric = (name: string): name is MetricName => Object.hasOwn(schemas, name);

/** null for NaN and ±Infinity (JSON has no such numbers). */
const num = (x: number): number | null => (Number.isFinite(x) ? x : null);

function parseInput<N extends MetricName>(name: N, raw: unknown): z.output<(typeof schemas)[N]> {
  const result = schemas[name].safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'input';
    throw new MetricsInputError(`${name}: ${where}: ${issue.message}`);
  }
  return result.data as z.output<(typeof schemas)[N]>;
}

/** Runs a core function, turning its RangeError/TypeError (bad ratings) into input errors. */
function core<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RangeError || err instanceof TypeError) throw new MetricsInputError(`${name}: ${err.message}`);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Images

interface LoadedImage {
  file: string;
  volume: NiftiVolume;
  shape: MaskShape;
  /** Voxel values (scaled when the header says so), x fastest. */
  values: ArrayLike<number>;
}

function loadImage(file: string): LoadedImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new MetricsInputError(`cannot read ${file}`);
  }
  let volume: NiftiVolume;
  try {
    volume = readNifti([{ name: path.basename(file), bytes }]);
  } catch (err) {
    if (err instanceof NiftiError) throw new MetricsInputError(`${file}: ${err.message}`);
    throw err;
  }
  if (volume.volumes !== 1) throw new MetricsInputError(`${file}: has ${volume.volumes} volumes; a single 2D or 3D mask is needed`);
  if (volume.datatype.name === 'rgb24' || volume.datatype.name === 'rgba32') {
    throw new MetricsInputError(`${file}: colour images are not masks`);
  }
  const dims = volume.dims.slice(0, 3);
  const shape: MaskShape = dims.length === 2 ? [dims[0]!, dims[1]!] : [dims[0]!, dims[1] ?? 1, dims[2] ?? 1];
  // Stored values when they are plain numbers; scaled (or 64-bit integer) data as float64.
  const raw = volume.getVolume(0);
  const values: ArrayLike<number> =
    volume.scaling || raw instanceof BigInt64Array || raw instanceof BigUint64Array ? volume.getScaledVolume(0) : raw;
  return { file, volume, shape, values };
}

/** Voxel sizes in mm: the column norms of the voxel → patient affine. */
function spacingOf(img: LoadedImage): MaskSpacing {
  const a = img.volume.affineLps;
  const norm = (c: number) => Math.hypot(a[0]![c]!, a[1]![c]!, a[2]![c]!);
  return img.shape.length === 2 ? [norm(0), norm(1)] : [norm(0), norm(1), norm(2)];
}

function checkSameGrid(ref: LoadedImage, other: LoadedImage): void {
  if (ref.shape.length !== other.shape.length || ref.shape.some((n, i) => n !== other.shape[i])) {
    throw new MetricsInputError(`${other.file} has shape ${other.shape.join('×')} but ${ref.file} has ${ref.shape.join('×')}`);
  }
  let maxDiff = 0;
  for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) maxDiff = Math.max(maxDiff, Math.abs(ref.volume.affineLps[r]![c]! - other.volume.affineLps[r]![c]!));
  if (!(maxDiff <= AFFINE_TOLERANCE)) {
    throw new MetricsInputError(`${other.file} and ${ref.file} have different affines (max difference ${maxDiff.toPrecision(3)} > ${AFFINE_TOLERANCE})`);
  }
}

function foreground(img: LoadedImage, label?: number): Mask {
  if (label !== undefined) return labelMask({ data: img.values, shape: img.shape }, label);
  const v = img.values;
  const data = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) data[i] = v[i] !== 0 ? 1 : 0;
  return { data, shape: img.shape };
}

/** Distinct non-zero values of an image, stopping once `limit` are found. */
function nonZeroValues(values: ArrayLike<number>, limit: number): Set<number> {
  const seen = new Set<number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== 0 && !seen.has(v)) {
      seen.add(v);
      if (seen.size >= limit) break;
    }
  }
  return seen;
}

function labelArray(labels: Int32Array, allLabels: readonly number[]): Uint8Array | Int16Array | Uint16Array | Int32Array {
  const min = Math.min(...allLabels);
  const max = Math.max(...allLabels);
  if (min >= 0 && max <= 255) return Uint8Array.from(labels);
  if (min >= -32768 && max <= 32767) return Int16Array.from(labels);
  if (min >= 0 && max <= 65535) return Uint16Array.from(labels);
  return labels;
}

async function writeLabelImage(file: string, data: Uint8Array | Int16Array | Uint16Array | Int32Array, ref: LoadedImage): Promise<void> {
  const dims = [...ref.shape];
  const input = { data, dims, affineLps: ref.volume.affineLps, intent: 'label' as const };
  const bytes = file.endsWith('.nii.gz') ? await writeNiftiGz(input) : writeNifti(input);
  try {
    writeFileSync(file, bytes);
  } catch {
    throw new MetricsInputError(`cannot write ${file}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Metrics

async function compute(name: MetricName, raw: unknown, baseDir: string): Promise<Record<string, unknown>> {
  const resolve = (p: string) => path.resolve(baseDir, p);
  switch (name) {
    case 'cohen_kappa': {
      const inp = parseInput(name, raw);
      return { value: num(core(name, () => cohenKappa(inp.a, inp.b, { weights: inp.weights ?? 'none' }))) };
    }
    case 'fleiss_kappa': {
      const inp = parseInput(name, raw);
      return { value: num(core(name, () => fleissKappa(inp.ratings))) };
    }
    case 'krippendorff_alpha': {
      const inp = parseInput(name, raw);
      return { value: num(core(name, () => krippendorffAlpha(inp.data, inp.level ?? 'nominal'))) };
    }
    case 'segmentation': {
      const inp = parseInput(name, raw);
      const a = loadImage(resolve(inp.a));
      const b = loadImage(resolve(inp.b));
      checkSameGrid(a, b);
      const m = segmentationMetrics(foreground(a, inp.label), foreground(b, inp.label), spacingOf(a));
      return { dice: num(m.dice), iou: num(m.iou), hd: num(m.hd), hd95: num(m.hd95), assd: num(m.assd) };
    }
    case 'staple': {
      const inp = parseInput(name, raw);
      const out = resolve(inp.out);
      if (!out.endsWith('.nii.gz') && !out.endsWith('.nii')) throw new MetricsInputError(`staple: out must end in .nii.gz or .nii, got ${inp.out}`);
      const images = inp.inputs.map((p) => loadImage(resolve(p)));
      const first = images[0]!;
      for (const img of images.slice(1)) checkSameGrid(first, img);
      const multi = images.some((img) => nonZeroValues(img.values, 2).size > 1);
      if (!multi) {
        const r = core(name, () => stapleBinary(images.map((img) => foreground(img).data)));
        await writeLabelImage(out, r.consensus, first);
        return { mode: 'binary', sensitivity: r.sensitivity, specificity: r.specificity, prior: r.prior, iterations: r.iterations, converged: r.converged };
      }
      for (const img of images) {
        for (const v of nonZeroValues(img.values, Infinity)) {
          if (!Number.isInteger(v)) throw new MetricsInputError(`staple: ${img.file} has the non-integer label ${v}`);
        }
      }
      const r = core(name, () => stapleMultiLabel(images.map((img) => img.values)));
      await writeLabelImage(out, labelArray(r.consensus, r.labels), first);
      return {
        mode: 'multilabel',
        labels: r.labels,
        sensitivity: r.confusion.map((m) => m.map((row, s) => row[s]!)),
        confusion: r.confusion,
        iterations: r.iterations,
        converged: r.converged,
      };
    }
  }
}

/**
 * `caliper metrics <name> --input <file.json>`: computes one metric and prints its JSON result
 * with `out`. Returns the exit code: 0 on success, 2 for bad usage or bad input (message on `err`).
 */
export async function runMetrics(args: string[], out: Print, err: Print): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({ args, options: { input: { type: 'string' } }, allowPositionals: true });
    } catch (e) {
      throw new MetricsInputError(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    }
    const { values, positionals } = parsed;
    if (positionals.length !== 1 || !values.input) throw new MetricsInputError(USAGE);
    const name = positionals[0]!;
    if (!isMetric(name)) throw new MetricsInputError(`unknown metric "${name}"\n${USAGE}`);
    const inputFile = path.resolve(values.input);
    let text: string;
    try {
      text = readFileSync(inputFile, 'utf8');
    } catch {
      throw new MetricsInputError(`cannot read ${values.input}`);
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new MetricsInputError(`${values.input} is not valid JSON`);
    }
    const result = await compute(name, raw, path.dirname(inputFile));
    out(JSON.stringify(result));
    return 0;
  } catch (e) {
    if (e instanceof MetricsInputError) {
      err(`caliper metrics: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
