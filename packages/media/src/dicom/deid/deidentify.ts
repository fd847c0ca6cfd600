// DICOM de-identification: PS3.15 Annex E Basic Application Level Confidentiality Profile.
//
// Every action comes from the generated PROFILE_TABLE (scripts/gen-deid-table.mjs); no row
// is typed by hand. The rules live in rules.ts (RuleEngine) and are applied by one of two
// paths giving the same de-identified data set: the byte-level fast path (fast-path.ts) for
// Part-10 implicit/explicit VR LE and encapsulated syntaxes, and dcmjs (parse, edit, re-encode;
// the top-level Pixel Data element is copied byte for byte, see pixel-span.ts) for everything
// else and whatever the fast path declines.
//
// Rule for combined action codes. The standard lists X/Z, X/D, Z/D, X/Z/D and X/Z/U* where
// the right choice depends on the IOD; the table puts a D in the code exactly when some IOD
// makes the attribute Type 1 (a value is required), and a Z when it is Type 2. We take the
// conservative choice that keeps every IOD valid without knowing which IOD we have:
//   - the code contains U (X/Z/U*): keep the element; remap UIDs (inside sequences too);
//   - the element is a sequence (SQ): Z, a zero-length sequence (valid for Type 2; a dummy
//     item would keep unlisted attributes such as code values that may identify a site);
//   - otherwise the code contains D (X/D, Z/D, X/Z/D): D, a dummy value of the element's VR;
//   - otherwise (X/Z): Z, a zero-length value.
// A plain D on a sequence keeps its items and de-identifies them recursively.
// C (clean) in the basic column is treated as D. K keeps the value. Attributes absent from the
// table are kept (sequences among them are still cleaned inside); private (odd-group)
// attributes are removed unless the project keeps them (settings.keepPrivateTags).
//
// Profile options (DeidSettings, settings.ts) override the basic action of the rows whose
// option column (generated from the table) is set, in this order: Retain UIDs, Retain Device
// Identity, Retain Institution Identity, Retain Patient Characteristics (K keeps; C cleans),
// Retain Longitudinal Temporal Information Modified Dates (C shifts DA/DT by the per-patient
// day offset of dates.ts; TM is kept since whole-day shifts leave times unchanged), Clean
// Descriptors (C cleans text with clean.ts). Dates and times that are kept are normalised
// (legacy "1997.04.24" -> "19970424"); ones that cannot be read become a dummy value.
//
// Accepted inputs (input.ts): Part-10 in implicit/explicit VR LE, deflated explicit VR LE,
// explicit VR big endian, files lacking preamble or file meta. Output is always Part-10:
// implicit/explicit VR LE and encapsulated syntaxes keep their transfer syntax and Pixel Data
// bytes; deflate and big endian are written as Explicit VR Little Endian (big-endian OW/OF/OL/OD
// Pixel Data is byte-swapped, so the decoded pixels are unchanged).
import { dcmjsLib } from './dcmjs-lazy.js';
import type { DcmjsDicomDict, DcmjsDataset, DcmjsElement } from 'dcmjs';
import { explicitHeader, topLevelLayout } from './pixel-span.js';
import { type DeidSettings, resolveSettings } from './settings.js';
import { dayOffset } from './dates.js';
import { EXPLICIT_BE, EXPLICIT_LE, IMPLICIT_LE, InputError, type PreparedInput, prepareInput } from './input.js';
import { type BurnedInAssessment, type ImageIdentity, assessBurnedIn, imageIdentity } from './burned-in.js';
import {
  CALIPER_IMPLEMENTATION_CLASS_UID,
  type DeidReport,
  type Dummy,
  IMPLEMENTATION_CLASS_UID,
  IMPLEMENTATION_VERSION,
  IMPLEMENTATION_VERSION_NAME,
  MEDIA_STORAGE_SOP_INSTANCE_UID,
  META_REMOVE,
  PATIENT_ID,
  PATIENT_NAME,
  PIXEL_DATA,
  RuleEngine,
  SOP_INSTANCE_UID,
  TRANSFER_SYNTAX_UID,
  type AddedAttribute,
  addedAttributes,
  isPrivateTag,
} from './rules.js';
import { FastPathUnsupported, deidentifyFast, fastPathApplies } from './fast-path.js';

export class DicomDeidError extends Error {
  override readonly name = 'DicomDeidError';
}

export interface DeidOptions {
  /** Project secret keying the HMACs for UIDs and pseudonyms. */
  secret: string;
  projectId: string;
  /** Profile options; unset ones are false (Basic Profile). */
  settings?: Partial<DeidSettings>;
}

export type { DeidReport } from './rules.js';

export interface DeidResult {
  bytes: Uint8Array;
  report: DeidReport;
  /** Whether the pixels may carry burned-in text (see burned-in.ts for the rule). */
  burnedIn: BurnedInAssessment;
  /** De-identified attributes that redaction rules match on. */
  image: ImageIdentity;
  /** Transfer syntax of the output file. */
  transferSyntax: string;
}

export { DEFAULT_DEID_SETTINGS, type DeidSettings } from './settings.js';
export type { BurnedInAssessment, ImageIdentity } from './burned-in.js';
export { CALIPER_IMPLEMENTATION_CLASS_UID, DEIDENTIFICATION_METHOD, effectiveAction } from './rules.js';

const TRANSFER_SYNTAX_OUT = EXPLICIT_LE;

/** The dummy as a dcmjs Value array. */
function dcmjsDummy(vr: string, d: Dummy | null): unknown[] {
  if (!d) return [];
  if (d.kind === 'number') return [0];
  if (d.kind === 'bytes') return [new ArrayBuffer(2)];
  return vr === 'PN' ? [{ Alphabetic: d.text }] : [d.text];
}

function setValue(el: DcmjsElement, value: unknown[]): void {
  el.Value = value;
  delete el._rawValue;
}

/** Applies the engine's decisions to a dcmjs data set (in place). */
class DcmjsDeidentifier {
  constructor(readonly engine: RuleEngine) {}

  private items(el: DcmjsElement): void {
    for (const item of el.Value ?? []) {
      if (item && typeof item === 'object') this.dataset(item as DcmjsDataset);
    }
  }

  dataset(ds: DcmjsDataset): void {
    const engine = this.engine;
    for (const key of Object.keys(ds)) {
      const el = ds[key];
      if (!el) continue;
      const d = engine.decide(key.toUpperCase(), el.vr);
      const values = el.Value ?? [];
      switch (d) {
        case 'REMOVE':
          delete ds[key];
          break;
        case 'EMPTY':
          setValue(el, []);
          break;
        case 'ITEMS':
          this.items(el);
          break;
        case 'PATIENT_ID':
          setValue(el, [engine.patientId(values[0])]);
          break;
        case 'SHIFT':
          setValue(el, engine.shift(el.vr, values));
          break;
        case 'CLEAN':
          setValue(el, engine.clean(values));
          break;
        case 'REMAP':
          setValue(el, engine.remap(values));
          break;
        case 'DUMMY':
          setValue(el, dcmjsDummy(el.vr, engine.dummy(el.vr)));
          break;
        case 'NORMALISE': {
          const out = engine.normalise(el.vr, values);
          if (out) setValue(el, out);
          break;
        }
        case 'KEEP':
          break;
      }
    }
  }
}

function toDcmjs(a: AddedAttribute): DcmjsElement {
  if (a.vr === 'SQ') {
    return {
      vr: 'SQ',
      Value: (a.items ?? []).map((item) => Object.fromEntries(item.map((x) => [x.tag, toDcmjs(x)]))),
    };
  }
  if (a.vr === 'PN') return { vr: 'PN', Value: a.values.map((v) => ({ Alphabetic: v })) };
  return { vr: a.vr, Value: [...a.values] };
}

function readUid(ds: DcmjsDataset, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  return typeof v === 'string' ? v.replace(/[\0 ]+$/, '') : undefined;
}

const SWAP_WIDTH: Record<string, number> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

/** The big-endian Pixel Data element at `span` re-encoded as Explicit VR Little Endian. */
function pixelDataToLittleEndian(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const h = explicitHeader(bytes, start, false);
  if (h.length === 0xffffffff) throw new DicomDeidError('Big-endian Pixel Data with undefined length is not supported.');
  const value = bytes.slice(h.valueStart, h.valueStart + h.length);
  if (h.valueStart + h.length !== end) throw new DicomDeidError('The big-endian Pixel Data element is malformed.');
  const width = SWAP_WIDTH[h.vr] ?? 1;
  if (value.byteLength % width !== 0) throw new DicomDeidError('The big-endian Pixel Data length does not fit its VR.');
  if (width > 1) {
    for (let i = 0; i < value.byteLength; i += width) value.subarray(i, i + width).reverse();
  }
  const out = new Uint8Array(12 + value.byteLength);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0x7fe0, true);
  v.setUint16(2, 0x0010, true);
  out[4] = h.vr.charCodeAt(0);
  out[5] = h.vr.charCodeAt(1);
  v.setUint32(8, value.byteLength, true);
  out.set(value, 12);
  return out;
}

/**
 * De-identifies a DICOM file (Part-10, or a bare data set) with the Basic Application Level
 * Confidentiality Profile plus the options enabled in `opts.settings`. UIDs are remapped and
 * the patient pseudonymised with HMAC-SHA256 keyed by the project secret, so repeated uploads
 * of the same study map to the same identifiers. Pixel values are never changed: the result
 * says whether burned-in text is likely (`burnedIn`) and carries the attributes redaction
 * rules match on (`image`); use redactDicom to black out regions. Throws DicomDeidError (with
 * a message free of attribute values) for input that is not DICOM or cannot be handled.
 */
export function deidentifyDicom(input: Uint8Array, opts: DeidOptions): DeidResult {
  return deidentifyDicomUsing(input, opts, 'auto').result;
}

/** Which implementation de-identified a file: the byte-level fast path or dcmjs. */
export type DeidPath = 'bytes' | 'dcmjs';

/**
 * deidentifyDicom with a choice of implementation (for tests and benchmarks): 'auto' takes the
 * byte-level fast path (fast-path.ts) when it applies and falls back to dcmjs otherwise;
 * 'bytes' throws DicomDeidError when the fast path cannot handle the file; 'dcmjs' always
 * uses dcmjs. Both give the same de-identified data set (see fast-path.ts for the differences
 * in encoding).
 */
export function deidentifyDicomUsing(
  input: Uint8Array,
  opts: DeidOptions,
  use: 'auto' | DeidPath,
): { result: DeidResult; path: DeidPath } {
  if (!opts.secret) throw new DicomDeidError('A non-empty project secret is required to de-identify DICOM.');
  if (!opts.projectId) throw new DicomDeidError('A non-empty project id is required to de-identify DICOM.');
  let settings: DeidSettings;
  try {
    settings = resolveSettings(opts.settings);
  } catch (e) {
    throw new DicomDeidError(e instanceof Error ? e.message : 'Invalid de-identification settings.');
  }
  let prepared: PreparedInput;
  try {
    prepared = prepareInput(input);
  } catch (e) {
    if (e instanceof InputError) throw new DicomDeidError(e.message);
    throw new DicomDeidError('The input could not be read as DICOM.');
  }
  if (use !== 'dcmjs') {
    if (fastPathApplies(prepared)) {
      try {
        return { result: deidentifyFast(prepared, opts.secret, opts.projectId, settings), path: 'bytes' };
      } catch (e) {
        if (!(e instanceof FastPathUnsupported) && !(e instanceof RangeError)) throw e;
        if (use === 'bytes') throw new DicomDeidError('The byte-level de-identifier cannot handle this file.');
      }
    } else if (use === 'bytes') {
      throw new DicomDeidError('The byte-level de-identifier does not handle this transfer syntax or input form.');
    }
  }
  return { result: deidentifyWithDcmjs(prepared, opts, settings), path: 'dcmjs' };
}

function deidentifyWithDcmjs(prepared: PreparedInput, opts: DeidOptions, settings: DeidSettings): DeidResult {
  const bytes = prepared.bytes;
  let parsed: DcmjsDicomDict;
  try {
    parsed = dcmjsLib().data.DicomMessage.readFile(new Uint8Array(bytes).buffer, { ignoreErrors: true });
  } catch {
    // dcmjs messages may quote attribute values, so they are not passed on.
    throw new DicomDeidError('The input has a DICOM marker but its data set could not be parsed.');
  }
  const syntax = prepared.syntax;
  const bigEndian = syntax === EXPLICIT_BE;

  let layout: ReturnType<typeof topLevelLayout>;
  try {
    layout = topLevelLayout(bytes, syntax !== IMPLICIT_LE, !bigEndian);
  } catch {
    throw new DicomDeidError('The DICOM data set is truncated or malformed.');
  }

  const originalPatientId = (readUid(parsed.dict, PATIENT_ID) ?? '').trim();
  const burnedIn = assessBurnedIn(parsed.dict, layout.pixelData !== null);
  const engine = new RuleEngine(opts.secret, opts.projectId, settings, dayOffset(opts.secret, opts.projectId, originalPatientId));
  const deid = new DcmjsDeidentifier(engine);
  const { meta, dict } = parsed;

  // Pixel Data is spliced back from the input; what follows it at top level (digital
  // signatures, trailing padding) is all X in the profile.
  for (const key of Object.keys(dict)) {
    const tag = key.toUpperCase();
    if (tag === PIXEL_DATA) delete dict[key];
    else if (tag > PIXEL_DATA) {
      delete dict[key];
      if (isPrivateTag(tag)) engine.report.privateRemoved++;
      else engine.report.removed++;
    }
  }

  // Patient identity: one pseudonym per (project, original PatientID), used as ID and name.
  const pseudonym = engine.pseudonym(originalPatientId);
  delete dict[PATIENT_ID];
  delete dict[PATIENT_NAME];

  deid.dataset(dict);

  for (const a of addedAttributes(settings, pseudonym)) dict[a.tag] = toDcmjs(a);
  engine.report.replaced += 2;

  for (const tag of META_REMOVE) {
    if (meta[tag]) {
      delete meta[tag];
      engine.report.removed++;
    }
  }
  // The file is re-encoded by this implementation, so it names itself in the file meta
  // (the original's implementation UID can coincide with an instance UID such as InstanceCreatorUID).
  meta[IMPLEMENTATION_CLASS_UID] = { vr: 'UI', Value: [CALIPER_IMPLEMENTATION_CLASS_UID] };
  meta[IMPLEMENTATION_VERSION_NAME] = { vr: 'SH', Value: [IMPLEMENTATION_VERSION] };
  const sopInstanceUid = readUid(dict, SOP_INSTANCE_UID);
  if (sopInstanceUid) meta[MEDIA_STORAGE_SOP_INSTANCE_UID] = { vr: 'UI', Value: [sopInstanceUid] };
  else delete meta[MEDIA_STORAGE_SOP_INSTANCE_UID];

  const outSyntax = bigEndian ? TRANSFER_SYNTAX_OUT : syntax;
  meta[TRANSFER_SYNTAX_UID] = { vr: 'UI', Value: [outSyntax] };
  if (!meta['00020001']) meta['00020001'] = { vr: 'OB', Value: [new Uint8Array([0, 1]).buffer] };

  let written: Uint8Array;
  try {
    written = new Uint8Array(parsed.write());
  } catch {
    throw new DicomDeidError('The de-identified data set could not be encoded as DICOM.');
  }
  let pixel: Uint8Array = new Uint8Array(0);
  if (layout.pixelData) {
    pixel = bigEndian
      ? pixelDataToLittleEndian(bytes, layout.pixelData.start, layout.pixelData.end)
      : bytes.subarray(layout.pixelData.start, layout.pixelData.end);
  }
  const out = new Uint8Array(written.byteLength + pixel.byteLength);
  out.set(written, 0);
  out.set(pixel, written.byteLength);

  // Self-check: the output's own layout must hold the identical Pixel Data element.
  const check = topLevelLayout(out, outSyntax !== IMPLICIT_LE);
  const span = check.pixelData;
  const same =
    layout.pixelData === null
      ? span === null
      : span !== null && span.end - span.start === pixel.byteLength && span.end === out.byteLength;
  if (!same) throw new DicomDeidError('Internal error: Pixel Data could not be carried over unchanged.');

  return { bytes: out, report: engine.report, burnedIn, image: imageIdentity(dict), transferSyntax: outSyntax };
}
