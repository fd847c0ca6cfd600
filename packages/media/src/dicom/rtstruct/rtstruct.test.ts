import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CT_SMALL, syntheticSource } from '../sr/testdata.js';
import { RtStructError, readRtStruct, writeRtStruct, type RtRoi } from './index.js';

const CHECK = fileURLToPath(new URL('./check_rtstruct.py', import.meta.url));
const FOREIGN = fileURLToPath(new URL('../../../../../../shared/data/dicom/pydicom/rtstruct.dcm', import.meta.url));
const info = { seriesDescription: 'Caliper structures', seriesNumber: 901, instanceNumber: 1, contentLabel: 'STRUCTS', contentCreator: 'Annotator^7', now: new Date('2026-01-02T03:04:05Z') };

function rois(): RtRoi[] {
  return [
    {
      number: 1,
      name: 'Liver',
      color: '#a05030',
      interpretedType: 'ORGAN',
      contours: [
        { slice: 2, points: [[10.5, 10.5], [40.25, 12], [38, 30.75], [12, 28]] },
        { slice: 3, points: [[11, 11], [39.5, 12.5], [37.125, 29.875]] },
      ],
    },
    { number: 7, name: 'Tumour Ä', color: '#00ff7f', interpretedType: 'GTV', contours: [{ slice: 9, points: [[0, 0], [64, 0], [64, 48], [0, 48]] }] },
    { number: 3, name: 'Empty', color: '#0000ff', contours: [] },
  ];
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'caliper-rt-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('RT Structure Set', () => {
  for (const kind of ['axial', 'oblique'] as const) {
    it(`${kind}: dciodvfy clean, pydicom ContourData equals numpy affine · (x − 0.5, y − 0.5, k)`, () => {
      const source = syntheticSource(kind);
      const input = rois();
      const bytes = writeRtStruct({ source, rois: input, info });
      const file = join(dir, `${kind}.dcm`);
      writeFileSync(file, bytes);

      const v = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
      const report = `${v.stdout}${v.stderr}`;
      if (v.status !== 0 || /^Error/m.test(report) || process.env.SHOW_DCIODVFY) console.error(report);
      expect(v.status).toBe(0);
      expect(report).not.toMatch(/^Error/m);

      const py = spawnSync('/usr/bin/python3', [CHECK, file], { encoding: 'utf8', input: JSON.stringify({ affine: source.affineLps, rois: input }) });
      expect(py.stderr).toBe('');
      const r = JSON.parse(py.stdout) as {
        sopClass: string; modality: string; maxDiff: number; contours: { type: string; count: number; image: string }[];
        frameOfReference: string; roiFrameOfReference: string[]; study: string; series: string; images: string[]; names: string[]; colors: number[][]; types: string[];
      };
      const ref = spawnSync('/usr/bin/python3', ['-c', 'import pydicom,sys; d=pydicom.dcmread(sys.argv[1]); print(d.FrameOfReferenceUID, d.StudyInstanceUID, d.SeriesInstanceUID)', CT_SMALL], { encoding: 'utf8' }).stdout.trim().split(' ');
      expect(r.sopClass).toBe('1.2.840.10008.5.1.4.1.1.481.3');
      expect(r.modality).toBe('RTSTRUCT');
      expect(r.maxDiff).toBeLessThan(1e-4);
      expect(r.contours.map((c) => c.type)).toEqual(['CLOSED_PLANAR', 'CLOSED_PLANAR', 'CLOSED_PLANAR']);
      expect(r.contours.map((c) => c.count)).toEqual([4, 3, 4]);
      expect(r.contours.map((c) => c.image)).toEqual([2, 3, 9].map((k) => source.slices[k]?.sopInstanceUid));
      expect([r.frameOfReference, r.study, r.series]).toEqual(ref);
      expect(r.roiFrameOfReference).toEqual([ref[0], ref[0], ref[0]]);
      expect(r.images).toEqual(source.slices.map((s) => s.sopInstanceUid));
      expect(r.names).toEqual(['Liver', 'Tumour Ä', 'Empty']);
      expect(r.colors).toEqual([[160, 80, 48], [0, 255, 127], [0, 0, 255]]);
      expect(r.types).toEqual(['ORGAN', 'GTV', '']);
    });

    it(`${kind}: write → read round trip`, () => {
      const source = syntheticSource(kind);
      const input = rois();
      const target = { affineLps: source.affineLps, dims: source.dims, sopInstanceUids: source.slices.map((s) => s.sopInstanceUid) };
      const { rois: got, skipped } = readRtStruct(writeRtStruct({ source, rois: input, info }), target);
      expect(skipped).toEqual([]);
      expect(got.map(({ contours: _c, ...r }) => r)).toEqual([
        { number: 1, name: 'Liver', color: '#a05030', interpretedType: 'ORGAN' },
        { number: 7, name: 'Tumour Ä', color: '#00ff7f', interpretedType: 'GTV' },
        { number: 3, name: 'Empty', color: '#0000ff', interpretedType: '' },
      ]);
      got.forEach((roi, n) => {
        const want = input[n] as RtRoi;
        expect(roi.contours.map((c) => c.slice)).toEqual(want.contours.map((c) => c.slice));
        roi.contours.forEach((c, m) => {
          const wp = want.contours[m]?.points.flat() ?? [];
          const gp = c.points.flat();
          expect(gp.length).toBe(wp.length);
          gp.forEach((x, i) => expect(Math.abs(x - (wp[i] as number))).toBeLessThan(1e-4));
        });
      });
    });
  }

  it('skips contours off the target slice planes or on another image than referenced', () => {
    const source = syntheticSource('axial');
    const bytes = writeRtStruct({ source, rois: rois(), info });
    // Target shifted by half a slice: no contour lies on a slice plane.
    const shifted = source.affineLps.map((row, r) => (r === 2 ? [row[0] ?? 0, row[1] ?? 0, row[2] ?? 0, (row[3] ?? 0) + 1.25] : row));
    const a = readRtStruct(bytes, { affineLps: shifted, dims: source.dims });
    expect(a.rois.flatMap((r) => r.contours)).toEqual([]);
    expect(a.skipped).toHaveLength(3);
    expect(a.skipped[0]).toEqual({ roi: 'Liver', reason: 'contour does not lie on a slice plane of the target' });
    // Slice order reversed in the UID list: contours reference images of other slices.
    const b = readRtStruct(bytes, { affineLps: source.affineLps, dims: source.dims, sopInstanceUids: source.slices.map((s) => s.sopInstanceUid).reverse() });
    expect(b.skipped.map((s) => s.reason)).toEqual(Array(3).fill('contour plane does not match its referenced image'));
    // A volume of 5 slices: the contour on slice 9 is outside.
    const c = readRtStruct(bytes, { affineLps: source.affineLps, dims: [64, 48, 5] });
    expect(c.skipped).toEqual([{ roi: 'Tumour Ä', reason: 'contour lies outside the target volume' }]);
  });

  it("reads another tool's RTSTRUCT (pydicom's rtstruct.dcm, given a Part-10 header by pydicom)", () => {
    const file = join(dir, 'foreign.dcm');
    const py = spawnSync('/usr/bin/python3', ['-c', [
      'import sys, pydicom',
      'from pydicom.dataset import FileMetaDataset',
      'd = pydicom.dcmread(sys.argv[1], force=True)',
      'm = FileMetaDataset(); m.MediaStorageSOPClassUID = d.SOPClassUID; m.MediaStorageSOPInstanceUID = d.SOPInstanceUID',
      'm.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian',
      'd.file_meta = m; d.is_little_endian = True; d.is_implicit_VR = False',
      'd.save_as(sys.argv[2], write_like_original=False)',
    ].join('\n'), FOREIGN, file], { encoding: 'utf8' });
    expect(py.stderr).toBe('');
    // Axial 1 mm pixels, 10 mm slices from z = -200: the three body contours lie on slices 0, 1, 2.
    const target = { affineLps: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 10, -200], [0, 0, 0, 1]], dims: [512, 512, 30] as [number, number, number] };
    const { rois: got, skipped } = readRtStruct(new Uint8Array(readFileSync(file)), target);
    expect(got.map((r) => [r.number, r.name, r.color, r.contours.map((c) => c.slice)])).toEqual([
      [1, 'patient', '#dca078', [0, 1, 2]],
      [2, 'Isocenter 1', '#ff40ff', []],
      [3, 'Isocenter 2', '#ff40ff', []],
    ]);
    expect(got.every((r) => r.interpretedType === undefined)).toBe(true);
    expect(skipped).toEqual([
      { roi: 'patient', reason: 'interpreted type EXTERNAL is not supported; left empty' },
      { roi: 'Isocenter 1', reason: 'interpreted type ISOCENTER is not supported; left empty' },
      { roi: 'Isocenter 1', reason: 'contour type POINT is not CLOSED_PLANAR' },
      { roi: 'Isocenter 2', reason: 'interpreted type ISOCENTER is not supported; left empty' },
      { roi: 'Isocenter 2', reason: 'contour type POINT is not CLOSED_PLANAR' },
    ]);
    // First point of the first contour, independently: pydicom's ContourData (x, y) + 0.5 on this target.
    const first = spawnSync('/usr/bin/python3', ['-c', 'import sys,pydicom; d=pydicom.dcmread(sys.argv[1]); c=d.ROIContourSequence[0].ContourSequence[0].ContourData; print(float(c[0])+0.5, float(c[1])+0.5)', file], { encoding: 'utf8' });
    const [x, y] = first.stdout.trim().split(' ').map(Number);
    expect(got[0]?.contours[0]?.points[0]?.[0]).toBeCloseTo(x as number, 9);
    expect(got[0]?.contours[0]?.points[0]?.[1]).toBeCloseTo(y as number, 9);
  });

  it('rejects invalid input', () => {
    const source = syntheticSource('axial');
    const bad = (patch: Partial<RtRoi>): RtRoi[] => [{ ...(rois()[0] as RtRoi), ...patch }];
    expect(() => writeRtStruct({ source, rois: bad({ color: 'red' }), info })).toThrow(RtStructError);
    expect(() => writeRtStruct({ source, rois: bad({ contours: [{ slice: 10, points: [[0, 0], [1, 0], [1, 1]] }] }), info })).toThrow(/outside the source series/);
    expect(() => writeRtStruct({ source, rois: [...rois(), ...rois()], info })).toThrow(/unique/);
  });

  it('throws RtStructError for non-RTSTRUCT, non-DICOM and truncated files', () => {
    const source = syntheticSource('axial');
    const target = { affineLps: source.affineLps, dims: source.dims };
    const good = writeRtStruct({ source, rois: rois(), info });
    const code = (bytes: Uint8Array): string => {
      try {
        readRtStruct(bytes, target);
      } catch (e) {
        if (e instanceof RtStructError) return e.code;
        throw e;
      }
      return 'no error';
    };
    expect(code(new Uint8Array(readFileSync(CT_SMALL)))).toBe('not-rtstruct');
    expect(code(new TextEncoder().encode('garbage'.repeat(100)))).toBe('not-dicom');
    expect(code(good.subarray(0, Math.floor(good.length * 0.7)))).toBe('not-dicom');
    expect(code(good.subarray(0, 50))).toBe('not-dicom');
  });
});
