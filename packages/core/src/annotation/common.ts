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

const isPoint2 = (p: unknown): boolean =>
  Array.isArray(p) && p.length === 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]);

/**
 * A list of `[x, y]` points of at least `min` entries. Polygons can hold thousands of vertices,
 * so the points are checked with one plain loop instead of one zod tuple parse per point (that
 * cost ~1 ms per 50 KB document); the first bad point is reported with its index.
 */
export function pointListSchema(min: number, tooFew: string) {
  return z
    .array(z.any())
    .superRefine((list: unknown[], ctx) => {
      if (list.length < min) {
        ctx.addIssue({ code: 'custom', message: tooFew });
        return;
      }
      for (let i = 0; i < list.length; i++) {
        if (!isPoint2(list[i])) {
          ctx.addIssue({ code: 'custom', path: [i], message: 'each point must be [x, y] with two finite numbers' });
          return;
        }
      }
    })
    .meta({ items: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 }, minItems: min }) as unknown as z.ZodType<
    [number, number][],
    [number, number][]
  >;
}

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
