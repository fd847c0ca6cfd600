/**
 * COCO (detection, segmentation, keypoints) JSON: a streaming writer and a reader.
 *
 * Mapping (writer):
 * - box → `bbox`, `segmentation: []`, area = w·h;
 * - polygon → `segmentation: [[x1, y1, …]]` with bbox and shoelace area; ellipse → the same with a
 *   64-vertex polygon on its outline;
 * - mask → uncompressed RLE `{ counts (COLUMN-major, starting with zeros), size: [h, w] }`,
 *   bbox and area from the mask. `iscrowd` is 0 for every annotation: pycocotools decodes an
 *   uncompressed RLE whatever `iscrowd` says, while `iscrowd: 1` would make COCOeval ignore
 *   the instance (CVAT writes masks as crowd regions; we write them as instances);
 * - landmarks with pixel points → `keypoints [x, y, 2, …]` in the category's keypoint order
 *   (0, 0, 0 for a missing name), `num_keypoints`, bbox of the points and its area as `area`;
 *   needs `ExportCategory.keypoints`, otherwise dropped;
 * - object attributes → `attributes: { name: value }` (CVAT's COCO extension);
 * - tags, polylines, points, voxel landmarks and every other kind → dropped (counted).
 * Annotation ids run from 1 in output order.
 */
import type { AnnotationObject } from '../annotation/object.js';
import { boundsOfPoints, polygonArea, type Point2 } from '../geometry/geometry.js';
import { decodeRle, encodeRle, rleArea, rleBounds } from '../geometry/mask-rle.js';
import { decodeCocoRleString } from './coco-rle.js';
import { columnMajorToRowMajor, ellipsePolygon, num, rowMajorToColumnMajor } from './shapes.js';
import {
  FormatError,
  UNKNOWN_LABEL,
  countDropped,
  type ExportCategory,
  type ExportImage,
  type ImageObjects,
  type ImportedObject,
  type ParsedDataset,
  type ParsedImage,
  type SkippedItem,
  type WriteStats,
} from './types.js';

const FORMAT = 'COCO';
/** Output is yielded in pieces of about this many characters. */
const CHUNK_CHARS = 1 << 16;

export interface CocoInput {
  info?: Record<string, unknown>;
  categories: ExportCategory[];
  images: ExportImage[];
  annotations: Iterable<ImageObjects> | AsyncIterable<ImageObjects>;
}

function flat(points: readonly Point2[]): string {
  let s = '';
  for (const [x, y] of points) s += (s === '' ? '' : ',') + num(x) + ',' + num(y);
  return s;
}

function bboxText(minX: number, minY: number, maxX: number, maxY: number): string {
  return `[${num(minX)},${num(minY)},${num(maxX - minX)},${num(maxY - minY)}]`;
}

function attributesJson(attributes: Record<string, unknown>): string {
  for (const key in attributes) {
    if (Object.prototype.hasOwnProperty.call(attributes, key)) return JSON.stringify(attributes);
  }
  return '{}';
}

/** The geometry fields of one COCO annotation (from "segmentation" to "area"), or undefined when not expressible. */
function geometryFields(object: AnnotationObject, category: ExportCategory): string | undefined {
  switch (object.kind) {
    case 'box':
      return `"segmentation":[],"bbox":[${num(object.x)},${num(object.y)},${num(object.width)},${num(object.height)}],"area":${num(object.width * object.height)}`;
    case 'polygon':
    case 'ellipse': {
      const points = object.kind === 'polygon' ? object.points : ellipsePolygon(object);
      const b = boundsOfPoints(points);
      if (b === undefined) return undefined;
      return `"segmentation":[[${flat(points)}]],"bbox":${bboxText(b.minX, b.minY, b.maxX, b.maxY)},"area":${num(polygonArea(points))}`;
    }
    case 'mask': {
      const [height, width] = object.rle.size;
      const counts = rowMajorToColumnMajor(object.rle, decodeRle(object.rle));
      const b = rleBounds(object.rle) ?? { minX: 0, minY: 0, maxX: 0, maxY: 0 };
      return `"segmentation":{"counts":[${counts.join(',')}],"size":[${height},${width}]},"bbox":${bboxText(b.minX, b.minY, b.maxX, b.maxY)},"area":${rleArea(object.rle)}`;
    }
    case 'landmarks': {
      const names = category.keypoints;
      if (names === undefined || names.length === 0) return undefined;
      const byName = new Map<string, Point2>();
      for (const p of object.points) if ('x' in p) byName.set(p.name, [p.x, p.y]);
      if (byName.size === 0) return undefined;
      const values: string[] = [];
      const present: Point2[] = [];
      for (const name of names) {
        const p = byName.get(name);
        if (p === undefined) values.push('0,0,0');
        else {
          values.push(`${num(p[0])},${num(p[1])},2`);
          present.push(p);
        }
      }
      if (present.length === 0) return undefined;
      const xs = present.map((p) => p[0]);
      const ys = present.map((p) => p[1]);
      const minX = Math.min(...xs);
      const minY = Math.min(...ys);
      const maxX = Math.max(...xs);
      const maxY = Math.max(...ys);
      return `"segmentation":[],"keypoints":[${values.join(',')}],"num_keypoints":${present.length},"bbox":${bboxText(minX, minY, maxX, maxY)},"area":${num((maxX - minX) * (maxY - minY))}`;
    }
    default:
      return undefined;
  }
}

function categoryJson(c: ExportCategory): string {
  const base: Record<string, unknown> = { id: c.id, name: c.name, supercategory: '' };
  if (c.keypoints !== undefined && c.keypoints.length > 0) {
    base.keypoints = c.keypoints;
    base.skeleton = [];
  }
  return JSON.stringify(base);
}

function imageJson(image: ExportImage): string {
  return JSON.stringify({ id: image.id, file_name: image.fileName, width: image.width, height: image.height, license: 0 });
}

/**
 * Stream a COCO JSON document: info, licenses, categories, images, then the annotations one by one
 * (the annotation array is never built). Pieces of about 64 KiB are yielded; `stats` counts what
 * was written and, per kind, what COCO cannot express (see the module comment).
 */
export async function* cocoChunks(input: CocoInput, stats?: WriteStats): AsyncGenerator<string> {
  const byName = new Map<string, ExportCategory>();
  for (const c of input.categories) byName.set(c.name, c);
  let buffer = `{"info":${JSON.stringify(input.info ?? { description: 'Caliper export' })},"licenses":[],"categories":[`;
  buffer += input.categories.map(categoryJson).join(',');
  buffer += '],"images":[';
  let first = true;
  for (const image of input.images) {
    buffer += (first ? '' : ',') + imageJson(image);
    first = false;
    if (buffer.length >= CHUNK_CHARS) {
      yield buffer;
      buffer = '';
    }
  }
  buffer += '],"annotations":[';
  let id = 0;
  for await (const entry of input.annotations) {
    if (stats !== undefined) stats.images++;
    const imageId = entry.image.id;
    for (const object of entry.objects) {
      const category = byName.get(object.label);
      if (category === undefined) {
        countDropped(stats, UNKNOWN_LABEL);
        continue;
      }
      const fields = geometryFields(object, category);
      if (fields === undefined) {
        countDropped(stats, object.kind);
        continue;
      }
      id++;
      buffer += `${id === 1 ? '' : ','}{"id":${id},"image_id":${imageId},"category_id":${category.id},${fields},"iscrowd":0,"attributes":${attributesJson(object.attributes)}}`;
      if (stats !== undefined) stats.objects++;
      if (buffer.length >= CHUNK_CHARS) {
        yield buffer;
        buffer = '';
      }
    }
  }
  yield `${buffer}]}`;
}

// ---------------------------------------------------------------------------------------------
// Reading

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function importAttributes(raw: unknown): Record<string, string | number | boolean | string[]> {
  const out: Record<string, string | number | boolean | string[]> = {};
  if (!isRecord(raw)) return out;
  for (const [name, value] of Object.entries(raw)) {
    if (name === '') continue;
    if (typeof value === 'string' || typeof value === 'boolean' || isFiniteNumber(value)) out[name] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[name] = value as string[];
  }
  return out;
}

interface CocoCategory {
  name: string;
  keypoints: string[] | undefined;
}

function readCategories(data: Json): Map<string, CocoCategory> {
  const raw = data.categories;
  if (raw === undefined) return new Map();
  if (!Array.isArray(raw)) throw new FormatError(FORMAT, '"categories" must be an array');
  const out = new Map<string, CocoCategory>();
  raw.forEach((c: unknown, i) => {
    if (!isRecord(c) || (typeof c.id !== 'number' && typeof c.id !== 'string') || typeof c.name !== 'string' || c.name === '') {
      throw new FormatError(FORMAT, `categories[${i}] needs an id and a non-empty name`);
    }
    const kp = Array.isArray(c.keypoints) && c.keypoints.every((k) => typeof k === 'string') ? (c.keypoints as string[]) : undefined;
    out.set(String(c.id), { name: c.name, keypoints: kp });
  });
  return out;
}

function readImages(data: Json): { list: ParsedImage[]; byId: Map<string, ParsedImage> } {
  const raw = data.images;
  if (!Array.isArray(raw)) throw new FormatError(FORMAT, '"images" must be an array');
  const list: ParsedImage[] = [];
  const byId = new Map<string, ParsedImage>();
  raw.forEach((img: unknown, i) => {
    if (!isRecord(img) || (typeof img.id !== 'number' && typeof img.id !== 'string') || typeof img.file_name !== 'string') {
      throw new FormatError(FORMAT, `images[${i}] needs an id and a file_name`);
    }
    const parsed: ParsedImage = { fileName: img.file_name, objects: [] };
    if (isFiniteNumber(img.width) && img.width > 0) parsed.width = img.width;
    if (isFiniteNumber(img.height) && img.height > 0) parsed.height = img.height;
    list.push(parsed);
    byId.set(String(img.id), parsed);
  });
  return { list, byId };
}

function polygonsOf(seg: unknown[], where: string, base: { label: string; attributes: ImportedObject['attributes'] }, skipped: SkippedItem[]): ImportedObject[] {
  const out: ImportedObject[] = [];
  seg.forEach((part, p) => {
    if (!Array.isArray(part) || !part.every(isFiniteNumber)) {
      throw new FormatError(FORMAT, `${where}: segmentation[${p}] must be a list of numbers`);
    }
    if (part.length % 2 !== 0) throw new FormatError(FORMAT, `${where}: segmentation[${p}] has an odd number of coordinates`);
    if (part.length < 6) {
      skipped.push({ where: `${where}.segmentation[${p}]`, reason: 'a polygon needs at least 3 points' });
      return;
    }
    const points: [number, number][] = [];
    for (let k = 0; k < part.length; k += 2) points.push([part[k] as number, part[k + 1] as number]);
    out.push({ kind: 'polygon', ...base, points });
  });
  return out;
}

function maskOf(seg: Json, where: string, image: ParsedImage, base: { label: string; attributes: ImportedObject['attributes'] }, skipped: SkippedItem[]): ImportedObject | undefined {
  const size = seg.size;
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isInteger(v) && (v as number) > 0)) {
    throw new FormatError(FORMAT, `${where}: an RLE segmentation needs size [height, width]`);
  }
  const [height, width] = size as [number, number];
  let counts: number[];
  if (typeof seg.counts === 'string') {
    const decoded = decodeCocoRleString(seg.counts);
    if (typeof decoded === 'string') throw new FormatError(FORMAT, `${where}: compressed RLE: ${decoded}`);
    counts = decoded;
  } else if (Array.isArray(seg.counts) && seg.counts.every(isFiniteNumber)) {
    counts = seg.counts as number[];
  } else {
    throw new FormatError(FORMAT, `${where}: RLE counts must be a list of numbers or a compressed string`);
  }
  if ((image.width !== undefined && image.width !== width) || (image.height !== undefined && image.height !== height)) {
    skipped.push({ where, reason: `mask size ${height} x ${width} differs from the image size` });
    return undefined;
  }
  const pixels = columnMajorToRowMajor(counts, height, width);
  if (typeof pixels === 'string') throw new FormatError(FORMAT, `${where}: RLE ${pixels}`);
  return { kind: 'mask', ...base, rle: encodeRle(pixels, height, width) };
}

function landmarksOf(kp: unknown[], where: string, category: CocoCategory, base: { label: string; attributes: ImportedObject['attributes'] }): ImportedObject | undefined {
  if (kp.length % 3 !== 0 || !kp.every(isFiniteNumber)) {
    throw new FormatError(FORMAT, `${where}: keypoints must be a list of numbers in groups of 3`);
  }
  const points: { name: string; x: number; y: number }[] = [];
  for (let i = 0; i < kp.length / 3; i++) {
    const v = kp[3 * i + 2] as number;
    if (v === 0) continue;
    points.push({ name: category.keypoints?.[i] ?? `keypoint ${i + 1}`, x: kp[3 * i] as number, y: kp[3 * i + 1] as number });
  }
  return points.length === 0 ? undefined : { kind: 'landmarks', ...base, points };
}

/**
 * Read a COCO detection / segmentation / keypoints JSON value. Polygons (one object per part),
 * uncompressed and compressed RLE masks, keypoints (visibility 0 skipped) and bbox-only
 * annotations (→ box) are imported; annotations naming unknown images or categories are skipped
 * with a reason; malformed structure throws `FormatError`.
 */
export function parseCoco(json: unknown): ParsedDataset {
  if (!isRecord(json)) throw new FormatError(FORMAT, 'the file is not a JSON object');
  const categories = readCategories(json);
  const { list, byId } = readImages(json);
  const skipped: SkippedItem[] = [];
  const rawAnnotations = json.annotations ?? [];
  if (!Array.isArray(rawAnnotations)) throw new FormatError(FORMAT, '"annotations" must be an array');
  const labels = new Set<string>([...categories.values()].map((c) => c.name));
  rawAnnotations.forEach((ann: unknown, i) => {
    const where = `annotations[${i}]`;
    if (!isRecord(ann)) throw new FormatError(FORMAT, `${where} is not an object`);
    const image = byId.get(String(ann.image_id));
    if (image === undefined) {
      skipped.push({ where, reason: 'image_id does not name an image' });
      return;
    }
    const category = categories.get(String(ann.category_id));
    if (category === undefined) {
      skipped.push({ where, reason: 'category_id does not name a category' });
      return;
    }
    const base = { label: category.name, attributes: importAttributes(ann.attributes) };
    const made: ImportedObject[] = [];
    const seg = ann.segmentation;
    if (Array.isArray(seg)) made.push(...polygonsOf(seg, where, base, skipped));
    else if (isRecord(seg)) {
      const mask = maskOf(seg, where, image, base, skipped);
      if (mask !== undefined) made.push(mask);
    } else if (seg !== undefined && seg !== null) throw new FormatError(FORMAT, `${where}: segmentation must be a list of polygons or an RLE object`);
    if (ann.keypoints !== undefined) {
      if (!Array.isArray(ann.keypoints)) throw new FormatError(FORMAT, `${where}: keypoints must be a list`);
      const lm = landmarksOf(ann.keypoints, where, category, base);
      if (lm !== undefined) made.push(lm);
    }
    const segmented = (Array.isArray(seg) && seg.length > 0) || isRecord(seg);
    if (made.length === 0 && !segmented && ann.bbox !== undefined) {
      const b = ann.bbox;
      if (!Array.isArray(b) || b.length !== 4 || !b.every(isFiniteNumber)) throw new FormatError(FORMAT, `${where}: bbox must be [x, y, width, height]`);
      const [x, y, width, height] = b as [number, number, number, number];
      if (width > 0 && height > 0) made.push({ kind: 'box', ...base, x, y, width, height });
      else skipped.push({ where, reason: 'bbox has no area' });
    } else if (made.length === 0 && !segmented) {
      skipped.push({ where, reason: 'no segmentation, keypoints or bbox' });
    }
    image.objects.push(...made);
  });
  return { images: list, labels: [...labels], skipped };
}
