/** Every kind of annotation object, in the order of the design table. */
export const ANNOTATION_KINDS = [
  'tag',
  'box',
  'polygon',
  'polyline',
  'points',
  'ellipse',
  'landmarks',
  'mask',
  'labelmap',
  'measurement',
  'track',
  'segment',
  'transcript',
  'span',
  'relation',
] as const;

export type AnnotationKind = (typeof ANNOTATION_KINDS)[number];

export function isAnnotationKind(value: unknown): value is AnnotationKind {
  return typeof value === 'string' && (ANNOTATION_KINDS as readonly string[]).includes(value);
}
