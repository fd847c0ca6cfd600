export { probeFile } from './probe.js';
export type { ProbeResult, ProbeMetadata } from './probe.js';
export { sanitizeFileName } from './filename.js';
export type { SanitizedName } from './filename.js';
export * from './nifti/index.js';
export {
  deidentifyDicom,
  DicomDeidError,
  DEFAULT_DEID_SETTINGS,
  type DeidOptions,
  type DeidReport,
  type DeidResult,
  type DeidSettings,
  type BurnedInAssessment,
  type ImageIdentity,
} from './dicom/deid/deidentify.js';
export { redactDicom, matchRule, type RedactionRule, type RedactionRect, type RedactionResult } from './dicom/deid/redact.js';
export * from './dicom/read/index.js';
export {
  extractZip,
  gunzipToFile,
  isZip,
  isGzip,
  checkEntryName,
  ArchiveError,
  DEFAULT_ARCHIVE_LIMITS,
  RATIO_GRACE_BYTES,
  type ArchiveLimits,
  type ExtractedEntry,
  type RejectedEntry,
  type NameCheck,
} from './archive/zip.js';
export { decodeRaster, RasterError, MAX_RASTER_PIXELS, type Raster } from './image/raster.js';
export { renderThumbnail, applyWindow, windowFromRange, type ThumbnailInput } from './image/thumbnail.js';
