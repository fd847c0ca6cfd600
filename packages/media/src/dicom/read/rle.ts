import { DicomError } from './errors.js';

/**
 * Decodes one RLE Lossless frame (PS3.5 Annex G) into little-endian, sample-interleaved bytes.
 * Segments are ordered sample by sample, most significant byte first; each is PackBits.
 */
export function decodeRleFrame(
  frame: Uint8Array,
  pixelCount: number,
  samplesPerPixel: number,
  bytesPerSample: number,
): Uint8Array {
  if (frame.length < 64) {
    throw new DicomError(`An RLE frame is ${frame.length} bytes long, shorter than its 64-byte header.`);
  }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segmentCount = view.getUint32(0, true);
  const expected = samplesPerPixel * bytesPerSample;
  if (segmentCount !== expected) {
    throw new DicomError(
      `An RLE frame has ${segmentCount} segments but ${samplesPerPixel} sample(s) of ${bytesPerSample} byte(s) need ${expected}.`,
    );
  }
  const offsets: number[] = [];
  for (let i = 0; i < segmentCount; i += 1) offsets.push(view.getUint32(4 + 4 * i, true));

  const stride = samplesPerPixel * bytesPerSample;
  const out = new Uint8Array(pixelCount * stride);
  for (let segment = 0; segment < segmentCount; segment += 1) {
    const start = offsets[segment] ?? 0;
    const end = segment + 1 < segmentCount ? (offsets[segment + 1] ?? frame.length) : frame.length;
    if (start < 64 || end > frame.length || end < start) {
      throw new DicomError(`RLE segment ${segment + 1} has an invalid offset (${start}).`);
    }
    const sample = Math.floor(segment / bytesPerSample);
    const significance = segment % bytesPerSample; // 0 = most significant byte
    // Little-endian position of this byte within a sample.
    const base = sample * bytesPerSample + (bytesPerSample - 1 - significance);
    const written = unpackBits(frame, start, end, out, base, stride, pixelCount);
    if (written < pixelCount) {
      throw new DicomError(
        `RLE segment ${segment + 1} decodes to ${written} bytes but the image needs ${pixelCount}; the data is truncated or corrupt.`,
      );
    }
  }
  return out;
}

/** PackBits: writes at most `limit` bytes to out[base + k * stride]; returns how many were written. */
function unpackBits(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  base: number,
  stride: number,
  limit: number,
): number {
  let pos = start;
  let count = 0;
  while (pos < end && count < limit) {
    const header = src[pos] ?? 0;
    pos += 1;
    if (header < 128) {
      const n = Math.min(header + 1, end - pos, limit - count);
      for (let i = 0; i < n; i += 1) {
        out[base + (count + i) * stride] = src[pos + i] ?? 0;
      }
      pos += header + 1;
      count += n;
    } else if (header > 128) {
      if (pos >= end) break;
      const value = src[pos] ?? 0;
      pos += 1;
      const n = Math.min(257 - header, limit - count);
      for (let i = 0; i < n; i += 1) out[base + (count + i) * stride] = value;
      count += n;
    }
    // header === 128 (-128): no operation.
  }
  return count;
}
