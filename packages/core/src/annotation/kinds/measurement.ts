import { z } from 'zod';
import type { RelativeIssue } from '../../validation/issues.js';
import { checkPlane, finite, planeShape } from '../common.js';
import { defineKind } from '../kind-util.js';

export const MEASUREMENT_TYPES = ['length', 'angle', 'area', 'volume', 'bidirectional'] as const;
export type MeasurementType = (typeof MEASUREMENT_TYPES)[number];

/** Units accepted per measurement type (the value is stored in this unit). */
export const MEASUREMENT_UNITS: Record<MeasurementType, readonly string[]> = {
  length: ['mm', 'cm', 'px'],
  angle: ['deg'],
  area: ['mm2', 'cm2', 'px2'],
  volume: ['mm3', 'cm3', 'mL'],
  bidirectional: ['mm', 'cm', 'px'],
};

/** How many points each type needs: exact count, or a minimum for area outlines. */
const POINT_RULES: Record<MeasurementType, { exactly?: number; atLeast?: number; hint: string }> = {
  length: { exactly: 2, hint: 'its two end points' },
  angle: { exactly: 3, hint: 'arm, vertex, arm' },
  area: { atLeast: 3, hint: 'an outline' },
  volume: { atLeast: 0, hint: '' },
  bidirectional: { exactly: 4, hint: 'long axis end points, then short axis end points' },
};

/**
 * A clinical measurement. Points are [x, y] pixels on the object's slice/frame, or [i, j, k]
 * voxel indices; `value` is the measured quantity in `unit`, derived from the geometry and the
 * asset's spacing. For `bidirectional`, `value` is the long axis and `shortAxis` the short one.
 */
export const measurementKind = defineKind({
  kind: 'measurement',
  geometry: z.object({
    type: z.enum(MEASUREMENT_TYPES, { error: `measurement type must be one of ${MEASUREMENT_TYPES.join(', ')}` }),
    points: z.array(z.union([z.tuple([finite, finite]), z.tuple([finite, finite, finite])])),
    value: finite.nonnegative('value must not be negative'),
    unit: z.string().min(1),
    shortAxis: finite.nonnegative().optional(),
    ...planeShape,
  }),
  check: (m) => {
    const issues: RelativeIssue[] = checkPlane(m);
    const rule = POINT_RULES[m.type];
    const n = m.points.length;
    if (rule.exactly !== undefined && n !== rule.exactly) {
      issues.push({ path: ['points'], message: `a ${m.type} measurement needs exactly ${rule.exactly} points (${rule.hint}), got ${n}` });
    }
    if (rule.atLeast !== undefined && n < rule.atLeast) {
      issues.push({ path: ['points'], message: `a ${m.type} measurement needs at least ${rule.atLeast} points (${rule.hint}), got ${n}` });
    }
    if (m.points.some((p) => p.length !== m.points[0]?.length)) {
      issues.push({ path: ['points'], message: 'points must be all 2D [x, y] or all 3D [i, j, k]' });
    }
    const units = MEASUREMENT_UNITS[m.type];
    if (!units.includes(m.unit)) {
      issues.push({ path: ['unit'], message: `unit "${m.unit}" does not fit a ${m.type} measurement (use ${units.join(', ')})` });
    }
    if (m.shortAxis !== undefined && m.type !== 'bidirectional') {
      issues.push({ path: ['shortAxis'], message: 'shortAxis applies to bidirectional measurements only' });
    }
    if (m.type === 'bidirectional' && m.shortAxis !== undefined && m.shortAxis > m.value) {
      issues.push({ path: ['shortAxis'], message: 'shortAxis must not be longer than the long axis (value)' });
    }
    return issues;
  },
});
