// Brings every supported input into one shape before de-identification: a Part-10 file
// (preamble, "DICM", file meta) whose data set is little endian, or Explicit VR Big Endian.
//   - "DICM" without the preamble, or file meta without both: the missing bytes are added;
//   - a bare data set without file meta (e.g. ACR-NEMA style implicit VR LE files): the
//     transfer syntax is inferred by readDicom and a file meta group is written for it;
//   - Deflated Explicit VR Little Endian: the data set is inflated and labelled Explicit VR LE.
import { inflateRawSync } from 'node:zlib';
import { readDicom } from '../read/read.js';
import { metaValues } from './pixel-span.js';

export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';
export const EXPLICIT_BE = '1.2.840.10008.1.2.2';
export const DEFLATED_LE = '1.2.840.10008.1.2.1.99';

export class InputError extends Error {}

export interface PreparedInput {
  /** A Part-10 file: preamble, DICM, file meta, data set. */
  bytes: Uint8Array;
  /** Transfer syntax of `bytes` (never deflate). */
  syntax: string;
  /** Transfer syntax of the original input (inferred for a bare data set). */
  sourceSyntax: string;
  /** True when the input had no file meta information. */
  metaAdded: boolean;
}

const DICM = [0x44, 0x49, 0x43, 0x4d];

function dicmAt(bytes: Uint8Array, offset: number): boolean {
  return bytes.byteLength >= offset + 4 && DICM.every((b, i) => bytes[offset + i] === b);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function uidBytes(uid: string): Uint8Array {
  const b = new TextEncoder().encode(uid);
  const out = new Uint8Array(b.byteLength + (b.byteLength % 2));
  out.set(b);
  return out;
}

function element(group: number, el: number, vr: string, value: Uint8Array): Uint8Array {
  const long = vr === 'OB';
  const head = new Uint8Array(long ? 12 : 8);
  const v = new DataView(head.buffer);
  v.setUint16(0, group, true);
  v.setUint16(2, el, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) v.setUint32(8, value.byteLength, true);
  else v.setUint16(6, value.byteLength, true);
  return concat([head, value]);
}

/** Preamble, DICM and a minimal file meta group for the given identifiers and syntax. */
export function part10Header(sopClass: string, sopInstance: string, syntax: string): Uint8Array {
  const body = concat([
    element(0x0002, 0x0001, 'OB', new Uint8Array([0, 1])),
    element(0x0002, 0x0002, 'UI', uidBytes(sopClass)),
    element(0x0002, 0x0003, 'UI', uidBytes(sopInstance)),
    element(0x0002, 0x0010, 'UI', uidBytes(syntax)),
  ]);
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, body.byteLength, true);
  const preamble = new Uint8Array(132);
  preamble.set(DICM, 128);
  return concat([preamble, element(0x0002, 0x0000, 'UL', length), body]);
}

function text(b: Uint8Array | undefined): string | undefined {
  if (!b) return undefined;
  return new TextDecoder('latin1').decode(b).replace(/[\0 ]+$/, '');
}

/** Normalises the input; throws InputError (with a message free of attribute values) when it is not DICOM. */
export function prepareInput(input: Uint8Array): PreparedInput {
  let bytes = input;
  let metaAdded = false;
  if (!dicmAt(bytes, 128)) {
    if (dicmAt(bytes, 0)) {
      bytes = concat([new Uint8Array(128), bytes]);
    } else if (bytes.byteLength >= 8 && bytes[0] === 0x02 && bytes[1] === 0x00 && (bytes[4] ?? 0) >= 0x41 && (bytes[4] ?? 0) <= 0x5a) {
      const pre = new Uint8Array(132);
      pre.set(DICM, 128);
      bytes = concat([pre, bytes]);
    } else {
      let instance: ReturnType<typeof readDicom>;
      try {
        instance = readDicom(bytes);
      } catch {
        throw new InputError('The input is not DICOM: not a DICOM Part-10 file and no readable data set.');
      }
      if (instance.encoding !== 'raw-dataset' || !instance.sopClassUID || !instance.sopInstanceUID) {
        throw new InputError('The input is not DICOM (no Part-10 header and no SOP Class/Instance UID).');
      }
      bytes = concat([part10Header(instance.sopClassUID, instance.sopInstanceUID, instance.transferSyntaxUID), bytes]);
      metaAdded = true;
    }
  }
  let meta: Map<number, Uint8Array>;
  let start: number;
  try {
    ({ values: meta, datasetStart: start } = metaValues(bytes));
  } catch {
    throw new InputError('The DICOM file meta information is truncated or malformed.');
  }
  const syntax = text(meta.get(0x00020010));
  if (!syntax) throw new InputError('The DICOM file meta information has no Transfer Syntax UID.');
  if (syntax !== DEFLATED_LE) return { bytes, syntax, sourceSyntax: syntax, metaAdded };

  let inflated: Uint8Array;
  try {
    inflated = new Uint8Array(inflateRawSync(bytes.subarray(start)));
  } catch {
    throw new InputError('The deflated DICOM data set could not be inflated.');
  }
  const header = part10Header(text(meta.get(0x00020002)) ?? '', text(meta.get(0x00020003)) ?? '', EXPLICIT_LE);
  return { bytes: concat([header, inflated]), syntax: EXPLICIT_LE, sourceSyntax: DEFLATED_LE, metaAdded };
}
