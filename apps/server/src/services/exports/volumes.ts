// Volume formats: NIfTI (images and label maps), DICOM SEG, DICOM SR (TID 1500) and RTSTRUCT.
// Label-map values are renumbered to one project-wide table (1.. in label-schema order), so
// every exported map means the same thing by the same number.
import type { AnnotationObject, ImagingMeta } from '@caliper/core';
import { sanitizeAssetName } from '@caliper/core/formats';
import {
  itkSnapLabelFile,
  segmentTableJson,
  type SourceImageSeries,
  type SrItem,
  type RtRoi,
  writeMeasurementReport,
  writeNiftiGz,
  writeRtStruct,
  writeSeg,
} from '@caliper/media';
import { readAllBytes } from '../../blob/index.js';
import type { Deps } from '../../deps.js';
import { assetsInScope, type ExportAsset, type ExportDoc, labelTable, loadLabelmap, loadVolume } from './collect.js';
import { drop, type ExportContext, type ExportStats, newStats, skip } from './write.js';

type LabelmapObject = Extract<AnnotationObject, { kind: 'labelmap' }>;

const stem = (name: string) => sanitizeAssetName(name.replace(/\.(nii\.gz|nii|dcm|png|tiff?|jpe?g)$/i, ''));


/** The file stem of one document's output: the asset, plus the job when several documents exist. */
function docStem(a: ExportAsset, doc: ExportDoc, several: boolean): string {
  return several ? `${stem(a.row.name)}__${sanitizeAssetName(doc.jobName)}` : stem(a.row.name);
}

function hasGeometry(im: ImagingMeta | null): im is ImagingMeta & { affineLps: number[][] } {
  return Boolean(im && im.affineLps && im.samples === 1 && im.kind !== 'object');
}

/** The de-identified DICOM series an asset was built from, as the SEG/SR/RTSTRUCT writers need it; or why not. */
export async function dicomSource(deps: Deps, a: ExportAsset): Promise<SourceImageSeries | string> {
  const ids = Array.isArray(a.metadata.instanceIds) ? (a.metadata.instanceIds as unknown[]).filter((x): x is string => typeof x === 'string') : [];
  if (!a.imaging || a.imaging.source !== 'dicom' || ids.length === 0) return 'not built from DICOM instances';
  if (!a.imaging.affineLps) return 'the series has no patient geometry';
  const rows = await deps.db.selectFrom('dicom_instances').select(['id', 'sop_instance_uid', 'sop_class_uid', 'sha256']).where('id', 'in', ids).execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const slicesCount = a.imaging.dims[2];
  let slices: SourceImageSeries['slices'];
  if (ids.length === slicesCount) {
    const list = ids.map((id) => byId.get(id));
    if (list.some((r) => !r)) return 'a source instance is missing';
    slices = list.map((r) => ({ sopClassUid: r!.sop_class_uid, sopInstanceUid: r!.sop_instance_uid }));
  } else if (ids.length === 1 && byId.get(ids[0]!)) {
    const r = byId.get(ids[0]!)!;
    slices = Array.from({ length: slicesCount }, (_, k) => ({ sopClassUid: r.sop_class_uid, sopInstanceUid: r.sop_instance_uid, frameNumber: k + 1 }));
  } else {
    return 'the slices do not map one-to-one onto source instances';
  }
  const first = byId.get(ids[0]!)!;
  const reference = await readAllBytes(await deps.blobs.get(first.sha256));
  return { reference, dims: a.imaging.dims, affineLps: a.imaging.affineLps, slices };
}

/** A label map of a document renumbered to the project table; null when it holds no known label. */
async function projectLabels(deps: Deps, o: LabelmapObject, valueOf: Map<string, number>) {
  const lm = await loadLabelmap(deps, o.blob);
  const map = new Uint16Array(65536);
  let max = 0;
  for (const s of o.segments) {
    const v = valueOf.get(s.label) ?? 0;
    map[s.value] = v;
    max = Math.max(max, v);
  }
  const out = max > 255 ? new Uint16Array(lm.data.length) : new Uint8Array(lm.data.length);
  const src = lm.data;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (v !== 0) out[i] = map[v]!;
  }
  return { data: out, shape: lm.shape };
}

const SR_UNITS = new Set(['mm', 'mm2', 'mm3', 'mL', 'deg', 'cm', 'cm2']);

/** Measurements and voxel landmarks of a document as TID 1500 items; the rest is counted as dropped. */
function srItems(objects: AnnotationObject[], stats: ExportStats): SrItem[] {
  const items: SrItem[] = [];
  for (const o of objects) {
    if (o.kind === 'measurement') {
      const unit = o.unit === 'cm3' ? 'mL' : o.unit;
      if (!SR_UNITS.has(unit)) {
        drop(stats, `measurement in ${o.unit}`);
        continue;
      }
      items.push({
        type: o.type,
        label: o.label,
        value: o.value,
        unit: unit as 'mm',
        ...(o.slice !== undefined ? { slice: o.slice } : {}),
        points: o.points.map((p) => [...p]),
        ...(o.shortAxis !== undefined ? { shortAxis: o.shortAxis } : {}),
        trackingId: o.id,
      });
    } else if (o.kind === 'landmarks') {
      for (const p of o.points) {
        const voxel: [number, number, number] | null =
          'i' in p ? [p.i, p.j, p.k] : o.slice !== undefined ? [p.x - 0.5, p.y - 0.5, o.slice] : null;
        if (!voxel) {
          drop(stats, 'landmark without a slice');
          continue;
        }
        items.push({ type: 'landmark', label: o.label, name: p.name, voxel, trackingId: `${o.id}:${p.name}` });
      }
    } else if (o.kind !== 'tag') {
      drop(stats, o.kind);
    }
  }
  return items;
}

/** Polygons on slices as RT ROIs, one ROI per label. */
function rtRois(objects: AnnotationObject[], colorOf: Map<string, string>, stats: ExportStats): RtRoi[] {
  const rois = new Map<string, RtRoi>();
  for (const o of objects) {
    if (o.kind === 'polygon' && o.slice !== undefined) {
      let roi = rois.get(o.label);
      if (!roi) {
        roi = { number: rois.size + 1, name: o.label, color: colorOf.get(o.label) ?? '#ff0000', contours: [] };
        rois.set(o.label, roi);
      }
      roi.contours.push({ slice: o.slice, points: o.points.map(([x, y]) => [x, y] as [number, number]) });
    } else if (o.kind !== 'tag') {
      drop(stats, o.kind === 'polygon' ? 'polygon without a slice' : o.kind);
    }
  }
  return [...rois.values()];
}

export async function writeVolumes(ctx: ExportContext): Promise<ExportStats> {
  const { deps, req, zip, schema } = ctx;
  const stats = newStats();
  const { segLabels, valueOf } = labelTable(schema);
  const colorOf = new Map(schema.labels.map((l) => [l.name, l.color]));
  const segmentsTable = segLabels.map((l, i) => ({ value: i + 1, label: l.name, color: l.color, ...(l.description ? { description: l.description.slice(0, 64) } : {}) }));
  const codesOf = new Map(segLabels.map((l) => [l.name, l.codes]));
  if (req.format === 'nifti') {
    await zip.add('labels.json', segmentTableJson(segmentsTable));
    await zip.add('labels.txt', itkSnapLabelFile(segmentsTable));
  }
  let done = 0;
  let seriesNumber = 9000;
  for await (const a of assetsInScope(deps, ctx.project.id, req)) {
    await ctx.progress(done++, 'writing');
    if (!hasGeometry(a.imaging)) {
      if (a.docs.length > 0) skip(stats, a.row.name, 'not a grey-scale volume with patient geometry');
      continue;
    }
    const im = a.imaging;
    const several = a.docs.length > 1;
    let wrote = false;
    if (req.format === 'nifti' && req.includeImages) {
      const data = await loadVolume(deps, a);
      const { slope, intercept } = im.rescale;
      const scaled = slope !== 1 || intercept !== 0;
      await zip.add(`images/${stem(a.row.name)}.nii.gz`, await writeNiftiGz({ data, dims: im.dims, affineLps: im.affineLps, ...(scaled ? { scaling: { slope, inter: intercept } } : {}) }), false);
      stats.files++;
      wrote = true;
    }
    let source: SourceImageSeries | string | null = null;
    const needsDicom = req.format !== 'nifti';
    for (const doc of a.docs) {
      const objects = req.annotator === 'consensus' ? doc.document.objects.filter((o) => o.source === 'consensus') : doc.document.objects;
      if (objects.length === 0) continue;
      if (needsDicom && source === null) source = await dicomSource(deps, a);
      if (typeof source === 'string') {
        skip(stats, a.row.name, `${req.format}: ${source}`);
        break;
      }
      const info = {
        seriesDescription: `Caliper ${doc.jobName}`.slice(0, 64),
        seriesNumber: seriesNumber++,
        instanceNumber: 1,
        contentLabel: req.format === 'dicom-seg' ? 'SEGMENTATION' : 'CALIPER',
        contentCreator: 'Caliper^Annotator',
        now: new Date(doc.updatedAt),
      };
      const name = docStem(a, doc, several);
      if (req.format === 'nifti' || req.format === 'dicom-seg') {
        const lms = objects.filter((o): o is LabelmapObject => o.kind === 'labelmap');
        for (const o of objects) if (o.kind !== 'labelmap' && o.kind !== 'tag') drop(stats, o.kind);
        for (const [n, o] of lms.entries()) {
          const { data, shape } = await projectLabels(deps, o, valueOf);
          const file = lms.length > 1 ? `${name}__${n + 1}` : name;
          if (req.format === 'nifti') {
            await zip.add(`labels/${file}.nii.gz`, await writeNiftiGz({ data, dims: shape, affineLps: im.affineLps, intent: 'label' }), false);
          } else {
            const present = new Set<number>();
            for (let i = 0; i < data.length; i++) if (data[i]) present.add(data[i]!);
            const segments = segmentsTable.filter((s) => present.has(s.value)).map((s) => ({
                ...s,
                ...(codesOf.get(s.label)?.category ? { category: codesOf.get(s.label)!.category! } : {}),
                ...(codesOf.get(s.label)?.type ? { type: codesOf.get(s.label)!.type! } : {}),
                algorithmType: o.source === 'manual' ? ('MANUAL' as const) : ('SEMIAUTOMATIC' as const),
                ...(o.source === 'manual' ? {} : { algorithmName: o.source }),
              }));
            if (segments.length === 0) {
              skip(stats, a.row.name, 'dicom-seg: the label map is empty');
              continue;
            }
            await zip.add(`seg/${file}.dcm`, writeSeg({ source: source as SourceImageSeries, labels: data, segments, info, sopClass: req.segType }));
          }
          stats.files++;
          stats.objects++;
          wrote = true;
        }
      } else if (req.format === 'dicom-sr') {
        const items = srItems(objects, stats);
        if (items.length === 0) continue;
        await zip.add(`sr/${name}.dcm`, writeMeasurementReport({ source: source as SourceImageSeries, items, info }));
        stats.files++;
        stats.objects += items.length;
        wrote = true;
      } else {
        const rois = rtRois(objects, colorOf, stats);
        if (rois.length === 0) continue;
        await zip.add(`rtstruct/${name}.dcm`, writeRtStruct({ source: source as SourceImageSeries, rois, info, structureSetLabel: 'CALIPER' }));
        stats.files++;
        stats.objects += rois.reduce((n, r) => n + r.contours.length, 0);
        wrote = true;
      }
    }
    if (wrote) stats.assets++;
  }
  return stats;
}
