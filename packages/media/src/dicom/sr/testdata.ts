// Synthetic source geometries for the SR and RTSTRUCT tests (imported only by tests).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SourceImageSeries } from '../write/source.js';

/** CT_small.dcm from the shared test data (PHI-free), read in place. */
export const CT_SMALL = fileURLToPath(new URL('../../../../../../shared/data/dicom/pydicom/CT_small.dcm', import.meta.url));

const CT_IMAGE = '1.2.840.10008.5.1.4.1.1.2';

/** A 64×48×10 axial volume (0.7 × 0.7 × 2.5 mm) or an oblique one, with one SOP instance per slice. */
export function syntheticSource(kind: 'axial' | 'oblique'): SourceImageSeries {
  const dims: [number, number, number] = [64, 48, 10];
  let affineLps: number[][];
  if (kind === 'axial') {
    affineLps = [
      [0.7, 0, 0, -22.05],
      [0, 0.7, 0, -16.45],
      [0, 0, 2.5, 30],
      [0, 0, 0, 1],
    ];
  } else {
    // Rows/columns rotated 30° about the patient's z axis and tilted 20° about x; slices along the normal.
    const a = (30 * Math.PI) / 180;
    const b = (20 * Math.PI) / 180;
    const row = [Math.cos(a), Math.sin(a) * Math.cos(b), Math.sin(a) * Math.sin(b)];
    const col = [-Math.sin(a), Math.cos(a) * Math.cos(b), Math.cos(a) * Math.sin(b)];
    const n = [row[1]! * col[2]! - row[2]! * col[1]!, row[2]! * col[0]! - row[0]! * col[2]!, row[0]! * col[1]! - row[1]! * col[0]!];
    const o = [12.3, -45.6, 78.9];
    affineLps = [0, 1, 2].map((r) => [row[r]! * 0.7, col[r]! * 0.7, n[r]! * 2.5, o[r]!]).concat([[0, 0, 0, 1]]);
  }
  const slices = Array.from({ length: dims[2] }, (_, k) => ({ sopClassUid: CT_IMAGE, sopInstanceUid: `2.25.1234567890123456789${kind === 'axial' ? 1 : 2}${String(k).padStart(2, '0')}` }));
  return { reference: readFileSync(CT_SMALL), dims, affineLps, slices };
}
