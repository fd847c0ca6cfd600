/**
 * Shape-based interpolation between annotated slices: when a segment was drawn on slices that
 * are not adjacent (e.g. 10, 20, 30 with nothing between), each empty slice between two
 * annotated ("key") slices gets the zero level set of the linear blend of the two key slices'
 * signed distance maps (in mm, from the exact 2D Euclidean distance transform of
 * agreement/masks.ts, with the in-plane spacing).
 *
 * Signed distance of a pixel: outside the mask, (distance to the nearest mask pixel) − h;
 * inside, −((distance to the nearest non-mask pixel) − h), with h = half the smaller in-plane
 * spacing, so the zero level lies half-way between boundary pixel centres and each key slice
 * reproduces itself exactly. A pixel of an interpolated slice at fraction t between key slices
 * A and B is in the segment when (1 − t)·sdA + t·sdB ≤ 0.
 */
import { squaredEdt } from '../agreement/masks.js';
import type { VoxelAxis } from '../geometry/plane-types.js';
import { DiffRecorder, forEachVoxelOf, type EditDiff, type LabelMap } from './labelmap.js';
import { axisStrides, inPlaneAxes, makePainter, paintRun } from './paint.js';

export interface InterpolateOptions {
  /** Segments whose voxels must not be changed. */
  locked?: ReadonlySet<number>;
  /** Also fill over voxels of other segments (default false: only background is filled). */
  overwrite?: boolean;
}

export interface InterpolateResult {
  diff: EditDiff | null;
  /** Slices (along the normal axis) that were filled. */
  filledSlices: number[];
  /** Slices that held the segment before (the key slices). */
  keySlices: number[];
}

/**
 * Fills the empty slices between non-adjacent annotated slices of `segment` along
 * `normalAxis` (default 2, i.e. between axial slices k). Returns one undoable diff.
 */
export function interpolateSlices(map: LabelMap, segment: number, normalAxis: VoxelAxis = 2, opts: InterpolateOptions = {}): InterpolateResult {
  map.checkValue(segment);
  if (segment === 0) throw new RangeError('cannot interpolate the background (0)');
  const [ua, va] = inPlaneAxes(normalAxis);
  const strides = axisStrides(map);
  const nu = map.dims[ua];
  const nv = map.dims[va];
  const nn = map.dims[normalAxis];
  const su = strides[ua];
  const sv = strides[va];
  const sn = strides[normalAxis];
  const data = map.data;

  // Which slices hold the segment, and the in-plane bounding box of the segment overall.
  const present = new Uint8Array(nn);
  let u0 = nu, u1 = -1, v0 = nv, v1 = -1;
  {
    const ni = map.dims[0];
    const sliceSize = map.sliceSize;
    forEachVoxelOf(map, segment, (idx) => {
      const k = Math.floor(idx / sliceSize);
      const rem = idx - k * sliceSize;
      const j = Math.floor(rem / ni);
      const i = rem - j * ni;
      present[normalAxis === 2 ? k : normalAxis === 1 ? j : i] = 1;
      const u = ua === 0 ? i : j;
      const v = va === 1 ? j : k;
      if (u < u0) u0 = u;
      if (u > u1) u1 = u;
      if (v < v0) v0 = v;
      if (v > v1) v1 = v;
    });
  }
  const keySlices: number[] = [];
  for (let s = 0; s < nn; s++) if (present[s] === 1) keySlices.push(s);
  const filledSlices: number[] = [];
  if (keySlices.length < 2) return { diff: null, filledSlices, keySlices };

  // Work box: the segment's in-plane bounding box plus a margin, so every distance that can
  // change the sign of a blend is measured inside it (outside, both maps are positive).
  const margin = 2;
  const bu0 = Math.max(0, u0 - margin);
  const bu1 = Math.min(nu - 1, u1 + margin);
  const bv0 = Math.max(0, v0 - margin);
  const bv1 = Math.min(nv - 1, v1 + margin);
  const bw = bu1 - bu0 + 1;
  const bh = bv1 - bv0 + 1;
  const spU = map.spacing[ua];
  const spV = map.spacing[va];
  const s2: [number, number, number] = [spU * spU, spV * spV, 1];
  const h = Math.min(spU, spV) / 2;

  const mask = new Uint8Array(bw * bh);
  const inverse = new Uint8Array(bw * bh);
  const signedDistance = (slice: number): Float64Array => {
    for (let y = 0; y < bh; y++) {
      const row = slice * sn + (bv0 + y) * sv + bu0 * su;
      for (let x = 0; x < bw; x++) {
        const inside = data[row + x * su] === segment ? 1 : 0;
        mask[x + y * bw] = inside;
        inverse[x + y * bw] = 1 - inside;
      }
    }
    const toMask = squaredEdt(mask, bw, bh, 1, s2);
    const toOutside = squaredEdt(inverse, bw, bh, 1, s2);
    const sd = new Float64Array(bw * bh);
    for (let p = 0; p < sd.length; p++) {
      const dOut = toMask[p] as number;
      if (dOut > 0) sd[p] = Math.sqrt(dOut) - h;
      else {
        const dIn = toOutside[p] as number;
        // A box entirely inside the mask (no outside pixel) counts as deep inside.
        sd[p] = dIn === Number.POSITIVE_INFINITY ? -1e9 : -(Math.sqrt(dIn) - h);
      }
    }
    return sd;
  };

  const recorder = new DiffRecorder(map);
  const painter = makePainter(map, { segment, locked: opts.locked, overwrite: opts.overwrite === true }, recorder);
  let changed = 0;
  let prev: { slice: number; sd: Float64Array } | null = null;
  for (const key of keySlices) {
    if (prev !== null && key - prev.slice > 1) {
      const next = signedDistance(key);
      const a = prev.sd;
      const gap = key - prev.slice;
      for (let s = prev.slice + 1; s < key; s++) {
        const t = (s - prev.slice) / gap;
        let sliceChanged = 0;
        for (let y = 0; y < bh; y++) {
          const row = s * sn + (bv0 + y) * sv + bu0 * su;
          // Paint runs of consecutive inside pixels with the shared kernel (locks, overwrite).
          let runStart = -1;
          for (let x = 0; x <= bw; x++) {
            const p = x + y * bw;
            const inside = x < bw && (1 - t) * (a[p] as number) + t * (next[p] as number) <= 0;
            if (inside) {
              if (runStart < 0) runStart = x;
            } else if (runStart >= 0) {
              sliceChanged += paintRun(painter, row + runStart * su, x - runStart, su);
              runStart = -1;
            }
          }
        }
        if (sliceChanged > 0) filledSlices.push(s);
        changed += sliceChanged;
      }
      prev = { slice: key, sd: next };
    } else {
      prev = { slice: key, sd: keySlices.length > 1 && needsDistance(keySlices, key) ? signedDistance(key) : new Float64Array(0) };
    }
  }
  if (changed > 0) map.version++;
  return { diff: changed > 0 ? recorder.finish() : null, filledSlices, keySlices };
}

/** Whether a key slice borders a gap on its right (its distance map will be the left end of a blend). */
function needsDistance(keys: number[], key: number): boolean {
  const at = keys.indexOf(key);
  const next = keys[at + 1];
  return next !== undefined && next - key > 1;
}
