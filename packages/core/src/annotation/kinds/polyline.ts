import { z } from 'zod';
import { boundsOfPoints } from '../../geometry/geometry.js';
import { checkPlane, planeShape, pointListSchema } from '../common.js';
import { defineKind } from '../kind-util.js';

/** Open polyline (no area). */
export const polylineKind = defineKind({
  kind: 'polyline',
  geometry: z.object({
    points: pointListSchema(2, 'a polyline needs at least 2 points'),
    ...planeShape,
  }),
  check: checkPlane,
  bounds: (p) => boundsOfPoints(p.points),
});
