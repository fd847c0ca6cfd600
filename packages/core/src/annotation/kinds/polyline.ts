import { z } from 'zod';
import { boundsOfPoints } from '../../geometry/geometry.js';
import { checkPlane, planeShape, point2Schema } from '../common.js';
import { defineKind } from '../kind-util.js';

/** Open polyline (no area). */
export const polylineKind = defineKind({
  kind: 'polyline',
  geometry: z.object({
    points: z.array(point2Schema).min(2, 'a polyline needs at least 2 points'),
    ...planeShape,
  }),
  check: checkPlane,
  bounds: (p) => boundsOfPoints(p.points),
});
