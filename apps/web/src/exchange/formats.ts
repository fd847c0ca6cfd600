// What the export and import dialogs offer, and how their choices become API requests.
// Pure functions only, so that they can be tested without a browser.

import type { ExportFormat, ExportRequest, ExportStats, ImportFormat, ImportLabelPolicy, ImportMode, JobStage, SegType } from '../types';

export interface FormatInfo<F extends string> {
  id: F;
  name: string;
  /** One line shown under the format select. */
  description: string;
}

export const EXPORT_FORMAT_INFO: FormatInfo<ExportFormat>[] = [
  { id: 'coco', name: 'COCO', description: 'COCO instances JSON: boxes, polygons and masks per image (one image per annotated slice).' },
  { id: 'yolo', name: 'YOLO (detection)', description: 'YOLO detection: one .txt of normalised boxes per image, with data.yaml.' },
  { id: 'yolo-seg', name: 'YOLO (segmentation)', description: 'YOLO segmentation: one .txt of normalised polygons per image, with data.yaml.' },
  { id: 'voc', name: 'Pascal VOC', description: 'Pascal VOC: one XML file of boxes per image.' },
  { id: 'cvat', name: 'CVAT for images 1.1', description: 'CVAT XML: boxes, polygons, polylines, points, masks and tags with their attributes.' },
  { id: 'nifti', name: 'NIfTI', description: 'NIfTI-1 label maps (.nii.gz) per volume, and the image volumes when images are included.' },
  { id: 'dicom-seg', name: 'DICOM SEG', description: 'DICOM Segmentation objects that reference the de-identified source series.' },
  { id: 'dicom-sr', name: 'DICOM SR (TID 1500)', description: 'DICOM Structured Report: measurement report (TID 1500) of measurements and regions.' },
  { id: 'rtstruct', name: 'DICOM RTSTRUCT', description: 'DICOM RT Structure Set: contours (polygons) per series.' },
  { id: 'caliper', name: 'Caliper backup', description: 'Lossless backup of every annotation document and the label schema; imports back exactly.' },
];

export const IMPORT_FORMAT_INFO: FormatInfo<ImportFormat>[] = [
  { id: 'coco', name: 'COCO', description: 'A COCO instances .json, or a zip holding one.' },
  { id: 'yolo', name: 'YOLO', description: 'A zip of YOLO .txt label files (detection or segmentation) with data.yaml (or obj.names / classes.txt) for the class names.' },
  { id: 'voc', name: 'Pascal VOC', description: 'A Pascal VOC .xml file, or a zip of them.' },
  { id: 'cvat', name: 'CVAT for images 1.1', description: 'A CVAT annotations.xml, or a zip holding one.' },
  { id: 'nifti', name: 'NIfTI label maps', description: 'A .nii / .nii.gz label map, or a zip of them, matched to volumes of this task.' },
  { id: 'dicom-seg', name: 'DICOM SEG', description: 'A DICOM Segmentation object (.dcm), or a zip of them, matched by referenced series.' },
  { id: 'caliper', name: 'Caliper backup', description: 'A Caliper backup zip made by the Caliper export.' },
];

/** Formats whose images are 2D slices (the "all slices" option applies). */
export const FLAT_FORMATS: ReadonlySet<ExportFormat> = new Set(['coco', 'yolo', 'yolo-seg', 'voc', 'cvat']);
/** Formats that can carry images (PNG slices or NIfTI volumes) next to the annotations. */
export const IMAGE_FORMATS: ReadonlySet<ExportFormat> = new Set(['coco', 'yolo', 'yolo-seg', 'voc', 'cvat', 'nifti']);

export const ALL_STAGES: JobStage[] = ['annotation', 'review', 'acceptance'];

export function formatName(id: string): string {
  return EXPORT_FORMAT_INFO.find((f) => f.id === id)?.name ?? IMPORT_FORMAT_INFO.find((f) => f.id === id)?.name ?? id;
}

/** Everything the export dialog lets the user choose. */
export interface ExportChoices {
  format: ExportFormat;
  /** '' = the whole project. */
  taskId: string;
  stages: JobStage[];
  completedOnly: boolean;
  /** 'all', 'consensus' or a user id. */
  annotator: string;
  includeImages: boolean;
  allSlices: boolean;
  segType: SegType;
}

export const DEFAULT_EXPORT_CHOICES: ExportChoices = {
  format: 'coco',
  taskId: '',
  stages: [...ALL_STAGES],
  completedOnly: false,
  annotator: 'all',
  includeImages: false,
  allSlices: false,
  segType: 'binary',
};

/** Why the choices cannot be sent, or null when they can. */
export function exportChoicesProblem(c: ExportChoices): string | null {
  if (c.stages.length === 0) return 'Choose at least one job stage.';
  return null;
}

/**
 * The request body for the choices: options that do not apply to the format are left out, and
 * "every stage" is sent as no stage filter.
 */
export function toExportRequest(c: ExportChoices): ExportRequest {
  const req: ExportRequest = { format: c.format, completedOnly: c.completedOnly, annotator: c.annotator || 'all' };
  if (c.taskId) req.taskId = c.taskId;
  const stages = ALL_STAGES.filter((s) => c.stages.includes(s));
  if (stages.length > 0 && stages.length < ALL_STAGES.length) req.stages = stages;
  if (IMAGE_FORMATS.has(c.format)) req.includeImages = c.includeImages;
  if (FLAT_FORMATS.has(c.format)) req.allSlices = c.allSlices;
  if (c.format === 'dicom-seg') req.segType = c.segType;
  return req;
}

/** One "their label → our label" row of the label map editor. */
export interface LabelMapRow {
  from: string;
  to: string;
}

/** Everything the import dialog lets the user choose (the file aside). */
export interface ImportChoices {
  format: ImportFormat;
  labels: ImportLabelPolicy;
  labelMap: LabelMapRow[];
  mode: ImportMode;
  /** '' = the first annotation job holding each asset. */
  jobId: string;
}

export const DEFAULT_IMPORT_CHOICES: ImportChoices = { format: 'coco', labels: 'refuse', labelMap: [], mode: 'append', jobId: '' };

/** The label map as the API takes it; rows with an empty side are ignored, later rows win. */
export function labelMapObject(rows: LabelMapRow[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) {
    const from = r.from.trim();
    if (from && r.to) out[from] = r.to;
  }
  return out;
}

/** Why the import choices cannot be sent, or null when they can. */
export function importChoicesProblem(c: ImportChoices): string | null {
  if (c.labels === 'map' && Object.keys(labelMapObject(c.labelMap)).length === 0) return 'Add at least one "their label → our label" pair, or choose another label option.';
  const seen = new Set<string>();
  for (const r of c.labelMap) {
    const from = r.from.trim();
    if (c.labels === 'map' && from && seen.has(from)) return `The label "${from}" is mapped twice.`;
    seen.add(from);
  }
  return null;
}

/** The query string of POST /api/tasks/:id/imports (without the leading "?"). */
export function importQuery(c: ImportChoices, dryRun: boolean): string {
  const q = new URLSearchParams({ format: c.format, dryRun: String(dryRun), labels: c.labels, mode: c.mode });
  if (c.labels === 'map') q.set('labelMap', JSON.stringify(labelMapObject(c.labelMap)));
  if (c.jobId) q.set('jobId', c.jobId);
  return q.toString();
}

/** "3 ellipse, 1 labelmap" style list of what the format could not hold, largest first. */
export function droppedList(stats: ExportStats | null): { kind: string; count: number }[] {
  if (!stats) return [];
  return Object.entries(stats.dropped)
    .filter(([, n]) => n > 0)
    .map(([kind, count]) => ({ kind, count }))
    .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The sentence shown after a real import. */
export function importSummary(r: { objects: number; labelmaps: number; assets: unknown[] }): string {
  return `Imported ${plural(r.objects, 'object')} and ${plural(r.labelmaps, 'label map')} into ${plural(r.assets.length, 'asset')}.`;
}
