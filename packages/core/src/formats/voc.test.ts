import { describe, expect, it } from 'vitest';
import { imported, makeObject } from './test-fixtures.js';
import { FormatError, newWriteStats, type ExportImage } from './types.js';
import { parseVocXml, vocXml } from './voc.js';

const image: ExportImage = { id: 3, fileName: 'CT <chest> & "lungs"/slice_0001.png', width: 512, height: 400 };

describe('Pascal VOC', () => {
  it('round-trips boxes exactly with the devkit 1-based convention, attributes included', () => {
    const a = makeObject({ kind: 'box', label: 'nodule & <mass>', attributes: { difficult: true, severity: 'severe', size: 12.5, spiculated: false, findings: ['calcified', 'lobulated'] }, x: 0, y: 0, width: 10, height: 20 });
    const b = makeObject({ kind: 'box', label: '肺/..', attributes: { truncated: true, occluded: true }, x: 501, y: 379, width: 11, height: 21 });
    const c = makeObject({ kind: 'box', label: 'frac', attributes: {}, x: 1.25, y: 2.5, width: 3.75, height: 4.125 });
    const stats = newWriteStats();
    const xml = vocXml(image, [a, b, c, makeObject({ kind: 'polygon', label: 'x', attributes: {}, points: [[0, 0], [1, 0], [1, 1]] })], {}, stats);
    expect(stats).toEqual({ images: 1, objects: 3, dropped: { polygon: 1 } });
    expect(xml).toContain('<xmin>1</xmin>');
    expect(xml).toContain('<xmax>10</xmax>');
    expect(xml).toContain('<xmax>512</xmax>');
    expect(xml).toContain('<folder>CT &lt;chest&gt; &amp; "lungs"</folder>');
    const parsed = parseVocXml(xml);
    expect(parsed.fileName).toBe(image.fileName);
    expect([parsed.width, parsed.height]).toEqual([512, 400]);
    expect(parsed.objects).toEqual([imported(a), imported(b), imported(c)]);
  });

  it('reads a devkit-style file (VOC2007 layout)', () => {
    const xml = `<annotation>
	<folder>VOC2007</folder>
	<filename>000005.jpg</filename>
	<size><width>500</width><height>375</height><depth>3</depth></size>
	<segmented>0</segmented>
	<object><name>chair</name><pose>Rear</pose><truncated>0</truncated><difficult>0</difficult>
		<bndbox><xmin>263</xmin><ymin>211</ymin><xmax>324</xmax><ymax>339</ymax></bndbox></object>
	<object><name>chair</name><pose>Unspecified</pose><truncated>1</truncated><difficult>1</difficult>
		<bndbox><xmin>5</xmin><ymin>244</ymin><xmax>67</xmax><ymax>374</ymax></bndbox></object>
</annotation>`;
    expect(parseVocXml(xml).objects).toEqual([
      { kind: 'box', label: 'chair', attributes: {}, x: 262, y: 210, width: 62, height: 129 },
      { kind: 'box', label: 'chair', attributes: { truncated: true, difficult: true }, x: 4, y: 243, width: 63, height: 131 },
    ]);
  });

  it('throws FormatError on malformed or incomplete files', () => {
    const xml = vocXml(image, [makeObject({ kind: 'box', label: 'a', attributes: {}, x: 1, y: 1, width: 2, height: 2 })]);
    expect(() => parseVocXml(xml.slice(0, xml.length - 30))).toThrow(FormatError);
    expect(() => parseVocXml(xml.slice(0, xml.length - 30))).toThrow(/Pascal VOC: malformed XML at line \d+/);
    expect(() => parseVocXml('')).toThrow(/empty/);
    expect(() => parseVocXml(xml.replace(/<size>[\s\S]*<\/size>/, ''))).toThrow(/<size> is missing/);
    expect(() => parseVocXml(xml.replace('<xmin>2</xmin>', '<xmin>two</xmin>'))).toThrow(/<object> 1: <xmin> must be a number/);
    expect(() => parseVocXml('<root/>')).toThrow(/<annotation>/);
  });
});
