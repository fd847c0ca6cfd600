import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SegError } from './errors.js';
import { readSeg, segToLabelmap } from './read.js';
import type { SegTarget } from './read.js';
import { paintEllipsoid, syntheticSeries } from './test-fixture.js';
import { writeSeg } from './write.js';
import type { SegSegment } from './write.js';

const DATA = fileURLToPath(new URL('../../../../../../shared/data/dicom', import.meta.url));
const LIVER = `${DATA}/pydicom-data/liver.dcm`;
const CT = `${DATA}/pydicom/CT_small.dcm`;
const DIMS: [number, number, number] = [64, 48, 10];
const SEGMENTS: SegSegment[] = [
  { value: 1, label: 'Liver', color: '#c86450' },
  { value: 2, label: 'Liver tumour', color: '#20c020', algorithmType: 'AUTOMATIC', algorithmName: 'nnU-Net' },
  { value: 3, label: 'Empty', color: '#3040ff' },
];
const INFO = { seriesDescription: 'SEG', seriesNumber: 300, instanceNumber: 1, contentLabel: 'seg' };

function fixture(tilt: number, sopClass: 'binary' | 'labelmap') {
  const series = syntheticSeries(DIMS, [0.7, 0.7, 2.5], tilt);
  const labels = new Uint8Array(DIMS[0] * DIMS[1] * DIMS[2]);
  paintEllipsoid(labels, DIMS, [20, 20, 4], [9, 7, 3], 1);
  paintEllipsoid(labels, DIMS, [47, 30, 6], [7, 9, 2.2], 2);
  const bytes = writeSeg({ source: series.source, labels, segments: SEGMENTS, info: INFO, sopClass });
  return { series, labels, bytes };
}

const countDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let n = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
};

describe('readSeg + segToLabelmap round trip', () => {
  for (const sopClass of ['binary', 'labelmap'] as const) {
    for (const tilt of [0, 20]) {
      it(`${sopClass}, tilt ${tilt}°: identical voxels by SOP UIDs and by positions only`, () => {
        const { series, labels, bytes } = fixture(tilt, sopClass);
        const seg = readSeg(bytes);
        expect(seg.sopClass).toBe(sopClass);
        expect([seg.rows, seg.columns]).toEqual([48, 64]);
        expect(seg.frameOfReferenceUid).toBe(series.frameOfReferenceUid);
        expect(seg.referencedSeriesUids).toEqual([series.seriesUid]);
        expect(seg.segments.map((s) => [s.number, s.label, s.color, s.type?.value, s.algorithmType, s.algorithmName])).toEqual([
          [1, 'Liver', '#c86450', '10200004', 'MANUAL', undefined],
          [2, 'Liver tumour', '#20c020', '108369006', 'AUTOMATIC', 'nnU-Net'],
          [3, 'Empty', '#3040ff', '85756007', 'MANUAL', undefined],
        ]);
        const byUid = segToLabelmap(seg, { dims: DIMS, affineLps: series.source.affineLps, sopInstanceUids: series.source.slices.map((s) => s.sopInstanceUid) });
        expect(byUid.skipped).toEqual([]);
        expect(byUid.placedFrames).toBe(seg.frames.length);
        expect(countDiff(byUid.labels, labels)).toBe(0);
        expect(byUid.segments).toEqual(SEGMENTS.map((s) => ({ value: s.value, label: s.label, color: s.color })));
        const byPosition = segToLabelmap(seg, { dims: DIMS, affineLps: series.source.affineLps });
        expect(byPosition.skipped).toEqual([]);
        expect(countDiff(byPosition.labels, labels)).toBe(0);
        // Lazily decoded frame pixels agree with the label map too.
        const f = seg.frames[seg.frames.length - 1]!;
        const k = series.source.slices.findIndex((s) => s.sopInstanceUid === f.referencedSopInstanceUid);
        const plane = DIMS[0] * DIMS[1];
        const slice = labels.subarray(k * plane, (k + 1) * plane);
        expect(countDiff(f.pixels, sopClass === 'binary' ? Array.from(slice, (v) => (v === f.segmentNumber ? 1 : 0)) : slice)).toBe(0);
      });
    }
  }

  it('labelmap class with 300 segments: 16-bit frames that pydicom and segToLabelmap agree on', () => {
    const series = syntheticSeries(DIMS, [0.7, 0.7, 2.5], 20);
    const labels = new Uint16Array(DIMS[0] * DIMS[1] * DIMS[2]);
    for (let p = 0; p < labels.length; p++) labels[p] = p % 7 === 0 ? 1 + ((p * 31) % 300) : 0;
    const segments = Array.from({ length: 300 }, (_, i) => ({ value: i + 1, label: `Structure ${i + 1}`, color: '#102030' }));
    const bytes = writeSeg({ sopClass: 'labelmap', source: series.source, labels, segments, info: INFO });
    const seg = readSeg(bytes);
    const out = segToLabelmap(seg, { dims: DIMS, affineLps: series.source.affineLps });
    expect(out.labels).toBeInstanceOf(Uint16Array);
    expect(countDiff(out.labels, labels)).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'caliper-seg16-'));
    try {
      writeFileSync(join(dir, 'a.dcm'), bytes);
      const script = 'import sys, pydicom, hashlib; d = pydicom.dcmread(sys.argv[1]); a = d.pixel_array; print(d.BitsAllocated, a.dtype, a.shape, hashlib.sha256(a.astype("<u2").tobytes()).hexdigest())';
      const py = spawnSync('/usr/bin/python3', ['-c', script, join(dir, 'a.dcm')], { encoding: 'utf8' });
      expect(py.stderr).toBe('');
      const sha = createHash('sha256').update(new Uint8Array(labels.buffer)).digest('hex');
      expect(py.stdout.trim()).toBe(`16 uint16 (10, 48, 64) ${sha}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('places frames on a sub-volume by position and skips those outside it', () => {
    const { series, labels, bytes } = fixture(20, 'binary');
    const seg = readSeg(bytes);
    const a = series.source.affineLps;
    // Target = slices 2..9 of the source: origin moved two slices along the slice axis.
    const sub: SegTarget = { dims: [64, 48, 8], affineLps: a.map((row, r) => (r < 3 ? [row[0]!, row[1]!, row[2]!, row[3]! + 2 * row[2]!] : [...row])) };
    const out = segToLabelmap(seg, sub);
    const plane = 64 * 48;
    expect(countDiff(out.labels, labels.subarray(2 * plane))).toBe(0);
    const outside = seg.frames.map((f, i) => ({ i, f })).filter(({ f }) => f.position && series.source.slices.findIndex((s) => s.sopInstanceUid === f.referencedSopInstanceUid) < 2);
    expect(out.skipped).toEqual(outside.map(({ i }) => ({ frame: i, reason: 'frame position lies outside the target volume' })));
    expect(out.placedFrames + out.skipped.length).toBe(seg.frames.length);
  });

  it('refuses flipped, permuted or shifted targets with a reason', () => {
    const { series, bytes } = fixture(0, 'binary');
    const seg = readSeg(bytes);
    const a = series.source.affineLps;
    // i reversed: column axis negated, origin moved to the old last column.
    const flipped = a.map((row, r) => (r < 3 ? [-row[0]!, row[1]!, row[2]!, row[3]! + 63 * row[0]!] : [...row]));
    const f = segToLabelmap(seg, { dims: DIMS, affineLps: flipped, sopInstanceUids: series.source.slices.map((s) => s.sopInstanceUid) });
    expect(f.placedFrames).toBe(0);
    expect(new Set(f.skipped.map((s) => s.reason))).toEqual(new Set(['orientation differs from the target (flipped, permuted or rotated)']));
    expect(f.labels.every((v) => v === 0)).toBe(true);
    // Rows and columns swapped.
    const permuted = a.map((row) => [row[1]!, row[0]!, row[2]!, row[3]!]);
    const p = segToLabelmap(seg, { dims: [48, 64, 10], affineLps: permuted });
    expect(p.placedFrames).toBe(0);
    expect(p.skipped[0]!.reason).toBe('frame size differs from the target slice size');
    // Shifted in-plane by 0.5 mm, positions only.
    const shifted = a.map((row, r) => (r === 0 ? [row[0]!, row[1]!, row[2]!, row[3]! + 0.5] : [...row]));
    const s = segToLabelmap(seg, { dims: DIMS, affineLps: shifted });
    expect(s.placedFrames).toBe(0);
    expect(s.skipped[0]!.reason).toBe('frame origin is shifted in-plane from the target slice origin');
    // Half a slice off along the normal.
    const between = a.map((row, r) => (r < 3 ? [row[0]!, row[1]!, row[2]!, row[3]! + 0.5 * row[2]!] : [...row]));
    expect(segToLabelmap(seg, { dims: DIMS, affineLps: between }).skipped[0]!.reason).toBe('frame position lies between target slices');
  });
});

describe('readSeg on a third-party SEG (pydicom-data liver.dcm)', () => {
  it('agrees with pydicom on segments, frames, positions and pixel counts', () => {
    const script = `
import json, sys, pydicom
d = pydicom.dcmread(sys.argv[1]); a = d.pixel_array.reshape(int(d.NumberOfFrames), d.Rows, d.Columns)
print(json.dumps({'segments': [[int(s.SegmentNumber), s.SegmentLabel] for s in d.SegmentSequence],
  'frames': [[int(f.SegmentIdentificationSequence[0].ReferencedSegmentNumber), [float(x) for x in f.PlanePositionSequence[0].ImagePositionPatient],
              f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID, int((a[i] != 0).sum())] for i, f in enumerate(d.PerFrameFunctionalGroupsSequence)],
  'iop': [float(x) for x in d.SharedFunctionalGroupsSequence[0].PlaneOrientationSequence[0].ImageOrientationPatient],
  'spacing': [float(x) for x in d.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing]}))`;
    const py = spawnSync('/usr/bin/python3', ['-c', script, LIVER], { encoding: 'utf8' });
    expect(py.stderr).toBe('');
    const ref = JSON.parse(py.stdout) as { segments: [number, string][]; frames: [number, number[], string, number][]; iop: number[]; spacing: number[] };
    const seg = readSeg(new Uint8Array(readFileSync(LIVER)));
    expect(seg.sopClass).toBe('binary');
    expect(seg.segments.map((s) => [s.number, s.label])).toEqual(ref.segments);
    expect(seg.orientation).toEqual(ref.iop);
    expect(seg.pixelSpacing).toEqual(ref.spacing);
    const count = (px: Uint8Array): number => px.reduce((n, v) => n + (v ? 1 : 0), 0);
    expect(seg.frames.map((f) => [f.segmentNumber, f.position, f.referencedSopInstanceUid, count(f.pixels)])).toEqual(ref.frames);

    // Place it on the volume its geometry describes (slices 1 mm apart along +z from the first frame).
    const [rs, cs] = ref.spacing as [number, number];
    const o = ref.frames[0]![1];
    const affineLps = [
      [ref.iop[0]! * cs, ref.iop[3]! * rs, 0, o[0]!],
      [ref.iop[1]! * cs, ref.iop[4]! * rs, 0, o[1]!],
      [ref.iop[2]! * cs, ref.iop[5]! * rs, 1, o[2]!],
      [0, 0, 0, 1],
    ];
    const out = segToLabelmap(seg, { dims: [seg.columns, seg.rows, ref.frames.length], affineLps });
    expect(out.skipped).toEqual([]);
    const plane = seg.rows * seg.columns;
    ref.frames.forEach(([, , , n], k) => expect(count(out.labels.subarray(k * plane, (k + 1) * plane) as Uint8Array)).toBe(n));
  });
});

describe('readSeg refuses bad input with SegError', () => {
  const { bytes } = fixture(0, 'binary');

  it('truncated files', () => {
    for (const cut of [100, 1500, Math.floor(bytes.length / 2), bytes.length - 10]) {
      expect(() => readSeg(bytes.subarray(0, cut))).toThrow(SegError);
    }
    expect(() => readSeg(new Uint8Array(300))).toThrow('The file is not readable DICOM (truncated or corrupt)');
  });

  it('a CT image passed as SEG', () => {
    expect(() => readSeg(new Uint8Array(readFileSync(CT)))).toThrow('The file is not a DICOM Segmentation');
  });

  it('pixel data shorter than frames·rows·columns bits', () => {
    // Pixel Data is the last element: shorten its value by 64 bytes and fix its length field.
    const header = findPixelData(bytes);
    const short = bytes.slice(0, bytes.length - 64);
    new DataView(short.buffer).setUint32(header + 8, bytes.length - header - 12 - 64, true);
    expect(() => readSeg(short)).toThrow('The SEG pixel data is shorter than its frames');
  });
});

/** Offset of the (7FE0,0010) OB element header (the last element). */
function findPixelData(bytes: Uint8Array): number {
  for (let i = bytes.length - 12; i >= 0; i--) {
    if (bytes[i] === 0xe0 && bytes[i + 1] === 0x7f && bytes[i + 2] === 0x10 && bytes[i + 3] === 0x00 && bytes[i + 4] === 0x4f && bytes[i + 5] === 0x42) return i;
  }
  throw new Error('no pixel data element');
}
