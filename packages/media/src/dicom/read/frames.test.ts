import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assembleSeries } from '@caliper/core';
import { describe, expect, it } from 'vitest';
import { frameGeometries, frameRate, frameTimes, readDicom, type FrameGeometry } from './index.js';

const DATA_DIR = fileURLToPath(new URL('../../../../../../shared/data/dicom', import.meta.url));
const PYTHON = '/usr/bin/python3';

const SAMPLES = [
  'pydicom-data/eCT_Supplemental.dcm',
  'dicomParser/CT0012.not_fragmented_bot_rle.dcm',
  'dicomParser/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm',
  'pydicom-data/liver.dcm',
  'pydicom-data/parametric_map_float.dcm',
  'pydicom-data/emri_small.dcm',
  'pydicom/examples_ybr_color.dcm',
  'pydicom/rtdose.dcm',
  'pydicom/CT_small.dcm',
  'pydicom/MR_small.dcm',
  'pydicom/MR_small_bigendian.dcm',
  'pydicom/MR_small_implicit.dcm',
  'pydicom/ExplVR_BigEnd.dcm',
  'pydicom-data/US1_J2KI.dcm',
];

/**
 * Independent truth: pydicom reads each file and resolves every frame's plane itself
 * (per-frame group, else shared group, else top level; RT Dose via Grid Frame Offset Vector).
 */
const TRUTH_SCRIPT = String.raw`
import json, sys, pydicom

def num(v):
    return None if v is None else [float(x) for x in (v if isinstance(v, (list, pydicom.multival.MultiValue)) else [v])]

def group(item, shared, seq):
    for ds in (item, shared):
        if ds is not None and seq in ds and len(ds[seq].value) > 0:
            return ds[seq].value[0]
    return None

def attr(ds, kw):
    return None if ds is None or kw not in ds or ds.data_element(kw).value in (None, '') else num(ds.data_element(kw).value)

out = {}
for path in sys.argv[2:]:
    d = pydicom.dcmread(sys.argv[1] + '/' + path)
    nf = int(d.NumberOfFrames) if 'NumberOfFrames' in d else 1
    top = (attr(d, 'ImagePositionPatient'), attr(d, 'ImageOrientationPatient'), attr(d, 'PixelSpacing'))
    frames = []
    shared = d.SharedFunctionalGroupsSequence[0] if 'SharedFunctionalGroupsSequence' in d else None
    per = d.PerFrameFunctionalGroupsSequence if 'PerFrameFunctionalGroupsSequence' in d else None
    if shared is not None or per is not None:
        for k in range(nf):
            item = per[k] if per is not None and k < len(per) else None
            f = {
                'ipp': attr(group(item, shared, 'PlanePositionSequence'), 'ImagePositionPatient') or top[0],
                'iop': attr(group(item, shared, 'PlaneOrientationSequence'), 'ImageOrientationPatient') or top[1],
                'ps': attr(group(item, shared, 'PixelMeasuresSequence'), 'PixelSpacing') or top[2],
            }
            fc = group(item, shared, 'FrameContentSequence')
            if fc is not None and 'InStackPositionNumber' in fc: f['inStack'] = int(fc.InStackPositionNumber)
            if fc is not None and 'DimensionIndexValues' in fc: f['dims'] = [int(x) for x in num(fc.DimensionIndexValues)]
            frames.append(f)
    elif 'GridFrameOffsetVector' in d:
        ipp, iop = top[0], top[1]
        n = [iop[1]*iop[5]-iop[2]*iop[4], iop[2]*iop[3]-iop[0]*iop[5], iop[0]*iop[4]-iop[1]*iop[3]]
        offs = num(d.GridFrameOffsetVector)
        assert offs[0] == 0, 'relative offsets expected'
        frames = [{'ipp': [ipp[i] + o * n[i] for i in range(3)], 'iop': iop, 'ps': top[2]} for o in offs]
    else:
        frames = [{'ipp': top[0], 'iop': top[1], 'ps': top[2]} for _ in range(nf)]
    out[path] = {
        'sop': str(d.SOPInstanceUID), 'rows': int(d.Rows), 'columns': int(d.Columns), 'nf': nf,
        'multi': 'NumberOfFrames' in d and nf > 1, 'frames': frames,
        'frameTime': float(d.FrameTime) if 'FrameTime' in d else None,
        'frameTimeVector': num(d.FrameTimeVector) if 'FrameTimeVector' in d else None,
    }
print(json.dumps(out))
`;

interface TruthFrame {
  ipp: number[] | null;
  iop: number[] | null;
  ps: number[] | null;
  inStack?: number;
  dims?: number[];
}

interface Truth {
  sop: string;
  rows: number;
  columns: number;
  nf: number;
  multi: boolean;
  frames: TruthFrame[];
  frameTime: number | null;
  frameTimeVector: number[] | null;
}

function pydicomTruth(): Record<string, Truth> {
  const run = spawnSync(PYTHON, ['-c', TRUTH_SCRIPT, DATA_DIR, ...SAMPLES], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) throw new Error(`pydicom truth failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as Record<string, Truth>;
}

const load = (path: string) => readDicom(new Uint8Array(readFileSync(join(DATA_DIR, path))));

function expectClose(actual: readonly number[] | undefined, expected: number[] | null, what: string): void {
  if (expected === null) {
    expect(actual, what).toBeUndefined();
    return;
  }
  expect(actual, what).toBeDefined();
  expect(actual!.length, what).toBe(expected.length);
  expected.forEach((value, i) => expect(Math.abs(actual![i]! - value), `${what}[${i}]`).toBeLessThanOrEqual(1e-6));
}

describe('frame geometry and timing vs pydicom', () => {
  it('finds the sample directory', () => {
    expect(DATA_DIR.replaceAll('\\', '/').endsWith('/shared/data/dicom')).toBe(true);
    expect(existsSync(DATA_DIR)).toBe(true);
  });

  const truth = pydicomTruth();

  it.each(SAMPLES)('%s: per-frame IPP/IOP/PixelSpacing and frame content', (path) => {
    const t = truth[path]!;
    const geometries = frameGeometries(load(path));
    expect(geometries).toHaveLength(t.frames.length);
    geometries.forEach((g: FrameGeometry, k) => {
      const f = t.frames[k]!;
      expect(g.frameIndex).toBe(k);
      expect(g.id).toBe(t.multi ? `${t.sop}#${k}` : t.sop);
      expect(g.rows).toBe(t.rows);
      expect(g.columns).toBe(t.columns);
      expect(g.numberOfFrames).toBeUndefined();
      expectClose(g.imagePositionPatient, f.ipp, `${path} frame ${k} IPP`);
      expectClose(g.imageOrientationPatient, f.iop, `${path} frame ${k} IOP`);
      expectClose(g.pixelSpacing, f.ps, `${path} frame ${k} PixelSpacing`);
      expect(g.inStackPositionNumber).toBe(f.inStack);
      expect(g.dimensionIndexValues).toEqual(f.dims);
    });
  });

  it.each(SAMPLES)('%s: frame times', (path) => {
    const t = truth[path]!;
    const times = frameTimes(load(path));
    if (t.frameTimeVector !== null && t.frameTimeVector.length === t.nf) {
      let acc = 0;
      expectClose(times ?? undefined, t.frameTimeVector.map((d, k) => (k === 0 ? 0 : (acc += d))), path);
    } else if (t.frameTime !== null) {
      expectClose(times ?? undefined, Array.from({ length: t.nf }, (_, k) => k * t.frameTime!), path);
    } else {
      expect(times).toBeNull();
    }
  });
});

describe('specific samples', () => {
  it('Enhanced CT (eCT_Supplemental) assembles into a 2-slice volume from its functional groups', () => {
    const instance = load('pydicom-data/eCT_Supplemental.dcm');
    const frames = frameGeometries(instance);
    expect(frames.map((f) => f.geometrySource)).toEqual(['functional-groups', 'functional-groups']);
    expect(frames.map((f) => f.inStackPositionNumber)).toEqual([2, 1]);
    expect(frames.map((f) => f.stackId)).toEqual(['1', '1']);
    expect(frames[0]!.imageType).toEqual(['DERIVED', 'PRIMARY', 'PERFUSION', 'RCBF']);

    const series = assembleSeries(frames);
    expect(series.kind).toBe('volume');
    expect(series.issues).toEqual([]);
    expect(series.dims).toEqual([512, 512, 2]);
    // IOP (-1,0,0 / 0,1,0) → n = (0,0,-1): z = -149 comes first along +n.
    const sop = instance.sopInstanceUID!;
    expect(series.order).toEqual([`${sop}#1`, `${sop}#0`]);
    expect(series.spacing![0]).toBeCloseTo(0.388672, 9);
    expect(series.spacing![1]).toBeCloseTo(0.388672, 9);
    expect(series.spacing![2]).toBeCloseTo(10, 9);
    expect(series.positionsLps).toEqual([
      [99.5, -301.5, -149],
      [99.5, -301.5, -159],
    ]);
    // Frames in stack order agree with the sorted volume order.
    const byStack = [...frames].sort((a, b) => a.inStackPositionNumber! - b.inStackPositionNumber!).map((f) => f.id);
    expect(byStack).toEqual(series.order);
    expect(frameTimes(instance)).toBeNull();
    expect(frameRate(instance)).toBeNull();
  });

  it('Segmentation (liver, 3 frames, shared orientation/spacing) is a 1 mm volume', () => {
    const series = assembleSeries(frameGeometries(load('pydicom-data/liver.dcm')));
    expect(series.kind).toBe('volume');
    expect(series.issues).toEqual([]);
    expect(series.dims).toEqual([512, 512, 3]);
    expect(series.spacing![2]).toBeCloseTo(1, 6);
  });

  it('RT Dose (15 frames, Grid Frame Offset Vector) is a 5 mm volume', () => {
    const frames = frameGeometries(load('pydicom/rtdose.dcm'));
    expect(frames.every((f) => f.geometrySource === 'grid-frame-offset')).toBe(true);
    const series = assembleSeries(frames);
    expect(series.kind).toBe('volume');
    expect(series.issues).toEqual([]);
    expect(series.dims).toEqual([10, 10, 15]);
    expect(series.spacing).toEqual([10, 10, 5]);
  });

  it('Enhanced MR without functional groups (emri_small) yields 10 frames flagged missing-geometry', () => {
    const frames = frameGeometries(load('pydicom-data/emri_small.dcm'));
    expect(frames).toHaveLength(10);
    const series = assembleSeries(frames);
    expect(series.kind).toBe('stack');
    expect(series.issues.map((i) => i.code)).toEqual(['missing-geometry']);
  });

  it('US cine (examples_ybr_color): 30 frames at 33.333 ms', () => {
    const instance = load('pydicom/examples_ybr_color.dcm');
    const times = frameTimes(instance)!;
    expect(times).toHaveLength(30);
    expect(times[0]).toBe(0);
    expect(times[29]).toBeCloseTo(29 * 33.333, 9);
    const rate = frameRate(instance)!;
    expect(rate.source).toBe('FrameTime');
    expect(rate.fps).toBeCloseTo(1000 / 33.333, 9);
    const frames = frameGeometries(instance);
    expect(frames).toHaveLength(30);
    expect(frames.every((f) => f.geometrySource === 'top-level' && f.imagePositionPatient === undefined)).toBe(true);
  });

  it('single-frame CT gives one entry with the top-level plane and no frame times', () => {
    const instance = load('pydicom/CT_small.dcm');
    const frames = frameGeometries(instance);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.id).toBe(instance.sopInstanceUID);
    expect(frames[0]!.geometrySource).toBe('top-level');
    const series = assembleSeries(frames);
    expect(series.dims).toEqual([128, 128, 1]);
    expect(series.issues).toEqual([]);
    expect(frameTimes(instance)).toBeNull();
  });
});

describe('timing attributes (synthetic data sets)', () => {
  /** Builds a minimal explicit-VR little-endian Part 10 file with the given extra elements. */
  function part10(elements: [group: number, element: number, vr: string, value: string][]): Uint8Array {
    const enc = new TextEncoder();
    const el = (group: number, element: number, vr: string, value: string): number[] => {
      let bytes = [...enc.encode(value)];
      if (bytes.length % 2) bytes = [...bytes, vr === 'UI' ? 0 : 0x20];
      return [group & 0xff, group >> 8, element & 0xff, element >> 8, ...enc.encode(vr), bytes.length & 0xff, bytes.length >> 8, ...bytes];
    };
    const ts = el(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1');
    const metaLength = [0x02, 0x00, 0x00, 0x00, ...enc.encode('UL'), 4, 0, ts.length, 0, 0, 0];
    const body = elements
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .flatMap(([g, e, vr, v]) => el(g, e, vr, v));
    return new Uint8Array([...new Array<number>(128).fill(0), ...enc.encode('DICM'), ...metaLength, ...ts, ...body]);
  }

  it('Frame Time Vector is accumulated; Recommended Display Frame Rate wins over Cine Rate', () => {
    const instance = readDicom(
      part10([
        [0x0008, 0x0018, 'UI', '1.2.3'],
        [0x0008, 0x2144, 'IS', '25'],
        [0x0018, 0x0040, 'IS', '30'],
        [0x0018, 0x1065, 'DS', '0\\40\\40.5\\39.5'],
        [0x0028, 0x0008, 'IS', '4'],
      ]),
    );
    expect(frameTimes(instance)).toEqual([0, 40, 80.5, 120]);
    expect(frameRate(instance)).toEqual({ fps: 25, source: 'RecommendedDisplayFrameRate' });
  });

  it('Cine Rate, and Frame Time Vector as the last resort for the rate', () => {
    const cine = readDicom(part10([[0x0018, 0x0040, 'IS', '30'], [0x0018, 0x1063, 'DS', '50'], [0x0028, 0x0008, 'IS', '3']]));
    expect(frameTimes(cine)).toEqual([0, 50, 100]);
    expect(frameRate(cine)).toEqual({ fps: 30, source: 'CineRate' });
    const vector = readDicom(part10([[0x0018, 0x1065, 'DS', '0\\20\\30'], [0x0028, 0x0008, 'IS', '3']]));
    expect(frameRate(vector)).toEqual({ fps: 40, source: 'FrameTimeVector' });
  });

  it('a Frame Time Vector of the wrong length falls back to Frame Time, then to null', () => {
    const both = readDicom(part10([[0x0018, 0x1063, 'DS', '10'], [0x0018, 0x1065, 'DS', '0\\20'], [0x0028, 0x0008, 'IS', '3']]));
    expect(frameTimes(both)).toEqual([0, 10, 20]);
    const neither = readDicom(part10([[0x0018, 0x1065, 'DS', '0\\20'], [0x0028, 0x0008, 'IS', '3']]));
    expect(frameTimes(neither)).toBeNull();
  });
});
