export { probeFile } from './probe.js';
export type { ProbeResult, ProbeMetadata } from './probe.js';
export { sanitizeFileName } from './filename.js';
export type { SanitizedName } from './filename.js';
export * from './nifti/index.js';
export { deidentifyDicom, DicomDeidError, type DeidOptions, type DeidReport, type DeidResult } from './dicom/deid/deidentify.js';
export * from './dicom/read/index.js';
