// DICOM SR writer: Caliper measurements as a TID 1500 Imaging Measurement Report. Each item
// is one Measurement Group (TID 1501) whose measurement (TID 300) is INFERRED FROM its image
// coordinates: 2D pixel points as SCOORD on the source image (SELECTED FROM an IMAGE item;
// SCOORD and Caliper share the top-left-corner pixel origin, so no offset), voxel points as
// SCOORD3D in patient LPS on the source frame of reference. Landmarks are groups with an
// Image Region SCOORD3D POINT (TID 1410 style). Reports without 3D coordinates are Enhanced
// SR, the others Comprehensive 3D SR.
import { createHash } from 'node:crypto';
import {
  codeItem,
  dicomDateTime,
  newUid,
  readReferenceAttributes,
  writePart10,
  type CodedConcept,
  type DerivedObjectInfo,
  type SourceImageSeries,
  patientStudyModules,
} from '../write/source.js';
import { applyAffine, decimalString } from './geometry.js';
import { CODES, COMPREHENSIVE_3D_SR, ENHANCED_SR, SrError, UNITS, type SrItem, type SrUnit } from './model.js';

export { SrError, type SrItem, type SrUnit } from './model.js';

type ContentItem = Record<string, unknown>;
type Relationship = 'CONTAINS' | 'HAS OBS CONTEXT' | 'HAS CONCEPT MOD' | 'INFERRED FROM' | 'SELECTED FROM';

/** Fixed UID identifying Caliper as a device observer (2.25 root, derived once from a UUID). */
const CALIPER_DEVICE_UID = '2.25.239477395317163327766236474434447018871';
const MAX_ITEMS = 10_000;

const concept = (c: CodedConcept): Record<string, string>[] => [codeItem(c)];

function text(rel: Relationship, name: CodedConcept, value: string): ContentItem {
  return { RelationshipType: rel, ValueType: 'TEXT', ConceptNameCodeSequence: concept(name), TextValue: value };
}

function codeValue(rel: Relationship, name: CodedConcept, value: CodedConcept): ContentItem {
  return { RelationshipType: rel, ValueType: 'CODE', ConceptNameCodeSequence: concept(name), ConceptCodeSequence: concept(value) };
}

function uidRef(rel: Relationship, name: CodedConcept, uid: string): ContentItem {
  return { RelationshipType: rel, ValueType: 'UIDREF', ConceptNameCodeSequence: concept(name), UID: uid };
}

function container(rel: Relationship | null, name: CodedConcept, children: ContentItem[]): ContentItem {
  return {
    ...(rel ? { RelationshipType: rel } : {}),
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: concept(name),
    ContinuityOfContent: 'SEPARATE',
    ...(children.length ? { ContentSequence: children } : {}),
  };
}

/** A deterministic Tracking Unique Identifier for an annotation object id (stable across exports). */
export function trackingUid(trackingId: string): string {
  const digest = createHash('sha256').update(`caliper:tracking:${trackingId}`).digest();
  return `2.25.${BigInt(`0x${digest.subarray(0, 16).toString('hex')}`).toString(10)}`;
}

interface Geometry {
  source: SourceImageSeries;
  frameOfReferenceUid: string | null;
  /** SOP instances referenced by IMAGE items, in first-use order, keyed by instance UID. */
  referenced: Map<string, string>;
  uses3d: boolean;
}

/** SCOORD (pixel points on a slice) or SCOORD3D (voxel points → LPS) for a NUM's INFERRED FROM. */
function coordinates(g: Geometry, item: { slice?: number; points: number[][] }, graphic2d: string, graphic3d: string, closed: boolean): ContentItem {
  const pts = item.points;
  const dims = pts.map((p) => p.length);
  if (pts.length === 0 || dims.some((d) => d !== dims[0]) || (dims[0] !== 2 && dims[0] !== 3)) {
    throw new SrError('invalid-input', 'Measurement points must all be [x, y] pixel points or all [i, j, k] voxel points');
  }
  if (pts.some((p) => p.some((v) => !Number.isFinite(v)))) throw new SrError('invalid-input', 'Measurement points must be finite numbers');
  const ring = closed && pts.length > 2 ? [...pts, pts[0] as number[]] : pts;
  if (dims[0] === 2) {
    const k = item.slice ?? (g.source.slices.length === 1 ? 0 : undefined);
    const slice = k === undefined ? undefined : g.source.slices[k];
    if (!slice || !Number.isInteger(k)) throw new SrError('invalid-input', 'A 2D measurement needs the index of a slice of the source series');
    g.referenced.set(slice.sopInstanceUid, slice.sopClassUid);
    return {
      RelationshipType: 'INFERRED FROM',
      ValueType: 'SCOORD',
      GraphicType: graphic2d,
      GraphicData: ring.flatMap((p) => [p[0] as number, p[1] as number]),
      ContentSequence: [
        {
          RelationshipType: 'SELECTED FROM',
          ValueType: 'IMAGE',
          ReferencedSOPSequence: [
            {
              ReferencedSOPClassUID: slice.sopClassUid,
              ReferencedSOPInstanceUID: slice.sopInstanceUid,
              ...(slice.frameNumber !== undefined ? { ReferencedFrameNumber: String(slice.frameNumber) } : {}),
            },
          ],
        },
      ],
    };
  }
  return scoord3d(g, 'INFERRED FROM', null, graphic3d, ring);
}

function scoord3d(g: Geometry, rel: Relationship, name: CodedConcept | null, graphicType: string, voxels: number[][]): ContentItem {
  if (!g.frameOfReferenceUid) throw new SrError('invalid-input', 'Voxel coordinates need a Frame of Reference UID in the reference instance');
  g.uses3d = true;
  return {
    RelationshipType: rel,
    ValueType: 'SCOORD3D',
    ...(name ? { ConceptNameCodeSequence: concept(name) } : {}),
    GraphicType: graphicType,
    GraphicData: voxels.flatMap((v) => applyAffine(g.source.affineLps, v)),
    ReferencedFrameOfReferenceUID: g.frameOfReferenceUid,
  };
}

function num(name: CodedConcept, value: number, unit: SrUnit, coords: ContentItem | null): ContentItem {
  if (!Number.isFinite(value)) throw new SrError('invalid-input', 'A measurement value must be a finite number');
  const unitCode = UNITS[unit];
  if (!unitCode) throw new SrError('invalid-input', 'Unknown measurement unit');
  return {
    RelationshipType: 'CONTAINS',
    ValueType: 'NUM',
    ConceptNameCodeSequence: concept(name),
    MeasuredValueSequence: [{ MeasurementUnitsCodeSequence: concept(unitCode), NumericValue: decimalString(value), FloatingPointValue: value }],
    ...(coords ? { ContentSequence: [coords] } : {}),
  };
}

const POINT_COUNT: Record<'length' | 'angle' | 'bidirectional', number> = { length: 2, angle: 3, bidirectional: 4 };

function measurements(g: Geometry, item: SrItem): ContentItem[] {
  switch (item.type) {
    case 'landmark': {
      if (item.voxel.length !== 3 || item.voxel.some((v) => !Number.isFinite(v))) throw new SrError('invalid-input', 'A landmark needs a finite [i, j, k] voxel');
      return [text('CONTAINS', CODES.landmarkName, item.name), scoord3d(g, 'CONTAINS', CODES.imageRegion, 'POINT', [item.voxel])];
    }
    case 'length':
    case 'angle':
    case 'bidirectional':
      if (item.points.length !== POINT_COUNT[item.type]) throw new SrError('invalid-input', 'Wrong number of points for the measurement type');
      break;
    case 'area':
      if (item.points.length < 3) throw new SrError('invalid-input', 'An area needs at least 3 points');
      break;
    case 'volume':
      break;
  }
  switch (item.type) {
    case 'length':
      return [num(CODES.length, item.value, item.unit, coordinates(g, item, 'POLYLINE', 'POLYLINE', false))];
    case 'angle':
      return [num(CODES.angle, item.value, item.unit, coordinates(g, item, 'POLYLINE', 'POLYLINE', false))];
    case 'area':
      return [num(CODES.area, item.value, item.unit, coordinates(g, item, 'POLYLINE', 'POLYGON', true))];
    case 'volume':
      return [num(CODES.volume, item.value, item.unit, item.points.length ? coordinates(g, item, 'MULTIPOINT', 'MULTIPOINT', false) : null)];
    case 'bidirectional': {
      if (item.shortAxis === undefined) throw new SrError('invalid-input', 'A bidirectional measurement needs its short axis');
      const axis = (from: number): { slice?: number; points: number[][] } => ({
        ...(item.slice !== undefined ? { slice: item.slice } : {}),
        points: item.points.slice(from, from + 2),
      });
      return [
        num(CODES.longAxis, item.value, item.unit, coordinates(g, axis(0), 'POLYLINE', 'POLYLINE', false)),
        num(CODES.shortAxis, item.shortAxis, item.unit, coordinates(g, axis(2), 'POLYLINE', 'POLYLINE', false)),
      ];
    }
  }
}

function measurementGroup(g: Geometry, item: SrItem): ContentItem {
  if (!item.trackingId) throw new SrError('invalid-input', 'Every item needs a tracking id');
  return container('CONTAINS', CODES.measurementGroup, [
    text('HAS OBS CONTEXT', CODES.trackingIdentifier, item.trackingId),
    uidRef('HAS OBS CONTEXT', CODES.trackingUid, trackingUid(item.trackingId)),
    ...(item.finding ? [codeValue('CONTAINS', CODES.finding, item.finding)] : []),
    ...(item.label ? [text('CONTAINS', CODES.label, item.label)] : []),
    ...measurements(g, item),
  ]);
}

/** TID 1600 Image Library: one group listing the source images the report relies on. */
function imageLibrary(evidence: Map<string, string>): ContentItem {
  const entries = [...evidence].map(([uid, cls]) => ({
    RelationshipType: 'CONTAINS',
    ValueType: 'IMAGE',
    ReferencedSOPSequence: [{ ReferencedSOPClassUID: cls, ReferencedSOPInstanceUID: uid }],
  }));
  return container('CONTAINS', CODES.imageLibrary, entries.length ? [container('CONTAINS', CODES.imageLibraryGroup, entries)] : []);
}

function observerContext(observer: string | undefined): ContentItem[] {
  if (observer) {
    return [
      codeValue('HAS OBS CONTEXT', CODES.observerType, CODES.person),
      { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'PNAME', ConceptNameCodeSequence: concept(CODES.personObserverName), PersonName: observer },
    ];
  }
  return [
    codeValue('HAS OBS CONTEXT', CODES.observerType, CODES.device),
    uidRef('HAS OBS CONTEXT', CODES.deviceObserverUid, CALIPER_DEVICE_UID),
    text('HAS OBS CONTEXT', CODES.deviceObserverName, 'Caliper'),
  ];
}

/**
 * Writes a DICOM SR TID 1500 Imaging Measurement Report for measurements and landmarks made on
 * the source series, as Part-10 bytes (Explicit VR Little Endian). 2D items reference their
 * slice's source image; voxel items use SCOORD3D in the source frame of reference (then the
 * SOP class is Comprehensive 3D SR, else Enhanced SR). The observer is a person name
 * (pseudonym); without one the device observer "Caliper" is recorded. Throws SrError on
 * invalid input.
 */
export function writeMeasurementReport(input: { source: SourceImageSeries; items: SrItem[]; info: DerivedObjectInfo; observer?: string }): Uint8Array {
  const { source, items, info } = input;
  if (items.length > MAX_ITEMS) throw new SrError('invalid-input', 'Too many items for one report');
  if (source.slices.length !== source.dims[2]) throw new SrError('invalid-input', 'The source series needs one image reference per slice');
  const ref = readReferenceAttributes(source.reference);
  const g: Geometry = { source, frameOfReferenceUid: ref.frameOfReferenceUid, referenced: new Map(), uses3d: false };
  const groups = items.map((item) => measurementGroup(g, item));

  // Evidence: every image referenced in the tree; voxel coordinates rely on the whole series.
  const evidence = new Map(g.referenced);
  if (g.uses3d) for (const s of source.slices) evidence.set(s.sopInstanceUid, s.sopClassUid);

  const observer = input.observer ?? info.contentCreator;
  const root = container(null, CODES.report, [
    codeValue('HAS CONCEPT MOD', CODES.language, CODES.englishUS),
    ...observerContext(observer),
    codeValue('HAS CONCEPT MOD', CODES.procedureReported, CODES.imagingProcedure),
    imageLibrary(evidence),
    container('CONTAINS', CODES.imagingMeasurements, groups),
  ]);
  const { date, time } = dicomDateTime(info.now ?? new Date());
  const { FrameOfReferenceUID: _for, PositionReferenceIndicator: _pri, ...copied } = ref.copied;
  const sopClass = g.uses3d ? COMPREHENSIVE_3D_SR : ENHANCED_SR;
  const sopInstanceUid = info.sopInstanceUid ?? newUid();
  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    ...patientStudyModules({ ...ref, copied }),
    // SR Document Series
    Modality: 'SR',
    SeriesInstanceUID: info.seriesInstanceUid ?? newUid(),
    SeriesNumber: String(info.seriesNumber),
    SeriesDescription: info.seriesDescription,
    SeriesDate: date,
    SeriesTime: time,
    ReferencedPerformedProcedureStepSequence: [],
    // General Equipment
    Manufacturer: 'Caliper',
    ManufacturerModelName: 'Caliper',
    SoftwareVersions: '0.1.0',
    // SR Document General
    InstanceNumber: String(info.instanceNumber),
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: date,
    ContentTime: time,
    PerformedProcedureCodeSequence: [],
    ...(evidence.size
      ? {
          CurrentRequestedProcedureEvidenceSequence: [
            {
              StudyInstanceUID: ref.studyInstanceUid,
              ReferencedSeriesSequence: [
                {
                  SeriesInstanceUID: ref.seriesInstanceUid,
                  ReferencedSOPSequence: [...evidence].map(([uid, cls]) => ({ ReferencedSOPClassUID: cls, ReferencedSOPInstanceUID: uid })),
                },
              ],
            },
          ],
        }
      : {}),
    CodingSchemeIdentificationSequence: [
      { CodingSchemeDesignator: '99CALIPER', CodingSchemeName: 'Caliper annotation concepts', CodingSchemeResponsibleOrganization: 'Caliper' },
    ],
    // SR Document Content (root content item)
    ...root,
    ContentTemplateSequence: [{ MappingResource: 'DCMR', TemplateIdentifier: '1500' }],
  };
  return writePart10(dataset, sopClass, sopInstanceUid);
}
