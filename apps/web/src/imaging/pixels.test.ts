import { describe, expect, it } from 'vitest';
import { decodeFrame, defaultWindow, renderRgba, rescaledRange, sliceOfFrame, voxelToLps, windowValue } from './pixels';

describe('decodeFrame', () => {
  it('reads little-endian int16 and float32 samples', () => {
    const buf = new ArrayBuffer(6);
    const dv = new DataView(buf);
    dv.setInt16(0, -1024, true);
    dv.setInt16(2, 3071, true);
    dv.setInt16(4, 7, true);
    expect(Array.from(decodeFrame(buf, 'int16', 3))).toEqual([-1024, 3071, 7]);
    const f = new ArrayBuffer(8);
    new DataView(f).setFloat32(4, 1.5, true);
    expect(Array.from(decodeFrame(f, 'float32'))).toEqual([0, 1.5]);
  });
  it('refuses a frame of the wrong length', () => {
    expect(() => decodeFrame(new ArrayBuffer(5), 'uint16')).toThrow(/multiple of 2/);
    expect(() => decodeFrame(new ArrayBuffer(8), 'uint16', 3)).toThrow(/expected 3/);
  });
});

describe('windowValue (DICOM linear VOI LUT)', () => {
  it('follows PS3.3 C.11.2.1.2.1 for center 40 width 400', () => {
    // lower edge: c - 0.5 - (w-1)/2 = -160; upper edge: c - 0.5 + (w-1)/2 = 239
    expect(windowValue(-160, 40, 400)).toBe(0);
    expect(windowValue(-1000, 40, 400)).toBe(0);
    expect(windowValue(240, 40, 400)).toBe(255);
    expect(windowValue(39.5, 40, 400)).toBe(128); // ((0)/(399) + 0.5) * 255 = 127.5 → 128
    expect(windowValue(100, 40, 400)).toBe(Math.round(((100 - 39.5) / 399 + 0.5) * 255));
  });
  it('treats width 1 as a threshold', () => {
    expect(windowValue(10, 10, 1)).toBe(255);
    expect(windowValue(9.5, 10, 1)).toBe(0);
  });
});

describe('renderRgba', () => {
  it('applies rescale, window and MONOCHROME1 inversion', () => {
    const data = new Uint16Array([0, 1000, 2000, 4000]);
    const out = new Uint8ClampedArray(16);
    // HU = v - 1024 → [-1024, -24, 976, 2976], window 0/2000: [-1000.5, 998.5]
    renderRgba({ data, cols: 2, rows: 2, samples: 1, rescale: { slope: 1, intercept: -1024 }, center: 0, width: 2000, invert: false }, out);
    expect([out[0], out[4], out[8], out[12]]).toEqual([0, windowValue(-24, 0, 2000), windowValue(976, 0, 2000), 255]);
    expect(out[3]).toBe(255);
    renderRgba({ data, cols: 2, rows: 2, samples: 1, rescale: { slope: 1, intercept: -1024 }, center: 0, width: 2000, invert: true }, out);
    expect([out[0], out[4], out[12]]).toEqual([255, 255 - windowValue(-24, 0, 2000), 0]);
  });
  it('copies 8-bit RGB as is', () => {
    const data = new Uint8Array([10, 20, 30, 40, 50, 60]);
    const out = new Uint8ClampedArray(8);
    renderRgba({ data, cols: 2, rows: 1, samples: 3, rescale: { slope: 1, intercept: 0 }, center: 0, width: 1, invert: false }, out);
    expect(Array.from(out)).toEqual([10, 20, 30, 255, 40, 50, 60, 255]);
  });
  it('windows float data without a lookup table', () => {
    const out = new Uint8ClampedArray(8);
    renderRgba({ data: new Float32Array([0.25, 0.75]), cols: 2, rows: 1, samples: 1, rescale: { slope: 2, intercept: 0 }, center: 1, width: 2, invert: false }, out);
    expect([out[0], out[4]]).toEqual([windowValue(0.5, 1, 2), windowValue(1.5, 1, 2)]);
  });
});

describe('geometry and defaults', () => {
  it('maps voxels through the LPS affine', () => {
    const affine = [
      [0.5, 0, 0, -100],
      [0, 0.5, 0, -80],
      [0, 0, 2.5, 30],
      [0, 0, 0, 1],
    ];
    expect(voxelToLps(affine, 10, 4, 2)).toEqual([-95, -78, 35]);
  });
  it('finds the slice of a 4D frame and a default window', () => {
    expect(sliceOfFrame(25, 40, 2)).toBe(5);
    expect(sliceOfFrame(3, 10, 1)).toBe(3);
    expect(defaultWindow({ windows: [], valueRange: [-1000, 1000], dtype: 'int16' })).toEqual({ name: 'Full range', center: 0, width: 2000 });
    expect(defaultWindow({ windows: [{ name: 'a', center: 40, width: 400 }], valueRange: null, dtype: 'int16' }).center).toBe(40);
    expect(rescaledRange(new Int16Array([5, -3, 9]), { slope: -1, intercept: 0 })).toEqual([-9, 3]);
  });
});
