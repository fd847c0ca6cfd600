/**
 * Plain 2D geometry in image pixel coordinates: origin at the top-left corner of the top-left
 * pixel, x to the right, y down. Pixel (c, r) covers the square [c, c+1) x [r, r+1).
 */

/** A 2D point `[x, y]`. */
export type Point2 = readonly [number, number];

/** Axis-aligned bounds, `min` inclusive, `max` exclusive for pixel sets. */
export interface Bounds2D {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function boundsOfPoints(points: readonly Point2[]): Bounds2D | undefined {
  if (points.length === 0) return undefined;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const [x, y] of points) {
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  return { minX, minY, maxX, maxY };
}

/** Area of a simple polygon by the shoelace formula (absolute value; orientation does not matter). */
export function polygonArea(points: readonly Point2[]): number {
  let twice = 0;
  for (let i = 0; i < points.length; i++) {
    const a = points[i];
    const b = points[(i + 1) % points.length];
    if (a === undefined || b === undefined) continue;
    twice += a[0] * b[1] - b[0] * a[1];
  }
  return Math.abs(twice) / 2;
}

export function distance(a: Point2, b: Point2): number {
  return Math.hypot(b[0] - a[0], b[1] - a[1]);
}

/** Total length of an open polyline. */
export function polylineLength(points: readonly Point2[]): number {
  let total = 0;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1];
    const b = points[i];
    if (a !== undefined && b !== undefined) total += distance(a, b);
  }
  return total;
}

/** Angle at `vertex` between the rays to `a` and `b`, in degrees (0..180). */
export function angleDegrees(a: Point2, vertex: Point2, b: Point2): number {
  const ux = a[0] - vertex[0];
  const uy = a[1] - vertex[1];
  const vx = b[0] - vertex[0];
  const vy = b[1] - vertex[1];
  const radians = Math.atan2(Math.abs(ux * vy - uy * vx), ux * vx + uy * vy);
  return (radians * 180) / Math.PI;
}

export interface EllipseGeometry {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
  /** Clockwise on screen (y down), in radians. */
  rotation?: number | undefined;
}

export function ellipseArea(e: EllipseGeometry): number {
  return Math.PI * e.rx * e.ry;
}

/** Tight axis-aligned bounds of a possibly rotated ellipse. */
export function ellipseBounds(e: EllipseGeometry): Bounds2D {
  const t = e.rotation ?? 0;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const hx = Math.sqrt(e.rx * e.rx * cos * cos + e.ry * e.ry * sin * sin);
  const hy = Math.sqrt(e.rx * e.rx * sin * sin + e.ry * e.ry * cos * cos);
  return { minX: e.cx - hx, minY: e.cy - hy, maxX: e.cx + hx, maxY: e.cy + hy };
}

export function unionBounds(a: Bounds2D | undefined, b: Bounds2D | undefined): Bounds2D | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return {
    minX: Math.min(a.minX, b.minX),
    minY: Math.min(a.minY, b.minY),
    maxX: Math.max(a.maxX, b.maxX),
    maxY: Math.max(a.maxY, b.maxY),
  };
}
