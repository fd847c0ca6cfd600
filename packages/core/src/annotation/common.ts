import { z } from 'zod';
import type { RelativeIssue } from '../validation/issues.js';

/** Object ids are chosen by the client (e.g. a UUID or nanoid) and unique within a document. */
export const objectIdSchema = z.string().min(1, 'id must not be empty').max(64, 'id must be at most 64 characters long');

export const attributeValueSchema = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

/** Where an object came from: `manual`, `consensus`, `model:<name>` or `import:<format>`. */
export const sourceSchema = z.union(
  [
    z.literal('manual'),
    z.literal('consensus'),
    z.templateLiteral(['model:', z.string().min(1)]),
    z.templateLiteral(['import:', z.string().min(1)]),
  ],
  { error: 'source must be "manual", "consensus", "model:<name>" or "import:<format>"' },
);
export type AnnotationSource = z.output<typeof sourceSchema>;

const timestamp = z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2024-05-01T12:00:00Z' });

/** Fields every annotation object carries, whatever its kind. */
export const commonObjectShape = {
  id: objectIdSchema,
  label: z.string().min(1, 'label must not be empty'),
  attributes: z.record(z.string().min(1), attributeValueSchema).default({}),
  source: sourceSchema,
  createdBy: z.string().min(1, 'createdBy must not be empty'),
  createdAt: timestamp,
  updatedAt: timestamp,
};

export interface CommonObjectFields {
  id: string;
  kind: string;
  label: string;
  attributes: Record<string, string | number | boolean | string[]>;
  source: AnnotationSource;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export const finite = z.number();
export const nonNegativeInt = z.number().int('must be a whole number').nonnegative('must not be negative');

/** `[x, y]` in image pixel coordinates. */
export const point2Schema = z.tuple([finite, finite]);

/**
 * Which 2D plane a 2D shape lies on: `slice` (k, for volumes and multi-frame images) or
 * `frame` (for video). Neither for a plain 2D image.
 */
export const planeShape = {
  slice: nonNegativeInt.optional(),
  frame: nonNegativeInt.optional(),
};

export function checkPlane(geometry: { slice?: number | undefined; frame?: number | undefined }): RelativeIssue[] {
  return geometry.slice !== undefined && geometry.frame !== undefined
    ? [{ path: ['frame'], message: 'give either slice or frame, not both' }]
    : [];
}
