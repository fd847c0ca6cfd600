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
    private readonly little = true,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(offset: number, n: number): void {
    if (offset + n > this.bytes.byteLength) throw new RangeError('truncated DICOM data');
  }

  tagAt(offset: number): number {
    this.need(offset, 4);
    const le = this.little;
    return ((this.view.getUint16(offset, le) << 16) | this.view.getUint16(offset + 2, le)) >>> 0;
  }

  /** Returns the element header: value offset and value length (UNDEFINED_LENGTH if undefined). */
  header(offset: number): { tag: number; valueStart: number; length: number } {
    const tag = this.tagAt(offset);
    const group = tag >>> 16;
    if (group === 0xfffe || !this.explicit) {
      this.need(offset, 8);
      return { tag, valueStart: offset + 8, length: this.view.getUint32(offset + 4, this.little) };
    }
    this.need(offset, 8);
    const vr = String.fromCharCode(this.bytes[offset + 4]!, this.bytes[offset + 5]!);
    if (LONG_VRS.has(vr)) {
      this.need(offset, 12);
      return { tag, valueStart: offset + 12, length: this.view.getUint32(offset + 8, this.little) };
    }
    return { tag, valueStart: offset + 8, length: this.view.getUint16(offset + 6, this.little) };
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
 * the given encoding (little endian unless `littleEndian` is false), recording where Pixel Data sits.
 */
export function topLevelLayout(bytes: Uint8Array, explicitVr: boolean, littleEndian = true): TopLevelLayout {
  const meta = new Walker(bytes, true);
  let p = 132;
  while (p + 4 <= bytes.byteLength && meta.tagAt(p) >>> 16 === 0x0002) p = meta.skipElement(p);
  const datasetStart = p;
  const walker = new Walker(bytes, explicitVr, littleEndian);
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

/** Values of the file meta elements (group 0002) of a Part-10 file, keyed by tag number. */
export function metaValues(bytes: Uint8Array): { values: Map<number, Uint8Array>; datasetStart: number } {
  const meta = new Walker(bytes, true);
  const out = new Map<number, Uint8Array>();
  let p = 132;
  while (p + 8 <= bytes.byteLength && meta.tagAt(p) >>> 16 === 0x0002) {
    const h = meta.header(p);
    const end = meta.skipElement(p);
    if (h.length !== UNDEFINED_LENGTH) out.set(h.tag, bytes.subarray(h.valueStart, h.valueStart + h.length));
    p = end;
  }
  return { values: out, datasetStart: p };
}

/** Header of the element at `offset` in an explicit-VR data set of the given endianness. */
export function explicitHeader(
  bytes: Uint8Array,
  offset: number,
  littleEndian: boolean,
): { vr: string; valueStart: number; length: number } {
  const walker = new Walker(bytes, true, littleEndian);
  const h = walker.header(offset);
  return { vr: String.fromCharCode(bytes[offset + 4] ?? 0, bytes[offset + 5] ?? 0), valueStart: h.valueStart, length: h.length };
}
