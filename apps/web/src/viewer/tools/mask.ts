// 2D mask painting on a working bitmap (row-major 0/1, one byte per pixel) and small RLE
// helpers. The bitmap is encoded to RLE (`@caliper/core` encodeRle) once, at pointer-up.

import { decodeRle, encodeRle, type MaskRle } from '@caliper/core';

export type { MaskRle };

/** Set (value 1) or clear (value 0) the pixels whose centre lies within `radius` of (cx, cy). */
export function paintDisc(bitmap: Uint8Array, width: number, height: number, cx: number, cy: number, radius: number, value: 0 | 1): void {
  const r2 = radius * radius;
  const r0 = Math.max(0, Math.floor(cy - radius - 0.5));
  const r1 = Math.min(height - 1, Math.ceil(cy + radius - 0.5));
  for (let r = r0; r <= r1; r++) {
    const dy = r + 0.5 - cy;
    const rest = r2 - dy * dy;
    if (rest < 0) continue;
    const half = Math.sqrt(rest);
    const c0 = Math.max(0, Math.ceil(cx - half - 0.5));
    const c1 = Math.min(width - 1, Math.floor(cx + half - 0.5));
    if (c1 >= c0) bitmap.fill(value, r * width + c0, r * width + c1 + 1);
  }
}

/** A brush stroke from `a` to `b`: discs every half radius so that fast drags leave no gaps. */
export function paintSegment(
  bitmap: Uint8Array,
  width: number,
  height: number,
  a: readonly [number, number],
  b: readonly [number, number],
  radius: number,
  value: 0 | 1,
): void {
  const d = Math.hypot(b[0] - a[0], b[1] - a[1]);
  const step = Math.max(0.25, radius / 2);
  const n = Math.max(1, Math.ceil(d / step));
  for (let s = 0; s <= n; s++) {
    const t = s / n;
    paintDisc(bitmap, width, height, a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, radius, value);
  }
}

/** Whether pixel (col, row) is set, walking the runs (no decode). */
export function rleValueAt(rle: MaskRle, col: number, row: number): boolean {
  const [height, width] = rle.size;
  if (col < 0 || row < 0 || col >= width || row >= height) return false;
  const target = row * width + col;
  let pos = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    pos += rle.counts[i]!;
    if (target < pos) return i % 2 === 1;
  }
  return false;
}

export function isEmptyRle(rle: MaskRle): boolean {
  return rle.counts.length <= 1;
}

/** The mask moved by whole pixels (parts moved off the image are dropped). */
export function shiftRle(rle: MaskRle, dx: number, dy: number): MaskRle {
  const [height, width] = rle.size;
  const src = decodeRle(rle);
  const out = new Uint8Array(height * width);
  for (let r = 0; r < height; r++) {
    const tr = r + dy;
    if (tr < 0 || tr >= height) continue;
    for (let c = 0; c < width; c++) {
      const tc = c + dx;
      if (tc < 0 || tc >= width) continue;
      out[tr * width + tc] = src[r * width + c]!;
    }
  }
  return encodeRle(out, height, width);
}

/** A working bitmap for painting: the existing mask decoded, or empty. */
export function workingBitmap(width: number, height: number, existing?: MaskRle): Uint8Array {
  if (existing && existing.size[0] === height && existing.size[1] === width) return decodeRle(existing);
  return new Uint8Array(width * height);
}

export function encodeBitmap(bitmap: Uint8Array, width: number, height: number): MaskRle {
  return encodeRle(bitmap, height, width);
}
