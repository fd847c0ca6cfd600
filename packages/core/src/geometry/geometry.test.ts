import { describe, expect, it } from 'vitest';
import { angleDegrees, boundsOfPoints, ellipseArea, ellipseBounds, polygonArea, polylineLength, unionBounds } from './geometry.js';

describe('polygonArea', () => {
  it('computes the shoelace area regardless of orientation', () => {
    const square: [number, number][] = [[0, 0], [4, 0], [4, 3], [0, 3]];
    expect(polygonArea(square)).toBe(12);
    expect(polygonArea([...square].reverse())).toBe(12);
    expect(polygonArea([[0, 0], [10, 0], [0, 10]])).toBe(50);
  });

  it('handles a concave polygon', () => {
    // An L shape: 2x2 square minus its 1x1 top-right quarter.
    expect(polygonArea([[0, 0], [1, 0], [1, 1], [2, 1], [2, 2], [0, 2]])).toBe(3);
  });
});

describe('bounds and lengths', () => {
  it('finds the bounds of points', () => {
    expect(boundsOfPoints([[3, 4], [-1, 10], [2, 0]])).toEqual({ minX: -1, minY: 0, maxX: 3, maxY: 10 });
    expect(boundsOfPoints([])).toBeUndefined();
  });

  it('measures polylines and angles', () => {
    expect(polylineLength([[0, 0], [3, 4], [3, 10]])).toBe(11);
    expect(angleDegrees([1, 0], [0, 0], [0, 1])).toBeCloseTo(90);
    expect(angleDegrees([1, 0], [0, 0], [1, 1])).toBeCloseTo(45);
    expect(angleDegrees([1, 0], [0, 0], [-1, 0])).toBeCloseTo(180);
  });

  it('merges bounds', () => {
    expect(unionBounds({ minX: 0, minY: 0, maxX: 1, maxY: 1 }, { minX: -1, minY: 0.5, maxX: 0.5, maxY: 3 })).toEqual({
      minX: -1,
      minY: 0,
      maxX: 1,
      maxY: 3,
    });
  });
});

describe('ellipse', () => {
  it('computes area and axis-aligned bounds', () => {
    expect(ellipseArea({ cx: 0, cy: 0, rx: 2, ry: 3 })).toBeCloseTo(6 * Math.PI);
    expect(ellipseBounds({ cx: 10, cy: 20, rx: 4, ry: 2 })).toEqual({ minX: 6, minY: 18, maxX: 14, maxY: 22 });
  });

  it('swaps extents when rotated by 90 degrees', () => {
    const b = ellipseBounds({ cx: 0, cy: 0, rx: 4, ry: 2, rotation: Math.PI / 2 });
    expect(b.maxX).toBeCloseTo(2);
    expect(b.maxY).toBeCloseTo(4);
  });
});
