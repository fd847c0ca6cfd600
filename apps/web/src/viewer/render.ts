// Window/level rendering of one plane of an ImageVolume into RGBA, at true bit depth: the
// stored samples go through rescale and the DICOM linear VOI function on the client. Integer
// types use a lookup table rebuilt only when the window changes; one pass cuts the plane and
// maps it, with precomputed strides (no per-pixel calls), so scrolling and W/L drags stay
// far under a frame's budget on 512×512.

import type { PlaneMapping } from '@caliper/core/mpr';
import type { Samples } from '../imaging/pixels';
import { windowValue } from '../imaging/pixels';

export interface WindowLevel {
  center: number;
  width: number;
}

/** Flat volume index of plane pixel (0, 0) on `slice`, and the steps for +1 x and +1 y. */
export function planeStrides(m: PlaneMapping, dims: readonly [number, number, number], slice: number, samples = 1): { base: number; sx: number; sy: number } {
  const axisStride = [samples, dims[0] * samples, dims[0] * dims[1] * samples];
  const size = [dims[0], dims[1], dims[2]];
  const su = axisStride[m.uAxis]!;
  const sv = axisStride[m.vAxis]!;
  const sn = axisStride[m.normalAxis]!;
  let base = slice * sn;
  let sx = su;
  let sy = sv;
  if (m.uFlip) {
    base += (size[m.uAxis]! - 1) * su;
    sx = -su;
  }
  if (m.vFlip) {
    base += (size[m.vAxis]! - 1) * sv;
    sy = -sv;
  }
  return { base, sx, sy };
}

interface LutKey {
  center: number;
  width: number;
  invert: boolean;
  slope: number;
  intercept: number;
  kind: string;
}

let lutCache: { key: LutKey; lut: Uint32Array; offset: number } | null = null;

const sameKey = (a: LutKey, b: LutKey) =>
  a.center === b.center && a.width === b.width && a.invert === b.invert && a.slope === b.slope && a.intercept === b.intercept && a.kind === b.kind;

const grey = (g: number) => (0xff000000 | (g << 16) | (g << 8) | g) >>> 0;

function lutFor(data: Samples, win: WindowLevel, invert: boolean, rescale: { slope: number; intercept: number }): { lut: Uint32Array; offset: number } | null {
  let size: number;
  let offset = 0;
  if (data instanceof Uint8Array) size = 256;
  else if (data instanceof Int8Array) [size, offset] = [256, 128];
  else if (data instanceof Uint16Array) size = 65536;
  else if (data instanceof Int16Array) [size, offset] = [65536, 32768];
  else return null;
  const key: LutKey = { center: win.center, width: win.width, invert, slope: rescale.slope, intercept: rescale.intercept, kind: data.constructor.name };
  if (lutCache && sameKey(lutCache.key, key)) return lutCache;
  const lut = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    const g = windowValue((i - offset) * rescale.slope + rescale.intercept, win.center, win.width);
    lut[i] = grey(invert ? 255 - g : g);
  }
  lutCache = { key, lut, offset };
  return lutCache;
}

export interface PlaneSource {
  data: Samples;
  dims: readonly [number, number, number];
  samples: number;
  rescale: { slope: number; intercept: number };
}

/** Renders plane `slice` of `m` into `out` (RGBA as Uint32, width × height of the mapping). */
export function renderPlane(src: PlaneSource, m: PlaneMapping, slice: number, win: WindowLevel, invert: boolean, out: Uint32Array): void {
  const { width, height } = m;
  const { base, sx, sy } = planeStrides(m, src.dims, slice, src.samples);
  const d = src.data;
  if (src.samples >= 3) {
    const raw = d instanceof Uint8Array;
    const { slope, intercept } = src.rescale;
    let o = 0;
    for (let y = 0; y < height; y++) {
      let p = base + y * sy;
      for (let x = 0; x < width; x++, p += sx) {
        let r = d[p]!;
        let g = d[p + 1]!;
        let b = d[p + 2]!;
        if (!raw) {
          r = windowValue(r * slope + intercept, win.center, win.width);
          g = windowValue(g * slope + intercept, win.center, win.width);
          b = windowValue(b * slope + intercept, win.center, win.width);
        }
        out[o++] = (0xff000000 | (b << 16) | (g << 8) | r) >>> 0;
      }
    }
    return;
  }
  const table = lutFor(d, win, invert, src.rescale);
  let o = 0;
  if (table) {
    const { lut, offset } = table;
    for (let y = 0; y < height; y++) {
      let p = base + y * sy;
      for (let x = 0; x < width; x++, p += sx) out[o++] = lut[d[p]! + offset]!;
    }
    return;
  }
  const { slope, intercept } = src.rescale;
  for (let y = 0; y < height; y++) {
    let p = base + y * sy;
    for (let x = 0; x < width; x++, p += sx) {
      const g = windowValue(d[p]! * slope + intercept, win.center, win.width);
      out[o++] = grey(invert ? 255 - g : g);
    }
  }
}

/**
 * A window from the histogram of the loaded samples (for MR and other modalities without
 * calibrated units): the 0.5th to 99.5th percentile of the rescaled values, ignoring the
 * background peak at the minimum.
 */
export function histogramWindow(data: Samples, rescale: { slope: number; intercept: number }, stride = 7): WindowLevel {
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < data.length; p += stride) {
    const v = data[p]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min) || min === max) return { center: (min || 0) * rescale.slope + rescale.intercept, width: 1 };
  const bins = 1024;
  const hist = new Uint32Array(bins);
  const scale = (bins - 1) / (max - min);
  let n = 0;
  for (let p = 0; p < data.length; p += stride) {
    const v = data[p]!;
    if (v === min) continue;
    hist[Math.floor((v - min) * scale)]!++;
    n++;
  }
  if (n === 0) return { center: ((min + max) / 2) * rescale.slope + rescale.intercept, width: Math.max(1, (max - min) * Math.abs(rescale.slope)) };
  const at = (q: number) => {
    let acc = 0;
    for (let b = 0; b < bins; b++) {
      acc += hist[b]!;
      if (acc >= q * n) return min + b / scale;
    }
    return max;
  };
  const lo = at(0.005) * rescale.slope + rescale.intercept;
  const hi = at(0.995) * rescale.slope + rescale.intercept;
  const a = Math.min(lo, hi);
  const b = Math.max(lo, hi);
  return { center: (a + b) / 2, width: Math.max(1, b - a) };
}

/** CT window presets (width/level in HU) the issue and radiologists expect. */
export const CT_PRESETS: { name: string; center: number; width: number; key: string }[] = [
  { name: 'Soft tissue', width: 400, center: 40, key: '1' },
  { name: 'Lung', width: 1500, center: -600, key: '2' },
  { name: 'Bone', width: 2500, center: 480, key: '3' },
  { name: 'Brain', width: 80, center: 40, key: '4' },
  { name: 'Liver', width: 150, center: 90, key: '5' },
];
