import { describe, expect, it } from 'vitest';
import { planeMapping } from '@caliper/core/mpr';
import { applyMatrix, fitCamera, invertMatrix, planeTitle, planeToScreenMatrix, rotateLabels, scaleBarMm } from './camera';
import { histogramWindow, planeStrides, renderPlane } from './render';

const axialAffine = [
  [0.5, 0, 0, -100],
  [0, 0.5, 0, -120],
  [0, 0, 2, 30],
  [0, 0, 0, 1],
];

describe('camera', () => {
  it('fits a plane with anisotropic pixels by its physical size and centres it', () => {
    // 200 x 100 px at 0.5 x 2 mm = 100 x 200 mm: the height limits the fit in a 400 x 400 box.
    const m = { ...planeMapping([200, 100, 10], null, 'axial'), pixelSpacing: [0.5, 2] as [number, number] };
    const cam = fitCamera(m, 400, 400);
    const t = planeToScreenMatrix(m, cam);
    const [x0, y0] = applyMatrix(t, 0, 0);
    const [x1, y1] = applyMatrix(t, 200, 100);
    expect(y1 - y0).toBeCloseTo(400 * 0.98, 6);
    expect(x1 - x0).toBeCloseTo(200 * 0.98, 6);
    expect((x0 + x1) / 2).toBeCloseTo(200, 6);
    expect((y0 + y1) / 2).toBeCloseTo(200, 6);
  });

  it('rotates clockwise and flips, and the inverse maps back', () => {
    const m = planeMapping([10, 10, 1], null, 'axial');
    const cam = { ...fitCamera(m, 100, 100), rotation: 1 as const };
    const t = planeToScreenMatrix(m, cam);
    // Plane +x (to the right) points down on screen after a clockwise quarter turn.
    const [ax, ay] = applyMatrix(t, 5, 5);
    const [bx, by] = applyMatrix(t, 6, 5);
    expect(bx - ax).toBeCloseTo(0, 9);
    expect(by - ay).toBeGreaterThan(0);
    const flipped = planeToScreenMatrix(m, { ...cam, rotation: 0, flipH: true });
    expect(applyMatrix(flipped, 6, 5)[0] - applyMatrix(flipped, 5, 5)[0]).toBeLessThan(0);
    const inv = invertMatrix(t);
    const [px, py] = applyMatrix(inv, ...applyMatrix(t, 3.25, 7.5));
    expect(px).toBeCloseTo(3.25, 9);
    expect(py).toBeCloseTo(7.5, 9);
  });

  it('moves the orientation letters with rotation and flips', () => {
    const l = { left: 'R', right: 'L', top: 'A', bottom: 'P' };
    expect(rotateLabels(l, { zoom: 1, panX: 0, panY: 0, rotation: 1, flipH: false, flipV: false })).toEqual({ left: 'P', right: 'A', top: 'R', bottom: 'L' });
    expect(rotateLabels(l, { zoom: 1, panX: 0, panY: 0, rotation: 0, flipH: true, flipV: false })).toEqual({ left: 'L', right: 'R', top: 'A', bottom: 'P' });
  });

  it('picks a round scale bar of at least 60 px', () => {
    expect(scaleBarMm(2)).toBe(50);
    expect(scaleBarMm(7)).toBe(10);
    expect(scaleBarMm(100)).toBe(1);
  });
});

describe('plane rendering', () => {
  const dims: [number, number, number] = [4, 3, 5];
  const vol = new Int16Array(4 * 3 * 5).map((_, n) => n);

  it('cuts axial, coronal and sagittal planes with the mapping flips (checked against a naive loop)', () => {
    for (const axis of ['axial', 'coronal', 'sagittal'] as const) {
      const m = planeMapping(dims, axialAffine, axis);
      for (let s = 0; s < m.depth; s++) {
        const { base, sx, sy } = planeStrides(m, dims, s);
        for (let y = 0; y < m.height; y++) {
          for (let x = 0; x < m.width; x++) {
            const v: [number, number, number] = [0, 0, 0];
            v[m.normalAxis] = s;
            v[m.uAxis] = m.uFlip ? dims[m.uAxis] - 1 - x : x;
            v[m.vAxis] = m.vFlip ? dims[m.vAxis] - 1 - y : y;
            expect(base + x * sx + y * sy).toBe(v[0] + v[1] * 4 + v[2] * 12);
          }
        }
      }
    }
  });

  it('windows int16 samples through rescale with the DICOM linear function', () => {
    const m = planeMapping(dims, axialAffine, 'axial');
    const out = new Uint32Array(m.width * m.height);
    // Slice 2 holds 24..35; rescale -1024 + 1 -> -1000..-989; window centre -995 width 10.
    const data = vol;
    renderPlane({ data, dims, samples: 1, rescale: { slope: 1, intercept: -1024 } }, m, 2, { center: -995, width: 10 }, false, out);
    const greys = Array.from(out, (p) => p & 0xff);
    // x <= c - 0.5 - (w-1)/2 = -1000 -> 0; x > c - 0.5 + (w-1)/2 = -991 -> 255.
    expect(greys[0]).toBe(0); // value 24 - 1024 = -1000
    expect(greys[11]).toBe(255); // -989
    expect(greys[5]).toBe(Math.round(((-995 - (-995 - 0.5)) / 9 + 0.5) * 255)); // value -995
    const inverted = new Uint32Array(out.length);
    renderPlane({ data, dims, samples: 1, rescale: { slope: 1, intercept: -1024 } }, m, 2, { center: -995, width: 10 }, true, inverted);
    expect(inverted[0]! & 0xff).toBe(255);
  });

  it('finds an automatic window inside the value range, ignoring the background minimum', () => {
    const data = new Uint16Array(10_000);
    for (let i = 0; i < data.length; i++) data[i] = i < 5000 ? 0 : 100 + (i % 400);
    const w = histogramWindow(data, { slope: 1, intercept: 0 }, 1);
    expect(w.center - w.width / 2).toBeGreaterThanOrEqual(99);
    expect(w.center + w.width / 2).toBeLessThanOrEqual(500);
    expect(w.width).toBeGreaterThan(300);
  });
});

describe('plane titles', () => {
  it('names planes by anatomy, so a sagittal acquisition is not called axial', () => {
    const sagittalAcq = [
      [0, 0, 9, -40],
      [1, 0, 0, -120],
      [0, -1, 0, 100],
      [0, 0, 0, 1],
    ];
    const acq = planeMapping([256, 256, 6], sagittalAcq, 'axial');
    expect(planeTitle(acq, sagittalAcq, 6, true)).toBe('Sagittal');
    // Columns step posterior and rows inferior: the voxel plane across columns is coronal, across rows axial.
    expect(planeTitle(planeMapping([256, 256, 6], sagittalAcq, 'sagittal'), sagittalAcq, 6, true)).toBe('Coronal');
    expect(planeTitle(planeMapping([256, 256, 6], sagittalAcq, 'coronal'), sagittalAcq, 6, true)).toBe('Axial');
    expect(planeTitle(planeMapping([4, 3, 5], axialAffine, 'axial'), axialAffine, 5, true)).toBe('Axial');
    expect(planeTitle(planeMapping([4, 3, 1], null, 'axial'), null, 1, false)).toBe('Image');
  });
});
