// Exports and imports end to end on a real server (SQLite and PostgreSQL): every format is
// written by the export job, checked by an independent tool where one exists (nibabel, pydicom,
// dciodvfy), and read back by the import into the same annotations.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync, zipSync } from 'fflate';
import { decodeLabelmap, encodeLabelmap } from '@caliper/core/labelmap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, DB_KINDS, makePng, startTestServer, type TestServer } from './harness.js';
import { SHARED, waitForRun } from './ingest-helpers.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const LIVER = path.join(SHARED, 'dicom/pydicom-data/liver.dcm');

const SCHEMA = {
  version: 1,
  labels: [
    { name: 'Lesion', color: '#e53935', kinds: ['box', 'polygon', 'ellipse', 'mask', 'tag'], attributes: [{ name: 'malignant', type: 'checkbox', default: false }] },
    { name: 'Liver', color: '#43a047', kinds: ['labelmap'], attributes: [] },
    { name: 'Tumor', color: '#8e24aa', kinds: ['labelmap'], attributes: [] },
    { name: 'Size', color: '#1e88e5', kinds: ['measurement'], attributes: [] },
    { name: 'Anatomy', color: '#fb8c00', kinds: ['landmarks'], landmarks: ['Carina', 'Apex'], attributes: [] },
  ],
};
const [COLS, ROWS, SLICES] = [64, 48, 8];
const T = '2026-12-03T10:00:00.000Z';

function python(code: string, ...args: string[]): string {
  const r = spawnSync('/usr/bin/python3', ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout.trim();
}

function dciodvfy(file: string): { errors: string[]; report: string } {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  const report = `${r.stdout}${r.stderr}`;
  expect(r.status, report).toBeLessThanOrEqual(1); // > 1 = the tool crashed
  return { errors: report.split('\n').filter((l) => l.startsWith('Error')), report };
}

/** The painted label map: Liver (1) in a disc on slices 2..5, Tumor (2) in a square on slice 3. */
function paint(): Uint8Array {
  const per = COLS * ROWS;
  const data = new Uint8Array(per * SLICES);
  for (let k = 2; k <= 5; k++) for (let j = 0; j < ROWS; j++) for (let i = 0; i < COLS; i++) if ((i - 30) ** 2 + (j - 22) ** 2 < 12 ** 2) data[k * per + j * COLS + i] = 1;
  for (let j = 18; j < 24; j++) for (let i = 26; i < 34; i++) data[3 * per + j * COLS + i] = 2;
  return data;
}

const common = (id: string, label: string) => ({ id, label, attributes: {}, source: 'manual', createdBy: 'u', createdAt: T, updatedAt: T });

describe.each(DB_KINDS)('exports and imports on %s', (kind) => {
  let ts: TestServer;
  let admin: Client;
  let adminId: string;
  let work: string;
  let projectId: string;
  let taskId: string;
  let ctId: string;
  let pngId: string;
  let jobId: string;
  let ctObjects: any[];
  let pngObjects: any[];
  const labels = paint();
  let project2: string;
  let task2: string;
  let ct2: string;
  let png2: string;
  let job2: string;

  async function uploadFiles(task: string, files: { name: string; data: Uint8Array }[]) {
    const fd = new FormData();
    for (const f of files) fd.append('file', new Blob([new Uint8Array(f.data)]), f.name);
    const up = await admin.post(`/api/tasks/${task}/uploads`, fd);
    expect(up.status, JSON.stringify(up.body)).toBe(202);
    expect((await waitForRun(admin, up.body.run.id)).run.state).toBe('done');
    return (await admin.get(`/api/tasks/${task}/assets`)).body.items as { id: string; name: string; modality: string; metadata: any }[];
  }

  async function exportZip(body: Record<string, unknown>, project = projectId) {
    const r = await admin.post(`/api/projects/${project}/exports`, body);
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    let st = r.body;
    for (let i = 0; i < 600 && (st.state === 'queued' || st.state === 'running'); i++) {
      await new Promise((res) => setTimeout(res, 100));
      st = (await admin.get(`/api/exports/${st.id}`)).body;
    }
    expect(st.state, JSON.stringify(st)).toBe('done');
    const res = await fetch(`${ts.url}/api/exports/${st.id}/download`, { headers: { cookie: admin.cookie! } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    const bytes = new Uint8Array(await res.arrayBuffer());
    return { status: st, bytes, files: unzipSync(bytes) };
  }

  async function importFile(task: string, query: Record<string, string>, name: string, data: Uint8Array) {
    const fd = new FormData();
    fd.append('file', new Blob([new Uint8Array(data)]), name);
    return admin.post(`/api/tasks/${task}/imports?${new URLSearchParams(query)}`, fd);
  }

  const doc = async (job: string, asset: string) => (await admin.get(`/api/jobs/${job}/assets/${asset}/annotations`)).body;

  beforeAll(async () => {
    ts = await startTestServer(kind);
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
    adminId = (await admin.get('/api/auth/me')).body.user.id;
    work = await mkdtemp(path.join(tmpdir(), 'caliper-exchange-'));
    const { writeSyntheticCtSeries } = (await import(path.join(REPO, 'bench/synthetic-ct.mjs'))) as {
      writeSyntheticCtSeries: (dir: string, o: object) => Promise<{ files: string[] }>;
    };
    const series = await writeSyntheticCtSeries(path.join(work, 'ct'), { slices: SLICES, rows: ROWS, cols: COLS, seed: 7 });
    const files = [
      ...(await Promise.all(series.files.map(async (f) => ({ name: `ct/${path.basename(f)}`, data: await readFile(f) })))),
      { name: 'photo.png', data: await makePng(40, 30, 8, 3) },
    ];
    projectId = (await admin.post('/api/projects', { name: 'Exchange', labelSchema: SCHEMA })).body.id;
    taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'CT' })).body.id;
    const assets = await uploadFiles(taskId, files);
    ctId = assets.find((a) => a.metadata.imaging?.kind === 'volume')!.id;
    pngId = assets.find((a) => a.name === 'photo.png')!.id;
    jobId = (await admin.post(`/api/tasks/${taskId}/jobs`, { assetsPerJob: 10, assigneeId: adminId })).body.items[0].id;

    // The same files in a second project: the target of round trips.
    project2 = (await admin.post('/api/projects', { name: 'Exchange copy', labelSchema: SCHEMA })).body.id;
    task2 = (await admin.post(`/api/projects/${project2}/tasks`, { name: 'CT' })).body.id;
    const assets2 = await uploadFiles(task2, files);
    ct2 = assets2.find((a) => a.metadata.imaging?.kind === 'volume')!.id;
    png2 = assets2.find((a) => a.name === 'photo.png')!.id;
    job2 = (await admin.post(`/api/tasks/${task2}/jobs`, { assetsPerJob: 10, assigneeId: adminId })).body.items[0].id;

    const container = encodeLabelmap({ shape: [COLS, ROWS, SLICES], dtype: 'uint8', slices: (k) => labels.subarray(k * COLS * ROWS, (k + 1) * COLS * ROWS) });
    const saved = await fetch(`${ts.url}/api/assets/${ctId}/labelmaps`, {
      method: 'POST',
      headers: { cookie: admin.cookie!, 'x-csrf-token': admin.csrf!, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(container),
    });
    expect(saved.status).toBe(201);
    const sha = ((await saved.json()) as { sha: string }).sha;
    ctObjects = [
      { ...common('seg', 'Liver'), kind: 'labelmap', blob: sha, shape: [COLS, ROWS, SLICES], segments: [{ value: 1, label: 'Liver' }, { value: 2, label: 'Tumor' }] },
      { ...common('b1', 'Lesion'), kind: 'box', x: 10, y: 12, width: 20, height: 8, slice: 2 },
      { ...common('b2', 'Lesion'), kind: 'box', x: 30, y: 5, width: 6, height: 9, slice: 4, attributes: { malignant: true } },
      { ...common('p1', 'Lesion'), kind: 'polygon', points: [[20, 10], [40, 12], [35, 30], [22, 28]], slice: 3 },
      { ...common('m1', 'Size'), kind: 'measurement', type: 'length', points: [[10, 10], [40, 10]], value: 21, unit: 'mm', slice: 3 },
      { ...common('l1', 'Anatomy'), kind: 'landmarks', points: [{ name: 'Carina', i: 30, j: 20, k: 3 }, { name: 'Apex', i: 12, j: 8, k: 6 }] },
    ];
    const mask = new Uint8Array(30 * 40);
    for (let y = 5; y < 15; y++) for (let x = 8; x < 20; x++) mask[y * 40 + x] = 1;
    const { encodeRle } = await import('@caliper/core');
    pngObjects = [
      { ...common('q1', 'Lesion'), kind: 'box', x: 2, y: 3, width: 10, height: 7 },
      { ...common('q2', 'Lesion'), kind: 'polygon', points: [[5, 5], [25, 6], [15, 20]] },
      { ...common('q3', 'Lesion'), kind: 'mask', rle: encodeRle(mask, 30, 40) },
    ];
    expect((await admin.put(`/api/jobs/${jobId}/assets/${ctId}/annotations`, { baseRevision: 0, document: { objects: ctObjects } })).status).toBe(200);
    expect((await admin.put(`/api/jobs/${jobId}/assets/${pngId}/annotations`, { baseRevision: 0, document: { objects: pngObjects } })).status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    await ts?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('NIfTI: the label map lines up with the DICOM series in nibabel (affine 1e-4 mm) and imports back voxel for voxel', async () => {
    const { files, status } = await exportZip({ format: 'nifti', includeImages: true });
    const names = Object.keys(files).sort();
    expect(names).toEqual(expect.arrayContaining(['labels.json', 'labels.txt']));
    const labelFile = names.find((n) => n.startsWith('labels/') && n.endsWith('.nii.gz'))!;
    const imageFile = names.find((n) => n.startsWith('images/') && n.endsWith('.nii.gz'))!;
    expect(labelFile).toBeTruthy();
    expect(imageFile).toBeTruthy();
    expect(status.stats.files).toBe(2);
    await writeFile(path.join(work, 'label.nii.gz'), files[labelFile]!);
    await writeFile(path.join(work, 'image.nii.gz'), files[imageFile]!);
    // nibabel against pydicom on the original files: same geometry, same voxels.
    const out = JSON.parse(
      python(
        `
import sys, json, glob, numpy as np, nibabel as nib, pydicom
lab = nib.load(sys.argv[1]); img = nib.load(sys.argv[2])
ds = sorted((pydicom.dcmread(f) for f in glob.glob(sys.argv[3] + '/*.dcm')), key=lambda d: float(d.ImagePositionPatient[2]))
# nibabel's affine from the DICOM geometry (column = i, row = j), LPS -> RAS
o = np.array(ds[0].ImagePositionPatient, float); iop = np.array(ds[0].ImageOrientationPatient, float)
ps = [float(x) for x in ds[0].PixelSpacing]
step = np.array(ds[1].ImagePositionPatient, float) - o
A = np.eye(4); A[:3,0] = iop[:3]*ps[1]; A[:3,1] = iop[3:]*ps[0]; A[:3,2] = step; A[:3,3] = o
A = np.diag([-1,-1,1,1]) @ A
vol = np.stack([d.pixel_array.T * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in ds], axis=2)
data = lab.get_fdata()
print(json.dumps({"shape": list(lab.shape), "dtype": str(lab.get_data_dtype()), "intent": int(lab.header['intent_code']),
  "affineErr": float(np.abs(lab.affine - A).max()), "qformErr": float(np.abs(lab.get_qform() - A).max()), "imgAffineErr": float(np.abs(img.affine - A).max()),
  "imgEqual": bool(np.allclose(img.get_fdata(), vol)), "counts": [int((data == v).sum()) for v in (1, 2)],
  "carina": int(data[30, 20, 3]), "outside": int(data[0, 0, 0])}))
`,
        path.join(work, 'label.nii.gz'),
        path.join(work, 'image.nii.gz'),
        path.join(work, 'ct'),
      ),
    );
    expect(out.shape).toEqual([COLS, ROWS, SLICES]);
    expect(out.dtype).toBe('uint8');
    expect(out.intent).toBe(1002);
    expect(out.affineErr).toBeLessThan(1e-4);
    expect(out.qformErr).toBeLessThan(1e-4);
    expect(out.imgAffineErr).toBeLessThan(1e-4);
    expect(out.imgEqual).toBe(true);
    const count = (v: number) => labels.reduce((n, x) => n + (x === v ? 1 : 0), 0);
    expect(out.counts).toEqual([count(1), count(2)]);
    expect(JSON.parse(new TextDecoder().decode(files['labels.json']!)).segments.map((s: { label: string }) => s.label)).toEqual(['Liver', 'Tumor']);

    // Import the exported zip into the copy project: the label map lands on its CT with the same voxels.
    const dry = await importFile(task2, { format: 'nifti', dryRun: 'true' }, 'nifti.zip', zipSync({ [labelFile]: files[labelFile]!, 'labels.json': files['labels.json']! }));
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, labelmaps: 1, revisions: [] });
    expect((await doc(job2, ct2)).revision).toBe(0);
    const r = await importFile(task2, { format: 'nifti', mode: 'replace' }, 'nifti.zip', zipSync({ [labelFile]: files[labelFile]!, 'labels.json': files['labels.json']! }));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.assets).toEqual([expect.objectContaining({ assetId: ct2, labelmaps: 1 })]);
    const d = await doc(job2, ct2);
    const lm = d.document.objects.find((o: any) => o.kind === 'labelmap');
    expect(lm.source).toBe('import:nifti');
    expect(lm.segments).toEqual([{ value: 1, label: 'Liver' }, { value: 2, label: 'Tumor' }]);
    const blob = await fetch(`${ts.url}/api/assets/${ct2}/labelmaps/${lm.blob}`, { headers: { cookie: admin.cookie! } });
    expect(Buffer.from(decodeLabelmap(new Uint8Array(await blob.arrayBuffer())).data).equals(Buffer.from(labels))).toBe(true);
  });

  it('DICOM SEG: dciodvfy reports no errors, pydicom places every frame on its source slice, and re-import gives identical voxels', async () => {
    const { files } = await exportZip({ format: 'dicom-seg' });
    const segName = Object.keys(files).find((n) => n.startsWith('seg/'))!;
    const segPath = path.join(work, 'seg.dcm');
    await writeFile(segPath, files[segName]!);
    const v = dciodvfy(segPath);
    expect(v.errors, v.report).toEqual([]);
    const out = JSON.parse(
      python(
        `
import sys, json, glob, numpy as np, pydicom
s = pydicom.dcmread(sys.argv[1])
ds = sorted((pydicom.dcmread(f) for f in glob.glob(sys.argv[2] + '/*.dcm')), key=lambda d: float(d.ImagePositionPatient[2]))
zs = [float(d.ImagePositionPatient[2]) for d in ds]
frames = []
px = s.pixel_array
for n, f in enumerate(s.PerFrameFunctionalGroupsSequence):
    pos = [float(x) for x in f.PlanePositionSequence[0].ImagePositionPatient]
    k = min(range(len(zs)), key=lambda i: abs(zs[i] - pos[2]))
    frames.append({"seg": int(f.SegmentIdentificationSequence[0].ReferencedSegmentNumber), "k": k, "err": abs(zs[k] - pos[2]) + abs(pos[0] - float(ds[k].ImagePositionPatient[0])) + abs(pos[1] - float(ds[k].ImagePositionPatient[1])), "sum": int(px[n].sum())})
print(json.dumps({"labels": [x.SegmentLabel for x in s.SegmentSequence], "frames": frames, "modality": s.Modality}))
`,
        segPath,
        path.join(work, 'ct'),
      ),
    );
    expect(out.modality).toBe('SEG');
    expect(out.labels).toEqual(['Liver', 'Tumor']);
    const per = COLS * ROWS;
    const expected: { seg: number; k: number; sum: number }[] = [];
    for (const seg of [1, 2]) for (let k = 0; k < SLICES; k++) {
      let n = 0;
      for (let i = 0; i < per; i++) if (labels[k * per + i] === seg) n++;
      if (n > 0) expected.push({ seg, k, sum: n });
    }
    expect(out.frames.map((f: any) => ({ seg: f.seg, k: f.k, sum: f.sum }))).toEqual(expected);
    for (const f of out.frames) expect(f.err).toBeLessThan(1e-3);

    // Re-import into the same task (appended): the new label map equals the exported one.
    const before = (await doc(jobId, ctId)).revision;
    const r = await importFile(taskId, { format: 'dicom-seg' }, 'seg.dcm', files[segName]!);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.labelmaps).toBe(1);
    const d = await doc(jobId, ctId);
    expect(d.revision).toBe(before + 1);
    const imported = d.document.objects.filter((o: any) => o.kind === 'labelmap' && o.source === 'import:dicom-seg');
    expect(imported).toHaveLength(1);
    const blob = await fetch(`${ts.url}/api/assets/${ctId}/labelmaps/${imported[0].blob}`, { headers: { cookie: admin.cookie! } });
    const got = decodeLabelmap(new Uint8Array(await blob.arrayBuffer())).data;
    const valueOf = new Map(imported[0].segments.map((s: any) => [s.value, s.label]));
    for (let i = 0; i < labels.length; i++) {
      const want = labels[i] === 0 ? undefined : labels[i] === 1 ? 'Liver' : 'Tumor';
      if (valueOf.get(got[i]!) !== want) throw new Error(`voxel ${i} differs`);
    }
    // Put the document back as it was for the other tests.
    await admin.put(`/api/jobs/${jobId}/assets/${ctId}/annotations`, { baseRevision: d.revision, document: { objects: ctObjects } });
  });

  it('DICOM SR and RTSTRUCT: dciodvfy reports no errors and pydicom reads the measurement and the contour in patient space', async () => {
    const sr = await exportZip({ format: 'dicom-sr' });
    const srName = Object.keys(sr.files).find((n) => n.startsWith('sr/'))!;
    await writeFile(path.join(work, 'sr.dcm'), sr.files[srName]!);
    const v1 = dciodvfy(path.join(work, 'sr.dcm'));
    expect(v1.errors, v1.report).toEqual([]);
    const rt = await exportZip({ format: 'rtstruct' });
    const rtName = Object.keys(rt.files).find((n) => n.startsWith('rtstruct/'))!;
    await writeFile(path.join(work, 'rt.dcm'), rt.files[rtName]!);
    const v2 = dciodvfy(path.join(work, 'rt.dcm'));
    expect(v2.errors, v2.report).toEqual([]);
    const out = JSON.parse(
      python(
        `
import sys, json, glob, numpy as np, pydicom
sr = pydicom.dcmread(sys.argv[1]); rt = pydicom.dcmread(sys.argv[2])
ds = sorted((pydicom.dcmread(f) for f in glob.glob(sys.argv[3] + '/*.dcm')), key=lambda d: float(d.ImagePositionPatient[2]))
nums = []
def walk(items):
    for it in items:
        if it.ValueType == 'NUM': nums.append((it.ConceptNameCodeSequence[0].CodeMeaning, float(it.MeasuredValueSequence[0].NumericValue), it.MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue))
        if 'ContentSequence' in it: walk(it.ContentSequence)
walk(sr.ContentSequence)
roi = rt.StructureSetROISequence[0].ROIName
c = rt.ROIContourSequence[0].ContourSequence[0]
pts = np.array(c.ContourData, float).reshape(-1, 3)
d = ds[3]; o = np.array(d.ImagePositionPatient, float); iop = np.array(d.ImageOrientationPatient, float); ps = [float(x) for x in d.PixelSpacing]
exp = np.array([o + iop[:3]*ps[1]*(x-0.5) + iop[3:]*ps[0]*(y-0.5) for x, y in [(20, 10), (40, 12), (35, 30), (22, 28)]])
print(json.dumps({"nums": nums, "roi": roi, "err": float(np.abs(pts - exp).max()), "ref": c.ContourImageSequence[0].ReferencedSOPInstanceUID == rt.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0].ContourImageSequence[3].ReferencedSOPInstanceUID if len(rt.ReferencedFrameOfReferenceSequence[0].RTReferencedStudySequence[0].RTReferencedSeriesSequence[0].ContourImageSequence) > 3 else None}))
`,
        path.join(work, 'sr.dcm'),
        path.join(work, 'rt.dcm'),
        path.join(work, 'ct'),
      ),
    );
    expect(out.nums).toEqual(expect.arrayContaining([[expect.any(String), 21, 'mm']]));
    expect(out.roi).toBe('Lesion');
    expect(out.err).toBeLessThan(1e-3);
  });

  it.each([
    ['coco', 'coco', ['box', 'polygon', 'mask']],
    ['cvat', 'cvat', ['box', 'polygon', 'mask']],
    ['voc', 'voc', ['box']],
    ['yolo', 'yolo', ['box']],
    ['yolo-seg', 'yolo', ['polygon']],
  ])('%s: export → import into the copy gives the same 2D objects', async (format, importFormat, kinds) => {
    const { files, bytes, status } = await exportZip({ format });
    expect(Object.keys(files).length).toBeGreaterThan(0);
    expect(status.stats.objects).toBeGreaterThan(0);
    const r = await importFile(task2, { format: importFormat, mode: 'replace' }, `${format}.zip`, bytes);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const pick = (objs: any[]) =>
      objs
        .filter((o) => kinds.includes(o.kind) || (format === 'yolo-seg' && o.kind === 'box'))
        .map((o) => {
          const g: any = { kind: o.kind, label: o.label, slice: o.slice };
          // YOLO stores normalised coordinates with 6 decimals: compare to 1/100 pixel.
          const r2 = (n: number) => Math.round(n * 100) / 100;
          if (o.kind === 'box') Object.assign(g, { x: r2(o.x), y: r2(o.y), width: r2(o.width), height: r2(o.height) });
          if (o.kind === 'polygon') g.points = o.points.map((p: number[]) => p.map(r2));
          if (o.kind === 'mask') g.rle = o.rle;
          return g;
        })
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    // YOLO detection writes the bounding box of every region (polygons, masks).
    const { objectBounds } = await import('@caliper/core');
    const asBoxes = (objs: any[]) =>
      format !== 'yolo'
        ? objs
        : objs.flatMap((o) => {
            if (o.kind === 'box') return [o];
            if (o.kind !== 'polygon' && o.kind !== 'mask') return [];
            const b = objectBounds(o)!;
            return [{ ...o, kind: 'box', x: b.minX, y: b.minY, width: b.maxX - b.minX, height: b.maxY - b.minY }];
          });
    const origCt = pick(asBoxes(ctObjects).filter((o) => kinds.includes(o.kind)));
    const origPng = pick(asBoxes(pngObjects).filter((o) => kinds.includes(o.kind)));
    const gotCt = (await doc(job2, ct2)).document.objects;
    const gotPng = (await doc(job2, png2)).document.objects;
    for (const o of [...gotCt, ...gotPng]) expect(o.source).toBe(`import:${importFormat}`);
    if (format === 'yolo-seg') {
      // Boxes come back as 4-point polygons in segmentation mode.
      expect(gotCt.filter((o: any) => o.kind === 'polygon').length).toBe(3);
      return;
    }
    expect(pick(gotCt)).toEqual(origCt);
    expect(pick(gotPng)).toEqual(origPng);
  });

  it('Caliper JSON: a lossless round trip of every document, label map included', async () => {
    const { bytes, files } = await exportZip({ format: 'caliper' });
    expect(Object.keys(files).some((n) => n.startsWith('labelmaps/'))).toBe(true);
    const r = await importFile(task2, { format: 'caliper', mode: 'replace' }, 'backup.zip', bytes);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const strip = (objs: any[]) => objs.filter((o) => o.kind !== 'labelmap').map(({ source: _s, updatedAt: _u, ...rest }) => rest).sort((a, b) => a.id.localeCompare(b.id));
    const gotCt = (await doc(job2, ct2)).document.objects;
    expect(strip(gotCt)).toEqual(strip(ctObjects));
    expect(strip((await doc(job2, png2)).document.objects)).toEqual(strip(pngObjects));
    const lm = gotCt.find((o: any) => o.kind === 'labelmap');
    const blob = await fetch(`${ts.url}/api/assets/${ct2}/labelmaps/${lm.blob}`, { headers: { cookie: admin.cookie! } });
    expect(Buffer.from(decodeLabelmap(new Uint8Array(await blob.arrayBuffer())).data).equals(Buffer.from(labels))).toBe(true);
  });

  it('bad input: clear 4xx or a skip with the reason, and nothing half-imported', async () => {
    const before = await doc(job2, ct2);
    const countRows = async () => Number((await ts.server.deps.db.selectFrom('annotation_revisions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const rows = await countRows();
    const notCoco = await importFile(task2, { format: 'coco' }, 'x.json', new TextEncoder().encode('{"images": 5}'));
    expect(notCoco.status).toBe(422);
    expect(notCoco.body.detail).toMatch(/COCO|images/i);
    const truncated = await importFile(task2, { format: 'coco' }, 'x.zip', zipSync({ 'a.json': new TextEncoder().encode('{}') }).subarray(0, 30));
    expect(truncated.status).toBe(422);
    const badFormat = await importFile(task2, { format: 'nope' }, 'x.json', new TextEncoder().encode('{}'));
    expect(badFormat.status).toBe(400);
    // A label map of the wrong shape is skipped with the reason.
    const small = new Uint8Array(10 * 10 * 2).fill(1);
    const { writeNiftiGz } = await import('@caliper/media');
    const nii = await writeNiftiGz({ data: small, dims: [10, 10, 2], affineLps: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], intent: 'label' });
    const wrong = await importFile(task2, { format: 'nifti', mapping: JSON.stringify({ 'labels/x.nii.gz': ct2 }) }, 'n.zip', zipSync({ 'labels/x.nii.gz': nii }));
    expect(wrong.status, JSON.stringify(wrong.body)).toBe(200);
    expect(wrong.body.labelmaps).toBe(0);
    expect(wrong.body.skipped[0].reason).toMatch(/shape|match/i);
    // Unknown labels: refused by default, created on request.
    const coco = { images: [{ id: 1, file_name: 'photo.png', width: 40, height: 30 }], categories: [{ id: 1, name: 'Polyp' }], annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [1, 2, 3, 4], area: 12, iscrowd: 0 }] };
    const refused = await importFile(task2, { format: 'coco' }, 'c.json', new TextEncoder().encode(JSON.stringify(coco)));
    expect(refused.body.objects).toBe(0);
    expect(refused.body.labels.refused).toEqual(['Polyp']);
    expect(await countRows()).toBe(rows);
    expect((await doc(job2, ct2)).revision).toBe(before.revision);
    const created = await importFile(task2, { format: 'coco', labels: 'create' }, 'c.json', new TextEncoder().encode(JSON.stringify(coco)));
    expect(created.body.objects).toBe(1);
    expect(created.body.labels.created).toEqual(['Polyp']);
    const schema = (await admin.get(`/api/projects/${project2}`)).body.labelSchema;
    expect(schema.labels.map((l: any) => l.name)).toContain('Polyp');
    // Only managers import and export.
    const viewerId = (await admin.post('/api/users', { email: `v-${kind}@example.org`, name: 'v', password: 'viewer-pass-123' })).body.id;
    await admin.put(`/api/projects/${projectId}/members/${viewerId}`, { role: 'viewer' });
    const viewer = await Client.login(ts.url, `v-${kind}@example.org`, 'viewer-pass-123');
    expect((await viewer.post(`/api/projects/${projectId}/exports`, { format: 'coco' })).status).toBe(403);
  });

  it('imports the shared liver SEG (dcmqi) onto a series with its geometry and UIDs', async () => {
    const info = JSON.parse(
      python(
        `
import sys, json, pydicom
d = pydicom.dcmread(sys.argv[1])
f = d.PerFrameFunctionalGroupsSequence
print(json.dumps({"series": d.ReferencedSeriesSequence[0].SeriesInstanceUID, "frame": d.FrameOfReferenceUID, "study": d.StudyInstanceUID,
  "sops": [x.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID for x in f],
  "pos": [[float(v) for v in x.PlanePositionSequence[0].ImagePositionPatient] for x in f],
  "spacing": float(d.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing[0]),
  "sums": [int(a.sum()) for a in d.pixel_array]}))
`,
        LIVER,
      ),
    );
    const { writeSyntheticCtSeries } = (await import(path.join(REPO, 'bench/synthetic-ct.mjs'))) as { writeSyntheticCtSeries: (dir: string, o: object) => Promise<{ files: string[] }> };
    const series = await writeSyntheticCtSeries(path.join(work, 'liver-ct'), {
      slices: 3,
      rows: 512,
      cols: 512,
      seed: 11,
      uids: { study: info.study, series: info.series, frame: info.frame, sops: info.sops },
      geometry: { origin: info.pos[0], sliceStep: info.pos[1][2] - info.pos[0][2], pixelSpacing: info.spacing },
    });
    const p = (await admin.post('/api/projects', { name: 'Liver', labelSchema: { version: 1, labels: [{ name: 'Liver', color: '#aa0000', kinds: ['labelmap'], attributes: [] }] } })).body.id;
    const t = (await admin.post(`/api/projects/${p}/tasks`, { name: 'CT' })).body.id;
    const assets = await uploadFiles(t, await Promise.all(series.files.map(async (f) => ({ name: path.basename(f), data: await readFile(f) }))));
    const job = (await admin.post(`/api/tasks/${t}/jobs`, { assetsPerJob: 10, assigneeId: adminId })).body.items[0].id;
    const r = await importFile(t, { format: 'dicom-seg' }, 'liver.dcm', await readFile(LIVER));
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.labelmaps).toBe(1);
    const d = await doc(job, assets[0]!.id);
    const lm = d.document.objects[0];
    expect(lm.segments).toEqual([{ value: 1, label: 'Liver' }]);
    const blob = await fetch(`${ts.url}/api/assets/${assets[0]!.id}/labelmaps/${lm.blob}`, { headers: { cookie: admin.cookie! } });
    const data = decodeLabelmap(new Uint8Array(await blob.arrayBuffer())).data;
    const per = 512 * 512;
    const sums = [0, 1, 2].map((k) => Array.from(data.subarray(k * per, (k + 1) * per)).filter((v) => v !== 0).length);
    expect(sums).toEqual(info.sums);
  }, 120_000);

  it('CLI: caliper export and caliper import with a personal access token', async () => {
    const token = (await admin.post('/api/tokens', { name: 'cli' })).body.token as string;
    const env = { ...process.env, CALIPER_URL: ts.url, CALIPER_TOKEN: token };
    const bin = path.join(REPO, 'apps/cli/dist/bin.js');
    // Asynchronous: the server under test runs in this process and must keep answering.
    const run = async (args: string[]) => {
      try {
        const r = await promisify(execFile)(process.execPath, [bin, ...args], { env, encoding: 'utf8' });
        return { status: 0, stdout: r.stdout, stderr: r.stderr };
      } catch (err) {
        const e = err as { code?: number; stdout?: string; stderr?: string };
        return { status: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
      }
    };
    const out = path.join(work, 'cli-coco.zip');
    const ex = await run(['export', '--project', projectId, '--format', 'coco', '--out', out]);
    expect(ex.status, ex.stderr).toBe(0);
    expect(JSON.parse(ex.stdout).stats.objects).toBeGreaterThan(0);
    const coco = JSON.parse(new TextDecoder().decode(unzipSync(await readFile(out))['annotations/instances_default.json']!));
    expect(coco.annotations.length).toBeGreaterThanOrEqual(5);
    const im = await run(['import', '--task', task2, '--format', 'coco', '--dry-run', out]);
    expect(im.status, im.stderr).toBe(0);
    expect(JSON.parse(im.stdout)).toMatchObject({ dryRun: true, matchedUnits: expect.any(Number) });
    const bad = await run(['import', '--task', task2, out]);
    expect(bad.status).toBe(2);
  }, 60_000);
});
