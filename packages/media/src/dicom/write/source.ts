// What a derived DICOM object (SEG, SR, RTSTRUCT) needs to know about the image series it
// annotates, and the attributes it copies from it. Everything here comes from the stored,
// already de-identified instances: the writers never see original identities.
import { randomUUID } from 'node:crypto';
import type { DcmjsDataset } from 'dcmjs';
import { dcmjsLib } from '../deid/dcmjs-lazy.js';

/** The de-identified source image series of a derived object. */
export interface SourceImageSeries {
  /** Part-10 bytes of one de-identified source instance: patient, study, frame of reference and equipment attributes are copied from it. */
  reference: Uint8Array;
  /** [columns, rows, slices] of the volume (a single image: slices = 1). */
  dims: [number, number, number];
  /** Voxel (i = column, j = row, k = slice; a voxel's centre at integer indices) → patient LPS mm, row-major 4×4. */
  affineLps: number[][];
  /** For each slice k, the source image it came from (frameNumber is 1-based, for multi-frame sources). */
  slices: { sopClassUid: string; sopInstanceUid: string; frameNumber?: number }[];
}

/** A coded concept (Code Value, Coding Scheme Designator, Code Meaning). */
export interface CodedConcept {
  value: string;
  scheme: string;
  meaning: string;
}

/** Identity of the derived series/instance being written. */
export interface DerivedObjectInfo {
  seriesDescription: string;
  seriesNumber: number;
  instanceNumber: number;
  /** Content Label (CS: upper case, digits, underscore, ≤ 16 chars; the writer normalises it). */
  contentLabel: string;
  contentDescription?: string;
  /** Content Creator's Name (PN); the annotator pseudonym or a role, never a real name unless the user chose it. */
  contentCreator?: string;
  /** Fixed UIDs (tests); generated when absent. */
  seriesInstanceUid?: string;
  sopInstanceUid?: string;
  /** Content date/time; default now. */
  now?: Date;
}

/** The study-level attributes copied from the reference instance. */
export interface ReferenceAttributes {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string | null;
  /** Naturalized (keyword → value) attributes of the Patient, General Study, Patient Study and Frame of Reference modules present in the reference. */
  copied: Record<string, unknown>;
}

const COPIED_KEYWORDS = [
  // Patient
  'PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientSex', 'PatientAge', 'PatientSize', 'PatientWeight',
  'PatientIdentityRemoved', 'DeidentificationMethod', 'DeidentificationMethodCodeSequence', 'ClinicalTrialSponsorName',
  'ClinicalTrialProtocolID', 'ClinicalTrialSiteID', 'ClinicalTrialSubjectID',
  // General Study
  'StudyInstanceUID', 'StudyDate', 'StudyTime', 'ReferringPhysicianName', 'StudyID', 'AccessionNumber', 'StudyDescription',
  // Frame of Reference
  'FrameOfReferenceUID', 'PositionReferenceIndicator',
] as const;

/** A new UID under the 2.25 root (UUID as a decimal integer), at most 44 characters. */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString(10)}`;
}

/** Parses the reference instance and returns the attributes a derived object copies from it. */
export function readReferenceAttributes(reference: Uint8Array): ReferenceAttributes {
  const dcmjs = dcmjsLib();
  const ab = reference.buffer.slice(reference.byteOffset, reference.byteOffset + reference.byteLength) as ArrayBuffer;
  const parsed = dcmjs.data.DicomMessage.readFile(ab, { untilTag: '7FE00010', includeUntilTagValue: false });
  const natural = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
  const copied: Record<string, unknown> = {};
  for (const k of COPIED_KEYWORDS) if (natural[k] !== undefined) copied[k] = natural[k];
  const str = (k: string): string | null => (typeof natural[k] === 'string' && natural[k] ? (natural[k] as string) : null);
  const study = str('StudyInstanceUID');
  const series = str('SeriesInstanceUID');
  if (!study || !series) throw new Error('The reference instance lacks a Study or Series Instance UID');
  return { studyInstanceUid: study, seriesInstanceUid: series, frameOfReferenceUid: str('FrameOfReferenceUID'), copied };
}

/**
 * The Patient and General Study modules of a derived object: the reference's attributes with
 * every Type 2 attribute present (empty when the reference lacks it), so the IOD validates
 * whatever the source kept after de-identification.
 */
export function patientStudyModules(ref: ReferenceAttributes): Record<string, unknown> {
  const c = ref.copied;
  return {
    ...c,
    StudyInstanceUID: ref.studyInstanceUid,
    ReferringPhysicianName: c.ReferringPhysicianName ?? '',
    StudyID: c.StudyID ?? '',
    AccessionNumber: c.AccessionNumber ?? '',
    StudyDate: c.StudyDate ?? '',
    StudyTime: c.StudyTime ?? '',
    PatientName: c.PatientName ?? '',
    PatientID: c.PatientID ?? '',
    PatientBirthDate: c.PatientBirthDate ?? '',
    PatientSex: c.PatientSex ?? '',
  };
}

/** DICOM DA and TM strings for a date (UTC). */
export function dicomDateTime(d: Date): { date: string; time: string } {
  const iso = d.toISOString();
  return { date: iso.slice(0, 10).replace(/-/g, ''), time: iso.slice(11, 19).replace(/:/g, '') };
}

/** A Code Sequence item in naturalized form. */
export function codeItem(c: CodedConcept): Record<string, string> {
  return { CodeValue: c.value, CodingSchemeDesignator: c.scheme, CodeMeaning: c.meaning };
}

/** Content Label as a valid CS value: upper case, A–Z 0–9 _, ≤ 16 characters. */
export function contentLabel(s: string): string {
  const cs = s.toUpperCase().replace(/[^A-Z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 16);
  return cs || 'CALIPER';
}

/**
 * Writes a naturalized dataset as an Explicit VR Little Endian Part-10 file with the given SOP
 * class and instance (meta header filled in). Returns the file bytes.
 */
export function writePart10(natural: Record<string, unknown>, sopClassUid: string, sopInstanceUid: string): Uint8Array {
  const dcmjs = dcmjsLib();
  const meta: DcmjsDataset = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: sopClassUid,
    MediaStorageSOPInstanceUID: sopInstanceUid,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: '2.25.80302813137786398554742050926734630921',
    ImplementationVersionName: 'CALIPER_1',
  });
  const dict = new dcmjs.data.DicomDict(meta);
  dict.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset({ ...natural, SOPClassUID: sopClassUid, SOPInstanceUID: sopInstanceUid });
  return new Uint8Array(dict.write({ fragmentMultiframe: false }));
}
