// The measurement items a Caliper TID 1500 report carries, the coded concepts it uses (all
// from DICOM PS3.16 except the two private 99CALIPER concepts for free text) and its error.
import type { CodedConcept } from '../write/source.js';

/** Units a measurement is reported in (the UCUM code is the same string). */
export type SrUnit = 'mm' | 'mm2' | 'mm3' | 'mL' | 'deg' | 'cm' | 'cm2';

/** One measurement or landmark of a report. */
export type SrItem =
  | {
      type: 'length' | 'area' | 'volume' | 'angle' | 'bidirectional';
      label: string;
      /** The measured value (for bidirectional: the long axis). */
      value: number;
      unit: SrUnit;
      /** Slice index of 2D pixel points; absent for voxel points (and for 2D points read without a target). */
      slice?: number;
      /** [x, y] pixel points on `slice` (top-left-corner origin), or [i, j, k] voxel points. */
      points: number[][];
      /** Bidirectional only: the short axis, in `unit`. */
      shortAxis?: number;
      /** The annotation object id. */
      trackingId: string;
      finding?: CodedConcept;
    }
  | { type: 'landmark'; label: string; name: string; voxel: [number, number, number]; trackingId: string; finding?: CodedConcept };

/** SR Storage SOP classes. */
export const COMPREHENSIVE_3D_SR = '1.2.840.10008.5.1.4.1.1.88.34';
export const ENHANCED_SR = '1.2.840.10008.5.1.4.1.1.88.22';
export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';

const c = (value: string, scheme: string, meaning: string): CodedConcept => ({ value, scheme, meaning });

/** Coded concepts of TID 1500 / 1501 / 1410 / 300 (PS3.16). */
export const CODES = {
  report: c('126000', 'DCM', 'Imaging Measurement Report'),
  language: c('121049', 'DCM', 'Language of Content Item and Descendants'),
  englishUS: c('en-US', 'RFC5646', 'English (United States)'),
  observerType: c('121005', 'DCM', 'Observer Type'),
  person: c('121006', 'DCM', 'Person'),
  device: c('121007', 'DCM', 'Device'),
  personObserverName: c('121008', 'DCM', 'Person Observer Name'),
  deviceObserverUid: c('121012', 'DCM', 'Device Observer UID'),
  deviceObserverName: c('121013', 'DCM', 'Device Observer Name'),
  procedureReported: c('121058', 'DCM', 'Procedure reported'),
  imagingProcedure: c('363679005', 'SCT', 'Imaging procedure'),
  imageLibrary: c('111028', 'DCM', 'Image Library'),
  imageLibraryGroup: c('126200', 'DCM', 'Image Library Group'),
  imagingMeasurements: c('126010', 'DCM', 'Imaging Measurements'),
  measurementGroup: c('125007', 'DCM', 'Measurement Group'),
  trackingIdentifier: c('112039', 'DCM', 'Tracking Identifier'),
  trackingUid: c('112040', 'DCM', 'Tracking Unique Identifier'),
  finding: c('121071', 'DCM', 'Finding'),
  imageRegion: c('111030', 'DCM', 'Image Region'),
  length: c('410668003', 'SCT', 'Length'),
  distance: c('121206', 'DCM', 'Distance'),
  area: c('42798000', 'SCT', 'Area'),
  volume: c('118565006', 'SCT', 'Volume'),
  angle: c('1483009', 'SCT', 'Angle'),
  longAxis: c('103339001', 'SCT', 'Long axis'),
  shortAxis: c('103340004', 'SCT', 'Short axis'),
  /** Private (99CALIPER): the annotation's free-text label. */
  label: c('LABEL', '99CALIPER', 'Annotation label'),
  /** Private (99CALIPER): a landmark's name from the label's landmark set. */
  landmarkName: c('LANDMARK_NAME', '99CALIPER', 'Landmark name'),
} as const;

/** UCUM unit concepts. */
export const UNITS: Record<SrUnit, CodedConcept> = {
  mm: c('mm', 'UCUM', 'millimeter'),
  mm2: c('mm2', 'UCUM', 'square millimeter'),
  mm3: c('mm3', 'UCUM', 'cubic millimeter'),
  mL: c('mL', 'UCUM', 'milliliter'),
  deg: c('deg', 'UCUM', 'degree'),
  cm: c('cm', 'UCUM', 'centimeter'),
  cm2: c('cm2', 'UCUM', 'square centimeter'),
};

/** Why an SR could not be written or read. The message never contains patient data. */
export class SrError extends Error {
  override readonly name = 'SrError';

  constructor(
    readonly code: 'invalid-input' | 'not-dicom' | 'not-sr' | 'not-tid1500',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
