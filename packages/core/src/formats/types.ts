import type { AnnotationObject } from '../annotation/object.js';
import type { AttributeDef } from '../schema/label-schema.js';

/** An attribute definition from the project's label schema. */
export type LabelAttribute = AttributeDef;

/** One image of an export; `fileName` is relative to the images folder, e.g. "CT chest/slice_0042.png". */
export interface ExportImage {
  id: number;
  fileName: string;
  width: number;
  height: number;
}

/** One label of an export. `keypoints` is the label's landmark set (in order); `attributes` its schema. */
export interface ExportCategory {
  id: number;
  name: string;
  color: string;
  keypoints?: string[];
  attributes?: LabelAttribute[];
}

/**
 * The objects of one image (already filtered to its slice or frame). Any kind may appear: writers
 * write what their format expresses and count the rest in `WriteStats.dropped`.
 */
export interface ImageObjects {
  image: ExportImage;
  objects: AnnotationObject[];
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An annotation object as read from a file: no id, source, author or timestamps yet. */
export type ImportedObject = DistributiveOmit<AnnotationObject, 'id' | 'source' | 'createdBy' | 'createdAt' | 'updatedAt'>;

/** One image read from an interchange file, with its objects. */
export interface ParsedImage {
  fileName: string;
  width?: number;
  height?: number;
  objects: ImportedObject[];
}

/** Something in the input that was understood but not imported, and why. */
export interface SkippedItem {
  where: string;
  reason: string;
}

/** Everything read from one interchange file. */
export interface ParsedDataset {
  images: ParsedImage[];
  /** Every label name seen (categories, label definitions and object labels). */
  labels: string[];
  skipped: SkippedItem[];
}

/** Malformed input: the message names the format and where, and never echoes long content. */
export class FormatError extends Error {
  readonly format: string;
  constructor(format: string, message: string) {
    super(`${format}: ${message}`);
    this.name = 'FormatError';
    this.format = format;
  }
}

/** What a writer wrote, and per object kind how many objects the format could not express. */
export interface WriteStats {
  images: number;
  objects: number;
  dropped: Record<string, number>;
}

/** A fresh, zeroed `WriteStats`. */
export function newWriteStats(): WriteStats {
  return { images: 0, objects: 0, dropped: {} };
}

/** Key under which objects whose label is not among the export's categories are counted. */
export const UNKNOWN_LABEL = 'unknown label';

/** Count one dropped object under `key` (its kind, or `UNKNOWN_LABEL`). */
export function countDropped(stats: WriteStats | undefined, key: string): void {
  if (stats !== undefined) stats.dropped[key] = (stats.dropped[key] ?? 0) + 1;
}
