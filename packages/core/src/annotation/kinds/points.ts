import { z } from 'zod';
import { boundsOfPoints } from '../../geometry/geometry.js';
import { checkPlane, planeShape, pointListSchema } from '../common.js';
import { defineKind } from '../kind-util.js';

/** An unordered set of one or more points sharing a label (e.g. microcalcifications). */
export const pointsKind = defineKind({
  kind: 'points',
  geometry: z.object({
    points: pointListSchema(1, 'needs at least 1 point'),
    ...planeShape,
  }),
  check: checkPlane,
  bounds: (p) => boundsOfPoints(p.points),
});
