import { createHash, randomUUID } from 'node:crypto';
import type { DicomInstance, DeidSettings, RedactionRule } from '@caliper/media';
import type { Deps } from '../../deps.js';
import { decodedFrames } from './decode.js';
import { dtypeOf, type FrameDtype, putBytes, storeFrames, type StoredFrame } from './frames.js';
import { IngestError } from './errors.js';

/** What we keep of a de-identified instance's header (no identifying attribute is among these). */
export interface InstanceHeader {
  sopClassUid: string;
  modality: string;
  rows: number;
  columns: number;
  bitsAllocated: number | null;
  bitsStored: number | null;
  pixelRepresentation: number | null;
  samplesPerPixel: number;
  photometric: string;
  numberOfFrames: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  windowCenter: number[];
  windowWidth: number[];
  imagePositionPatient: [number, number, number] | null;
  imageOrientationPatient: [number, number, number, number, number, number] | null;
  pixelSpacing: [number, number] | null;
  instanceNumber: number | null;
  imageType: string[];
  transferSyntax: string;
  hasPixelData: boolean;
  burnedIn: boolean;
  redacted: boolean;
  referencedSeriesUids: string[];
  /** The decoded frames, stored when the file was ingested (image objects only). */
  frames?: StoredFrame[];
  frameDtype?: FrameDtype;
  frameSamples?: 1 | 3;
}

/** SOP classes kept as non-image objects linked to their source series. */
const OBJECT_CLASS_PREFIXES: [string, string][] = [
  ['1.2.840.10008.5.1.4.1.1.66', 'Segmentation / registration / surface'],
  ['1.2.840.10008.5.1.4.1.1.481.2', 'RT Dose'],
  ['1.2.840.10008.5.1.4.1.1.481.3', 'RT Structure Set'],
  ['1.2.840.10008.5.1.4.1.1.481.5', 'RT Plan'],
  ['1.2.840.10008.5.1.4.1.1.481.', 'RT object'],
  ['1.2.840.10008.5.1.4.1.1.88.', 'Structured Report'],
  ['1.2.840.10008.5.1.4.1.1.9.', 'Waveform'],
  ['1.2.840.10008.5.1.4.1.1.11.', 'Presentation State'],
  ['1.2.840.10008.5.1.4.1.1.104.', 'Encapsulated document'],
  ['1.2.840.10008.5.1.4.1.1.30', 'Parametric Map'],
];
const RT_IMAGE = '1.2.840.10008.5.1.4.1.1.481.1';
const SEG = '1.2.840.10008.5.1.4.1.1.66.4';

export function objectClassName(header: InstanceHeader): string | null {
  if (header.sopClassUid === SEG) return 'Segmentation';
  if (header.sopClassUid === RT_IMAGE) return null;
  const hit = OBJECT_CLASS_PREFIXES.find(([prefix]) => header.sopClassUid.startsWith(prefix));
  if (hit) return hit[1];
  if (!header.hasPixelData || header.rows === 0 || header.columns === 0) return 'Non-image object';
  return null;
}

type Ds = DicomInstance['dataSet'];

/** Series Instance UIDs referenced anywhere inside sequences (SEG, RTSTRUCT, SR reference their sources so). */
function referencedSeries(ds: Ds, out: Set<string>, depth = 0) {
  if (depth > 8) return;
  for (const [tag, el] of Object.entries(ds.elements)) {
    if (depth > 0 && tag === 'x0020000e') {
      const v = ds.string(tag);
      if (v) out.add(v.trim());
    }
    for (const item of el.items ?? []) if (item.dataSet) referencedSeries(item.dataSet, out, depth + 1);
  }
}

function numbers(s: string | undefined): number[] {
  if (!s) return [];
  return s
    .split('\\')
    .map((x) => Number(x.trim()))
    .filter((x) => Number.isFinite(x));
}

export function headerOf(inst: DicomInstance, burnedIn: boolean, redacted: boolean): InstanceHeader {
  const refs = new Set<string>();
  referencedSeries(inst.dataSet, refs);
  if (inst.seriesInstanceUID) refs.delete(inst.seriesInstanceUID);
  const instanceNumber = numbers(inst.getString('x00200013'))[0];
  return {
    sopClassUid: inst.sopClassUID ?? '',
    modality: inst.modality ?? 'OT',
    rows: inst.rows ?? 0,
    columns: inst.columns ?? 0,
    bitsAllocated: inst.bitsAllocated ?? null,
    bitsStored: inst.bitsStored ?? null,
    pixelRepresentation: inst.pixelRepresentation ?? null,
    samplesPerPixel: inst.samplesPerPixel ?? 1,
    photometric: inst.photometricInterpretation ?? 'MONOCHROME2',
    numberOfFrames: inst.numberOfFrames ?? 1,
    rescaleSlope: inst.rescaleSlope ?? 1,
    rescaleIntercept: inst.rescaleIntercept ?? 0,
    windowCenter: [...inst.windowCenter],
    windowWidth: [...inst.windowWidth],
    imagePositionPatient: inst.imagePositionPatient ? [...inst.imagePositionPatient] : null,
    imageOrientationPatient: inst.imageOrientationPatient ? [...inst.imageOrientationPatient] : null,
    pixelSpacing: inst.pixelSpacing ? [...inst.pixelSpacing] : null,
    instanceNumber: instanceNumber ?? null,
    imageType: (inst.getString('x00080008') ?? '').split('\\').map((s) => s.trim()).filter(Boolean),
    transferSyntax: inst.transferSyntaxUID,
    hasPixelData: inst.hasPixelData,
    burnedIn,
    redacted,
    referencedSeriesUids: [...refs],
  };
}

/** A valid, stable UID for an object that lacks its study or series UID. */
function standInUid(sop: string, what: string): string {
  return `2.25.${BigInt(`0x${createHash('sha256').update(`${sop}:${what}`).digest('hex').slice(0, 30)}`).toString()}`;
}

export interface DicomFileResult {
  status: 'stored' | 'duplicate';
  detail: string | null;
  flags: string[];
  seriesId: string;
  instanceId: string;
  deid: Record<string, number>;
  redacted: boolean;
}

export interface ProjectDeid {
  settings: Partial<DeidSettings>;
  redactions: RedactionRule[];
}

/**
 * De-identifies one DICOM file in memory and records the de-identified instance. The raw bytes
 * never leave this function: only the de-identified object is stored, and only attributes read
 * from it reach the database.
 */
export async function ingestDicomBytes(deps: Deps, run: { project_id: string; task_id: string }, raw: Uint8Array, deid: ProjectDeid): Promise<DicomFileResult> {
  const media = await import('@caliper/media');
  // Structure check on the original first: a truncated or corrupt file is refused whole (the
  // de-identifier tolerates damage that would leave a cut-off object behind).
  media.readDicom(raw);
  const result = media.deidentifyDicom(raw, { secret: deps.config.secret, projectId: run.project_id, settings: deid.settings });
  let bytes = result.bytes;
  let redacted = false;
  if (deid.redactions.length > 0) {
    const r = await media.redactDicom(bytes, deid.redactions);
    if (r.applied > 0) {
      bytes = r.bytes;
      redacted = true;
    }
  }
  const inst = media.readDicom(bytes);
  const flags: string[] = [];
  if (result.burnedIn.flagged) flags.push('burned-in');
  if (redacted) flags.push('redacted');
  const header = headerOf(inst, result.burnedIn.flagged, redacted);
  const sop = inst.sopInstanceUID;
  if (!sop) throw new media.DicomError('The DICOM object has no SOP Instance UID.');
  // Objects without study/series UIDs (allowed in some test objects) get stable stand-ins.
  const studyUid = inst.studyInstanceUID ?? standInUid(sop, 'study');
  const seriesUid = inst.seriesInstanceUID ?? standInUid(sop, 'series');
  const deidCounts = Object.fromEntries(Object.entries(result.report).filter(([, v]) => typeof v === 'number')) as Record<string, number>;

  const seen = await deps.db.selectFrom('dicom_instances').select(['id', 'series_id']).where('project_id', '=', run.project_id).where('sop_instance_uid', '=', sop).executeTakeFirst();
  if (seen) return { status: 'duplicate', detail: 'This SOP Instance is already stored in the project; kept once.', flags, seriesId: seen.series_id, instanceId: seen.id, deid: deidCounts, redacted };

  // Image objects are decoded now, once: a frame that cannot be decoded refuses the file here,
  // and the series build later only arranges the stored frames.
  if (objectClassName(header) === null) {
    let decoded: Awaited<ReturnType<typeof decodedFrames>>;
    try {
      decoded = await decodedFrames(inst);
    } catch (err) {
      const why = err instanceof Error && (err.name === 'DicomError' || err.name === 'RasterError') ? err.message : 'unexpected decoder error';
      throw new IngestError(`The pixel data could not be decoded: ${why}`);
    }
    if (decoded.frames.length > 0) {
      header.frameDtype = dtypeOf(decoded.frames[0]!);
      header.frameSamples = decoded.samples;
      header.frames = await storeFrames(deps, decoded.frames);
    }
  }
  const blob = await putBytes(deps, bytes, 'application/dicom');
  const now = deps.clock.now().toISOString();
  // Files of one series are ingested concurrently: two may create its study/series row at the
  // same moment; the loser of that race (a unique violation) simply tries again.
  for (let attempt = 0; ; attempt++) {
  try {
    return await deps.db.transaction().execute(async (trx) => {
      let study = await trx.selectFrom('dicom_studies').select('id').where('project_id', '=', run.project_id).where('study_uid', '=', studyUid).executeTakeFirst();
      if (!study) {
        study = { id: randomUUID() };
        await trx
          .insertInto('dicom_studies')
          .values({ id: study.id, project_id: run.project_id, study_uid: studyUid, patient_id: inst.getString('x00100020') ?? '', study_date: inst.getString('x00080020') ?? '', description: inst.getString('x00081030') ?? '', created_at: now })
          .execute();
      }
      let series = await trx.selectFrom('dicom_series').select('id').where('project_id', '=', run.project_id).where('series_uid', '=', seriesUid).executeTakeFirst();
      if (!series) {
        series = { id: randomUUID() };
        const number = numbers(inst.getString('x00200011'))[0];
        await trx
          .insertInto('dicom_series')
          .values({ id: series.id, project_id: run.project_id, task_id: run.task_id, study_id: study.id, series_uid: seriesUid, modality: header.modality, description: inst.getString('x0008103e') ?? '', number: number ?? null, created_at: now })
          .execute();
      }
      const instanceId = randomUUID();
      await trx
        .insertInto('dicom_instances')
        .values({ id: instanceId, project_id: run.project_id, series_id: series.id, sop_instance_uid: sop, sop_class_uid: header.sopClassUid, instance_number: header.instanceNumber, sha256: blob.sha256, size: blob.size, header: JSON.stringify(header), created_at: now })
        .execute();
      return { status: 'stored' as const, detail: null, flags, seriesId: series.id, instanceId, deid: deidCounts, redacted };
    });
  } catch (err) {
    // A concurrent run stored the same instance first: report it as a duplicate.
    const raced = await deps.db.selectFrom('dicom_instances').select(['id', 'series_id', 'sha256']).where('project_id', '=', run.project_id).where('sop_instance_uid', '=', sop).executeTakeFirst();
    if (raced) return { status: 'duplicate', detail: 'This SOP Instance is already stored in the project; kept once.', flags, seriesId: raced.series_id, instanceId: raced.id, deid: deidCounts, redacted };
    if (attempt < 3 && isUniqueViolation(err)) continue;
    throw err;
  }
  }
}

function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}
