// NIfTI label-map export speed: writeNiftiGz (chunks deflated concurrently on libuv's thread pool,
// stitched into one gzip member) against nibabel's nib.save of the same array, in the same run.
//
//   npx tsc -b packages/core packages/media && node bench/nifti-write.mjs
//
// Data: a 512×512×512 uint8 label map (no PHI) with five filled ellipsoids of labels 1–5 (~10 % non-zero).
// Timing: median of BENCH_RUNS (default 3) runs each. For nibabel only `nib.save` is timed (time.perf_counter
// inside Python); loading the array from the temporary .raw file is not. For reference, a one-shot
// single-threaded node:zlib gzipSync of the same .nii bytes at the same level is timed too.
// Check: nibabel loads our .nii.gz and np.array_equal holds against the array.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'packages/media/dist/nifti/index.js');
if (!existsSync(dist)) {
  console.error('packages/media/dist is missing: run `npx tsc -b packages/core packages/media` first.');
  process.exit(1);
}
const { writeNifti, writeNiftiGz } = await import(dist);

const N = 512;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PY = '/usr/bin/python3';

function labelMap() {
  const data = new Uint8Array(N * N * N);
  const blobs = [
    { c: [170, 190, 250], r: [108, 86, 92], label: 1 },
    { c: [340, 200, 190], r: [76, 97, 108], label: 2 },
    { c: [256, 340, 300], r: [92, 65, 118], label: 3 },
    { c: [140, 330, 130], r: [65, 65, 86], label: 4 },
    { c: [370, 380, 380], r: [81, 76, 97], label: 5 },
  ];
  for (const { c, r, label } of blobs) {
    for (let k = Math.max(0, c[2] - r[2]); k <= Math.min(N - 1, c[2] + r[2]); k++) {
      const dz = ((k - c[2]) / r[2]) ** 2;
      for (let j = Math.max(0, c[1] - r[1]); j <= Math.min(N - 1, c[1] + r[1]); j++) {
        const dyz = dz + ((j - c[1]) / r[1]) ** 2;
        if (dyz > 1) continue;
        const half = Math.floor(r[0] * Math.sqrt(1 - dyz));
        const from = Math.max(0, c[0] - half);
        const to = Math.min(N - 1, c[0] + half);
        data.fill(label, from + N * (j + N * k), to + 1 + N * (j + N * k));
      }
    }
  }
  return data;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const data = labelMap();
let nonZero = 0;
for (let i = 0; i < data.length; i++) if (data[i] !== 0) nonZero++;
const affineLps = [
  [0.7, 0, 0, -179],
  [0, 0.7, 0, -179],
  [0, 0, 0.8, -200],
  [0, 0, 0, 1],
];
const input = { data, dims: [N, N, N], affineLps, intent: 'label' };

const dir = mkdtempSync(path.join(tmpdir(), 'caliper-bench-nifti-'));
try {
  await writeNiftiGz({ ...input, data: data.subarray(0, 64 * 64 * 64), dims: [64, 64, 64] }); // warm-up
  const ours = [];
  let gz;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    gz = await writeNiftiGz(input);
    ours.push(performance.now() - t0);
  }
  const oursPath = path.join(dir, 'ours.nii.gz');
  writeFileSync(oursPath, gz);

  const nii = writeNifti(input);
  const oneShot = [];
  let oneShotSize = 0;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    oneShotSize = gzipSync(nii, { level: 1 }).length;
    oneShot.push(performance.now() - t0);
  }

  const rawPath = path.join(dir, 'labels.raw');
  writeFileSync(rawPath, data);
  const script = String.raw`
import json, sys, time, os
import numpy as np
import nibabel as nib
raw, ours, out_dir, runs, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
arr = np.fromfile(raw, dtype=np.uint8).reshape((n, n, n), order='F')
lps = np.array(json.loads(sys.argv[6]))
ras = np.diag([-1, -1, 1, 1]) @ lps
img = nib.Nifti1Image(arr, ras)
img.header['intent_code'] = 1002
times = []
path = os.path.join(out_dir, 'nibabel.nii.gz')
for _ in range(runs):
    t0 = time.perf_counter()
    nib.save(img, path)
    times.append((time.perf_counter() - t0) * 1000)
back = nib.load(ours)
equal = bool(np.array_equal(np.asanyarray(back.dataobj), arr))
affine_ok = bool(np.allclose(back.affine, ras, atol=1e-4))
print(json.dumps({'times': times, 'size': os.path.getsize(path), 'equal': equal, 'affineOk': affine_ok}))
`;
  const res = spawnSync(PY, ['-c', script, rawPath, oursPath, dir, String(RUNS), String(N), JSON.stringify(affineLps)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (res.status !== 0) throw new Error(`nibabel run failed: ${res.stderr}`);
  const nib = JSON.parse(res.stdout);

  const oursMs = median(ours);
  const nibMs = median(nib.times);
  const mib = (b) => (b / 2 ** 20).toFixed(2);
  console.log(
    `machine: ${cpus()[0]?.model ?? '?'}, ${availableParallelism()} CPUs, node ${process.version}, ` +
      `UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
  );
  console.log(`label map: ${N}×${N}×${N} uint8, ${((100 * nonZero) / data.length).toFixed(1)} % non-zero, ${RUNS} runs each`);
  console.log(`writeNiftiGz runs (ms): ${ours.map((t) => t.toFixed(0)).join(', ')}`);
  console.log(`nib.save runs (ms):     ${nib.times.map((t) => t.toFixed(0)).join(', ')}`);
  console.log(`one-shot zlib gzipSync level 1 (ms): ${oneShot.map((t) => t.toFixed(0)).join(', ')}`);
  console.log(`nibabel reads our file back equal: ${nib.equal}; affine as written: ${nib.affineOk}`);
  console.log('');
  console.log('| volume | writeNiftiGz (median) | nib.save (median) | speed-up | our .nii.gz | nibabel .nii.gz | one-shot gzipSync (median, size) | nibabel reads ours equal |');
  console.log('|---|---|---|---|---|---|---|---|');
  console.log(
    `| ${N}³ uint8 labels | ${oursMs.toFixed(0)} ms | ${nibMs.toFixed(0)} ms | ${(nibMs / oursMs).toFixed(2)}× | ` +
      `${mib(gz.length)} MiB | ${mib(nib.size)} MiB | ${median(oneShot).toFixed(0)} ms, ${mib(oneShotSize)} MiB | ${nib.equal && nib.affineOk ? 'yes' : 'NO'} |`,
  );
  if (!nib.equal || !nib.affineOk) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
