// Project settings for the PS3.15 Annex E profile options, and the CID 7050 codes they add to
// the De-identification Method Code Sequence.

/** The Annex E options a project can switch on. All false is the Basic Profile. */
export interface DeidSettings {
  /**
   * Retain Longitudinal Temporal Information with Modified Dates (113107): every attribute the
   * option marks (dates, times, date-times) is shifted by a per-patient whole-day offset derived
   * from HMAC(secret, projectId, original PatientID), so intervals within one patient survive.
   * Legacy dates such as "1997.04.24" are parsed when possible, otherwise replaced by a dummy.
   */
  retainLongitudinalTemporalModifiedDates: boolean;
  /** Retain Patient Characteristics (113108): age, sex, size, weight, ... are kept. */
  retainPatientCharacteristics: boolean;
  /** Retain Device Identity (113109): station name, serial numbers, device UIDs, ... are kept. */
  retainDeviceIdentity: boolean;
  /** Retain Institution Identity (113112): institution name, address, department are kept. */
  retainInstitutionIdentity: boolean;
  /** Retain UIDs (113110): UIDs are kept instead of being remapped. */
  retainUids: boolean;
  /**
   * Clean Descriptors (113105): descriptors the option marks (Study/Series Description,
   * Protocol Name, comments, ...) are kept after cleaning (see clean.ts: tokens that look like
   * identifiers, dates, e-mail addresses or person names in DICOM PN form are removed); the
   * cleaning does not detect names written as free text.
   */
  cleanDescriptors: boolean;
  /**
   * Retain Safe Private (113111). PS3.15 Table E.3.10-1 (the list of safe private attributes)
   * is not available to us as data, so the list is empty: with this option no private
   * attribute is kept unless keepPrivateTags is also set.
   */
  retainSafePrivate: boolean;
  /**
   * The project opted to keep every private attribute. Not an Annex E option (no code is
   * claimed); the De-identification Method text says so.
   */
  keepPrivateTags: boolean;
}

export const DEFAULT_DEID_SETTINGS: DeidSettings = Object.freeze({
  retainLongitudinalTemporalModifiedDates: false,
  retainPatientCharacteristics: false,
  retainDeviceIdentity: false,
  retainInstitutionIdentity: false,
  retainUids: false,
  cleanDescriptors: false,
  retainSafePrivate: false,
  keepPrivateTags: false,
});

export interface MethodCode {
  value: string;
  meaning: string;
}

export const BASIC_PROFILE_CODE: MethodCode = { value: '113100', meaning: 'Basic Application Confidentiality Profile' };

/** CID 7050 codes claimed for the enabled options, in code order. */
export function optionCodes(s: DeidSettings): MethodCode[] {
  const codes: MethodCode[] = [];
  if (s.cleanDescriptors) codes.push({ value: '113105', meaning: 'Clean Descriptors Option' });
  if (s.retainLongitudinalTemporalModifiedDates) {
    codes.push({ value: '113107', meaning: 'Retain Longitudinal Temporal Information Modified Dates Option' });
  }
  if (s.retainPatientCharacteristics) codes.push({ value: '113108', meaning: 'Retain Patient Characteristics Option' });
  if (s.retainDeviceIdentity) codes.push({ value: '113109', meaning: 'Retain Device Identity Option' });
  if (s.retainUids) codes.push({ value: '113110', meaning: 'Retain UIDs Option' });
  if (s.retainSafePrivate) codes.push({ value: '113111', meaning: 'Retain Safe Private Option' });
  if (s.retainInstitutionIdentity) codes.push({ value: '113112', meaning: 'Retain Institution Identity Option' });
  return codes;
}

/** Merges a partial settings object over the defaults, refusing unknown keys and non-booleans. */
export function resolveSettings(partial: Partial<DeidSettings> | undefined): DeidSettings {
  const out: DeidSettings = { ...DEFAULT_DEID_SETTINGS };
  if (!partial) return out;
  for (const [key, value] of Object.entries(partial)) {
    if (!(key in DEFAULT_DEID_SETTINGS)) throw new TypeError(`Unknown de-identification setting "${key}".`);
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new TypeError(`De-identification setting "${key}" must be true or false.`);
    out[key as keyof DeidSettings] = value;
  }
  return out;
}
