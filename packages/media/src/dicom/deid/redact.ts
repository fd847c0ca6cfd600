// Blacks out rectangles of burned-in text in the pixels, by device-specific rules.
//
// The first rule whose set fields all match the file (manufacturer and model compared
// case-insensitively after trimming; rows and columns exactly) is applied to every frame.
// Fill: the minimum stored value for one sample per pixel (0 unsigned, -2^(BitsStored-1)
// signed), 0 for RGB, and (0, 128, 128) -- black -- for YBR_FULL. Native little-endian Pixel
// Data is patched in place: every other byte of the file is unchanged (so BurnedInAnnotation
// is not touched there; after de-identification it is whatever the source said). Anything else
// (encapsulated, big endian) is decoded with decodeFramesAsync and re-written as Explicit VR
// Little Endian: YBR_FULL_422 becomes YBR_FULL (the decoder upsamples chroma), YBR_ICT/YBR_RCT
// become RGB (the codec applies the colour transform), PlanarConfiguration 0; NumberOfFrames
// and LossyImageCompression are kept. BurnedInAnnotation is set to NO only when a rule applied.
import { dcmjsLib } from './dcmjs-lazy.js';
import type { DcmjsDicomDict, DcmjsDataset } from 'dcmjs';
import { readDicom } from '../read/read.js';
import { decodeFramesAsync } from '../read/decode.js';
import { DicomDeidError } from './deidentify.js';
import { EXPLICIT_LE, IMPLICIT_LE } from './input.js';
// The rule shape is shared with the server and web app (project de-identification settings).
import type { RedactionRect, RedactionRule } from '@caliper/core';

export type { RedactionRect, RedactionRule };


export interface RedactionResult {
  bytes: Uint8Array;
  /** Number of rectangles applied (per frame counted once); 0 when no rule matched. */
  applied: number;
  /** True when the file was decoded and re-written as Explicit VR Little Endian. */
  transcoded: boolean;
}

const same = (a: string | undefined, b: string | undefined): boolean =>
  (a ?? '').trim().toLowerCase() === (b ?? '').trim().toLowerCase();

/** The first rule matching the identity (unset fields match anything), or undefined. */
export function matchRule(
  rules: readonly RedactionRule[],
  id: { manufacturer?: string | undefined; model?: string | undefined; rows?: number | undefined; columns?: number | undefined },
): RedactionRule | undefined {
  return rules.find(
    (r) =>
      (r.manufacturer === undefined || same(r.manufacturer, id.manufacturer)) &&
      (r.model === undefined || same(r.model, id.model)) &&
      (r.rows === undefined || r.rows === id.rows) &&
      (r.columns === undefined || r.columns === id.columns),
  );
}

interface Geometry {
  rows: number;
  columns: number;
  samples: number;
  frames: number;
  bytesPerSample: number;
  planar: boolean;
  fill: number[];
}

/** Clipped pixel rectangles; empty or outside ones drop out. */
function clip(rects: readonly RedactionRect[], g: Geometry): RedactionRect[] {
  const out: RedactionRect[] = [];
  for (const r of rects) {
    const x0 = Math.max(0, Math.floor(r.x));
    const y0 = Math.max(0, Math.floor(r.y));
    const x1 = Math.min(g.columns, Math.ceil(r.x + r.width));
    const y1 = Math.min(g.rows, Math.ceil(r.y + r.height));
    if (x1 > x0 && y1 > y0) out.push({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
  }
  return out;
}

/** Writes the fill into `data` (little-endian samples) for every rect of every frame. */
function blackOut(data: Uint8Array, g: Geometry, rects: readonly RedactionRect[]): void {
  const bps = g.bytesPerSample;
  const frameBytes = g.rows * g.columns * g.samples * bps;
  const sampleBytes = g.fill.map((v) => {
    const b = new Uint8Array(bps);
    let u = v < 0 ? 2 ** (8 * bps) + v : v;
    for (let k = 0; k < bps; k++) {
      b[k] = u % 256;
      u = Math.floor(u / 256);
    }
    return b;
  });
  for (let f = 0; f < g.frames; f++) {
    const base = f * frameBytes;
    for (const r of rects) {
      for (let y = r.y; y < r.y + r.height; y++) {
        for (let x = r.x; x < r.x + r.width; x++) {
          for (let s = 0; s < g.samples; s++) {
            const index = g.planar
              ? s * g.rows * g.columns + y * g.columns + x
              : (y * g.columns + x) * g.samples + s;
            data.set(sampleBytes[s] ?? sampleBytes[0]!, base + index * bps);
          }
        }
      }
    }
  }
}

function fillFor(samples: number, photometric: string, signed: boolean, bitsStored: number): number[] {
  if (samples === 1) return [signed ? -(2 ** (bitsStored - 1)) : 0];
  if (photometric.startsWith('YBR_FULL')) return [0, 128, 128];
  return new Array<number>(samples).fill(0);
}

/**
 * Applies the first matching redaction rule to every frame. Returns the input unchanged
 * (applied 0) when no rule matches or the file has no Pixel Data.
 */
export async function redactDicom(bytes: Uint8Array, rules: RedactionRule[]): Promise<RedactionResult> {
  let instance: ReturnType<typeof readDicom>;
  try {
    instance = readDicom(bytes);
  } catch {
    throw new DicomDeidError('The file to redact is not readable DICOM.');
  }
  const rule = matchRule(rules, {
    manufacturer: instance.getString('x00080070'),
    model: instance.getString('x00081090'),
    rows: instance.rows,
    columns: instance.columns,
  });
  if (!rule || !instance.hasPixelData) return { bytes, applied: 0, transcoded: false };
  const { rows, columns, bitsAllocated } = instance;
  if (rows === undefined || columns === undefined || bitsAllocated === undefined) {
    throw new DicomDeidError('The image lacks Rows, Columns or Bits Allocated, so it cannot be redacted.');
  }
  if (![8, 16, 32].includes(bitsAllocated)) {
    throw new DicomDeidError(`Redaction of Bits Allocated ${bitsAllocated} is not supported.`);
  }
  const samples = instance.samplesPerPixel ?? 1;
  const photometric = instance.photometricInterpretation ?? '';
  const g: Geometry = {
    rows,
    columns,
    samples,
    frames: instance.numberOfFrames ?? 1,
    bytesPerSample: bitsAllocated / 8,
    planar: samples > 1 && instance.planarConfiguration === 1,
    fill: fillFor(samples, photometric, instance.pixelRepresentation === 1, instance.bitsStored ?? bitsAllocated),
  };
  const rects = clip(rule.rects, g);
  const element = instance.dataSet.elements['x7fe00010'];
  const syntax = instance.transferSyntaxUID;
  const native =
    element !== undefined &&
    !element.encapsulatedPixelData &&
    instance.encoding === 'part10' &&
    (syntax === IMPLICIT_LE || syntax === EXPLICIT_LE);
  if (native) {
    const frameBytes = rows * columns * samples * g.bytesPerSample;
    if (element.length < frameBytes * g.frames) throw new DicomDeidError('The Pixel Data is shorter than its header says.');
    const out = new Uint8Array(bytes);
    blackOut(out.subarray(element.dataOffset, element.dataOffset + frameBytes * g.frames), g, rects);
    return { bytes: out, applied: rects.length, transcoded: false };
  }

  let decoded: Awaited<ReturnType<typeof decodeFramesAsync>>;
  try {
    decoded = await decodeFramesAsync(instance);
  } catch {
    throw new DicomDeidError(`The Pixel Data (transfer syntax ${syntax}) could not be decoded for redaction.`);
  }
  const data = new Uint8Array(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength).slice();
  blackOut(data, { ...g, planar: false }, rects);
  return { bytes: rewriteUncompressed(bytes, data, photometric, bitsAllocated, rects.length > 0), applied: rects.length, transcoded: true };
}

function rewrite(
  bytes: Uint8Array,
  edit: (dict: DcmjsDataset, meta: DcmjsDataset) => void,
): Uint8Array {
  let parsed: DcmjsDicomDict;
  try {
    parsed = dcmjsLib().data.DicomMessage.readFile(new Uint8Array(bytes).buffer, { ignoreErrors: true });
  } catch {
    throw new DicomDeidError('The file to redact could not be parsed for re-writing.');
  }
  edit(parsed.dict, parsed.meta);
  try {
    return new Uint8Array(parsed.write());
  } catch {
    throw new DicomDeidError('The redacted data set could not be encoded as DICOM.');
  }
}

function rewriteUncompressed(
  bytes: Uint8Array,
  data: Uint8Array,
  photometric: string,
  bitsAllocated: number,
  applied: boolean,
): Uint8Array {
  const padded = new Uint8Array(data.byteLength + (data.byteLength % 2));
  padded.set(data);
  return rewrite(bytes, (dict, meta) => {
    meta['00020010'] = { vr: 'UI', Value: [EXPLICIT_LE] };
    if (photometric === 'YBR_FULL_422' || photometric === 'YBR_PARTIAL_422') dict['00280004'] = { vr: 'CS', Value: ['YBR_FULL'] };
    if (photometric === 'YBR_ICT' || photometric === 'YBR_RCT') dict['00280004'] = { vr: 'CS', Value: ['RGB'] };
    if (dict['00280002']?.Value?.[0] !== undefined && Number(dict['00280002'].Value[0]) > 1) {
      dict['00280006'] = { vr: 'US', Value: [0] };
    }
    if (applied) dict['00280301'] = { vr: 'CS', Value: ['NO'] };
    dict['7FE00010'] = { vr: bitsAllocated === 8 ? 'OB' : 'OW', Value: [padded.buffer] };
    delete dict['7fe00010'];
  });
}
