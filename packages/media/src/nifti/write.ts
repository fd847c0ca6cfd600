/**
 * NIfTI-1 writer for volumes and label maps (single-file `.nii` / `.nii.gz`, little endian).
 *
 * Geometry: Caliper volumes carry `affineLps` (voxel index → DICOM patient LPS mm, voxel centres at
 * integer indices). NIfTI is RAS, so the header gets affineRas = diag(−1, −1, 1, 1) · affineLps:
 * - the sform holds affineRas as given (float32), sform_code 1 (scanner);
 * - the qform is derived from the same affine exactly as nibabel's `Nifti1Header.set_qform` does it
 *   (zooms = column norms, qfac = sign of the rotation's determinant, nearest orthonormal rotation by
 *   polar decomposition when the affine is sheared, quaternion with a ≥ 0), qform_code 1. The stored
 *   float32 b, c, d may sit one float32 step from nibabel's rounding where that rebuilds the rotation better
 *   (rotations near 180°, see storableQuaternion).
 *
 * `writeNiftiGz` compresses pigz-style: the bytes are cut into chunks that are deflated concurrently on
 * libuv's thread pool (node:zlib async), each chunk primed with the previous 32 KiB as dictionary and
 * ended with a sync flush, then stitched into ONE gzip member with the CRC-32 of the whole file. A single
 * member matters: fflate's `gunzipSync` (used by our reader) stops after the first member of a
 * multi-member gzip file.
 */
import * as zlib from 'node:zlib';
import { NiftiError } from './errors.js';

export type NiftiWritable =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

export interface NiftiWriteInput {
  /** Voxels, x fastest, then y, z (then t). For `rgb`: interleaved R, G, B bytes. */
  data: NiftiWritable;
  /** [nx, ny, nz] or [nx, ny, nz, nt]. */
  dims: number[];
  /** Voxel (i, j, k) → DICOM patient LPS mm, row-major 4×4. */
  affineLps: number[][];
  /** `data` is a Uint8Array of RGB triplets → datatype RGB24 (128). */
  rgb?: boolean;
  /** 'label' → intent_code 1002 (NIFTI_INTENT_LABEL) and intent_name "Labels". */
  intent?: 'label' | 'none';
  /** scl_slope / scl_inter. Omitted: both 0, which NIfTI readers (nibabel included) treat as "unscaled". */
  scaling?: { slope: number; inter: number };
  /** descrip: printable ASCII, truncated to 79 characters; anything else becomes '?'. */
  description?: string;
  /** pixdim[4] of a 4D image; xyzt_units then says mm + sec. */
  timeStepSeconds?: number;
}

/** Size of the NIfTI-1 header plus the 4-byte extension flag; the voxels start here. */
export const NIFTI_VOX_OFFSET = 352;

const NIFTI_INTENT_LABEL = 1002;
const NIFTI_XFORM_SCANNER_ANAT = 1;
const UNITS_MM = 2;
const UNITS_SEC = 8;
const MAX_DIM = 32767;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface DatatypeInfo {
  code: number;
  bitpix: number;
  elementBytes: number;
}

function datatypeOf(data: NiftiWritable, rgb: boolean): DatatypeInfo {
  if (rgb) {
    if (!(data instanceof Uint8Array)) throw new NiftiError('RGB NIfTI output needs the voxels as a Uint8Array of R, G, B bytes.');
    return { code: 128, bitpix: 24, elementBytes: 1 };
  }
  if (data instanceof Uint8Array) return { code: 2, bitpix: 8, elementBytes: 1 };
  if (data instanceof Int8Array) return { code: 256, bitpix: 8, elementBytes: 1 };
  if (data instanceof Uint16Array) return { code: 512, bitpix: 16, elementBytes: 2 };
  if (data instanceof Int16Array) return { code: 4, bitpix: 16, elementBytes: 2 };
  if (data instanceof Uint32Array) return { code: 768, bitpix: 32, elementBytes: 4 };
  if (data instanceof Int32Array) return { code: 8, bitpix: 32, elementBytes: 4 };
  if (data instanceof Float32Array) return { code: 16, bitpix: 32, elementBytes: 4 };
  if (data instanceof Float64Array) return { code: 64, bitpix: 64, elementBytes: 8 };
  throw new NiftiError('NIfTI output supports Uint8, Int8, Uint16, Int16, Uint32, Int32, Float32 and Float64 voxel arrays only.');
}

type Mat3 = [[number, number, number], [number, number, number], [number, number, number]];

function det3(m: Mat3): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

/** Inverse transpose of a 3×3 matrix (cofactor matrix / determinant). */
function inverseTranspose3(m: Mat3): Mat3 {
  const d = det3(m);
  const c = (r0: number, r1: number, c0: number, c1: number): number => m[r0]![c0]! * m[r1]![c1]! - m[r0]![c1]! * m[r1]![c0]!;
  return [
    [c(1, 2, 1, 2) / d, -c(1, 2, 0, 2) / d, c(1, 2, 0, 1) / d],
    [-c(0, 2, 1, 2) / d, c(0, 2, 0, 2) / d, -c(0, 2, 0, 1) / d],
    [c(0, 1, 1, 2) / d, -c(0, 1, 0, 2) / d, c(0, 1, 0, 1) / d],
  ];
}

/**
 * The orthogonal factor of the polar decomposition (the nearest orthonormal matrix), computed by Newton's
 * iteration X ← (X + X⁻ᵀ) / 2. It equals P·Qᵀ of the SVD R = P·S·Qᵀ that nibabel uses.
 */
function nearestOrthonormal(r: Mat3): Mat3 {
  let x: Mat3 = [
    [...r[0]],
    [...r[1]],
    [...r[2]],
  ];
  for (let iter = 0; iter < 100; iter++) {
    const it = inverseTranspose3(x);
    let change = 0;
    const next = x.map((row, i) =>
      row.map((v, j) => {
        const n = (v + it[i]![j]!) / 2;
        change = Math.max(change, Math.abs(n - v));
        return n;
      }),
    ) as Mat3;
    x = next;
    if (change < 1e-15) break;
  }
  return x;
}

/** Unit quaternion [a, b, c, d] (a ≥ 0) of a proper rotation matrix (Shepperd's method). */
function rotationToQuaternion(m: Mat3): [number, number, number, number] {
  const t = m[0][0] + m[1][1] + m[2][2];
  let q: [number, number, number, number];
  if (t > 0) {
    const s = Math.sqrt(t + 1) * 2;
    q = [s / 4, (m[2][1] - m[1][2]) / s, (m[0][2] - m[2][0]) / s, (m[1][0] - m[0][1]) / s];
  } else if (m[0][0] >= m[1][1] && m[0][0] >= m[2][2]) {
    const s = Math.sqrt(1 + m[0][0] - m[1][1] - m[2][2]) * 2;
    q = [(m[2][1] - m[1][2]) / s, s / 4, (m[0][1] + m[1][0]) / s, (m[0][2] + m[2][0]) / s];
  } else if (m[1][1] >= m[2][2]) {
    const s = Math.sqrt(1 + m[1][1] - m[0][0] - m[2][2]) * 2;
    q = [(m[0][2] - m[2][0]) / s, (m[0][1] + m[1][0]) / s, s / 4, (m[1][2] + m[2][1]) / s];
  } else {
    const s = Math.sqrt(1 + m[2][2] - m[0][0] - m[1][1]) * 2;
    q = [(m[1][0] - m[0][1]) / s, (m[0][2] + m[2][0]) / s, (m[1][2] + m[2][1]) / s, s / 4];
  }
  const n = Math.hypot(...q);
  q = q.map((v) => v / n) as [number, number, number, number];
  return q[0] < 0 ? (q.map((v) => -v + 0) as [number, number, number, number]) : q;
}

/** Rotation matrix from stored (b, c, d), reconstructing a = √(1 − b² − c² − d²) as nibabel does (0 when negative). */
function quaternionToRotation(b: number, c: number, d: number): Mat3 {
  const w2 = 1 - (b * b + c * c + d * d);
  const a = w2 > 0 ? Math.sqrt(w2) : 0;
  const n = a * a + b * b + c * c + d * d;
  const s = n > 0 ? 2 / n : 0;
  return [
    [1 - s * (c * c + d * d), s * (b * c - a * d), s * (b * d + a * c)],
    [s * (b * c + a * d), 1 - s * (b * b + d * d), s * (c * d - a * b)],
    [s * (b * d - a * c), s * (c * d + a * b), 1 - s * (b * b + c * c)],
  ];
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float32 values next to fround(x) on either side, and fround(x) itself. */
function float32Neighbours(x: number): number[] {
  const mid = Math.fround(x);
  const out = [mid];
  for (const step of [-1, 1]) {
    f32[0] = mid;
    if (mid === 0) {
      u32[0] = 1;
      out.push(step * f32[0]);
    } else {
      u32[0] = u32[0]! + (Math.sign(mid) === step ? 1 : -1);
      out.push(f32[0]);
    }
  }
  return out;
}

/**
 * The float32 (b, c, d) that readers turn back into the rotation closest to `target`. Plain rounding is
 * what nibabel stores, but when a is near 0 (rotations near 180°, e.g. LPS → RAS of an oblique axial
 * series) the reconstructed a = √(1 − b² − c² − d²) amplifies the float32 rounding of b, c, d to ~3e-4;
 * picking among the neighbouring float32 values (at most one ulp away from nibabel's) avoids that.
 */
function storableQuaternion(q: [number, number, number], target: Mat3): [number, number, number] {
  const [bs, cs, ds] = q.map(float32Neighbours) as [number[], number[], number[]];
  let best: [number, number, number] = [bs[0]!, cs[0]!, ds[0]!];
  let bestErr = Infinity;
  for (const b of bs) {
    for (const c of cs) {
      for (const d of ds) {
        const m = quaternionToRotation(b, c, d);
        let err = 0;
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) err = Math.max(err, Math.abs(m[i]![j]! - target[i]![j]!));
        if (err < bestErr) {
          bestErr = err;
          best = [b, c, d];
        }
      }
    }
  }
  return best;
}

/** The qform parameters nibabel's `set_qform(affine)` stores for a RAS affine. */
export interface QformParams {
  /** quatern_b, c, d, already float32 values (chosen so that readers rebuild the rotation best). */
  quatern: [number, number, number];
  offset: [number, number, number];
  /** pixdim[1..3]: the affine's column norms. */
  zooms: [number, number, number];
  /** pixdim[0]: −1 when the rotation part has a negative determinant. */
  qfac: 1 | -1;
}

/**
 * Decompose a voxel → RAS affine into NIfTI qform parameters the way nibabel 5 does
 * (`Nifti1Header.set_qform` with strip_shears): shears are dropped by taking the nearest orthonormal
 * rotation; the sform keeps the exact affine.
 */
export function qformFromAffine(affineRas: number[][]): QformParams {
  const col = (c: number): [number, number, number] => [affineRas[0]![c]!, affineRas[1]![c]!, affineRas[2]![c]!];
  const zooms = [0, 1, 2].map((c) => Math.hypot(...col(c))) as [number, number, number];
  if (zooms.some((z) => !(z > 0) || !Number.isFinite(z))) {
    throw new NiftiError('The affine has a zero-length or non-finite axis, so it cannot describe a voxel grid.');
  }
  const unit = (i: number, j: number): number => affineRas[i]![j]! / zooms[j]!;
  const r0 = [0, 1, 2].map((i) => [unit(i, 0), unit(i, 1), unit(i, 2)]) as Mat3;
  const d = det3(r0);
  if (!(Math.abs(d) > 1e-12)) throw new NiftiError('The affine is singular (its axes are parallel), so it cannot describe a voxel grid.');
  const qfac: 1 | -1 = d > 0 ? 1 : -1;
  // Negative determinant: flip the third column so that R is a proper rotation (nibabel: R[:, -1] *= -1).
  const r = r0.map(([a, b, c]) => [a, b, qfac * c]) as Mat3;
  const rotation = nearestOrthonormal(r);
  const q = rotationToQuaternion(rotation);
  return {
    quatern: storableQuaternion([q[1], q[2], q[3]], rotation),
    offset: [affineRas[0]![3]!, affineRas[1]![3]!, affineRas[2]![3]!],
    zooms,
    qfac,
  };
}

function rasFromLps(affineLps: number[][]): number[][] {
  if (
    affineLps.length !== 4 ||
    affineLps.some((row) => row.length !== 4 || row.some((v) => !Number.isFinite(v)))
  ) {
    throw new NiftiError('The volume affine must be a 4×4 matrix of finite numbers.');
  }
  return affineLps.map((row, r) => row.map((v) => (r < 2 ? -v : v) + 0));
}

function asciiDescription(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    if (out.length === 79) break;
    const code = ch.codePointAt(0)!;
    out.push(code >= 0x20 && code <= 0x7e ? code : 0x3f);
  }
  return Uint8Array.from(out);
}

interface Checked {
  dt: DatatypeInfo;
  dims: number[];
  voxels: number;
}

function check(input: NiftiWriteInput): Checked {
  const dt = datatypeOf(input.data, input.rgb === true);
  const dims = input.dims;
  if (dims.length !== 3 && dims.length !== 4) {
    throw new NiftiError(`NIfTI output takes 3 or 4 dimensions; got ${dims.length}.`);
  }
  if (dims.some((d) => !Number.isInteger(d) || d < 1 || d > MAX_DIM)) {
    throw new NiftiError(`Every NIfTI dimension must be an integer from 1 to ${MAX_DIM}; got ${dims.join(' × ')}.`);
  }
  const voxels = dims.reduce((a, b) => a * b, 1);
  const expected = voxels * (input.rgb === true ? 3 : 1);
  if (input.data.length !== expected) {
    throw new NiftiError(
      `The voxel array has ${input.data.length} elements, but a ${dims.join(' × ')}${input.rgb === true ? ' RGB' : ''} image needs ${expected}.`,
    );
  }
  if (input.scaling && !(Number.isFinite(input.scaling.slope) && input.scaling.slope !== 0 && Number.isFinite(input.scaling.inter))) {
    throw new NiftiError('NIfTI scaling needs a finite, non-zero slope and a finite intercept.');
  }
  if (input.timeStepSeconds !== undefined && !(input.timeStepSeconds > 0 && Number.isFinite(input.timeStepSeconds))) {
    throw new NiftiError('The time step of a 4D NIfTI image must be a positive number of seconds.');
  }
  return { dt, dims, voxels };
}

/**
 * The 352-byte NIfTI-1 header (348 bytes + an all-zero extension flag) for `input`: little endian,
 * magic "n+1", vox_offset 352, sform = RAS affine (code 1) and qform derived from it as nibabel does (code 1).
 */
export function niftiHeader(input: NiftiWriteInput): Uint8Array {
  const { dt, dims } = check(input);
  const ras = rasFromLps(input.affineLps);
  const q = qformFromAffine(ras);
  const buf = new ArrayBuffer(NIFTI_VOX_OFFSET);
  const bytes = new Uint8Array(buf);
  const v = new DataView(buf);
  const le = true;

  v.setInt32(0, 348, le); // sizeof_hdr
  bytes[38] = 0x72; // regular = 'r'
  v.setInt16(40, dims.length, le);
  for (let i = 1; i <= 7; i++) v.setInt16(40 + i * 2, dims[i - 1] ?? 1, le);
  if (input.intent === 'label') {
    v.setInt16(68, NIFTI_INTENT_LABEL, le);
    bytes.set(new TextEncoder().encode('Labels'), 328);
  }
  v.setInt16(70, dt.code, le);
  v.setInt16(72, dt.bitpix, le);

  const is4d = dims.length === 4;
  const pixdim = [q.qfac, ...q.zooms, is4d ? (input.timeStepSeconds ?? 1) : 1, 1, 1, 1];
  pixdim.forEach((p, i) => v.setFloat32(76 + i * 4, p, le));
  v.setFloat32(108, NIFTI_VOX_OFFSET, le);
  v.setFloat32(112, input.scaling?.slope ?? 0, le);
  v.setFloat32(116, input.scaling?.inter ?? 0, le);
  bytes[123] = UNITS_MM | (is4d && input.timeStepSeconds !== undefined ? UNITS_SEC : 0);
  bytes.set(asciiDescription(input.description ?? ''), 148);

  v.setInt16(252, NIFTI_XFORM_SCANNER_ANAT, le); // qform_code
  v.setInt16(254, NIFTI_XFORM_SCANNER_ANAT, le); // sform_code
  q.quatern.forEach((x, i) => v.setFloat32(256 + i * 4, x, le));
  q.offset.forEach((x, i) => v.setFloat32(268 + i * 4, x, le));
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(280 + (r * 4 + c) * 4, ras[r]![c]!, le);
  bytes.set([0x6e, 0x2b, 0x31, 0x00], 344); // "n+1\0"
  // bytes 348..351: extension flag, all zero (no extensions).
  return bytes;
}

/** The voxel bytes in little-endian order (a view when the host is little endian, else a swapped copy). */
function voxelBytes(data: NiftiWritable, elementBytes: number): Uint8Array {
  const view = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (HOST_LITTLE_ENDIAN || elementBytes === 1) return view;
  const copy = view.slice();
  for (let i = 0; i < copy.length; i += elementBytes) copy.subarray(i, i + elementBytes).reverse();
  return copy;
}

/** A whole uncompressed single-file `.nii`: header, extension flag, voxels. */
export function writeNifti(input: NiftiWriteInput): Uint8Array {
  const header = niftiHeader(input);
  const { dt } = check(input);
  const body = voxelBytes(input.data, dt.elementBytes);
  const out = new Uint8Array(header.length + body.length);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

const WINDOW = 32 * 1024;
const DEFAULT_CHUNK = 8 * 1024 * 1024;
const MIN_CHUNK = 64 * 1024;

let crcTable: Uint32Array | null = null;

/** CRC-32 (gzip polynomial): node:zlib's native crc32 when present (Node ≥ 20.15), else a table loop. */
function crc32(bytes: Uint8Array, previous: number): number {
  const native = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  if (typeof native === 'function') return native(bytes, previous);
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = ~previous;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function deflatePiece(piece: Uint8Array, options: zlib.ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zlib.deflateRaw(piece, options, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

/**
 * A `.nii.gz`: the bytes of `writeNifti` as one gzip member, compressed in `chunkBytes` pieces
 * (default 8 MiB, at least 64 KiB) concurrently on the libuv thread pool at `level` (default 1, nibabel's
 * default compresslevel for .gz). Each piece after the first is primed with the previous 32 KiB, so the
 * ratio stays close to a single-threaded gzip at the same level.
 */
export async function writeNiftiGz(
  input: NiftiWriteInput,
  options: { level?: number; chunkBytes?: number } = {},
): Promise<Uint8Array> {
  const level = options.level ?? 1;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new NiftiError('The gzip level must be an integer from 0 to 9.');
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK;
  if (!Number.isInteger(chunkBytes) || chunkBytes < MIN_CHUNK) {
    throw new NiftiError(`The gzip chunk size must be an integer of at least ${MIN_CHUNK} bytes.`);
  }
  const header = niftiHeader(input);
  const { dt } = check(input);
  const body = voxelBytes(input.data, dt.elementBytes);

  const pieces: Uint8Array[] = [header];
  for (let at = 0; at < body.length; at += chunkBytes) pieces.push(body.subarray(at, Math.min(at + chunkBytes, body.length)));

  const chunkSize = 1024 * 1024;
  const jobs = pieces.map((piece, i) => {
    const last = i === pieces.length - 1;
    const opts: zlib.ZlibOptions = {
      level,
      chunkSize,
      finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH,
    };
    if (i > 0) {
      // The previous piece is the header (352 bytes, everything before) or a full chunk (≥ 64 KiB).
      const prev = pieces[i - 1]!;
      opts.dictionary = prev.subarray(Math.max(0, prev.length - WINDOW));
    }
    return deflatePiece(piece, opts);
  });

  // The CRC runs on this thread while the pool compresses.
  let crc = 0;
  for (const piece of pieces) crc = crc32(piece, crc);
  const total = header.length + body.length;

  let compressed: Buffer[];
  try {
    compressed = await Promise.all(jobs);
  } catch (err) {
    throw new NiftiError('Compressing the NIfTI image failed.', { cause: err });
  }

  const gzHeader = Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 1 ? 4 : level === 9 ? 2 : 0, 3]);
  const trailer = new Uint8Array(8);
  const tv = new DataView(trailer.buffer);
  tv.setUint32(0, crc >>> 0, true);
  tv.setUint32(4, total % 2 ** 32, true);
  const size = gzHeader.length + compressed.reduce((a, c) => a + c.length, 0) + trailer.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const part of [gzHeader, ...compressed, trailer]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
