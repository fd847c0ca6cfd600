/**
 * Decoding of DICOM text values according to Specific Character Set (0008,0005),
 * PS3.5 §6.1 and Annexes H (Japanese), I (Korean) and J (Chinese), PS3.3 C.12.1.1.2.
 *
 * Single-byte repertoires, ISO 2022 code extensions (escape sequences designating G0/G1) and the
 * stand-alone multi-byte encodings (UTF-8, GB18030, GBK) are supported. Multi-byte ISO 2022 sets
 * are converted to their EUC form and decoded with `TextDecoder` (EUC-JP for JIS X 0208/0212,
 * EUC-KR for KS X 1001, GBK for GB 2312).
 */
import type { DataSet } from './parser.js';

/** The text VRs whose values are decoded with Specific Character Set; others use the default repertoire. */
export const TEXT_VRS: ReadonlySet<string> = new Set(['SH', 'LO', 'ST', 'LT', 'UT', 'PN', 'UC']);

/** Text VRs that hold exactly one value, so `\` is an ordinary character rather than a delimiter. */
const SINGLE_VALUED_TEXT_VRS: ReadonlySet<string> = new Set(['ST', 'LT', 'UT']);

/**
 * The public PN attributes (PS3.6), used to apply the PN delimiter rules when the VR is not in the
 * data (implicit VR transfer syntax).
 */
const PN_TAGS: ReadonlySet<string> = new Set(
  (
    '00080090 0008009c 00081048 00081050 00081060 00081070 00100010 00101001 00101005 00101060 ' +
    '00102297 00140104 00142006 00321032 00400006 00401010 00402008 00404037 0040a067 0040a075 ' +
    '0040a123 0040a307 0040a352 00700084 0072006a 300600a6 300e0008 40080102 4008010a 4008010c ' +
    '40080114 40080119'
  )
    .split(' ')
    .map((tag) => `x${tag}`),
);

const SPECIFIC_CHARACTER_SET = 'x00080005';
const ESC = 0x1b;

/** G0 code elements (bytes 0x21–0x7E). JIS X 0201 Romaji is decoded as ASCII, as pydicom does. */
type G0Set = 'ascii' | 'jisx0208' | 'jisx0212';
/** G1 code elements (bytes 0xA0–0xFF): an ISO 8859 upper half, JIS X 0201 Katakana, or a 94² set. */
type G1Set = { kind: 'single'; label: string } | { kind: 'katakana' } | { kind: 'ksx1001' } | { kind: 'gb2312' };

interface Term {
  readonly g0: G0Set;
  readonly g1: G1Set | undefined;
}

type StandAlone = 'utf-8' | 'gb18030' | 'gbk';

/** The decoded form of (0008,0005). */
export interface CharacterSet {
  /** The defined terms as written (value 1 empty means the default repertoire). */
  readonly terms: readonly string[];
  /** True when a term was not recognised and ISO 8859-1 (latin1) was used in its place. */
  readonly fallback: boolean;
  /** Human-readable notes: unknown terms, corrected spellings, ignored code extensions. */
  readonly warnings: readonly string[];
  /** A stand-alone encoding (no code extensions), or undefined for ISO 2022 / single-byte sets. */
  readonly standAlone: StandAlone | undefined;
  /** Initial G0 and G1, from value 1. */
  readonly initial: Term;
}

const latin1Upper = (label: string): Term => ({ g0: 'ascii', g1: { kind: 'single', label } });

/** Defined terms, keyed by the ISO IR number shared by the `ISO_IR n` and `ISO 2022 IR n` forms. */
const SINGLE_BYTE: Readonly<Record<string, Term>> = {
  '6': { g0: 'ascii', g1: undefined },
  '100': latin1Upper('iso-8859-1'),
  '101': latin1Upper('iso-8859-2'),
  '109': latin1Upper('iso-8859-3'),
  '110': latin1Upper('iso-8859-4'),
  '144': latin1Upper('iso-8859-5'),
  '127': latin1Upper('iso-8859-6'),
  '126': latin1Upper('iso-8859-7'),
  '138': latin1Upper('iso-8859-8'),
  '148': latin1Upper('iso-8859-9'),
  '166': latin1Upper('iso-8859-11'),
  '203': latin1Upper('iso-8859-15'),
  '13': { g0: 'ascii', g1: { kind: 'katakana' } },
};

/** Multi-byte sets only valid with code extensions (`ISO 2022 IR n`). */
const MULTI_BYTE: Readonly<Record<string, Term>> = {
  '87': { g0: 'ascii', g1: undefined },
  '159': { g0: 'ascii', g1: undefined },
  '149': { g0: 'ascii', g1: { kind: 'ksx1001' } },
  '58': { g0: 'ascii', g1: { kind: 'gb2312' } },
};

const STAND_ALONE: Readonly<Record<string, StandAlone>> = {
  'ISO_IR 192': 'utf-8',
  GB18030: 'gb18030',
  GBK: 'gbk',
  'ISO 2022 GBK': 'gbk',
};

const DEFAULT_TERM = SINGLE_BYTE['6'] as Term;
const LATIN1_TERM = SINGLE_BYTE['100'] as Term;

interface Resolved {
  term?: Term;
  standAlone?: StandAlone;
  corrected?: string;
}

function resolveExact(term: string): Resolved | undefined {
  if (term === '') return { term: DEFAULT_TERM };
  const standAlone = STAND_ALONE[term];
  if (standAlone !== undefined) return { standAlone };
  if (term === 'ISO 2022 58') return { term: MULTI_BYTE['58'] as Term };
  const single = /^ISO_IR (\d+)$/u.exec(term);
  if (single !== null) {
    const found = SINGLE_BYTE[single[1] as string];
    return found === undefined ? undefined : { term: found };
  }
  const extended = /^ISO 2022 IR (\d+)$/u.exec(term);
  if (extended !== null) {
    const number = extended[1] as string;
    const found = SINGLE_BYTE[number] ?? MULTI_BYTE[number];
    return found === undefined ? undefined : { term: found };
  }
  return undefined;
}

/** Accepts the common misspellings pydicom accepts (`ISO-IR 100`, `ISO_IR_100`, `ISO2022 IR 87`, …). */
function resolve(raw: string): Resolved | undefined {
  const term = raw.trim();
  const exact = resolveExact(term);
  if (exact !== undefined) return exact;
  const upper = term.toUpperCase();
  const candidates = [
    upper.replace(/^ISO[ _-]?IR[ _-]?(\d+)$/u, 'ISO_IR $1'),
    upper.replace(/^ISO[ _-]?2022[ _-]?IR[ _-]?(\d+)$/u, 'ISO 2022 IR $1'),
    upper.replace(/^ISO[ _-]?IR[ _-]?192$/u, 'ISO_IR 192'),
    upper.replace(/^GB[ _-]?18030$/u, 'GB18030'),
  ];
  for (const candidate of candidates) {
    const found = resolveExact(candidate);
    if (found !== undefined) return { ...found, corrected: candidate };
  }
  return undefined;
}

/**
 * Interprets the values of Specific Character Set. An absent or empty value means the default
 * repertoire; an unknown term is replaced by ISO 8859-1 with a warning rather than an exception.
 */
export function parseSpecificCharacterSet(value: string | readonly string[] | undefined): CharacterSet {
  const terms = (typeof value === 'string' ? value.split('\\') : (value ?? [])).map((term) => term.trim());
  while (terms.length > 1 && terms[terms.length - 1] === '') terms.pop();
  const warnings: string[] = [];
  let fallback = false;
  const resolved = terms.map((term) => {
    const found = resolve(term);
    if (found === undefined) {
      fallback = true;
      warnings.push(`Unknown Specific Character Set term "${term}"; decoding as ISO 8859-1.`);
      return { term: LATIN1_TERM };
    }
    if (found.corrected !== undefined) {
      warnings.push(`Incorrect Specific Character Set term "${term}"; assuming "${found.corrected}".`);
    }
    return found;
  });
  const first = resolved[0];
  if (first?.standAlone !== undefined) {
    if (resolved.length > 1) {
      warnings.push(`Specific Character Set "${terms[0] ?? ''}" does not allow code extensions; ignoring the rest.`);
    }
    return { terms, fallback, warnings, standAlone: first.standAlone, initial: DEFAULT_TERM };
  }
  if (resolved.slice(1).some((entry) => entry.standAlone !== undefined)) {
    warnings.push('A stand-alone character set (UTF-8, GB18030, GBK) cannot be a code extension; ignoring it.');
  }
  return { terms, fallback, warnings, standAlone: undefined, initial: first?.term ?? DEFAULT_TERM };
}

/** Reads (0008,0005) from `dataSet`; a sequence item without its own inherits `inherited`. */
export function characterSetOf(dataSet: DataSet, inherited?: CharacterSet): CharacterSet {
  const element = dataSet.elements[SPECIFIC_CHARACTER_SET];
  if (element === undefined || element.length === 0) return inherited ?? parseSpecificCharacterSet(undefined);
  const bytes = elementBytes(dataSet, SPECIFIC_CHARACTER_SET);
  let text = '';
  for (const byte of bytes ?? []) text += String.fromCharCode(byte);
  return parseSpecificCharacterSet(text.replace(/\0+$/u, ''));
}

// ---------------------------------------------------------------------------------------------
// Decoding

const decoders = new Map<string, TextDecoder>();

function decoder(label: string): TextDecoder {
  let found = decoders.get(label);
  if (found === undefined) {
    found = new TextDecoder(label, { ignoreBOM: true });
    decoders.set(label, found);
  }
  return found;
}

const upperHalves = new Map<string, string[]>();

/**
 * Characters for bytes 0x80–0xFF of an ISO 8859 part. 0x80–0x9F are the C1 controls in every
 * part; WHATWG maps some labels to Windows code pages, which agree with ISO 8859 from 0xA0 up.
 */
function upperHalf(label: string): string[] {
  let table = upperHalves.get(label);
  if (table === undefined) {
    const high = decoder(label).decode(Uint8Array.from({ length: 0x60 }, (_, i) => 0xa0 + i));
    table = [...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(0x80 + i)), ...high];
    if (table.length !== 0x80) throw new Error(`Unexpected single-byte table for ${label}.`);
    upperHalves.set(label, table);
  }
  return table;
}

interface Designation {
  g0?: G0Set;
  g1?: G1Set;
}

/** ISO 2022 escape sequences of PS3.3 Tables C.12-3 and C.12-4 (without the leading ESC). */
const ESCAPES: Readonly<Record<string, Designation>> = {
  '(B': { g0: 'ascii' },
  '(J': { g0: 'ascii' },
  '$B': { g0: 'jisx0208' },
  '$@': { g0: 'jisx0208' },
  '$(D': { g0: 'jisx0212' },
  ')I': { g1: { kind: 'katakana' } },
  '$)C': { g1: { kind: 'ksx1001' } },
  '$)A': { g1: { kind: 'gb2312' } },
  '-A': { g1: { kind: 'single', label: 'iso-8859-1' } },
  '-B': { g1: { kind: 'single', label: 'iso-8859-2' } },
  '-C': { g1: { kind: 'single', label: 'iso-8859-3' } },
  '-D': { g1: { kind: 'single', label: 'iso-8859-4' } },
  '-L': { g1: { kind: 'single', label: 'iso-8859-5' } },
  '-G': { g1: { kind: 'single', label: 'iso-8859-6' } },
  '-F': { g1: { kind: 'single', label: 'iso-8859-7' } },
  '-H': { g1: { kind: 'single', label: 'iso-8859-8' } },
  '-M': { g1: { kind: 'single', label: 'iso-8859-9' } },
  '-T': { g1: { kind: 'single', label: 'iso-8859-11' } },
  '-b': { g1: { kind: 'single', label: 'iso-8859-15' } },
};

/** The bytes after ESC up to and including the final byte (intermediates are 0x20–0x2F). */
function escapeLength(bytes: Uint8Array, start: number): number {
  let end = start + 1;
  while (end < bytes.length && (bytes[end] ?? 0) >= 0x20 && (bytes[end] ?? 0) <= 0x2f) end += 1;
  return Math.min(end + 1, bytes.length) - start;
}

/**
 * The bytes at which the initial code elements become active again (PS3.5 §6.1.2.5.3):
 * control characters, `\` between values, and `^` / `=` in person names.
 */
function delimitersFor(vr: string | undefined): ReadonlySet<number> {
  const delimiters = new Set([0x0a, 0x0c, 0x0d, 0x09]);
  if (vr === undefined || !SINGLE_VALUED_TEXT_VRS.has(vr)) delimiters.add(0x5c);
  if (vr === 'PN') {
    delimiters.add(0x5e);
    delimiters.add(0x3d);
  }
  return delimiters;
}

class Output {
  private text = '';
  private run: number[] = [];
  private runLabel: string | undefined;

  char(value: string): void {
    this.flush();
    this.text += value;
  }

  bytes(label: string, ...values: number[]): void {
    if (this.runLabel !== label) this.flush();
    this.runLabel = label;
    this.run.push(...values);
  }

  flush(): void {
    if (this.runLabel !== undefined && this.run.length > 0) {
      this.text += decoder(this.runLabel).decode(Uint8Array.from(this.run));
    }
    this.run = [];
    this.runLabel = undefined;
  }

  result(): string {
    this.flush();
    return this.text;
  }
}

function decodeIso2022(bytes: Uint8Array, charset: CharacterSet, delimiters: ReadonlySet<number>): string {
  const out = new Output();
  let g0: G0Set = charset.initial.g0;
  let g1: G1Set | undefined = charset.initial.g1;
  let i = 0;
  while (i < bytes.length) {
    const byte = bytes[i] as number;
    if (byte === ESC) {
      const length = escapeLength(bytes, i);
      let key = '';
      for (let j = i + 1; j < i + length; j += 1) key += String.fromCharCode(bytes[j] as number);
      const designation = ESCAPES[key];
      if (designation?.g0 !== undefined) g0 = designation.g0;
      if (designation?.g1 !== undefined) g1 = designation.g1;
      if (designation === undefined) out.char('\ufffd');
      i += length;
      continue;
    }
    if (byte < 0x80) {
      const next = bytes[i + 1];
      if (g0 !== 'ascii' && byte >= 0x21 && byte <= 0x7e && next !== undefined && next >= 0x21 && next <= 0x7e) {
        if (g0 === 'jisx0208') out.bytes('euc-jp', byte | 0x80, next | 0x80);
        else out.bytes('euc-jp', 0x8f, byte | 0x80, next | 0x80);
        i += 2;
        continue;
      }
      out.char(String.fromCharCode(byte));
      if (g0 === 'ascii' && delimiters.has(byte)) {
        g0 = charset.initial.g0;
        g1 = charset.initial.g1;
      }
      i += 1;
      continue;
    }
    const next = bytes[i + 1];
    if (g1?.kind === 'ksx1001' || g1?.kind === 'gb2312') {
      if (byte >= 0xa1 && byte <= 0xfe && next !== undefined && next >= 0xa1 && next <= 0xfe) {
        out.bytes(g1.kind === 'ksx1001' ? 'euc-kr' : 'gbk', byte, next);
        i += 2;
      } else {
        out.char(byte >= 0xa0 ? '\ufffd' : String.fromCharCode(byte));
        i += 1;
      }
      continue;
    }
    if (g1?.kind === 'katakana') {
      out.char(byte >= 0xa1 && byte <= 0xdf ? String.fromCharCode(0xff61 + byte - 0xa1) : '\ufffd');
    } else {
      out.char(g1 === undefined ? String.fromCharCode(byte) : (upperHalf(g1.label)[byte - 0x80] ?? '\ufffd'));
    }
    i += 1;
  }
  return out.result();
}

/**
 * Decodes the bytes of a text value (VR SH, LO, ST, LT, UT, PN or UC; `vr` undefined means a
 * multi-valued text VR) to Unicode. Escape sequences and delimiters are interpreted per PS3.5.
 */
export function decodeText(bytes: Uint8Array, charset: CharacterSet, vr?: string): string {
  if (charset.standAlone !== undefined) return decoder(charset.standAlone).decode(bytes);
  return decodeIso2022(bytes, charset, delimitersFor(vr));
}

/** The raw value bytes of `tag`, or undefined when absent or empty. */
function elementBytes(dataSet: DataSet, tag: string): Uint8Array | undefined {
  const element = dataSet.elements[tag];
  if (element === undefined || element.length === 0 || element.length === 0xffffffff) return undefined;
  const start = element.dataOffset;
  const end = Math.min(start + element.length, dataSet.byteArray.length);
  return start < end ? dataSet.byteArray.subarray(start, end) : undefined;
}

/** The VR to decode with: from the data when explicit, else PN for the public PN attributes. */
function vrOf(dataSet: DataSet, tag: string): string | undefined {
  const vr = dataSet.elements[tag]?.vr;
  if (vr !== undefined) return vr;
  return PN_TAGS.has(tag) ? 'PN' : undefined;
}

/** True when `tag` should be decoded with Specific Character Set (text VR, or VR unknown). */
export function isTextElement(dataSet: DataSet, tag: string): boolean {
  const vr = dataSet.elements[tag]?.vr;
  return vr === undefined || TEXT_VRS.has(vr);
}

const EDGE_WHITESPACE = /^[ \t\r\n\f\v]+|[ \t\r\n\f\v]+$/gu;

/**
 * The decoded value of a text element of `dataSet`, trimmed of padding and surrounding ASCII
 * whitespace (not U+3000, which is a character in Japanese names). Undefined when absent or
 * empty. Works for sequence items: pass `characterSetOf(item, parentCharacterSet)`.
 */
export function readText(dataSet: DataSet, tag: string, charset: CharacterSet): string | undefined {
  const bytes = elementBytes(dataSet, tag);
  if (bytes === undefined) return undefined;
  const nul = bytes.indexOf(0);
  const text = decodeText(nul === -1 ? bytes : bytes.subarray(0, nul), charset, vrOf(dataSet, tag)).replace(
    EDGE_WHITESPACE,
    '',
  );
  return text === '' ? undefined : text;
}
