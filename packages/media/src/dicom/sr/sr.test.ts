import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceImageSeries } from '../write/source.js';
import { SrError, readMeasurementReport, trackingUid, writeMeasurementReport, type SrItem } from './index.js';
import { CT_SMALL, syntheticSource } from './testdata.js';

const WALK = fileURLToPath(new URL('./walk_sr.py', import.meta.url));
const FOREIGN = fileURLToPath(new URL('./foreign_sr.py', import.meta.url));
const TEST_SR = fileURLToPath(new URL('../../../../../../shared/data/dicom/pydicom/test-SR.dcm', import.meta.url));
const info = { seriesDescription: 'Caliper measurements', seriesNumber: 900, instanceNumber: 1, contentLabel: 'MEAS', now: new Date('2026-01-02T03:04:05Z') };
const lesion = { value: '52988006', scheme: 'SCT', meaning: 'Lesion' };

function items2d(): SrItem[] {
  return [
    { type: 'length', label: 'Lesion', value: 12.5, unit: 'mm', slice: 3, points: [[1.5, 2.25], [10.125, 20.75]], trackingId: 'obj-1', finding: lesion },
    { type: 'area', label: 'Leber Ä', value: 100.25, unit: 'mm2', slice: 4, points: [[1, 1], [40.5, 1.5], [30.25, 33.75], [2, 30]], trackingId: 'obj-2' },
    { type: 'angle', label: 'Cobb', value: 37.5, unit: 'deg', slice: 9, points: [[5, 5], [20.5, 20.5], [40, 4]], trackingId: 'obj-3' },
    { type: 'bidirectional', label: 'Node', value: 20.1, shortAxis: 9.7, unit: 'mm', slice: 0, points: [[1, 1], [30, 25], [20, 5], [12, 18]], trackingId: 'obj-4' },
    { type: 'area', label: 'Spleen', value: 3.2, unit: 'cm2', slice: 7, points: [[60.5, 40.5], [63.9, 40.5], [63.9, 47.9]], trackingId: 'obj-5' },
  ];
}

function items3d(): SrItem[] {
  return [
    { type: 'volume', label: 'Tumour', value: 3.5, unit: 'mL', points: [[1, 2, 3], [4.5, 5.25, 6]], trackingId: 'obj-6' },
    { type: 'length', label: 'Span', value: 44, unit: 'mm', points: [[0, 0, 0], [63, 47, 9]], trackingId: 'obj-7' },
    { type: 'landmark', label: 'Femur', name: 'Left femoral head centre', voxel: [10.5, 20, 3.25], trackingId: 'obj-8', finding: lesion },
  ];
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'caliper-sr-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function dciodvfy(bytes: Uint8Array, name: string): { rc: number | null; report: string } {
  const file = join(dir, name);
  writeFileSync(file, bytes);
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  if (process.env.SHOW_DCIODVFY) console.error(`${r.stdout}${r.stderr}`);
  return { rc: r.status, report: `${r.stdout}${r.stderr}` };
}

interface Walked {
  sopClass: string;
  modality: string;
  completion: string;
  verification: string;
  title: string[];
  template: string;
  evidence: string[];
  rootItems: string[][];
  lps: number[][];
  groups: {
    concept: string[];
    texts: Record<string, string>;
    uids: Record<string, string>;
    codes: Record<string, string[]>;
    nums: { concept: string[]; value: number; unit: string[]; coords: { valueType: string; graphicType: string; data: number[]; sop?: string; relationship?: string; frameOfReference?: string }[] }[];
    regions: { valueType: string; graphicType: string; data: number[]; concept?: string[]; frameOfReference?: string }[];
  }[];
}

function walk(bytes: Uint8Array, source: SourceImageSeries, voxels: number[][]): Walked {
  const file = join(dir, 'walk.dcm');
  writeFileSync(file, bytes);
  const py = spawnSync('/usr/bin/python3', [WALK, file], { encoding: 'utf8', input: JSON.stringify({ affine: source.affineLps, voxels }) });
  expect(py.stderr).toBe('');
  return JSON.parse(py.stdout) as Walked;
}

function expectClose(actual: number[], expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((v, i) => expect(Math.abs(v - (expected[i] as number))).toBeLessThan(tol));
}

describe('TID 1500 measurement report', () => {
  it('2D-only report: Enhanced SR, valid for dciodvfy, content checked by pydicom', () => {
    const source = syntheticSource('axial');
    const items = items2d();
    const bytes = writeMeasurementReport({ source, items, info, observer: 'Reader^One' });
    const v = dciodvfy(bytes, 'enhanced.dcm');
    if (v.rc !== 0 || /^Error/m.test(v.report)) console.error(v.report);
    expect(v.rc).toBe(0);
    expect(v.report).not.toMatch(/^Error/m);

    const w = walk(bytes, source, []);
    expect(w.sopClass).toBe('1.2.840.10008.5.1.4.1.1.88.22');
    expect([w.modality, w.completion, w.verification, w.template]).toEqual(['SR', 'COMPLETE', 'UNVERIFIED', '1500']);
    expect(w.title).toEqual(['126000', 'DCM', 'Imaging Measurement Report']);
    expect(w.rootItems.map((c) => c[0])).toEqual(['121049', '121005', '121008', '121058', '111028', '126010']);
    expect(new Set(w.evidence)).toEqual(new Set([3, 4, 9, 0, 7].map((k) => source.slices[k]?.sopInstanceUid)));
    expect(w.groups).toHaveLength(5);

    const expected: [string, string, string][] = [
      ['410668003', 'SCT', 'Length'],
      ['42798000', 'SCT', 'Area'],
      ['1483009', 'SCT', 'Angle'],
      ['103339001', 'SCT', 'Long axis'],
      ['42798000', 'SCT', 'Area'],
    ];
    w.groups.forEach((g, n) => {
      const item = items[n] as Exclude<SrItem, { type: 'landmark' }>;
      expect(g.concept).toEqual(['125007', 'DCM', 'Measurement Group']);
      expect(g.texts['112039']).toBe(item.trackingId);
      expect(g.uids['112040']).toBe(trackingUid(item.trackingId));
      expect(g.texts.LABEL).toBe(item.label);
      const m = g.nums[0];
      expect(m?.concept).toEqual(expected[n]);
      expect(m?.value).toBeCloseTo(item.value, 10);
      expect(m?.unit[0]).toBe(item.unit);
      expect(m?.unit[1]).toBe('UCUM');
      const c = m?.coords[0];
      expect(c?.valueType).toBe('SCOORD');
      expect(c?.graphicType).toBe('POLYLINE');
      expect(c?.sop).toBe(source.slices[item.slice ?? -1]?.sopInstanceUid);
      expect(c?.relationship).toBe('SELECTED FROM');
      // SCOORD pixel coordinates are Caliper's (same top-left-corner origin); areas are closed rings.
      const pts = item.type === 'bidirectional' ? item.points.slice(0, 2) : item.type === 'area' ? [...item.points, item.points[0] as number[]] : item.points;
      expectClose(c?.data ?? [], pts.flat(), 1e-4);
    });
    expect(w.groups[0]?.codes['121071']).toEqual(['52988006', 'SCT', 'Lesion']);
    const bi = w.groups[3]?.nums[1];
    expect(bi?.concept).toEqual(['103340004', 'SCT', 'Short axis']);
    expect(bi?.value).toBeCloseTo(9.7, 10);
    expectClose(bi?.coords[0]?.data ?? [], [20, 5, 12, 18], 1e-4);
  });

  it('3D report (oblique volume): Comprehensive 3D SR, SCOORD3D equals numpy affine · voxel', () => {
    const source = syntheticSource('oblique');
    const items = [...items2d().slice(0, 1), ...items3d()];
    const bytes = writeMeasurementReport({ source, items, info });
    const v = dciodvfy(bytes, 'comp3d.dcm');
    if (v.rc !== 0 || /^Error/m.test(v.report)) console.error(v.report);
    expect(v.rc).toBe(0);
    expect(v.report).not.toMatch(/^Error/m);

    const voxels = [[1, 2, 3], [4.5, 5.25, 6], [0, 0, 0], [63, 47, 9], [10.5, 20, 3.25]];
    const w = walk(bytes, source, voxels);
    expect(w.sopClass).toBe('1.2.840.10008.5.1.4.1.1.88.34');
    // Device observer when no observer is given.
    expect(w.rootItems.map((c) => c[0])).toEqual(['121049', '121005', '121012', '121013', '121058', '111028', '126010']);
    expect(new Set(w.evidence)).toEqual(new Set(source.slices.map((s) => s.sopInstanceUid)));
    const forUid = spawnSync('/usr/bin/python3', ['-c', 'import pydicom,sys; print(pydicom.dcmread(sys.argv[1]).FrameOfReferenceUID)', CT_SMALL], { encoding: 'utf8' }).stdout.trim();
    const [, vol, span, landmark] = w.groups;
    expect(vol?.nums[0]?.concept).toEqual(['118565006', 'SCT', 'Volume']);
    expect(vol?.nums[0]?.unit[0]).toBe('mL');
    expect(vol?.nums[0]?.coords[0]).toMatchObject({ valueType: 'SCOORD3D', graphicType: 'MULTIPOINT', frameOfReference: forUid });
    expectClose(vol?.nums[0]?.coords[0]?.data ?? [], [...(w.lps[0] ?? []), ...(w.lps[1] ?? [])], 1e-4); // GraphicData is FL (float32)
    expectClose(span?.nums[0]?.coords[0]?.data ?? [], [...(w.lps[2] ?? []), ...(w.lps[3] ?? [])], 1e-4); // GraphicData is FL (float32)
    expect(landmark?.nums).toHaveLength(0);
    expect(landmark?.texts.LANDMARK_NAME).toBe('Left femoral head centre');
    expect(landmark?.regions[0]).toMatchObject({ valueType: 'SCOORD3D', graphicType: 'POINT', concept: ['111030', 'DCM', 'Image Region'] });
    expectClose(landmark?.regions[0]?.data ?? [], w.lps[4] ?? [], 1e-4); // GraphicData is FL (float32)
  });

  it('round trip: write → read gives the same items', () => {
    for (const kind of ['axial', 'oblique'] as const) {
      const source = syntheticSource(kind);
      const items = [...items2d(), ...items3d()];
      const read = readMeasurementReport(writeMeasurementReport({ source, items, info }), source);
      expect(read.skipped).toEqual([]);
      expect(read.items).toHaveLength(items.length);
      read.items.forEach((got, n) => {
        const want = items[n] as SrItem;
        if (want.type === 'landmark' || got.type === 'landmark') {
          expect(got.type).toBe(want.type);
          const { voxel: gv, ...gRest } = got as Extract<SrItem, { type: 'landmark' }>;
          const { voxel: wv, ...wRest } = want as Extract<SrItem, { type: 'landmark' }>;
          expect(gRest).toEqual(wRest);
          expectClose(gv, wv, 1e-4);
          return;
        }
        const { points: gp, ...gRest } = got;
        const { points: wp, ...wRest } = want;
        expect(gRest).toEqual(wRest);
        expectClose(gp.flat(), wp.flat(), 1e-4);
      });
    }
  });

  it('reads 2D items without a target (no slice) and skips 3D ones with a reason', () => {
    const source = syntheticSource('axial');
    const read = readMeasurementReport(writeMeasurementReport({ source, items: [...items2d().slice(0, 1), ...items3d().slice(0, 1)], info }));
    expect(read.items).toHaveLength(1);
    expect(read.items[0]).not.toHaveProperty('slice');
    expect(read.skipped).toEqual([{ group: 2, reason: '3D coordinates need a target affine' }]);
  });

  it('reads a TID 1500 report written the way other tools do, skipping what it does not understand', () => {
    const source = syntheticSource('axial');
    const file = join(dir, 'foreign.dcm');
    const py = spawnSync('/usr/bin/python3', [FOREIGN, file, source.slices[6]?.sopInstanceUid ?? ''], { encoding: 'utf8' });
    expect(py.stderr).toBe('');
    const read = readMeasurementReport(new Uint8Array(readFileSync(file)), source);
    expect(read.items).toEqual([
      { type: 'area', label: 'Lesion', trackingId: 'ROI 1', finding: lesion, value: 12.5, unit: 'mm2', slice: 6, points: [[1, 1], [9, 1], [9, 7]] },
    ]);
    expect(read.skipped).toEqual([
      { group: 1, reason: 'measurement SCT:373098007 is not supported and was ignored' },
      { group: 2, reason: 'unsupported unit [in_i]' },
      { group: 3, reason: 'measurement SCT:81827009 is not supported and was ignored' },
      { group: 3, reason: 'no supported measurement and no image region' },
    ]);
  });

  it('rejects invalid items', () => {
    const source = syntheticSource('axial');
    const bad: SrItem[] = [{ type: 'length', label: 'x', value: 1, unit: 'mm', slice: 99, points: [[0, 0], [1, 1]], trackingId: 'a' }];
    expect(() => writeMeasurementReport({ source, items: bad, info })).toThrow(SrError);
    const three: SrItem[] = [{ type: 'length', label: 'x', value: 1, unit: 'mm', slice: 0, points: [[0, 0], [1, 1], [2, 2]], trackingId: 'a' }];
    expect(() => writeMeasurementReport({ source, items: three, info })).toThrow(/Wrong number of points/);
  });

  it('throws SrError for non-SR, non-TID-1500, non-DICOM and truncated files', () => {
    const source = syntheticSource('axial');
    const good = writeMeasurementReport({ source, items: items2d(), info });
    const err = (bytes: Uint8Array): SrError => {
      try {
        readMeasurementReport(bytes);
      } catch (e) {
        if (e instanceof SrError) return e;
        throw e;
      }
      throw new Error('no error');
    };
    expect(err(new Uint8Array(readFileSync(CT_SMALL))).code).toBe('not-sr');
    expect(err(new Uint8Array(readFileSync(TEST_SR))).code).toBe('not-tid1500');
    expect(err(new TextEncoder().encode('not a dicom file at all'.repeat(20))).code).toBe('not-dicom');
    expect(err(good.subarray(0, Math.floor(good.length * 0.6))).code).toBe('not-dicom');
    expect(err(good.subarray(0, 100)).code).toBe('not-dicom');
  });
});
