/**
 * DICOM series → volume geometry (pure, isomorphic).
 *
 * Conventions (see "Coordinates and units" in DESIGN.md):
 * - Voxel indices are (i = column, j = row, k = slice index in `order`).
 * - The affine maps voxel indices to DICOM patient coordinates (LPS, mm):
 *     column 0 = row cosine (IOP[0..2]) · column spacing (PixelSpacing[1])
 *     column 1 = column cosine (IOP[3..5]) · row spacing (PixelSpacing[0]; row spacing first!)
 *     column 2 = mean step between consecutive sorted slice positions, i.e.
 *                (IPP_last − IPP_first) / (N − 1); never derived from SliceThickness
 *     column 3 = ImagePositionPatient of the first sorted slice
 * - Slices are sorted by their position along the slice normal n = rowCosine × columnCosine,
 *   ascending, so the k axis always points along +n.
 *
 * Tolerances (all documented in TOLERANCES below):
 * - Orientation: two slices share an orientation when every component of their (normalised)
 *   row and column cosines differs by at most 1e-3 (≈ 0.06°). IOP is accepted as valid when
 *   both cosines have length 1 ± 1e-2 and their dot product is at most 1e-2 in magnitude.
 * - Duplicate position: consecutive positions along n closer than 1e-3 mm.
 * - Spacing: a step s is regular when |s − sMin| ≤ tol, with sMin the smallest step and
 *   tol = max(1 % · sMin, 1e-4 mm). A step within m · tol of m · sMin for an integer m ≥ 2 is a
 *   gap of m − 1 missing slices; anything else is non-uniform spacing.
 * - Gantry tilt: the angle between the mean step vector and n exceeds 0.5°.
 *
 * Multi-frame objects: pass one SliceGeometry per frame (e.g. id = `${sopInstanceUid}#${frame}`)
 * with the per-frame values from the functional groups. An entry with numberOfFrames > 1 has no
 * per-frame geometry here and makes the series a stack flagged 'missing-geometry'.
 */

export type Vec3 = [number, number, number];
/** A 4×4 matrix, row-major: `m[row][col]`. */
export type Matrix4 = number[][];

export interface SliceGeometry {
  /** SOP Instance UID (or SOP Instance UID + frame number for expanded multi-frame objects). */
  id: string;
  imagePositionPatient?: Vec3;
  imageOrientationPatient?: [number, number, number, number, number, number];
  /** [row spacing, column spacing] in mm, as stored in DICOM (row spacing first). */
  pixelSpacing?: [number, number];
  rows: number;
  columns: number;
  instanceNumber?: number;
  imageType?: string[];
  numberOfFrames?: number;
}

export type SeriesIssueCode =
  | 'non-uniform-spacing'
  | 'gantry-tilt'
  | 'missing-slices'
  | 'mixed-orientation'
  | 'duplicate-position'
  | 'missing-geometry'
  | 'projection'
  /** Rows, columns or PixelSpacing differ between slices: cannot share one voxel grid. */
  | 'mixed-dimensions';

export interface SeriesIssue {
  code: SeriesIssueCode;
  message: string;
}

export interface SeriesGeometry {
  /** 'volume' = one 3D voxel grid; 'stack' = 2D images viewed one by one. */
  kind: 'volume' | 'stack';
  /** Slice ids: volumes by position along n ascending; stacks by instanceNumber, then id. */
  order: string[];
  /**
   * Voxel → LPS mm. Set for volumes and for a single slice with complete geometry
   * (whose column 2 is the unit normal n, i.e. a nominal 1 mm, since one slice has no step);
   * null for multi-slice stacks and when geometry is missing.
   */
  affineLps: Matrix4 | null;
  /** [column spacing, row spacing, slice step length] in mm; null when not defined (see affineLps). */
  spacing: Vec3 | null;
  /** [columns, rows, number of slices] (columns and rows of the first slice in `order`). */
  dims: Vec3;
  /** ImagePositionPatient of each slice in `order` (volumes only; exact positions for flagged volumes). */
  positionsLps: Vec3[] | null;
  issues: SeriesIssue[];
}

export const TOLERANCES = {
  /** Max abs difference of a cosine component for two orientations to count as equal. */
  orientation: 1e-3,
  /** Accepted deviation of |cosine| from 1 and of the cosines' dot product from 0. */
  orthonormality: 1e-2,
  /** Consecutive slices closer than this (mm, along n) are at the same position. */
  duplicateMm: 1e-3,
  /** Relative spacing tolerance. */
  spacingRelative: 0.01,
  /** Absolute floor of the spacing tolerance (mm), for DS rounding. */
  spacingAbsoluteMm: 1e-4,
  /** Max angle (degrees) between the slice step and n before a series counts as tilted. */
  tiltDegrees: 0.5,
} as const;

const PROJECTION_TYPES = new Set(['LOCALIZER', 'SCOUT', 'TOPOGRAM', 'PROJECTION IMAGE', 'PROJECTION', 'MIP', 'MAX_IP', 'MIN_IP']);

// ---------------------------------------------------------------- small vector helpers

const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
const norm = (a: Vec3): number => Math.hypot(a[0], a[1], a[2]);
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const allFinite = (xs: readonly number[]): boolean => xs.every((x) => Number.isFinite(x));
const fmt = (x: number): string => String(Number(x.toFixed(4)));

// ---------------------------------------------------------------- affine helpers

/** Apply a 4×4 affine to voxel indices (i = column, j = row, k = slice). */
export function voxelToLps(affine: Matrix4, ijk: readonly [number, number, number]): Vec3 {
  const out: Vec3 = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    const row = affine[r];
    if (!row || row.length < 4) throw new RangeError('affine must be 4x4');
    out[r] = row[0]! * ijk[0] + row[1]! * ijk[1] + row[2]! * ijk[2] + row[3]!;
  }
  return out;
}

/** Inverse of voxelToLps (general 3×3 inverse, so sheared/tilted affines work). Throws if singular. */
export function lpsToVoxel(affine: Matrix4, lps: readonly [number, number, number]): Vec3 {
  const m = (r: number, c: number): number => {
    const v = affine[r]?.[c];
    if (v === undefined) throw new RangeError('affine must be 4x4');
    return v;
  };
  const a = m(0, 0), b = m(0, 1), c = m(0, 2);
  const d = m(1, 0), e = m(1, 1), f = m(1, 2);
  const g = m(2, 0), h = m(2, 1), k = m(2, 2);
  const det = a * (e * k - f * h) - b * (d * k - f * g) + c * (d * h - e * g);
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new RangeError('affine is singular');
  const x = lps[0] - m(0, 3), y = lps[1] - m(1, 3), z = lps[2] - m(2, 3);
  return [
    ((e * k - f * h) * x - (b * k - c * h) * y + (b * f - c * e) * z) / det,
    (-(d * k - f * g) * x + (a * k - c * g) * y - (a * f - c * d) * z) / det,
    ((d * h - e * g) * x - (a * h - b * g) * y + (a * e - b * d) * z) / det,
  ];
}

/** diag(-1, -1, 1, 1) · affine: LPS affine → RAS affine (NIfTI). Its own inverse. */
export function rasFromLps(affine: Matrix4): Matrix4 {
  if (affine.length !== 4 || affine.some((row) => row.length !== 4)) throw new RangeError('affine must be 4x4');
  return affine.map((row, r) => row.map((v) => (r < 2 ? (v === 0 ? 0 : -v) : v)));
}

/** diag(-1, -1, 1, 1) · affine: RAS affine (NIfTI) → LPS affine. Same operation as rasFromLps. */
export const lpsFromRas = rasFromLps;

// ---------------------------------------------------------------- assembly

interface Plane {
  id: string;
  ipp: Vec3;
  row: Vec3; // normalised row cosine (direction of increasing column index i)
  col: Vec3; // normalised column cosine (direction of increasing row index j)
  rawRow: Vec3;
  rawCol: Vec3;
  rowSpacing: number;
  colSpacing: number;
}

/**
 * Orders ids with runs of digits compared as numbers, so that frames `sop#2` come before
 * `sop#10`; otherwise by code unit (locale-independent, so the order is the same everywhere).
 */
function compareIds(a: string, b: string): number {
  const ra = a.split(/(\d+)/);
  const rb = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    const x = ra[i]!;
    const y = rb[i]!;
    if (x === y) continue;
    if (i % 2 === 1) {
      const d = Number(x) - Number(y);
      if (d !== 0) return d < 0 ? -1 : 1;
    }
    return x < y ? -1 : 1;
  }
  return ra.length - rb.length || (a < b ? -1 : a > b ? 1 : 0);
}

function stackOrder(slices: readonly SliceGeometry[]): string[] {
  return [...slices]
    .sort((a, b) => {
      const ia = Number.isFinite(a.instanceNumber) ? a.instanceNumber! : Number.POSITIVE_INFINITY;
      const ib = Number.isFinite(b.instanceNumber) ? b.instanceNumber! : Number.POSITIVE_INFINITY;
      if (ia !== ib) return ia < ib ? -1 : 1;
      return compareIds(a.id, b.id);
    })
    .map((s) => s.id);
}

function planeOf(s: SliceGeometry): Plane | string {
  const ipp = s.imagePositionPatient;
  const iop = s.imageOrientationPatient;
  const ps = s.pixelSpacing;
  const missing: string[] = [];
  if (!ipp || ipp.length !== 3 || !allFinite(ipp)) missing.push('ImagePositionPatient');
  if (!iop || iop.length !== 6 || !allFinite(iop)) missing.push('ImageOrientationPatient');
  if (!ps || ps.length !== 2 || !allFinite(ps) || ps[0] <= 0 || ps[1] <= 0) missing.push('PixelSpacing');
  if (missing.length > 0 || !ipp || !iop || !ps) return `missing or invalid ${missing.join(', ')}`;
  const rawRow: Vec3 = [iop[0], iop[1], iop[2]];
  const rawCol: Vec3 = [iop[3], iop[4], iop[5]];
  const nr = norm(rawRow);
  const nc = norm(rawCol);
  const tol = TOLERANCES.orthonormality;
  if (Math.abs(nr - 1) > tol || Math.abs(nc - 1) > tol || Math.abs(dot(rawRow, rawCol)) / (nr * nc) > tol) {
    return 'ImageOrientationPatient is not two orthonormal unit vectors';
  }
  return {
    id: s.id,
    ipp: [ipp[0], ipp[1], ipp[2]],
    row: scale(rawRow, 1 / nr),
    col: scale(rawCol, 1 / nc),
    rawRow,
    rawCol,
    rowSpacing: ps[0],
    colSpacing: ps[1],
  };
}

function sameOrientation(a: Plane, b: Plane): boolean {
  const t = TOLERANCES.orientation;
  for (let i = 0; i < 3; i++) {
    if (Math.abs(a.row[i]! - b.row[i]!) > t || Math.abs(a.col[i]! - b.col[i]!) > t) return false;
  }
  return true;
}

function buildAffine(p: Plane, step: Vec3, origin: Vec3): Matrix4 {
  const c0 = scale(p.rawRow, p.colSpacing);
  const c1 = scale(p.rawCol, p.rowSpacing);
  return [
    [c0[0], c1[0], step[0], origin[0]],
    [c0[1], c1[1], step[1], origin[1]],
    [c0[2], c1[2], step[2], origin[2]],
    [0, 0, 0, 1],
  ];
}

function isProjectionType(imageType: readonly string[] | undefined): boolean {
  if (!imageType) return false;
  return imageType.some((v) => {
    const t = v.trim().toUpperCase();
    return PROJECTION_TYPES.has(t) || t.startsWith('MIP_');
  });
}

/**
 * Turn the geometry of a series' single-frame instances into a volume (one voxel grid with an
 * LPS affine) or a 2D image stack, and report every geometric irregularity found.
 * Throws RangeError for an empty input or a repeated id (deduplicating instances is the caller's job).
 */
export function assembleSeries(slices: readonly SliceGeometry[]): SeriesGeometry {
  if (slices.length === 0) throw new RangeError('assembleSeries: no slices');
  const seen = new Set<string>();
  for (const s of slices) {
    if (seen.has(s.id)) throw new RangeError(`assembleSeries: id ${s.id} given twice`);
    seen.add(s.id);
  }

  const issues: SeriesIssue[] = [];
  const stacked = (): SeriesGeometry => {
    const order = stackOrder(slices);
    const first = slices.find((s) => s.id === order[0])!;
    return { kind: 'stack', order, affineLps: null, spacing: null, dims: [first.columns, first.rows, order.length], positionsLps: null, issues };
  };

  // Multi-frame instances without per-frame geometry.
  const multiFrame = slices.filter((s) => (s.numberOfFrames ?? 1) > 1);
  if (multiFrame.length > 0) {
    issues.push({
      code: 'missing-geometry',
      message: `${multiFrame.length} multi-frame instance(s) without per-frame geometry; pass one entry per frame from the functional groups`,
    });
  }

  // Localizers and projections are never volumes.
  const projections = slices.filter((s) => isProjectionType(s.imageType));
  if (projections.length > 0) {
    issues.push({
      code: 'projection',
      message: `${projections.length} of ${slices.length} slice(s) are localizer/projection images (ImageType), kept as a 2D stack`,
    });
  }

  // Per-slice plane geometry.
  const planes: Plane[] = [];
  const missing: string[] = [];
  for (const s of slices) {
    const p = planeOf(s);
    if (typeof p === 'string') missing.push(`${s.id}: ${p}`);
    else planes.push(p);
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 3).join('; ');
    issues.push({
      code: 'missing-geometry',
      message: `${missing.length} of ${slices.length} slice(s) lack usable geometry (${shown}${missing.length > 3 ? '; …' : ''})`,
    });
    return stacked();
  }

  // Grid consistency: rows, columns and pixel spacing must agree.
  const ref = slices[0]!;
  const refPlane = planes[0]!;
  const spacingTol = (x: number): number => Math.max(TOLERANCES.spacingRelative * x, TOLERANCES.spacingAbsoluteMm);
  const mismatched = slices.filter(
    (s, idx) =>
      s.rows !== ref.rows ||
      s.columns !== ref.columns ||
      Math.abs(planes[idx]!.rowSpacing - refPlane.rowSpacing) > spacingTol(refPlane.rowSpacing) ||
      Math.abs(planes[idx]!.colSpacing - refPlane.colSpacing) > spacingTol(refPlane.colSpacing),
  );
  if (mismatched.length > 0) {
    issues.push({
      code: 'mixed-dimensions',
      message: `${mismatched.length} slice(s) differ from ${ref.id} in rows, columns or pixel spacing`,
    });
  }

  // Orientation.
  const mixed = planes.some((p) => !sameOrientation(p, refPlane));
  if (mixed) {
    const groups: Plane[] = [];
    for (const p of planes) if (!groups.some((g) => sameOrientation(g, p))) groups.push(p);
    issues.push({ code: 'mixed-orientation', message: `${groups.length} different slice orientations in one series` });
    const p0 = planes[0]!.ipp;
    const samePosition = planes.every((p) => norm(sub(p.ipp, p0)) <= TOLERANCES.duplicateMm);
    if (samePosition && projections.length === 0) {
      issues.push({ code: 'projection', message: 'all slices share one position with different orientations (projections/localizers)' });
    }
  }

  // A single localizer still gets its plane affine below; several never form a volume.
  if (mixed || multiFrame.length > 0 || mismatched.length > 0 || (projections.length > 0 && planes.length > 1)) return stacked();

  const n = cross(refPlane.row, refPlane.col);
  const nn = norm(n);
  const normal = scale(n, 1 / nn);
  const ordered = planes
    .map((p, idx) => ({ p, d: dot(p.ipp, normal), inst: slices[idx]!.instanceNumber }))
    .sort((a, b) => {
      if (a.d !== b.d) return a.d - b.d;
      const ia = Number.isFinite(a.inst) ? a.inst! : Number.POSITIVE_INFINITY;
      const ib = Number.isFinite(b.inst) ? b.inst! : Number.POSITIVE_INFINITY;
      if (ia !== ib) return ia < ib ? -1 : 1;
      return compareIds(a.p.id, b.p.id);
    });

  const first = ordered[0]!.p;
  if (ordered.length === 1) {
    // A single slice: a 2D image with a full plane geometry; k steps 1 mm along n by convention.
    return {
      kind: 'stack',
      order: [first.id],
      affineLps: buildAffine(first, normal, first.ipp),
      spacing: [first.colSpacing, first.rowSpacing, 1],
      dims: [ref.columns, ref.rows, 1],
      positionsLps: [first.ipp],
      issues,
    };
  }

  // Steps along n between consecutive sorted slices.
  const steps = ordered.slice(1).map((o, idx) => o.d - ordered[idx]!.d);
  const dupCount = steps.filter((s) => s < TOLERANCES.duplicateMm).length;
  if (dupCount > 0) {
    issues.push({
      code: 'duplicate-position',
      message: `${dupCount} slice(s) share a position along the slice normal with another slice (repeated acquisition, echoes or phases?)`,
    });
    return stacked();
  }

  const sMin = Math.min(...steps);
  const tol = spacingTol(sMin);
  let missingSlices = 0;
  let gaps = 0;
  let irregular = 0;
  for (const s of steps) {
    if (Math.abs(s - sMin) <= tol) continue;
    const m = Math.round(s / sMin);
    if (m >= 2 && Math.abs(s - m * sMin) <= m * tol) {
      gaps++;
      missingSlices += m - 1;
    } else {
      irregular++;
    }
  }
  if (gaps > 0) {
    issues.push({
      code: 'missing-slices',
      message: `${missingSlices} slice(s) missing in ${gaps} gap(s) (regular step ${fmt(sMin)} mm)`,
    });
  }
  if (irregular > 0) {
    issues.push({
      code: 'non-uniform-spacing',
      message: `${irregular} of ${steps.length} slice steps deviate from ${fmt(sMin)} mm by more than ${TOLERANCES.spacingRelative * 100}% (range ${fmt(sMin)}–${fmt(Math.max(...steps))} mm)`,
    });
  }

  const last = ordered[ordered.length - 1]!.p;
  const step = scale(sub(last.ipp, first.ipp), 1 / (ordered.length - 1));
  const stepLen = norm(step);
  const cosAngle = Math.min(1, Math.max(-1, dot(step, normal) / stepLen));
  const angle = (Math.acos(cosAngle) * 180) / Math.PI;
  if (angle > TOLERANCES.tiltDegrees) {
    issues.push({
      code: 'gantry-tilt',
      message: `slice positions step ${fmt(angle)}° off the slice normal (gantry tilt or sheared acquisition)`,
    });
  }

  return {
    kind: 'volume',
    order: ordered.map((o) => o.p.id),
    affineLps: buildAffine(first, step, first.ipp),
    spacing: [first.colSpacing, first.rowSpacing, stepLen],
    dims: [ref.columns, ref.rows, ordered.length],
    positionsLps: ordered.map((o) => o.p.ipp),
    issues,
  };
}
