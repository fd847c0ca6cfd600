import { z } from 'zod';
import type { RelativeIssue } from '../../validation/issues.js';
import { defineKind } from '../kind-util.js';
import { checkLabelUse } from '../label-use.js';

const dimension = z.number().int().positive();

/**
 * A 3D label volume stored as a content-addressed blob (sha256 of the blob). `shape` is
 * [i, j, k] and must match the asset's voxel grid; voxel value 0 is background, every other
 * value is listed in `segments` with the label it stands for.
 */
export const labelmapKind = defineKind({
  kind: 'labelmap',
  geometry: z.object({
    blob: z.string().regex(/^[0-9a-f]{64}$/, 'blob must be a lowercase sha256 hex digest'),
    shape: z.tuple([dimension, dimension, dimension]),
    segments: z
      .array(z.strictObject({ value: z.number().int().positive('segment value must be an integer > 0'), label: z.string().min(1) }))
      .superRefine((segments, ctx) => {
        const seen = new Set<number>();
        segments.forEach((s, i) => {
          if (seen.has(s.value)) ctx.addIssue({ code: 'custom', path: [i, 'value'], message: `duplicate segment value ${s.value}` });
          seen.add(s.value);
        });
      }),
  }),
  validateAgainst: (obj, ctx) => {
    const issues: RelativeIssue[] = [];
    obj.segments.forEach((s, i) => checkLabelUse(ctx.schema, s.label, 'labelmap', ['segments', i, 'label'], issues));
    return issues;
  },
});
