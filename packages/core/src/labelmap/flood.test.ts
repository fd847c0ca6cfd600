import { describe, expect, it } from 'vitest';
import { EditHistory, LabelMap } from './labelmap.js';
import { floodFill } from './flood.js';
import { fillRect } from './paint.js';

/** A dark volume (0 ± noise 0..5) with a bright cube (100 ± 0..5) at [x0, x1) on every axis. */
function cubeImage(n: number, x0: number, x1: number): Int16Array {
  const img = new Int16Array(n * n * n);
  let seed = 12345;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % 6;
  };
  let idx = 0;
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++, idx++) {
    const inCube = i >= x0 && i < x1 && j >= x0 && j < x1 && k >= x0 && k < x1;
    img[idx] = (inCube ? 100 : 0) + noise();
  }
  return img;
}

function isInCube(map: LabelMap, idx: number, x0: number, x1: number): boolean {
  const [ni, nj] = map.dims;
  const k = Math.floor(idx / (ni * nj));
  const j = Math.floor((idx - k * ni * nj) / ni);
  const i = idx - k * ni * nj - j * ni;
  return i >= x0 && i < x1 && j >= x0 && j < x1 && k >= x0 && k < x1;
}

describe('floodFill', () => {
  const N = 24;
  const X0 = 6;
  const X1 = 16; // 10³ cube
  const image = cubeImage(N, X0, X1);

  it('3D fills exactly the bright cube', () => {
    const map = new LabelMap([N, N, N], [1, 1, 2]);
    const r = floodFill(map, image, [10, 10, 10], { tolerance: 20, mode: '3d', segment: 1 });
    expect(r.truncated).toBe(false);
    expect(r.regionVoxels).toBe(1000);
    expect(map.segmentVoxelCount(1)).toBe(1000);
    let wrong = 0;
    for (let idx = 0; idx < map.length; idx++) if ((map.data[idx] === 1) !== isInCube(map, idx, X0, X1)) wrong++;
    expect(wrong).toBe(0);
    expect([...map.dirtySlices()].sort((a, b) => a - b)).toEqual([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    // Undoable.
    const h = new EditHistory();
    h.push(r.diff);
    h.undo(map);
    expect(map.segmentVoxelCount(1)).toBe(0);
  });

  it('2D fills exactly the cube section in the seed plane, for each plane', () => {
    for (const plane of [0, 1, 2] as const) {
      const map = new LabelMap([N, N, N], [1, 1, 1]);
      const r = floodFill(map, image, [8, 9, 12], { tolerance: 20, mode: '2d', plane, segment: 2 });
      expect(r.regionVoxels).toBe(100);
      const seedPos = [8, 9, 12][plane]!;
      let wrong = 0;
      const [ni, nj] = map.dims;
      for (let idx = 0; idx < map.length; idx++) {
        const k = Math.floor(idx / (ni * nj));
        const j = Math.floor((idx - k * ni * nj) / ni);
        const i = idx - k * ni * nj - j * ni;
        const onPlane = [i, j, k][plane] === seedPos;
        if ((map.data[idx] === 2) !== (onPlane && isInCube(map, idx, X0, X1))) wrong++;
      }
      expect(wrong, `plane ${plane}`).toBe(0);
    }
  });

  it('seeded in the dark background, fills everything but the cube', () => {
    const map = new LabelMap([N, N, N], [1, 1, 1]);
    const r = floodFill(map, image, [0, 0, 0], { tolerance: 10, mode: '3d', segment: 3 });
    expect(r.regionVoxels).toBe(N * N * N - 1000);
  });

  it('caps at maxVoxels and reports truncated', () => {
    const map = new LabelMap([N, N, N], [1, 1, 1]);
    const r = floodFill(map, image, [10, 10, 10], { tolerance: 20, mode: '3d', segment: 1, maxVoxels: 300 });
    expect(r.truncated).toBe(true);
    expect(r.regionVoxels).toBe(300);
    expect(map.segmentVoxelCount(1)).toBe(300);
    expect(r.diff?.indices.length).toBe(300);
    // Exactly maxVoxels in the region is not a truncation.
    const m2 = new LabelMap([N, N, N], [1, 1, 1]);
    const r2 = floodFill(m2, image, [10, 10, 10], { tolerance: 20, mode: '3d', segment: 1, maxVoxels: 1000 });
    expect(r2.truncated).toBe(false);
    expect(r2.regionVoxels).toBe(1000);
  });

  it('locked segments are walls and stay untouched', () => {
    const map = new LabelMap([N, N, N], [1, 1, 1]);
    // A locked wall through the cube at k = 10 splits it into k 6..9 and 11..15.
    fillRect(map, { normalAxis: 2, slice: 10 }, 0, 0, N - 1, N - 1, { segment: 5 });
    const r = floodFill(map, image, [10, 10, 8], { tolerance: 20, mode: '3d', segment: 1, locked: new Set([5]) });
    expect(r.regionVoxels).toBe(400);
    expect(map.segmentVoxelCount(5)).toBe(N * N);
    // Unlocked, the fill goes through (and over) the other segment.
    const r2 = floodFill(map, image, [10, 10, 8], { tolerance: 20, mode: '3d', segment: 1 });
    expect(r2.regionVoxels).toBe(1000);
    expect(map.segmentVoxelCount(5)).toBe(N * N - 100);
  });

  it('tolerance is in rescaled units and the seed value must pass', () => {
    const map = new LabelMap([N, N, N], [1, 1, 1]);
    // slope 10: stored noise spans 0..5 stored = 0..50 modality; tolerance 4 modality = 0.4 stored.
    const r = floodFill(map, image, [10, 10, 10], { tolerance: 4, mode: '3d', segment: 1, rescale: { slope: 10, intercept: -1000 } });
    const seedValue = image[map.index(10, 10, 10)];
    let expected = 0;
    for (let i = 0; i < image.length; i++) if (image[i] === seedValue && isInCube(map, i, X0, X1)) expected++;
    expect(r.regionVoxels).toBeLessThanOrEqual(expected);
    expect(r.regionVoxels).toBeGreaterThan(0);
    for (let i = 0; i < map.length; i++) if (map.data[i] === 1) expect(image[i]).toBe(seedValue);
  });
  it('matches a plain BFS reference on a random (non-convex) image, 2D and 3D', () => {
    const dims: [number, number, number] = [17, 13, 11];
    const n = dims[0] * dims[1] * dims[2];
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const img = Float32Array.from({ length: n }, () => (rnd() < 0.62 ? 10 : 50));
    const reference = (start: number, mode: '2d' | '3d', plane: 0 | 1 | 2): Set<number> => {
      const [ni, nj] = dims;
      const out = new Set<number>([start]);
      const stack = [start];
      const coords = (idx: number): number[] => [idx % ni, Math.floor(idx / ni) % nj, Math.floor(idx / (ni * nj))];
      while (stack.length > 0) {
        const idx = stack.pop()!;
        const c = coords(idx);
        for (let a = 0; a < 3; a++) {
          if (mode === '2d' && a === plane) continue;
          for (const d of [-1, 1]) {
            const q = [...c];
            q[a]! += d;
            if (q[a]! < 0 || q[a]! >= dims[a]!) continue;
            const nb = q[0]! + q[1]! * ni + q[2]! * ni * nj;
            if (out.has(nb) || Math.abs(img[nb]! - img[start]!) > 5) continue;
            out.add(nb);
            stack.push(nb);
          }
        }
      }
      return out;
    };
    for (const [mode, plane] of [['3d', 2], ['2d', 0], ['2d', 1], ['2d', 2]] as const) {
      for (const start of [0, 1234, 2000]) {
        const map = new LabelMap(dims, [1, 1, 1]);
        const s0 = start % n;
        const r = floodFill(map, img, [s0 % 17, Math.floor(s0 / 17) % 13, Math.floor(s0 / 221)], { tolerance: 5, mode, plane, segment: 1 });
        const ref = reference(s0, mode, plane);
        expect(r.regionVoxels, `${mode} ${plane} ${start}`).toBe(ref.size);
        let wrong = 0;
        for (let i = 0; i < n; i++) if ((map.data[i] === 1) !== ref.has(i)) wrong++;
        expect(wrong).toBe(0);
      }
    }
  });
});
