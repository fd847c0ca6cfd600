// Label-map autosave: POST /api/assets/:id/labelmaps of a one-slice PATCH on a 512×512×300 map
// whose base has 300 non-empty slices (issue 4 target: < 200 KB uploaded, < 300 ms), on SQLite
// and PostgreSQL. `caliper serve` runs as its own process on a fresh data dir / database; the
// imaging asset is a synthetic 512×512×300 NIfTI (no PHI) uploaded through the API.
//
//   npx tsc -b packages/core packages/media apps/server apps/cli && node bench/labelmap-save.mjs
//
// Options (env): BENCH_DBS (default sqlite,postgres), BENCH_SAVES (patches per database, default
// 30), BENCH_NO_DOCS=1 (do not append to docs/benchmarks.md).
//
// Measured per save: client-side encode of the patch (CLM1, fflate level 1), bytes uploaded, and
// the wall time of the POST until its 201 (server: header check, base read, inflate check of the
// changed slice, patch application by copying compressed slices, blob write with fsync, row +
// audit entry). Each save patches the previous result, as an editor's autosave does.
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { appendToDocs, backgroundLoad, machineInfo, root } from './common.mjs';
import { requireBuilt, setupTask, startCaliper } from './ingest-common.mjs';

requireBuilt();
const { encodeLabelmap, decodeLabelmapHeader } = await import(`${root}/packages/core/dist/labelmap/index.js`);
const DBS = (process.env.BENCH_DBS ?? 'sqlite,postgres').split(',');
const SAVES = Number(process.env.BENCH_SAVES ?? 30);
const [COLS, ROWS, SLICES] = [512, 512, 300];
const PER = COLS * ROWS;

/** NIfTI-1, uint8, 1 mm, sform only; a smooth synthetic pattern (no PHI), gzip-compressed. */
function niftiGz() {
  const h = Buffer.alloc(352);
  h.writeInt32LE(348, 0);
  [3, COLS, ROWS, SLICES, 1, 1, 1, 1].forEach((d, i) => h.writeInt16LE(d, 40 + i * 2));
  h.writeInt16LE(2, 70);
  h.writeInt16LE(8, 72);
  [1, 1, 1, 1, 0, 0, 0, 0].forEach((d, i) => h.writeFloatLE(d, 76 + i * 4));
  h.writeFloatLE(352, 108);
  h.writeFloatLE(1, 112);
  h.writeInt16LE(1, 254);
  [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]].forEach((row, r) => row.forEach((v, c) => h.writeFloatLE(v, 280 + r * 16 + c * 4)));
  h.write('n+1\0', 344, 'latin1');
  const data = Buffer.alloc(PER * SLICES);
  for (let k = 0; k < SLICES; k++) for (let j = 0; j < ROWS; j++) data.fill((j + k) & 0xff, k * PER + j * COLS, k * PER + (j + 1) * COLS);
  return gzipSync(Buffer.concat([h, data]), { level: 1 });
}

/** Every slice non-empty: an organ-like ellipse (label 1) with a lesion (label 2) on the middle third. */
function labelVolume() {
  const data = new Uint8Array(PER * SLICES);
  for (let k = 0; k < SLICES; k++) {
    const t = k / (SLICES - 1);
    const a = 120 + 60 * Math.sin(Math.PI * t);
    const b = 90 + 40 * Math.sin(Math.PI * t);
    for (let j = 0; j < ROWS; j++)
      for (let i = 0; i < COLS; i++) {
        const x = (i - 256) / a;
        const y = (j - 240) / b;
        const wobble = 0.04 * Math.sin((i + k) / 7) * Math.cos((j - k) / 9);
        if (x * x + y * y < 1 + wobble) data[k * PER + j * COLS + i] = 1;
        if (k > 100 && k < 200 && (i - 300) ** 2 + (j - 220) ** 2 < 400) data[k * PER + j * COLS + i] = 2;
      }
  }
  return data;
}

/** A brush stroke (radius 8) across slice k, shifted by `seed`. */
function stroke(data, k, seed) {
  for (let s = 0; s < 60; s++) {
    const cx = 150 + s * 3 + (seed % 7);
    const cy = 200 + Math.round(20 * Math.sin((s + seed) / 6));
    for (let j = cy - 8; j <= cy + 8; j++) for (let i = cx - 8; i <= cx + 8; i++) if ((i - cx) ** 2 + (j - cy) ** 2 <= 64) data[k * PER + j * COLS + i] = 1 + (seed % 2);
  }
}

const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const median = (xs) => pct(xs, 50);

async function post(url, token, path, body) {
  const t0 = performance.now();
  const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body });
  const json = await res.json();
  const ms = performance.now() - t0;
  if (res.status !== 201) throw new Error(`POST ${path} → ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return { ms, json };
}

const load = await backgroundLoad();
const nifti = niftiGz();
console.log(`label volume ${COLS}×${ROWS}×${SLICES}…`);
const volume = labelVolume();
const results = [];
for (const db of DBS) {
  const caliper = await startCaliper({ db });
  try {
    const { taskId, token } = await setupTask(caliper.url);
    const fd = new FormData();
    fd.append('file', new Blob([nifti]), 'synthetic.nii.gz');
    const up = await fetch(`${caliper.url}/api/tasks/${taskId}/uploads`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: fd }).then((r) => r.json());
    for (;;) {
      const run = (await fetch(`${caliper.url}/api/ingest-runs/${up.run.id}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json())).run;
      if (run.state === 'failed') throw new Error(`ingest failed: ${run.error}`);
      if (run.state === 'done') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const assets = await fetch(`${caliper.url}/api/tasks/${taskId}/assets`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
    const asset = assets.items[0];
    if (JSON.stringify(asset.metadata.imaging.dims) !== JSON.stringify([COLS, ROWS, SLICES])) throw new Error(`asset dims ${asset.metadata.imaging.dims}`);
    const path = `/api/assets/${asset.id}/labelmaps`;
    const data = volume.slice();
    const slice = (k) => data.subarray(k * PER, (k + 1) * PER);

    let t0 = performance.now();
    const full = encodeLabelmap({ shape: [COLS, ROWS, SLICES], dtype: 'uint8', slices: slice });
    const fullEncodeMs = performance.now() - t0;
    const nonEmpty = decodeLabelmapHeader(full).chunks.filter((c) => c.encoding === 'deflate').length;
    const first = await post(caliper.url, token, path, full);
    let base = first.json.sha;
    if (base !== sha256(full)) throw new Error('full save: sha differs from the container sent');

    const saves = [];
    for (let n = 0; n < SAVES + 3; n++) {
      const k = (37 + n * 53) % SLICES;
      stroke(data, k, n);
      t0 = performance.now();
      const patch = encodeLabelmap({ shape: [COLS, ROWS, SLICES], dtype: 'uint8', slices: slice, only: [k], base });
      const encodeMs = performance.now() - t0;
      const r = await post(caliper.url, token, path, patch);
      if (r.json.slices !== 1) throw new Error('patch save: expected 1 slice');
      base = r.json.sha;
      if (n >= 3) saves.push({ ms: r.ms, bytes: patch.length, encodeMs, stored: r.json.bytes }); // 3 warm-up saves
    }
    // The last stored container equals encoding the edited volume in full.
    const check = encodeLabelmap({ shape: [COLS, ROWS, SLICES], dtype: 'uint8', slices: slice });
    if (sha256(check) !== base) throw new Error('stored container differs from the edited volume');
    const row = {
      db,
      nonEmpty,
      fullBytes: full.length,
      fullEncodeMs,
      fullPostMs: first.ms,
      patchBytesMedian: median(saves.map((s) => s.bytes)),
      patchBytesMax: Math.max(...saves.map((s) => s.bytes)),
      encodeMsMedian: median(saves.map((s) => s.encodeMs)),
      postMsMedian: median(saves.map((s) => s.ms)),
      postMsP95: pct(saves.map((s) => s.ms), 95),
      postMsMax: Math.max(...saves.map((s) => s.ms)),
    };
    results.push(row);
    console.log(
      `${db}: base ${nonEmpty}/${SLICES} non-empty slices, full ${(row.fullBytes / 1024).toFixed(0)} KiB (encode ${row.fullEncodeMs.toFixed(0)} ms, POST ${row.fullPostMs.toFixed(0)} ms); ` +
        `one-slice patch ${row.patchBytesMedian} B (max ${row.patchBytesMax}), encode ${row.encodeMsMedian.toFixed(1)} ms, POST median ${row.postMsMedian.toFixed(1)} ms, p95 ${row.postMsP95.toFixed(1)} ms, max ${row.postMsMax.toFixed(1)} ms (${saves.length} saves)`,
    );
  } finally {
    await caliper.close();
  }
}

if (process.env.BENCH_NO_DOCS !== '1') {
  const m = machineInfo();
  const lines = [
    `## Label-map autosave (one-slice patch) — ${m.date}`,
    '',
    `Machine: ${m.cpu}, ${m.nproc} cores, ${m.memory}; Node ${m.node}; PostgreSQL ${m.postgres}. Background load before the run: ${load.busyPct.toFixed(0)}% busy, ${load.stealPct.toFixed(0)}% steal (loadavg ${load.loadavg}).`,
    '',
    `\`node bench/labelmap-save.mjs\`: a ${COLS}×${ROWS}×${SLICES} uint8 label map whose every slice is non-empty is saved in full once, then ${SAVES} autosaves each send a CLM1 patch of one edited slice (after 3 warm-up saves) to \`POST /api/assets/{id}/labelmaps\` (bearer token, loopback, \`caliper serve\` as its own process). Target (issue 4): < 200 KB uploaded, < 300 ms.`,
    '',
    '| database | full container | full POST | patch bytes (median / max) | patch encode (client) | patch POST median | p95 | max |',
    '|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.db} | ${(r.fullBytes / 1024).toFixed(0)} KiB | ${r.fullPostMs.toFixed(0)} ms | ${r.patchBytesMedian} B / ${r.patchBytesMax} B | ${r.encodeMsMedian.toFixed(1)} ms | ${r.postMsMedian.toFixed(1)} ms | ${r.postMsP95.toFixed(1)} ms | ${r.postMsMax.toFixed(1)} ms |`,
    ),
    '',
  ];
  await appendToDocs(lines.join('\n'));
}
