// Imaging types shared by the server (which writes them) and its clients (which read them):
// asset.metadata.imaging, the ingest run summary and the project de-identification settings.

export type FrameDtype = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';

export interface WindowPreset {
  name: string;
  center: number;
  width: number;
}

/** asset.metadata.imaging: what a viewer needs to draw the stored frames. */
export interface ImagingMeta {
  kind: 'volume' | 'stack' | 'cine' | 'image' | 'object';
  source: 'dicom' | 'nifti' | 'raster';
  modality: string;
  /** [columns, rows, frames] */
  dims: [number, number, number];
  timepoints: number;
  samples: 1 | 3 | 4;
  dtype: FrameDtype;
  photometric: string;
  /** [column spacing, row spacing, slice step] in mm */
  spacing: [number, number, number] | null;
  /** voxel (column, row, frame) → patient LPS mm, row-major 4×4 */
  affineLps: number[][] | null;
  rescale: { slope: number; intercept: number };
  windows: WindowPreset[];
  valueRange: [number, number] | null;
  frameTimesMs: number[] | null;
  frameRate: number | null;
  issues: { code: string; message: string }[];
  flags: string[];
  seriesId?: string;
  studyId?: string;
  sopClassUid?: string;
  referencedSeriesIds?: string[];
}

export type IngestState = 'queued' | 'running' | 'done' | 'failed';

export type IngestFileStatus = 'pending' | 'stored' | 'duplicate' | 'rejected' | 'skipped' | 'expanded';

export interface IngestSummary {
  assetsCreated: number;
  assetsUpdated: number;
  instancesStored: number;
  duplicates: number;
  rejected: number;
  skipped: number;
  flaggedBurnedIn: number;
  redacted: number;
  deid: Partial<Record<'removed' | 'emptied' | 'replaced' | 'uidsRemapped' | 'datesShifted' | 'cleaned' | 'privateRemoved' | 'privateKept', number>>;
  seriesIssues: Record<string, number>;
}

export const DEID_OPTIONS = [
  'retainLongitudinalTemporalModifiedDates',
  'retainPatientCharacteristics',
  'retainDeviceIdentity',
  'retainInstitutionIdentity',
  'retainUids',
  'cleanDescriptors',
  'retainSafePrivate',
  'keepPrivateTags',
] as const;

export type DeidOption = (typeof DEID_OPTIONS)[number];

export interface RedactionRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface RedactionRule {
  manufacturer?: string;
  model?: string;
  rows?: number;
  columns?: number;
  rects: RedactionRect[];
}
