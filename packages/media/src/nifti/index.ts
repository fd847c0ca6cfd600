export { readNifti } from './read.js';
export type { NiftiVolume, NiftiStats, Matrix4 } from './read.js';
export { deidentifyNifti } from './deidentify.js';
export type { NiftiDeidentifyResult } from './deidentify.js';
export { NiftiError } from './errors.js';
export type { NiftiInputFile } from './io.js';
export type { NiftiTypedArray, NiftiDatatypeName } from './datatypes.js';
