// DICOM RT Structure Set writer: closed planar contours drawn on slices of a volume. Pixel
// points (top-left-corner origin) become patient LPS mm through the voxel affine with the
// half-pixel offset: LPS = affine · (x − 0.5, y − 0.5, k, 1).
import {
  dicomDateTime,
  newUid,
  readReferenceAttributes,
  writePart10,
  type DerivedObjectInfo,
  type SourceImageSeries,
  patientStudyModules,
} from '../write/source.js';
import { decimalString, pixelToLps } from '../sr/geometry.js';
import { RtStructError, RT_STRUCTURE_SET_STORAGE, type RtRoi } from './model.js';

export { RtStructError, RT_STRUCTURE_SET_STORAGE, type RtRoi, type RtInterpretedType } from './model.js';

/** '#rrggbb' → [r, g, b]. */
function rgb(color: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color);
  if (!m) throw new RtStructError('invalid-input', 'ROI colours must be #rrggbb');
  return [parseInt(m[1] as string, 16), parseInt(m[2] as string, 16), parseInt(m[3] as string, 16)];
}

function validate(source: SourceImageSeries, rois: RtRoi[]): void {
  if (source.slices.length !== source.dims[2]) throw new RtStructError('invalid-input', 'The source series needs one image reference per slice');
  const numbers = new Set<number>();
  for (const roi of rois) {
    if (!Number.isInteger(roi.number) || roi.number < 1 || numbers.has(roi.number)) throw new RtStructError('invalid-input', 'ROI numbers must be unique positive integers');
    numbers.add(roi.number);
    rgb(roi.color);
    for (const c of roi.contours) {
      if (!Number.isInteger(c.slice) || c.slice < 0 || c.slice >= source.slices.length) throw new RtStructError('invalid-input', 'A contour lies on a slice outside the source series');
      if (c.points.length < 3) throw new RtStructError('invalid-input', 'A closed planar contour needs at least 3 points');
      if (c.points.some((p) => p.length !== 2 || !Number.isFinite(p[0]) || !Number.isFinite(p[1]))) throw new RtStructError('invalid-input', 'Contour points must be finite [x, y] pixel points');
    }
  }
}

const imageRef = (s: SourceImageSeries['slices'][number]): Record<string, unknown> => ({
  ReferencedSOPClassUID: s.sopClassUid,
  ReferencedSOPInstanceUID: s.sopInstanceUid,
  ...(s.frameNumber !== undefined ? { ReferencedFrameNumber: String(s.frameNumber) } : {}),
});

/**
 * Writes a DICOM RT Structure Set (RTSTRUCT) with one ROI per `rois` entry and one CLOSED_PLANAR
 * contour per drawn polygon, referencing the source series' frame of reference and, per contour,
 * the image of its slice. Returns Part-10 bytes (Explicit VR Little Endian). Throws
 * RtStructError on invalid input or a reference instance without a Frame of Reference UID.
 */
export function writeRtStruct(input: { source: SourceImageSeries; rois: RtRoi[]; info: DerivedObjectInfo; structureSetLabel?: string }): Uint8Array {
  const { source, rois, info } = input;
  validate(source, rois);
  const ref = readReferenceAttributes(source.reference);
  const forUid = ref.frameOfReferenceUid;
  if (!forUid) throw new RtStructError('invalid-input', 'The reference instance has no Frame of Reference UID');
  const { date, time } = dicomDateTime(info.now ?? new Date());
  const copied = ref.copied;

  // All images of the series are listed once (by SOP instance; multi-frame instances once).
  const seen = new Set<string>();
  const allImages = source.slices.filter((s) => (seen.has(s.sopInstanceUid) ? false : (seen.add(s.sopInstanceUid), true))).map((s) => ({ ReferencedSOPClassUID: s.sopClassUid, ReferencedSOPInstanceUID: s.sopInstanceUid }));

  const dataset: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    ...patientStudyModules({ ...ref, copied }),
    // Frame of Reference (dciodvfy requires the module in the RT Structure Set IOD)
    FrameOfReferenceUID: forUid,
    PositionReferenceIndicator: copied.PositionReferenceIndicator ?? '',
    // RT Series
    Modality: 'RTSTRUCT',
    SeriesInstanceUID: info.seriesInstanceUid ?? newUid(),
    SeriesNumber: String(info.seriesNumber),
    SeriesDescription: info.seriesDescription,
    SeriesDate: date,
    SeriesTime: time,
    OperatorsName: info.contentCreator ?? '',
    // General Equipment
    Manufacturer: 'Caliper',
    ManufacturerModelName: 'Caliper',
    SoftwareVersions: '0.1.0',
    // Structure Set
    InstanceNumber: String(info.instanceNumber),
    StructureSetLabel: (input.structureSetLabel ?? info.contentLabel).slice(0, 16) || 'CALIPER',
    ...(info.contentDescription ? { StructureSetDescription: info.contentDescription } : {}),
    StructureSetDate: date,
    StructureSetTime: time,
    ReferencedFrameOfReferenceSequence: [
      {
        FrameOfReferenceUID: forUid,
        RTReferencedStudySequence: [
          {
            ReferencedSOPClassUID: '1.2.840.10008.3.1.2.3.1', // Detached Study Management (retired), as PS3.3 C.8.8.5 requires
            ReferencedSOPInstanceUID: ref.studyInstanceUid,
            RTReferencedSeriesSequence: [{ SeriesInstanceUID: ref.seriesInstanceUid, ContourImageSequence: allImages }],
          },
        ],
      },
    ],
    StructureSetROISequence: rois.map((roi) => ({
      ROINumber: String(roi.number),
      ReferencedFrameOfReferenceUID: forUid,
      ROIName: roi.name,
      ROIGenerationAlgorithm: 'MANUAL',
    })),
    // ROI Contour
    ROIContourSequence: rois.map((roi) => ({
      ReferencedROINumber: String(roi.number),
      ROIDisplayColor: rgb(roi.color).map(String),
      ...(roi.contours.length
        ? {
            ContourSequence: roi.contours.map((c, n) => {
              const slice = source.slices[c.slice] as SourceImageSeries['slices'][number];
              return {
                ContourNumber: String(n + 1),
                ContourImageSequence: [imageRef(slice)],
                ContourGeometricType: 'CLOSED_PLANAR',
                NumberOfContourPoints: String(c.points.length),
                ContourData: c.points.flatMap(([x, y]) => pixelToLps(source.affineLps, x, y, c.slice).map(decimalString)),
              };
            }),
          }
        : {}),
    })),
    // RT ROI Observations
    RTROIObservationsSequence: rois.map((roi, n) => ({
      ObservationNumber: String(n + 1),
      ReferencedROINumber: String(roi.number),
      RTROIInterpretedType: roi.interpretedType ?? '',
      ROIInterpreter: info.contentCreator ?? '',
    })),
  };
  return writePart10(dataset, RT_STRUCTURE_SET_STORAGE, info.sopInstanceUid ?? newUid());
}
