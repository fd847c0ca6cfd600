// `@caliper/media/deid`: the DICOM de-identification engine alone, without the pixel decoders,
// NIfTI, archive and image readers the package root also loads (a quick start for `caliper deid`
// and other offline tools). Redaction needs the decoders, so it loads them when first used.
import type { RedactionResult, RedactionRule } from './dicom/deid/redact.js';

export { remapUid } from './dicom/deid/uid.js';
export {
  deidentifyDicom,
  DicomDeidError,
  DEFAULT_DEID_SETTINGS,
  type DeidOptions,
  type DeidReport,
  type DeidResult,
  type DeidSettings,
  type BurnedInAssessment,
  type ImageIdentity,
} from './dicom/deid/deidentify.js';
export type { RedactionRule, RedactionRect, RedactionResult } from './dicom/deid/redact.js';

/** Blacks out the first matching rule's rectangles (see dicom/deid/redact.ts); loads the decoders on first use. */
export async function redactDicom(bytes: Uint8Array, rules: RedactionRule[]): Promise<RedactionResult> {
  const { redactDicom: redact } = await import('./dicom/deid/redact.js');
  return redact(bytes, rules);
}
