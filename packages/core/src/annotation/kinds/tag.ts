import { z } from 'zod';
import { finite, nonNegativeInt } from '../common.js';
import { defineKind } from '../kind-util.js';

/**
 * A classification of a whole asset or a part of it. Time ranges are in the asset's time unit:
 * seconds for audio, frame indices for video, [start, end).
 */
export const tagScopeSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('asset') }),
    z.strictObject({ type: z.literal('study') }),
    z.strictObject({ type: z.literal('series') }),
    z.strictObject({ type: z.literal('slice'), k: nonNegativeInt }),
    z.strictObject({ type: z.literal('frame'), frame: nonNegativeInt }),
    z
      .strictObject({ type: z.literal('timeRange'), start: finite.nonnegative(), end: finite })
      .refine((r) => r.start < r.end, { path: ['end'], message: 'end must be after start' }),
    z.strictObject({ type: z.literal('document') }),
  ],
  { error: 'scope type must be one of asset, study, series, slice, frame, timeRange, document' },
);

export const tagKind = defineKind({
  kind: 'tag',
  geometry: z.object({ scope: tagScopeSchema }),
});
