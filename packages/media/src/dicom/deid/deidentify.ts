// DICOM de-identification: PS3.15 Annex E Basic Application Level Confidentiality Profile.
//
// Every action comes from the generated PROFILE_TABLE (scripts/gen-deid-table.mjs); no row
// is typed by hand. dcmjs parses and re-encodes the data set; the top-level Pixel Data
// element is copied byte for byte from the input (see pixel-span.ts).
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
// C (clean) is treated as D for now: the Clean Descriptors / Clean Structured Content options
// are later project settings. K keeps the value. Attributes absent from the table are kept
// (sequences among them are still cleaned inside); private (odd-group) attributes are removed.
import dcmjs from 'dcmjs';
import type { DcmjsDataset, DcmjsElement } from 'dcmjs';
import { PRIVATE_ATTRIBUTES_ACTION, PROFILE_TABLE } from './profile-table.js';
import type { ProfileAction } from './profile-table.js';
import { topLevelLayout } from './pixel-span.js';
import { isWellKnownUid, patientPseudonym, remapUid, uuidDerivedUid } from './uid.js';

// dcmjs warnings can echo attribute values (PHI); logs never contain PHI, so silence dcmjs's
// root logger and its named loggers (e.g. "validation.dcmjs").
dcmjs.log.setLevel('silent');
for (const logger of Object.values(dcmjs.log.getLoggers())) logger.setLevel('silent');

export class DicomDeidError extends Error {
  override readonly name = 'DicomDeidError';
}

export interface DeidOptions {
  /** Project secret keying the HMACs for UIDs and pseudonyms. */
  secret: string;
  projectId: string;
}

export interface DeidReport {
  removed: number;
  emptied: number;
  replaced: number;
  uidsRemapped: number;
}

export interface DeidResult {
  bytes: Uint8Array;
  report: DeidReport;
}

export const DEIDENTIFICATION_METHOD = 'DICOM PS3.15 E.1 Basic Application Confidentiality Profile';

type Effective = 'X' | 'Z' | 'D' | 'U' | 'K';

const PIXEL_DATA = '7FE00010';
const PATIENT_ID = '00100020';
const PATIENT_NAME = '00100010';
const SOP_INSTANCE_UID = '00080018';
const MEDIA_STORAGE_SOP_INSTANCE_UID = '00020003';
const TRANSFER_SYNTAX_UID = '00020010';
const IMPLEMENTATION_CLASS_UID = '00020012';
const IMPLEMENTATION_VERSION_NAME = '00020013';
/** Fixed UID naming Caliper's de-identifier as the implementation that wrote the file. */
export const CALIPER_IMPLEMENTATION_CLASS_UID = uuidDerivedUid('caliper:media:dicom-deid:v1');
/** File meta elements that name the sending/receiving systems or carry private data. */
const META_REMOVE = ['00020016', '00020017', '00020018', '00020100', '00020102'];

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const DEFLATED_LE = '1.2.840.10008.1.2.1.99';

const EXACT = new Map<string, ProfileAction>();
const PATTERNS: { re: RegExp; action: ProfileAction }[] = [];
for (const row of PROFILE_TABLE) {
  if (row.tag.includes('X')) PATTERNS.push({ re: new RegExp(`^${row.tag.replace(/X/g, '[0-9A-F]')}$`), action: row.action });
  else EXACT.set(row.tag, row.action);
}

function lookup(tag: string): ProfileAction | undefined {
  return EXACT.get(tag) ?? PATTERNS.find((p) => p.re.test(tag))?.action;
}

/** Resolves a table code (possibly combined) to the single action applied; see the header. */
export function effectiveAction(action: string, vr: string): Effective {
  const parts = action.replace(/\*/g, '').split('/');
  if (parts.includes('U')) return 'U';
  if (parts.length === 1) {
    const only = parts[0];
    if (only === 'X' || only === 'Z' || only === 'D' || only === 'K') return only;
    if (only === 'C') return 'D'; // clean: treated as D until the clean-descriptors setting exists
  }
  if (vr === 'SQ') return 'Z';
  if (parts.includes('D')) return 'D';
  if (parts.includes('Z')) return 'Z';
  return 'X';
}

const TEXT_DUMMY = 'ANONYMIZED';
const DUMMY_BY_VR: Record<string, unknown[]> = {
  AE: [TEXT_DUMMY],
  AS: ['000Y'],
  CS: [TEXT_DUMMY],
  DA: ['19000101'],
  DS: [0],
  DT: ['19000101000000'],
  IS: [0],
  LO: [TEXT_DUMMY],
  LT: [TEXT_DUMMY],
  SH: [TEXT_DUMMY],
  ST: [TEXT_DUMMY],
  TM: ['000000'],
  UC: [TEXT_DUMMY],
  UR: [TEXT_DUMMY],
  UT: [TEXT_DUMMY],
  FL: [0],
  FD: [0],
  SL: [0],
  SS: [0],
  UL: [0],
  US: [0],
  SV: [0],
  UV: [0],
};

/** A dummy value of the element's VR, or null when the VR has none (then Z is applied). */
function dummyValue(vr: string): unknown[] | null {
  if (vr === 'PN') return [{ Alphabetic: 'ANONYMOUS' }];
  if (vr === 'OB' || vr === 'OW' || vr === 'UN') return [new ArrayBuffer(2)];
  const v = DUMMY_BY_VR[vr];
  return v ? [...v] : null;
}

function setValue(el: DcmjsElement, value: unknown[]): void {
  el.Value = value;
  delete el._rawValue;
}

class Deidentifier {
  readonly report: DeidReport = { removed: 0, emptied: 0, replaced: 0, uidsRemapped: 0 };
  constructor(private readonly opts: DeidOptions) {}

  uid(uid: string): string {
    return remapUid(uid, this.opts.secret, this.opts.projectId);
  }

  pseudonym(patientId: string): string {
    return patientPseudonym(patientId, this.opts.secret, this.opts.projectId);
  }

  private remapUids(el: DcmjsElement): void {
    const values = el.Value ?? [];
    const out = values.map((v) => {
      if (typeof v !== 'string') return v;
      const uid = v.replace(/[\0 ]+$/, '');
      if (uid === '' || isWellKnownUid(uid)) return v;
      this.report.uidsRemapped++;
      return this.uid(uid);
    });
    setValue(el, out);
  }

  private items(el: DcmjsElement): void {
    for (const item of el.Value ?? []) {
      if (item && typeof item === 'object') this.dataset(item as DcmjsDataset);
    }
  }

  dataset(ds: DcmjsDataset): void {
    for (const key of Object.keys(ds)) {
      const el = ds[key];
      if (!el) continue;
      const tag = key.toUpperCase();
      if (parseInt(tag.slice(0, 4), 16) % 2 === 1) {
        if (effectiveAction(PRIVATE_ATTRIBUTES_ACTION, el.vr) === 'X') {
          delete ds[key];
          this.report.removed++;
        }
        continue;
      }
      if (tag === PIXEL_DATA) continue;
      if (tag === PATIENT_ID) {
        const original = typeof el.Value?.[0] === 'string' ? el.Value[0] : '';
        setValue(el, [this.pseudonym(original.trim())]);
        this.report.replaced++;
        continue;
      }
      const action = lookup(tag);
      const effective: Effective = action ? effectiveAction(action, el.vr) : 'K';
      if (effective === 'X') {
        delete ds[key];
        this.report.removed++;
      } else if (effective === 'Z') {
        setValue(el, []);
        this.report.emptied++;
      } else if (el.vr === 'SQ') {
        this.items(el); // D, U and K on a sequence: keep the items, de-identify them
      } else if (el.vr === 'UI' && (effective === 'U' || effective === 'D')) {
        this.remapUids(el);
      } else if (effective === 'D' || effective === 'U') {
        const dummy = dummyValue(el.vr);
        setValue(el, dummy ?? []);
        if (dummy) this.report.replaced++;
        else this.report.emptied++;
      }
    }
  }
}

function readUid(ds: DcmjsDataset, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  return typeof v === 'string' ? v.replace(/[\0 ]+$/, '') : undefined;
}

function isPart10(bytes: Uint8Array): boolean {
  return (
    bytes.byteLength >= 144 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d
  );
}

/**
 * De-identifies a DICOM Part-10 file with the Basic Application Level Confidentiality
 * Profile. UIDs are remapped and the patient pseudonymised with HMAC-SHA256 keyed by the
 * project secret, so repeated uploads of the same study map to the same identifiers.
 * Pixel Data is copied unchanged (burned-in annotations are not detected here).
 */
export function deidentifyDicom(bytes: Uint8Array, opts: DeidOptions): DeidResult {
  if (!opts.secret) throw new DicomDeidError('A non-empty project secret is required to de-identify DICOM.');
  if (!opts.projectId) throw new DicomDeidError('A non-empty project id is required to de-identify DICOM.');
  if (!isPart10(bytes)) {
    throw new DicomDeidError('The input is not a DICOM Part-10 file (no "DICM" marker after the 128-byte preamble).');
  }
  let parsed: ReturnType<typeof dcmjs.data.DicomMessage.readFile>;
  try {
    parsed = dcmjs.data.DicomMessage.readFile(new Uint8Array(bytes).buffer, { ignoreErrors: true });
  } catch {
    // dcmjs messages may quote attribute values, so they are not passed on.
    throw new DicomDeidError('The input has a DICOM marker but its data set could not be parsed.');
  }
  const syntax = readUid(parsed.meta, TRANSFER_SYNTAX_UID);
  if (!syntax) throw new DicomDeidError('The DICOM file meta information has no Transfer Syntax UID.');
  if (syntax === EXPLICIT_BE) throw new DicomDeidError('Explicit VR Big Endian (a retired transfer syntax) is not supported.');
  if (syntax === DEFLATED_LE) throw new DicomDeidError('Deflated Explicit VR Little Endian is not supported.');

  let layout: ReturnType<typeof topLevelLayout>;
  try {
    layout = topLevelLayout(bytes, syntax !== IMPLICIT_LE);
  } catch {
    throw new DicomDeidError('The DICOM data set is truncated or malformed.');
  }

  const deid = new Deidentifier(opts);
  const { meta, dict } = parsed;

  // Pixel Data is spliced back from the input; what follows it at top level (digital
  // signatures, trailing padding) is all X in the profile.
  for (const key of Object.keys(dict)) {
    const tag = key.toUpperCase();
    if (tag === PIXEL_DATA) delete dict[key];
    else if (tag > PIXEL_DATA) {
      delete dict[key];
      deid.report.removed++;
    }
  }

  // Patient identity: one pseudonym per (project, original PatientID), used as ID and name.
  const pseudonym = deid.pseudonym((readUid(dict, PATIENT_ID) ?? '').trim());
  delete dict[PATIENT_ID];
  delete dict[PATIENT_NAME];

  deid.dataset(dict);

  dict[PATIENT_ID] = { vr: 'LO', Value: [pseudonym] };
  dict[PATIENT_NAME] = { vr: 'PN', Value: [{ Alphabetic: pseudonym }] };
  deid.report.replaced += 2;
  dict['00120062'] = { vr: 'CS', Value: ['YES'] };
  dict['00120063'] = { vr: 'LO', Value: [DEIDENTIFICATION_METHOD] };
  dict['00120064'] = {
    vr: 'SQ',
    Value: [
      {
        '00080100': { vr: 'SH', Value: ['113100'] },
        '00080102': { vr: 'SH', Value: ['DCM'] },
        '00080104': { vr: 'LO', Value: ['Basic Application Confidentiality Profile'] },
      },
    ],
  };

  for (const tag of META_REMOVE) {
    if (meta[tag]) {
      delete meta[tag];
      deid.report.removed++;
    }
  }
  // The file is re-encoded by this implementation, so it names itself in the file meta
  // (the original's implementation UID can coincide with an instance UID such as InstanceCreatorUID).
  meta[IMPLEMENTATION_CLASS_UID] = { vr: 'UI', Value: [CALIPER_IMPLEMENTATION_CLASS_UID] };
  meta[IMPLEMENTATION_VERSION_NAME] = { vr: 'SH', Value: ['CALIPER_DEID'] };
  const sopInstanceUid = readUid(dict, SOP_INSTANCE_UID);
  if (sopInstanceUid) meta[MEDIA_STORAGE_SOP_INSTANCE_UID] = { vr: 'UI', Value: [sopInstanceUid] };
  else delete meta[MEDIA_STORAGE_SOP_INSTANCE_UID];

  let written: Uint8Array;
  try {
    written = new Uint8Array(parsed.write());
  } catch {
    throw new DicomDeidError('The de-identified data set could not be encoded as DICOM.');
  }
  const pixel = layout.pixelData ? bytes.subarray(layout.pixelData.start, layout.pixelData.end) : new Uint8Array(0);
  const out = new Uint8Array(written.byteLength + pixel.byteLength);
  out.set(written, 0);
  out.set(pixel, written.byteLength);

  // Self-check: the output's own layout must hold the identical Pixel Data element.
  const check = topLevelLayout(out, syntax !== IMPLICIT_LE);
  const span = check.pixelData;
  const same =
    layout.pixelData === null
      ? span === null
      : span !== null && span.end - span.start === pixel.byteLength && span.end === out.byteLength;
  if (!same) throw new DicomDeidError('Internal error: Pixel Data could not be carried over unchanged.');

  return { bytes: out, report: deid.report };
}
