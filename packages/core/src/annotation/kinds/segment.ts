import { z } from 'zod';
import { finite, nonNegativeInt } from '../common.js';
import { defineKind } from '../kind-util.js';

/**
 * A time interval [start, end): seconds (float) for audio, frame indices for video. `channel`
 * picks one audio channel (0-based); absent means all channels.
 */
export const segmentKind = defineKind({
  kind: 'segment',
  geometry: z.object({
    start: finite.nonnegative('start must not be negative'),
    end: finite,
    channel: nonNegativeInt.optional(),
  }),
  check: (s) => (s.start < s.end ? [] : [{ path: ['end'], message: `end (${s.end}) must be after start (${s.start})` }]),
});
