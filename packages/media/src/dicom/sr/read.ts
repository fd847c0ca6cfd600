// DICOM SR reader for TID 1500 Imaging Measurement Reports: the reports Caliper writes
// (write.ts) and, tolerantly, those of other tools. Each Measurement Group becomes at most
// one item; what is not understood is skipped with a reason.
import type { CodedConcept } from '../write/source.js';
import { items as seqItems, numberOf, numbers, parseNatural, str, type Natural } from './dataset.js';
import { applyAffine, invertAffine } from './geometry.js';
import { CODES, SrError, UNITS, type SrItem, type SrUnit } from './model.js';

export { SrError, type SrItem } from './model.js';

/** The image series a report is read onto: its affine (for SCOORD3D) and per-slice source images (for SCOORD). */
export interface SrReadTarget {
  affineLps: number[][];
  slices: { sopInstanceUid: string | null; frameNumber?: number }[];
}

/** A measurement group that was not turned into an item. `group` is 1-based in document order. */
export interface SrSkipped {
  group: number;
  reason: string;
}

const SR_CLASS_PREFIX = '1.2.840.10008.5.1.4.1.1.88.';

function conceptOf(item: Natural, key = 'ConceptNameCodeSequence'): CodedConcept | null {
  const c = seqItems(item[key])[0];
  if (!c) return null;
  const value = str(c.CodeValue) ?? str(c.LongCodeValue) ?? str(c.URNCodeValue);
  const scheme = str(c.CodingSchemeDesignator) ?? '';
  if (!value) return null;
  return { value, scheme, meaning: str(c.CodeMeaning) ?? '' };
}

const is = (c: CodedConcept | null, ...refs: CodedConcept[]): boolean => c !== null && refs.some((r) => r.value === c.value && r.scheme === c.scheme);

const children = (item: Natural): Natural[] => seqItems(item.ContentSequence);

type Coords = { kind: '2d'; points: number[][]; slice: number | undefined; graphicType: string } | { kind: '3d'; points: number[][]; graphicType: string };

class Skip extends Error {}

/** The points of an SCOORD / SCOORD3D content item, in Caliper's pixel or voxel space. */
function readCoords(item: Natural, target: SrReadTarget | undefined, inverse: number[][] | null): Coords {
  const graphicType = str(item.GraphicType) ?? '';
  const data = numbers(item.GraphicData);
  if (!data || data.length === 0) throw new Skip('coordinates without numeric graphic data');
  if (item.ValueType === 'SCOORD') {
    if (data.length % 2) throw new Skip('2D graphic data with an odd number of values');
    const points: number[][] = [];
    for (let i = 0; i < data.length; i += 2) points.push([data[i] as number, data[i + 1] as number]);
    const image = children(item).find((c) => c.ValueType === 'IMAGE');
    const ref = image ? seqItems(image.ReferencedSOPSequence)[0] : undefined;
    const uid = ref ? str(ref.ReferencedSOPInstanceUID) : null;
    if (!uid) throw new Skip('2D coordinates without a referenced image');
    let slice: number | undefined;
    if (target) {
      const frame = numberOf(ref?.ReferencedFrameNumber) ?? 1;
      const k = target.slices.findIndex((s) => s.sopInstanceUid === uid && (s.frameNumber ?? 1) === frame);
      if (k < 0) throw new Skip('2D coordinates on an image outside the target series');
      slice = k;
    }
    return { kind: '2d', points, slice, graphicType };
  }
  if (item.ValueType === 'SCOORD3D') {
    if (data.length % 3) throw new Skip('3D graphic data with a number of values not divisible by 3');
    if (!inverse) throw new Skip(target ? 'the target affine is singular' : '3D coordinates need a target affine');
    const points: number[][] = [];
    for (let i = 0; i < data.length; i += 3) points.push(applyAffine(inverse, [data[i] as number, data[i + 1] as number, data[i + 2] as number]));
    return { kind: '3d', points, graphicType };
  }
  throw new Skip('unsupported coordinate value type');
}

/** Drops the repeated first point of a closed ring. */
function openRing(points: number[][]): number[][] {
  const first = points[0];
  const last = points[points.length - 1];
  if (points.length > 3 && first && last && first.every((v, i) => v === last[i])) return points.slice(0, -1);
  return points;
}

interface Num {
  concept: CodedConcept;
  value: number;
  unit: SrUnit | null;
  unitCode: string;
  coords: Natural | null;
}

function readNum(item: Natural): Num | null {
  const concept = conceptOf(item);
  const mv = seqItems(item.MeasuredValueSequence)[0];
  if (!concept || !mv) return null;
  const value = numberOf(mv.FloatingPointValue) ?? numberOf(mv.NumericValue);
  if (value === null) return null;
  const u = conceptOf(mv, 'MeasurementUnitsCodeSequence');
  const unit = u && u.scheme === 'UCUM' ? ((Object.keys(UNITS) as SrUnit[]).find((k) => UNITS[k].value === u.value) ?? null) : null;
  const coords = children(item).find((c) => c.RelationshipType === 'INFERRED FROM' && (c.ValueType === 'SCOORD' || c.ValueType === 'SCOORD3D')) ?? null;
  return { concept, value, unit, unitCode: u?.value ?? '', coords };
}

function measurementType(c: CodedConcept): 'length' | 'area' | 'volume' | 'angle' | 'long' | 'short' | null {
  if (is(c, CODES.length, CODES.distance)) return 'length';
  if (is(c, CODES.area)) return 'area';
  if (is(c, CODES.volume)) return 'volume';
  if (is(c, CODES.angle)) return 'angle';
  if (is(c, CODES.longAxis)) return 'long';
  if (is(c, CODES.shortAxis)) return 'short';
  return null;
}

function readGroup(group: Natural, index: number, target: SrReadTarget | undefined, inverse: number[][] | null, notes: SrSkipped[]): SrItem {
  const kids = children(group);
  const textOf = (ref: CodedConcept): string | null => {
    const t = kids.find((k) => k.ValueType === 'TEXT' && is(conceptOf(k), ref));
    return t ? str(t.TextValue) : null;
  };
  const findingItem = kids.find((k) => k.ValueType === 'CODE' && is(conceptOf(k), CODES.finding));
  const finding = findingItem ? conceptOf(findingItem, 'ConceptCodeSequence') : null;
  const uidItem = kids.find((k) => k.ValueType === 'UIDREF' && is(conceptOf(k), CODES.trackingUid));
  const trackingId = textOf(CODES.trackingIdentifier) ?? (uidItem ? str(uidItem.UID) : null) ?? `group-${index}`;
  const label = textOf(CODES.label) ?? finding?.meaning ?? '';
  const base = { label, trackingId, ...(finding ? { finding } : {}) };
  const region = kids.find((k) => (k.ValueType === 'SCOORD' || k.ValueType === 'SCOORD3D') && is(conceptOf(k), CODES.imageRegion)) ?? null;

  const nums = kids.filter((k) => k.ValueType === 'NUM').map(readNum);
  const known = nums.filter((n): n is Num => n !== null && measurementType(n.concept) !== null);
  for (const n of nums) {
    if (!n) notes.push({ group: index, reason: 'a numeric item without a value was ignored' });
    else if (!measurementType(n.concept)) notes.push({ group: index, reason: `measurement ${n.concept.scheme}:${n.concept.value} is not supported and was ignored` });
  }

  if (known.length === 0) {
    if (!region) throw new Skip('no supported measurement and no image region');
    const c = readCoords(region, target, inverse);
    const p = c.points[0];
    if (c.graphicType !== 'POINT' || c.points.length !== 1 || !p) throw new Skip('an image region without a measurement that is not a single point');
    let voxel: [number, number, number];
    if (c.kind === '3d') voxel = [p[0] as number, p[1] as number, p[2] as number];
    else if (c.slice !== undefined) voxel = [(p[0] as number) - 0.5, (p[1] as number) - 0.5, c.slice];
    else throw new Skip('a 2D point needs a target series to become a landmark');
    return { type: 'landmark', ...base, name: textOf(CODES.landmarkName) ?? label, voxel };
  }

  const long = known.find((n) => measurementType(n.concept) === 'long');
  const short = known.find((n) => measurementType(n.concept) === 'short');
  const primary = long && short ? long : known.find((n) => measurementType(n.concept) !== 'short' && measurementType(n.concept) !== 'long');
  if (!primary) throw new Skip('an axis measurement without its pair');
  for (const n of known) if (n !== primary && n !== short) notes.push({ group: index, reason: 'only the first supported measurement of a group is read' });
  const used = primary === long && short ? [long, short] : [primary];
  const unit = primary.unit;
  if (!unit || used.some((n) => n.unit !== unit)) throw new Skip(`unsupported unit ${primary.unitCode || '(none)'}`);
  const mt = measurementType(primary.concept);
  const type = mt === 'long' ? 'bidirectional' : (mt as 'length' | 'area' | 'volume' | 'angle');

  const coordItems = used.map((n) => n.coords ?? region);
  const coords = coordItems.map((ci) => (ci ? readCoords(ci, target, inverse) : null));
  const points: number[][] = [];
  let slice: number | undefined;
  let kind: '2d' | '3d' | null = null;
  for (const c of coords) {
    if (!c) continue;
    if (kind && c.kind !== kind) throw new Skip('mixed 2D and 3D coordinates');
    kind = c.kind;
    if (c.kind === '2d') {
      if (slice !== undefined && c.slice !== slice) throw new Skip('axes on different images');
      slice = c.slice;
    }
    points.push(...(type === 'area' ? openRing(c.points) : c.points));
  }
  if (type !== 'volume' && points.length === 0) throw new Skip('a measurement without coordinates');
  return {
    type,
    ...base,
    value: primary.value,
    unit,
    ...(slice !== undefined ? { slice } : {}),
    points,
    ...(type === 'bidirectional' && short ? { shortAxis: short.value } : {}),
  };
}

/**
 * Reads a TID 1500 Imaging Measurement Report. With a target series, 2D coordinates are mapped
 * to slice indices (by referenced SOP Instance UID and frame) and SCOORD3D points to voxel
 * indices (inverse affine); without one, 2D items have no slice and 3D items are skipped.
 * Groups that cannot be read are listed in `skipped`. Throws SrError for bytes that are not a
 * DICOM SR, or an SR that is not a TID 1500 report.
 */
export function readMeasurementReport(bytes: Uint8Array, target?: SrReadTarget): { items: SrItem[]; skipped: SrSkipped[] } {
  const ds = parseNatural(bytes);
  if (!ds) throw new SrError('not-dicom', 'The file is not a readable DICOM file (not Part-10, or truncated)');
  const sopClass = str(ds.SOPClassUID);
  if (!sopClass?.startsWith(SR_CLASS_PREFIX) || ds.ValueType !== 'CONTAINER') throw new SrError('not-sr', 'The file is not a DICOM Structured Report');
  if (!is(conceptOf(ds), CODES.report)) throw new SrError('not-tid1500', 'The Structured Report is not a TID 1500 Imaging Measurement Report');
  let inverse: number[][] | null = null;
  if (target) {
    try {
      inverse = invertAffine(target.affineLps);
    } catch {
      inverse = null;
    }
  }
  const result: SrItem[] = [];
  const skipped: SrSkipped[] = [];
  const containers = children(ds).filter((c) => c.ValueType === 'CONTAINER' && is(conceptOf(c), CODES.imagingMeasurements));
  let index = 0;
  for (const container of containers) {
    for (const group of children(container)) {
      if (group.ValueType !== 'CONTAINER' || !is(conceptOf(group), CODES.measurementGroup)) continue;
      index += 1;
      try {
        result.push(readGroup(group, index, target, inverse, skipped));
      } catch (e) {
        if (!(e instanceof Skip)) throw e;
        skipped.push({ group: index, reason: e.message });
      }
    }
  }
  return { items: result, skipped };
}
