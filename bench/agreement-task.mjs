// Task agreement benchmark (issue 6): `taskAgreement` from the built core on 10,000 items × 3
// raters, each replica with 1–2 asset tags and 5 boxes, seeded near-agreement (raters copy a
// shared truth with small box jitter, an occasional dropped/extra tag and an occasional label
// swap). Prints the timings and the result; target < 2 s.
//
//   npx tsc -b packages/core && node bench/agreement-task.mjs
//
// Options: BENCH_ITEMS (default 10000), BENCH_REPS (default 3).
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { machineInfo, mulberry32, root } from './common.mjs';

const { taskAgreement } = await import(pathToFileURL(path.join(root, 'packages/core/dist/index.js')).href);

const ITEMS = Number(process.env.BENCH_ITEMS ?? 10_000);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const TARGET_MS = 2000;
const RATERS = ['ann-1', 'ann-2', 'ann-3'];
const TAGS = ['Normal', 'Abnormal', 'Artefact', 'Follow-up'];
const BOX_LABELS = ['Nodule', 'Mass', 'Calcification'];
const STAMP = '2024-01-01T00:00:00Z';

const rnd = mulberry32(2026);
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
let nextId = 0;
const object = (kind, label, rater, geometry) => ({
  id: `o${nextId++}`,
  kind,
  label,
  attributes: {},
  source: 'manual',
  createdBy: rater,
  createdAt: STAMP,
  updatedAt: STAMP,
  ...geometry,
});

function makeItems() {
  const items = [];
  for (let n = 0; n < ITEMS; n++) {
    const tagCount = 1 + (rnd() < 0.5 ? 1 : 0);
    const truthTags = [];
    while (truthTags.length < tagCount) {
      const t = pick(TAGS);
      if (!truthTags.includes(t)) truthTags.push(t);
    }
    const truthBoxes = Array.from({ length: 5 }, () => ({
      label: pick(BOX_LABELS),
      x: rnd() * 900,
      y: rnd() * 900,
      width: 20 + rnd() * 80,
      height: 20 + rnd() * 80,
    }));
    const replicas = RATERS.map((rater) => {
      const objects = [];
      const tags = truthTags.filter(() => rnd() > 0.05); // 5% of tags dropped
      if (tags.length === 0 || (tags.length < 2 && rnd() < 0.05)) tags.push(pick(TAGS)); // 1–2 tags, sometimes another
      for (const t of new Set(tags)) objects.push(object('tag', t, rater, { scope: { type: 'asset' } }));
      for (const b of truthBoxes) {
        const j = () => (rnd() * 2 - 1) * 0.08; // ±8% of the size
        objects.push(
          object('box', rnd() < 0.03 ? pick(BOX_LABELS) : b.label, rater, {
            x: b.x + j() * b.width,
            y: b.y + j() * b.height,
            width: b.width * (1 + j()),
            height: b.height * (1 + j()),
          }),
        );
      }
      return { annotatorId: rater, objects };
    });
    items.push({ itemId: `item-${n}`, replicas });
  }
  return items;
}

const info = machineInfo();
console.log(`${info.date} · ${info.nproc} × ${info.cpu} · Node ${info.node}`);
const tg = performance.now();
const items = makeItems();
console.log(`generated ${ITEMS} items × ${RATERS.length} raters in ${(performance.now() - tg).toFixed(0)} ms (not timed)`);

const times = [];
let result;
for (let r = 0; r < REPS; r++) {
  const t = performance.now();
  result = taskAgreement(items);
  times.push(performance.now() - t);
}
const sorted = [...times].sort((a, b) => a - b);
const median = sorted[sorted.length >> 1];
console.log(`taskAgreement: median ${median.toFixed(0)} ms [${times.map((t) => t.toFixed(0)).join(', ')} ms], target < ${TARGET_MS} ms: ${median < TARGET_MS ? 'met' : 'MISSED'}`);
console.log(JSON.stringify({ tags: result.tags, meanPairwiseF1: result.boxes.meanPairwiseF1, perLabel: result.boxes.perLabel, perAnnotator: result.perAnnotator }));
console.log(`RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
if (median >= TARGET_MS) process.exitCode = 1;
