import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DicomError, decodeFrames, decodeFramesAsync, readDicom, toRgb } from './index.js';

const DATA_DIR = fileURLToPath(new URL('../../../../../../shared/data/dicom', import.meta.url));
const PYTHON = '/usr/bin/python3';

/** JPEG samples whose YCbCr the decoder keeps (pydicom does the same). */
const YBR_SAMPLES = ['pydicom/examples_ybr_color.dcm', 'pydicom/SC_rgb_jpeg_dcmtk.dcm'];

/**
 * pydicom 2.3 as the reference. argv: data dir, work dir, then the YBR samples. For each sample i
 * it reads `ours-i.raw` (our decoded YCbCr, uint8) and writes `py-ours-i.raw` (pydicom's
 * convert_color_space of exactly those values) and `py-own-i.raw` (pydicom decoding the file
 * itself, then converting). It also writes small PALETTE COLOR and native YBR_FULL files with
 * their pydicom RGB as `<name>.dcm` / `<name>.rgb` (+ `<name>.dtype`).
 */
const REFERENCE_SCRIPT = String.raw`
import sys, os, numpy as np, pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pydicom.pixel_data_handlers.util import convert_color_space, apply_color_lut
from pydicom.data import get_palette_files
data, work = sys.argv[1], sys.argv[2]
for i, name in enumerate(sys.argv[3:]):
    ds = pydicom.dcmread(os.path.join(data, name))
    ours = np.fromfile(os.path.join(work, f'ours-{i}.raw'), dtype=np.uint8).reshape(-1, ds.Rows, ds.Columns, 3)
    convert_color_space(ours, 'YBR_FULL', 'RGB').tofile(os.path.join(work, f'py-ours-{i}.raw'))
    convert_color_space(ds.pixel_array, 'YBR_FULL', 'RGB').astype(np.uint8).tofile(os.path.join(work, f'py-own-{i}.raw'))

def base(rows, cols, bits, photometric, samples=1):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.7'
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = 'OT'
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = bits
    ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 0
    if samples > 1:
        ds.PlanarConfiguration = 0
    ds.is_little_endian, ds.is_implicit_VR = True, False
    return ds

def save(ds, name, rgb):
    ds.save_as(os.path.join(work, name + '.dcm'), write_like_original=False)
    rgb = np.ascontiguousarray(rgb)
    rgb.tofile(os.path.join(work, name + '.rgb'))
    open(os.path.join(work, name + '.dtype'), 'w').write(str(rgb.dtype))

rng = np.random.default_rng(7)
# 8-bit image, hot iron palette (256 entries of 16-bit words).
img8 = np.arange(24 * 16, dtype=np.uint8).reshape(24, 16)
ds = base(24, 16, 8, 'PALETTE COLOR')
pal = pydicom.dcmread(get_palette_files('hotiron.dcm')[0])
for c in ('Red', 'Green', 'Blue'):
    setattr(ds, c + 'PaletteColorLookupTableDescriptor', getattr(pal, c + 'PaletteColorLookupTableDescriptor'))
    setattr(ds, c + 'PaletteColorLookupTableData', getattr(pal, c + 'PaletteColorLookupTableData'))
ds.PixelData = img8.tobytes()
save(ds, 'pal-hotiron', apply_color_lut(img8, ds))

# Same image, segmented palettes (discrete and linear segments).
for pname in ('fall', 'spring'):
    ds = base(24, 16, 8, 'PALETTE COLOR')
    pal = pydicom.dcmread(get_palette_files(pname + '.dcm')[0])
    for c in ('Red', 'Green', 'Blue'):
        setattr(ds, c + 'PaletteColorLookupTableDescriptor', getattr(pal, c + 'PaletteColorLookupTableDescriptor'))
        setattr(ds, 'Segmented' + c + 'PaletteColorLookupTableData', getattr(pal, 'Segmented' + c + 'PaletteColorLookupTableData'))
    ds.PixelData = img8.tobytes()
    save(ds, 'pal-' + pname, apply_color_lut(img8, ds))

# 16-bit image, 4096-entry 16-bit LUT starting at 100: values below and past the LUT clip.
img16 = rng.integers(0, 5000, size=(2, 8, 12), dtype=np.uint16)
ds = base(8, 12, 16, 'PALETTE COLOR')
ds.NumberOfFrames = 2
for c in ('Red', 'Green', 'Blue'):
    setattr(ds, c + 'PaletteColorLookupTableDescriptor', [4096, 100, 16])
    lut = rng.integers(0, 65536, size=4096, dtype=np.uint16)
    ds[{'Red': 0x00281201, 'Green': 0x00281202, 'Blue': 0x00281203}[c]] = pydicom.DataElement(
        {'Red': 0x00281201, 'Green': 0x00281202, 'Blue': 0x00281203}[c], 'OW', lut.tobytes())
ds.PixelData = img16.tobytes()
save(ds, 'pal-16bit', apply_color_lut(img16, ds))

# Native YBR_FULL made from an RGB sample.
rgbds = pydicom.dcmread(os.path.join(data, 'pydicom/SC_rgb_small_odd.dcm'))
ybr = convert_color_space(rgbds.pixel_array, 'RGB', 'YBR_FULL')
ds = base(rgbds.Rows, rgbds.Columns, 8, 'YBR_FULL', samples=3)
ds.PixelData = np.ascontiguousarray(ybr).tobytes() + (b'\0' if ybr.size % 2 else b'')
save(ds, 'ybr-native', convert_color_space(ybr, 'YBR_FULL', 'RGB'))
`;

let work = '';

function loadData(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(DATA_DIR, name)));
}

function loadWork(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(work, name)));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i += 1) worst = Math.max(worst, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return worst;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'caliper-color-'));
  for (const [i, name] of YBR_SAMPLES.entries()) {
    const decoded = await decodeFramesAsync(readDicom(loadData(name)));
    writeFileSync(join(work, `ours-${i}.raw`), decoded.data);
  }
  const run = spawnSync(PYTHON, ['-c', REFERENCE_SCRIPT, DATA_DIR, work, ...YBR_SAMPLES], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`pydicom reference failed: ${run.stderr}`);
});

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

describe('toRgb: YBR_FULL / YBR_FULL_422 against pydicom convert_color_space', () => {
  it.each(YBR_SAMPLES.map((name, i) => [name, i] as const))('%s', async (name, i) => {
    const instance = readDicom(loadData(name));
    const decoded = await decodeFramesAsync(instance);
    const rgb = toRgb(decoded, instance);
    expect(rgb.shape).toEqual([...decoded.shape.slice(0, 3), 3]);
    expect(rgb.data).toBeInstanceOf(Uint8Array);
    // The same YCbCr values through pydicom: equal within pydicom's float32 rounding.
    const sameInput = loadWork(`py-ours-${i}.raw`);
    expect(maxAbsDiff(rgb.data, sameInput)).toBeLessThanOrEqual(1);
    // End to end against pydicom decoding with libjpeg: the decoders' own differences add up.
    const endToEnd = loadWork(`py-own-${i}.raw`);
    let sum = 0;
    for (let k = 0; k < rgb.data.length; k += 1) sum += Math.abs((rgb.data[k] ?? 0) - (endToEnd[k] ?? 0));
    expect(sum / rgb.data.length).toBeLessThan(1);
    // And it really converted: the raw YCbCr is far from pydicom's RGB.
    expect(maxAbsDiff(decoded.data, sameInput)).toBeGreaterThan(50);
  });

  it('converts native YBR_FULL exactly as pydicom does', () => {
    const instance = readDicom(loadWork('ybr-native.dcm'));
    const rgb = toRgb(decodeFrames(instance), instance);
    expect(maxAbsDiff(rgb.data, loadWork('ybr-native.rgb'))).toBeLessThanOrEqual(1);
    // ... and back to (close to) the original RGB sample.
    const original = decodeFrames(readDicom(loadData('pydicom/SC_rgb_small_odd.dcm')));
    expect(maxAbsDiff(rgb.data, original.data)).toBeLessThanOrEqual(2);
  });
});

describe('toRgb: pass-through', () => {
  it('returns RGB and YBR_ICT (already RGB after JPEG 2000 decoding) unchanged', async () => {
    for (const name of ['pydicom/SC_rgb_small_odd.dcm', 'pydicom-data/US1_J2KI.dcm']) {
      const instance = readDicom(loadData(name));
      const decoded = await decodeFramesAsync(instance);
      const rgb = toRgb(decoded, instance);
      expect(rgb.data).toBe(decoded.data);
      expect(rgb.shape).toEqual(decoded.shape);
    }
  });

  it('refuses monochrome images', () => {
    const instance = readDicom(loadData('pydicom/CT_small.dcm'));
    expect(() => toRgb(decodeFrames(instance), instance)).toThrow(DicomError);
  });
});

describe('toRgb: PALETTE COLOR against pydicom apply_color_lut', () => {
  it.each(['pal-hotiron', 'pal-fall', 'pal-spring', 'pal-16bit'])('%s', (name) => {
    const instance = readDicom(loadWork(`${name}.dcm`));
    expect(instance.photometricInterpretation).toBe('PALETTE COLOR');
    const decoded = decodeFrames(instance);
    const rgb = toRgb(decoded, instance);
    expect(rgb.shape).toEqual([...decoded.shape, 3]);
    const dtype = readFileSync(join(work, `${name}.dtype`), 'utf8');
    const bytes = loadWork(`${name}.rgb`);
    const expected = dtype === 'uint16' ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2) : bytes;
    expect(rgb.data).toBeInstanceOf(dtype === 'uint16' ? Uint16Array : Uint8Array);
    expect(Array.from(rgb.data)).toEqual(Array.from(expected));
  });
});
