import { describe, expect, it } from 'vitest';
import { decodeRaster } from './raster.js';
import { applyWindow, percentiles, renderThumbnail, windowFromRange } from './thumbnail.js';

async function pixels(png: Uint8Array): Promise<{ width: number; height: number; samples: number; data: number[] }> {
  const r = await decodeRaster(png, 'png');
  expect(r.dtype).toBe('uint8');
  return { width: r.width, height: r.height, samples: r.samples, data: Array.from(r.data) };
}

describe('applyWindow (PS3.3 C.11.2.1.2.1, linear)', () => {
  it('matches the standard formula and its bounds', () => {
    // c=40, w=400: x <= c-0.5-(w-1)/2 = -160 -> 0; x > c-0.5+(w-1)/2 = 239 -> 255
    expect(applyWindow(-160, 40, 400)).toBe(0);
    expect(applyWindow(-159.99, 40, 400)).toBeGreaterThan(0);
    expect(applyWindow(239, 40, 400)).toBeCloseTo(255 * ((239 - 39.5) / 399 + 0.5), 10);
    expect(applyWindow(239.01, 40, 400)).toBe(255);
    expect(applyWindow(40, 40, 400)).toBeCloseTo(127.81954887, 6);
    // width 1 is a threshold at c - 0.5
    expect(applyWindow(99.5, 100, 1)).toBe(0);
    expect(applyWindow(99.51, 100, 1)).toBe(255);
    const w = windowFromRange(10, 40);
    expect(applyWindow(10, w.center, w.width)).toBe(0);
    expect(applyWindow(40, w.center, w.width)).toBeCloseTo(255, 10);
    expect(applyWindow(25, w.center, w.width)).toBeCloseTo(127.5, 10);
  });
  it('percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => (99 - i) * 1000);
    expect(percentiles(v, [0.02, 0.98])).toEqual([2000, 97000]);
  });
});

describe('renderThumbnail', () => {
  it('rescales, windows, box-filters and rounds exactly', async () => {
    const base = { width: 4, height: 2, samples: 1 as const, data: [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000], intercept: -1024 };
    // window lo=0, hi=2000 -> y = x/2000*255; rescaled row 0: -1024, -24, 976, 1976; row 1 >= 2976
    const win = { center: 1000.5, width: 2001 };
    const full = await pixels(renderThumbnail({ ...base, window: win }));
    expect(full).toEqual({ width: 4, height: 2, samples: 1, data: [0, 0, 124, 252, 255, 255, 255, 255] });
    const small = await pixels(renderThumbnail({ ...base, window: win, maxSize: 2 }));
    // (0+0+255+255)/4 = 127.5 -> 128; (124.44+251.94+255+255)/4 = 221.6 -> 222
    expect(small).toEqual({ width: 2, height: 1, samples: 1, data: [128, 222] });
    const inv = await pixels(renderThumbnail({ ...base, window: win, maxSize: 2, invert: true }));
    // (255+255+0+0)/4 -> 128; (130.56+3.06+0+0)/4 = 33.4 -> 33
    expect(inv.data).toEqual([128, 33]);
  });

  it('defaults: min/max for 8-bit grey, 2nd-98th percentile above 8 bits', async () => {
    const g8 = await pixels(renderThumbnail({ width: 2, height: 2, samples: 1, data: new Uint8Array([10, 20, 30, 40]) }));
    expect(g8.data).toEqual([0, 85, 170, 255]);
    const v = Array.from({ length: 100 }, (_, i) => i * 600);
    const g16 = await pixels(renderThumbnail({ width: 10, height: 10, samples: 1, data: new Uint16Array(v) }));
    expect(g16.data[0]).toBe(0);
    expect(g16.data[2]).toBe(0);
    expect(g16.data[3]).toBe(Math.round(((1800 - 1200) / 57000) * 255));
    expect(g16.data[50]).toBe(Math.round(((30000 - 1200) / 57000) * 255));
    expect(g16.data[97]).toBe(255);
    expect(g16.data[99]).toBe(255);
  });

  it('RGB 8-bit is kept as stored; aspect ratio is kept', async () => {
    const rgb = await pixels(renderThumbnail({ width: 2, height: 1, samples: 3, data: [1, 2, 3, 250, 251, 252] }));
    expect(rgb).toEqual({ width: 2, height: 1, samples: 3, data: [1, 2, 3, 250, 251, 252] });
    const wide = await pixels(renderThumbnail({ width: 300, height: 100, samples: 1, data: new Uint8Array(30000).fill(7) }));
    expect([wide.width, wide.height]).toEqual([128, 43]);
    const tall = await pixels(renderThumbnail({ width: 10, height: 1000, samples: 3, data: new Uint8Array(30000), maxSize: 50 }));
    expect([tall.width, tall.height]).toEqual([1, 50]);
  });

  it('rejects bad input', () => {
    expect(() => renderThumbnail({ width: 2, height: 2, samples: 1, data: [1, 2, 3] })).toThrow(/shorter/);
    expect(() => renderThumbnail({ width: 1, height: 1, samples: 1, data: [1], window: { center: 0, width: 0 } })).toThrow(/window/);
  });
});
