// The one implementation of the de-identification rules, shared by the dcmjs path
// (deidentify.ts) and the byte-level fast path (fast-path.ts). See the header of deidentify.ts
// for the rules themselves. Both paths ask RuleEngine what to do with each element and pass
// values (as arrays of strings) through its transforms; the engine keeps the report counts.
import { PRIVATE_ATTRIBUTES_ACTION, PROFILE_TABLE } from './profile-table.js';
import type { ProfileRow } from './profile-table.js';
import { isWellKnownUid, patientPseudonym, remapUid, uuidDerivedUid } from './uid.js';
import { BASIC_PROFILE_CODE, type DeidSettings, optionCodes } from './settings.js';
import { normaliseDate, normaliseDateTime, normaliseTime, shiftDate, shiftDateTime } from './dates.js';
import { cleanText } from './clean.js';

/**
 * What the de-identifier did, as counts of elements (sequence items count separately). Names
 * are stable; consumers may sum them across files.
 * - `removed`: standard (even-group) elements deleted (X), including file meta elements naming systems;
 * - `emptied`: elements kept with a zero-length value (Z, or D without a dummy for the VR);
 * - `replaced`: values replaced by a dummy or pseudonym (D; PatientID/PatientName; unreadable dates);
 * - `uidsRemapped`: UID values replaced by their HMAC remapping (U);
 * - `datesShifted`: date/date-time values moved by the per-patient offset (Modified Dates option);
 * - `cleaned`: text values passed through the cleaner (Clean Descriptors / patient characteristics C);
 * - `privateRemoved`: private (odd-group) elements deleted;
 * - `privateKept`: private elements kept (keepPrivateTags).
 */
export interface DeidReport {
  removed: number;
  emptied: number;
  replaced: number;
  uidsRemapped: number;
  datesShifted: number;
  cleaned: number;
  privateRemoved: number;
  privateKept: number;
}

export const DEIDENTIFICATION_METHOD = 'DICOM PS3.15 E.1 Basic Application Confidentiality Profile';

type Effective = 'X' | 'Z' | 'D' | 'U' | 'K';
type Resolved = Effective | 'SHIFT' | 'CLEAN';

export const PIXEL_DATA = '7FE00010';
export const PATIENT_ID = '00100020';
export const PATIENT_NAME = '00100010';
export const SOP_INSTANCE_UID = '00080018';
export const MEDIA_STORAGE_SOP_INSTANCE_UID = '00020003';
export const TRANSFER_SYNTAX_UID = '00020010';
export const IMPLEMENTATION_CLASS_UID = '00020012';
export const IMPLEMENTATION_VERSION_NAME = '00020013';
export const IMPLEMENTATION_VERSION = 'CALIPER_DEID';
/** Fixed UID naming Caliper's de-identifier as the implementation that wrote the file. */
export const CALIPER_IMPLEMENTATION_CLASS_UID = uuidDerivedUid('caliper:media:dicom-deid:v1');
/** File meta elements that name the sending/receiving systems or carry private data. */
export const META_REMOVE = ['00020016', '00020017', '00020018', '00020100', '00020102'];
export const LONGITUDINAL_MODIFIED = '00280303';

const EXACT = new Map<string, ProfileRow>();
const PATTERNS: { re: RegExp; row: ProfileRow }[] = [];
for (const row of PROFILE_TABLE) {
  if (row.tag.includes('X')) PATTERNS.push({ re: new RegExp(`^${row.tag.replace(/X/g, '[0-9A-F]')}$`), row });
  else EXACT.set(row.tag, row);
}

function lookup(tag: string): ProfileRow | undefined {
  return EXACT.get(tag) ?? PATTERNS.find((p) => p.re.test(tag))?.row;
}

const TEXT_VRS = new Set(['LO', 'LT', 'SH', 'ST', 'UC', 'UT']);

/** The action for one element under the settings (see deidentify.ts for the order). */
function resolveAction(row: ProfileRow, vr: string, s: DeidSettings): Resolved {
  const o = row.options;
  const optional = (code: string | undefined): Resolved | null =>
    code === 'K' ? 'K' : code === 'C' ? (TEXT_VRS.has(vr) ? 'CLEAN' : vr === 'SQ' ? 'K' : null) : null;
  if (s.retainUids && o.rtnUIDsOpt === 'K') return 'K';
  const candidates: (string | undefined)[] = [
    s.retainDeviceIdentity ? o.rtnDevIdOpt : undefined,
    s.retainInstitutionIdentity ? o.rtnInstIdOpt : undefined,
    s.retainPatientCharacteristics ? o.rtnPatCharsOpt : undefined,
  ];
  for (const c of candidates) {
    const r = optional(c);
    if (r) return r;
  }
  if (s.retainLongitudinalTemporalModifiedDates && o.rtnLongModifDatesOpt) {
    if (vr === 'DA' || vr === 'DT') return 'SHIFT';
    if (vr === 'TM') return 'K';
  }
  if (s.cleanDescriptors && o.cleanDescOpt) {
    const r = optional(o.cleanDescOpt);
    if (r) return r;
  }
  return effectiveAction(row.action, vr);
}

/** Resolves a table code (possibly combined) to the single action applied; see deidentify.ts. */
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

/**
 * What to do with one element:
 * - REMOVE: delete it; EMPTY: zero-length value (a sequence without items);
 * - ITEMS: keep the sequence and de-identify its items;
 * - KEEP: keep the value as it is; NORMALISE: keep, in canonical DA/DT/TM form (engine.normalise);
 * - PATIENT_ID: the pseudonym of the value (engine.patientId);
 * - SHIFT / CLEAN / REMAP: pass the values through engine.shift / clean / remap;
 * - DUMMY: the value engine.dummy(vr) gives (zero-length when it gives null).
 */
export type Decision = 'REMOVE' | 'EMPTY' | 'ITEMS' | 'KEEP' | 'NORMALISE' | 'PATIENT_ID' | 'SHIFT' | 'CLEAN' | 'REMAP' | 'DUMMY';

/** A dummy value: text (also DS/IS "0" and PN), a binary number 0, or 2 zero bytes (OB/OW/UN). */
export type Dummy = { kind: 'text'; text: string } | { kind: 'number' } | { kind: 'bytes' };

const TEXT_DUMMY = 'ANONYMIZED';
const DUMMY_TEXT: Record<string, string> = {
  AE: TEXT_DUMMY,
  AS: '000Y',
  CS: TEXT_DUMMY,
  DA: '19000101',
  DT: '19000101000000',
  LO: TEXT_DUMMY,
  LT: TEXT_DUMMY,
  PN: 'ANONYMOUS',
  SH: TEXT_DUMMY,
  ST: TEXT_DUMMY,
  TM: '000000',
  UC: TEXT_DUMMY,
  UR: TEXT_DUMMY,
  UT: TEXT_DUMMY,
};
const DUMMY_NUMBER = new Set(['DS', 'IS', 'FL', 'FD', 'SL', 'SS', 'UL', 'US', 'SV', 'UV']);

/** A dummy value of the VR, or null when the VR has none (then Z is applied). */
export function dummyFor(vr: string): Dummy | null {
  const text = DUMMY_TEXT[vr];
  if (text !== undefined) return { kind: 'text', text };
  if (DUMMY_NUMBER.has(vr)) return { kind: 'number' };
  if (vr === 'OB' || vr === 'OW' || vr === 'UN') return { kind: 'bytes' };
  return null;
}

/** An attribute the de-identifier adds (string values, or items of attributes for SQ). */
export interface AddedAttribute {
  tag: string;
  vr: string;
  values: string[];
  items?: AddedAttribute[][];
}

/**
 * Attributes added to the top level of every output, in tag order: the pseudonym as PatientName
 * and PatientID, PatientIdentityRemoved, DeidentificationMethod, its code sequence and (with the
 * Modified Dates option) LongitudinalTemporalInformationModified. They replace input elements
 * with the same tags.
 */
export function addedAttributes(settings: DeidSettings, pseudonym: string): AddedAttribute[] {
  const codes = [BASIC_PROFILE_CODE, ...optionCodes(settings)];
  const method = [DEIDENTIFICATION_METHOD, ...codes.slice(1).map((c) => c.meaning)];
  if (settings.keepPrivateTags) method.push('Private attributes kept');
  const out: AddedAttribute[] = [
    { tag: PATIENT_NAME, vr: 'PN', values: [pseudonym] },
    { tag: PATIENT_ID, vr: 'LO', values: [pseudonym] },
    { tag: '00120062', vr: 'CS', values: ['YES'] },
    { tag: '00120063', vr: 'LO', values: method.map((m) => m.slice(0, 64)) },
    {
      tag: '00120064',
      vr: 'SQ',
      values: [],
      items: codes.map((c) => [
        { tag: '00080100', vr: 'SH', values: [c.value] },
        { tag: '00080102', vr: 'SH', values: ['DCM'] },
        { tag: '00080104', vr: 'LO', values: [c.meaning] },
      ]),
    },
  ];
  if (settings.retainLongitudinalTemporalModifiedDates) out.push({ tag: LONGITUDINAL_MODIFIED, vr: 'CS', values: ['MODIFIED'] });
  return out;
}

export function emptyReport(): DeidReport {
  return { removed: 0, emptied: 0, replaced: 0, uidsRemapped: 0, datesShifted: 0, cleaned: 0, privateRemoved: 0, privateKept: 0 };
}

/** True for an odd (private) group, given the tag as 8 uppercase hex digits. */
export function isPrivateTag(tag: string): boolean {
  const c = tag.charCodeAt(3); // last hex digit of the group
  return (c <= 57 ? c - 48 : (c | 0x20) - 87) % 2 === 1;
}

/** Decisions per settings combination, keyed by tag + VR (they depend on nothing else). */
const decisionCaches = new Map<string, Map<string, Decision>>();

/**
 * HMAC results (remapped UIDs, pseudonyms) of the last (secret, project) pair: files of one
 * series share most UIDs. Bounded; replaced when another secret or project comes along.
 */
let hmacCache: { secret: string; projectId: string; values: Map<string, string> } | null = null;
const HMAC_CACHE_LIMIT = 4096;

function cachedHmac(secret: string, projectId: string, key: string, compute: () => string): string {
  if (!hmacCache || hmacCache.secret !== secret || hmacCache.projectId !== projectId) {
    hmacCache = { secret, projectId, values: new Map() };
  }
  let v = hmacCache.values.get(key);
  if (v === undefined) {
    v = compute();
    if (hmacCache.values.size >= HMAC_CACHE_LIMIT) hmacCache.values.clear();
    hmacCache.values.set(key, v);
  }
  return v;
}

/** Decides and counts the action for each element, and transforms values; one per file. */
export class RuleEngine {
  readonly report: DeidReport = emptyReport();
  private readonly cache: Map<string, Decision>;
  constructor(
    private readonly secret: string,
    private readonly projectId: string,
    private readonly settings: DeidSettings,
    private readonly days: number,
  ) {
    const key = Object.keys(settings)
      .sort()
      .map((k) => `${k}=${String(settings[k as keyof DeidSettings])}`)
      .join(',');
    let cache = decisionCaches.get(key);
    if (!cache) {
      cache = new Map();
      decisionCaches.set(key, cache);
    }
    this.cache = cache;
  }

  /**
   * The decision for a standard or private element at any depth (the top-level special cases,
   * PixelData and what follows it, PatientID/PatientName, are handled by the callers). Counts
   * REMOVE and EMPTY here (private elements in privateRemoved/privateKept); the value transforms
   * count the rest.
   */
  decide(tag: string, vr: string): Decision {
    const key = tag + vr;
    let d = this.cache.get(key);
    if (d === undefined) {
      d = this.decideUncached(tag, vr);
      this.cache.set(key, d);
    }
    if (isPrivateTag(tag)) {
      if (d === 'REMOVE') this.report.privateRemoved++;
      else this.report.privateKept++;
    } else if (d === 'REMOVE') this.report.removed++;
    else if (d === 'EMPTY') this.report.emptied++;
    return d;
  }

  private decideUncached(tag: string, vr: string): Decision {
    if (isPrivateTag(tag)) {
      // Retain Safe Private keeps nothing: Table E.3.10-1 is not available as data (settings.ts).
      if (!this.settings.keepPrivateTags && effectiveAction(PRIVATE_ATTRIBUTES_ACTION, vr) === 'X') return 'REMOVE';
      return vr === 'SQ' ? 'ITEMS' : 'KEEP';
    }
    if (tag === PIXEL_DATA) return 'KEEP';
    if (tag === PATIENT_ID) return 'PATIENT_ID';
    const row = lookup(tag);
    const effective: Resolved = row ? resolveAction(row, vr, this.settings) : 'K';
    if (effective === 'SHIFT') return 'SHIFT';
    if (effective === 'CLEAN') return 'CLEAN';
    if (effective === 'X') return 'REMOVE';
    if (effective === 'Z') return 'EMPTY';
    if (vr === 'SQ') return 'ITEMS'; // D, U and K on a sequence: keep the items, de-identify them
    if (vr === 'UI' && (effective === 'U' || effective === 'D')) return 'REMAP';
    if (effective === 'D' || effective === 'U') return 'DUMMY';
    if (vr === 'DA' || vr === 'DT' || vr === 'TM') return 'NORMALISE';
    return 'KEEP';
  }

  /** The dummy for a DUMMY decision (counted as replaced, or as emptied when null). */
  dummy(vr: string): Dummy | null {
    const d = dummyFor(vr);
    if (d) this.report.replaced++;
    else this.report.emptied++;
    return d;
  }

  uid(uid: string): string {
    return cachedHmac(this.secret, this.projectId, `u:${uid}`, () => remapUid(uid, this.secret, this.projectId));
  }

  pseudonym(patientId: string): string {
    return cachedHmac(this.secret, this.projectId, `p:${patientId}`, () => patientPseudonym(patientId, this.secret, this.projectId));
  }

  /** PatientID inside a sequence item: the pseudonym of its first value. */
  patientId(first: unknown): string {
    this.report.replaced++;
    return this.pseudonym(typeof first === 'string' ? first.trim() : '');
  }

  /** Shifts DA/DT values; unreadable ones become the VR's dummy. */
  shift(vr: string, values: readonly unknown[]): unknown[] {
    return values.map((v) => {
      if (typeof v !== 'string' || v.trim() === '') return v;
      const shifted = vr === 'DA' ? shiftDate(v, this.days) : shiftDateTime(v, this.days);
      if (shifted === null) {
        this.report.replaced++;
        return vr === 'DA' ? '19000101' : '19000101000000';
      }
      this.report.datesShifted++;
      return shifted;
    });
  }

  /** Kept DA/DT/TM values in canonical form (unreadable ones become the dummy); null when unchanged. */
  normalise(vr: string, values: readonly unknown[]): unknown[] | null {
    let changed = false;
    const out = values.map((v) => {
      if (typeof v !== 'string' || v.trim() === '') return v;
      const norm = vr === 'DA' ? normaliseDate(v) : vr === 'DT' ? normaliseDateTime(v) : normaliseTime(v);
      if (norm === v) return v;
      changed = true;
      if (norm !== null) return norm;
      this.report.replaced++;
      return vr === 'DA' ? '19000101' : vr === 'DT' ? '19000101000000' : '000000';
    });
    return changed ? out : null;
  }

  clean(values: readonly unknown[]): unknown[] {
    this.report.cleaned++;
    return values.map((v) => (typeof v === 'string' ? cleanText(v) : v));
  }

  remap(values: readonly unknown[]): unknown[] {
    return values.map((v) => {
      if (typeof v !== 'string') return v;
      const uid = v.replace(/[\0 ]+$/, '');
      if (uid === '' || isWellKnownUid(uid)) return v;
      this.report.uidsRemapped++;
      return this.uid(uid);
    });
  }
}
