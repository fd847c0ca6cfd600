import { describe, expect, it } from 'vitest';
import { EXPORT_FORMATS, IMPORT_FORMATS } from '../types';
import {
  DEFAULT_EXPORT_CHOICES,
  DEFAULT_IMPORT_CHOICES,
  droppedList,
  EXPORT_FORMAT_INFO,
  exportChoicesProblem,
  IMPORT_FORMAT_INFO,
  importChoicesProblem,
  importQuery,
  importSummary,
  labelMapObject,
  toExportRequest,
} from './formats';

describe('export choices', () => {
  it('describes every export and import format exactly once', () => {
    expect(EXPORT_FORMAT_INFO.map((f) => f.id).sort()).toEqual([...EXPORT_FORMATS].sort());
    expect(IMPORT_FORMAT_INFO.map((f) => f.id).sort()).toEqual([...IMPORT_FORMATS].sort());
  });

  it('sends no stage filter for every stage and leaves out options the format ignores', () => {
    expect(toExportRequest(DEFAULT_EXPORT_CHOICES)).toEqual({ format: 'coco', completedOnly: false, annotator: 'all', includeImages: false, allSlices: false });
    const seg = toExportRequest({ ...DEFAULT_EXPORT_CHOICES, format: 'dicom-seg', segType: 'labelmap', allSlices: true, includeImages: true, taskId: 't1', stages: ['acceptance', 'review'] });
    expect(seg).toEqual({ format: 'dicom-seg', completedOnly: false, annotator: 'all', taskId: 't1', stages: ['review', 'acceptance'], segType: 'labelmap' });
    expect(toExportRequest({ ...DEFAULT_EXPORT_CHOICES, format: 'nifti', includeImages: true, allSlices: true })).toEqual({ format: 'nifti', completedOnly: false, annotator: 'all', includeImages: true });
  });

  it('refuses an export without any stage', () => {
    expect(exportChoicesProblem({ ...DEFAULT_EXPORT_CHOICES, stages: [] })).toMatch(/stage/);
    expect(exportChoicesProblem(DEFAULT_EXPORT_CHOICES)).toBeNull();
  });

  it('lists dropped kinds largest first and ignores zero counts', () => {
    expect(droppedList({ assets: 1, files: 1, objects: 1, dropped: { tag: 1, labelmap: 3, ellipse: 0, box: 1 }, skipped: [] })).toEqual([
      { kind: 'labelmap', count: 3 },
      { kind: 'box', count: 1 },
      { kind: 'tag', count: 1 },
    ]);
    expect(droppedList(null)).toEqual([]);
  });
});

describe('import choices', () => {
  it('builds the query string the server parses', () => {
    const q = new URLSearchParams(importQuery(DEFAULT_IMPORT_CHOICES, true));
    expect(Object.fromEntries(q)).toEqual({ format: 'coco', dryRun: 'true', labels: 'refuse', mode: 'append' });
    const mapped = new URLSearchParams(
      importQuery({ format: 'cvat', labels: 'map', labelMap: [{ from: ' tumour ', to: 'Lesion' }, { from: '', to: 'Liver' }], mode: 'replace', jobId: 'j-1' }, false),
    );
    expect(mapped.get('dryRun')).toBe('false');
    expect(mapped.get('mode')).toBe('replace');
    expect(mapped.get('jobId')).toBe('j-1');
    expect(JSON.parse(mapped.get('labelMap')!)).toEqual({ tumour: 'Lesion' });
  });

  it('sends no label map unless mapping is chosen', () => {
    const q = new URLSearchParams(importQuery({ ...DEFAULT_IMPORT_CHOICES, labels: 'create', labelMap: [{ from: 'a', to: 'Lesion' }] }, true));
    expect(q.has('labelMap')).toBe(false);
  });

  it('needs at least one pair, and no label twice, when mapping', () => {
    expect(importChoicesProblem({ ...DEFAULT_IMPORT_CHOICES, labels: 'map', labelMap: [{ from: ' ', to: 'Lesion' }] })).toMatch(/at least one/);
    expect(importChoicesProblem({ ...DEFAULT_IMPORT_CHOICES, labels: 'map', labelMap: [{ from: 'a', to: 'Lesion' }, { from: 'a ', to: 'Liver' }] })).toMatch(/twice/);
    expect(importChoicesProblem({ ...DEFAULT_IMPORT_CHOICES, labels: 'map', labelMap: [{ from: 'a', to: 'Lesion' }] })).toBeNull();
    expect(labelMapObject([{ from: 'x', to: '' }])).toEqual({});
  });

  it('summarises a finished import', () => {
    expect(importSummary({ objects: 2, labelmaps: 0, assets: [{}] })).toBe('Imported 2 objects and 0 label maps into 1 asset.');
    expect(importSummary({ objects: 1, labelmaps: 1, assets: [{}, {}] })).toBe('Imported 1 object and 1 label map into 2 assets.');
  });
});
