import { z } from 'zod';
import type { Bounds2D } from '../geometry/geometry.js';
import { formatPath } from '../validation/issues.js';
import { commonObjectShape } from './common.js';
import { ANNOTATION_KINDS, type AnnotationKind } from './kind-names.js';
import type { GeometrySchema, KindUtil } from './kind-util.js';
import { KIND_UTILS, type KindUtils } from './registry.js';

type CommonShape = typeof commonObjectShape;

/** The zod schema of one kind's objects: common fields + `kind` + the kind's geometry. */
export type ObjectSchemaOf<U> =
  U extends { kind: infer K extends AnnotationKind; geometry: z.ZodObject<infer S> } ? z.ZodObject<CommonShape & { kind: z.ZodLiteral<K> } & S, z.core.$strict> : never;

// Generic so that TypeScript maps the kinds tuple element-wise into a tuple of schemas.
type SchemasFor<T extends readonly AnnotationKind[]> = { readonly [I in keyof T]: ObjectSchemaOf<KindUtils[T[I]]> };
type ObjectSchemas = SchemasFor<typeof ANNOTATION_KINDS>;

function objectSchemaFor(util: KindUtil<AnnotationKind, GeometrySchema>): z.ZodObject {
  return z
    .strictObject({ ...commonObjectShape, kind: z.literal(util.kind), ...util.geometry.shape })
    .superRefine((object, ctx) => {
      // The object is the geometry plus common fields; the kind's own checks only read geometry.
      for (const issue of util.check?.(object) ?? []) ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
    });
}

const objectSchemas = ANNOTATION_KINDS.map((kind) => objectSchemaFor(KIND_UTILS[kind])) as unknown as ObjectSchemas;

/** One annotation object: a discriminated union on `kind`, built from the kind registry. */
export const annotationObjectSchema = z.discriminatedUnion('kind', objectSchemas, {
  error: (issue) =>
    issue.code === 'invalid_union' ? `kind must be one of ${ANNOTATION_KINDS.join(', ')}` : undefined,
});

export type AnnotationObject = z.output<typeof annotationObjectSchema>;
export type AnnotationObjectInput = z.input<typeof annotationObjectSchema>;
export type AnnotationObjectOf<K extends AnnotationKind> = Extract<AnnotationObject, { kind: K }>;

/** Everything one annotator produced for one asset in one job. Object ids are unique. */
export const annotationDocumentSchema = z
  .strictObject({ objects: z.array(annotationObjectSchema) })
  .superRefine((doc, ctx) => {
    const seen = new Map<string, number>();
    doc.objects.forEach((object, i) => {
      const first = seen.get(object.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['objects', i, 'id'],
          message: `duplicate object id "${object.id}" (also used by ${formatPath(['objects', first])})`,
        });
      } else seen.set(object.id, i);
    });
  });

export type AnnotationDocument = z.output<typeof annotationDocumentSchema>;
export type AnnotationDocumentInput = z.input<typeof annotationDocumentSchema>;

/** The registry's util for a (validated) object, typed loosely enough to pass the object in. */
function utilFor(object: AnnotationObject): KindUtil<AnnotationKind, GeometrySchema> {
  return KIND_UTILS[object.kind] as KindUtil<AnnotationKind, GeometrySchema>;
}

/** 2D pixel bounds of an object drawn on an image plane; undefined for kinds without them. */
export function objectBounds(object: AnnotationObject): Bounds2D | undefined {
  return utilFor(object).bounds?.(object);
}

/** Area in pixels^2 of an object that encloses a region; undefined for other kinds. */
export function objectArea(object: AnnotationObject): number | undefined {
  return utilFor(object).area?.(object);
}
