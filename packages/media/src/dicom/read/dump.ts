/**
 * A tag-by-tag listing of a parsed DICOM data set (like OHIF's tag browser or `dcmdump`): every
 * element with its tag, VR, dictionary keyword and a display value; sequences as nested items;
 * bulk binary data (pixel data, overlays, OB/OW/UN ...) summarised by its size. Text is decoded
 * with the Specific Character Set in effect (inherited into sequence items).
 */
import { dcmjsLib } from '../deid/dcmjs-lazy.js';
import { type CharacterSet, characterSetOf, decodeText } from './charset.js';
import type { DataSet, Element } from './parser.js';
import { TRANSFER_SYNTAX, type DicomInstance } from './read.js';

export interface HeaderElement {
  /** `(GGGG,EEEE)`, upper-case hex. */
  tag: string;
  /** As written (explicit VR) or from the data dictionary (implicit VR); `UN` when unknown. */
  vr: string;
  /** Dictionary keyword (e.g. `PatientName`), `PrivateCreator`, `GroupLength`, or '' when unknown. */
  name: string;
  /** Display value; null for sequences (see `items`). Multiple values are separated by `\`. */
  value: string | null;
  /** Sequence items, each a list of elements. */
  items?: HeaderElement[][];
}

export interface HeaderDump {
  elements: HeaderElement[];
  /** Elements listed, at every depth. */
  count: number;
  /** True when the listing stopped at `maxElements` or `maxDepth`. */
  truncated: boolean;
}

export interface DumpOptions {
  /** Stop after this many elements, counted at every depth (default 5000). */
  maxElements?: number;
  /** Longer values are cut to this many characters, the last being `…` (default 1000). */
  maxValueLength?: number;
  /** Sequences nested deeper than this are listed without their items (default 32). */
  maxDepth?: number;
  /** Numeric VRs list at most this many values before `…` (default 256). */
  maxNumbers?: number;
}

const STRING_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'TM', 'UI', 'UR']);
const TEXT_VRS = new Set(['SH', 'LO', 'ST', 'LT', 'UT', 'PN', 'UC']);
const NUMBER_SIZE: Record<string, number> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, SV: 8, UV: 8, AT: 4 };
const EDGE_WHITESPACE = /^[ \t\r\n\f\v]+|[ \t\r\n\f\v]+$/gu;

interface DictEntry {
  vr?: string;
  name?: string;
}

let dictionary: Record<string, DictEntry | undefined> | null = null;

function dict(): Record<string, DictEntry | undefined> {
  dictionary ??= dcmjsLib().data.DicomMetaDictionary.dictionary as Record<string, DictEntry | undefined>;
  return dictionary;
}

/** `x0010a010` → `(0010,A010)`. */
export function formatTag(tag: string): string {
  const t = tag.replace(/^x/u, '').toUpperCase().padStart(8, '0');
  return `(${t.slice(0, 4)},${t.slice(4, 8)})`;
}

/** The dictionary entry of a tag, including the repeating groups 50xx and 60xx. */
function lookup(tag: string): { name: string; vr: string | undefined } {
  const group = Number.parseInt(tag.slice(1, 5), 16);
  const element = Number.parseInt(tag.slice(5, 9), 16);
  if (group % 2 === 1) {
    if (element === 0) return { name: 'GroupLength', vr: 'UL' };
    if (element >= 0x0010 && element <= 0x00ff) return { name: 'PrivateCreator', vr: 'LO' };
    return { name: '', vr: undefined };
  }
  const key = formatTag(tag);
  let entry = dict()[key];
  if (entry === undefined && (group & 0xff00) === 0x5000) entry = dict()[`(50xx,${key.slice(6, 10)}`] ?? dict()[`(5000,${key.slice(6, 10)}`];
  if (entry === undefined && (group & 0xff00) === 0x6000) entry = dict()[`(60xx,${key.slice(6, 10)}`] ?? dict()[`(6000,${key.slice(6, 10)}`];
  if (entry === undefined && element === 0) return { name: 'GroupLength', vr: 'UL' };
  return { name: entry?.name ?? '', vr: entry?.vr };
}

interface Context {
  bigEndian: boolean;
  signedPixels: boolean;
  maxElements: number;
  maxValueLength: number;
  maxDepth: number;
  maxNumbers: number;
  count: number;
  truncated: boolean;
}

/** The VR to show and interpret with: explicit when present, else the dictionary's (ambiguous ones resolved). */
function vrOf(element: Element, dictVr: string | undefined, ctx: Context): string {
  if (element.vr !== undefined && /^[A-Z]{2}$/u.test(element.vr)) return element.vr;
  if (element.items !== undefined) return 'SQ';
  switch (dictVr) {
    case undefined:
    case 'na':
      return 'UN';
    case 'ox':
    case 'lt':
      return 'OW';
    case 'xs':
      return ctx.signedPixels ? 'SS' : 'US';
    default:
      return /^[A-Z]{2}$/u.test(dictVr) ? dictVr : 'UN';
  }
}

function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  return `${value.slice(0, Math.max(0, max - 1))}…`;
}

function bytesOf(dataSet: DataSet, element: Element): Uint8Array {
  const start = element.dataOffset;
  const end = Math.min(start + Math.max(0, element.length), dataSet.byteArray.length);
  return start < end ? dataSet.byteArray.subarray(start, end) : new Uint8Array(0);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function numbers(bytes: Uint8Array, vr: string, littleEndian: boolean, maxNumbers: number): string {
  const size = NUMBER_SIZE[vr]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Math.floor(bytes.byteLength / size);
  const out: string[] = [];
  for (let i = 0; i < Math.min(n, maxNumbers); i++) {
    const o = i * size;
    switch (vr) {
      case 'US':
        out.push(String(view.getUint16(o, littleEndian)));
        break;
      case 'SS':
        out.push(String(view.getInt16(o, littleEndian)));
        break;
      case 'UL':
        out.push(String(view.getUint32(o, littleEndian)));
        break;
      case 'SL':
        out.push(String(view.getInt32(o, littleEndian)));
        break;
      case 'FL':
        out.push(String(view.getFloat32(o, littleEndian)));
        break;
      case 'FD':
        out.push(String(view.getFloat64(o, littleEndian)));
        break;
      case 'SV':
        out.push(String(view.getBigInt64(o, littleEndian)));
        break;
      case 'UV':
        out.push(String(view.getBigUint64(o, littleEndian)));
        break;
      case 'AT': {
        const g = view.getUint16(o, littleEndian);
        const e = view.getUint16(o + 2, littleEndian);
        out.push(`(${g.toString(16).padStart(4, '0')},${e.toString(16).padStart(4, '0')})`.toUpperCase());
        break;
      }
    }
  }
  if (n > maxNumbers) out.push(`… (${n} values)`);
  return out.join('\\');
}

function valueOf(dataSet: DataSet, element: Element, tag: string, vr: string, charset: CharacterSet, ctx: Context): string {
  if (element.encapsulatedPixelData) {
    const fragments = element.fragments ?? [];
    const total = fragments.reduce((n, f) => n + f.length, 0);
    return `<${plural(total, 'byte')}, encapsulated in ${plural(fragments.length, 'fragment')}>`;
  }
  if (element.length === 0xffffffff) return '<undefined length>';
  const bytes = bytesOf(dataSet, element);
  if (bytes.byteLength === 0) return '';
  if (TEXT_VRS.has(vr)) {
    const nul = bytes.indexOf(0);
    // Trailing spaces pad the value; leading ones (and line breaks) are part of it.
    return decodeText(nul === -1 ? bytes : bytes.subarray(0, nul), charset, vr).replace(/ +$/u, '');
  }
  if (STRING_VRS.has(vr)) {
    let s = '';
    // Default repertoire (ASCII); bytes outside it are shown as latin1 rather than dropped.
    for (const b of bytes) s += String.fromCharCode(b);
    return s.replace(/\0+$/u, '').replace(EDGE_WHITESPACE, '');
  }
  if (vr in NUMBER_SIZE) {
    const group = Number.parseInt(tag.slice(1, 5), 16);
    // The File Meta Information is always little endian.
    return numbers(bytes, vr, group === 0x0002 || !ctx.bigEndian, ctx.maxNumbers);
  }
  return `<${plural(bytes.byteLength, 'byte')}>`;
}

function dumpDataSet(dataSet: DataSet, charset: CharacterSet, depth: number, ctx: Context, skipMeta = false): HeaderElement[] {
  const out: HeaderElement[] = [];
  const tags = Object.keys(dataSet.elements)
    // Item and sequence delimiters (FFFE,E00D / E0DD) are structure, not data, though the parser may keep them.
    .filter((t) => !t.startsWith('xfffe') && (!skipMeta || !t.startsWith('x0002')))
    .sort();
  for (const tag of tags) {
    if (ctx.count >= ctx.maxElements) {
      ctx.truncated = true;
      break;
    }
    const element = dataSet.elements[tag]!;
    const { name, vr: dictVr } = lookup(tag);
    const vr = vrOf(element, dictVr, ctx);
    ctx.count++;
    if ((element.items !== undefined && !element.encapsulatedPixelData) || (vr === 'SQ' && element.length === 0)) {
      const row: HeaderElement = { tag: formatTag(tag), vr, name, value: null, items: [] };
      out.push(row);
      if (depth >= ctx.maxDepth) {
        ctx.truncated = true;
        continue;
      }
      for (const item of element.items ?? []) {
        if (ctx.count >= ctx.maxElements) {
          ctx.truncated = true;
          break;
        }
        const itemSet = item.dataSet;
        row.items!.push(itemSet ? dumpDataSet(itemSet, characterSetOf(itemSet, charset), depth + 1, ctx) : []);
      }
      continue;
    }
    out.push({ tag: formatTag(tag), vr, name, value: clip(valueOf(dataSet, element, tag, vr, charset, ctx), ctx.maxValueLength) });
  }
  return out;
}

/** Lists every element of a parsed instance (File Meta Information included), sorted by tag at each level. */
export function dumpDicom(instance: DicomInstance, options: DumpOptions = {}): HeaderDump {
  const ctx: Context = {
    bigEndian: instance.transferSyntaxUID === TRANSFER_SYNTAX.explicitBig,
    signedPixels: instance.pixelRepresentation === 1,
    maxElements: options.maxElements ?? 5000,
    maxValueLength: Math.max(1, options.maxValueLength ?? 1000),
    maxDepth: options.maxDepth ?? 32,
    maxNumbers: Math.max(1, options.maxNumbers ?? 256),
    count: 0,
    truncated: false,
  };
  // A bare data set has no File Meta Information: the parser's stand-in Transfer Syntax UID is not listed.
  const elements = dumpDataSet(instance.dataSet, instance.characterSet, 0, ctx, instance.encoding === 'raw-dataset');
  return { elements, count: ctx.count, truncated: ctx.truncated };
}
