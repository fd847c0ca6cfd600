/**
 * Pascal VOC annotation XML (one file per image).
 *
 * Box convention: the VOC devkit uses 1-based pixel indices with inclusive ends, so a Caliper box
 * covering pixels x .. x+w-1 (edges x .. x+w) is written `xmin = x + 1`, `xmax = x + width`
 * (same for y) and read back as `x = xmin - 1`, `width = xmax - xmin + 1`: exact for integer
 * boxes, and applied as-is to fractional ones.
 *
 * VOC is a detection format: only boxes are written; every other kind is dropped (counted).
 * Attributes named `difficult`, `truncated` and `occluded` become VOC's own 0/1 fields
 * (`difficult` and `truncated` are always written, 0 when absent; a 1 reads back as `true`, a 0
 * as no attribute). Other attributes go in `<attributes><attribute><name/><value/>` as CVAT
 * writes them, one element per value of a multi-value attribute.
 */
import type { AnnotationObject } from '../annotation/object.js';
import { addAttribute, attributeTexts, num, type AttributeValue } from './shapes.js';
import { FormatError, UNKNOWN_LABEL, countDropped, type ExportImage, type ImportedObject, type ParsedImage, type WriteStats } from './types.js';
import { child, childText, parseXml, xmlText, type XmlElement } from './xml.js';

const FORMAT = 'Pascal VOC';
const FLAGS = ['truncated', 'difficult', 'occluded'] as const;

function flagValue(v: AttributeValue | undefined): string {
  if (v === true) return '1';
  if (typeof v === 'number') return v !== 0 ? '1' : '0';
  if (typeof v === 'string') return v === '1' || v.toLowerCase() === 'true' ? '1' : '0';
  return '0';
}

function objectXml(object: AnnotationObject & { kind: 'box' }): string {
  const attrs = object.attributes;
  let xml = `  <object>\n    <name>${xmlText(object.label)}</name>\n    <pose>Unspecified</pose>\n`;
  xml += `    <truncated>${flagValue(attrs.truncated)}</truncated>\n    <difficult>${flagValue(attrs.difficult)}</difficult>\n`;
  if (attrs.occluded !== undefined) xml += `    <occluded>${flagValue(attrs.occluded)}</occluded>\n`;
  xml += `    <bndbox>\n      <xmin>${num(object.x + 1)}</xmin>\n      <ymin>${num(object.y + 1)}</ymin>\n`;
  xml += `      <xmax>${num(object.x + object.width)}</xmax>\n      <ymax>${num(object.y + object.height)}</ymax>\n    </bndbox>\n`;
  const others = Object.entries(attrs).filter(([name]) => !(FLAGS as readonly string[]).includes(name));
  if (others.length > 0) {
    xml += '    <attributes>\n';
    for (const [name, value] of others) {
      for (const text of attributeTexts(value)) {
        xml += `      <attribute>\n        <name>${xmlText(name)}</name>\n        <value>${xmlText(text)}</value>\n      </attribute>\n`;
      }
    }
    xml += '    </attributes>\n';
  }
  return `${xml}  </object>\n`;
}

/**
 * The VOC XML of one image. `labels`, when given, restricts the written objects to those names
 * (others counted as `unknown label`).
 */
export function vocXml(
  image: ExportImage,
  objects: AnnotationObject[],
  opts: { folder?: string; database?: string; labels?: ReadonlySet<string> } = {},
  stats?: WriteStats,
): string {
  if (stats !== undefined) stats.images++;
  const slash = image.fileName.lastIndexOf('/');
  const folder = opts.folder ?? (slash >= 0 ? image.fileName.slice(0, slash) : '');
  let xml = '<?xml version="1.0" encoding="utf-8"?>\n<annotation>\n';
  xml += `  <folder>${xmlText(folder)}</folder>\n  <filename>${xmlText(image.fileName)}</filename>\n`;
  xml += `  <source>\n    <database>${xmlText(opts.database ?? 'Caliper')}</database>\n  </source>\n`;
  xml += `  <size>\n    <width>${image.width}</width>\n    <height>${image.height}</height>\n    <depth>3</depth>\n  </size>\n`;
  xml += '  <segmented>0</segmented>\n';
  for (const object of objects) {
    if (opts.labels !== undefined && !opts.labels.has(object.label)) {
      countDropped(stats, UNKNOWN_LABEL);
      continue;
    }
    if (object.kind !== 'box') {
      countDropped(stats, object.kind);
      continue;
    }
    xml += objectXml(object);
    if (stats !== undefined) stats.objects++;
  }
  return `${xml}</annotation>\n`;
}

function numberIn(el: XmlElement, name: string, where: string): number {
  const text = childText(el, name).trim();
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) throw new FormatError(FORMAT, `${where}: <${name}> must be a number`);
  return value;
}

/** Read one VOC annotation XML; malformed XML, a missing `<size>` or a bad `<bndbox>` throw `FormatError`. */
export function parseVocXml(text: string): ParsedImage {
  const root = parseXml(text, FORMAT);
  if (root.name !== 'annotation') throw new FormatError(FORMAT, 'the root element must be <annotation>');
  const fileName = childText(root, 'filename');
  if (fileName === '') throw new FormatError(FORMAT, '<filename> is missing');
  const size = child(root, 'size');
  if (size === undefined) throw new FormatError(FORMAT, '<size> is missing');
  const width = numberIn(size, 'width', '<size>');
  const height = numberIn(size, 'height', '<size>');
  const objects: ImportedObject[] = [];
  root.children
    .filter((c) => c.name === 'object')
    .forEach((obj, i) => {
      const where = `<object> ${i + 1}`;
      const label = childText(obj, 'name');
      if (label === '') throw new FormatError(FORMAT, `${where}: <name> is missing`);
      const bnd = child(obj, 'bndbox');
      if (bnd === undefined) throw new FormatError(FORMAT, `${where}: <bndbox> is missing`);
      const xmin = numberIn(bnd, 'xmin', where);
      const ymin = numberIn(bnd, 'ymin', where);
      const xmax = numberIn(bnd, 'xmax', where);
      const ymax = numberIn(bnd, 'ymax', where);
      const attributes: Record<string, AttributeValue> = {};
      for (const flag of FLAGS) if (childText(obj, flag).trim() === '1') attributes[flag] = true;
      for (const attr of child(obj, 'attributes')?.children ?? []) {
        if (attr.name !== 'attribute') continue;
        const name = childText(attr, 'name');
        if (name !== '') addAttribute(attributes, name, childText(attr, 'value'));
      }
      const box = { x: xmin - 1, y: ymin - 1, width: xmax - xmin + 1, height: ymax - ymin + 1 };
      if (box.width <= 0 || box.height <= 0) throw new FormatError(FORMAT, `${where}: <bndbox> max must not be below min`);
      objects.push({ kind: 'box', label, attributes, ...box });
    });
  return { fileName, width, height, objects };
}
