// Test support for the SEG tests: a synthetic, de-identified-looking source series (a minimal CT
// reference instance written with writePart10, per-slice SOP Instance UIDs and an affine) and a
// label map on it. Used by the unit tests and the benchmark; not part of the public API.
import { newUid, writePart10 } from '../write/source.js';
import type { SourceImageSeries } from '../write/source.js';

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

export interface SyntheticSeries {
  source: SourceImageSeries;
  studyUid: string;
  seriesUid: string;
  frameOfReferenceUid: string;
}

const cross = (a: number[], b: number[]): number[] => [a[1]! * b[2]! - a[2]! * b[1]!, a[2]! * b[0]! - a[0]! * b[2]!, a[0]! * b[1]! - a[1]! * b[0]!];

/**
 * A synthetic series of `dims` = [columns, rows, slices] with spacing [column, row, slice] mm.
 * `tiltDeg` rotates the image plane about S, then tilts it about the column direction (an oblique series).
 */
export function syntheticSeries(dims: [number, number, number], spacing: [number, number, number], tiltDeg = 0): SyntheticSeries {
  const studyUid = newUid();
  const seriesUid = newUid();
  const frameOfReferenceUid = newUid();
  const t = (tiltDeg * Math.PI) / 180;
  // Column direction (increasing i) and row direction (increasing j): rotated by t about S, then
  // the row direction is tilted by t about the column direction (unit and orthogonal by construction).
  const colDir = [Math.cos(t), Math.sin(t), 0];
  const rowDir = [-Math.sin(t) * Math.cos(t), Math.cos(t) * Math.cos(t), Math.sin(t)];
  const normal = cross(colDir, rowDir);
  const origin = [-120.25, -98.5, 31.75];
  const affineLps = [0, 1, 2].map((r) => [colDir[r]! * spacing[0], rowDir[r]! * spacing[1], normal[r]! * spacing[2], origin[r]!]);
  affineLps.push([0, 0, 0, 1]);
  const reference = writePart10(
    {
      SpecificCharacterSet: 'ISO_IR 192',
      PatientName: 'ANON^CALIPER',
      PatientID: 'ANON-0001',
      PatientBirthDate: '',
      PatientSex: 'O',
      PatientIdentityRemoved: 'YES',
      DeidentificationMethod: 'Caliper test fixture',
      StudyInstanceUID: studyUid,
      StudyDate: '20240101',
      StudyTime: '120000',
      ReferringPhysicianName: '',
      StudyID: 'S1',
      AccessionNumber: '',
      Modality: 'CT',
      SeriesInstanceUID: seriesUid,
      SeriesNumber: 1,
      FrameOfReferenceUID: frameOfReferenceUid,
      PositionReferenceIndicator: '',
      Rows: dims[1],
      Columns: dims[0],
      PixelSpacing: [spacing[1], spacing[0]],
      ImageOrientationPatient: [...colDir, ...rowDir],
      ImagePositionPatient: origin,
    },
    CT_IMAGE_STORAGE,
    newUid(),
  );
  const slices = Array.from({ length: dims[2] }, () => ({ sopClassUid: CT_IMAGE_STORAGE, sopInstanceUid: newUid() }));
  return { source: { reference, dims, affineLps, slices }, studyUid, seriesUid, frameOfReferenceUid };
}

/**
 * Fills `labels` (i + cols·(j + rows·k)) with an axis-aligned ellipsoid of `value` centred at
 * voxel (ci, cj, ck) with radii (ri, rj, rk) voxels; earlier values are overwritten.
 */
export function paintEllipsoid(
  labels: Uint8Array | Uint16Array,
  dims: [number, number, number],
  centre: [number, number, number],
  radii: [number, number, number],
  value: number,
): void {
  const [cols, rows, slices] = dims;
  const [ci, cj, ck] = centre;
  const [ri, rj, rk] = radii;
  for (let k = Math.max(0, Math.floor(ck - rk)); k <= Math.min(slices - 1, Math.ceil(ck + rk)); k++) {
    const dk = (k - ck) / rk;
    for (let j = Math.max(0, Math.floor(cj - rj)); j <= Math.min(rows - 1, Math.ceil(cj + rj)); j++) {
      const dj = (j - cj) / rj;
      const row = cols * (j + rows * k);
      for (let i = Math.max(0, Math.floor(ci - ri)); i <= Math.min(cols - 1, Math.ceil(ci + ri)); i++) {
        const di = (i - ci) / ri;
        if (di * di + dj * dj + dk * dk <= 1) labels[row + i] = value;
      }
    }
  }
}
