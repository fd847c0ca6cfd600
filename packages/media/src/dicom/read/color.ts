import type { DecodedPixels } from './decode.js';
import { DicomError } from './errors.js';
import { type DicomInstance, TRANSFER_SYNTAX } from './read.js';

/** Colour pixels ready for display: RGB interleaved, C order. */
export interface RgbPixels {
  /** Uint8Array for 8-bit sources and 8-bit palettes; Uint16Array for 16-bit samples or 16-bit palette entries. */
  data: Uint8Array | Uint16Array;
  shape: [number, number, number, 3];
}

/** Red, green, blue: Palette Color Lookup Table Descriptor, Data and Segmented Data tags. */
const PALETTE_TAGS = [
  { descriptor: 'x00281101', data: 'x00281201', segmented: 'x00281221' },
  { descriptor: 'x00281102', data: 'x00281202', segmented: 'x00281222' },
  { descriptor: 'x00281103', data: 'x00281203', segmented: 'x00281223' },
] as const;

/**
 * Converts decoded stored values to RGB for display, as pydicom 2.3's
 * `convert_color_space(arr, 'YBR_FULL', 'RGB')` and `apply_color_lut(arr, ds)` do:
 *
 * - RGB, and YBR_ICT / YBR_RCT (the JPEG 2000 decoders apply the inverse component transform,
 *   so these already come back as RGB, as they do from pydicom): passed through.
 * - YBR_FULL and YBR_FULL_422 (the JPEG decoders return full-size, upsampled YCbCr): ITU-T T.871
 *   YCbCr -> RGB, rounded half up and clipped (to 0..255 for 8-bit samples, 0..2^BitsStored-1
 *   for wider ones).
 * - PALETTE COLOR: the red/green/blue Palette Color LUTs, 8- or 16-bit entries, values below the
 *   first mapped value take entry 0 and values past the end the last entry; Segmented Palette
 *   Color LUTs (discrete, linear and indirect segments) too. Alpha LUTs are ignored.
 *
 * Anything else (MONOCHROME1/2, YBR_PARTIAL_*, signed samples) throws {@link DicomError}.
 */
export function toRgb(decoded: DecodedPixels, instance: DicomInstance): RgbPixels {
  const photometric = instance.photometricInterpretation ?? '';
  const [frames, rows, columns] = decoded.shape;
  const shape: RgbPixels['shape'] = [frames, rows, columns, 3];
  if (photometric === 'PALETTE COLOR') {
    if (decoded.shape.length !== 3) throw new DicomError('PALETTE COLOR pixel data must have one sample per pixel.');
    return { data: applyPalette(decoded, instance), shape };
  }
  if (decoded.shape.length !== 4 || decoded.shape[3] !== 3) {
    throw new DicomError(`Photometric Interpretation ${photometric || '(none)'} is not a three-sample colour image.`);
  }
  const { data } = decoded;
  if (!(data instanceof Uint8Array || data instanceof Uint16Array)) {
    throw new DicomError(`Colour pixel data of type ${decoded.dtype} cannot be shown; only unsigned 8- or 16-bit can.`);
  }
  switch (photometric) {
    case 'RGB':
    case 'YBR_ICT':
    case 'YBR_RCT':
      return { data, shape };
    case 'YBR_FULL':
    case 'YBR_FULL_422': {
      const bits = data instanceof Uint8Array ? 8 : Math.min(instance.bitsStored ?? 16, 16);
      return { data: ybrFullToRgb(data, bits), shape };
    }
    default:
      throw new DicomError(`Converting Photometric Interpretation ${photometric || '(none)'} to RGB is not supported.`);
  }
}

/** YCbCr (full range, T.871) to RGB: R = Y + 1.402 Cr', G = Y - 0.344136 Cb' - 0.714136 Cr', B = Y + 1.772 Cb'. */
function ybrFullToRgb<T extends Uint8Array | Uint16Array>(ybr: T, bits: number): T {
  const out = (ybr instanceof Uint8Array ? new Uint8Array(ybr.length) : new Uint16Array(ybr.length)) as T;
  const half = 2 ** (bits - 1);
  const max = 2 ** bits - 1;
  const gCb = (-0.114 * 1.772) / 0.587;
  const gCr = (-0.299 * 1.402) / 0.587;
  const clip = (v: number): number => Math.min(max, Math.max(0, Math.floor(v + 0.5)));
  for (let i = 0; i + 2 < ybr.length; i += 3) {
    const y = ybr[i] ?? 0;
    const cb = (ybr[i + 1] ?? 0) - half;
    const cr = (ybr[i + 2] ?? 0) - half;
    out[i] = clip(y + 1.402 * cr);
    out[i + 1] = clip(y + gCb * cb + gCr * cr);
    out[i + 2] = clip(y + 1.772 * cb);
  }
  return out;
}

interface Lut {
  entries: Uint8Array | Uint16Array;
  firstMapped: number;
}

function applyPalette(decoded: DecodedPixels, instance: DicomInstance): Uint8Array | Uint16Array {
  const luts = PALETTE_TAGS.map((tags) => readLut(instance, tags));
  const wide = luts.some((lut) => lut.entries instanceof Uint16Array);
  const [red, green, blue] = luts.map((lut) => (wide ? Uint16Array.from(lut.entries) : lut.entries));
  const firstMapped = luts[0]?.firstMapped ?? 0;
  if (red === undefined || green === undefined || blue === undefined) throw new DicomError('Palette LUTs missing.');
  if (red.length !== green.length || red.length !== blue.length) {
    throw new DicomError('The red, green and blue Palette Color LUTs differ in length.');
  }
  const last = red.length - 1;
  const values = decoded.data;
  const out = wide ? new Uint16Array(values.length * 3) : new Uint8Array(values.length * 3);
  for (let i = 0; i < values.length; i += 1) {
    const index = Math.min(last, Math.max(0, (values[i] ?? 0) - firstMapped));
    out[3 * i] = red[index] ?? 0;
    out[3 * i + 1] = green[index] ?? 0;
    out[3 * i + 2] = blue[index] ?? 0;
  }
  return out;
}

function readLut(
  instance: DicomInstance,
  tags: (typeof PALETTE_TAGS)[number],
): Lut {
  const { dataSet } = instance;
  if (dataSet.elements[tags.descriptor] === undefined) {
    throw new DicomError('PALETTE COLOR image has no Palette Color Lookup Table Descriptor.');
  }
  const count = dataSet.uint16(tags.descriptor, 0) ?? 0;
  const entries = count === 0 ? 65536 : count;
  let firstMapped = dataSet.uint16(tags.descriptor, 1) ?? 0;
  // The first mapped value is SS when Pixel Representation is 1.
  if (instance.pixelRepresentation === 1 && firstMapped >= 0x8000) firstMapped -= 0x10000;
  const nominalBits = dataSet.uint16(tags.descriptor, 2) ?? 0;
  const bigEndian = instance.transferSyntaxUID === TRANSFER_SYNTAX.explicitBig;

  const data = dataSet.elements[tags.data];
  if (data !== undefined) {
    const bytes = dataSet.byteArray.subarray(data.dataOffset, data.dataOffset + data.length);
    // As pydicom: the entry width follows from the data's length (8-bit entries may be packed).
    if (bytes.length === entries) return { entries: Uint8Array.from(bytes), firstMapped };
    if (bytes.length === 2 * entries) return { entries: readWords(bytes, entries, bigEndian), firstMapped };
    throw new DicomError(`Palette Color LUT Data holds ${bytes.length} bytes for ${entries} entries.`);
  }
  const segmented = dataSet.elements[tags.segmented];
  if (segmented === undefined) throw new DicomError('PALETTE COLOR image has no Palette Color Lookup Table Data.');
  if (nominalBits !== 8 && nominalBits !== 16) {
    throw new DicomError(`Segmented Palette Color LUT entries of ${nominalBits} bits are not supported (8 or 16 are).`);
  }
  const bytes = dataSet.byteArray.subarray(segmented.dataOffset, segmented.dataOffset + segmented.length);
  const words = nominalBits === 8 ? Uint8Array.from(bytes) : readWords(bytes, bytes.length >> 1, bigEndian);
  const expanded = expandSegmented(words, nominalBits === 8 ? (bigEndian ? [2, 3, 0, 1] : [3, 2, 1, 0]) : undefined);
  return { entries: nominalBits === 8 ? Uint8Array.from(expanded) : Uint16Array.from(expanded), firstMapped };
}

function readWords(bytes: Uint8Array, count: number, bigEndian: boolean): Uint16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Uint16Array.from({ length: count }, (_, i) => view.getUint16(2 * i, !bigEndian));
}

/**
 * Expands Segmented Palette Color LUT Data (PS3.3 C.7.9.2): discrete (0), linear (1) and indirect
 * (2) segments. `byteOrder` is the order of the four 8-bit words holding an indirect segment's
 * 32-bit offset (8-bit entries); for 16-bit entries it is two words, low first.
 */
function expandSegmented(
  data: Uint8Array | Uint16Array,
  byteOrder: number[] | undefined,
  start = 0,
  maxSegments = Infinity,
  previous?: number,
  depth = 0,
): number[] {
  if (depth > 8) throw new DicomError('Segmented Palette Color LUT Data nests indirect segments too deeply.');
  const lut: number[] = [];
  let offset = start;
  let segments = 0;
  const at = (i: number): number => {
    const value = data[i];
    if (value === undefined) throw new DicomError('Segmented Palette Color LUT Data ends inside a segment.');
    return value;
  };
  // `offset + 1 <` tolerates one trailing padding word.
  while (offset + 1 < data.length && segments < maxSegments) {
    const opcode = at(offset);
    const length = at(offset + 1);
    offset += 2;
    if (opcode === 0) {
      for (let k = 0; k < length; k += 1) lut.push(at(offset + k));
      offset += length;
    } else if (opcode === 1) {
      const y0 = lut.length > 0 ? lut[lut.length - 1] : previous;
      if (y0 === undefined) throw new DicomError('Segmented Palette Color LUT Data starts with a linear segment.');
      const y1 = at(offset);
      offset += 1;
      // Samples y0 + step .. y1, rounded half to even as NumPy's around does.
      for (let k = 1; k <= length; k += 1) lut.push(roundHalfEven(y0 + ((y1 - y0) * k) / length));
    } else if (opcode === 2) {
      const last = lut[lut.length - 1];
      if (last === undefined && previous === undefined) {
        throw new DicomError('Segmented Palette Color LUT Data starts with an indirect segment.');
      }
      let target: number;
      if (byteOrder === undefined) {
        target = at(offset) + at(offset + 1) * 0x10000;
        offset += 2;
      } else {
        const b = byteOrder.map((k) => at(offset + k));
        target = (((b[0] ?? 0) << 8) | (b[1] ?? 0)) * 0x10000 + (((b[2] ?? 0) << 8) | (b[3] ?? 0));
        offset += 4;
      }
      lut.push(...expandSegmented(data, byteOrder, target, length, last ?? previous, depth + 1));
    } else {
      throw new DicomError(`Segmented Palette Color LUT Data has an unknown segment type ${opcode}.`);
    }
    segments += 1;
  }
  return lut;
}

function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
