import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnnotationObject } from '../annotation/object.js';
import { decodeRle, encodeRle } from '../geometry/mask-rle.js';
import { cocoChunks, parseCoco } from './coco.js';
import { decodeCocoRleString, encodeCocoRleString } from './coco-rle.js';
import { ellipsePolygon } from './shapes.js';
import { collect, imported, makeObject } from './test-fixtures.js';
import { FormatError, newWriteStats, type ExportCategory, type ExportImage } from './types.js';

const W = 40;
const H = 30;

/** A row-major mask with a blob, a hole and a separate run touching the right edge. */
function sampleMask(): AnnotationObject {
  const px = new Uint8Array(W * H);
  for (let y = 5; y < 20; y++) for (let x = 3; x < 17; x++) px[y * W + x] = 1;
  for (let y = 9; y < 12; y++) for (let x = 7; x < 9; x++) px[y * W + x] = 0;
  for (let y = 0; y < 3; y++) for (let x = 35; x < 40; x++) px[y * W + x] = 1;
  px[0] = 1;
  return makeObject({ kind: 'mask', label: 'lesion', attributes: { grade: 2 }, rle: encodeRle(px, H, W) });
}

const categories: ExportCategory[] = [
  { id: 1, name: 'nodule', color: '#ff0000' },
  { id: 2, name: 'lesion', color: '#00ff00' },
  { id: 3, name: 'pelvis', color: '#0000ff', keypoints: ['left hip', 'right hip', 'sacrum'] },
  { id: 4, name: 'Ünïcode/..', color: '#00ffff' },
];
const images: ExportImage[] = [
  { id: 7, fileName: 'CT chest/slice_0042.png', width: W, height: H },
  { id: 9, fileName: 'x-ray 肺.png', width: W, height: H },
];

function sampleObjects(): AnnotationObject[] {
  return [
    makeObject({ kind: 'box', label: 'nodule', attributes: { severity: 'mild', solid: true }, x: 1, y: 2, width: 10, height: 5 }),
    makeObject({ kind: 'polygon', label: 'nodule', attributes: {}, points: [[0.5, 0.25], [10, 1], [7.125, 9]] }),
    makeObject({ kind: 'ellipse', label: 'Ünïcode/..', attributes: {}, cx: 20, cy: 15, rx: 6, ry: 3, rotation: 0.3 }),
    sampleMask(),
    makeObject({ kind: 'landmarks', label: 'pelvis', attributes: {}, points: [{ name: 'sacrum', x: 20, y: 25 }, { name: 'left hip', x: 12.5, y: 18 }] }),
    makeObject({ kind: 'tag', label: 'nodule', attributes: {}, scope: { type: 'asset' } }),
    makeObject({ kind: 'polyline', label: 'nodule', attributes: {}, points: [[1, 1], [2, 2]] }),
    makeObject({ kind: 'box', label: 'not a category', attributes: {}, x: 1, y: 1, width: 1, height: 1 }),
  ];
}

async function writeSample() {
  const objects = sampleObjects();
  const stats = newWriteStats();
  const text = await collect(
    cocoChunks({ categories, images, annotations: [{ image: images[0] as ExportImage, objects }, { image: images[1] as ExportImage, objects: [] }] }, stats),
  );
  return { objects, stats, text };
}

describe('cocoChunks / parseCoco', () => {
  it('round-trips every kind COCO expresses and counts the rest', async () => {
    const { objects, stats, text } = await writeSample();
    expect(stats).toEqual({ images: 2, objects: 5, dropped: { tag: 1, polyline: 1, 'unknown label': 1 } });
    const json = JSON.parse(text) as { annotations: { id: number; image_id: number; iscrowd: number; area: number }[]; categories: { keypoints?: string[] }[] };
    expect(json.annotations.map((a) => a.id)).toEqual([1, 2, 3, 4, 5]);
    expect(json.annotations.every((a) => a.image_id === 7 && a.iscrowd === 0)).toBe(true);
    expect(json.categories[2]?.keypoints).toEqual(['left hip', 'right hip', 'sacrum']);
    expect(json.annotations[0]?.area).toBe(50);

    const parsed = parseCoco(json);
    expect(parsed.skipped).toEqual([]);
    expect(parsed.labels).toEqual(categories.map((c) => c.name));
    expect(parsed.images.map((i) => [i.fileName, i.width, i.height])).toEqual([
      ['CT chest/slice_0042.png', W, H],
      ['x-ray 肺.png', W, H],
    ]);
    const got = parsed.images[0]?.objects ?? [];
    const ellipse = objects[2] as AnnotationObject & { kind: 'ellipse' };
    const expected = [
      imported(objects[0] as AnnotationObject),
      imported(objects[1] as AnnotationObject),
      { kind: 'polygon', label: 'Ünïcode/..', attributes: {}, points: ellipsePolygon(ellipse) },
      imported(objects[3] as AnnotationObject),
      // Landmarks come back in the category's keypoint order.
      { kind: 'landmarks', label: 'pelvis', attributes: {}, points: [{ name: 'left hip', x: 12.5, y: 18 }, { name: 'sacrum', x: 20, y: 25 }] },
    ];
    expect(got).toEqual(expected);
  });

  it('writes masks column-major: our decoder and an independent numpy decode agree with the source pixels', async () => {
    const { objects, text } = await writeSample();
    const source = objects[3] as AnnotationObject & { kind: 'mask' };
    const expectedSet = [...decodeRle(source.rle)].flatMap((v, i) => (v === 1 ? [i] : []));

    const dir = mkdtempSync(path.join(tmpdir(), 'caliper-coco-'));
    try {
      const file = path.join(dir, 'coco.json');
      writeFileSync(file, text);
      const script = [
        'import json, sys',
        'import numpy as np',
        'd = json.load(open(sys.argv[1]))',
        'out = []',
        'for a in d["annotations"]:',
        '    s = a["segmentation"]',
        '    if not isinstance(s, dict): continue',
        '    h, w = s["size"]',
        '    flat = np.zeros(h * w, dtype=np.uint8)',
        '    pos = 0',
        '    for i, c in enumerate(s["counts"]):',
        '        if i % 2 == 1: flat[pos:pos + c] = 1',
        '        pos += c',
        '    m = flat.reshape((h, w), order="F")',
        '    out.append({"set": np.flatnonzero(m.ravel(order="C")).tolist(), "area": int(m.sum()), "bbox": a["bbox"]})',
        'print(json.dumps(out))',
      ].join('\n');
      const run = spawnSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' });
      expect(run.stderr).toBe('');
      const py = JSON.parse(run.stdout) as { set: number[]; area: number; bbox: number[] }[];
      expect(py).toHaveLength(1);
      expect(py[0]?.set).toEqual(expectedSet);
      expect(py[0]?.area).toBe(expectedSet.length);
      // bbox: x 0..40 because of pixel (0,0) and the run at the right edge.
      expect(py[0]?.bbox).toEqual([0, 0, 40, 20]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const parsedMask = parseCoco(JSON.parse(text)).images[0]?.objects.find((o) => o.kind === 'mask');
    expect(parsedMask?.kind === 'mask' ? [...decodeRle(parsedMask.rle)].flatMap((v, i) => (v === 1 ? [i] : [])) : []).toEqual(expectedSet);
  });

  it('streams in pieces and never needs the whole annotation list', async () => {
    const image: ExportImage = { id: 1, fileName: 'a.png', width: 100, height: 100 };
    async function* many() {
      for (let i = 0; i < 3000; i++) {
        yield { image: { ...image, id: i + 1 }, objects: [makeObject({ kind: 'box', label: 'nodule', attributes: { n: i }, x: i % 50, y: 3, width: 4, height: 5 })] };
      }
    }
    const pieces: string[] = [];
    const allImages = Array.from({ length: 3000 }, (_, i) => ({ ...image, id: i + 1 }));
    for await (const piece of cocoChunks({ categories, images: allImages, annotations: many() })) pieces.push(piece);
    expect(pieces.length).toBeGreaterThan(3);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(70_000);
    const parsed = parseCoco(JSON.parse(pieces.join('')));
    expect(parsed.images).toHaveLength(3000);
    expect(parsed.images[2999]?.objects[0]).toEqual({ kind: 'box', label: 'nodule', attributes: { n: 2999 }, x: 49, y: 3, width: 4, height: 5 });
  });

  it('decodes compressed RLE strings (pycocotools codec)', () => {
    // Worked by hand from the codec: "321" = [3, 2, 1]; "T3" = 4 + 3·32 = 100; "05:M" ends with
    // the delta -3 (29 with the sign bit) added to counts[1] = 5.
    expect(decodeCocoRleString('321')).toEqual([3, 2, 1]);
    expect(decodeCocoRleString('T3')).toEqual([100]);
    expect(decodeCocoRleString('05:M')).toEqual([0, 5, 10, 2]);
    const counts = [0, 7, 123456, 3, 1, 99999, 2, 5];
    expect(decodeCocoRleString(encodeCocoRleString(counts))).toEqual(counts);
    expect(typeof decodeCocoRleString('3\u0001')).toBe('string');
    expect(typeof decodeCocoRleString('T')).toBe('string');

    // A 3 × 4 mask given as a compressed string becomes the same row-major mask.
    const columnMajor = [1, 2, 4, 5]; // 0 | 1 1 | 0 0 0 0 | 1 1 1 1 1 over 12 pixels, column by column
    const json = {
      images: [{ id: 1, file_name: 'm.png', width: 4, height: 3 }],
      categories: [{ id: 1, name: 'x' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, iscrowd: 1, segmentation: { size: [3, 4], counts: encodeCocoRleString(columnMajor) } }],
    };
    const obj = parseCoco(json).images[0]?.objects[0];
    expect(obj?.kind).toBe('mask');
    if (obj?.kind === 'mask') {
      // column 0: rows 0..2 = 0,1,1; column 1: 0,0,0; column 2: 0,1,1; column 3: 1,1,1
      expect([...decodeRle(obj.rle)]).toEqual([0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 1, 1]);
    }
  });

  it('decodes compressed strings made by an independent Python transcription of pycocotools rleToString', () => {
    const script = [
      'import json',
      'import numpy as np',
      'rng = np.random.default_rng(7)',
      'h, w = 37, 53',
      'm = np.zeros((h, w), dtype=np.uint8)',
      'for _ in range(12):',
      '    y, x = rng.integers(0, h), rng.integers(0, w)',
      '    m[y:y + rng.integers(1, 15), x:x + rng.integers(1, 30)] = 1',
      'flat = m.ravel(order="F")',
      'cnts, cur, run = [], 0, 0',
      'for v in flat:',
      '    if v != cur:',
      '        cnts.append(run); run = 0; cur = v',
      '    run += 1',
      'cnts.append(run)',
      's = []',
      'for i, c in enumerate(cnts):',
      '    x = c - cnts[i - 2] if i > 2 else c',
      '    more = True',
      '    while more:',
      '        ch = x & 0x1f',
      '        x >>= 5',
      '        more = (x != -1) if (ch & 0x10) else (x != 0)',
      '        if more: ch |= 0x20',
      '        s.append(chr(ch + 48))',
      'print(json.dumps({"h": h, "w": w, "counts": "".join(s), "rowMajor": m.ravel(order="C").tolist()}))',
    ].join('\n');
    const run = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const py = JSON.parse(run.stdout) as { h: number; w: number; counts: string; rowMajor: number[] };
    const json = {
      images: [{ id: 1, file_name: 'r.png', width: py.w, height: py.h }],
      categories: [{ id: 1, name: 'x' }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, iscrowd: 1, segmentation: { size: [py.h, py.w], counts: py.counts } }],
    };
    const obj = parseCoco(json).images[0]?.objects[0];
    expect(obj?.kind === 'mask' ? [...decodeRle(obj.rle)] : []).toEqual(py.rowMajor);
    expect(py.rowMajor.filter((v) => v === 1).length).toBeGreaterThan(100);
  });

  it('splits multi-part polygons, reads keypoints and bbox-only annotations, skips unknown ids', () => {
    const json = {
      images: [{ id: 'a', file_name: 'a.jpg', width: 50, height: 50 }],
      categories: [{ id: 1, name: 'person', keypoints: ['nose', 'eye'] }, { id: 2, name: 'car' }],
      annotations: [
        { image_id: 'a', category_id: 2, segmentation: [[0, 0, 4, 0, 4, 4], [10, 10, 12, 10, 12, 12, 10, 12]], bbox: [0, 0, 12, 12] },
        { image_id: 'a', category_id: 1, segmentation: [], keypoints: [5, 6, 0, 7, 8, 1], num_keypoints: 1, bbox: [7, 8, 0, 0] },
        { image_id: 'a', category_id: 2, bbox: [1, 2, 3, 4] },
        { image_id: 'zz', category_id: 2, bbox: [1, 2, 3, 4] },
        { image_id: 'a', category_id: 99, bbox: [1, 2, 3, 4] },
        { image_id: 'a', category_id: 2, segmentation: [[1, 1, 2, 2]] },
      ],
    };
    const parsed = parseCoco(json);
    expect(parsed.images[0]?.objects).toEqual([
      { kind: 'polygon', label: 'car', attributes: {}, points: [[0, 0], [4, 0], [4, 4]] },
      { kind: 'polygon', label: 'car', attributes: {}, points: [[10, 10], [12, 10], [12, 12], [10, 12]] },
      { kind: 'landmarks', label: 'person', attributes: {}, points: [{ name: 'eye', x: 7, y: 8 }] },
      { kind: 'box', label: 'car', attributes: {}, x: 1, y: 2, width: 3, height: 4 },
    ]);
    expect(parsed.skipped.map((s) => s.where)).toEqual(['annotations[3]', 'annotations[4]', 'annotations[5].segmentation[0]']);
    expect(parsed.skipped[0]?.reason).toMatch(/image_id/);
  });

  it('throws FormatError on malformed input, naming where', async () => {
    expect(() => parseCoco([])).toThrow(FormatError);
    expect(() => parseCoco({ images: {} })).toThrow(/COCO: "images" must be an array/);
    expect(() => parseCoco({ images: [{ id: 1 }] })).toThrow(/images\[0\]/);
    const base = { images: [{ id: 1, file_name: 'a', width: 2, height: 2 }], categories: [{ id: 1, name: 'x' }] };
    expect(() => parseCoco({ ...base, annotations: [{ image_id: 1, category_id: 1, segmentation: [[1, 2, 3]] }] })).toThrow(/annotations\[0\].*odd/);
    expect(() => parseCoco({ ...base, annotations: [{ image_id: 1, category_id: 1, segmentation: { size: [2, 2], counts: [1, 2] } }] })).toThrow(/annotations\[0\]: RLE runs add up to 3/);
    expect(() => parseCoco({ ...base, annotations: [{ image_id: 1, category_id: 1, segmentation: { size: [2, 2], counts: 'T' } }] })).toThrow(FormatError);
    expect(() => parseCoco({ ...base, annotations: [{ image_id: 1, category_id: 1, bbox: [1, 2] }] })).toThrow(/bbox/);
    // A document cut before its images array.
    const { text } = await writeSample();
    const cut = JSON.parse(`${text.slice(0, text.indexOf(',"images"'))}}`) as unknown;
    expect(() => parseCoco(cut)).toThrow(/COCO: "images" must be an array/);
  });
});
