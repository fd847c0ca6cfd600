import { z } from 'zod';
import { objectIdSchema } from '../common.js';
import { defineKind } from '../kind-util.js';

/** Text spoken during a `segment` object of the same document. */
export const transcriptKind = defineKind({
  kind: 'transcript',
  geometry: z.object({
    segment: objectIdSchema,
    text: z.string(),
  }),
  validateAgainst: (obj, ctx) => {
    const target = ctx.objects.get(obj.segment);
    if (target === undefined) {
      return [{ path: ['segment'], message: `transcript refers to object "${obj.segment}", which is not in this document` }];
    }
    if (target.kind !== 'segment') {
      return [{ path: ['segment'], message: `transcript must refer to a segment object, but "${obj.segment}" is a ${target.kind}` }];
    }
    return [];
  },
});
