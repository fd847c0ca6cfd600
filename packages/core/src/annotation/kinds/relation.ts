import { z } from 'zod';
import type { RelativeIssue } from '../../validation/issues.js';
import { objectIdSchema } from '../common.js';
import { defineKind } from '../kind-util.js';

/** A directed link `from` → `to` between two objects of the same document; its type is the label. */
export const relationKind = defineKind({
  kind: 'relation',
  geometry: z.object({ from: objectIdSchema, to: objectIdSchema }),
  check: (r) => (r.from === r.to ? [{ path: ['to'], message: 'a relation cannot link an object to itself' }] : []),
  validateAgainst: (obj, ctx) => {
    const issues: RelativeIssue[] = [];
    for (const end of ['from', 'to'] as const) {
      if (!ctx.objects.has(obj[end])) {
        issues.push({ path: [end], message: `relation refers to object "${obj[end]}", which is not in this document` });
      }
    }
    return issues;
  },
});
