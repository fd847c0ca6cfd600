import { z } from 'zod';
import { boundsOfPoints, type Point2 } from '../../geometry/geometry.js';
import type { RelativeIssue } from '../../validation/issues.js';
import { checkPlane, finite, planeShape } from '../common.js';
import { defineKind } from '../kind-util.js';

/** A named point in voxel index space (i = column, j = row, k = slice; sub-voxel allowed). */
export const voxelLandmarkSchema = z.strictObject({ name: z.string().min(1), i: finite, j: finite, k: finite });
/** A named point on a 2D image plane (pixels); the plane is the object's slice/frame. */
export const pixelLandmarkSchema = z.strictObject({ name: z.string().min(1), x: finite, y: finite });

export const landmarksKind = defineKind({
  kind: 'landmarks',
  geometry: z.object({
    points: z.array(z.union([voxelLandmarkSchema, pixelLandmarkSchema])).min(1, 'needs at least 1 landmark'),
    ...planeShape,
  }),
  check: (g) => {
    const issues: RelativeIssue[] = checkPlane(g);
    const names = new Set<string>();
    const is3d = g.points.map((p) => 'k' in p);
    g.points.forEach((p, i) => {
      if (names.has(p.name)) issues.push({ path: ['points', i, 'name'], message: `duplicate landmark "${p.name}"` });
      names.add(p.name);
      if (is3d[i] !== is3d[0]) {
        issues.push({ path: ['points', i], message: 'do not mix voxel (i, j, k) and pixel (x, y) landmarks in one object' });
      }
    });
    if (is3d[0] === true && (g.slice !== undefined || g.frame !== undefined)) {
      issues.push({ path: ['slice'], message: 'voxel landmarks carry their own k; slice and frame apply to pixel landmarks only' });
    }
    return issues;
  },
  validateAgainst: (obj, ctx) => {
    const issues: RelativeIssue[] = [];
    const set = ctx.schema.labels.find((l) => l.name === obj.label)?.landmarks;
    if (set === undefined) return issues;
    const allowed = new Set(set);
    obj.points.forEach((p, i) => {
      if (allowed.has(p.name)) return;
      const near = set.find((n) => n.toLowerCase() === p.name.toLowerCase());
      const hint = near === undefined ? '' : ` (did you mean "${near}"?)`;
      issues.push({
        path: ['points', i, 'name'],
        message: `landmark "${p.name}" is not in the landmark set of label "${obj.label}"${hint}; allowed: ${set.map((n) => `"${n}"`).join(', ')}`,
      });
    });
    return issues;
  },
  bounds: (g) => boundsOfPoints(g.points.flatMap((p): Point2[] => ('x' in p ? [[p.x, p.y]] : []))),
});
