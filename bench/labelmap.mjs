// Label-map engine benchmark (packages/core/src/labelmap): brush steps, one-diff strokes, 3D flood
// fill, slice interpolation and the overlay renderer on a 512×512×300 uint8 label map with
// 0.7×0.7×2.5 mm voxels. Prints timings; run on demand:
//
//   npx tsc -b packages/core && node bench/labelmap.mjs
//
// Times are wall clock and CPU of this process (the machine may be shared; compare the two).
// Options: BENCH_REPS (render repetitions, default 20).
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lm = await import(pathToFileURL(path.join(root, 'packages/core/dist/labelmap/index.js')).href);
const { LabelMap, EditHistory, StrokeRecorder, paintSphere, strokeSegment, floodFill, interpolateSlices, renderLabelSlice, packRgba, paintCircle, removeSegment } = lm;

const REPS = Number(process.env.BENCH_REPS ?? 20);
const DIMS = [512, 512, 300];
const SPACING = [0.7, 0.7, 2.5];
const N = DIMS[0] * DIMS[1] * DIMS[2];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const pct = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * q) / 100))];
};
const ms = (x) => `${x.toFixed(3)} ms`;
/** Wall and CPU time (this process, all threads) of fn() in ms; the machine may be shared. */
const timed = (fn) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { result, wall, cpu: (c.user + c.system) / 1000 };
};
const both = (t) => `${ms(t.wall)} (cpu ${ms(t.cpu)})`;
const rows = [];
const report = (name, value, extra = '') => {
  rows.push([name, value, extra]);
  console.log(`${name.padEnd(52)} ${value.padStart(12)}  ${extra}`);
};

console.log(`Label map ${DIMS.join('×')} uint8, spacing ${SPACING.join('×')} mm, Node ${process.version}; loadavg ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
const map = new LabelMap(DIMS, SPACING);
const history = new EditHistory();

// 1. One sphere step (r = 10 mm) each with its own diff, 200 steps along a path.
{
  const wall = [];
  const cpu = [];
  for (let s = 0; s < 220; s++) {
    const a = (s / 200) * 2 * Math.PI;
    const c = [256 + 120 * Math.cos(a), 256 + 120 * Math.sin(a), 150 + 10 * Math.sin(3 * a)];
    const t = timed(() => paintSphere(map, c, 10, { segment: 1 }));
    history.push(t.result);
    if (s >= 20) {
      wall.push(t.wall); // first 20 are warm-up
      cpu.push(t.cpu);
    }
  }
  report('sphere step r=10 mm (own diff), median of 200', ms(median(wall)), `cpu median ${ms(median(cpu))}; wall p95 ${ms(pct(wall, 95))}, max ${ms(Math.max(...wall))}`);
  const wall2 = [];
  const rec = new StrokeRecorder();
  rec.beginStroke(map);
  for (let s = 0; s < 220; s++) {
    const a = (s / 200) * 2 * Math.PI;
    const c = [256 + 60 * Math.cos(a), 256 + 60 * Math.sin(a), 120];
    const t = timed(() => paintSphere(map, c, 10, { segment: 2, stroke: rec }));
    if (s >= 20) wall2.push(t.wall);
  }
  const end = timed(() => rec.endStroke());
  history.push(end.result);
  report('sphere step r=10 mm inside a stroke, median', ms(median(wall2)), `p95 ${ms(pct(wall2, 95))}; endStroke ${both(end)} for ${end.result.indices.length} voxels`);
}

// 2. A 50-step drag (pointer moves of ~6 mm, gap-free segments) as one diff.
{
  const rec = new StrokeRecorder();
  const stepTimes = [];
  const t = timed(() => {
    rec.beginStroke(map);
    let prev = [100, 400, 60];
    for (let s = 1; s <= 50; s++) {
      const next = [100 + s * 7, 400 - s * 4, 60 + (s % 5)];
      const ts = performance.now();
      strokeSegment(map, prev, next, 10, { segment: 3, stroke: rec, skipStart: s > 1 });
      stepTimes.push(performance.now() - ts);
      prev = next;
    }
    return rec.endStroke();
  });
  const diff = t.result;
  history.push(diff);
  report('50-step stroke r=10 mm as ONE diff (total)', both(t), `${diff.indices.length} voxels, diff ${(diff.byteLength / 1024).toFixed(1)} KiB; per pointer move median ${ms(median(stepTimes))}, max ${ms(Math.max(...stepTimes))}`);
  const u = timed(() => history.undo(map));
  const r = timed(() => history.redo(map));
  report('undo / redo of that stroke', both(u), `redo ${both(r)}; history ${(history.byteLength / 1048576).toFixed(2)} MiB for ${history.undoDepth} steps`);
}

// 3. 3D flood fill of a bright 100×100×100 cube in a dark int16 volume.
{
  const image = new Int16Array(N);
  let seed = 1;
  for (let i = 0; i < N; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    image[i] = (seed % 21) - 1000; // air-ish with noise
  }
  for (let k = 100; k < 200; k++) for (let j = 200; j < 300; j++) {
    const row = k * 512 * 512 + j * 512;
    for (let i = 200; i < 300; i++) image[row + i] += 1040; // ~40 HU soft tissue
  }
  const runs = [];
  for (let r = 0; r < 5; r++) {
    const fresh = new LabelMap(DIMS, SPACING);
    runs.push(timed(() => floodFill(fresh, image, [250, 250, 150], { tolerance: 30, mode: '3d', segment: 4 })));
  }
  const last = runs[runs.length - 1].result;
  report('flood fill 3D, 100³ cube in 512×512×300 (median of 5)', ms(median(runs.map((x) => x.wall))), `cpu ${ms(median(runs.map((x) => x.cpu)))}; ${last.regionVoxels} voxels, truncated ${last.truncated}, diff ${(last.diff.byteLength / 1048576).toFixed(2)} MiB`);
  const fresh = new LabelMap(DIMS, SPACING);
  const leak = timed(() => floodFill(fresh, image, [10, 10, 10], { tolerance: 30, mode: '3d', segment: 4, maxVoxels: 5_000_000 }));
  report('flood fill 3D leaking into background, cap 5M', both(leak), `${leak.result.regionVoxels} voxels, truncated ${leak.result.truncated}`);
  const f2 = timed(() => floodFill(fresh, image, [250, 250, 150], { tolerance: 30, mode: '2d', plane: 2, segment: 5 }));
  report('flood fill 2D axial (100×100 square)', both(f2), `${f2.result.regionVoxels} voxels`);
}

// 4. Interpolation across 20 empty slices of 512×512 (discs r = 40 mm and 60 mm).
{
  const m = new LabelMap(DIMS, SPACING);
  paintCircle(m, { normalAxis: 2, slice: 100 }, [256, 256, 100], 40, { segment: 1 });
  paintCircle(m, { normalAxis: 2, slice: 121 }, [270, 250, 121], 60, { segment: 1 });
  const t = timed(() => interpolateSlices(m, 1));
  report('interpolate 20 slices of 512×512 (discs 40→60 mm)', both(t), `${t.result.filledSlices.length} slices filled, ${t.result.diff.indices.length} voxels`);
  const rm = timed(() => removeSegment(m, 1));
  report('removeSegment (scan of the volume)', both(rm), `${rm.result.indices.length} voxels`);
}

// 5. Overlay rendering (the label map painted above).
{
  const colors = new Uint32Array(256);
  for (let v = 1; v < 256; v++) colors[v] = packRgba((v * 67) & 255, (v * 131) & 255, (v * 29) & 255, 120);
  const axial = { axis: 'axial', normalAxis: 2, uAxis: 0, uFlip: false, vAxis: 1, vFlip: false, width: 512, height: 512, depth: 300, pixelSpacing: [0.7, 0.7], sliceSpacing: 2.5 };
  const coronal = { axis: 'coronal', normalAxis: 1, uAxis: 0, uFlip: false, vAxis: 2, vFlip: true, width: 512, height: 300, depth: 512, pixelSpacing: [0.7, 2.5], sliceSpacing: 0.7 };
  const sagittal = { axis: 'sagittal', normalAxis: 0, uAxis: 1, uFlip: true, vAxis: 2, vFlip: true, width: 512, height: 300, depth: 512, pixelSpacing: [0.7, 2.5], sliceSpacing: 0.7 };
  for (const [name, mp, slice] of [['axial', axial, 150], ['coronal', coronal, 256], ['sagittal', sagittal, 256]]) {
    const out = new Uint32Array(mp.width * mp.height);
    for (const mode of [{ fill: true }, { fill: true, outline: true }]) {
      const runs = [];
      for (let r = 0; r < REPS + 5; r++) {
        const t = timed(() => renderLabelSlice(map, mp, slice, colors, out, mode));
        if (r >= 5) runs.push(t);
      }
      report(`renderLabelSlice ${name} ${mp.width}×${mp.height} ${mode.outline ? 'fill+outline' : 'fill'}`, ms(median(runs.map((x) => x.wall))), `cpu ${ms(median(runs.map((x) => x.cpu)))}`);
    }
  }
}
