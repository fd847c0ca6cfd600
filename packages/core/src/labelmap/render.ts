/**
 * Label-map overlay for the viewer: one plane of the label map as RGBA pixels (filled, outlined
 * or both), cut with a {@link PlaneMapping} (axial/coronal/sagittal with their flips), plus the
 * conversions between plane pixel coordinates and voxel coordinates the tools need.
 *
 * Colours are packed per label value as a Uint32 in the platform's (little-endian) byte order
 * over an RGBA Uint8ClampedArray, i.e. 0xAABBGGRR: write the output's buffer straight into an
 * ImageData. Use {@link packRgba} to build them.
 */
import type { PlaneMapping } from '../geometry/plane-types.js';
import type { LabelMap } from './labelmap.js';

export interface RenderLabelOptions {
  /** Paint segment interiors (default true). */
  fill?: boolean;
  /** Paint the boundary pixels of each segment (default false). */
  outline?: boolean;
  /** Global multiplier of the fill alpha (the colour's own alpha), 0..1; default 1. */
  opacity?: number;
  /** Outline alpha 0..1 (times 255); default 1. */
  outlineOpacity?: number;
  /** Per label value multiplier of both alphas, 0..1 (missing entries count as 1). */
  segmentOpacity?: ArrayLike<number>;
  /** Label values not drawn. */
  hidden?: ReadonlySet<number>;
}

/** Packs r, g, b, a (0..255) as the little-endian Uint32 of the bytes [r, g, b, a]. */
export function packRgba(r: number, g: number, b: number, a = 255): number {
  return ((a & 0xff) << 24 | (b & 0xff) << 16 | (g & 0xff) << 8 | (r & 0xff)) >>> 0;
}

function checkMapping(map: LabelMap, mapping: PlaneMapping, slice: number): void {
  const { uAxis, vAxis, normalAxis } = mapping;
  if (new Set([uAxis, vAxis, normalAxis]).size !== 3) throw new RangeError(`plane mapping axes must differ, got u ${uAxis}, v ${vAxis}, normal ${normalAxis}`);
  if (mapping.width !== map.dims[uAxis] || mapping.height !== map.dims[vAxis]) {
    throw new RangeError(`plane mapping is ${mapping.width}×${mapping.height} but the label map gives ${map.dims[uAxis]}×${map.dims[vAxis]}`);
  }
  if (!Number.isInteger(slice) || slice < 0 || slice >= map.dims[normalAxis]) {
    throw new RangeError(`slice ${slice} is outside 0..${map.dims[normalAxis] - 1}`);
  }
}

let scratch = new Uint16Array(0);
let fillPalette = new Uint32Array(0);
let outlinePalette = new Uint32Array(0);

/**
 * Writes the RGBA overlay of `slice` into `out` (width×height of the mapping, row-major, every
 * pixel written: 0 = transparent where nothing is drawn). `colors[value]` is the packed colour of
 * label value `value` (index 0 is ignored; values beyond `colors.length` are not drawn).
 * Outline pixels are segment pixels with a 4-neighbour of another value, or on the image edge.
 */
export function renderLabelSlice(
  map: LabelMap,
  mapping: PlaneMapping,
  slice: number,
  colors: Uint32Array,
  out: Uint32Array,
  opts: RenderLabelOptions = {},
): void {
  checkMapping(map, mapping, slice);
  const W = mapping.width;
  const H = mapping.height;
  if (out.length !== W * H) throw new RangeError(`output has ${out.length} pixels, the plane ${W}×${H}`);
  const fill = opts.fill !== false;
  const outline = opts.outline === true;
  const opacity = clamp01(opts.opacity ?? 1);
  const outlineOpacity = clamp01(opts.outlineOpacity ?? 1);

  // Palettes (label value → packed colour with the final alpha; 0 = not drawn).
  const nColors = Math.min(colors.length, map.maxLabel + 1);
  if (fillPalette.length < map.maxLabel + 1) {
    fillPalette = new Uint32Array(map.maxLabel + 1);
    outlinePalette = new Uint32Array(map.maxLabel + 1);
  }
  fillPalette.fill(0);
  outlinePalette.fill(0);
  const segOpacity = opts.segmentOpacity;
  for (let v = 1; v < nColors; v++) {
    if (opts.hidden?.has(v)) continue;
    const c = colors[v] as number;
    const so = segOpacity !== undefined && v < segOpacity.length ? clamp01(segOpacity[v] as number) : 1;
    const rgb = c & 0x00ffffff;
    if (fill) fillPalette[v] = (rgb | (Math.round((c >>> 24) * opacity * so) << 24)) >>> 0;
    if (outline) outlinePalette[v] = (rgb | (Math.round(255 * outlineOpacity * so) << 24)) >>> 0;
  }

  const strides = [1, map.dims[0], map.sliceSize];
  const sU = strides[mapping.uAxis] as number;
  const sV = strides[mapping.vAxis] as number;
  const base = slice * (strides[mapping.normalAxis] as number);
  const stepU = mapping.uFlip ? -sU : sU;
  const u0 = mapping.uFlip ? (W - 1) * sU : 0;
  const data = map.data;

  if (!outline) {
    // Fill only: straight from the label data, one row at a time.
    const pal = fillPalette;
    let p = 0;
    for (let y = 0; y < H; y++) {
      const v = mapping.vFlip ? H - 1 - y : y;
      let idx = base + v * sV + u0;
      for (let x = 0; x < W; x++, idx += stepU) out[p++] = pal[data[idx] as number] as number;
    }
    return;
  }

  // Outline: gather the plane's labels first so neighbours are cheap to compare.
  if (scratch.length < W * H) scratch = new Uint16Array(W * H);
  const L = scratch;
  let p = 0;
  for (let y = 0; y < H; y++) {
    const v = mapping.vFlip ? H - 1 - y : y;
    let idx = base + v * sV + u0;
    for (let x = 0; x < W; x++, idx += stepU) L[p++] = data[idx] as number;
  }
  const fpal = fillPalette;
  const opal = outlinePalette;
  p = 0;
  for (let y = 0; y < H; y++) {
    const edgeRow = y === 0 || y === H - 1;
    for (let x = 0; x < W; x++, p++) {
      const l = L[p] as number;
      if (l === 0) {
        out[p] = 0;
        continue;
      }
      const boundary =
        edgeRow || x === 0 || x === W - 1 || L[p - 1] !== l || L[p + 1] !== l || L[p - W] !== l || L[p + W] !== l;
      out[p] = boundary ? (opal[l] as number) : (fpal[l] as number);
    }
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : Number.isFinite(x) ? x : 1;
}
