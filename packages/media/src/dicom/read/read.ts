import { inflateRawSync } from 'node:zlib';
import { type CharacterSet, characterSetOf, isTextElement, readText } from './charset.js';
import { DicomError, describeThrown } from './errors.js';
import { type DataSet, type Element, dicomParser } from './parser.js';

export const TRANSFER_SYNTAX = {
  implicitLittle: '1.2.840.10008.1.2',
  explicitLittle: '1.2.840.10008.1.2.1',
  deflatedExplicitLittle: '1.2.840.10008.1.2.1.99',
  explicitBig: '1.2.840.10008.1.2.2',
  rleLossless: '1.2.840.10008.1.2.5',
} as const;

/** How the bytes were laid out before parsing. */
export type DicomEncoding =
  /** 128-byte preamble, `DICM`, File Meta Information. */
  | 'part10'
  /** File Meta Information present but the preamble (and possibly `DICM`) missing. */
  | 'part10-no-preamble'
  /** A bare data set with no File Meta Information (transfer syntax inferred). */
  | 'raw-dataset';

export interface DicomInstance {
  readonly encoding: DicomEncoding;
  /** From (0002,0010), or the syntax inferred for a bare data set. */
  readonly transferSyntaxUID: string;
  readonly sopClassUID: string | undefined;
  readonly sopInstanceUID: string | undefined;
  readonly studyInstanceUID: string | undefined;
  readonly seriesInstanceUID: string | undefined;
  readonly frameOfReferenceUID: string | undefined;
  readonly modality: string | undefined;
  readonly rows: number | undefined;
  readonly columns: number | undefined;
  readonly bitsAllocated: number | undefined;
  readonly bitsStored: number | undefined;
  readonly highBit: number | undefined;
  /** 0 = unsigned, 1 = two's complement. */
  readonly pixelRepresentation: number | undefined;
  readonly samplesPerPixel: number | undefined;
  readonly photometricInterpretation: string | undefined;
  readonly planarConfiguration: number | undefined;
  /** (0028,0008) as written; undefined when absent (treat as 1 frame). */
  readonly numberOfFrames: number | undefined;
  readonly rescaleSlope: number | undefined;
  readonly rescaleIntercept: number | undefined;
  readonly windowCenter: readonly number[];
  readonly windowWidth: readonly number[];
  readonly imagePositionPatient: readonly [number, number, number] | undefined;
  readonly imageOrientationPatient: readonly [number, number, number, number, number, number] | undefined;
  /** Row spacing then column spacing, in mm. */
  readonly pixelSpacing: readonly [number, number] | undefined;
  /** True when (7FE0,0010) Pixel Data is present. */
  readonly hasPixelData: boolean;
  /** The parsed dicom-parser data set, for attributes not surfaced above. */
  readonly dataSet: DataSet;
  /**
   * Specific Character Set (0008,0005) as interpreted for decoding text. `fallback` is true (and
   * `warnings` explains why) when a term was unknown and ISO 8859-1 was used instead.
   */
  readonly characterSet: CharacterSet;
  /**
   * Trimmed string value of any top-level tag, e.g. `getString('x00100010')`. Text VRs (SH, LO,
   * ST, LT, UT, PN, UC, and any element whose VR is implicit) are decoded to Unicode with
   * {@link characterSet}; other VRs use the default repertoire.
   */
  getString(tag: string): string | undefined;
}

const DICM = [0x44, 0x49, 0x43, 0x4d];
const PIXEL_DATA = 'x7fe00010';

function hasDicmAt(bytes: Uint8Array, offset: number): boolean {
  if (bytes.length < offset + 4) return false;
  return DICM.every((value, i) => bytes[offset + i] === value);
}

function isUpperLetter(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x41 && byte <= 0x5a;
}

interface Prepared {
  bytes: Uint8Array;
  encoding: DicomEncoding;
  rawSyntax?: string;
}

function prepare(bytes: Uint8Array): Prepared {
  if (hasDicmAt(bytes, 128)) return { bytes, encoding: 'part10' };
  if (hasDicmAt(bytes, 0)) {
    const padded = new Uint8Array(128 + bytes.length);
    padded.set(bytes, 128);
    return { bytes: padded, encoding: 'part10-no-preamble' };
  }
  if (bytes.length >= 8) {
    const group = (bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8);
    if (group === 0x0002) {
      const padded = new Uint8Array(132 + bytes.length);
      padded.set(DICM, 128);
      padded.set(bytes, 132);
      return { bytes: padded, encoding: 'part10-no-preamble' };
    }
    if (group === 0x0008) {
      const explicit = isUpperLetter(bytes[4]) && isUpperLetter(bytes[5]);
      return {
        bytes,
        encoding: 'raw-dataset',
        rawSyntax: explicit ? TRANSFER_SYNTAX.explicitLittle : TRANSFER_SYNTAX.implicitLittle,
      };
    }
  }
  throw new DicomError(
    'The data is not DICOM: there is no "DICM" marker at byte 128 and it does not begin with a DICOM group 0002 or 0008 tag.',
  );
}

/** Deflated Explicit VR Little Endian: keep the meta header, raw-inflate the rest. */
function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(bytes.subarray(position));
  const full = new Uint8Array(position + inflated.length);
  full.set(bytes.subarray(0, position), 0);
  full.set(inflated, position);
  return full;
}

function parse(prepared: Prepared): DataSet {
  try {
    return dicomParser.parseDicom(
      prepared.bytes,
      prepared.rawSyntax === undefined ? { inflater } : { inflater, TransferSyntaxUID: prepared.rawSyntax },
    );
  } catch (thrown) {
    throw new DicomError(
      `The DICOM data could not be parsed (it may be truncated or corrupt): ${describeThrown(thrown)}.`,
      { cause: thrown },
    );
  }
}

function trimmed(dataSet: DataSet, tag: string): string | undefined {
  const element = dataSet.elements[tag];
  if (element === undefined || element.length === 0) return undefined;
  const value = dataSet.string(tag)?.replace(/\0+$/u, '').trim();
  return value === undefined || value === '' ? undefined : value;
}

function us(dataSet: DataSet, tag: string): number | undefined {
  const element = dataSet.elements[tag];
  if (element === undefined || element.length < 2) return undefined;
  return dataSet.uint16(tag);
}

function decimals(dataSet: DataSet, tag: string): number[] {
  const text = trimmed(dataSet, tag);
  if (text === undefined) return [];
  return text.split('\\').map((part) => Number(part.trim()));
}

function finiteOrUndefined(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

function fixed(values: number[], count: number): number[] | undefined {
  return values.length === count && values.every(Number.isFinite) ? values : undefined;
}

function checkStructure(dataSet: DataSet, encoding: DicomEncoding): void {
  const pixel: Element | undefined = dataSet.elements[PIXEL_DATA];
  if (pixel !== undefined && !pixel.encapsulatedPixelData) {
    if (pixel.dataOffset + pixel.length > dataSet.byteArray.length) {
      throw new DicomError(
        `The DICOM data is truncated: Pixel Data declares ${pixel.length} bytes but only ${
          dataSet.byteArray.length - pixel.dataOffset
        } remain.`,
      );
    }
  }
  if (encoding === 'raw-dataset' && Object.keys(dataSet.elements).length < 2) {
    throw new DicomError('The data is not DICOM: no data elements could be read from it.');
  }
}

/**
 * Parses a DICOM instance (Part 10 file with or without preamble, or a bare data set) in
 * implicit/explicit VR little endian, deflated explicit little endian or explicit big endian.
 * Throws {@link DicomError} for input that is not DICOM or is truncated.
 */
export function readDicom(bytes: Uint8Array): DicomInstance {
  if (bytes.length === 0) throw new DicomError('The data is empty, so it cannot be DICOM.');
  const prepared = prepare(bytes);
  const dataSet = parse(prepared);
  checkStructure(dataSet, prepared.encoding);

  const transferSyntaxUID = trimmed(dataSet, 'x00020010') ?? prepared.rawSyntax;
  if (transferSyntaxUID === undefined) {
    throw new DicomError('The DICOM file meta information has no Transfer Syntax UID (0002,0010).');
  }
  const characterSet = characterSetOf(dataSet);
  const str = (tag: string): string | undefined =>
    isTextElement(dataSet, tag) ? readText(dataSet, tag, characterSet) : trimmed(dataSet, tag);
  const frames = str('x00280008');
  const position = fixed(decimals(dataSet, 'x00200032'), 3);
  const orientation = fixed(decimals(dataSet, 'x00200037'), 6);
  const spacing = fixed(decimals(dataSet, 'x00280030'), 2);

  return {
    encoding: prepared.encoding,
    transferSyntaxUID,
    sopClassUID: str('x00080016'),
    sopInstanceUID: str('x00080018'),
    studyInstanceUID: str('x0020000d'),
    seriesInstanceUID: str('x0020000e'),
    frameOfReferenceUID: str('x00200052'),
    modality: str('x00080060'),
    rows: us(dataSet, 'x00280010'),
    columns: us(dataSet, 'x00280011'),
    bitsAllocated: us(dataSet, 'x00280100'),
    bitsStored: us(dataSet, 'x00280101'),
    highBit: us(dataSet, 'x00280102'),
    pixelRepresentation: us(dataSet, 'x00280103'),
    samplesPerPixel: us(dataSet, 'x00280002'),
    photometricInterpretation: str('x00280004'),
    planarConfiguration: us(dataSet, 'x00280006'),
    numberOfFrames: finiteOrUndefined(frames === undefined ? undefined : Number.parseInt(frames, 10)),
    rescaleSlope: finiteOrUndefined(decimals(dataSet, 'x00281053')[0]),
    rescaleIntercept: finiteOrUndefined(decimals(dataSet, 'x00281052')[0]),
    windowCenter: decimals(dataSet, 'x00281050').filter(Number.isFinite),
    windowWidth: decimals(dataSet, 'x00281051').filter(Number.isFinite),
    imagePositionPatient: position as [number, number, number] | undefined,
    imageOrientationPatient: orientation as [number, number, number, number, number, number] | undefined,
    pixelSpacing: spacing as [number, number] | undefined,
    hasPixelData: dataSet.elements[PIXEL_DATA] !== undefined,
    dataSet,
    characterSet,
    getString: str,
  };
}
