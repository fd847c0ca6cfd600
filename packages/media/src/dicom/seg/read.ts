// DICOM Segmentation reader (BINARY, FRACTIONAL and LABELMAP) and its placement on a Caliper
// volume. Frame pixels are decoded lazily: segToLabelmap paints straight from the stored pixel
// data, so a large SEG is never expanded to one byte per pixel per frame.
import type { CodedConcept } from '../write/source.js';
import { dcmjsLib } from '../deid/dcmjs-lazy.js';
import { describeThrown } from '../read/errors.js';
import { dicomParser } from '../read/parser.js';
import { dicomLabToHex } from './color.js';
import { SegError } from './errors.js';
import { affineColumn, dot, invert3, norm, planeGeometry } from './geometry.js';
import type { Vec3 } from './geometry.js';
import { SEG_SOP_CLASS } from './write.js';
import type { SegSegment } from './write.js';

/** One stored frame. For LABELMAP SEGs `segmentNumber` is 0 and the pixel values are segment numbers. */
export interface SegFrame {
  segmentNumber: number;
  position: [number, number, number] | null;
  referencedSopInstanceUid: string | null;
  referencedFrameNumber: number | null;
  /** rows·cols, row-major: 0/1 (binary), 0..max (fractional) or segment numbers (labelmap). Decoded on first access. */
  pixels: Uint8Array;
}

export interface ParsedSeg {
  sopClass: 'binary' | 'fractional' | 'labelmap';
  rows: number;
  columns: number;
  frameOfReferenceUid: string | null;
  referencedSeriesUids: string[];
  /** [row spacing, column spacing] mm. */
  pixelSpacing: [number, number] | null;
  /** Image Orientation (Patient), six direction cosines. */
  orientation: number[] | null;
  /** Segments; `value` equals the segment number. */
  segments: (SegSegment & { number: number })[];
  frames: SegFrame[];
  /** FRACTIONAL only: the value that means 100 %. */
  maxFractionalValue?: number;
}

/** How to paint one frame from the stored pixel data without expanding it. */
interface FrameSource {
  data: Uint8Array;
  /** Offset of the frame's first pixel: in bits (1-bit data) or in pixels. */
  start: number;
  bits: 1 | 8 | 16;
  plane: number;
}

const frameSources = new WeakMap<SegFrame, FrameSource>();

type Dataset = Record<string, unknown>;

const UNCOMPRESSED = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

function item(ds: Dataset | undefined, keyword: string): Dataset | undefined {
  const v = ds?.[keyword];
  if (Array.isArray(v)) return v[0] as Dataset | undefined;
  return v && typeof v === 'object' ? (v as Dataset) : undefined;
}

function num(v: unknown): number | null {
  const x = Array.isArray(v) ? v[0] : v;
  if (typeof x === 'number' && Number.isFinite(x)) return x;
  if (typeof x === 'string' && x.trim() !== '' && Number.isFinite(Number(x))) return Number(x);
  return null;
}

function str(v: unknown): string | null {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' && x !== '' ? x : null;
}

function nums(v: unknown, length: number): number[] | null {
  if (!Array.isArray(v) || v.length !== length) return null;
  const out = v.map(num);
  return out.every((x): x is number => x !== null) ? out : null;
}

function code(ds: Dataset | undefined, keyword: string): CodedConcept | undefined {
  const c = item(ds, keyword);
  const value = str(c?.CodeValue) ?? str(c?.LongCodeValue) ?? str(c?.URNCodeValue);
  const scheme = str(c?.CodingSchemeDesignator);
  if (!value || !scheme) return undefined;
  return { value, scheme, meaning: str(c?.CodeMeaning) ?? '' };
}

function pixelBytes(v: unknown): Uint8Array | null {
  const first = Array.isArray(v) ? (v.length === 1 ? v[0] : null) : v;
  if (first instanceof ArrayBuffer) return new Uint8Array(first);
  if (ArrayBuffer.isView(first)) return new Uint8Array(first.buffer, first.byteOffset, first.byteLength);
  return null;
}

function parse(bytes: Uint8Array): { natural: Dataset; transferSyntax: string | null } {
  const dcmjs = dcmjsLib();
  try {
    // dicom-parser checks the structure strictly (an element running past the end is an error;
    // dcmjs would return it short), without copying values.
    dicomParser.parseDicom(bytes);
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const parsed = dcmjs.data.DicomMessage.readFile(ab);
    const natural = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
    const ts = parsed.meta['00020010']?.Value?.[0];
    return { natural, transferSyntax: typeof ts === 'string' ? ts : null };
  } catch (cause) {
    throw new SegError('The file is not readable DICOM (truncated or corrupt)', { cause: new Error(describeThrown(cause)) });
  }
}

function decodeFrame(src: FrameSource): Uint8Array {
  const out = new Uint8Array(src.plane);
  if (src.bits === 1) {
    for (let p = 0; p < src.plane; p++) {
      const b = src.start + p;
      out[p] = (src.data[b >>> 3]! >>> (b & 7)) & 1;
    }
  } else if (src.bits === 8) {
    out.set(src.data.subarray(src.start, src.start + src.plane));
  } else {
    for (let p = 0; p < src.plane; p++) {
      const o = 2 * (src.start + p);
      const v = src.data[o]! | (src.data[o + 1]! << 8);
      out[p] = v > 255 ? 255 : v;
    }
  }
  return out;
}

function makeFrame(fields: Omit<SegFrame, 'pixels'>, src: FrameSource): SegFrame {
  let cached: Uint8Array | null = null;
  const frame = { ...fields } as SegFrame;
  Object.defineProperty(frame, 'pixels', {
    enumerable: true,
    get: () => (cached ??= decodeFrame(src)),
  });
  frameSources.set(frame, src);
  return frame;
}

/**
 * Parses a DICOM Segmentation (BINARY, FRACTIONAL or LABELMAP; uncompressed transfer syntaxes).
 * Throws SegError for non-DICOM or truncated bytes, non-SEG objects, compressed pixel data, and
 * inconsistent content (frame count, functional groups, segment references, short pixel data).
 */
export function readSeg(bytes: Uint8Array): ParsedSeg {
  const { natural, transferSyntax } = parse(bytes);
  const sopClassUid = str(natural.SOPClassUID);
  if (sopClassUid !== SEG_SOP_CLASS.binary && sopClassUid !== SEG_SOP_CLASS.labelmap) throw new SegError('The file is not a DICOM Segmentation');
  if (!transferSyntax || !UNCOMPRESSED.has(transferSyntax)) throw new SegError('Only uncompressed little-endian SEG files are supported');

  const rows = num(natural.Rows);
  const columns = num(natural.Columns);
  const frameCount = num(natural.NumberOfFrames) ?? 1;
  const bitsAllocated = num(natural.BitsAllocated);
  const type = str(natural.SegmentationType);
  if (!rows || !columns || rows < 1 || columns < 1 || !Number.isInteger(frameCount) || frameCount < 1) {
    throw new SegError('The SEG lacks valid Rows, Columns or Number of Frames');
  }
  let sopClass: ParsedSeg['sopClass'];
  let bits: 1 | 8 | 16;
  if (sopClassUid === SEG_SOP_CLASS.binary && type === 'BINARY' && bitsAllocated === 1) [sopClass, bits] = ['binary', 1];
  else if (sopClassUid === SEG_SOP_CLASS.binary && type === 'FRACTIONAL' && bitsAllocated === 8) [sopClass, bits] = ['fractional', 8];
  else if (sopClassUid === SEG_SOP_CLASS.labelmap && type === 'LABELMAP' && (bitsAllocated === 8 || bitsAllocated === 16)) [sopClass, bits] = ['labelmap', bitsAllocated];
  else throw new SegError('The SEG segmentation type and bits allocated are inconsistent');

  const plane = rows * columns;
  const data = pixelBytes(natural.PixelData);
  if (!data) throw new SegError('The SEG has no readable pixel data');
  const needed = bits === 1 ? Math.ceil((frameCount * plane) / 8) : (frameCount * plane * bits) / 8;
  if (data.length < needed) throw new SegError('The SEG pixel data is shorter than its frames');

  const segmentItems = Array.isArray(natural.SegmentSequence) ? (natural.SegmentSequence as Dataset[]) : [];
  if (segmentItems.length === 0) throw new SegError('The SEG has no Segment Sequence');
  const segments = segmentItems.map((s) => {
    const number = num(s.SegmentNumber);
    if (number === null || !Number.isInteger(number) || number < 0 || number > 65535) throw new SegError('A SEG segment has no valid Segment Number');
    const lab = nums(s.RecommendedDisplayCIELabValue, 3);
    const algorithmType = str(s.SegmentAlgorithmType);
    const segment: SegSegment & { number: number } = {
      number,
      value: number,
      label: str(s.SegmentLabel) ?? `Segment ${number}`,
      color: lab ? dicomLabToHex(lab) : '#808080',
    };
    const category = code(s, 'SegmentedPropertyCategoryCodeSequence');
    const propertyType = code(s, 'SegmentedPropertyTypeCodeSequence');
    if (category) segment.category = category;
    if (propertyType) segment.type = propertyType;
    if (algorithmType === 'MANUAL' || algorithmType === 'SEMIAUTOMATIC' || algorithmType === 'AUTOMATIC') segment.algorithmType = algorithmType;
    const algorithmName = str(s.SegmentAlgorithmName);
    if (algorithmName) segment.algorithmName = algorithmName;
    const description = str(s.SegmentDescription);
    if (description) segment.description = description;
    return segment;
  });
  const known = new Set(segments.map((s) => s.number));
  if (known.size !== segments.length) throw new SegError('Two SEG segments share a Segment Number');

  const shared = item(natural, 'SharedFunctionalGroupsSequence');
  const perFrame = natural.PerFrameFunctionalGroupsSequence;
  if (!Array.isArray(perFrame)) throw new SegError('The SEG lacks the Per-frame Functional Groups Sequence');
  if (perFrame.length !== frameCount) throw new SegError('The SEG per-frame functional groups do not match its number of frames');
  const group = (f: number, keyword: string): Dataset | undefined => item(perFrame[f] as Dataset, keyword) ?? item(shared, keyword);

  const frames = (perFrame as Dataset[]).map((_, f) => {
    let segmentNumber = 0;
    if (sopClass !== 'labelmap') {
      const n = num(group(f, 'SegmentIdentificationSequence')?.ReferencedSegmentNumber);
      if (n === null) throw new SegError('A SEG frame does not name its segment');
      if (!known.has(n)) throw new SegError('A SEG frame names a segment the Segment Sequence does not define');
      segmentNumber = n;
    }
    const position = nums(group(f, 'PlanePositionSequence')?.ImagePositionPatient, 3) as [number, number, number] | null;
    const source = item(item(perFrame[f] as Dataset, 'DerivationImageSequence'), 'SourceImageSequence');
    return makeFrame(
      {
        segmentNumber,
        position,
        referencedSopInstanceUid: str(source?.ReferencedSOPInstanceUID),
        referencedFrameNumber: num(source?.ReferencedFrameNumber),
      },
      { data, start: f * plane, bits, plane },
    );
  });

  const spacing = nums(group(0, 'PixelMeasuresSequence')?.PixelSpacing, 2) as [number, number] | null;
  const orientation = nums(group(0, 'PlaneOrientationSequence')?.ImageOrientationPatient, 6);
  const referencedSeriesUids = (Array.isArray(natural.ReferencedSeriesSequence) ? (natural.ReferencedSeriesSequence as Dataset[]) : [])
    .map((s) => str(s.SeriesInstanceUID))
    .filter((s): s is string => s !== null);
  const parsed: ParsedSeg = {
    sopClass,
    rows,
    columns,
    frameOfReferenceUid: str(natural.FrameOfReferenceUID),
    referencedSeriesUids,
    pixelSpacing: spacing,
    orientation,
    segments,
    frames,
  };
  if (sopClass === 'fractional') parsed.maxFractionalValue = num(natural.MaximumFractionalValue) ?? 255;
  return parsed;
}

/** The target volume a SEG is placed on. */
export interface SegTarget {
  dims: [number, number, number];
  affineLps: number[][];
  /** Per slice k, the (already remapped) SOP Instance UID of its source image. */
  sopInstanceUids?: (string | null)[];
}

export interface SegLabelmap {
  labels: Uint8Array | Uint16Array;
  segments: { value: number; label: string; color: string }[];
  placedFrames: number;
  skipped: { frame: number; reason: string }[];
}

/** Paints `value` where the frame's pixel is set (binary), ≥ 50 % (fractional) or, for labelmap frames, the described segment numbers. */
function paintFrame(frame: SegFrame, out: Uint8Array | Uint16Array, offset: number, value: number, threshold: number, describedNumbers: Uint8Array): void {
  const src = frameSources.get(frame);
  if (src && src.bits === 1) {
    const { data, start, plane } = src;
    for (let p = 0; p < plane; p++) {
      const b = start + p;
      const byte = data[b >>> 3]!;
      if (byte === 0) {
        p += 7 - (b & 7);
        continue;
      }
      if ((byte >>> (b & 7)) & 1) out[offset + p] = value;
    }
    return;
  }
  if (src && src.bits === 16) {
    const { data, start, plane } = src;
    for (let p = 0; p < plane; p++) {
      const o = 2 * (start + p);
      const v = data[o]! | (data[o + 1]! << 8);
      if (v !== 0 && describedNumbers[v]) out[offset + p] = v;
    }
    return;
  }
  const px = src ? src.data.subarray(src.start, src.start + src.plane) : frame.pixels;
  if (value === 0) {
    for (let p = 0; p < px.length; p++) {
      const v = px[p]!;
      if (v !== 0 && describedNumbers[v]) out[offset + p] = v;
    }
  } else {
    for (let p = 0; p < px.length; p++) if (px[p]! >= threshold) out[offset + p] = value;
  }
}

/**
 * Places a parsed SEG on a target volume and returns a label map (value = segment number).
 * A frame goes to slice k by its referenced SOP Instance UID when that UID names exactly one
 * target slice, else by projecting its Image Position (Patient) through the target affine: k
 * must be within `toleranceMm` (default 0.05 mm) of a slice and the frame origin within
 * `toleranceMm` of that slice's origin. The SEG's rows, columns, pixel spacing and orientation
 * must match the target's; a flipped, permuted or rotated target is refused (every frame skipped
 * with the reason). Overlapping segments: the higher segment number wins. FRACTIONAL frames are
 * thresholded at 50 % of the maximum fractional value.
 */
export function segToLabelmap(seg: ParsedSeg, target: SegTarget, options?: { toleranceMm?: number }): SegLabelmap {
  const tol = options?.toleranceMm ?? 0.05;
  const [cols, rows, slices] = target.dims;
  if (![cols, rows, slices].every((n) => Number.isInteger(n) && n > 0)) throw new SegError('The target dimensions must be positive integers');
  const geometry = planeGeometry(target.affineLps);
  const inverse = invert3(target.affineLps);
  if (!inverse) throw new SegError('The target affine is singular');
  const maxNumber = Math.max(0, ...seg.segments.map((s) => s.number));
  const labels = maxNumber > 255 ? new Uint16Array(cols * rows * slices) : new Uint8Array(cols * rows * slices);
  const segments = [...seg.segments].sort((a, b) => a.number - b.number).filter((s) => s.number > 0).map((s) => ({ value: s.number, label: s.label, color: s.color }));
  const describedNumbers = new Uint8Array(65536);
  for (const s of segments) describedNumbers[s.value] = 1;
  const skipped: { frame: number; reason: string }[] = [];

  // Whole-SEG checks: one reason for every frame.
  let refusal: string | null = null;
  if (seg.rows !== rows || seg.columns !== cols) refusal = 'frame size differs from the target slice size';
  else if (seg.pixelSpacing && (Math.abs(seg.pixelSpacing[0] - geometry.rowSpacing) > 1e-3 * geometry.rowSpacing || Math.abs(seg.pixelSpacing[1] - geometry.colSpacing) > 1e-3 * geometry.colSpacing)) {
    refusal = 'pixel spacing differs from the target';
  } else if (seg.orientation) {
    const o = seg.orientation;
    const segCol: Vec3 = [o[0]!, o[1]!, o[2]!];
    const segRow: Vec3 = [o[3]!, o[4]!, o[5]!];
    const cosCol = dot(segCol, geometry.colDir) / (norm(segCol) || 1);
    const cosRow = dot(segRow, geometry.rowDir) / (norm(segRow) || 1);
    if (cosCol < 1 - 1e-4 || cosRow < 1 - 1e-4) refusal = 'orientation differs from the target (flipped, permuted or rotated)';
  }
  if (refusal) {
    seg.frames.forEach((_, frame) => skipped.push({ frame, reason: refusal! }));
    return { labels, segments, placedFrames: 0, skipped };
  }

  const uidToSlice = new Map<string, number>();
  const duplicate = new Set<string>();
  (target.sopInstanceUids ?? []).forEach((uid, k) => {
    if (!uid || k >= slices) return;
    if (uidToSlice.has(uid)) duplicate.add(uid);
    uidToSlice.set(uid, k);
  });
  for (const uid of duplicate) uidToSlice.delete(uid);

  const origin: Vec3 = geometry.position(0);
  const c0 = affineColumn(target.affineLps, 0);
  const c1 = affineColumn(target.affineLps, 1);
  const sliceOf = (frame: SegFrame): number | string => {
    const byUid = frame.referencedSopInstanceUid ? uidToSlice.get(frame.referencedSopInstanceUid) : undefined;
    if (byUid !== undefined) return byUid;
    if (!frame.position) return 'frame has neither a known source image nor a position';
    if (!seg.orientation) return 'the SEG has no orientation to check a position against';
    const d: Vec3 = [frame.position[0] - origin[0], frame.position[1] - origin[1], frame.position[2] - origin[2]];
    const [fi, fj, fk] = inverse.map((r) => r[0]! * d[0] + r[1]! * d[1] + r[2]! * d[2]) as Vec3;
    const k = Math.round(fk);
    if (k < 0 || k >= slices) return 'frame position lies outside the target volume';
    if (Math.abs(fk - k) * geometry.sliceSpacing > tol || (geometry.sliceSpacing === 0 && Math.abs(fk - k) > 1e-6)) return 'frame position lies between target slices';
    const inPlane = norm([0, 1, 2].map((r) => fi * c0[r]! + fj * c1[r]!) as Vec3);
    if (inPlane > tol) return 'frame origin is shifted in-plane from the target slice origin';
    return k;
  };

  const threshold = seg.sopClass === 'fractional' ? Math.max(1, Math.ceil((seg.maxFractionalValue ?? 255) / 2)) : 1;
  const order = seg.frames.map((f, i) => ({ f, i })).sort((a, b) => a.f.segmentNumber - b.f.segmentNumber || a.i - b.i);
  let placedFrames = 0;
  for (const { f, i } of order) {
    const k = sliceOf(f);
    if (typeof k === 'string') {
      skipped.push({ frame: i, reason: k });
      continue;
    }
    if (seg.sopClass !== 'labelmap' && !describedNumbers[f.segmentNumber]) {
      skipped.push({ frame: i, reason: 'frame names segment 0' });
      continue;
    }
    paintFrame(f, labels, k * rows * cols, seg.sopClass === 'labelmap' ? 0 : f.segmentNumber, threshold, describedNumbers);
    placedFrames++;
  }
  skipped.sort((a, b) => a.frame - b.frame);
  return { labels, segments, placedFrames, skipped };
}
