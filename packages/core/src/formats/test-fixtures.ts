/**
 * Test helpers for the format converters: full annotation objects from geometry, and the
 * comparison form of objects (ImportedObject fields only).
 */
import type { AnnotationObject } from '../annotation/object.js';
import type { ImportedObject } from './types.js';

type Geometry = ImportedObject;

let counter = 0;

/** A complete annotation object from its kind, label, attributes and geometry. */
export function makeObject(geometry: Geometry): AnnotationObject {
  counter++;
  return {
    ...geometry,
    id: `o${counter}`,
    source: 'manual',
    createdBy: 'u1',
    createdAt: '2024-01-01T00:00:00Z',
    updatedAt: '2024-01-01T00:00:00Z',
  } as AnnotationObject;
}

/** The object without the fields an import does not carry. */
export function imported(object: AnnotationObject): ImportedObject {
  const { id, source, createdBy, createdAt, updatedAt, ...rest } = object;
  void id;
  void source;
  void createdBy;
  void createdAt;
  void updatedAt;
  return rest as ImportedObject;
}

/** Collect an async generator of strings into one string. */
export async function collect(chunks: AsyncGenerator<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

/** Compare numbers in two plain values within `tol`; returns the first difference's path or undefined. */
export function nearDiff(a: unknown, b: unknown, tol: number, path = ''): string | undefined {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= tol ? undefined : `${path}: ${a} vs ${b}`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = nearDiff(a[i], b[i], tol, `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    if (ka.join('|') !== kb.join('|')) return `${path}: keys ${ka.join(',')} vs ${kb.join(',')}`;
    for (const k of ka) {
      const d = nearDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tol, `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${path}: ${String(a)} vs ${String(b)}`;
}
