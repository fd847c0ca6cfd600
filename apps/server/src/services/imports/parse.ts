// Import formats → units: each unit names how it matches an asset (id, content hash, file name,
// DICOM UIDs) and resolves its objects and label maps against the matched asset's grid.
import path from 'node:path';
import { type AnnotationObject, type LabelSchema } from '@caliper/core';
import { type ImportedObject, parseCoco, parseCvatXml, parseSliceImageName, parseVocXml, parseYoloDataYaml, parseYoloLabelText, type ParsedDataset } from '@caliper/core/formats';
import { matchVolumeGeometry, applyVoxelMapping } from '@caliper/core';
import { decodeLabelmap } from '@caliper/core/labelmap';
import { parseItkSnapLabelFile, readNifti, readSeg, segToLabelmap, type ParsedSeg } from '@caliper/media';
import { caliperFileSchema } from '../caliper-format.js';
import { ImportError, type ImportFile } from './read.js';

export const IMPORT_FORMATS = ['coco', 'yolo', 'voc', 'cvat', 'nifti', 'dicom-seg', 'caliper'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** The matched asset as a unit resolves against it. */
export interface Grid {
  width: number;
  height: number;
  slices: number;
  cine: boolean;
  affineLps: number[][] | null;
  /** Stored SOP Instance UID of each slice (DICOM series), else empty. */
  sopInstanceUids: (string | null)[];
  /** Maps a UID from the source system to the stored one (the ingest's remapping), when known. */
  storedUid: (uid: string) => string | null;
}

export interface ResolvedLabelmap {
  data: Uint8Array | Uint16Array;
  segments: { value: number; label: string }[];
}

export interface Resolved {
  objects: (ImportedObject | AnnotationObject)[];
  labelmaps: ResolvedLabelmap[];
  skipped: string[];
}

export interface ImportUnit {
  where: string;
  match: { assetId?: string; sha256?: string; names?: string[]; sopInstanceUids?: string[]; seriesInstanceUids?: string[]; index?: number };
  resolve(grid: Grid): Resolved;
}

export interface ParsedImport {
  units: ImportUnit[];
  skipped: { where: string; reason: string }[];
}

const text = (f: ImportFile) => new TextDecoder('utf-8', { fatal: false }).decode(f.bytes);
const ext = (name: string) => name.toLowerCase();

/** Sets the slice (or frame) an image of a volume stands for on each 2D object. */
function onPlane(objects: ImportedObject[], grid: Grid, index: number | undefined): Resolved {
  if (grid.slices === 1) return { objects, labelmaps: [], skipped: [] };
  if (index === undefined) return { objects: [], labelmaps: [], skipped: ['the image name does not say which slice of the volume it is (expected "<asset>/slice_0042.png")'] };
  if (index < 0 || index >= grid.slices) return { objects: [], labelmaps: [], skipped: [`slice ${index} is outside the volume (0–${grid.slices - 1})`] };
  const key = grid.cine ? 'frame' : 'slice';
  return {
    objects: objects.map((o) => {
      if (o.kind === 'tag') return { ...o, scope: grid.cine ? { type: 'frame' as const, frame: index } : { type: 'slice' as const, k: index } };
      return { ...o, [key]: index } as ImportedObject;
    }),
    labelmaps: [],
    skipped: [],
  };
}

function datasetUnits(ds: ParsedDataset, where: string): ParsedImport {
  const units: ImportUnit[] = ds.images.map((img) => {
    const n = parseSliceImageName(img.fileName);
    const index = n.slice ?? n.frame;
    return {
      where: img.fileName,
      match: { names: [n.assetName, img.fileName], ...(index !== undefined ? { index } : {}) },
      resolve: (grid) => onPlane(img.objects, grid, index),
    };
  });
  return { units, skipped: ds.skipped.map((s) => ({ where: `${where}: ${s.where}`, reason: s.reason })) };
}

function parseJson(f: ImportFile, format: string): unknown {
  try {
    return JSON.parse(text(f));
  } catch {
    throw new ImportError(`${f.name} is not valid JSON, so it cannot be read as ${format}.`);
  }
}

/** Label-map voxels with their segment table; integer values only. */
function labelValues(data: ArrayLike<number>, names: Map<number, string>): ResolvedLabelmap | string {
  const seen = new Set<number>();
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v === 0) continue;
    if (!Number.isInteger(v) || v < 0 || v > 65535) return 'the label map holds values that are not labels (non-integer, negative or above 65535)';
    seen.add(v);
    if (v > max) max = v;
  }
  const out = max > 255 ? new Uint16Array(data.length) : new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]!;
  const segments = [...seen].sort((a, b) => a - b).map((v) => ({ value: v, label: names.get(v) ?? `Segment ${v}` }));
  return { data: out, segments };
}

function niftiUnits(files: ImportFile[]): ParsedImport {
  const names = new Map<number, string>();
  const table = files.find((f) => /(^|\/)labels\.json$/i.test(f.name));
  const itk = files.find((f) => /(^|\/)labels\.txt$/i.test(f.name));
  if (table) {
    const j = parseJson(table, 'a segment table') as { segments?: { value?: unknown; label?: unknown }[] };
    for (const s of j.segments ?? []) if (typeof s.value === 'number' && typeof s.label === 'string') names.set(s.value, s.label);
  } else if (itk) {
    for (const s of parseItkSnapLabelFile(text(itk))) if (s.value > 0) names.set(s.value, s.label);
  }
  const units: ImportUnit[] = [];
  const skipped: ParsedImport['skipped'] = [];
  for (const f of files) {
    if (!/\.nii(\.gz)?$/i.test(f.name)) continue;
    if (/(^|\/)images\//i.test(f.name)) continue; // the images of a Caliper NIfTI export
    let vol;
    try {
      vol = readNifti([{ name: path.basename(f.name), bytes: f.bytes }]);
    } catch (err) {
      skipped.push({ where: f.name, reason: err instanceof Error && err.name === 'NiftiError' ? err.message : 'not a readable NIfTI file' });
      continue;
    }
    if (vol.dims.length < 3 || vol.volumes !== 1) {
      skipped.push({ where: f.name, reason: 'a label map must be one 3D volume' });
      continue;
    }
    const base = path.basename(f.name).replace(/\.nii(\.gz)?$/i, '');
    const candidates = [base, base.replace(/__.*$/, ''), base.replace(/[_.-](seg|label|labels|mask)$/i, '')];
    const dims = [vol.dims[0]!, vol.dims[1]!, vol.dims[2]!] as [number, number, number];
    units.push({
      where: f.name,
      match: { names: [...new Set(candidates)] },
      resolve: (grid) => {
        if (!grid.affineLps) return { objects: [], labelmaps: [], skipped: ['the asset has no patient geometry to place a label map on'] };
        const m = matchVolumeGeometry({ dims, affineLps: vol.affineLps }, { dims: [grid.width, grid.height, grid.slices], affineLps: grid.affineLps }, 0.01);
        if (!m.ok) return { objects: [], labelmaps: [], skipped: [m.reason] };
        const lv = labelValues(vol.getVolume(0) as ArrayLike<number>, names);
        if (typeof lv === 'string') return { objects: [], labelmaps: [], skipped: [lv] };
        return { objects: [], labelmaps: [{ ...lv, data: applyVoxelMapping(lv.data, dims, m.mapping) }], skipped: [] };
      },
    });
  }
  return { units, skipped };
}

function segUnits(files: ImportFile[]): ParsedImport {
  const units: ImportUnit[] = [];
  const skipped: ParsedImport['skipped'] = [];
  for (const f of files) {
    if (!/\.dcm$/i.test(f.name) && files.length > 1) continue;
    let seg: ParsedSeg;
    try {
      seg = readSeg(f.bytes);
    } catch (err) {
      skipped.push({ where: f.name, reason: err instanceof Error && err.name === 'SegError' ? err.message : 'not a readable DICOM SEG object' });
      continue;
    }
    const refs = seg.frames.flatMap((fr) => (fr.referencedSopInstanceUid ? [fr.referencedSopInstanceUid] : []));
    units.push({
      where: f.name,
      match: { seriesInstanceUids: seg.referencedSeriesUids, sopInstanceUids: [...new Set(refs)] },
      resolve: (grid) => {
        if (!grid.affineLps) return { objects: [], labelmaps: [], skipped: ['the asset has no patient geometry to place a segmentation on'] };
        const frames = seg.frames.map((fr) => ({ ...fr, referencedSopInstanceUid: fr.referencedSopInstanceUid ? grid.storedUid(fr.referencedSopInstanceUid) : null }));
        const r = segToLabelmap({ ...seg, frames }, { dims: [grid.width, grid.height, grid.slices], affineLps: grid.affineLps, sopInstanceUids: grid.sopInstanceUids });
        const notes = r.skipped.map((s) => `frame ${s.frame}: ${s.reason}`);
        if (r.placedFrames === 0) return { objects: [], labelmaps: [], skipped: notes.length ? notes : ['no frame of the segmentation lies on this image'] };
        return { objects: [], labelmaps: [{ data: r.labels, segments: r.segments.map((s) => ({ value: s.value, label: s.label })) }], skipped: notes };
      },
    });
  }
  return { units, skipped };
}

function caliperUnits(files: ImportFile[]): ParsedImport {
  const main = files.find((f) => /(^|\/)annotations\.json$/i.test(f.name)) ?? files.find((f) => ext(f.name).endsWith('.json'));
  if (!main) throw new ImportError('A Caliper import needs annotations.json (the zip of a Caliper export).');
  const parsed = caliperFileSchema.safeParse(parseJson(main, 'Caliper JSON'));
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new ImportError(`${main.name} is not a Caliper export (version 1): ${i.path.join('.')}: ${i.message}`);
  }
  const blobs = new Map(files.filter((f) => f.name.endsWith('.clm')).map((f) => [path.basename(f.name, '.clm'), f.bytes]));
  const units: ImportUnit[] = parsed.data.assets.flatMap((a) =>
    a.documents.map((d) => ({
      where: `${a.name} (${d.jobName})`,
      match: { assetId: a.id, sha256: a.sha256, names: [a.name], ...(a.dicom ? { sopInstanceUids: a.dicom.sopInstanceUids } : {}) },
      resolve: (grid: Grid): Resolved => {
        const objects: AnnotationObject[] = [];
        const labelmaps: ResolvedLabelmap[] = [];
        const skipped: string[] = [];
        for (const o of d.document.objects as unknown as AnnotationObject[]) {
          if (o.kind !== 'labelmap') {
            objects.push(o);
            continue;
          }
          const bytes = blobs.get(o.blob);
          if (!bytes) {
            skipped.push(`label map ${o.id}: its container labelmaps/${o.blob}.clm is missing from the zip`);
            continue;
          }
          let lm;
          try {
            lm = decodeLabelmap(bytes);
          } catch (err) {
            skipped.push(`label map ${o.id}: ${err instanceof Error ? err.message : 'unreadable container'}`);
            continue;
          }
          if (lm.shape[0] !== grid.width || lm.shape[1] !== grid.height || lm.shape[2] !== grid.slices) {
            skipped.push(`label map ${o.id}: shape ${lm.shape.join('×')} does not match the image ${grid.width}×${grid.height}×${grid.slices}`);
            continue;
          }
          labelmaps.push({ data: lm.data, segments: o.segments });
        }
        return { objects, labelmaps, skipped };
      },
    })),
  );
  return { units, skipped: [] };
}

function yoloUnits(files: ImportFile[]): ParsedImport {
  const yaml = files.find((f) => /(^|\/)data\.ya?ml$/i.test(f.name));
  const namesFile = files.find((f) => /(^|\/)(obj|classes)\.names$/i.test(f.name) || /(^|\/)classes\.txt$/i.test(f.name));
  let names: string[];
  if (yaml) names = parseYoloDataYaml(text(yaml));
  else if (namesFile) names = text(namesFile).split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  else throw new ImportError('A YOLO import needs data.yaml (or obj.names / classes.txt) for the class names.');
  const units: ImportUnit[] = [];
  for (const f of files) {
    if (!f.name.toLowerCase().endsWith('.txt') || f === namesFile || /(^|\/)(train|val|test)\.txt$/i.test(f.name)) continue;
    const rel = f.name.replace(/^(.*\/)?labels\//, '').replace(/\.txt$/i, '.png');
    const n = parseSliceImageName(rel);
    const index = n.slice ?? n.frame;
    const body = text(f);
    units.push({
      where: f.name,
      match: { names: [n.assetName, rel], ...(index !== undefined ? { index } : {}) },
      resolve: (grid) => {
        const r = parseYoloLabelText(body, { width: grid.width, height: grid.height }, names);
        const placed = onPlane(r.objects, grid, index);
        return { ...placed, skipped: [...placed.skipped, ...r.skipped.map((s) => `${s.where}: ${s.reason}`)] };
      },
    });
  }
  return { units, skipped: [] };
}

/** Reads the files of an import in the given format. Malformed input → ImportError / FormatError (422). */
export function parseImport(format: ImportFormat, files: ImportFile[], _schema: LabelSchema): ParsedImport {
  switch (format) {
    case 'coco': {
      const jsons = files.filter((f) => ext(f.name).endsWith('.json'));
      if (jsons.length === 0) throw new ImportError('A COCO import needs a .json annotation file.');
      const all: ParsedImport = { units: [], skipped: [] };
      for (const j of jsons) {
        const p = datasetUnits(parseCoco(parseJson(j, 'COCO')), j.name);
        all.units.push(...p.units);
        all.skipped.push(...p.skipped);
      }
      return all;
    }
    case 'cvat': {
      const xml = files.filter((f) => ext(f.name).endsWith('.xml'));
      if (xml.length === 0) throw new ImportError('A CVAT import needs annotations.xml.');
      const all: ParsedImport = { units: [], skipped: [] };
      for (const x of xml) {
        const p = datasetUnits(parseCvatXml(text(x)), x.name);
        all.units.push(...p.units);
        all.skipped.push(...p.skipped);
      }
      return all;
    }
    case 'voc': {
      const xml = files.filter((f) => ext(f.name).endsWith('.xml'));
      if (xml.length === 0) throw new ImportError('A Pascal VOC import needs Annotations/*.xml files.');
      return datasetUnits({ images: xml.map((x) => parseVocXml(text(x))), labels: [], skipped: [] }, 'VOC');
    }
    case 'yolo':
      return yoloUnits(files);
    case 'nifti':
      return niftiUnits(files);
    case 'dicom-seg':
      return segUnits(files);
    case 'caliper':
      return caliperUnits(files);
  }
}
