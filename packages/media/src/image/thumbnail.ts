/**
 * Small 8-bit PNG previews of greyscale (any bit depth, windowed) and RGB images.
 *
 * Pipeline: stored value -> modality rescale (slope, intercept) -> linear VOI window
 * (DICOM PS3.3 C.11.2.1.2.1) to 0..255 as a real number -> optional inversion (MONOCHROME1)
 * -> area-weighted box filter down to at most `maxSize` on the long side -> round -> PNG.
 */
import { PNG } from 'pngjs';

export interface ThumbnailInput {
  width: number;
  height: number;
  samples: 1 | 3;
  /** Stored values, row-major, samples interleaved. */
  data: ArrayLike<number>;
  slope?: number;
  intercept?: number;
  /**
   * VOI window in rescaled units. Absent: grey images use min/max, or the 2nd-98th percentile
   * when the values exceed the 8-bit range (0..255); RGB images are shown as stored when they
   * fit 0..255, else scaled by their min/max.
   */
  window?: { center: number; width: number };
  /** Invert after windowing (MONOCHROME1). */
  invert?: boolean;
  /** Longest side of the result in pixels (default 128). Never upscales. */
  maxSize?: number;
}

/** Largest number of values sorted to estimate percentiles; larger images are sampled. */
const PERCENTILE_SAMPLE = 1 << 20;

/**
 * The linear VOI LUT function of DICOM PS3.3 C.11.2.1.2.1, to an output range of 0..255 without
 * rounding. `width` must be >= 1.
 */
export function applyWindow(x: number, center: number, width: number): number {
  const lo = center - 0.5 - (width - 1) / 2;
  const hi = center - 0.5 + (width - 1) / 2;
  if (x <= lo) return 0;
  if (x > hi) return 255;
  return ((x - (center - 0.5)) / (width - 1) + 0.5) * 255;
}

/** Window whose linear ramp runs exactly from `lo` (-> 0) to `hi` (-> 255). */
export function windowFromRange(lo: number, hi: number): { center: number; width: number } {
  return { center: (lo + hi + 1) / 2, width: hi - lo + 1 };
}

/** Percentiles p (0..1) of `values`: element round(p·(n−1)) of the sorted values (sampled with a fixed stride when large). */
export function percentiles(values: ArrayLike<number>, ps: number[]): number[] {
  const n = values.length;
  const step = Math.max(1, Math.ceil(n / PERCENTILE_SAMPLE));
  const sample = new Float64Array(Math.ceil(n / step));
  for (let i = 0, j = 0; i < n; i += step, j++) sample[j] = values[i] ?? 0;
  sample.sort();
  return ps.map((p) => sample[Math.min(sample.length - 1, Math.max(0, Math.round(p * (sample.length - 1))))] ?? 0);
}

function minMax(values: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Area-weighted box filter of one axis: `src` has `n` positions of `stride`, result `m`. */
function boxWeights(n: number, m: number): { start: number; weights: number[] }[] {
  const out: { start: number; weights: number[] }[] = [];
  const scale = n / m;
  for (let o = 0; o < m; o++) {
    const a = o * scale;
    const b = (o + 1) * scale;
    const start = Math.floor(a);
    const weights: number[] = [];
    for (let i = start; i < Math.min(n, Math.ceil(b)); i++) weights.push((Math.min(b, i + 1) - Math.max(a, i)) / scale);
    out.push({ start, weights });
  }
  return out;
}

export function renderThumbnail(input: ThumbnailInput): Uint8Array {
  const { width, height, samples, data } = input;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new RangeError('thumbnail: width and height must be positive integers');
  if (samples !== 1 && samples !== 3) throw new RangeError('thumbnail: samples must be 1 or 3');
  const n = width * height * samples;
  if (data.length < n) throw new RangeError('thumbnail: data is shorter than width x height x samples');
  const maxSize = input.maxSize ?? 128;
  if (!(maxSize >= 1)) throw new RangeError('thumbnail: maxSize must be >= 1');
  const slope = input.slope ?? 1;
  const intercept = input.intercept ?? 0;

  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = (data[i] ?? 0) * slope + intercept;

  let win = input.window;
  if (win && !(win.width >= 1)) throw new RangeError('thumbnail: window width must be >= 1');
  if (!win) {
    let storedLo = Infinity;
    let storedHi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = data[i] ?? 0;
      if (v < storedLo) storedLo = v;
      if (v > storedHi) storedHi = v;
    }
    const eightBit = storedLo >= 0 && storedHi <= 255;
    if (samples === 3) {
      win = eightBit && slope === 1 && intercept === 0 ? windowFromRange(0, 255) : windowFromRange(...minMax(values));
    } else if (eightBit) {
      win = windowFromRange(...minMax(values));
    } else {
      const [p2, p98] = percentiles(values, [0.02, 0.98]) as [number, number];
      win = windowFromRange(p2, p98);
    }
  }
  const { center, width: ww } = win;
  const shown = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const y = applyWindow(values[i] ?? 0, center, ww);
    shown[i] = input.invert ? 255 - y : y;
  }

  const scale = Math.max(width, height) / maxSize;
  const tw = scale > 1 ? Math.max(1, Math.round(width / scale)) : width;
  const th = scale > 1 ? Math.max(1, Math.round(height / scale)) : height;
  // Horizontal then vertical pass.
  const wx = boxWeights(width, tw);
  const wy = boxWeights(height, th);
  const mid = new Float64Array(tw * height * samples);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < tw; x++) {
      const { start, weights } = wx[x] as { start: number; weights: number[] };
      for (let s = 0; s < samples; s++) {
        let acc = 0;
        for (let k = 0; k < weights.length; k++) acc += (weights[k] ?? 0) * (shown[((y * width) + start + k) * samples + s] ?? 0);
        mid[(y * tw + x) * samples + s] = acc;
      }
    }
  }
  const out = Buffer.alloc(tw * th * samples);
  for (let y = 0; y < th; y++) {
    const { start, weights } = wy[y] as { start: number; weights: number[] };
    for (let x = 0; x < tw; x++) {
      for (let s = 0; s < samples; s++) {
        let acc = 0;
        for (let k = 0; k < weights.length; k++) acc += (weights[k] ?? 0) * (mid[((start + k) * tw + x) * samples + s] ?? 0);
        out[(y * tw + x) * samples + s] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }

  const colorType = samples === 1 ? 0 : 2;
  const png = new PNG({ width: tw, height: th, colorType, inputColorType: colorType, inputHasAlpha: false, bitDepth: 8 });
  png.data = out;
  return new Uint8Array(PNG.sync.write(png, { colorType, inputColorType: colorType, inputHasAlpha: false, bitDepth: 8 }));
}
