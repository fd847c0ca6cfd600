import type { AnnotationKind } from './kind-names.js';
import type { GeometrySchema, KindUtil } from './kind-util.js';
import { boxKind } from './kinds/box.js';
import { ellipseKind } from './kinds/ellipse.js';
import { labelmapKind } from './kinds/labelmap.js';
import { landmarksKind } from './kinds/landmarks.js';
import { maskKind } from './kinds/mask.js';
import { measurementKind } from './kinds/measurement.js';
import { pointsKind } from './kinds/points.js';
import { polygonKind } from './kinds/polygon.js';
import { polylineKind } from './kinds/polyline.js';
import { relationKind } from './kinds/relation.js';
import { segmentKind } from './kinds/segment.js';
import { spanKind } from './kinds/span.js';
import { tagKind } from './kinds/tag.js';
import { trackKind } from './kinds/track.js';
import { transcriptKind } from './kinds/transcript.js';

/**
 * kind → KindUtil. The `satisfies` clause makes the compiler insist that every kind in
 * ANNOTATION_KINDS has exactly one util whose `kind` matches its key.
 */
export const KIND_UTILS = {
  tag: tagKind,
  box: boxKind,
  polygon: polygonKind,
  polyline: polylineKind,
  points: pointsKind,
  ellipse: ellipseKind,
  landmarks: landmarksKind,
  mask: maskKind,
  labelmap: labelmapKind,
  measurement: measurementKind,
  track: trackKind,
  segment: segmentKind,
  transcript: transcriptKind,
  span: spanKind,
  relation: relationKind,
} as const satisfies { [K in AnnotationKind]: KindUtil<K, GeometrySchema> };

export type KindUtils = typeof KIND_UTILS;

export function getKindUtil<K extends AnnotationKind>(kind: K): KindUtils[K] {
  return KIND_UTILS[kind];
}
