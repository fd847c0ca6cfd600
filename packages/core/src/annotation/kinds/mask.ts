import { z } from 'zod';
import { rleArea, rleBounds, rleProblem } from '../../geometry/mask-rle.js';
import { checkPlane, planeShape } from '../common.js';
import { defineKind } from '../kind-util.js';

/** Row-major RLE starting with zeros; see `geometry/mask-rle.ts`. */
export const maskRleSchema = z
  .strictObject({
    size: z.tuple([z.number().int().positive(), z.number().int().positive()]),
    counts: z.array(z.number().int().nonnegative()),
  })
  .superRefine((rle, ctx) => {
    const problem = rleProblem(rle);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['counts'], message: problem });
  });

/** A 2D binary mask on one image, slice or frame. */
export const maskKind = defineKind({
  kind: 'mask',
  geometry: z.object({ rle: maskRleSchema, ...planeShape }),
  check: checkPlane,
  bounds: (m) => rleBounds(m.rle),
  area: (m) => rleArea(m.rle),
});
