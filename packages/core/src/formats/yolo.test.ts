import { describe, expect, it } from 'vitest';
import type { AnnotationObject } from '../annotation/object.js';
import { encodeRle } from '../geometry/mask-rle.js';
import { ellipsePolygon } from './shapes.js';
import { imported, makeObject, nearDiff } from './test-fixtures.js';
import { FormatError, newWriteStats, type ExportImage } from './types.js';
import { parseYoloDataYaml, parseYoloLabelText, yoloDataYaml, yoloLabelText } from './yolo.js';

const image: ExportImage = { id: 1, fileName: 'a.png', width: 640, height: 480 };
const names = ['nodule', 'vessel/..', '肺 lesion'];
const classIndex = new Map(names.map((n, i) => [n, i]));
// 6 decimals of a normalised coordinate: at most 0.5e-6 · 640 px off.
const TOL = 0.5e-6 * 640 + 1e-9;

const mask = (): AnnotationObject => {
  const px = new Uint8Array(640 * 480);
  for (let y = 100; y < 120; y++) for (let x = 200; x < 230; x++) px[y * 640 + x] = 1;
  return makeObject({ kind: 'mask', label: 'nodule', attributes: {}, rle: encodeRle(px, 480, 640) });
};

describe('YOLO labels', () => {
  it('detect: boxes and the bounding boxes of polygons, ellipses and masks; others dropped', () => {
    const objects = [
      makeObject({ kind: 'box', label: 'nodule', attributes: {}, x: 10, y: 20, width: 100, height: 50 }),
      makeObject({ kind: 'polygon', label: 'vessel/..', attributes: {}, points: [[1, 2], [30, 4], [12.5, 40]] }),
      makeObject({ kind: 'ellipse', label: '肺 lesion', attributes: {}, cx: 300, cy: 200, rx: 20, ry: 10 }),
      mask(),
      makeObject({ kind: 'points', label: 'nodule', attributes: {}, points: [[1, 1]] }),
      makeObject({ kind: 'box', label: 'other', attributes: {}, x: 1, y: 1, width: 1, height: 1 }),
    ];
    const stats = newWriteStats();
    const text = yoloLabelText(objects, image, classIndex, 'detect', stats);
    expect(text.split('\n')[0]).toBe('0 0.093750 0.093750 0.156250 0.104167');
    expect(stats).toEqual({ images: 1, objects: 4, dropped: { points: 1, 'unknown label': 1 } });
    const parsed = parseYoloLabelText(text, image, names);
    expect(parsed.skipped).toEqual([]);
    const boxes = [
      { kind: 'box', label: 'nodule', attributes: {}, x: 10, y: 20, width: 100, height: 50 },
      { kind: 'box', label: 'vessel/..', attributes: {}, x: 1, y: 2, width: 29, height: 38 },
      { kind: 'box', label: '肺 lesion', attributes: {}, x: 280, y: 190, width: 40, height: 20 },
      { kind: 'box', label: 'nodule', attributes: {}, x: 200, y: 100, width: 30, height: 20 },
    ];
    expect(nearDiff(parsed.objects, boxes, TOL)).toBeUndefined();
  });

  it('segment: polygons, ellipses as polygons, boxes as 4 corners; masks dropped', () => {
    const polygon = makeObject({ kind: 'polygon', label: 'nodule', attributes: {}, points: [[1, 2], [30, 4], [12.5, 40]] });
    const ellipse = makeObject({ kind: 'ellipse', label: 'nodule', attributes: {}, cx: 300, cy: 200, rx: 20, ry: 10, rotation: 0.5 });
    const box = makeObject({ kind: 'box', label: '肺 lesion', attributes: {}, x: 10, y: 20, width: 100, height: 50 });
    const stats = newWriteStats();
    const text = yoloLabelText([polygon, ellipse, box, mask()], image, classIndex, 'segment', stats);
    expect(stats.dropped).toEqual({ mask: 1 });
    const parsed = parseYoloLabelText(text, image, names);
    const expected = [
      imported(polygon),
      { kind: 'polygon', label: 'nodule', attributes: {}, points: ellipsePolygon(ellipse as AnnotationObject & { kind: 'ellipse' }) },
      { kind: 'polygon', label: '肺 lesion', attributes: {}, points: [[10, 20], [110, 20], [110, 70], [10, 70]] },
    ];
    expect(nearDiff(parsed.objects, expected, TOL)).toBeUndefined();
  });

  it('clips to the image and drops what lies outside', () => {
    const objects = [
      makeObject({ kind: 'box', label: 'nodule', attributes: {}, x: -10, y: -10, width: 20, height: 20 }),
      makeObject({ kind: 'box', label: 'nodule', attributes: {}, x: 700, y: 10, width: 20, height: 20 }),
    ];
    const stats = newWriteStats();
    const text = yoloLabelText(objects, image, classIndex, 'detect', stats);
    expect(text).toBe('0 0.007813 0.010417 0.015625 0.020833\n');
    expect(stats.dropped).toEqual({ box: 1 });
  });

  it('skips bad lines with their line numbers and reasons', () => {
    const text = ['0 0.5 0.5 0.2 0.2', '', '# comment', '7 0.5 0.5 0.2 0.2', '1 0.5 0.5 0.2', 'x 0.5 0.5 0.2 0.2', '2 0.1 0.1 0.2 0.1 0.3 0.3', '0 0.5 0.5 0 0.2', '1 0.5 nan 0.2 0.2', '-1 0.5 0.5 0.2 0.2'].join('\r\n');
    const { objects, skipped } = parseYoloLabelText(text, { width: 100, height: 200 }, names);
    expect(objects).toEqual([
      { kind: 'box', label: 'nodule', attributes: {}, x: 40, y: 80, width: 20, height: 40 },
      { kind: 'polygon', label: '肺 lesion', attributes: {}, points: [[10, 20], [20, 20], [30, 60]] },
    ]);
    expect(skipped.map((s) => s.where)).toEqual(['line 4', 'line 5', 'line 6', 'line 8', 'line 9', 'line 10']);
    expect(skipped[0]?.reason).toMatch(/class 7 is not among the 3/);
    expect(skipped[1]?.reason).toMatch(/expected 5 values/);
  });
});

describe('YOLO data.yaml', () => {
  it('round-trips names with quotes, colons, unicode and path characters', () => {
    const tricky = ['a: b', "it's", 'say "hi"', '肺/..', '#hash', '- dash', 'back\\slash'];
    const yaml = yoloDataYaml(tricky, { train: 'images/train', val: 'images/val' });
    expect(yaml).toContain('train: "images/train"');
    expect(yaml).toContain('  0: "a: b"');
    expect(parseYoloDataYaml(yaml)).toEqual(tricky);
  });

  it('reads list, flow and map forms as Ultralytics writes them', () => {
    expect(parseYoloDataYaml('path: ../datasets\ntrain: images\nnames:\n  - person\n  - "car"\n  - \'bus\'\n')).toEqual(['person', 'car', 'bus']);
    expect(parseYoloDataYaml("names: [person, 'traffic light', \"a, b\"]  # comment\n")).toEqual(['person', 'traffic light', 'a, b']);
    expect(parseYoloDataYaml('names:\n  1: car\n  0: person  # first\nnc: 2\n')).toEqual(['person', 'car']);
  });

  it('throws FormatError on missing or broken names', () => {
    expect(() => parseYoloDataYaml('train: x\n')).toThrow(FormatError);
    expect(() => parseYoloDataYaml('names:\n  0: a\n  2: c\n')).toThrow(/index 1 is missing/);
    expect(() => parseYoloDataYaml('names: person\n')).toThrow(/line 1/);
    expect(() => parseYoloDataYaml('names:\n  - "unterminated\n')).toThrow(/line 2/);
  });
});
