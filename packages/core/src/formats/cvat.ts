/**
 * CVAT for images 1.1 XML: a streaming writer and a reader.
 *
 * Shapes: box (xtl, ytl, xbr, ybr: pixel edges, as in Caliper), polygon / polyline / points
 * (`points="x1,y1;x2,y2"`), ellipse (cx, cy, rx, ry, `rotation` in DEGREES clockwise; Caliper
 * stores radians), mask and tag. Masks use CVAT's own RLE: `left`, `top`, `width`, `height` of the
 * mask's bounding box and `rle` = comma-separated runs over that box, row-major, starting with a
 * run of zeros (0 when the first pixel is set); empty masks are dropped. Landmarks (CVAT needs a
 * skeleton template for them) and the kinds CVAT has no shape for are dropped (counted).
 *
 * Attributes: `occluded` (boolean) becomes CVAT's built-in `occluded` flag; other attributes are
 * `<attribute name="…">value</attribute>`, one element per value of a multi-value attribute.
 * Label attribute types map to CVAT input types: select → select, checkbox → checkbox,
 * number → number (values "min\nmax\nstep"), text → text, multiselect → text (CVAT has none).
 * Sources: model:* → "auto", import:* → "file", otherwise "manual".
 */
import type { AnnotationObject } from '../annotation/object.js';
import { encodeRle, rleBounds, decodeRle } from '../geometry/mask-rle.js';
import { addAttribute, attributeTexts, boxCorners, num, pointsText, runsOf, type AttributeValue } from './shapes.js';
import {
  FormatError,
  UNKNOWN_LABEL,
  countDropped,
  type ExportCategory,
  type ImageObjects,
  type ImportedObject,
  type LabelAttribute,
  type ParsedDataset,
  type ParsedImage,
  type SkippedItem,
  type WriteStats,
} from './types.js';
import { child, childText, parseXml, xmlAttr, xmlText, type XmlElement } from './xml.js';

const FORMAT = 'CVAT XML';
const CHUNK_CHARS = 1 << 16;
const DEG = 180 / Math.PI;

export interface CvatInput {
  taskName: string;
  categories: ExportCategory[];
  images: AsyncIterable<ImageObjects> | Iterable<ImageObjects>;
  /** Number of images for `<size>`; counted from `images` when it is an array. */
  size?: number;
}

function attributeMeta(attr: LabelAttribute): string {
  let inputType: string;
  let values: string[];
  let defaultValue: string;
  switch (attr.type) {
    case 'select':
      inputType = 'select';
      values = attr.options;
      defaultValue = attr.default ?? attr.options[0] ?? '';
      break;
    case 'multiselect':
      inputType = 'text';
      defaultValue = (attr.default ?? []).join(',');
      values = [defaultValue];
      break;
    case 'checkbox':
      inputType = 'checkbox';
      defaultValue = String(attr.default ?? false);
      values = [defaultValue];
      break;
    case 'number':
      inputType = 'number';
      values = [num(attr.min ?? 0), num(attr.max ?? attr.min ?? 0), num(attr.step ?? 1)];
      defaultValue = num(attr.default ?? attr.min ?? 0);
      break;
    case 'text':
      inputType = 'text';
      defaultValue = attr.default ?? '';
      values = [defaultValue];
      break;
  }
  return `<attribute><name>${xmlText(attr.name)}</name><mutable>false</mutable><input_type>${inputType}</input_type><default_value>${xmlText(defaultValue)}</default_value><values>${xmlText(values.join('\n'))}</values></attribute>`;
}

function labelMeta(c: ExportCategory): string {
  const attrs = (c.attributes ?? []).map(attributeMeta).join('');
  return `<label><name>${xmlText(c.name)}</name><color>${xmlText(c.color)}</color><type>any</type><attributes>${attrs}</attributes></label>`;
}

function sourceOf(object: AnnotationObject): string {
  if (object.source.startsWith('model:')) return 'auto';
  if (object.source.startsWith('import:')) return 'file';
  return 'manual';
}

function attributesXml(attributes: Record<string, AttributeValue>): string {
  let xml = '';
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'occluded' && typeof value === 'boolean') continue;
    for (const text of attributeTexts(value)) xml += `<attribute name="${xmlAttr(name)}">${xmlText(text)}</attribute>`;
  }
  return xml;
}

/** The opening tag's geometry attributes for one shape, or undefined when CVAT cannot express it. */
function shapeOf(object: AnnotationObject): { tag: string; geometry: string } | undefined {
  switch (object.kind) {
    case 'box':
      return { tag: 'box', geometry: `xtl="${num(object.x)}" ytl="${num(object.y)}" xbr="${num(object.x + object.width)}" ybr="${num(object.y + object.height)}"` };
    case 'polygon':
    case 'polyline':
    case 'points':
      return { tag: object.kind, geometry: `points="${pointsText(object.points)}"` };
    case 'ellipse': {
      const rot = object.rotation ?? 0;
      return { tag: 'ellipse', geometry: `cx="${num(object.cx)}" cy="${num(object.cy)}" rx="${num(object.rx)}" ry="${num(object.ry)}"${rot !== 0 ? ` rotation="${num(rot * DEG)}"` : ''}` };
    }
    case 'mask': {
      const b = rleBounds(object.rle);
      if (b === undefined) return undefined;
      const pixels = decodeRle(object.rle);
      const full = object.rle.size[1];
      const w = b.maxX - b.minX;
      const h = b.maxY - b.minY;
      const runs = runsOf(w * h, (i) => pixels[(b.minY + Math.floor(i / w)) * full + b.minX + (i % w)] ?? 0);
      return { tag: 'mask', geometry: `rle="${runs.join(', ')}" left="${b.minX}" top="${b.minY}" width="${w}" height="${h}"` };
    }
    case 'tag':
      return { tag: 'tag', geometry: '' };
    default:
      return undefined;
  }
}

function shapeXml(object: AnnotationObject): string | undefined {
  const shape = shapeOf(object);
  if (shape === undefined) return undefined;
  const label = `label="${xmlAttr(object.label)}" source="${sourceOf(object)}"`;
  const inner = attributesXml(object.attributes);
  if (shape.tag === 'tag') return `<tag ${label}>${inner}</tag>`;
  const occluded = object.attributes.occluded === true ? '1' : '0';
  return `<${shape.tag} ${label} occluded="${occluded}" ${shape.geometry} z_order="0">${inner}</${shape.tag}>`;
}

/**
 * Stream a CVAT for images 1.1 document: meta (task, labels with their attribute definitions),
 * then one `<image>` per entry with its shapes. `stats` counts images, objects and what was dropped.
 */
export async function* cvatXmlChunks(input: CvatInput, stats?: WriteStats): AsyncGenerator<string> {
  const known = new Set(input.categories.map((c) => c.name));
  const size = input.size ?? (Array.isArray(input.images) ? input.images.length : 0);
  let buffer = '<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n<version>1.1</version>\n';
  buffer += `<meta><task><name>${xmlText(input.taskName)}</name><size>${size}</size><mode>annotation</mode><labels>`;
  buffer += input.categories.map(labelMeta).join('');
  buffer += '</labels></task></meta>\n';
  let index = 0;
  for await (const entry of input.images) {
    if (stats !== undefined) stats.images++;
    const { image } = entry;
    buffer += `<image id="${index++}" name="${xmlAttr(image.fileName)}" width="${image.width}" height="${image.height}">\n`;
    for (const object of entry.objects) {
      if (!known.has(object.label)) {
        countDropped(stats, UNKNOWN_LABEL);
        continue;
      }
      const xml = shapeXml(object);
      if (xml === undefined) {
        countDropped(stats, object.kind);
        continue;
      }
      buffer += `${xml}\n`;
      if (stats !== undefined) stats.objects++;
    }
    buffer += '</image>\n';
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  yield `${buffer}</annotations>\n`;
}

// ---------------------------------------------------------------------------------------------
// Reading

function numAttr(el: XmlElement, name: string, where: string): number {
  const raw = el.attrs[name];
  const value = raw === undefined ? NaN : Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value)) throw new FormatError(FORMAT, `${where}: attribute "${name}" must be a number`);
  return value;
}

function pointsOf(el: XmlElement, where: string, min: number): [number, number][] {
  const raw = el.attrs.points ?? '';
  const points = raw
    .split(';')
    .filter((p) => p.trim() !== '')
    .map((p): [number, number] => {
      const [x, y, extra] = p.split(',').map((v) => (v.trim() === '' ? NaN : Number(v)));
      if (x === undefined || y === undefined || extra !== undefined || !Number.isFinite(x) || !Number.isFinite(y)) {
        throw new FormatError(FORMAT, `${where}: points must look like "x1,y1;x2,y2"`);
      }
      return [x, y];
    });
  if (points.length < min) throw new FormatError(FORMAT, `${where}: needs at least ${min} points`);
  return points;
}

/** Input types of the label attributes declared in meta, by label then attribute name. */
function declaredTypes(root: XmlElement): { labels: string[]; types: Map<string, Map<string, string>> } {
  const labels: string[] = [];
  const types = new Map<string, Map<string, string>>();
  const meta = child(root, 'meta');
  const holders = meta === undefined ? [] : [child(meta, 'task'), child(meta, 'project'), child(meta, 'job')];
  for (const holder of holders) {
    const labelsEl = holder === undefined ? undefined : child(holder, 'labels');
    for (const label of labelsEl?.children ?? []) {
      if (label.name !== 'label') continue;
      const name = childText(label, 'name');
      if (name === '') continue;
      labels.push(name);
      const byAttr = new Map<string, string>();
      for (const attr of child(label, 'attributes')?.children ?? []) {
        if (attr.name === 'attribute') byAttr.set(childText(attr, 'name'), childText(attr, 'input_type'));
      }
      types.set(name, byAttr);
    }
  }
  return { labels, types };
}

function maskOf(el: XmlElement, where: string, image: ParsedImage, skipped: SkippedItem[]) {
  if (image.width === undefined || image.height === undefined) {
    skipped.push({ where, reason: 'a mask needs the image width and height' });
    return undefined;
  }
  const left = numAttr(el, 'left', where);
  const top = numAttr(el, 'top', where);
  const w = numAttr(el, 'width', where);
  const h = numAttr(el, 'height', where);
  if (![left, top, w, h].every(Number.isInteger) || w < 1 || h < 1 || left < 0 || top < 0) {
    throw new FormatError(FORMAT, `${where}: left, top, width and height must be whole numbers, width and height at least 1`);
  }
  if (left + w > image.width || top + h > image.height) {
    skipped.push({ where, reason: 'the mask reaches outside the image' });
    return undefined;
  }
  const runs = (el.attrs.rle ?? '').split(/[\s,]+/).filter((r) => r !== '').map(Number);
  if (runs.length === 0 || !runs.every((r) => Number.isInteger(r) && r >= 0)) throw new FormatError(FORMAT, `${where}: rle must be comma-separated whole numbers`);
  const total = runs.reduce((a, b) => a + b, 0);
  if (total !== w * h) throw new FormatError(FORMAT, `${where}: rle covers ${total} pixels but the mask box has ${w} x ${h}`);
  const { width: W, height: H } = image;
  const pixels = new Uint8Array(W * H);
  let pos = 0;
  runs.forEach((run, i) => {
    if (i % 2 === 1) for (let p = pos; p < pos + run; p++) pixels[(top + Math.floor(p / w)) * W + left + (p % w)] = 1;
    pos += run;
  });
  return encodeRle(pixels, H, W);
}

function shapeObject(el: XmlElement, where: string, image: ParsedImage, types: Map<string, string> | undefined, skipped: SkippedItem[]): ImportedObject | undefined {
  const label = el.attrs.label ?? '';
  if (label === '') throw new FormatError(FORMAT, `${where}: the label attribute is missing`);
  const attributes: Record<string, AttributeValue> = {};
  if (el.attrs.occluded === '1') attributes.occluded = true;
  for (const a of el.children) {
    if (a.name === 'attribute' && a.attrs.name !== undefined && a.attrs.name !== '') addAttribute(attributes, a.attrs.name, a.text, types?.get(a.attrs.name));
  }
  const base = { label, attributes };
  switch (el.name) {
    case 'box': {
      const x0 = numAttr(el, 'xtl', where);
      const y0 = numAttr(el, 'ytl', where);
      const x1 = numAttr(el, 'xbr', where);
      const y1 = numAttr(el, 'ybr', where);
      if (x1 <= x0 || y1 <= y0) throw new FormatError(FORMAT, `${where}: xbr/ybr must be greater than xtl/ytl`);
      const rotation = el.attrs.rotation === undefined ? 0 : numAttr(el, 'rotation', where);
      const box = { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
      if (rotation === 0) return { kind: 'box', ...base, ...box };
      // A rotated box (about its centre, clockwise in degrees) becomes a polygon.
      const cx = x0 + box.width / 2;
      const cy = y0 + box.height / 2;
      const t = rotation / DEG;
      const points = boxCorners(box).map(([x, y]): [number, number] => [
        cx + (x - cx) * Math.cos(t) - (y - cy) * Math.sin(t),
        cy + (x - cx) * Math.sin(t) + (y - cy) * Math.cos(t),
      ]);
      return { kind: 'polygon', ...base, points };
    }
    case 'polygon':
      return { kind: 'polygon', ...base, points: pointsOf(el, where, 3) };
    case 'polyline':
      return { kind: 'polyline', ...base, points: pointsOf(el, where, 2) };
    case 'points':
      return { kind: 'points', ...base, points: pointsOf(el, where, 1) };
    case 'ellipse': {
      const rx = numAttr(el, 'rx', where);
      const ry = numAttr(el, 'ry', where);
      if (rx <= 0 || ry <= 0) throw new FormatError(FORMAT, `${where}: rx and ry must be greater than 0`);
      const rotation = el.attrs.rotation === undefined ? 0 : numAttr(el, 'rotation', where) / DEG;
      const ellipse = { kind: 'ellipse' as const, ...base, cx: numAttr(el, 'cx', where), cy: numAttr(el, 'cy', where), rx, ry };
      return rotation === 0 ? ellipse : { ...ellipse, rotation };
    }
    case 'mask': {
      const rle = maskOf(el, where, image, skipped);
      return rle === undefined ? undefined : { kind: 'mask', ...base, rle };
    }
    case 'tag':
      return { kind: 'tag', ...base, scope: { type: 'asset' } };
    default:
      skipped.push({ where, reason: `<${el.name}> shapes are not imported` });
      return undefined;
  }
}

/**
 * Read a CVAT for images 1.1 XML document. Images with their shapes are imported; video tracks
 * (CVAT for video), skeletons, cuboids and unknown elements are skipped with a reason;
 * malformed XML or shapes throw `FormatError` naming the image and shape.
 */
export function parseCvatXml(text: string): ParsedDataset {
  const root = parseXml(text, FORMAT);
  if (root.name !== 'annotations') throw new FormatError(FORMAT, 'the root element must be <annotations>');
  const { labels: declared, types } = declaredTypes(root);
  const labels = new Set(declared);
  const images: ParsedImage[] = [];
  const skipped: SkippedItem[] = [];
  let imageIndex = 0;
  for (const el of root.children) {
    if (el.name === 'version' || el.name === 'meta') continue;
    if (el.name === 'track') {
      skipped.push({ where: `<track id="${(el.attrs.id ?? '').slice(0, 20)}">`, reason: 'video tracks (CVAT for video) are not imported; export as CVAT for images' });
      continue;
    }
    if (el.name !== 'image') {
      skipped.push({ where: `<${el.name.slice(0, 40)}>`, reason: 'unknown element' });
      continue;
    }
    imageIndex++;
    const where = `<image> ${imageIndex}`;
    const name = el.attrs.name ?? '';
    if (name === '') throw new FormatError(FORMAT, `${where}: the name attribute is missing`);
    const image: ParsedImage = { fileName: name, objects: [] };
    if (el.attrs.width !== undefined) image.width = numAttr(el, 'width', where);
    if (el.attrs.height !== undefined) image.height = numAttr(el, 'height', where);
    el.children.forEach((shape, s) => {
      const shapeWhere = `${where}, <${shape.name.slice(0, 40)}> ${s + 1}`;
      const object = shapeObject(shape, shapeWhere, image, types.get(shape.attrs.label ?? ''), skipped);
      if (object !== undefined) {
        image.objects.push(object);
        labels.add(object.label);
      }
    });
    images.push(image);
  }
  return { images, labels: [...labels], skipped };
}
