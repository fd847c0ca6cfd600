// Label schema
export {
  labelSchemaSchema,
  labelDefSchema,
  attributeDefSchema,
  parseLabelSchema,
  findLabel,
  defaultAttributes,
  isOnStep,
} from './schema/label-schema.js';
export type {
  LabelSchema,
  LabelSchemaInput,
  LabelDef,
  AttributeDef,
  AttributeType,
  AttributeValue,
  ParseLabelSchemaResult,
} from './schema/label-schema.js';

// Annotation model
export { ANNOTATION_KINDS, isAnnotationKind } from './annotation/kind-names.js';
export type { AnnotationKind } from './annotation/kind-names.js';
export { sourceSchema, attributeValueSchema } from './annotation/common.js';
export type { AnnotationSource } from './annotation/common.js';
export { defineKind } from './annotation/kind-util.js';
export type { KindUtil, KindContext, ObjectSummary, GeometrySchema } from './annotation/kind-util.js';
export { KIND_UTILS, getKindUtil } from './annotation/registry.js';
export type { KindUtils } from './annotation/registry.js';
export { annotationObjectSchema, annotationDocumentSchema, objectBounds, objectArea } from './annotation/object.js';
export type {
  AnnotationObject,
  AnnotationObjectInput,
  AnnotationObjectOf,
  AnnotationDocument,
  AnnotationDocumentInput,
} from './annotation/object.js';
export { validateDocument, missingRequired } from './annotation/validate.js';
export type { ValidateDocumentResult } from './annotation/validate.js';
export { MEASUREMENT_TYPES, MEASUREMENT_UNITS } from './annotation/kinds/measurement.js';
export type { MeasurementType } from './annotation/kinds/measurement.js';
export { trackShapeAt } from './annotation/kinds/track.js';
export type { TrackShape, Keyframe } from './annotation/kinds/track.js';

// Geometry
export {
  boundsOfPoints,
  polygonArea,
  polylineLength,
  distance,
  angleDegrees,
  ellipseArea,
  ellipseBounds,
  unionBounds,
} from './geometry/geometry.js';
export type { Point2, Bounds2D, EllipseGeometry } from './geometry/geometry.js';
export { encodeRle, decodeRle, rleArea, rleBounds, rleProblem } from './geometry/mask-rle.js';
export type { MaskRle } from './geometry/mask-rle.js';

// Issues
export { formatZodIssues, formatPath } from './validation/issues.js';
export type { ValidationIssue, RelativeIssue, PathSegment } from './validation/issues.js';
export { assembleSeries, voxelToLps, lpsToVoxel, rasFromLps, lpsFromRas, TOLERANCES as SERIES_GEOMETRY_TOLERANCES, type SliceGeometry, type SeriesGeometry, type SeriesIssue, type SeriesIssueCode, type Vec3, type Matrix4 } from './geometry/volume.js';

// Agreement metrics
export * from './agreement/index.js';
export { DEID_OPTIONS } from './imaging.js';
export type { FrameDtype, WindowPreset, ImagingMeta, IngestState, IngestFileStatus, IngestSummary, DeidOption, RedactionRect, RedactionRule } from './imaging.js';
export * from './geometry/reorient.js';
