import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allDefaultCodes, defaultSegmentCodes } from './codes.js';
import { dicomLabToHex, hexToDicomLab } from './color.js';
import { SegError } from './errors.js';
import { paintEllipsoid, syntheticSeries } from './test-fixture.js';
import type { SyntheticSeries } from './test-fixture.js';
import { writeSeg } from './write.js';
import type { SegSegment } from './write.js';

const PY = '/usr/bin/python3';
const DIMS: [number, number, number] = [64, 48, 10];
const SEGMENTS: SegSegment[] = [
  { value: 1, label: 'Liver', color: '#c86450' },
  { value: 2, label: 'Liver tumour', color: '#20c020', algorithmType: 'SEMIAUTOMATIC', algorithmName: 'Caliper grow' },
  { value: 3, label: 'Empty', color: '#3040ff', description: 'never painted' },
];

/** Two non-overlapping ellipsoids (values 1, 2); value 3 stays empty. */
function labelMap(): Uint8Array {
  const labels = new Uint8Array(DIMS[0] * DIMS[1] * DIMS[2]);
  paintEllipsoid(labels, DIMS, [20, 20, 4], [9, 7, 3], 1);
  paintEllipsoid(labels, DIMS, [47, 30, 6], [7, 9, 2.2], 2);
  return labels;
}

// pydicom report: frames, per-frame position / segment / source UID; pixel_array to a raw file.
const PYDICOM_REPORT = `
import json, sys, pydicom
d = pydicom.dcmread(sys.argv[1])
a = d.pixel_array.reshape(int(d.NumberOfFrames), d.Rows, d.Columns).astype('uint8')
open(sys.argv[2], 'wb').write(a.tobytes())
frames = []
for f in d.PerFrameFunctionalGroupsSequence:
    seg = f.SegmentIdentificationSequence[0].ReferencedSegmentNumber if 'SegmentIdentificationSequence' in f else None
    src = f.DerivationImageSequence[0].SourceImageSequence[0]
    frames.append({'seg': seg, 'ipp': [float(x) for x in f.PlanePositionSequence[0].ImagePositionPatient], 'uid': src.ReferencedSOPInstanceUID})
shared = d.SharedFunctionalGroupsSequence[0]
print(json.dumps({'frames': frames, 'n': int(d.NumberOfFrames), 'type': d.SegmentationType, 'bits': d.BitsAllocated,
  'modality': d.Modality, 'patient': str(d.PatientID), 'study': d.StudyInstanceUID, 'for': d.FrameOfReferenceUID,
  'spacing': [float(x) for x in shared.PixelMeasuresSequence[0].PixelSpacing],
  'iop': [float(x) for x in shared.PlaneOrientationSequence[0].ImageOrientationPatient],
  'segments': [[int(s.SegmentNumber), s.SegmentLabel, s.SegmentedPropertyTypeCodeSequence[0].CodeValue, [int(x) for x in s.RecommendedDisplayCIELabValue]] for s in d.SegmentSequence],
  'refs': [i.ReferencedSOPInstanceUID for i in d.ReferencedSeriesSequence[0].ReferencedInstanceSequence]}))
`;

interface PyReport {
  frames: { seg: number | null; ipp: number[]; uid: string }[];
  n: number;
  type: string;
  bits: number;
  modality: string;
  patient: string;
  study: string;
  for: string;
  spacing: number[];
  iop: number[];
  segments: [number, string, string, number[]][];
  refs: string[];
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'caliper-seg-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pydicomReport(bytes: Uint8Array, name: string): { report: PyReport; pixels: Uint8Array } {
  const file = join(dir, `${name}.dcm`);
  const raw = join(dir, `${name}.raw`);
  writeFileSync(file, bytes);
  const py = spawnSync(PY, ['-c', PYDICOM_REPORT, file, raw], { encoding: 'utf8' });
  expect(py.stderr).toBe('');
  return { report: JSON.parse(py.stdout) as PyReport, pixels: new Uint8Array(readFileSync(raw)) };
}

const sliceOrigin = (s: SyntheticSeries, k: number): number[] => [0, 1, 2].map((r) => s.source.affineLps[r]![2]! * k + s.source.affineLps[r]![3]!);

function checkBinaryAgainstPydicom(series: SyntheticSeries, labels: Uint8Array, bytes: Uint8Array, name: string): PyReport {
  const { report, pixels } = pydicomReport(bytes, name);
  const plane = DIMS[0] * DIMS[1];
  // Expected frames: every non-empty (segment, slice), by segment then slice.
  const expected: { seg: number; k: number }[] = [];
  for (const s of [1, 2, 3]) for (let k = 0; k < DIMS[2]; k++) if (labels.subarray(k * plane, (k + 1) * plane).includes(s)) expected.push({ seg: s, k });
  expect(report.n).toBe(expected.length);
  expect(report.type).toBe('BINARY');
  const uidToK = new Map(series.source.slices.map((s, k) => [s.sopInstanceUid, k]));
  report.frames.forEach((f, i) => {
    const k = uidToK.get(f.uid);
    expect({ seg: f.seg, k }).toEqual(expected[i]);
    const o = sliceOrigin(series, k!);
    f.ipp.forEach((x, r) => expect(Math.abs(x - o[r]!)).toBeLessThan(1e-4));
    const mask = labels.subarray(k! * plane, (k! + 1) * plane);
    const frame = pixels.subarray(i * plane, (i + 1) * plane);
    let diff = 0;
    for (let p = 0; p < plane; p++) if (frame[p] !== (mask[p] === f.seg ? 1 : 0)) diff++;
    expect(diff).toBe(0);
  });
  return report;
}

describe('writeSeg (binary)', () => {
  for (const tilt of [0, 20]) {
    it(`writes a SEG that dciodvfy accepts and pydicom reads voxel for voxel (tilt ${tilt}°)`, () => {
      const series = syntheticSeries(DIMS, [0.7, 0.7, 2.5], tilt);
      const labels = labelMap();
      const bytes = writeSeg({
        source: series.source,
        labels,
        segments: SEGMENTS,
        info: { seriesDescription: 'Liver SEG', seriesNumber: 300, instanceNumber: 1, contentLabel: 'Liver seg', contentCreator: 'ANNOTATOR^7' },
      });
      const file = join(dir, `dciodvfy-${tilt}.dcm`);
      writeFileSync(file, bytes);
      const v = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
      const report = `${v.stdout}${v.stderr}`;
      const errors = report.split('\n').filter((l) => l.startsWith('Error'));
      expect(errors, report).toEqual([]);
      expect(v.status, report).toBe(0);
      expect(report.split('\n').filter((l) => l.startsWith('Warning')), report).toEqual([]);

      const r = checkBinaryAgainstPydicom(series, labels, bytes, `binary-${tilt}`);
      expect(r.modality).toBe('SEG');
      expect(r.patient).toBe('ANON-0001');
      expect(r.study).toBe(series.studyUid);
      expect(r.for).toBe(series.frameOfReferenceUid);
      expect(r.spacing[0]).toBeCloseTo(0.7, 10);
      expect(r.spacing[1]).toBeCloseTo(0.7, 10);
      const a = series.source.affineLps;
      const iop = [a[0]![0]!, a[1]![0]!, a[2]![0]!, a[0]![1]!, a[1]![1]!, a[2]![1]!].map((x) => x / 0.7);
      r.iop.forEach((x, i) => expect(x).toBeCloseTo(iop[i]!, 10));
      expect(r.refs).toEqual(series.source.slices.map((s) => s.sopInstanceUid));
      expect(r.segments.map(([n, l, t]) => [n, l, t])).toEqual([
        [1, 'Liver', '10200004'],
        [2, 'Liver tumour', '108369006'],
        [3, 'Empty', '85756007'],
      ]);
      expect(r.segments[0]![3]).toEqual(hexToDicomLab('#c86450'));
    });
  }

  it('maps non-consecutive 16-bit label values to segment numbers 1..N', () => {
    const series = syntheticSeries(DIMS, [0.7, 0.7, 2.5]);
    const labels16 = new Uint16Array(DIMS[0] * DIMS[1] * DIMS[2]);
    paintEllipsoid(labels16, DIMS, [20, 20, 4], [9, 7, 3], 300);
    paintEllipsoid(labels16, DIMS, [47, 30, 6], [7, 9, 2.2], 7);
    const bytes = writeSeg({
      source: series.source,
      labels: labels16,
      segments: [
        { value: 300, label: 'Kidney', color: '#aa5500' },
        { value: 7, label: 'Nodule', color: '#00aa55' },
      ],
      info: { seriesDescription: 'SEG', seriesNumber: 2, instanceNumber: 1, contentLabel: 'x' },
    });
    // Segment 1 = value 7 (Nodule), segment 2 = value 300 (Kidney): same expectations as values 2→1, 1→2.
    const remapped = new Uint8Array(labels16.length);
    for (let p = 0; p < labels16.length; p++) remapped[p] = labels16[p] === 7 ? 1 : labels16[p] === 300 ? 2 : 0;
    const r = checkBinaryAgainstPydicom(series, remapped, bytes, 'u16');
    expect(r.segments.map(([n, l, t]) => [n, l, t])).toEqual([
      [1, 'Nodule', '27925004'],
      [2, 'Kidney', '64033007'],
    ]);
  });

  it('writes the label map SOP class with one frame per slice that pydicom reads', () => {
    const series = syntheticSeries(DIMS, [0.7, 0.7, 2.5], 20);
    const labels = labelMap();
    const bytes = writeSeg({ sopClass: 'labelmap', source: series.source, labels, segments: SEGMENTS, info: { seriesDescription: 'SEG', seriesNumber: 2, instanceNumber: 1, contentLabel: 'x' } });
    const { report, pixels } = pydicomReport(bytes, 'labelmap');
    expect(report.type).toBe('LABELMAP');
    expect(report.bits).toBe(8);
    expect(report.n).toBe(DIMS[2]);
    expect(Buffer.compare(Buffer.from(pixels), Buffer.from(labels))).toBe(0);
    report.frames.forEach((f, k) => {
      expect(f.seg).toBeNull();
      expect(f.uid).toBe(series.source.slices[k]!.sopInstanceUid);
      const o = sliceOrigin(series, k);
      f.ipp.forEach((x, r) => expect(Math.abs(x - o[r]!)).toBeLessThan(1e-4));
    });
  });

  it('writes one empty frame when no segment has a voxel', () => {
    const series = syntheticSeries(DIMS, [0.7, 0.7, 2.5]);
    const bytes = writeSeg({ source: series.source, labels: new Uint8Array(DIMS[0] * DIMS[1] * DIMS[2]), segments: [SEGMENTS[0]!], info: { seriesDescription: 'SEG', seriesNumber: 2, instanceNumber: 1, contentLabel: 'x' } });
    const { report, pixels } = pydicomReport(bytes, 'empty');
    expect(report.n).toBe(1);
    expect(pixels.every((v) => v === 0)).toBe(true);
  });

  it('refuses inconsistent input with SegError', () => {
    const series = syntheticSeries(DIMS, [0.7, 0.7, 2.5]);
    const info = { seriesDescription: 'SEG', seriesNumber: 2, instanceNumber: 1, contentLabel: 'x' };
    const labels = labelMap();
    expect(() => writeSeg({ source: series.source, labels: labels.subarray(1), segments: SEGMENTS, info })).toThrow(SegError);
    expect(() => writeSeg({ source: series.source, labels, segments: [SEGMENTS[0]!], info })).toThrow('The label map contains a value that no segment describes');
    expect(() => writeSeg({ source: series.source, labels, segments: [...SEGMENTS, { value: 2, label: 'Again', color: '#000000' }], info })).toThrow('Two segments share one label value');
    expect(() => writeSeg({ source: series.source, labels, segments: SEGMENTS.map((s) => ({ ...s, color: 'red' })), info })).toThrow('#rrggbb');
    expect(() => writeSeg({ source: series.source, labels, segments: SEGMENTS.map((s) => ({ ...s, algorithmType: 'AUTOMATIC' as const, algorithmName: '' })), info })).toThrow('algorithm name');
  });
});

describe('segment colours and codes', () => {
  it('converts sRGB to DICOM CIELab (D65) and back', () => {
    expect(hexToDicomLab('#ffffff')).toEqual([65535, 32896, 32896]);
    expect(hexToDicomLab('#000000')).toEqual([0, 32896, 32896]);
    // sRGB red = CIELab (53.24, 80.09, 67.20) → scaled L·655.35, (a+128)·257, (b+128)·257.
    const red = hexToDicomLab('#ff0000');
    [53.2408 * 655.35, (80.0925 + 128) * 257, (67.2032 + 128) * 257].forEach((x, i) => expect(Math.abs(red[i]! - x)).toBeLessThan(20));
    for (const c of ['#ff0000', '#00ff00', '#0000ff', '#c86450', '#123456', '#fedcba', '#808080']) expect(dicomLabToHex(hexToDicomLab(c))).toBe(c);
  });

  it('picks default codes from the label', () => {
    expect(defaultSegmentCodes('Left kidney').type.value).toBe('64033007');
    expect(defaultSegmentCodes('Liver tumour').category.value).toBe('49755003');
    expect(defaultSegmentCodes('Lung nodule').type.value).toBe('27925004');
    expect(defaultSegmentCodes('Bone').category.value).toBe('85756007');
    expect(defaultSegmentCodes('Something else')).toEqual({ category: { value: '85756007', scheme: 'SCT', meaning: 'Tissue' }, type: { value: '85756007', scheme: 'SCT', meaning: 'Tissue' } });
  });

  it('uses only codes that pydicom lists in CID 7150 / CID 7151 with the same meaning', () => {
    const codes = allDefaultCodes().map(({ concept, cid }) => [concept.scheme, concept.value, concept.meaning, cid]);
    const script = `
import json, sys
from pydicom.sr._concepts_dict import concepts
bad = []
for scheme, value, meaning, cid in json.loads(sys.argv[1]):
    hits = [(m, cids) for entries in concepts[scheme].values() for v, (m, cids) in entries.items() if v == value]
    if not any(m.lower() == meaning.lower() and cid in cids for m, cids in hits): bad.append([value, meaning, cid])
print(json.dumps(bad))`;
    const py = spawnSync(PY, ['-c', script, JSON.stringify(codes)], { encoding: 'utf8' });
    expect(py.stderr).toBe('');
    expect(JSON.parse(py.stdout)).toEqual([]);
  });
});
