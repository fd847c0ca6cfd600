import type { z } from 'zod';
import type { Bounds2D } from '../geometry/geometry.js';
import type { LabelSchema } from '../schema/label-schema.js';
import type { RelativeIssue } from '../validation/issues.js';
import type { CommonObjectFields } from './common.js';
import type { AnnotationKind } from './kind-names.js';

/** What a kind sees of the other objects in the same document. */
export interface ObjectSummary {
  id: string;
  kind: AnnotationKind;
  label: string;
}

export interface KindContext {
  schema: LabelSchema;
  /** Every object of the document by id. */
  objects: ReadonlyMap<string, ObjectSummary>;
}

/** Any zod object schema (strip or strict). */
export type GeometrySchema = z.ZodObject<z.core.$ZodShape, z.core.$ZodObjectConfig>;

/**
 * The one home of an annotation kind. Adding a kind means writing one module that exports a
 * KindUtil and listing it in the registry.
 *
 * Issues returned by `check` and `validateAgainst` have paths relative to the object.
 */
export interface KindUtil<K extends AnnotationKind = AnnotationKind, G extends GeometrySchema = GeometrySchema> {
  readonly kind: K;
  /** The kind-specific fields (merged with the common fields into the object schema). */
  readonly geometry: G;
  /** Checks across several geometry fields, run while parsing (e.g. start < end). */
  check?(geometry: z.output<G>): RelativeIssue[];
  /** 2D bounds in pixel coordinates, for kinds drawn on an image plane. */
  bounds?(geometry: z.output<G>): Bounds2D | undefined;
  /** Area in pixels^2, for kinds that enclose a region. */
  area?(geometry: z.output<G>): number;
  /** Checks that need the label schema or the other objects of the document. */
  validateAgainst?(object: z.output<G> & CommonObjectFields, ctx: KindContext): RelativeIssue[];
}

/** Helper that keeps the precise kind and geometry types of a KindUtil literal. */
export function defineKind<K extends AnnotationKind, G extends GeometrySchema>(util: KindUtil<K, G>): KindUtil<K, G> {
  return util;
}
