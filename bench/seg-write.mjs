// DICOM SEG export/import benchmark (packages/media/src/dicom/seg): a 512×512×300 uint8 label map
// with 5 ellipsoid segments (0.7×0.7×2.5 mm voxels) → writeSeg, binary and labelmap SOP classes
// (median of BENCH_REPS runs, default 3), then readSeg + segToLabelmap of each result, checked
// voxel for voxel. Prints timings; run on demand:
//
//   npx tsc -b packages/core packages/media && node bench/seg-write.mjs
//
// Times are wall clock and CPU of this process (the machine may be shared; compare the two).
import { cpus } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(pathToFileURL(path.join(root, 'packages/media/dist/dicom/seg', p)).href);
const { writeSeg, readSeg, segToLabelmap } = await dist('index.js');
const { syntheticSeries, paintEllipsoid } = await dist('test-fixture.js');

const REPS = Number(process.env.BENCH_REPS ?? 3);
const DIMS = [512, 512, 300];
const SPACING = [0.7, 0.7, 2.5];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const timed = (fn) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { result, wall, cpu: (c.user + c.system) / 1000 };
};
const ms = (x) => `${x.toFixed(0)} ms`;

const series = syntheticSeries(DIMS, SPACING, 0);
const labels = new Uint8Array(DIMS[0] * DIMS[1] * DIMS[2]);
const segments = [];
for (let v = 1; v <= 5; v++) {
  paintEllipsoid(labels, DIMS, [90 + 70 * v, 120 + 50 * v, 150], [55, 65, 110 + 8 * v], v);
  segments.push({ value: v, label: ['Liver', 'Spleen', 'Kidney', 'Liver tumour', 'Other'][v - 1], color: ['#dd8866', '#9955aa', '#ddbb44', '#22cc44', '#4466ee'][v - 1] });
}
let voxels = 0;
for (let p = 0; p < labels.length; p++) if (labels[p]) voxels++;

console.log(`SEG benchmark: ${DIMS.join('×')} uint8, 5 segments, ${voxels} labelled voxels; ${cpus()[0]?.model ?? '?'}, node ${process.version}`);
const info = { seriesDescription: 'Bench SEG', seriesNumber: 300, instanceNumber: 1, contentLabel: 'BENCH' };
for (const sopClass of ['binary', 'labelmap']) {
  const runs = [];
  let bytes = null;
  for (let r = 0; r < REPS; r++) {
    const t = timed(() => writeSeg({ source: series.source, labels, segments, info, sopClass }));
    runs.push(t);
    bytes = t.result;
  }
  const read = timed(() => readSeg(bytes));
  const target = { dims: DIMS, affineLps: series.source.affineLps, sopInstanceUids: series.source.slices.map((s) => s.sopInstanceUid) };
  const place = timed(() => segToLabelmap(read.result, target));
  let diff = 0;
  for (let p = 0; p < labels.length; p++) if (place.result.labels[p] !== labels[p]) diff++;
  console.log(
    `${sopClass.padEnd(8)} writeSeg median ${ms(median(runs.map((t) => t.wall)))} (cpu ${ms(median(runs.map((t) => t.cpu)))}; runs ${runs.map((t) => ms(t.wall)).join(', ')}), ` +
      `${read.result.frames.length} frames, ${(bytes.length / 2 ** 20).toFixed(1)} MiB; readSeg ${ms(read.wall)} + segToLabelmap ${ms(place.wall)} ` +
      `(placed ${place.result.placedFrames}, skipped ${place.result.skipped.length}, voxel differences ${diff})`,
  );
}
