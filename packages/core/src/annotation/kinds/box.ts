import { z } from 'zod';
import { checkPlane, finite, planeShape } from '../common.js';
import { defineKind } from '../kind-util.js';

/** Axis-aligned box: top-left corner (x, y) and size, in pixels. */
export const boxKind = defineKind({
  kind: 'box',
  geometry: z.object({
    x: finite,
    y: finite,
    width: finite.positive('width must be greater than 0'),
    height: finite.positive('height must be greater than 0'),
    ...planeShape,
  }),
  check: checkPlane,
  bounds: (b) => ({ minX: b.x, minY: b.y, maxX: b.x + b.width, maxY: b.y + b.height }),
  area: (b) => b.width * b.height,
});
