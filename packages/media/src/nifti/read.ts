import { niftiDatatype, type NiftiDatatypeName, type NiftiTypedArray } from './datatypes.js';
import { NiftiError } from './errors.js';
import { openFiles, parseHeader, type NiftiInputFile, type OpenedSet, type ParsedHeader } from './io.js';

export type Matrix4 = number[][];

export interface NiftiStats {
  min: number;
  max: number;
  /** Mean over the non-NaN values. */
  mean: number;
  nanCount: number;
  count: number;
}

export interface NiftiVolume {
  niftiVersion: 1 | 2;
  /** True for an .hdr/.img pair. */
  isPair: boolean;
  /** dim[1..dim[0]]: nx, ny, nz, nt, ... */
  dims: number[];
  datatype: { code: number; name: NiftiDatatypeName };
  bitpix: number;
  /** Byte order of the header and voxel data on disk. */
  littleEndian: boolean;
  /** All eight pixdim values; pixdim[0] is qfac. */
  pixdim: number[];
  xyztUnits: { spatial: string; temporal: string };
  qformCode: number;
  sformCode: number;
  /** The qform as nibabel computes it (pixdim[0] = 0 read as qfac 1), whatever qform_code says. */
  qformAffine: Matrix4;
  /** srow_x/y/z as stored, whatever sform_code says. */
  sformAffine: Matrix4;
  /** Voxel (i, j, k) → RAS+ mm, chosen as nibabel does: sform if sform_code ≠ 0, else qform if qform_code ≠ 0, else from pixdim. */
  affineRas: Matrix4;
  /** The same affine to DICOM patient LPS: diag(-1, -1, 1, 1) · affineRas. */
  affineLps: Matrix4;
  affineSource: 'sform' | 'qform' | 'pixdim';
  /** Raw header values. nibabel (and we) ignore scaling when the slope is 0 or not finite. */
  sclSlope: number;
  sclInter: number;
  /** The scaling actually applied by getScaledVolume, or null when values are used as stored. */
  scaling: { slope: number; inter: number } | null;
  descrip: string;
  auxFile: string;
  extensions: { code: number; size: number }[];
  /** Byte offset of the voxels in the data file (the .nii, or the .img of a pair). */
  dataOffset: number;
  /** Number of 3D volumes: product of dims 4..7. */
  volumes: number;
  /** Voxels in one 3D volume. */
  voxelsPerVolume: number;
  /** The t-th 3D volume in its stored type, host byte order, x fastest. RGB/RGBA are interleaved bytes. */
  getVolume(t: number): NiftiTypedArray;
  /** The t-th 3D volume with scl_slope/scl_inter applied as nibabel does. */
  getScaledVolume(t: number): Float64Array<ArrayBuffer>;
  /** min/max/mean over one volume (or all when `volume` is omitted), NaNs skipped and counted. */
  stats(options?: { scaled?: boolean; volume?: number }): NiftiStats;
}

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const SPATIAL_UNITS: Record<number, string> = { 0: 'unknown', 1: 'meter', 2: 'mm', 3: 'micron' };
const TEMPORAL_UNITS: Record<number, string> = {
  0: 'unknown',
  8: 'sec',
  16: 'msec',
  24: 'usec',
  32: 'hz',
  40: 'ppm',
  48: 'rads',
};

function identity(): Matrix4 {
  return [
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
}

/** srow_x/y/z. nifti-reader-js only exposes them when it happens to prefer the sform, so read them directly. */
function readSform(p: ParsedHeader): Matrix4 {
  if (p.version === 2) return p.hdr.affine.map((row) => [...row]); // NIFTI2 always fills affine from srow
  const dv = new DataView(p.raw.buffer, p.raw.byteOffset, p.raw.byteLength);
  const m = identity();
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) m[r]![c] = dv.getFloat32(280 + (r * 4 + c) * 4, p.littleEndian);
  }
  return m;
}

/**
 * The qform as nibabel computes it. nifti-reader-js's own conversion (from nifti1_io.c) zeroes the quaternion's
 * `a` whenever 1 − (b² + c² + d²) < 1e-7, which turns small real rotations into zero (0.00014 off on
 * example4d); nibabel only does that when the value is negative. pixdim[0] = 0 counts as qfac = 1.
 */
function qform(p: ParsedHeader): Matrix4 {
  const h = p.hdr;
  const px = h.pixDims;
  const [b, c, d] = [h.quatern_b, h.quatern_c, h.quatern_d];
  const w2 = 1 - (b * b + c * c + d * d);
  const a = w2 > 0 ? Math.sqrt(w2) : 0;
  const n = a * a + b * b + c * c + d * d;
  const s = n > 0 ? 2 / n : 0;
  const [X, Y, Z] = [b * s, c * s, d * s];
  const R = [
    [1 - (c * Y + d * Z), b * Y - a * Z, b * Z + a * Y],
    [b * Y + a * Z, 1 - (b * X + d * Z), c * Z - a * X],
    [b * Z - a * Y, c * Z + a * X, 1 - (b * X + c * Y)],
  ];
  const qfac = (px[0] ?? 0) < 0 ? -1 : 1;
  const zooms = [px[1] ?? 1, px[2] ?? 1, (px[3] ?? 1) * qfac];
  const offsets = [h.qoffset_x, h.qoffset_y, h.qoffset_z];
  const m = identity();
  for (let r = 0; r < 3; r++) {
    for (let col = 0; col < 3; col++) m[r]![col] = R[r]![col]! * zooms[col]!;
    m[r]![3] = offsets[r]!;
  }
  return m;
}

/**
 * A header text field as a C string: up to the first NUL (nifti-reader-js skips NULs and keeps reading, so
 * "FSL3.3\0 v2.25 NIfTI-1 ..." would come back glued together), trailing spaces trimmed, Latin-1.
 */
function headerString(p: ParsedHeader, start: number, length: number): string {
  const field = p.raw.subarray(start, start + length);
  const end = field.indexOf(0);
  return String.fromCharCode(...field.subarray(0, end === -1 ? length : end)).trimEnd();
}

/** nibabel's get_base_affine: pixdim zooms, x flipped, origin at the volume centre. */
function pixdimAffine(dims: number[], pixdim: number[]): Matrix4 {
  const m = identity();
  for (let i = 0; i < 3; i++) {
    const n = dims[i] ?? 1;
    const zoom = (pixdim[i + 1] ?? 1) * (i === 0 ? -1 : 1);
    m[i]![i] = zoom;
    m[i]![3] = (-(n - 1) / 2) * zoom;
  }
  return m;
}

function toLps(ras: Matrix4): Matrix4 {
  return ras.map((row, r) => row.map((v) => (r < 2 ? -v : v) + 0));
}

function nibabelScaling(slope: number, inter: number): { slope: number; inter: number } | null | 'bad-inter' {
  if (slope === 0 || !Number.isFinite(slope)) return null;
  if (!Number.isFinite(inter)) return 'bad-inter';
  if (slope === 1 && inter === 0) return null;
  return { slope, inter };
}

function swapInPlace(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  for (let i = 0; i + width <= bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const tmp = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = tmp;
    }
  }
}

function describe(set: OpenedSet): string {
  return set.image ? `"${set.header.name}" + "${set.image.name}"` : `"${set.header.name}"`;
}

/**
 * Read one NIfTI-1/NIfTI-2 image: a single `.nii`/`.nii.gz`, or an `.hdr` + `.img` pair (each optionally gzipped).
 * Throws NiftiError with a readable message for anything it cannot read.
 */
export function readNifti(files: readonly NiftiInputFile[]): NiftiVolume {
  const set = openFiles(files);
  const isPair = set.image !== null;
  const p = parseHeader(set.header, isPair);
  const h = p.hdr;

  const ndim = h.dims[0] ?? 0;
  if (!Number.isInteger(ndim) || ndim < 1 || ndim > 7) {
    throw new NiftiError(`The NIfTI header of ${describe(set)} says the image has ${ndim} dimensions; it must be 1 to 7.`);
  }
  const dims = h.dims.slice(1, ndim + 1);
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new NiftiError(`The NIfTI header of ${describe(set)} has invalid dimensions (${dims.join(' × ')}).`);
  }
  const dt = niftiDatatype(h.datatypeCode, h.numBitsPerVoxel);
  const voxelsPerVolume = (dims[0] ?? 1) * (dims[1] ?? 1) * (dims[2] ?? 1);
  const volumes = dims.slice(3).reduce((a, b) => a * b, 1);
  const volumeBytes = voxelsPerVolume * dt.bytesPerVoxel;

  const dataFile = set.image ?? set.header;
  const dataOffset = Math.round(Number(h.vox_offset));
  if (!isPair && dataOffset < p.headerSize) {
    throw new NiftiError(
      `The NIfTI header of ${describe(set)} puts the voxel data at byte ${dataOffset}, inside the header itself; the file is corrupt.`,
    );
  }
  if (dataOffset < 0) throw new NiftiError(`The NIfTI header of ${describe(set)} has a negative voxel offset.`);
  const needed = dataOffset + volumeBytes * volumes;
  if (dataFile.bytes.length < needed) {
    throw new NiftiError(
      `The voxel data in "${dataFile.name}" is truncated: a ${dims.join(' × ')} ${dt.name} image needs ${needed} bytes` +
        `${dataOffset ? ` (from offset ${dataOffset})` : ''}, but there are only ${dataFile.bytes.length}.`,
    );
  }
  const data = dataFile.bytes;

  const pixdim = [...h.pixDims];
  const qformAffine = qform(p);
  const sformAffine = readSform(p);
  let affineRas: Matrix4;
  let affineSource: NiftiVolume['affineSource'];
  if (h.sform_code !== 0) {
    affineRas = sformAffine.map((r) => [...r]);
    affineSource = 'sform';
  } else if (h.qform_code !== 0) {
    affineRas = qformAffine.map((r) => [...r]);
    affineSource = 'qform';
  } else {
    affineRas = pixdimAffine(dims, pixdim);
    affineSource = 'pixdim';
  }

  const scalingCheck = nibabelScaling(h.scl_slope, h.scl_inter);
  const scaling = scalingCheck === 'bad-inter' ? null : scalingCheck;
  const swap = p.littleEndian !== HOST_LITTLE_ENDIAN;

  const checkT = (t: number): void => {
    if (!Number.isInteger(t) || t < 0 || t >= volumes) {
      throw new RangeError(`Volume index ${t} is out of range; this image has ${volumes} volume(s).`);
    }
  };

  const getVolume = (t: number): NiftiTypedArray => {
    checkT(t);
    const start = dataOffset + t * volumeBytes;
    const copy = data.slice(start, start + volumeBytes);
    if (swap) swapInPlace(copy, dt.elementBytes);
    return dt.view(copy.buffer);
  };

  const getScaledVolume = (t: number): Float64Array<ArrayBuffer> => {
    if (dt.components !== 1) {
      throw new NiftiError(`This NIfTI image stores ${dt.name} colour voxels, which have no single intensity to scale.`);
    }
    if (scalingCheck === 'bad-inter') {
      throw new NiftiError(
        `The NIfTI header of ${describe(set)} has a valid scl_slope but an invalid scl_inter (${h.scl_inter}), so intensities cannot be computed.`,
      );
    }
    const raw = getVolume(t);
    const out = new Float64Array(raw.length);
    const slope = scaling?.slope ?? 1;
    const inter = scaling?.inter ?? 0;
    for (let i = 0; i < raw.length; i++) out[i] = Number(raw[i]!) * slope + inter;
    return out;
  };

  const stats = (options: { scaled?: boolean; volume?: number } = {}): NiftiStats => {
    if (dt.components !== 1) {
      throw new NiftiError(`This NIfTI image stores ${dt.name} colour voxels; intensity statistics do not apply.`);
    }
    const ts = options.volume === undefined ? Array.from({ length: volumes }, (_, i) => i) : [options.volume];
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let count = 0;
    let nanCount = 0;
    for (const t of ts) {
      const values: ArrayLike<number | bigint> = options.scaled ? getScaledVolume(t) : getVolume(t);
      for (let i = 0; i < values.length; i++) {
        const v = Number(values[i]!);
        if (Number.isNaN(v)) {
          nanCount++;
          continue;
        }
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
        count++;
      }
    }
    return count === 0
      ? { min: NaN, max: NaN, mean: NaN, nanCount, count }
      : { min, max, mean: sum / count, nanCount, count };
  };

  return {
    niftiVersion: p.version,
    isPair,
    dims,
    datatype: { code: dt.code, name: dt.name },
    bitpix: h.numBitsPerVoxel,
    littleEndian: p.littleEndian,
    pixdim,
    xyztUnits: {
      spatial: SPATIAL_UNITS[h.xyzt_units & 7] ?? 'unknown',
      temporal: TEMPORAL_UNITS[h.xyzt_units & 56] ?? 'unknown',
    },
    qformCode: h.qform_code,
    sformCode: h.sform_code,
    qformAffine,
    sformAffine,
    affineRas,
    affineLps: toLps(affineRas),
    affineSource,
    sclSlope: h.scl_slope,
    sclInter: h.scl_inter,
    scaling,
    descrip: p.version === 1 ? headerString(p, 148, 80) : headerString(p, 240, 80),
    auxFile: p.version === 1 ? headerString(p, 228, 24) : headerString(p, 320, 24),
    extensions: h.extensions.map((e) => ({ code: e.ecode, size: e.esize })),
    dataOffset,
    volumes,
    voxelsPerVolume,
    getVolume,
    getScaledVolume,
    stats,
  };
}
