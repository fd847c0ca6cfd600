// DICOM RT Structure Set reader: contours in patient LPS mm mapped back to pixel coordinates on
// a target volume (inverse affine, then +0.5 for the top-left-corner pixel origin). A contour
// must lie on a slice plane of the target (k integral within 1e-3) or it is skipped.
import { items as seqItems, numberOf, numbers, parseNatural, str, type Natural } from '../sr/dataset.js';
import { applyAffine, invertAffine } from '../sr/geometry.js';
import { RtStructError, RT_STRUCTURE_SET_STORAGE, type RtInterpretedType, type RtRoi } from './model.js';

export { RtStructError, type RtRoi } from './model.js';

/** The volume an RTSTRUCT is read onto. */
export interface RtReadTarget {
  affineLps: number[][];
  dims: [number, number, number];
  /** SOP Instance UID of each slice, when known: contours whose referenced image is another slice are skipped. */
  sopInstanceUids?: (string | null)[];
}

const SLICE_TOLERANCE = 1e-3;
const INTERPRETED: readonly RtInterpretedType[] = ['ORGAN', 'GTV', 'CTV', 'PTV', 'AVOIDANCE', 'CONTROL', ''];
/** Colour of an ROI without ROI Display Color. */
const DEFAULT_COLOR = '#ff0000';

function colorOf(v: unknown): string {
  const c = numbers(v);
  if (!c || c.length !== 3 || c.some((x) => x < 0 || x > 255)) return DEFAULT_COLOR;
  return `#${c.map((x) => Math.round(x).toString(16).padStart(2, '0')).join('')}`;
}

function contourOf(
  contour: Natural,
  inverse: number[][],
  target: RtReadTarget,
): { ok: true; slice: number; points: [number, number][] } | { ok: false; reason: string } {
  const type = str(contour.ContourGeometricType);
  if (type !== 'CLOSED_PLANAR') return { ok: false, reason: `contour type ${type ?? '(none)'} is not CLOSED_PLANAR` };
  const data = numbers(contour.ContourData);
  if (!data || data.length < 9 || data.length % 3) return { ok: false, reason: 'contour data is not a list of at least 3 points' };
  const voxels: number[][] = [];
  for (let n = 0; n < data.length; n += 3) voxels.push(applyAffine(inverse, [data[n] as number, data[n + 1] as number, data[n + 2] as number]));
  const k = Math.round(voxels[0]?.[2] ?? NaN);
  if (voxels.some((v) => Math.abs((v[2] as number) - k) > SLICE_TOLERANCE)) return { ok: false, reason: 'contour does not lie on a slice plane of the target' };
  if (!(k >= 0 && k < target.dims[2])) return { ok: false, reason: 'contour lies outside the target volume' };
  const refUid = str(seqItems(contour.ContourImageSequence)[0]?.ReferencedSOPInstanceUID);
  if (refUid && target.sopInstanceUids) {
    const at = target.sopInstanceUids.indexOf(refUid);
    if (at >= 0 && at !== k) return { ok: false, reason: 'contour plane does not match its referenced image' };
  }
  return { ok: true, slice: k, points: voxels.map((v) => [(v[0] as number) + 0.5, (v[1] as number) + 0.5]) };
}

/**
 * Reads an RT Structure Set onto a target volume: one RtRoi per structure, with its closed
 * planar contours as pixel polygons on target slices. Contours that are not closed planar, not
 * on a target slice plane, outside the volume or on a different image than they reference are
 * skipped with a reason. Throws RtStructError for bytes that are not a DICOM RTSTRUCT or a
 * target whose affine is singular.
 */
export function readRtStruct(bytes: Uint8Array, target: RtReadTarget): { rois: RtRoi[]; skipped: { roi: string; reason: string }[] } {
  const ds = parseNatural(bytes);
  if (!ds) throw new RtStructError('not-dicom', 'The file is not a readable DICOM file (not Part-10, or truncated)');
  if (str(ds.SOPClassUID) !== RT_STRUCTURE_SET_STORAGE) throw new RtStructError('not-rtstruct', 'The file is not a DICOM RT Structure Set');
  let inverse: number[][];
  try {
    inverse = invertAffine(target.affineLps);
  } catch (e) {
    throw new RtStructError('invalid-input', 'The target affine is singular', { cause: e });
  }

  const names = new Map<number, string>();
  for (const s of seqItems(ds.StructureSetROISequence)) {
    const n = numberOf(s.ROINumber);
    if (n !== null) names.set(n, str(s.ROIName) ?? '');
  }
  const types = new Map<number, string>();
  for (const o of seqItems(ds.RTROIObservationsSequence)) {
    const n = numberOf(o.ReferencedROINumber);
    if (n !== null) types.set(n, str(o.RTROIInterpretedType) ?? '');
  }

  const rois: RtRoi[] = [];
  const skipped: { roi: string; reason: string }[] = [];
  for (const rc of seqItems(ds.ROIContourSequence)) {
    const number = numberOf(rc.ReferencedROINumber);
    if (number === null) {
      skipped.push({ roi: '', reason: 'ROI contour without a referenced ROI number' });
      continue;
    }
    const name = names.get(number) ?? `ROI ${number}`;
    const roi: RtRoi = { number, name, color: colorOf(rc.ROIDisplayColor), contours: [] };
    const type = types.get(number);
    if (type !== undefined) {
      if ((INTERPRETED as readonly string[]).includes(type)) roi.interpretedType = type as RtInterpretedType;
      else skipped.push({ roi: name, reason: `interpreted type ${type} is not supported; left empty` });
    }
    for (const c of seqItems(rc.ContourSequence)) {
      const r = contourOf(c, inverse, target);
      if (r.ok) roi.contours.push({ slice: r.slice, points: r.points });
      else skipped.push({ roi: name, reason: r.reason });
    }
    rois.push(roi);
  }
  return { rois, skipped };
}
