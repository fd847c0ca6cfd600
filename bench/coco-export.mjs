// COCO export benchmark (packages/core/src/formats/coco.ts): 1,000,000 boxes over 10,000 images
// (100 per image, 5 categories, 1 attribute) streamed through cocoChunks into a file, respecting
// the write stream's backpressure. Objects are generated on the fly, as the server's export reads
// them page by page. Measures wall time and peak RSS (sampled every 20 ms and at every chunk), then,
// outside the timing, parses the file with JSON.parse and checks the counts.
//
//   npx tsc -b packages/core && node bench/coco-export.mjs
//
// Options: BENCH_IMAGES (default 10000), BENCH_PER_IMAGE (default 100), BENCH_KEEP=1 keeps the file.
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { cocoChunks, newWriteStats } = await import(pathToFileURL(path.join(root, 'packages/core/dist/formats/index.js')).href);

const IMAGES = Number(process.env.BENCH_IMAGES ?? 10_000);
const PER_IMAGE = Number(process.env.BENCH_PER_IMAGE ?? 100);
const CATEGORY_NAMES = ['nodule', 'mass', 'vessel', 'calcification', 'artefact'];
const categories = CATEGORY_NAMES.map((name, i) => ({
  id: i + 1,
  name,
  color: '#ff0000',
  attributes: [{ name: 'quality', type: 'select', options: ['good', 'poor'], required: false }],
}));
const images = Array.from({ length: IMAGES }, (_, i) => ({ id: i + 1, fileName: `series ${Math.floor(i / 100)}/slice_${String(i % 100).padStart(4, '0')}.png`, width: 512, height: 512 }));

function* annotations() {
  let n = 0;
  for (const image of images) {
    const objects = [];
    for (let k = 0; k < PER_IMAGE; k++, n++) {
      objects.push({
        id: `o${n}`,
        kind: 'box',
        label: CATEGORY_NAMES[n % 5],
        attributes: { quality: n % 3 === 0 ? 'poor' : 'good' },
        source: 'manual',
        createdBy: 'u1',
        createdAt: '2024-01-01T00:00:00Z',
        updatedAt: '2024-01-01T00:00:00Z',
        x: (k * 5) % 480,
        y: (k * 7) % 480,
        width: 10 + (k % 20),
        height: 8 + (k % 13),
      });
    }
    yield { image, objects };
  }
}

const dir = mkdtempSync(path.join(tmpdir(), 'caliper-coco-bench-'));
const file = path.join(dir, 'annotations.json');
let peakRss = process.memoryUsage().rss;
const sample = () => {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
};
const startRss = peakRss;
const timer = setInterval(sample, 20);

const stats = newWriteStats();
const out = createWriteStream(file);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
let chunks = 0;
for await (const chunk of cocoChunks({ info: { description: 'bench' }, categories, images, annotations: annotations() }, stats)) {
  chunks++;
  if (!out.write(chunk)) await once(out, 'drain');
  sample();
}
out.end();
await once(out, 'finish');
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
clearInterval(timer);
sample();

const bytes = statSync(file).size;
const tp0 = performance.now();
const parsed = JSON.parse(readFileSync(file, 'utf8'));
const parseMs = performance.now() - tp0;
const expected = IMAGES * PER_IMAGE;
const ok =
  parsed.annotations.length === expected &&
  parsed.images.length === IMAGES &&
  parsed.categories.length === 5 &&
  parsed.annotations[expected - 1].id === expected &&
  stats.objects === expected &&
  Object.keys(stats.dropped).length === 0;

const mb = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
console.log(`COCO export: ${expected.toLocaleString('en')} boxes over ${IMAGES.toLocaleString('en')} images`);
console.log(`  wall ${(wall / 1000).toFixed(2)} s (CPU user ${(cpu.user / 1e6).toFixed(2)} s, system ${(cpu.system / 1e6).toFixed(2)} s), ${chunks} chunks, ${mb(bytes)} written (${(bytes / 2 ** 20 / (wall / 1000)).toFixed(0)} MiB/s)`);
console.log(`  RSS at start ${mb(startRss)}, peak while writing ${mb(peakRss)}`);
console.log(`  check (outside timing): JSON.parse ${(parseMs / 1000).toFixed(2)} s, ${parsed.annotations.length.toLocaleString('en')} annotations — ${ok ? 'OK' : 'MISMATCH'}`);
if (process.env.BENCH_KEEP === '1') console.log(`  kept ${file}`);
else rmSync(dir, { recursive: true, force: true });
if (!ok) process.exitCode = 1;
