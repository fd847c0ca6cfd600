// Parsing a Part-10 file into a naturalized dcmjs dataset, and small accessors for the shapes
// naturalized values take (sequences as arrays, numbers possibly as strings).
import type { DcmjsDataset } from 'dcmjs';
import { dcmjsLib } from '../deid/dcmjs-lazy.js';

/** A naturalized dataset or sequence item. */
export type Natural = Record<string, unknown>;

/**
 * Parses Part-10 bytes (with or without preamble handling by dcmjs) into a naturalized dataset.
 * Returns null when the bytes are not a readable DICOM file (the caller raises its own error).
 */
export function parseNatural(bytes: Uint8Array): Natural | null {
  const dcmjs = dcmjsLib();
  if (bytes.byteLength < 132) return null;
  try {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const parsed = dcmjs.data.DicomMessage.readFile(ab);
    if (parsed.dict['00080005']?.Value?.[0] === 'ISO_IR 192') fixSequenceText(parsed.dict, false);
    return dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
  } catch {
    return null;
  }
}

// dcmjs 0.51 reads the items of defined-length sequences with a fresh stream whose text decoder
// is latin1, ignoring Specific Character Set; UTF-8 text inside sequences comes out as mojibake.
// The latin1 (or windows-1252) decoding is reversible: map the characters back to bytes and
// decode those as UTF-8.
const WINDOWS_1252: Record<number, number> = {
  0x20ac: 0x80, 0x201a: 0x82, 0x0192: 0x83, 0x201e: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87, 0x02c6: 0x88, 0x2030: 0x89,
  0x0160: 0x8a, 0x2039: 0x8b, 0x0152: 0x8c, 0x017d: 0x8e, 0x2018: 0x91, 0x2019: 0x92, 0x201c: 0x93, 0x201d: 0x94, 0x2022: 0x95,
  0x2013: 0x96, 0x2014: 0x97, 0x02dc: 0x98, 0x2122: 0x99, 0x0161: 0x9a, 0x203a: 0x9b, 0x0153: 0x9c, 0x017e: 0x9e, 0x0178: 0x9f,
};
const utf8 = new TextDecoder('utf-8', { fatal: true });

function redecodeString(s: string): string {
  if (![...s].some((ch) => ch.charCodeAt(0) > 0x7f)) return s;
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const b = c <= 0xff ? c : WINDOWS_1252[c];
    if (b === undefined) return s;
    bytes[i] = b;
  }
  try {
    return utf8.decode(bytes);
  } catch {
    return s;
  }
}

function redecodeUtf8(v: unknown): unknown {
  if (typeof v === 'string') return redecodeString(v);
  if (Array.isArray(v)) return v.map(redecodeUtf8);
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !(v instanceof ArrayBuffer)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redecodeUtf8(x)]));
  }
  return v;
}

/** A sequence value as an array of items (dcmjs may give a single object for one item). */
export function items(v: unknown): Natural[] {
  if (Array.isArray(v)) return v.filter((x): x is Natural => typeof x === 'object' && x !== null);
  if (typeof v === 'object' && v !== null) return [v as Natural];
  return [];
}

/** A string attribute value (first value of a multi-valued one), or null. */
export function str(v: unknown): string | null {
  const x = Array.isArray(v) ? v[0] : v;
  if (typeof x === 'string') return x.trim() || null;
  if (typeof x === 'number') return String(x);
  return null;
}

/** A numeric attribute value (first value), or null. */
export function numberOf(v: unknown): number | null {
  const x = Array.isArray(v) ? v[0] : v;
  const n = typeof x === 'number' ? x : typeof x === 'string' && x.trim() ? Number(x) : NaN;
  return Number.isFinite(n) ? n : null;
}

/** All numeric values of a multi-valued attribute, or null if any is not a finite number. */
export function numbers(v: unknown): number[] | null {
  const arr: unknown[] = Array.isArray(v) ? v : ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v === undefined || v === null ? [] : [v];
  const out = arr.map((x) => (typeof x === 'number' ? x : typeof x === 'string' ? Number(x) : NaN));
  return out.every(Number.isFinite) ? out : null;
}

const TEXT_VRS = new Set(['AE', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UR', 'UT']);

function fixSequenceText(dataset: DcmjsDataset, inside: boolean): void {
  for (const el of Object.values(dataset)) {
    if (!el.Value) continue;
    if (el.vr === 'SQ') for (const item of el.Value) fixSequenceText(item as DcmjsDataset, true);
    else if (inside && TEXT_VRS.has(el.vr)) el.Value = el.Value.map(redecodeUtf8);
  }
}
