/**
 * The compressed RLE string codec of the COCO API (pycocotools `rleToString` / `rleFrString`).
 *
 * Each run count is stored as a delta to the count two places before it (from the third count on),
 * then written little-end first in 5-bit groups: each character is 48 + a 6-bit value whose bit
 * 0x20 says "more groups follow" and whose bit 0x10, in the last group, is the sign (the value is
 * sign-extended from there). Counts are column-major, starting with zeros, as in uncompressed RLE.
 */

/** Decode a compressed COCO RLE string into its run counts; returns a reason string when malformed. */
export function decodeCocoRleString(text: string): number[] | string {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= text.length) return `the string ends inside count ${counts.length}`;
      const c = text.charCodeAt(p) - 48;
      if (c < 0 || c > 63) return `character ${p} is outside the RLE alphabet`;
      if (k > 10) return `count ${counts.length} is too long`;
      x += (c & 0x1f) * 2 ** (5 * k);
      more = (c & 0x20) !== 0;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 2 ** (5 * k);
    }
    const m = counts.length;
    if (m > 2) x += counts[m - 2] ?? 0;
    if (x < 0) return `count ${m} is negative`;
    counts.push(x);
  }
  return counts;
}

/** Encode run counts as a compressed COCO RLE string (inverse of `decodeCocoRleString`). */
export function encodeCocoRleString(counts: readonly number[]): string {
  let out = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i] ?? 0;
    if (i > 2) x -= counts[i - 2] ?? 0;
    let more = true;
    while (more) {
      let c = ((x % 32) + 32) % 32;
      x = Math.floor(x / 32);
      more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  }
  return out;
}
