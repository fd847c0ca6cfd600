// 2D formats (COCO, YOLO, Pascal VOC, CVAT XML): every image of the dataset is a plain image
// asset or one slice/frame of a volume, stack or cine, named "<asset>/slice_0042.png". Objects
// go to the image of their slice; what a format cannot hold is counted in the stats.
import type { AnnotationObject } from '@caliper/core';
import {
  cocoChunks,
  cvatXmlChunks,
  type ExportCategory,
  type ExportImage,
  type ImageObjects,
  sliceImageName,
  vocXml,
  type WriteStats,
  yoloDataYaml,
  yoloLabelText,
} from '@caliper/core/formats';
import { renderThumbnail } from '@caliper/media';
import { readAllBytes } from '../../blob/index.js';
import { assetGrid, assetsInScope, type ExportAsset, loadVolume, objectsOf, type VolumeArray } from './collect.js';
import { drop, type ExportContext, type ExportStats, newStats } from './write.js';

interface PlannedImage {
  image: ExportImage;
  /** slice or frame index within the asset; null for a plain image */
  index: number | null;
}

const byIndexKey = (a: ExportAsset) => (a.imaging?.kind === 'cine' ? 'frame' : 'slice');

/** The object moved onto its image plane, or null when it has none (3D, whole-asset). */
function placeOnImage(o: AnnotationObject, slices: number): { index: number | null; object: AnnotationObject } | null {
  if (o.kind === 'landmarks' && o.points.length > 0 && 'i' in o.points[0]!) {
    const ks = new Set(o.points.map((p) => ('k' in p ? Math.round(p.k) : -1)));
    if (ks.size !== 1) return null;
    const k = [...ks][0]!;
    const points = o.points.map((p) => ('i' in p ? { name: p.name, x: p.i + 0.5, y: p.j + 0.5 } : p));
    return { index: slices > 1 ? k : null, object: { ...o, points, ...(slices > 1 ? { slice: k } : {}) } as AnnotationObject };
  }
  if (o.kind === 'labelmap' || o.kind === 'relation' || o.kind === 'track' || o.kind === 'segment' || o.kind === 'transcript' || o.kind === 'span') return null;
  const where = 'slice' in o && typeof o.slice === 'number' ? o.slice : 'frame' in o && typeof o.frame === 'number' ? o.frame : null;
  if (o.kind === 'tag') {
    const s = o.scope;
    if (s.type === 'slice') return { index: s.k, object: o };
    if (s.type === 'frame') return { index: s.frame, object: o };
    return slices === 1 ? { index: null, object: o } : null;
  }
  if (where === null) return slices === 1 ? { index: null, object: o } : null;
  return { index: slices === 1 ? null : where, object: o };
}

/** Images of one asset: a plain image, or the annotated (or all) slices of a multi-slice asset. */
function planImages(a: ExportAsset, objects: AnnotationObject[], allSlices: boolean, nextId: () => number): PlannedImage[] {
  const grid = assetGrid(a);
  if (!grid) return [];
  const ext = 'png';
  if (grid.slices === 1) return [{ image: { id: nextId(), fileName: sliceImageName(a.row.name, {}, ext), width: grid.width, height: grid.height }, index: null }];
  const used = new Set<number>();
  for (const o of objects) {
    const p = placeOnImage(o, grid.slices);
    if (p && p.index !== null && p.index >= 0 && p.index < grid.slices) used.add(p.index);
  }
  const indices = allSlices ? Array.from({ length: grid.slices }, (_, i) => i) : [...used].sort((x, y) => x - y);
  const key = byIndexKey(a);
  return indices.map((i) => ({
    image: { id: nextId(), fileName: sliceImageName(a.row.name, { [key]: i, slices: grid.slices }, ext), width: grid.width, height: grid.height },
    index: i,
  }));
}

function categoriesOf(ctx: ExportContext): ExportCategory[] {
  return ctx.schema.labels.map((l, i) => ({
    id: i + 1,
    name: l.name,
    color: l.color,
    ...(l.landmarks ? { keypoints: [...l.landmarks] } : {}),
    attributes: l.attributes,
  }));
}

/** One slice (or the whole image) as an 8-bit PNG, windowed with the asset's first window. */
function slicePng(a: ExportAsset, volume: VolumeArray, index: number | null): Uint8Array {
  const im = a.imaging!;
  const [w, h] = im.dims;
  const per = w * h * im.samples;
  const k = index ?? 0;
  const win = im.windows[0];
  return renderThumbnail({
    width: w,
    height: h,
    samples: im.samples === 1 ? 1 : 3,
    data: volume.subarray(k * per, (k + 1) * per),
    slope: im.rescale.slope,
    intercept: im.rescale.intercept,
    ...(win ? { window: { center: win.center, width: Math.max(1, win.width) } } : {}),
    invert: im.photometric === 'MONOCHROME1',
    maxSize: Math.max(w, h),
  });
}

export async function writeFlat(ctx: ExportContext): Promise<ExportStats> {
  const { deps, req, zip } = ctx;
  const stats = newStats();
  const categories = categoriesOf(ctx);
  const writeStats: WriteStats = { images: 0, objects: 0, dropped: {} };
  let imageId = 0;
  const nextId = () => ++imageId;
  const folder = req.format === 'voc' ? 'JPEGImages' : 'images';

  /** Pass over the assets yielding each planned image with its objects (and writing images when asked). */
  async function* items(): AsyncGenerator<ImageObjects> {
    imageId = 0;
    let done = 0;
    for await (const a of assetsInScope(deps, ctx.project.id, req)) {
      await ctx.progress(done++, 'writing');
      const objects = objectsOf(a, req);
      const grid = assetGrid(a);
      if (!grid) continue;
      const planned = planImages(a, objects, req.allSlices, nextId);
      if (planned.length === 0) {
        for (const o of objects) drop(stats, o.kind);
        continue;
      }
      const byIndex = new Map<number | null, AnnotationObject[]>();
      for (const o of objects) {
        const p = placeOnImage(o, grid.slices);
        if (!p) {
          drop(stats, o.kind);
          continue;
        }
        const list = byIndex.get(p.index) ?? [];
        list.push(p.object);
        byIndex.set(p.index, list);
      }
      stats.assets++;
      let volume: VolumeArray | null = null;
      if (req.includeImages) {
        if (a.imaging) volume = await loadVolume(deps, a);
        else if (a.row.media_type === 'image/png') {
          await zip.add(`${folder}/${planned[0]!.image.fileName}`, await readAllBytes(await deps.blobs.get(a.row.sha256)), false);
          stats.files++;
        }
      }
      for (const p of planned) {
        if (volume) {
          await zip.add(`${folder}/${p.image.fileName}`, slicePng(a, volume, p.index), false);
          stats.files++;
        }
        const objs = byIndex.get(p.index) ?? [];
        stats.objects += objs.length;
        yield { image: p.image, objects: objs };
      }
    }
  }

  if (req.format === 'coco' || req.format === 'cvat') {
    // COCO lists the images before the annotations and CVAT states their number first: a first
    // pass plans the images (no pixels read).
    const images: ExportImage[] = [];
    imageId = 0;
    // Only multi-slice assets need their documents to know which slices carry objects.
    const needsDocs = (a: ExportAsset) => !req.allSlices && (assetGrid(a)?.slices ?? 1) > 1;
    for await (const a of assetsInScope(deps, ctx.project.id, req, { needsDocs })) for (const p of planImages(a, objectsOf(a, req), req.allSlices, nextId)) images.push(p.image);
    if (req.format === 'coco') {
      const info = { description: ctx.project.name, version: '1.0', contributor: 'Caliper' };
      await zip.addStream('annotations/instances_default.json', cocoChunks({ info, categories, images, annotations: items() }, writeStats));
    } else {
      await zip.addStream('annotations.xml', cvatXmlChunks({ taskName: ctx.project.name, categories, images: items(), size: images.length }, writeStats));
    }
    stats.files++;
  } else if (req.format === 'voc') {
    const list: string[] = [];
    for await (const it of items()) {
      const base = it.image.fileName.replace(/\.png$/, '');
      await zip.add(`Annotations/${base}.xml`, vocXml(it.image, it.objects, { folder: 'JPEGImages', database: ctx.project.name }, writeStats));
      list.push(base);
      stats.files++;
    }
    await zip.add('ImageSets/Main/default.txt', list.join('\n') + (list.length ? '\n' : ''));
    await zip.add('labelmap.txt', ['# label:color_rgb:parts:actions', ...categories.map((c) => `${c.name}:${hexToRgb(c.color)}::`)].join('\n') + '\n');
  } else {
    const classIndex = new Map(categories.map((c, i) => [c.name, i]));
    const mode = req.format === 'yolo-seg' ? 'segment' : 'detect';
    const list: string[] = [];
    for await (const it of items()) {
      const base = it.image.fileName.replace(/\.png$/, '');
      await zip.add(`labels/${base}.txt`, yoloLabelText(it.objects, it.image, classIndex, mode, writeStats));
      list.push(`images/${it.image.fileName}`);
      stats.files++;
    }
    await zip.add('data.yaml', yoloDataYaml(categories.map((c) => c.name), { train: 'train.txt' }));
    await zip.add('train.txt', list.join('\n') + (list.length ? '\n' : ''));
  }
  for (const [k, n] of Object.entries(writeStats.dropped)) drop(stats, k, n);
  return stats;
}

function hexToRgb(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  return `${(n >> 16) & 255},${(n >> 8) & 255},${n & 255}`;
}
