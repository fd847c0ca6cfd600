// Pure pixel helpers for the slice viewer: decode a stored frame (raw little-endian samples of
// the asset's dtype), map stored values to display grey levels with the DICOM linear VOI LUT,
// and map voxel indices to patient LPS millimetres. No DOM here, so it is unit-tested in Node.

import type { FrameDtype, ImagingMeta, WindowPreset } from '../types';

export type Samples = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

const BYTES: Record<FrameDtype, number> = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 };

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes one frame's bytes into a typed array of `dtype`; throws when the length does not match. */
export function decodeFrame(buf: ArrayBuffer, dtype: FrameDtype, expectedSamples?: number): Samples {
  const size = BYTES[dtype];
  if (size === undefined) throw new Error(`Unsupported sample type "${dtype}".`);
  if (buf.byteLength % size !== 0) throw new Error(`Frame length ${buf.byteLength} is not a multiple of ${size} bytes (${dtype}).`);
  const n = buf.byteLength / size;
  if (expectedSamples !== undefined && n !== expectedSamples) throw new Error(`Frame holds ${n} samples, expected ${expectedSamples}.`);
  if (!littleEndianHost && size > 1) {
    // Big-endian hosts are rare; read through a DataView so values stay correct.
    const dv = new DataView(buf);
    const out = makeArray(dtype, n);
    for (let i = 0; i < n; i++) out[i] = readLE(dv, i * size, dtype);
    return out;
  }
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'uint16':
      return new Uint16Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'uint32':
      return new Uint32Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
  }
}

/** A zeroed typed array of `n` samples of `dtype`. */
export function makeArray(dtype: FrameDtype, n: number): Samples {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
  }
}

function readLE(dv: DataView, off: number, dtype: FrameDtype): number {
  switch (dtype) {
    case 'uint8':
      return dv.getUint8(off);
    case 'int8':
      return dv.getInt8(off);
    case 'uint16':
      return dv.getUint16(off, true);
    case 'int16':
      return dv.getInt16(off, true);
    case 'uint32':
      return dv.getUint32(off, true);
    case 'int32':
      return dv.getInt32(off, true);
    case 'float32':
      return dv.getFloat32(off, true);
    case 'float64':
      return dv.getFloat64(off, true);
  }
}

/**
 * DICOM linear VOI LUT (PS3.3 C.11.2.1.2.1) to 0..255. `x` is the rescaled value.
 */
export function windowValue(x: number, center: number, width: number): number {
  const w = Math.max(1, width);
  const lo = center - 0.5 - (w - 1) / 2;
  const hi = center - 0.5 + (w - 1) / 2;
  if (x <= lo) return 0;
  if (x > hi) return 255;
  if (w === 1) return 255;
  return Math.round(((x - (center - 0.5)) / (w - 1) + 0.5) * 255);
}

/** Min and max of the rescaled values of one frame (first sample of each pixel for colour). */
export function rescaledRange(data: Samples, rescale: { slope: number; intercept: number }): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) return [0, 0];
  const a = min * rescale.slope + rescale.intercept;
  const b = max * rescale.slope + rescale.intercept;
  return a <= b ? [a, b] : [b, a];
}

/** The window to start with: the first preset, else the value range, else the dtype's range. */
export function defaultWindow(meta: Pick<ImagingMeta, 'windows' | 'valueRange' | 'dtype'>, frameRange?: [number, number]): WindowPreset {
  const first = meta.windows[0];
  if (first && first.width > 0) return first;
  const range = meta.valueRange ?? frameRange ?? (meta.dtype === 'uint8' ? [0, 255] : [0, 4095]);
  const width = Math.max(1, range[1] - range[0]);
  return { name: 'Full range', center: range[0] + width / 2, width };
}

export interface RenderInput {
  data: Samples;
  cols: number;
  rows: number;
  samples: number;
  rescale: { slope: number; intercept: number };
  center: number;
  width: number;
  /** MONOCHROME1: high values are dark. */
  invert: boolean;
}

/**
 * Fills an RGBA buffer (cols × rows × 4). Greyscale goes through rescale, window and optional
 * inversion; 8-bit colour is copied as is; colour with more bits is windowed per channel.
 */
export function renderRgba(input: RenderInput, out: Uint8ClampedArray): void {
  const { data, cols, rows, samples, rescale, center, width, invert } = input;
  const n = cols * rows;
  if (out.length < n * 4) throw new Error('Output buffer too small.');
  if (samples >= 3) {
    const raw = data instanceof Uint8Array;
    for (let p = 0; p < n; p++) {
      const s = p * samples;
      for (let c = 0; c < 3; c++) {
        const v = data[s + c]!;
        out[p * 4 + c] = raw ? v : windowValue(v * rescale.slope + rescale.intercept, center, width);
      }
      out[p * 4 + 3] = 255;
    }
    return;
  }
  // A lookup table for small integer types keeps large frames fast.
  let lut: Uint8Array | null = null;
  let lutOffset = 0;
  if (data instanceof Uint8Array || data instanceof Int8Array || data instanceof Uint16Array || data instanceof Int16Array) {
    lutOffset = data instanceof Int8Array ? 128 : data instanceof Int16Array ? 32768 : 0;
    const size = data instanceof Uint8Array || data instanceof Int8Array ? 256 : 65536;
    lut = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const g = windowValue((i - lutOffset) * rescale.slope + rescale.intercept, center, width);
      lut[i] = invert ? 255 - g : g;
    }
  }
  for (let p = 0; p < n; p++) {
    const v = data[p]!;
    let g: number;
    if (lut) g = lut[v + lutOffset]!;
    else {
      g = windowValue(v * rescale.slope + rescale.intercept, center, width);
      if (invert) g = 255 - g;
    }
    const o = p * 4;
    out[o] = g;
    out[o + 1] = g;
    out[o + 2] = g;
    out[o + 3] = 255;
  }
}

/** Patient LPS position (mm) of voxel (col, row, slice) through a row-major 4×4 affine. */
export function voxelToLps(affine: number[][], col: number, row: number, slice: number): [number, number, number] {
  const v = [col, row, slice, 1];
  const out: [number, number, number] = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    const m = affine[r]!;
    out[r] = m[0]! * v[0]! + m[1]! * v[1]! + m[2]! * v[2]! + m[3]! * v[3]!;
  }
  return out;
}

/** Slice index inside one timepoint for a frame of a 4D volume (frames are timepoint-major). */
export function sliceOfFrame(frame: number, frames: number, timepoints: number): number {
  const t = Math.max(1, timepoints);
  const perTime = Math.max(1, Math.floor(frames / t));
  return frame % perTime;
}
