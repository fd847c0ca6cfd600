import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { contentLabel, newUid, readReferenceAttributes, writePart10 } from './source.js';

const CT = fileURLToPath(new URL('../../../../../../shared/data/dicom/pydicom/CT_small.dcm', import.meta.url));

describe('derived-object helpers', () => {
  it('copies the study attributes of the reference and writes a Part-10 file pydicom reads', () => {
    const ref = readReferenceAttributes(readFileSync(CT));
    expect(ref.studyInstanceUid).toMatch(/^[0-9.]+$/);
    expect(ref.frameOfReferenceUid).toMatch(/^[0-9.]+$/);
    expect(ref.copied.PatientID).toBeDefined();
    const sop = newUid();
    const bytes = writePart10({ ...ref.copied, Modality: 'OT', SeriesInstanceUID: newUid() }, '1.2.840.10008.5.1.4.1.1.7', sop);
    const dir = mkdtempSync(join(tmpdir(), 'caliper-src-'));
    try {
      writeFileSync(join(dir, 'a.dcm'), bytes);
      const py = spawnSync('/usr/bin/python3', ['-c', 'import pydicom,sys; d=pydicom.dcmread(sys.argv[1]); print(d.SOPInstanceUID, d.StudyInstanceUID, d.file_meta.TransferSyntaxUID)', join(dir, 'a.dcm')], { encoding: 'utf8' });
      expect(py.stderr).toBe('');
      expect(py.stdout.trim().split(' ')).toEqual([sop, ref.studyInstanceUid, '1.2.840.10008.1.2.1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes valid UIDs and content labels', () => {
    const uid = newUid();
    expect(uid).toMatch(/^2\.25\.[1-9][0-9]*$/);
    expect(uid.length).toBeLessThanOrEqual(64);
    expect(contentLabel('Liver segmentation (v2)')).toBe('LIVER_SEGMENTATI');
    expect(contentLabel('…')).toBe('CALIPER');
  });
});
