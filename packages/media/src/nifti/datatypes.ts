import { NiftiError } from './errors.js';

/** The typed arrays a voxel buffer can come back as. RGB/RGBA come back as interleaved bytes. */
export type NiftiTypedArray =
  | Uint8Array<ArrayBuffer>
  | Int8Array<ArrayBuffer>
  | Int16Array<ArrayBuffer>
  | Uint16Array<ArrayBuffer>
  | Int32Array<ArrayBuffer>
  | Uint32Array<ArrayBuffer>
  | Float32Array<ArrayBuffer>
  | Float64Array<ArrayBuffer>
  | BigInt64Array<ArrayBuffer>
  | BigUint64Array<ArrayBuffer>;

export type NiftiDatatypeName =
  | 'uint8'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float32'
  | 'float64'
  | 'rgb24'
  | 'rgba32';

export interface NiftiDatatype {
  /** NIfTI `datatype` code from the header. */
  code: number;
  name: NiftiDatatypeName;
  /** Bytes per voxel on disk. */
  bytesPerVoxel: number;
  /** Bytes per element of the typed array (components × this = bytesPerVoxel). */
  elementBytes: number;
  /** Values per voxel: 1, or 3 / 4 for RGB / RGBA. */
  components: number;
  /** Create a typed array over a host-endian buffer. */
  view(buffer: ArrayBuffer): NiftiTypedArray;
}

function scalar(
  code: number,
  name: NiftiDatatypeName,
  bytes: number,
  view: (b: ArrayBuffer) => NiftiTypedArray,
): NiftiDatatype {
  return { code, name, bytesPerVoxel: bytes, elementBytes: bytes, components: 1, view };
}

const SUPPORTED: ReadonlyMap<number, NiftiDatatype> = new Map([
  [2, scalar(2, 'uint8', 1, (b) => new Uint8Array(b))],
  [4, scalar(4, 'int16', 2, (b) => new Int16Array(b))],
  [8, scalar(8, 'int32', 4, (b) => new Int32Array(b))],
  [16, scalar(16, 'float32', 4, (b) => new Float32Array(b))],
  [64, scalar(64, 'float64', 8, (b) => new Float64Array(b))],
  [256, scalar(256, 'int8', 1, (b) => new Int8Array(b))],
  [512, scalar(512, 'uint16', 2, (b) => new Uint16Array(b))],
  [768, scalar(768, 'uint32', 4, (b) => new Uint32Array(b))],
  [1024, scalar(1024, 'int64', 8, (b) => new BigInt64Array(b))],
  [1280, scalar(1280, 'uint64', 8, (b) => new BigUint64Array(b))],
  [128, { code: 128, name: 'rgb24', bytesPerVoxel: 3, elementBytes: 1, components: 3, view: (b) => new Uint8Array(b) }],
  [2304, { code: 2304, name: 'rgba32', bytesPerVoxel: 4, elementBytes: 1, components: 4, view: (b) => new Uint8Array(b) }],
]);

const UNSUPPORTED_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'unknown (0)'],
  [1, '1-bit binary'],
  [32, 'complex64'],
  [1536, 'float128'],
  [1792, 'complex128'],
  [2048, 'complex256'],
]);

/** Look up a datatype code; throws a NiftiError for anything we cannot turn into a typed array. */
export function niftiDatatype(code: number, bitpix: number): NiftiDatatype {
  const dt = SUPPORTED.get(code);
  if (!dt) {
    const what = UNSUPPORTED_NAMES.get(code);
    throw new NiftiError(
      what
        ? `This NIfTI file stores voxels as ${what}, which Caliper cannot read; convert it to an integer or float type first.`
        : `This NIfTI file declares datatype code ${code}, which is not a NIfTI datatype Caliper knows.`,
    );
  }
  if (bitpix !== dt.bytesPerVoxel * 8) {
    throw new NiftiError(
      `This NIfTI header is inconsistent: datatype ${dt.name} needs ${dt.bytesPerVoxel * 8} bits per voxel but bitpix says ${bitpix}.`,
    );
  }
  return dt;
}
