export { probeFile } from './probe.js';
export type { ProbeResult, ProbeMetadata } from './probe.js';
export { sanitizeFileName } from './filename.js';
export type { SanitizedName } from './filename.js';
export * from './nifti/index.js';
// The de-identification engine (also importable alone as `@caliper/media/deid`).
export * from './deid.js';
export { matchRule } from './dicom/deid/redact.js';
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
export * from './dicom/write/source.js';
export * from './dicom/sr/index.js';
export * from './dicom/rtstruct/index.js';
export * from './dicom/seg/index.js';
