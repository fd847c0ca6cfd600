/**
 * Uncompressed run-length encoding of a binary 2D mask.
 *
 * - `size` is `[height, width]` (rows, columns), as in COCO.
 * - Pixels are visited in ROW-MAJOR order (index = y * width + x), unlike COCO, which is
 *   column-major; the COCO converter transposes.
 * - `counts` alternates run lengths of 0s and 1s, always STARTING WITH ZEROS (the first count
 *   is 0 when the first pixel is set). All later counts are > 0, so every mask has exactly one
 *   encoding and masks can be compared by their counts. The counts sum to height * width.
 */
export interface MaskRle {
  size: [number, number];
  counts: number[];
}

/** Why this RLE is malformed, or undefined when it is valid. */
export function rleProblem(rle: { size: readonly number[]; counts: readonly number[] }): string | undefined {
  const [height, width] = rle.size;
  if (rle.size.length !== 2 || height === undefined || width === undefined) return 'size must be [height, width]';
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    return 'height and width must be positive integers';
  }
  let total = 0;
  for (let i = 0; i < rle.counts.length; i++) {
    const c = rle.counts[i] ?? 0;
    if (!Number.isInteger(c) || c < 0) return `counts[${i}] must be a non-negative integer`;
    if (i > 0 && c === 0) return `counts[${i}] is 0; only the first run (of zeros) may be empty`;
    total += c;
  }
  if (total !== height * width) {
    return `counts add up to ${total} pixels but the mask has ${height} x ${width} = ${height * width}`;
  }
  return undefined;
}

/** Encode a row-major mask (any non-zero value counts as set). */
export function encodeRle(pixels: ArrayLike<number | boolean>, height: number, width: number): MaskRle {
  if (pixels.length !== height * width) {
    throw new RangeError(`mask has ${pixels.length} pixels, expected ${height} x ${width} = ${height * width}`);
  }
  const counts: number[] = [];
  let current = false;
  let run = 0;
  for (let i = 0; i < pixels.length; i++) {
    const set = Boolean(pixels[i]);
    if (set !== current) {
      counts.push(run);
      run = 0;
      current = set;
    }
    run++;
  }
  counts.push(run);
  return { size: [height, width], counts };
}

/** Decode to a row-major array of 0/1 of length height * width. */
export function decodeRle(rle: MaskRle): Uint8Array {
  const problem = rleProblem(rle);
  if (problem !== undefined) throw new RangeError(`invalid RLE: ${problem}`);
  const [height, width] = rle.size;
  const out = new Uint8Array(height * width);
  let pos = 0;
  rle.counts.forEach((count, i) => {
    if (i % 2 === 1) out.fill(1, pos, pos + count);
    pos += count;
  });
  return out;
}

/** Number of set pixels (the sum of the runs of ones). */
export function rleArea(rle: { counts: readonly number[] }): number {
  let area = 0;
  for (let i = 1; i < rle.counts.length; i += 2) area += rle.counts[i] ?? 0;
  return area;
}

/**
 * Pixel-edge bounds of the set pixels (`maxX`/`maxY` exclusive: a single pixel at (3, 4) gives
 * 3..4 x 4..5), or undefined for an empty mask. Walks runs, not pixels.
 */
export function rleBounds(rle: MaskRle): { minX: number; minY: number; maxX: number; maxY: number } | undefined {
  const width = rle.size[1];
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  let pos = 0;
  rle.counts.forEach((count, i) => {
    if (i % 2 === 1 && count > 0) {
      const first = pos;
      const last = pos + count - 1;
      const y0 = Math.floor(first / width);
      const y1 = Math.floor(last / width);
      minY = Math.min(minY, y0);
      maxY = Math.max(maxY, y1 + 1);
      if (y0 === y1) {
        minX = Math.min(minX, first % width);
        maxX = Math.max(maxX, (last % width) + 1);
      } else {
        // The run wraps a row end, so it touches both the first and the last column.
        minX = 0;
        maxX = width;
      }
    }
    pos += count;
  });
  return minX === Infinity ? undefined : { minX, minY, maxX, maxY };
}
