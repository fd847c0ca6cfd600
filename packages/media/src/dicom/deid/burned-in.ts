// Burned-in annotation assessment: may the pixels themselves carry identifying text?
//
// Rule (only for objects with Pixel Data):
//   1. BurnedInAnnotation (0028,0301) = YES                       -> flagged;
//   2. Modality US, SC, XA, ES, XC or a Secondary Capture SOP class -> flagged even when
//      BurnedInAnnotation says NO: these devices commonly draw patient data into the image
//      and the attribute is unreliable there;
//   3. Modality DX, CR, MG, OT, RF, or no Modality at all          -> flagged unless
//      BurnedInAnnotation = NO.
// Reasons are fixed strings (never attribute values), so they can be logged.
import type { DcmjsDataset } from 'dcmjs';

export interface BurnedInAssessment {
  flagged: boolean;
  reasons: string[];
}

/** De-identified attributes that redaction rules match on. */
export interface ImageIdentity {
  manufacturer?: string;
  model?: string;
  modality?: string;
  rows?: number;
  columns?: number;
}

const ALWAYS = new Set(['US', 'SC', 'XA', 'ES', 'XC']);
const UNLESS_NO = new Set(['DX', 'CR', 'MG', 'OT', 'RF']);
const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7';

function str(ds: DcmjsDataset, tag: string): string | undefined {
  const v = ds[tag]?.Value?.[0];
  return typeof v === 'string' ? v.replace(/[\0 ]+$/, '').trim() : undefined;
}

function num(ds: DcmjsDataset, tag: string): number | undefined {
  const v = ds[tag]?.Value?.[0];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function assessBurnedIn(ds: DcmjsDataset, hasPixelData: boolean): BurnedInAssessment {
  const reasons: string[] = [];
  if (!hasPixelData) return { flagged: false, reasons };
  const bia = str(ds, '00280301')?.toUpperCase();
  const modality = str(ds, '00080060')?.toUpperCase();
  const sopClass = str(ds, '00080016');
  if (bia === 'YES') reasons.push('BurnedInAnnotation is YES');
  if (modality && ALWAYS.has(modality)) reasons.push(`Modality ${modality} often has burned-in text`);
  if (sopClass?.startsWith(SECONDARY_CAPTURE)) reasons.push('Secondary Capture object');
  if (bia !== 'NO' && bia !== 'YES') {
    if (modality && UNLESS_NO.has(modality)) reasons.push(`Modality ${modality} without BurnedInAnnotation NO`);
    if (!modality) reasons.push('No Modality and no BurnedInAnnotation NO');
  }
  return { flagged: reasons.length > 0, reasons };
}

export function imageIdentity(ds: DcmjsDataset): ImageIdentity {
  const out: ImageIdentity = {};
  const manufacturer = str(ds, '00080070');
  const model = str(ds, '00081090');
  const modality = str(ds, '00080060');
  const rows = num(ds, '00280010');
  const columns = num(ds, '00280011');
  if (manufacturer) out.manufacturer = manufacturer;
  if (model) out.model = model;
  if (modality) out.modality = modality;
  if (rows !== undefined) out.rows = rows;
  if (columns !== undefined) out.columns = columns;
  return out;
}
