/**
 * Per-frame geometry and timing of DICOM instances (pure, isomorphic).
 *
 * - {@link frameGeometries}: one {@link FrameGeometry} per frame, ready for `assembleSeries` from
 *   '@caliper/core'. Enhanced multi-frame objects (Enhanced CT/MR/PET, Segmentation, Parametric
 *   Map, …) take each frame's plane from the Per-frame Functional Groups (5200,9230), falling back
 *   attribute by attribute to the Shared Functional Groups (5200,9229); RT Dose style objects use
 *   Grid Frame Offset Vector (3004,000C); everything else uses the top-level attributes.
 * - {@link frameTimes} / {@link frameRate}: cine timing (US, XA, … multi-frame) from Frame Time
 *   (0018,1063) or Frame Time Vector (0018,1065).
 *
 * Frame indices are 0-based (the order of the frames in Pixel Data, as `decodeFrames` returns them);
 * multi-frame ids are `${sopInstanceUid}#${frameIndex}`.
 */
import type { SliceGeometry, Vec3 } from '@caliper/core';
import type { DataSet, Element } from './parser.js';
import type { DicomInstance } from './read.js';

type Orientation = [number, number, number, number, number, number];

/** Where a frame's plane (position, orientation, spacing) was read from. */
export type FrameGeometrySource =
  /** Per-frame / Shared Functional Groups (enhanced multi-frame objects). */
  | 'functional-groups'
  /** Top-level plane moved along the slice normal by Grid Frame Offset Vector (RT Dose). */
  | 'grid-frame-offset'
  /** Top-level Image Position / Orientation / Pixel Spacing (single-frame, or shared by every frame). */
  | 'top-level';

export interface FrameGeometry extends SliceGeometry {
  /** 0-based index of the frame in Pixel Data. */
  frameIndex: number;
  geometrySource: FrameGeometrySource;
  /** Frame Content Sequence (0020,9111) › Stack ID (0020,9056). */
  stackId?: string;
  /** Frame Content Sequence › In-Stack Position Number (0020,9057) (1-based, 1 = first in the stack). */
  inStackPositionNumber?: number;
  /** Frame Content Sequence › Temporal Position Index (0020,9128). */
  temporalPositionIndex?: number;
  /** Frame Content Sequence › Dimension Index Values (0020,9157), in Dimension Index Sequence order. */
  dimensionIndexValues?: number[];
}

const TAG = {
  sopInstanceUid: 'x00080018',
  imageType: 'x00080008',
  frameType: 'x00089007',
  instanceNumber: 'x00200013',
  imagePositionPatient: 'x00200032',
  imageOrientationPatient: 'x00200037',
  pixelSpacing: 'x00280030',
  sharedFunctionalGroups: 'x52009229',
  perFrameFunctionalGroups: 'x52009230',
  planePosition: 'x00209113',
  planeOrientation: 'x00209116',
  pixelMeasures: 'x00289110',
  frameContent: 'x00209111',
  stackId: 'x00209056',
  inStackPositionNumber: 'x00209057',
  temporalPositionIndex: 'x00209128',
  dimensionIndexValues: 'x00209157',
  gridFrameOffsetVector: 'x3004000c',
  frameTime: 'x00181063',
  frameTimeVector: 'x00181065',
  cineRate: 'x00180040',
  recommendedDisplayFrameRate: 'x00082144',
} as const;

// ---------------------------------------------------------------- value readers

function text(dataSet: DataSet, tag: string): string | undefined {
  const element = dataSet.elements[tag];
  if (element === undefined || element.length === 0) return undefined;
  const value = dataSet.string(tag)?.replace(/\0+$/u, '').trim();
  return value === undefined || value === '' ? undefined : value;
}

/** DS / IS values (backslash-separated decimal strings); non-numbers become NaN. */
function decimals(dataSet: DataSet | undefined, tag: string): number[] {
  if (dataSet === undefined) return [];
  const value = text(dataSet, tag);
  if (value === undefined) return [];
  return value.split('\\').map((part) => (part.trim() === '' ? Number.NaN : Number(part.trim())));
}

function firstDecimal(dataSet: DataSet, tag: string): number | undefined {
  const value = decimals(dataSet, tag)[0];
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

function fixed<T extends number[]>(values: number[], count: number): T | undefined {
  return values.length === count && values.every(Number.isFinite) ? (values as T) : undefined;
}

/** All UL values of an element (VR UL in explicit and implicit VR alike). */
function uint32s(dataSet: DataSet, tag: string): number[] {
  const element = dataSet.elements[tag];
  if (element === undefined) return [];
  const out: number[] = [];
  for (let i = 0; i < Math.floor(element.length / 4); i++) {
    const value = dataSet.uint32(tag, i);
    if (value !== undefined) out.push(value);
  }
  return out;
}

/** Data sets of the items of a sequence element. */
function items(dataSet: DataSet | undefined, tag: string): DataSet[] {
  const element: Element | undefined = dataSet?.elements[tag];
  return (element?.items ?? []).flatMap((item) => (item.dataSet ? [item.dataSet] : []));
}

/** The first item of sequence `tag` in `perFrame`, else in `shared`. */
function functionalGroup(perFrame: DataSet | undefined, shared: DataSet | undefined, tag: string): DataSet | undefined {
  return items(perFrame, tag)[0] ?? items(shared, tag)[0];
}

/** Frame Type (0008,9007) from whichever `*FrameTypeSequence` the functional groups carry. */
function frameType(groups: (DataSet | undefined)[]): string[] | undefined {
  for (const group of groups) {
    if (group === undefined) continue;
    for (const element of Object.values(group.elements)) {
      const item = element.items?.[0]?.dataSet;
      const value = item === undefined ? undefined : text(item, TAG.frameType);
      if (value !== undefined) return value.split('\\').map((part) => part.trim());
    }
  }
  return undefined;
}

function numberOfFrames(instance: DicomInstance): number {
  const n = instance.numberOfFrames;
  return n !== undefined && Number.isInteger(n) && n > 0 ? n : 1;
}

const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];

// ---------------------------------------------------------------- geometry

/**
 * One geometry entry per frame, for `assembleSeries`:
 *
 * - Enhanced multi-frame objects (Per-frame and/or Shared Functional Groups present): each frame's
 *   Image Position (Patient) from Plane Position Sequence (0020,9113), Image Orientation (Patient)
 *   from Plane Orientation Sequence (0020,9116) and Pixel Spacing from Pixel Measures Sequence
 *   (0028,9110), each looked up in the frame's Per-frame Functional Groups item first and in the
 *   Shared Functional Groups otherwise (top-level values are the last resort). Frame Content
 *   Sequence (0020,9111) fields are copied when present. Frames with no plane in either group stay
 *   without position, so `assembleSeries` flags them 'missing-geometry'.
 * - Objects with Grid Frame Offset Vector (3004,000C) (RT Dose): frame k lies at
 *   IPP + offset[k] · n (n = row × column cosine) when offset[0] is 0 (relative offsets); when the
 *   plane is axial and offset[0] equals the z of IPP, the offsets are absolute z (PS3.3 C.8.8.3.2).
 * - Other multi-frame objects (US/XA cine, …): every frame carries the top-level geometry (they
 *   share one plane; `assembleSeries` will not make a volume of them — use {@link frameTimes}).
 * - Single-frame objects: one entry with id = SOP Instance UID.
 *
 * Multi-frame ids are `${sopInstanceUid}#${frameIndex}` with a 0-based frame index. The
 * `numberOfFrames` field is left unset on expanded frames (each entry is one frame).
 */
export function frameGeometries(instance: DicomInstance): FrameGeometry[] {
  const { dataSet } = instance;
  const sop = instance.sopInstanceUID ?? text(dataSet, TAG.sopInstanceUid) ?? '';
  const frames = numberOfFrames(instance);
  const multiFrame = instance.numberOfFrames !== undefined && instance.numberOfFrames > 1;
  const rows = instance.rows ?? 0;
  const columns = instance.columns ?? 0;
  const instanceNumber = firstDecimal(dataSet, TAG.instanceNumber);
  const imageTypeText = text(dataSet, TAG.imageType);
  const imageType = imageTypeText?.split('\\').map((part) => part.trim());

  const topIpp = instance.imagePositionPatient ? ([...instance.imagePositionPatient] as Vec3) : undefined;
  const topIop = instance.imageOrientationPatient ? ([...instance.imageOrientationPatient] as Orientation) : undefined;
  const topSpacing = instance.pixelSpacing ? ([...instance.pixelSpacing] as [number, number]) : undefined;

  const base = (frameIndex: number, source: FrameGeometrySource): FrameGeometry => {
    const entry: FrameGeometry = {
      id: multiFrame ? `${sop}#${frameIndex}` : sop,
      rows,
      columns,
      frameIndex,
      geometrySource: source,
    };
    if (instanceNumber !== undefined) entry.instanceNumber = instanceNumber;
    if (imageType !== undefined) entry.imageType = imageType;
    return entry;
  };

  const shared = items(dataSet, TAG.sharedFunctionalGroups)[0];
  const perFrame = items(dataSet, TAG.perFrameFunctionalGroups);

  if (shared !== undefined || perFrame.length > 0) {
    const count = multiFrame ? frames : Math.max(frames, perFrame.length);
    const out: FrameGeometry[] = [];
    for (let k = 0; k < count; k++) {
      const own = perFrame[k];
      const entry = base(k, 'functional-groups');
      if (!multiFrame && count > 1) entry.id = `${sop}#${k}`;
      const ipp =
        fixed<Vec3>(decimals(functionalGroup(own, shared, TAG.planePosition), TAG.imagePositionPatient), 3) ?? topIpp;
      const iop =
        fixed<Orientation>(decimals(functionalGroup(own, shared, TAG.planeOrientation), TAG.imageOrientationPatient), 6) ??
        topIop;
      const spacing =
        fixed<[number, number]>(decimals(functionalGroup(own, shared, TAG.pixelMeasures), TAG.pixelSpacing), 2) ??
        topSpacing;
      if (ipp) entry.imagePositionPatient = ipp;
      if (iop) entry.imageOrientationPatient = iop;
      if (spacing) entry.pixelSpacing = spacing;
      const type = frameType([own, shared]);
      if (type !== undefined) entry.imageType = type;

      const content = functionalGroup(own, shared, TAG.frameContent);
      if (content !== undefined) {
        const stackId = text(content, TAG.stackId);
        if (stackId !== undefined) entry.stackId = stackId;
        const inStack = uint32s(content, TAG.inStackPositionNumber)[0];
        if (inStack !== undefined) entry.inStackPositionNumber = inStack;
        const temporal = uint32s(content, TAG.temporalPositionIndex)[0];
        if (temporal !== undefined) entry.temporalPositionIndex = temporal;
        const dims = uint32s(content, TAG.dimensionIndexValues);
        if (dims.length > 0) entry.dimensionIndexValues = dims;
      }
      out.push(entry);
    }
    return out;
  }

  const offsets = decimals(dataSet, TAG.gridFrameOffsetVector);
  if (multiFrame && topIpp && topIop && offsets.length === frames && offsets.every(Number.isFinite)) {
    const n = cross([topIop[0], topIop[1], topIop[2]], [topIop[3], topIop[4], topIop[5]]);
    const length = Math.hypot(n[0], n[1], n[2]);
    if (length > 0) {
      const unit: Vec3 = [n[0] / length, n[1] / length, n[2] / length];
      const first = offsets[0]!;
      // Absolute z offsets are only defined for axial planes (n = ±z).
      const absolute = first !== 0 && Math.abs(Math.abs(unit[2]) - 1) < 1e-6 && Math.abs(first - topIpp[2]) < 1e-3;
      return offsets.map((offset, k) => {
        const entry = base(k, 'grid-frame-offset');
        const along = absolute ? (offset - topIpp[2]) * unit[2] : offset;
        entry.imagePositionPatient = [
          topIpp[0] + along * unit[0],
          topIpp[1] + along * unit[1],
          topIpp[2] + along * unit[2],
        ];
        entry.imageOrientationPatient = topIop;
        if (topSpacing) entry.pixelSpacing = topSpacing;
        return entry;
      });
    }
  }

  const out: FrameGeometry[] = [];
  for (let k = 0; k < frames; k++) {
    const entry = base(k, 'top-level');
    if (topIpp) entry.imagePositionPatient = [...topIpp];
    if (topIop) entry.imageOrientationPatient = [...topIop];
    if (topSpacing) entry.pixelSpacing = [...topSpacing];
    out.push(entry);
  }
  return out;
}

// ---------------------------------------------------------------- timing

/**
 * Start time of each frame in milliseconds, relative to the first frame (so `[0, …]`), or null when
 * the instance carries no frame timing:
 * - Frame Time Vector (0018,1065) wins when it has one value per frame: its values are the time
 *   since the previous frame (the first is normally 0), summed cumulatively;
 * - otherwise Frame Time (0018,1063) (nominal ms per frame): frame k starts at k · FrameTime;
 * - otherwise null (e.g. Enhanced CT/MR multi-frame objects, which time frames per functional group).
 */
export function frameTimes(instance: DicomInstance): number[] | null {
  const { dataSet } = instance;
  const frames = numberOfFrames(instance);
  const vector = decimals(dataSet, TAG.frameTimeVector);
  if (vector.length === frames && vector.every((v) => Number.isFinite(v) && v >= 0)) {
    const out: number[] = [];
    let t = 0;
    vector.forEach((delta, k) => {
      if (k > 0) t += delta;
      out.push(t);
    });
    return out;
  }
  const frameTime = firstDecimal(dataSet, TAG.frameTime);
  if (frameTime !== undefined && frameTime > 0) {
    return Array.from({ length: frames }, (_, k) => k * frameTime);
  }
  return null;
}

export interface FrameRate {
  /** Frames per second. */
  fps: number;
  source: 'RecommendedDisplayFrameRate' | 'CineRate' | 'FrameTime' | 'FrameTimeVector';
}

/**
 * Playback rate for cine: Recommended Display Frame Rate (0008,2144), else Cine Rate (0018,0040),
 * else 1000 / Frame Time, else the mean interval of Frame Time Vector; null when none is usable.
 */
export function frameRate(instance: DicomInstance): FrameRate | null {
  const { dataSet } = instance;
  const recommended = firstDecimal(dataSet, TAG.recommendedDisplayFrameRate);
  if (recommended !== undefined && recommended > 0) return { fps: recommended, source: 'RecommendedDisplayFrameRate' };
  const cine = firstDecimal(dataSet, TAG.cineRate);
  if (cine !== undefined && cine > 0) return { fps: cine, source: 'CineRate' };
  const frameTime = firstDecimal(dataSet, TAG.frameTime);
  if (frameTime !== undefined && frameTime > 0) return { fps: 1000 / frameTime, source: 'FrameTime' };
  const times = frameTimes(instance);
  if (times !== null && times.length > 1) {
    const span = times[times.length - 1]! - times[0]!;
    if (span > 0) return { fps: (1000 * (times.length - 1)) / span, source: 'FrameTimeVector' };
  }
  return null;
}
