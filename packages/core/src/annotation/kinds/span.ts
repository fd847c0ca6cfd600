import { z } from 'zod';
import { nonNegativeInt } from '../common.js';
import { defineKind } from '../kind-util.js';

/** `[start, end)` in Unicode code points into the stored text (a BOM counts as a character). */
export const textRangeSchema = z
  .tuple([nonNegativeInt, nonNegativeInt])
  .refine((r) => r[0] < r[1], { message: 'a range [start, end) must have start < end' });

/** One or more character ranges; discontinuous and overlapping ranges are allowed. */
export const spanKind = defineKind({
  kind: 'span',
  geometry: z.object({
    ranges: z.array(textRangeSchema).min(1, 'a span needs at least one range'),
  }),
});
