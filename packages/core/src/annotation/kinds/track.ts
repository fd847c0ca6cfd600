import { z } from 'zod';
import type { Point2 } from '../../geometry/geometry.js';
import { finite, nonNegativeInt, pointListSchema } from '../common.js';
import { defineKind } from '../kind-util.js';

export const trackShapeSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z.literal('box'),
      x: finite,
      y: finite,
      width: finite.positive('width must be greater than 0'),
      height: finite.positive('height must be greater than 0'),
    }),
    z.strictObject({ type: z.literal('polygon'), points: pointListSchema(3, 'a polygon needs at least 3 points') }),
  ],
  { error: 'shape type must be "box" or "polygon"' },
);
export type TrackShape = z.output<typeof trackShapeSchema>;

export const keyframeSchema = z.strictObject({
  frame: nonNegativeInt,
  shape: trackShapeSchema,
  /** True from this keyframe on until the next keyframe: the object has left the view. */
  outside: z.boolean().default(false),
});
export type Keyframe = z.output<typeof keyframeSchema>;

/** A 2D shape followed over video frames. Keyframes are sorted by frame, one per frame. */
export const trackKind = defineKind({
  kind: 'track',
  geometry: z.object({
    keyframes: z
      .array(keyframeSchema)
      .min(1, 'a track needs at least one keyframe')
      .superRefine((keyframes, ctx) => {
        for (let i = 1; i < keyframes.length; i++) {
          const prev = keyframes[i - 1];
          const cur = keyframes[i];
          if (prev === undefined || cur === undefined) continue;
          if (cur.frame === prev.frame) {
            ctx.addIssue({ code: 'custom', path: [i, 'frame'], message: `two keyframes on frame ${cur.frame}` });
          } else if (cur.frame < prev.frame) {
            ctx.addIssue({ code: 'custom', path: [i, 'frame'], message: `keyframes must be sorted by frame (${cur.frame} comes after ${prev.frame})` });
          }
        }
      }),
  }),
});

const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;

/**
 * The shape of a track on `frame`: the keyframe's own shape, or linear interpolation between the
 * surrounding keyframes (boxes, and polygons with the same number of points; otherwise the
 * earlier shape holds). Undefined before the first keyframe and while the object is outside.
 */
export function trackShapeAt(track: { keyframes: readonly Keyframe[] }, frame: number): TrackShape | undefined {
  let before: Keyframe | undefined;
  let after: Keyframe | undefined;
  for (const kf of track.keyframes) {
    if (kf.frame <= frame) before = kf;
    else {
      after = kf;
      break;
    }
  }
  if (before === undefined || before.outside) return undefined;
  if (before.frame === frame || after === undefined || after.outside) return before.shape;
  const t = (frame - before.frame) / (after.frame - before.frame);
  const a = before.shape;
  const b = after.shape;
  if (a.type === 'box' && b.type === 'box') {
    return {
      type: 'box',
      x: lerp(a.x, b.x, t),
      y: lerp(a.y, b.y, t),
      width: lerp(a.width, b.width, t),
      height: lerp(a.height, b.height, t),
    };
  }
  if (a.type === 'polygon' && b.type === 'polygon' && a.points.length === b.points.length) {
    const points = a.points.map((p, i): [number, number] => {
      const q: Point2 = b.points[i] ?? p;
      return [lerp(p[0], q[0], t), lerp(p[1], q[1], t)];
    });
    return { type: 'polygon', points };
  }
  return a;
}
