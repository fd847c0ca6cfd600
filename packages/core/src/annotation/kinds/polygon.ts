import { z } from 'zod';
import { boundsOfPoints, polygonArea } from '../../geometry/geometry.js';
import { checkPlane, planeShape, pointListSchema } from '../common.js';
import { defineKind } from '../kind-util.js';

/** Closed simple polygon; the last vertex connects back to the first (do not repeat it). */
export const polygonKind = defineKind({
  kind: 'polygon',
  geometry: z.object({
    points: pointListSchema(3, 'a polygon needs at least 3 points'),
    ...planeShape,
  }),
  check: checkPlane,
  bounds: (p) => boundsOfPoints(p.points),
  area: (p) => polygonArea(p.points),
});
