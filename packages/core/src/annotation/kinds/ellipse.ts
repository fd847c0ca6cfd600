import { z } from 'zod';
import { ellipseArea, ellipseBounds } from '../../geometry/geometry.js';
import { checkPlane, finite, planeShape } from '../common.js';
import { defineKind } from '../kind-util.js';

/** Ellipse by centre, radii and rotation (radians, clockwise on screen since y points down). */
export const ellipseKind = defineKind({
  kind: 'ellipse',
  geometry: z.object({
    cx: finite,
    cy: finite,
    rx: finite.positive('rx must be greater than 0'),
    ry: finite.positive('ry must be greater than 0'),
    rotation: finite.optional(),
    ...planeShape,
  }),
  check: checkPlane,
  bounds: ellipseBounds,
  area: ellipseArea,
});
