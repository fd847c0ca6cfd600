// Locates the top-level Pixel Data element (7FE0,0010) in the raw Part-10 bytes, so the
// de-identified file can carry the original element byte for byte (dcmjs re-fragments
// encapsulated pixel data and rewrites the Basic Offset Table when it writes).

export interface ByteSpan {
  start: number;
  end: number;
}

export interface TopLevelLayout {
  /** Offset of the first data set element (after the file meta information). */
  datasetStart: number;
  pixelData: ByteSpan | null;
  /** Offset of the first top-level element after Pixel Data, or null when there is none. */
  afterPixelData: number | null;
}

const UNDEFINED_LENGTH = 0xffffffff;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

class Walker {
  private readonly view: DataView;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly explicit: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(offset: number, n: number): void {
    if (offset + n > this.bytes.byteLength) throw new RangeError('truncated DICOM data');
  }

  tagAt(offset: number): number {
    this.need(offset, 4);
    return ((this.view.getUint16(offset, true) << 16) | this.view.getUint16(offset + 2, true)) >>> 0;
  }

  /** Returns the element header: value offset and value length (UNDEFINED_LENGTH if undefined). */
  header(offset: number): { tag: number; valueStart: number; length: number } {
    const tag = this.tagAt(offset);
    const group = tag >>> 16;
    if (group === 0xfffe || !this.explicit) {
      this.need(offset, 8);
      return { tag, valueStart: offset + 8, length: this.view.getUint32(offset + 4, true) };
    }
    this.need(offset, 8);
    const vr = String.fromCharCode(this.bytes[offset + 4]!, this.bytes[offset + 5]!);
    if (LONG_VRS.has(vr)) {
      this.need(offset, 12);
      return { tag, valueStart: offset + 12, length: this.view.getUint32(offset + 8, true) };
    }
    return { tag, valueStart: offset + 8, length: this.view.getUint16(offset + 6, true) };
  }

  /** Offset just past the element that starts at `offset`. */
  skipElement(offset: number): number {
    const h = this.header(offset);
    if (h.length !== UNDEFINED_LENGTH) {
      this.need(h.valueStart, h.length);
      return h.valueStart + h.length;
    }
    return this.skipUndefinedItems(h.valueStart);
  }

  /** Skips items (FFFE,E000) until the Sequence Delimitation Item (FFFE,E0DD). */
  private skipUndefinedItems(offset: number): number {
    let p = offset;
    for (;;) {
      const h = this.header(p);
      if (h.tag === 0xfffee0dd) return h.valueStart;
      if (h.tag !== 0xfffee000) throw new RangeError('malformed sequence');
      if (h.length !== UNDEFINED_LENGTH) {
        this.need(h.valueStart, h.length);
        p = h.valueStart + h.length;
        continue;
      }
      p = h.valueStart;
      for (;;) {
        if (this.tagAt(p) === 0xfffee00d) {
          p += 8;
          break;
        }
        p = this.skipElement(p);
      }
    }
  }
}

/**
 * Walks the file meta (always Explicit VR Little Endian) and then the top-level data set in
 * the given little-endian encoding, recording where Pixel Data sits.
 */
export function topLevelLayout(bytes: Uint8Array, explicitVr: boolean): TopLevelLayout {
  const meta = new Walker(bytes, true);
  let p = 132;
  while (p + 4 <= bytes.byteLength && meta.tagAt(p) >>> 16 === 0x0002) p = meta.skipElement(p);
  const datasetStart = p;
  const walker = new Walker(bytes, explicitVr);
  let pixelData: ByteSpan | null = null;
  let afterPixelData: number | null = null;
  while (p + 8 <= bytes.byteLength) {
    const tag = walker.tagAt(p);
    const end = walker.skipElement(p);
    if (tag === 0x7fe00010) pixelData = { start: p, end };
    else if (pixelData && afterPixelData === null) afterPixelData = p;
    p = end;
  }
  return { datasetStart, pixelData, afterPixelData };
}
