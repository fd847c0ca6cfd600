import { describe, expect, it } from 'vitest';
import type { AnnotationObject } from '../annotation/object.js';
import { decodeRle, encodeRle } from '../geometry/mask-rle.js';
import { cvatXmlChunks, parseCvatXml } from './cvat.js';
import { collect, imported, makeObject, nearDiff } from './test-fixtures.js';
import { FormatError, newWriteStats, type ExportCategory, type ExportImage } from './types.js';

const W = 20;
const H = 10;
const categories: ExportCategory[] = [
  {
    id: 1,
    name: 'nodule',
    color: '#ff0000',
    attributes: [
      { name: 'severity', type: 'select', options: ['mild', 'severe'], default: 'mild', required: false },
      { name: 'solid', type: 'checkbox', default: false, required: false },
      { name: 'size', type: 'number', min: 0, max: 100, step: 0.5, required: false },
      { name: 'note', type: 'text', maxLength: 1000, required: false },
      { name: 'findings', type: 'multiselect', options: ['a', 'b'], required: false },
    ],
  },
  { id: 2, name: 'Gefäß "<&>"/..', color: '#00ff00' },
];
const images: ExportImage[] = [
  { id: 1, fileName: 'CT/slice_0000.png', width: W, height: H },
  { id: 2, fileName: 'photo & <x>.png', width: W, height: H },
];

function maskObject(): AnnotationObject {
  const px = new Uint8Array(W * H);
  for (let y = 2; y < 6; y++) for (let x = 4; x < 9; x++) px[y * W + x] = 1;
  px[2 * W + 4] = 0;
  px[7 * W + 15] = 1;
  return makeObject({ kind: 'mask', label: 'nodule', attributes: {}, rle: encodeRle(px, H, W) });
}

function objects(): AnnotationObject[] {
  return [
    makeObject({ kind: 'box', label: 'nodule', attributes: { severity: 'severe', solid: true, size: 12.5, note: 'a "quote" & <tag>\nline 2', findings: ['a', 'b'], occluded: true }, x: 1, y: 2, width: 3, height: 4 }),
    makeObject({ kind: 'polygon', label: 'Gefäß "<&>"/..', attributes: {}, points: [[0.5, 1.25], [10, 1], [7.125, 9]] }),
    makeObject({ kind: 'polyline', label: 'nodule', attributes: {}, points: [[1, 1], [2, 3]] }),
    makeObject({ kind: 'points', label: 'nodule', attributes: {}, points: [[5, 5]] }),
    makeObject({ kind: 'ellipse', label: 'nodule', attributes: {}, cx: 10, cy: 5, rx: 4, ry: 2, rotation: 0.5 }),
    makeObject({ kind: 'ellipse', label: 'nodule', attributes: {}, cx: 10, cy: 5, rx: 4, ry: 2 }),
    maskObject(),
    makeObject({ kind: 'tag', label: 'nodule', attributes: { severity: 'mild' }, scope: { type: 'asset' } }),
    makeObject({ kind: 'landmarks', label: 'nodule', attributes: {}, points: [{ name: 'a', x: 1, y: 1 }] }),
    makeObject({ kind: 'box', label: 'unknown', attributes: {}, x: 1, y: 2, width: 3, height: 4 }),
  ];
}

describe('CVAT for images 1.1', () => {
  it('round-trips every shape CVAT expresses, with attributes, and counts the rest', async () => {
    const source = objects();
    const stats = newWriteStats();
    const xml = await collect(cvatXmlChunks({ taskName: 'Task <1> & co', categories, images: [{ image: images[0] as ExportImage, objects: source }, { image: images[1] as ExportImage, objects: [] }] }, stats));
    expect(stats).toEqual({ images: 2, objects: 8, dropped: { landmarks: 1, 'unknown label': 1 } });
    expect(xml).toContain('<size>2</size>');
    expect(xml).toContain('<input_type>number</input_type><default_value>0</default_value><values>0\n100\n0.5</values>');
    expect(xml).toMatch(/<ellipse [^>]*rotation="28\.64788975654116"/);
    // CVAT's mask runs over the bounding box 4..16 × 2..8, row-major, starting with zeros.
    expect(xml).toContain('left="4" top="2" width="12" height="6"');
    expect(xml).toMatch(/<mask [^>]*rle="1, 4, 7, 5, 7, 5, 7, 5, 30, 1"/);

    const parsed = parseCvatXml(xml);
    expect(parsed.skipped).toEqual([]);
    expect(parsed.labels).toEqual(['nodule', 'Gefäß "<&>"/..']);
    expect(parsed.images.map((i) => [i.fileName, i.width, i.height, i.objects.length])).toEqual([
      ['CT/slice_0000.png', W, H, 8],
      ['photo & <x>.png', W, H, 0],
    ]);
    const expected = source.slice(0, 8).map(imported);
    expect(nearDiff(parsed.images[0]?.objects, expected, 1e-9)).toBeUndefined();
    const mask = parsed.images[0]?.objects[6];
    const sourceMask = source[6] as AnnotationObject & { kind: 'mask' };
    expect(mask?.kind === 'mask' ? [...decodeRle(mask.rle)] : []).toEqual([...decodeRle(sourceMask.rle)]);
  });

  it('reads a CVAT export with rotated boxes, tracks and unknown shapes', () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><name>t</name><labels><label><name>car</name><attributes>
    <attribute><name>parked</name><mutable>False</mutable><input_type>checkbox</input_type><default_value>false</default_value><values>false</values></attribute>
    <attribute><name>plate</name><mutable>False</mutable><input_type>text</input_type><default_value>0</default_value><values>0</values></attribute>
  </attributes></label></labels></task></meta>
  <image id="0" name="img1.jpg" width="640" height="480">
    <box label="car" source="manual" occluded="0" xtl="10.00" ytl="20.00" xbr="30.00" ybr="60.00" rotation="90.0" z_order="0">
      <attribute name="parked">true</attribute>
      <attribute name="plate">007</attribute>
    </box>
    <cuboid label="car" occluded="0" xtl1="1" ytl1="1" xbl1="1" ybl1="2" xtr1="2" ytr1="1" xbr1="2" ybr1="2" xtl2="1" ytl2="1" xbl2="1" ybl2="2" xtr2="2" ytr2="1" xbr2="2" ybr2="2"/>
  </image>
  <track id="0" label="car" source="manual"><box frame="0" outside="0" occluded="0" keyframe="1" xtl="1" ytl="1" xbr="2" ybr="2" z_order="0"/></track>
</annotations>`;
    const parsed = parseCvatXml(xml);
    const obj = parsed.images[0]?.objects[0];
    expect(obj?.kind).toBe('polygon');
    expect(obj?.attributes).toEqual({ parked: true, plate: '007' });
    // 20 × 40 box about (20, 40) turned 90° clockwise: 40 wide, 20 high.
    expect(nearDiff(obj?.kind === 'polygon' ? obj.points : [], [[40, 30], [40, 50], [0, 50], [0, 30]], 1e-9)).toBeUndefined();
    expect(parsed.skipped.map((s) => s.where)).toEqual(['<image> 1, <cuboid> 2', '<track id="0">']);
    expect(parsed.skipped[1]?.reason).toMatch(/video tracks/);
  });

  it('throws FormatError on malformed XML and shapes, naming the image and shape', async () => {
    const xml = await collect(cvatXmlChunks({ taskName: 't', categories, images: [{ image: images[0] as ExportImage, objects: objects().slice(0, 2) }] }));
    expect(() => parseCvatXml(xml.slice(0, Math.floor(xml.length * 0.7)))).toThrow(FormatError);
    expect(() => parseCvatXml(xml.replace('xtl="1"', 'xtl="one"'))).toThrow(/CVAT XML: <image> 1, <box> 1: attribute "xtl" must be a number/);
    expect(() => parseCvatXml(xml.replace('points="0.5,1.25;', 'points="0.5;'))).toThrow(/<polygon> 2: points/);
    expect(() => parseCvatXml('<annotations><image name="a" width="4" height="4"><mask label="x" rle="1, 2" left="0" top="0" width="2" height="2"/></image></annotations>')).toThrow(/rle covers 3 pixels/);
    expect(() => parseCvatXml('<notcvat/>')).toThrow(/<annotations>/);
  });
});
