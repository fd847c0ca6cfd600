// Byte-level de-identification for the common case: a Part-10 file whose data set is Implicit
// VR Little Endian, Explicit VR Little Endian or an encapsulated (compressed) syntax. The raw
// elements are walked (sequences and items of defined or undefined length, at any depth); each
// element's action comes from the same RuleEngine (rules.ts) the dcmjs path uses. Kept elements
// are copied byte for byte, changed ones re-encoded; the output is assembled from the slices in
// one allocation (Pixel Data copied once from the caller's buffer).
//
// The result is the same de-identified data set as the dcmjs path's; the encoding differs only:
//   - kept elements keep their original bytes (dcmjs re-encodes them, e.g. re-pads values);
//   - a sequence with changed content is written with undefined lengths (sequence and items);
//     one without changes is copied as is;
//   - data set group length elements (gggg,0000), retired, are dropped (dcmjs keeps them with
//     their stale value); (0002,0000) is recomputed;
//   - the preamble is zeroed, as dcmjs does.
// Anything the walker does not understand throws FastPathUnsupported and deidentify.ts falls
// back to dcmjs: big endian, deflate, inputs without file meta, explicit VR UN on a standard
// attribute, UN or other non-SQ elements of undefined length that are changed, tags out of
// order, group 0002 in the data set, non-ASCII text the rules must read (PatientID, dates, UIDs,
// cleaned descriptors, burned-in / identity attributes), re-encoded short-VR values over 64 KiB,
// and malformed or truncated data.
import { Buffer } from 'node:buffer';
import { dcmjsLib } from './dcmjs-lazy.js';
import type { DcmjsDataset } from 'dcmjs';
import { dayOffset } from './dates.js';
import { EXPLICIT_BE, IMPLICIT_LE, type PreparedInput } from './input.js';
import { topLevelLayout } from './pixel-span.js';
import type { DeidSettings } from './settings.js';
import { type BurnedInAssessment, type ImageIdentity, assessBurnedIn, imageIdentity } from './burned-in.js';
import {
  type AddedAttribute,
  CALIPER_IMPLEMENTATION_CLASS_UID,
  type DeidReport,
  type Dummy,
  IMPLEMENTATION_VERSION,
  META_REMOVE,
  RuleEngine,
  addedAttributes,
} from './rules.js';

export class FastPathUnsupported extends Error {
  override readonly name = 'FastPathUnsupported';
}

export interface FastResult {
  bytes: Uint8Array;
  report: DeidReport;
  burnedIn: BurnedInAssessment;
  image: ImageIdentity;
  transferSyntax: string;
}

const JPIP_REFERENCED_DEFLATE = '1.2.840.10008.1.2.4.95';
const DEFLATED_LE = '1.2.840.10008.1.2.1.99';

/** True when the byte-level path may be tried for this prepared input. */
export function fastPathApplies(p: PreparedInput): boolean {
  return (
    !p.metaAdded &&
    p.sourceSyntax === p.syntax &&
    p.syntax !== EXPLICIT_BE &&
    p.syntax !== DEFLATED_LE &&
    p.syntax !== JPIP_REFERENCED_DEFLATE
  );
}

const UNDEFINED = 0xffffffff;
const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQ_END = 0xfffee0dd;
const PIXEL = 0x7fe00010;
const PATIENT_ID = 0x00100020;
const PATIENT_NAME = 0x00100010;

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const KNOWN_VRS = new Set([
  'AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN',
  'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV',
]);
const NUMBER_WIDTH: Record<string, number> = { FL: 4, FD: 8, SL: 4, SS: 2, UL: 4, US: 2, SV: 8, UV: 8 };
const ZERO_PAD = new Set(['UI', 'OB', 'OW', 'OD', 'OF', 'OL', 'OV', 'UN']);
/** VRs whose value dcmjs does not split on backslash (of those we read as text). */
const SINGLE_VALUED = new Set(['LT']);

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));
function tagHex(tag: number): string {
  return HEX[tag >>> 24]! + HEX[(tag >>> 16) & 0xff]! + HEX[(tag >>> 8) & 0xff]! + HEX[tag & 0xff]!;
}

const dictVrCache = new Map<number, string | null>();
/** The VR dcmjs's dictionary gives a standard tag (ambiguous ones resolved), or null. */
function dictionaryVr(tag: number): string | null {
  let vr = dictVrCache.get(tag);
  if (vr !== undefined) return vr;
  const h = tagHex(tag);
  const entry = dcmjsLib().data.DicomMetaDictionary.dictionary[`(${h.slice(0, 4)},${h.slice(4)})`];
  let v = entry?.vr ?? null;
  if (v === 'xs') v = 'US';
  else if (v === 'ox') v = 'OW';
  else if (v !== null && v.includes(' or ')) v = v.slice(0, 2);
  vr = v !== null && KNOWN_VRS.has(v) ? v : v === null ? null : 'UN';
  dictVrCache.set(tag, vr);
  return vr;
}

/** The VR dcmjs assigns an element read in implicit VR (see its DicomMessage._readTag). */
function implicitVr(tag: number, length: number): string {
  const known = dictionaryVr(tag);
  if (known) return known;
  if (length === UNDEFINED) return 'SQ';
  const group = tag >>> 16;
  const el = tag & 0xffff;
  if (group % 2 === 1 && el >= 0x10 && el <= 0xff) return 'LO';
  return 'UN';
}

function ascii(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b >= 0x80 || b === 0x1b) throw new FastPathUnsupported("non-ASCII text (or ISO 2022 escapes)");
    s += String.fromCharCode(b);
  }
  return s;
}

/** String values as dcmjs reads them: trailing padding dropped, split on backslash. */
function textValues(vr: string, value: Uint8Array): string[] {
  const s = ascii(value).replace(/[\0 ]+$/, '');
  if (s === '') return [];
  return SINGLE_VALUED.has(vr) ? [s] : s.split('\\');
}

function encodeText(vr: string, values: readonly unknown[]): Uint8Array {
  const parts: string[] = [];
  for (const v of values) {
    if (typeof v !== 'string') throw new FastPathUnsupported('non-text value');
    parts.push(v);
  }
  const s = parts.join('\\');
  const out = new Uint8Array(s.length + (s.length % 2));
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new FastPathUnsupported('non-latin1 text');
    out[i] = c;
  }
  if (s.length % 2) out[s.length] = ZERO_PAD.has(vr) ? 0 : 0x20;
  return out;
}

function encodeDummy(vr: string, d: Dummy | null): Uint8Array {
  if (!d) return new Uint8Array(0);
  if (d.kind === 'bytes') return new Uint8Array(2);
  if (d.kind === 'text') return encodeText(vr, [d.text]);
  const width = NUMBER_WIDTH[vr];
  return width ? new Uint8Array(width) : encodeText(vr, ['0']); // DS, IS: "0"
}

function header(tag: number, vr: string, length: number, explicit: boolean): Uint8Array {
  const long = !explicit || LONG_VRS.has(vr);
  if (explicit && !long && length > 0xffff) throw new FastPathUnsupported('value too long for its VR');
  const h = new Uint8Array(explicit && long ? 12 : 8);
  const v = new DataView(h.buffer);
  v.setUint16(0, tag >>> 16, true);
  v.setUint16(2, tag & 0xffff, true);
  if (!explicit) {
    v.setUint32(4, length >>> 0, true);
    return h;
  }
  h[4] = vr.charCodeAt(0);
  h[5] = vr.charCodeAt(1);
  if (long) v.setUint32(8, length >>> 0, true);
  else v.setUint16(6, length, true);
  return h;
}

const ITEM_UNDEFINED = new Uint8Array([0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
const ITEM_DELIMITER = new Uint8Array([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
const SEQ_DELIMITER = new Uint8Array([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);

/** Encodes an added attribute (sequences with defined lengths). */
function encodeAdded(a: AddedAttribute, explicit: boolean, out: Uint8Array[]): number {
  const tag = parseInt(a.tag, 16);
  if (a.vr === 'SQ') {
    const body: Uint8Array[] = [];
    let len = 0;
    for (const item of a.items ?? []) {
      const inner: Uint8Array[] = [];
      let n = 0;
      for (const x of item) n += encodeAdded(x, explicit, inner);
      const h = new Uint8Array(8);
      const v = new DataView(h.buffer);
      v.setUint16(0, 0xfffe, true);
      v.setUint16(2, 0xe000, true);
      v.setUint32(4, n, true);
      body.push(h, ...inner);
      len += 8 + n;
    }
    const h = header(tag, 'SQ', len, explicit);
    out.push(h, ...body);
    return h.length + len;
  }
  const value = encodeText(a.vr, a.values);
  const h = header(tag, a.vr, value.length, explicit);
  out.push(h, value);
  return h.length + value.length;
}

interface Header {
  tag: number;
  vr: string;
  valueStart: number;
  length: number;
}

const INPUT_CAPTURE = new Set([0x00080016, 0x00080060, 0x00280301]);
const OUTPUT_CAPTURE = new Set([0x00080018, 0x00080060, 0x00080070, 0x00081090, 0x00280010, 0x00280011]);

class ByteDeidentifier {
  private readonly view: DataView;
  /** Output slices of the data set (without Pixel Data). */
  out: Uint8Array[] = [];
  private changed = false;
  readonly inputValues = new Map<number, { vr: string; value: Uint8Array }>();
  readonly outputValues = new Map<number, { vr: string; value: Uint8Array }>();
  pixel: { start: number; end: number } | null = null;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly explicit: boolean,
    private readonly engine: RuleEngine,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(offset: number, n: number, limit = this.bytes.length): void {
    if (offset < 0 || offset + n > limit) throw new FastPathUnsupported('truncated data');
  }

  tagAt(p: number): number {
    this.need(p, 4);
    return ((this.view.getUint16(p, true) << 16) | this.view.getUint16(p + 2, true)) >>> 0;
  }

  header(p: number): Header {
    const tag = this.tagAt(p);
    this.need(p, 8);
    if (!this.explicit || tag >>> 16 === 0xfffe) {
      const length = this.view.getUint32(p + 4, true);
      return { tag, vr: tag >>> 16 === 0xfffe ? '' : implicitVr(tag, length), valueStart: p + 8, length };
    }
    const vr = String.fromCharCode(this.bytes[p + 4]!, this.bytes[p + 5]!);
    if (!KNOWN_VRS.has(vr)) throw new FastPathUnsupported('unknown VR');
    if (LONG_VRS.has(vr)) {
      this.need(p, 12);
      return { tag, vr, valueStart: p + 12, length: this.view.getUint32(p + 8, true) };
    }
    return { tag, vr, valueStart: p + 8, length: this.view.getUint16(p + 6, true) };
  }

  /** End of an undefined-length non-SQ value (encapsulated fragments of defined length). */
  private skipFragments(p: number): number {
    for (;;) {
      const h = this.header(p);
      if (h.tag === SEQ_END) return h.valueStart;
      if (h.tag !== ITEM || h.length === UNDEFINED) throw new FastPathUnsupported('malformed fragments');
      this.need(h.valueStart, h.length);
      p = h.valueStart + h.length;
    }
  }

  private emit(chunk: Uint8Array): void {
    this.out.push(chunk);
  }

  private emitValue(tag: number, vr: string, value: Uint8Array, top: boolean): void {
    this.changed = true;
    this.emit(header(tag, vr, value.length, this.explicit));
    if (value.length) this.emit(value);
    if (top && OUTPUT_CAPTURE.has(tag)) this.outputValues.set(tag, { vr, value });
  }

  /** Walks the items of a sequence (value at h.valueStart); returns the offset after it. */
  private sequence(h: Header): number {
    const defined = h.length !== UNDEFINED;
    const limit = defined ? h.valueStart + h.length : this.bytes.length;
    if (defined) this.need(h.valueStart, h.length);
    let p = h.valueStart;
    for (;;) {
      if (defined && p >= limit) return p;
      const ih = this.header(p);
      if (!defined && ih.tag === SEQ_END) return ih.valueStart;
      if (ih.tag !== ITEM) throw new FastPathUnsupported('malformed sequence');
      this.emit(ITEM_UNDEFINED);
      if (ih.length === UNDEFINED) {
        p = this.dataset(ih.valueStart, limit, true, false);
      } else {
        this.need(ih.valueStart, ih.length, limit);
        const end = ih.valueStart + ih.length;
        if (this.dataset(ih.valueStart, end, false, false) !== end) throw new FastPathUnsupported('malformed item');
        p = end;
      }
      this.emit(ITEM_DELIMITER);
    }
  }

  /** Offset just past the element with header h (sequences and fragments skipped, not walked). */
  private elementEnd(h: Header, limit: number): number {
    if (h.length !== UNDEFINED) {
      this.need(h.valueStart, h.length, limit);
      return h.valueStart + h.length;
    }
    if (h.vr === 'SQ') return this.skipItems(h.valueStart);
    if (h.vr === 'OB' || h.vr === 'OW') return this.skipFragments(h.valueStart);
    throw new FastPathUnsupported('undefined length');
  }

  /** Skips the items of an undefined-length sequence; returns the offset after its delimiter. */
  private skipItems(p: number): number {
    for (;;) {
      const ih = this.header(p);
      if (ih.tag === SEQ_END) return ih.valueStart;
      if (ih.tag !== ITEM) throw new FastPathUnsupported('malformed sequence');
      if (ih.length !== UNDEFINED) {
        this.need(ih.valueStart, ih.length);
        p = ih.valueStart + ih.length;
        continue;
      }
      p = ih.valueStart;
      while (this.tagAt(p) !== ITEM_END) p = this.skip(p);
      p += 8;
    }
  }

  /** Offset just past the element at p, without de-identifying it. */
  skip(p: number, limit = this.bytes.length): number {
    const h = this.header(p);
    if (h.tag >>> 16 === 0xfffe) throw new FastPathUnsupported('unexpected delimiter');
    return this.elementEnd(h, limit);
  }

  private strings(h: Header, end: number): string[] {
    return textValues(h.vr, this.bytes.subarray(h.valueStart, end));
  }

  /**
   * Walks a data set from p to `limit` (or to the Item Delimitation Item when `delimited`),
   * emitting the de-identified elements; returns the offset after it (after the delimiter).
   */
  dataset(p: number, limit: number, delimited: boolean, top: boolean, added?: AddedAttribute[]): number {
    const engine = this.engine;
    let prev = -1;
    let pending = 0;
    const flushAdded = (before: number): void => {
      while (added && pending < added.length && parseInt(added[pending]!.tag, 16) < before) {
        this.changed = true;
        encodeAdded(added[pending]!, this.explicit, this.out);
        pending++;
      }
    };
    for (;;) {
      if (!delimited && p + (top ? 8 : 1) > limit) break;
      const tag = this.tagAt(p);
      if (delimited && tag === ITEM_END) {
        p += 8;
        break;
      }
      if (tag >>> 16 === 0xfffe || tag >>> 16 === 0x0002) throw new FastPathUnsupported('unexpected tag');
      if (tag <= prev) throw new FastPathUnsupported('tags out of order');
      prev = tag;
      const h = this.header(p);
      if (!this.explicit && h.length === UNDEFINED && h.vr !== 'SQ' && tag !== PIXEL) throw new FastPathUnsupported('undefined length');
      if (this.explicit && h.vr === 'UN' && (tag >>> 16) % 2 === 0 && dictionaryVr(tag) !== null && dictionaryVr(tag) !== 'UN') {
        throw new FastPathUnsupported('explicit UN for a standard attribute');
      }
      const tagStr = tagHex(tag);

      if (top) {
        if (INPUT_CAPTURE.has(tag) && h.length !== UNDEFINED) {
          this.need(h.valueStart, h.length, limit);
          this.inputValues.set(tag, { vr: h.vr, value: this.bytes.subarray(h.valueStart, h.valueStart + h.length) });
        }
        if (tag > PIXEL) {
          // What follows Pixel Data at top level (signatures, padding) is X in the profile.
          p = this.elementEnd(h, limit);
          if ((tag >>> 16) % 2 === 1) engine.report.privateRemoved++;
          else engine.report.removed++;
          this.changed = true;
          continue;
        }
        flushAdded(tag);
        if (tag === PIXEL) {
          const end = this.elementEnd(h, limit);
          this.pixel = { start: p, end };
          p = end;
          continue;
        }
        if (tag === PATIENT_ID || tag === PATIENT_NAME) {
          p = this.elementEnd(h, limit);
          this.changed = true;
          continue;
        }
        if (added && pending < added.length && added[pending]!.tag === tagStr) {
          // Replaced by the added attribute: de-identified (and counted) as usual, then discarded.
          const mark = this.out.length;
          p = this.element(h, p, limit, tagStr, false);
          this.out.length = mark;
          continue;
        }
      }
      p = this.element(h, p, limit, tagStr, top);
    }
    if (top) flushAdded(0x100000000);
    return p;
  }

  /** De-identifies one element (header h at p); returns the offset after it. */
  private element(h: Header, p: number, limit: number, tagStr: string, top: boolean): number {
    const engine = this.engine;
    const { tag, vr } = h;
    const d = engine.decide(tagStr, vr);
    switch (d) {
      case 'REMOVE':
        this.changed = true;
        return this.elementEnd(h, limit);
      case 'EMPTY': {
        const end = this.elementEnd(h, limit);
        this.emitValue(tag, vr, new Uint8Array(0), top);
        return end;
      }
      case 'KEEP': {
        const end = this.elementEnd(h, limit);
        if ((tag & 0xffff) === 0 && !(vr === 'SQ')) {
          this.changed = true; // group length (retired): dropped
          return end;
        }
        this.emit(this.bytes.subarray(p, end));
        if (top && OUTPUT_CAPTURE.has(tag) && h.length !== UNDEFINED) {
          this.outputValues.set(tag, { vr, value: this.bytes.subarray(h.valueStart, end) });
        }
        return end;
      }
      case 'ITEMS': {
        if (vr !== 'SQ') throw new FastPathUnsupported('items of a non-sequence');
        const mark = this.out.length;
        const outer = this.changed;
        this.changed = false;
        this.emit(header(tag, 'SQ', UNDEFINED, this.explicit));
        const end = this.sequence(h);
        if (this.changed) {
          this.emit(SEQ_DELIMITER);
        } else {
          this.out.length = mark;
          this.emit(this.bytes.subarray(p, end));
        }
        this.changed = this.changed || outer;
        return end;
      }
      default:
        break;
    }
    if (h.length === UNDEFINED) throw new FastPathUnsupported('undefined length value');
    const end = this.elementEnd(h, limit);
    let value: Uint8Array;
    switch (d) {
      case 'PATIENT_ID': {
        const first = this.strings(h, end)[0];
        value = encodeText(vr, [engine.patientId(first === undefined ? '' : first)]);
        break;
      }
      case 'SHIFT':
        value = encodeText(vr, engine.shift(vr, this.strings(h, end)));
        break;
      case 'CLEAN':
        value = encodeText(vr, engine.clean(this.strings(h, end)));
        break;
      case 'REMAP':
        value = encodeText(vr, engine.remap(this.strings(h, end)));
        break;
      case 'DUMMY':
        value = encodeDummy(vr, engine.dummy(vr));
        break;
      case 'NORMALISE': {
        const out = engine.normalise(vr, this.strings(h, end));
        if (!out) {
          this.emit(this.bytes.subarray(p, end));
          if (top && OUTPUT_CAPTURE.has(tag)) this.outputValues.set(tag, { vr, value: this.bytes.subarray(h.valueStart, end) });
          return end;
        }
        value = encodeText(vr, out);
        break;
      }
    }
    this.emitValue(tag, vr, value, top);
    return end;
  }
}

/** A one-element dcmjs-like data set of the captured values, for burned-in.ts. */
function asDataset(values: Map<number, { vr: string; value: Uint8Array }>): DcmjsDataset {
  const ds: DcmjsDataset = {};
  for (const [tag, { vr, value }] of values) {
    if (vr === 'US') {
      ds[tagHex(tag)] = { vr, Value: value.length >= 2 ? [value[0]! | (value[1]! << 8)] : [] };
    } else {
      ds[tagHex(tag)] = { vr, Value: textValues(vr, value) };
    }
  }
  return ds;
}

function concatInto(out: Uint8Array, parts: readonly Uint8Array[], offset: number): number {
  let o = offset;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return o;
}

/**
 * De-identifies a prepared Part-10 input at byte level. Throws FastPathUnsupported (or
 * RangeError) when the file needs the dcmjs path.
 */
export function deidentifyFast(prepared: PreparedInput, secret: string, projectId: string, settings: DeidSettings): FastResult {
  const bytes = prepared.bytes;
  const syntax = prepared.syntax;
  const explicit = syntax !== IMPLICIT_LE;

  // File meta (always Explicit VR Little Endian).
  const scanEngine = new RuleEngine(secret, projectId, settings, 0);
  const metaWalker = new ByteDeidentifier(bytes, true, scanEngine);
  const metaElements: { tag: number; start: number; end: number }[] = [];
  let p = 132;
  while (p + 8 <= bytes.length && metaWalker.tagAt(p) >>> 16 === 0x0002) {
    const h = metaWalker.header(p);
    if (h.length === UNDEFINED) throw new FastPathUnsupported('undefined length in file meta');
    const end = h.valueStart + h.length;
    if (end > bytes.length) throw new FastPathUnsupported('truncated file meta');
    metaElements.push({ tag: h.tag, start: p, end });
    p = end;
  }
  const datasetStart = p;

  // The original PatientID (for the pseudonym and the date offset) precedes everything it affects.
  const scan = new ByteDeidentifier(bytes, explicit, scanEngine);
  let originalPatientId = '';
  for (let q = datasetStart; q + 8 <= bytes.length; ) {
    const h = scan.header(q);
    if (h.tag > PATIENT_ID) break;
    if (h.tag === PATIENT_ID) {
      if (h.length === UNDEFINED || h.valueStart + h.length > bytes.length) throw new FastPathUnsupported('malformed PatientID');
      const first = textValues(h.vr, bytes.subarray(h.valueStart, h.valueStart + h.length))[0] ?? '';
      originalPatientId = first.replace(/[\0 ]+$/, '').trim();
      break;
    }
    q = scan.skip(q);
  }

  const engine = new RuleEngine(secret, projectId, settings, dayOffset(secret, projectId, originalPatientId));
  const walker = new ByteDeidentifier(bytes, explicit, engine);
  const added = addedAttributes(settings, engine.pseudonym(originalPatientId));
  walker.dataset(datasetStart, bytes.length, false, true, added);
  engine.report.replaced += 2;

  // File meta: systems named are removed; the rest kept; identifiers and syntax rewritten.
  const sop = walker.outputValues.get(0x00080018);
  const sopUid = sop ? (textValues('UI', sop.value)[0] ?? '') : '';
  const meta = new Map<number, Uint8Array>();
  const removeMeta = new Set(META_REMOVE.map((t) => parseInt(t, 16)));
  for (const m of metaElements) {
    if (m.tag === 0x00020000) continue;
    if (removeMeta.has(m.tag)) {
      engine.report.removed++;
      continue;
    }
    meta.set(m.tag, bytes.subarray(m.start, m.end));
  }
  const metaElement = (tag: number, vr: string, value: Uint8Array): Uint8Array => {
    const h = header(tag, vr, value.length, true);
    const out = new Uint8Array(h.length + value.length);
    out.set(h);
    out.set(value, h.length);
    return out;
  };
  meta.set(0x00020012, metaElement(0x00020012, 'UI', encodeText('UI', [CALIPER_IMPLEMENTATION_CLASS_UID])));
  meta.set(0x00020013, metaElement(0x00020013, 'SH', encodeText('SH', [IMPLEMENTATION_VERSION])));
  if (sopUid) meta.set(0x00020003, metaElement(0x00020003, 'UI', encodeText('UI', [sopUid])));
  else meta.delete(0x00020003);
  meta.set(0x00020010, metaElement(0x00020010, 'UI', encodeText('UI', [syntax])));
  if (!meta.has(0x00020001)) meta.set(0x00020001, metaElement(0x00020001, 'OB', new Uint8Array([0, 1])));
  const metaParts = [...meta.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  const metaLength = metaParts.reduce((n, m) => n + m.length, 0);
  const groupLength = new Uint8Array(4);
  new DataView(groupLength.buffer).setUint32(0, metaLength, true);
  const metaHead = metaElement(0x00020000, 'UL', groupLength);

  const dataLength = walker.out.reduce((n, m) => n + m.length, 0);
  const pixel = walker.pixel ? bytes.subarray(walker.pixel.start, walker.pixel.end) : new Uint8Array(0);
  // One allocation, not zero-filled: every byte is written below (the preamble explicitly).
  const total = 132 + metaHead.length + metaLength + dataLength + pixel.length;
  const raw = Buffer.allocUnsafeSlow(total);
  const out = new Uint8Array(raw.buffer, raw.byteOffset, total);
  out.fill(0, 0, 128);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  let o = 132;
  out.set(metaHead, o);
  o += metaHead.length;
  o = concatInto(out, metaParts, o);
  o = concatInto(out, walker.out, o);
  out.set(pixel, o);
  if (o + pixel.length !== total) throw new FastPathUnsupported('internal: output size mismatch');

  // Self-check: the output's own layout must hold the identical Pixel Data element at its end.
  const check = topLevelLayout(out, explicit);
  const span = check.pixelData;
  const same = walker.pixel === null ? span === null : span !== null && span.end - span.start === pixel.length && span.end === out.length;
  if (!same) throw new FastPathUnsupported('Pixel Data could not be carried over unchanged');

  const inputDs = asDataset(walker.inputValues);
  const outputDs = asDataset(walker.outputValues);
  return {
    bytes: out,
    report: engine.report,
    burnedIn: assessBurnedIn(inputDs, walker.pixel !== null),
    image: imageIdentity(outputDs),
    transferSyntax: syntax,
  };
}
