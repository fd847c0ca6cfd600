// DICOM Segmentation writer: a Caliper label map (one value per segment) → a Part-10 SEG
// (Explicit VR Little Endian). Two SOP classes:
//   'binary'   Segmentation Storage (1.2.840.10008.5.1.4.1.1.66.4), SegmentationType BINARY:
//              one 1-bit frame per (segment, slice) that holds at least one voxel of the
//              segment, ordered by segment then slice, bits packed contiguously across frames.
//   'labelmap' Label Map Segmentation Storage (1.2.840.10008.5.1.4.1.1.66.7, Supplement 243):
//              one 8- or 16-bit frame per slice whose pixel values are segment numbers.
// Segment numbers are 1..N in ascending order of the label values. The dataset (without pixel
// data) is written with dcmjs; the pixel data element is packed and appended here, which keeps
// large volumes fast.
import { createRequire } from 'node:module';
import { codeItem, contentLabel, dicomDateTime, newUid, patientStudyModules, readReferenceAttributes, writePart10 } from '../write/source.js';
import type { CodedConcept, DerivedObjectInfo, SourceImageSeries } from '../write/source.js';
import { defaultSegmentCodes } from './codes.js';
import { hexToDicomLab, parseHexColor } from './color.js';
import { SegError } from './errors.js';
import { planeGeometry } from './geometry.js';

/** One segment of the label map: voxels equal to `value` belong to it. */
export interface SegSegment {
  value: number;
  label: string;
  /** `#rrggbb` */
  color: string;
  category?: CodedConcept;
  type?: CodedConcept;
  algorithmType?: 'MANUAL' | 'SEMIAUTOMATIC' | 'AUTOMATIC';
  algorithmName?: string;
  description?: string;
}

/** Everything writeSeg needs. `labels` is indexed i + cols·(j + rows·k). */
export interface SegWriteInput {
  source: SourceImageSeries;
  labels: Uint8Array | Uint16Array;
  segments: SegSegment[];
  info: DerivedObjectInfo;
  /** Default 'binary'. */
  sopClass?: 'binary' | 'labelmap';
}

export const SEG_SOP_CLASS = {
  binary: '1.2.840.10008.5.1.4.1.1.66.4',
  labelmap: '1.2.840.10008.5.1.4.1.1.66.7',
} as const;

const SOURCE_PURPOSE: CodedConcept = { value: '121322', scheme: 'DCM', meaning: 'Source image for image processing operation' };
const DERIVATION_SEGMENTATION: CodedConcept = { value: '113076', scheme: 'DCM', meaning: 'Segmentation' };
const TAG_REFERENCED_SEGMENT_NUMBER = 0x0062000b;
const TAG_SEGMENT_IDENTIFICATION_SEQUENCE = 0x0062000a;
const TAG_IMAGE_POSITION_PATIENT = 0x00200032;
const TAG_PLANE_POSITION_SEQUENCE = 0x00209113;

let softwareVersion: string | null = null;
/** The version of @caliper/media (its package.json sits three levels above both src/ and dist/ modules). */
function caliperVersion(): string {
  if (softwareVersion === null) {
    const pkg = createRequire(import.meta.url)('../../../package.json') as { version?: unknown };
    softwareVersion = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  }
  return softwareVersion;
}

interface NumberedSegment extends SegSegment {
  number: number;
}

function checkInput(input: SegWriteInput): { cols: number; rows: number; slices: number; segments: NumberedSegment[] } {
  const [cols, rows, slices] = input.source.dims;
  if (![cols, rows, slices].every((n) => Number.isInteger(n) && n > 0)) throw new SegError('The volume dimensions must be positive integers');
  if (cols > 65535 || rows > 65535) throw new SegError('The slice size exceeds 65535 rows or columns');
  if (input.labels.length !== cols * rows * slices) throw new SegError('The label map size does not match the volume dimensions');
  if (input.source.slices.length !== slices) throw new SegError('The source series must name one source image per slice');
  if (input.segments.length === 0) throw new SegError('A segmentation needs at least one segment');
  const maxValue = input.labels instanceof Uint8Array ? 255 : 65535;
  const sorted = [...input.segments].sort((a, b) => a.value - b.value);
  sorted.forEach((s, i) => {
    if (!Number.isInteger(s.value) || s.value < 1 || s.value > maxValue) throw new SegError('A segment value must be an integer between 1 and the label map maximum');
    if (i > 0 && sorted[i - 1]!.value === s.value) throw new SegError('Two segments share one label value');
    if (!parseHexColor(s.color)) throw new SegError('A segment colour must be #rrggbb');
    if (!s.label.trim()) throw new SegError('A segment needs a label');
    if ((s.algorithmType ?? 'MANUAL') !== 'MANUAL' && !s.algorithmName?.trim()) {
      throw new SegError('A segment with an automatic or semi-automatic algorithm type needs an algorithm name');
    }
  });
  return { cols, rows, slices, segments: sorted.map((s, i) => ({ ...s, number: i + 1 })) };
}

/** Label value → segment index (0-based), −1 for values no segment describes. */
function segmentLut(labels: Uint8Array | Uint16Array, segments: NumberedSegment[]): Int32Array {
  const lut = new Int32Array(labels instanceof Uint8Array ? 256 : 65536).fill(-1);
  segments.forEach((s, i) => {
    lut[s.value] = i;
  });
  return lut;
}

/** presence[s·slices + k] = 1 when segment s has a voxel on slice k. Throws on undescribed values. */
function segmentPresence(labels: Uint8Array | Uint16Array, lut: Int32Array, nSeg: number, plane: number, slices: number): Uint8Array {
  const presence = new Uint8Array(nSeg * slices);
  for (let k = 0; k < slices; k++) {
    const end = (k + 1) * plane;
    for (let p = k * plane; p < end; p++) {
      const v = labels[p]!;
      if (v !== 0) {
        const s = lut[v]!;
        if (s < 0) throw new SegError('The label map contains a value that no segment describes');
        presence[s * slices + k] = 1;
      }
    }
  }
  return presence;
}

/** Packs BINARY frames into `out` (zeroed): little-endian bit order within a byte, frames contiguous. */
function packBinaryFrames(out: Uint8Array, labels: Uint8Array | Uint16Array, lut: Int32Array, frameOf: Int32Array, plane: number, slices: number): void {
  for (let k = 0; k < slices; k++) {
    const base = k * plane;
    for (let p = 0; p < plane; p++) {
      const v = labels[base + p]!;
      if (v !== 0) {
        const bit = frameOf[lut[v]! * slices + k]! * plane + p;
        out[bit >>> 3]! |= 1 << (bit & 7);
      }
    }
  }
}

/** Writes LABELMAP frames into `out` (zeroed): every slice, pixel value = segment number, 8 or 16 bits little-endian. */
function packLabelmapFrames(out: Uint8Array, labels: Uint8Array | Uint16Array, segments: NumberedSegment[], lut: Int32Array, bits: 8 | 16): void {
  if (bits === 8) {
    if (labels instanceof Uint8Array && segments.every((s) => s.value === s.number)) {
      out.set(labels);
      return;
    }
    for (let p = 0; p < labels.length; p++) {
      const v = labels[p]!;
      if (v !== 0) out[p] = lut[v]! + 1;
    }
    return;
  }
  for (let p = 0; p < labels.length; p++) {
    const v = labels[p]!;
    if (v !== 0) {
      const n = lut[v]! + 1;
      out[2 * p] = n & 0xff;
      out[2 * p + 1] = n >>> 8;
    }
  }
}

function segmentItem(s: NumberedSegment): Record<string, unknown> {
  const codes = defaultSegmentCodes(s.label);
  const algorithmType = s.algorithmType ?? 'MANUAL';
  const item: Record<string, unknown> = {
    SegmentNumber: s.number,
    SegmentLabel: s.label.slice(0, 64),
    SegmentAlgorithmType: algorithmType,
    SegmentedPropertyCategoryCodeSequence: [codeItem(s.category ?? codes.category)],
    SegmentedPropertyTypeCodeSequence: [codeItem(s.type ?? codes.type)],
    RecommendedDisplayCIELabValue: hexToDicomLab(s.color),
  };
  if (algorithmType !== 'MANUAL') item.SegmentAlgorithmName = s.algorithmName!.slice(0, 64);
  if (s.description) item.SegmentDescription = s.description;
  return item;
}

/**
 * The Part-10 bytes followed by a Pixel Data element (Explicit VR LE, defined length, padded to
 * even) whose value `fill` writes in place: the large pixel value is allocated once, never copied.
 */
function withPixelData(part10: Uint8Array, vr: 'OB' | 'OW', valueLength: number, fill: (value: Uint8Array) => void): Uint8Array {
  const padded = valueLength + (valueLength % 2);
  const out = new Uint8Array(part10.length + 12 + padded);
  out.set(part10, 0);
  const view = new DataView(out.buffer, part10.length, 12);
  view.setUint16(0, 0x7fe0, true);
  view.setUint16(2, 0x0010, true);
  view.setUint8(4, vr.charCodeAt(0));
  view.setUint8(5, vr.charCodeAt(1));
  view.setUint16(6, 0, true);
  view.setUint32(8, padded, true);
  fill(out.subarray(part10.length + 12, part10.length + 12 + valueLength));
  return out;
}

/**
 * Writes a label map as a DICOM Segmentation (Part-10, Explicit VR Little Endian) referencing
 * the source series. Segments are numbered 1..N by ascending label value. 'binary' (default)
 * writes the frames of non-empty (segment, slice) pairs only (at least one frame overall);
 * 'labelmap' writes one frame per slice. Throws SegError on inconsistent input.
 */
export function writeSeg(input: SegWriteInput): Uint8Array {
  const sopClass = input.sopClass ?? 'binary';
  const { cols, rows, slices, segments } = checkInput(input);
  const ref = readReferenceAttributes(input.source.reference);
  if (!ref.frameOfReferenceUid) throw new SegError('The reference instance has no Frame of Reference UID');
  const geometry = planeGeometry(input.source.affineLps);
  const plane = rows * cols;
  const lut = segmentLut(input.labels, segments);
  const presence = segmentPresence(input.labels, lut, segments.length, plane, slices);

  // Frames: (segment index, slice) pairs; for LABELMAP, segment −1 (all segments).
  const frames: { segment: number; slice: number }[] = [];
  const frameOf = new Int32Array(segments.length * slices).fill(-1);
  let bits: 1 | 8 | 16;
  if (sopClass === 'binary') {
    for (let s = 0; s < segments.length; s++) {
      for (let k = 0; k < slices; k++) {
        if (presence[s * slices + k]) {
          frameOf[s * slices + k] = frames.length;
          frames.push({ segment: s, slice: k });
        }
      }
    }
    if (frames.length === 0) frames.push({ segment: 0, slice: 0 }); // an all-empty segmentation still needs one frame
    bits = 1;
  } else {
    for (let k = 0; k < slices; k++) frames.push({ segment: -1, slice: k });
    bits = segments.length <= 255 ? 8 : 16;
  }

  const now = dicomDateTime(input.info.now ?? new Date());
  const seriesUid = input.info.seriesInstanceUid ?? newUid();
  const sopUid = input.info.sopInstanceUid ?? newUid();
  const dimensionUid = newUid();
  const sourceRef = (k: number): Record<string, unknown> => {
    const s = input.source.slices[k]!;
    const item: Record<string, unknown> = { ReferencedSOPClassUID: s.sopClassUid, ReferencedSOPInstanceUID: s.sopInstanceUid };
    if (s.frameNumber !== undefined) item.ReferencedFrameNumber = s.frameNumber;
    return item;
  };
  const perFrame = frames.map(({ segment, slice }) => {
    const item: Record<string, unknown> = {
      DerivationImageSequence: [
        {
          SourceImageSequence: [{ ...sourceRef(slice), PurposeOfReferenceCodeSequence: [codeItem(SOURCE_PURPOSE)] }],
          DerivationCodeSequence: [codeItem(DERIVATION_SEGMENTATION)],
        },
      ],
      FrameContentSequence: [{ DimensionIndexValues: segment >= 0 ? [segment + 1, slice + 1] : [slice + 1] }],
      PlanePositionSequence: [{ ImagePositionPatient: geometry.position(slice) }],
    };
    if (segment >= 0) item.SegmentIdentificationSequence = [{ ReferencedSegmentNumber: segment + 1 }];
    return item;
  });

  const referenced = new Map<string, Record<string, unknown>>();
  for (let k = 0; k < slices; k++) {
    const s = input.source.slices[k]!;
    if (!referenced.has(s.sopInstanceUid)) referenced.set(s.sopInstanceUid, { ReferencedSOPClassUID: s.sopClassUid, ReferencedSOPInstanceUID: s.sopInstanceUid });
  }

  const dimensionIndex = [
    ...(sopClass === 'binary'
      ? [{ DimensionOrganizationUID: dimensionUid, DimensionIndexPointer: TAG_REFERENCED_SEGMENT_NUMBER, FunctionalGroupPointer: TAG_SEGMENT_IDENTIFICATION_SEQUENCE, DimensionDescriptionLabel: 'Segment Number' }]
      : []),
    { DimensionOrganizationUID: dimensionUid, DimensionIndexPointer: TAG_IMAGE_POSITION_PATIENT, FunctionalGroupPointer: TAG_PLANE_POSITION_SEQUENCE, DimensionDescriptionLabel: 'Image Position Patient' },
  ];
  const sliceSpacing = geometry.sliceSpacing > 0 ? geometry.sliceSpacing : Math.min(geometry.rowSpacing, geometry.colSpacing);

  const natural: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    ...patientStudyModules(ref),
    InstanceCreationDate: now.date,
    InstanceCreationTime: now.time,
    // General Series / Segmentation Series
    Modality: 'SEG',
    SeriesInstanceUID: seriesUid,
    SeriesNumber: input.info.seriesNumber,
    SeriesDescription: input.info.seriesDescription.slice(0, 64),
    SeriesDate: now.date,
    SeriesTime: now.time,
    // General Equipment / Enhanced General Equipment
    Manufacturer: 'Caliper',
    ManufacturerModelName: 'Caliper',
    DeviceSerialNumber: 'CALIPER',
    SoftwareVersions: caliperVersion(),
    // General Image / Segmentation Image / Multi-frame Functional Groups
    InstanceNumber: input.info.instanceNumber,
    ContentDate: now.date,
    ContentTime: now.time,
    ImageType: ['DERIVED', 'PRIMARY'],
    ContentLabel: contentLabel(input.info.contentLabel),
    ContentDescription: input.info.contentDescription?.slice(0, 64) ?? '',
    ContentCreatorName: input.info.contentCreator ?? '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: cols,
    BitsAllocated: bits,
    BitsStored: bits,
    HighBit: bits - 1,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    SegmentationType: sopClass === 'binary' ? 'BINARY' : 'LABELMAP',
    SegmentsOverlap: 'NO',
    SegmentSequence: segments.map(segmentItem),
    NumberOfFrames: frames.length,
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionUid }],
    DimensionIndexSequence: dimensionIndex,
    SharedFunctionalGroupsSequence: [
      {
        PixelMeasuresSequence: [{ PixelSpacing: [geometry.rowSpacing, geometry.colSpacing], SliceThickness: sliceSpacing, SpacingBetweenSlices: sliceSpacing }],
        PlaneOrientationSequence: [{ ImageOrientationPatient: [...geometry.colDir, ...geometry.rowDir] }],
      },
    ],
    PerFrameFunctionalGroupsSequence: perFrame,
    // Common Instance Reference
    ReferencedSeriesSequence: [{ SeriesInstanceUID: ref.seriesInstanceUid, ReferencedInstanceSequence: [...referenced.values()] }],
  };
  const part10 = writePart10(natural, SEG_SOP_CLASS[sopClass], sopUid);
  const valueLength = bits === 1 ? Math.ceil((frames.length * plane) / 8) : (frames.length * plane * bits) / 8;
  return withPixelData(part10, bits === 16 ? 'OW' : 'OB', valueLength, (value) => {
    if (bits === 1) packBinaryFrames(value, input.labels, lut, frameOf, plane, slices);
    else packLabelmapFrames(value, input.labels, segments, lut, bits);
  });
}
