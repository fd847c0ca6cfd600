import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLASSIFY_SCHEMA, Client, DB_KINDS, startTestServer, type TestServer } from './harness.js';
import { formOfFiles, SHARED, waitForRun } from './ingest-helpers.js';

const DICOM_ROOT = path.join(SHARED, 'dicom');
const CT_FILES = ['2062.dcm', '2392.dcm', '2693.dcm', '3023.dcm', '3353.dcm'].map((f) => `series/pydicom_CT5N_16x16/${f}`);
const ENHANCED = 'pydicom-data/eCT_Supplemental.dcm';
const NIFTI = path.join(SHARED, 'nifti/nibabel/anatomical.nii');

interface Element {
  tag: string;
  vr: string;
  name: string;
  value: string | null;
  items?: Element[][];
}

/** What pydicom (an independent reader) finds in the ORIGINAL sample files: the identifying values. */
function originals(files: string[]): { name: string; id: string; sop: string; study: string; series: string }[] {
  const script = String.raw`
import json, sys, pydicom
out = []
for f in sys.argv[1:]:
    d = pydicom.dcmread(f)
    out.append({'name': str(d.PatientName), 'id': str(d.PatientID), 'sop': d.SOPInstanceUID, 'study': d.StudyInstanceUID, 'series': d.SeriesInstanceUID})
print(json.dumps(out))`;
  const r = spawnSync('/usr/bin/python3', ['-c', script, ...files.map((f) => path.join(DICOM_ROOT, f))], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

const find = (els: Element[], tag: string) => els.find((e) => e.tag === tag);

describe.each(DB_KINDS)('DICOM header panel on %s', (kind) => {
  let ts: TestServer;
  let admin: Client;
  let outsider: Client;
  let taskId: string;
  let report: { run: any; files: any[] };
  const assetOf = (name: string) => {
    const f = report.files.find((x) => x.name === name);
    if (!f?.assetId) throw new Error(`no asset for ${name}`);
    return f.assetId as string;
  };

  beforeAll(async () => {
    ts = await startTestServer(kind);
    admin = await Client.login(ts.url, ts.admin.email, ts.admin.password);
    const projectId = (await admin.post('/api/projects', { name: 'Header', labelSchema: CLASSIFY_SCHEMA })).body.id;
    taskId = (await admin.post(`/api/projects/${projectId}/tasks`, { name: 'Samples' })).body.id;
    const fd = await formOfFiles(DICOM_ROOT, [...CT_FILES, ENHANCED]);
    fd.append('file', new Blob([await readFile(NIFTI)]), 'anatomical.nii');
    const up = await admin.post(`/api/tasks/${taskId}/uploads`, fd);
    expect(up.status, JSON.stringify(up.body)).toBe(202);
    report = await waitForRun(admin, up.body.run.id);
    expect(report.run.state, report.run.error ?? '').toBe('done');
    // Someone who manages a project of their own, not this one.
    const u = await admin.post('/api/users', { email: 'outsider@example.org', name: 'Outsider', password: 'outsider-password-1' });
    expect(u.status).toBe(201);
    outsider = await Client.login(ts.url, 'outsider@example.org', 'outsider-password-1');
    expect((await outsider.post('/api/projects', { name: 'Elsewhere', labelSchema: CLASSIFY_SCHEMA })).status).toBe(201);
  }, 240_000);
  afterAll(async () => ts?.close());

  it('lists the stored, de-identified header of the slice shown as frame 2 of a CT volume', async () => {
    const assetId = assetOf(CT_FILES[0]!);
    const r = await admin.get(`/api/assets/${assetId}/dicom-header?frame=2`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const els = r.body.elements as Element[];
    expect(r.body).toMatchObject({ frame: 2, instanceFrame: 0, instanceFrames: 1, truncated: false });
    // Slices ascend along the normal (z -1.24 … 8.76): frame 2 is the middle one, z = 3.7625, instance 8.
    expect(find(els, '(0020,0013)')).toMatchObject({ vr: 'IS', name: 'InstanceNumber', value: '8' });
    expect(Number(find(els, '(0020,0032)')!.value!.split('\\')[2])).toBeCloseTo(3.7625, 4);
    expect(find(els, '(0028,0010)')).toMatchObject({ vr: 'US', name: 'Rows', value: '16' });
    expect(find(els, '(7FE0,0010)')).toMatchObject({ name: 'PixelData', value: '<512 bytes>' });
    // The remapped SOP Instance UID, the same as stored for the instance behind frame 2.
    const asset = (await admin.get(`/api/assets/${assetId}`)).body;
    const stored = await ts.server.deps.db.selectFrom('dicom_instances').select('sop_instance_uid').where('id', '=', asset.metadata.instanceIds[2]).executeTakeFirstOrThrow();
    expect(r.body.sopInstanceUid).toBe(stored.sop_instance_uid);
    expect(find(els, '(0008,0018)')!.value).toBe(stored.sop_instance_uid);
    expect(find(els, '(0002,0003)')!.value).toBe(stored.sop_instance_uid);
    // The patient is the pseudonym the study lists, never the original (as pydicom reads it).
    const studies = (await admin.get(`/api/tasks/${taskId}/studies`)).body.items;
    const study = studies.find((s: any) => s.series.some((se: any) => se.assets.some((a: any) => a.id === assetId)));
    expect(find(els, '(0010,0020)')!.value).toBe(study.patientId);
    expect(find(els, '(0012,0062)')).toMatchObject({ name: 'PatientIdentityRemoved', value: 'YES' });
    const patientName = find(els, '(0010,0010)')!;
    expect(patientName.vr).toBe('PN');
    const original = originals(CT_FILES);
    const text = JSON.stringify(r.body);
    for (const o of original) {
      expect(o.name).toBe('Doe^Peter');
      expect(patientName.value).not.toBe(o.name);
      for (const v of [o.name, o.id, o.sop, o.study, o.series]) expect(text).not.toContain(v);
    }
    expect(text).not.toContain('Doe');
    // Frame 0 by default; past the last frame is 404.
    const first = await admin.get(`/api/assets/${assetId}/dicom-header`);
    expect(first.status).toBe(200);
    expect(first.body.frame).toBe(0);
    expect(Number(find(first.body.elements, '(0020,0032)')!.value!.split('\\')[2])).toBeCloseTo(-1.2375, 4);
    expect((await admin.get(`/api/assets/${assetId}/dicom-header?frame=5`)).status).toBe(404);
    expect((await admin.get(`/api/assets/${assetId}/dicom-header?frame=-1`)).status).toBe(400);
  });

  it('maps a frame of an enhanced multi-frame volume to its frame inside the instance', async () => {
    const assetId = assetOf(ENHANCED);
    // pydicom: frame 1 of the file lies at z -149, frame 2 at z -159; the normal is -z, so the
    // volume's first slice is the file's second frame.
    const f0 = await admin.get(`/api/assets/${assetId}/dicom-header?frame=0`);
    const f1 = await admin.get(`/api/assets/${assetId}/dicom-header?frame=1`);
    expect(f0.status, JSON.stringify(f0.body)).toBe(200);
    expect(f0.body).toMatchObject({ frame: 0, instanceFrame: 1, instanceFrames: 2 });
    expect(f1.body).toMatchObject({ frame: 1, instanceFrame: 0, instanceFrames: 2 });
    expect(f0.body.sopInstanceUid).toBe(f1.body.sopInstanceUid);
    // Per-frame functional groups come as a sequence of two items, nested elements included.
    const perFrame = find(f0.body.elements, '(5200,9230)')!;
    expect(perFrame).toMatchObject({ vr: 'SQ', name: 'PerFrameFunctionalGroupsSequence', value: null });
    expect(perFrame.items).toHaveLength(2);
    const plane = find(perFrame.items![1]!, '(0020,9113)')!;
    expect(Number(find(plane.items![0]!, '(0020,0032)')!.value!.split('\\')[2])).toBeCloseTo(-149, 3);
    const [o] = originals([ENHANCED]);
    const text = JSON.stringify(f0.body);
    for (const v of [o!.name, o!.sop, o!.study, o!.series]) expect(text).not.toContain(v);
  });

  it('answers 404 for a NIfTI asset and for another project’s user', async () => {
    const nifti = await admin.get(`/api/assets/${assetOf('anatomical.nii')}/dicom-header`);
    expect(nifti.status).toBe(404);
    expect(nifti.body.detail).toBe('This asset has no DICOM header.');
    const other = await outsider.get(`/api/assets/${assetOf(CT_FILES[0]!)}/dicom-header?frame=2`);
    expect(other.status).toBe(404);
    expect(JSON.stringify(other.body)).not.toContain('(0010,0010)');
  });

  it('records the view in the audit log without values and documents the route', async () => {
    const audit = await admin.get('/api/audit?limit=50');
    expect(audit.status).toBe(200);
    const views = audit.body.items.filter((e: any) => e.action === 'asset.view' && (e.details?.dicomHeader === true || String(e.details).includes('dicomHeader')));
    expect(views.length).toBeGreaterThan(0);
    const spec = await admin.get('/api/openapi.json');
    expect(spec.body.paths['/api/assets/{id}/dicom-header']).toBeTruthy();
  });
});
