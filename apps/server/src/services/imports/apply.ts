// Import: match each unit to an asset of the task, settle labels (refuse, map or create), check
// every object against the label schema, then — unless it is a dry run — write everything in
// ONE transaction: label-map rows, new document revisions, the schema change, the audit entry.
// A failure rolls it all back (label-map blobs stored on the way are collected again).
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { type AnnotationObject, type LabelSchema, parseLabelSchema, validateDocument } from '@caliper/core';
import { encodeLabelmap } from '@caliper/core/labelmap';
import { remapUid } from '@caliper/media';
import type { AssetsTable } from '../../db/schema.js';
import type { Actor, Deps } from '../../deps.js';
import { unprocessable } from '../../errors.js';
import { requireProject, requireTask } from '../../policy.js';
import { collectBlobs } from '../assets.js';
import { appendAudit } from '../audit.js';
import { type Grid, IMPORT_FORMATS, type ImportUnit, parseImport, type ResolvedLabelmap } from './parse.js';
import { ImportError, readImportUpload } from './read.js';

const bool = z.union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')]);

export const importOptionsSchema = z
  .object({
    format: z.enum(IMPORT_FORMATS),
    dryRun: bool.default(false),
    labels: z.enum(['refuse', 'create', 'map']).default('refuse').describe('unknown labels: refuse (skip those objects), create them in the schema, or map them with labelMap (then refuse the rest)'),
    labelMap: z.record(z.string().max(200), z.string().max(64)).optional().describe('{"their label": "our label"}'),
    mode: z.enum(['append', 'replace']).default('append').describe('append to the current annotations or replace them'),
    jobId: z.uuid().optional().describe('write into this job (default: the first annotation job holding the asset)'),
    mapping: z.record(z.string().max(1000), z.uuid()).optional().describe('{"file or image name": "asset id"} for names that do not match'),
  })
  .strict();
export type ImportOptions = z.output<typeof importOptionsSchema>;

export interface ImportReport {
  format: string;
  dryRun: boolean;
  files: number;
  units: number;
  matchedUnits: number;
  objects: number;
  labelmaps: number;
  assets: { assetId: string; assetName: string; jobId: string; objects: number; labelmaps: number; from: string[] }[];
  labels: { created: string[]; mapped: Record<string, string>; refused: string[] };
  skipped: { where: string; reason: string }[];
  skippedCount: number;
  revisions: { assetId: string; jobId: string; revision: number }[];
}

const PALETTE = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0', '#f032e6', '#bcf60c', '#fabebe', '#008080', '#e6beff'];

interface TaskIndex {
  assets: AssetsTable[];
  byId: Map<string, AssetsTable>;
  bySha: Map<string, AssetsTable>;
  byName: Map<string, AssetsTable>;
  bySop: Map<string, { asset: AssetsTable; k: number }>;
  bySeries: Map<string, AssetsTable[]>;
  sopsOf: Map<string, (string | null)[]>;
}

const nameKey = (s: string) => s.toLowerCase().replace(/\.(nii\.gz|nii|dcm|png|jpe?g|tiff?)$/i, '').trim();

async function indexTask(deps: Deps, taskId: string): Promise<TaskIndex> {
  const assets = await deps.db.selectFrom('assets').selectAll().where('task_id', '=', taskId).execute();
  const idx: TaskIndex = { assets, byId: new Map(), bySha: new Map(), byName: new Map(), bySop: new Map(), bySeries: new Map(), sopsOf: new Map() };
  const instanceOwner = new Map<string, { asset: AssetsTable; k: number }>();
  for (const a of assets) {
    idx.byId.set(a.id, a);
    idx.bySha.set(a.sha256, a);
    if (!idx.byName.has(a.name)) idx.byName.set(a.name, a);
    if (!idx.byName.has(nameKey(a.name))) idx.byName.set(nameKey(a.name), a);
    const meta = JSON.parse(a.metadata) as { instanceIds?: unknown };
    if (Array.isArray(meta.instanceIds)) meta.instanceIds.forEach((id, k) => typeof id === 'string' && instanceOwner.set(id, { asset: a, k }));
  }
  if (instanceOwner.size > 0) {
    const ids = [...instanceOwner.keys()];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await deps.db
        .selectFrom('dicom_instances')
        .innerJoin('dicom_series', 'dicom_series.id', 'dicom_instances.series_id')
        .select(['dicom_instances.id', 'dicom_instances.sop_instance_uid', 'dicom_series.series_uid'])
        .where('dicom_instances.id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) {
        const owner = instanceOwner.get(r.id)!;
        idx.bySop.set(r.sop_instance_uid, owner);
        const list = idx.bySeries.get(r.series_uid) ?? [];
        if (!list.includes(owner.asset)) list.push(owner.asset);
        idx.bySeries.set(r.series_uid, list);
        const sops = idx.sopsOf.get(owner.asset.id) ?? [];
        sops[owner.k] = r.sop_instance_uid;
        idx.sopsOf.set(owner.asset.id, sops);
      }
    }
  }
  return idx;
}

function gridOf(a: AssetsTable, idx: TaskIndex, storedUid: (uid: string) => string | null): Grid | null {
  const meta = JSON.parse(a.metadata) as { imaging?: { dims?: number[]; affineLps?: number[][] | null; kind?: string }; width?: number; height?: number };
  const dims = meta.imaging?.dims;
  if (dims && dims.length === 3) {
    const sops = idx.sopsOf.get(a.id) ?? [];
    return {
      width: dims[0]!,
      height: dims[1]!,
      slices: dims[2]!,
      cine: meta.imaging?.kind === 'cine',
      affineLps: meta.imaging?.affineLps ?? null,
      sopInstanceUids: Array.from({ length: dims[2]! }, (_, k) => sops[k] ?? null),
      storedUid,
    };
  }
  if (typeof meta.width === 'number' && typeof meta.height === 'number') return { width: meta.width, height: meta.height, slices: 1, cine: false, affineLps: null, sopInstanceUids: [], storedUid };
  return null;
}

function matchUnit(u: ImportUnit, idx: TaskIndex, opts: ImportOptions, storedUid: (uid: string) => string | null): AssetsTable | null {
  const m = u.match;
  const mapped = opts.mapping?.[u.where] ?? m.names?.map((n) => opts.mapping?.[n]).find(Boolean);
  if (mapped) return idx.byId.get(mapped) ?? null;
  if (m.assetId && idx.byId.has(m.assetId)) return idx.byId.get(m.assetId)!;
  if (m.sha256 && idx.bySha.has(m.sha256)) return idx.bySha.get(m.sha256)!;
  for (const uid of m.sopInstanceUids ?? []) {
    const s = storedUid(uid);
    if (s && idx.bySop.has(s)) return idx.bySop.get(s)!.asset;
  }
  for (const uid of m.seriesInstanceUids ?? []) {
    for (const cand of [uid, storedUid(uid)]) {
      const list = cand ? idx.bySeries.get(cand) : undefined;
      if (list && list.length === 1) return list[0]!;
    }
  }
  for (const n of m.names ?? []) {
    const hit = idx.byName.get(n) ?? idx.byName.get(nameKey(n));
    if (hit) return hit;
  }
  return null;
}

/** Which label an incoming name becomes, per the options; null = refused. */
function labelPolicy(schema: LabelSchema, opts: ImportOptions, report: ImportReport) {
  const byLower = new Map(schema.labels.map((l) => [l.name.toLowerCase(), l]));
  return (name: string, kind: AnnotationObject['kind']): string | null => {
    const target = opts.labelMap?.[name] ?? name;
    if (opts.labelMap?.[name]) report.labels.mapped[name] = target;
    const hit = byLower.get(target.toLowerCase());
    if (hit) {
      if (hit.kinds.includes(kind)) return hit.name;
      if (opts.labels === 'create') {
        hit.kinds.push(kind);
        if (!report.labels.created.includes(`${hit.name} (${kind})`)) report.labels.created.push(`${hit.name} (${kind})`);
        return hit.name;
      }
      if (!report.labels.refused.includes(`${hit.name} (${kind})`)) report.labels.refused.push(`${hit.name} (${kind})`);
      return null;
    }
    if (opts.labels === 'create' && target.trim() && target.length <= 64) {
      const label = { name: target.trim(), color: PALETTE[schema.labels.length % PALETTE.length]!, kinds: [kind], attributes: [] } as unknown as LabelSchema['labels'][number];
      schema.labels.push(label);
      byLower.set(label.name.toLowerCase(), label);
      report.labels.created.push(label.name);
      return label.name;
    }
    if (!report.labels.refused.includes(target)) report.labels.refused.push(target);
    return null;
  };
}

interface Planned {
  asset: AssetsTable;
  jobId: string;
  objects: AnnotationObject[];
  labelmaps: ResolvedLabelmap[];
  from: string[];
}

export async function runImport(deps: Deps, actor: Actor, taskId: string, optionsInput: unknown, upload: { fileName: string; stream: Readable }): Promise<ImportReport> {
  const { task } = await requireTask(deps.db, actor, taskId, 'task.read');
  await requireProject(deps.db, actor, task.project_id, 'data.import');
  const opts = importOptionsSchema.parse(optionsInput);
  const files = await readImportUpload(deps, upload.fileName, upload.stream);
  const project = await deps.db.selectFrom('projects').select(['label_schema']).where('id', '=', task.project_id).executeTakeFirstOrThrow();
  const schema = JSON.parse(project.label_schema) as LabelSchema;
  const workingSchema = structuredClone(schema);
  const parsed = parseImport(opts.format, files, schema);
  const report: ImportReport = {
    format: opts.format,
    dryRun: opts.dryRun,
    files: files.length,
    units: parsed.units.length,
    matchedUnits: 0,
    objects: 0,
    labelmaps: 0,
    assets: [],
    labels: { created: [], mapped: {}, refused: [] },
    skipped: [],
    skippedCount: 0,
    revisions: [],
  };
  const skip = (where: string, reason: string) => {
    report.skippedCount++;
    if (report.skipped.length < 500) report.skipped.push({ where, reason });
  };
  for (const s of parsed.skipped) skip(s.where, s.reason);

  const idx = await indexTask(deps, taskId);
  const storedUid = (uid: string): string | null => {
    if (idx.bySop.has(uid) || idx.bySeries.has(uid)) return uid;
    const r = remapUid(uid, deps.config.secret, task.project_id);
    return idx.bySop.has(r) || idx.bySeries.has(r) ? r : null;
  };
  const jobsOf = await jobsByAsset(deps, taskId, opts.jobId);
  const policy = labelPolicy(workingSchema, opts, report);
  const plans = new Map<string, Planned>();
  const now = deps.clock.now().toISOString();
  const source = `import:${opts.format}` as const;

  for (const u of parsed.units) {
    const asset = matchUnit(u, idx, opts, storedUid);
    if (!asset) {
      skip(u.where, 'no asset of this task matches it (by id, content, DICOM UID or file name); give an explicit mapping');
      continue;
    }
    const jobId = jobsOf.get(asset.id);
    if (!jobId) {
      skip(u.where, opts.jobId ? 'the asset is not in the chosen job' : 'the asset is in no job yet; create jobs first');
      continue;
    }
    const grid = gridOf(asset, idx, storedUid);
    if (!grid) {
      skip(u.where, 'the matched asset has no image grid');
      continue;
    }
    const r = u.resolve(grid);
    for (const s of r.skipped) skip(u.where, s);
    const plan = plans.get(asset.id) ?? { asset, jobId, objects: [], labelmaps: [], from: [] };
    let took = false;
    for (const o of r.objects) {
      const label = policy(o.label, o.kind);
      if (!label) {
        skip(u.where, `label "${o.label}" is not in the project's schema for ${o.kind} objects`);
        continue;
      }
      const full = {
        ...o,
        label,
        id: 'id' in o && typeof o.id === 'string' ? o.id : `imp-${randomUUID().slice(0, 13)}`,
        source,
        createdBy: 'createdBy' in o && typeof o.createdBy === 'string' ? o.createdBy : actor.id,
        createdAt: 'createdAt' in o && typeof o.createdAt === 'string' ? o.createdAt : now,
        updatedAt: now,
      } as AnnotationObject;
      plan.objects.push(full);
      took = true;
    }
    for (const lm of r.labelmaps) {
      const segments: { value: number; label: string }[] = [];
      for (const s of lm.segments) {
        const label = policy(s.label, 'labelmap');
        if (label) segments.push({ value: s.value, label });
        else skip(u.where, `segment "${s.label}" is not a label-map label of the project's schema`);
      }
      if (segments.length === 0) continue;
      const keep = new Set(segments.map((s) => s.value));
      if (keep.size < lm.segments.length) for (let i = 0; i < lm.data.length; i++) if (lm.data[i] && !keep.has(lm.data[i]!)) lm.data[i] = 0;
      plan.labelmaps.push({ data: lm.data, segments });
      took = true;
    }
    if (took) {
      report.matchedUnits++;
      if (plan.from.length < 5) plan.from.push(u.where);
      plans.set(asset.id, plan);
    }
  }

  // Check the new schema (created labels) and every document as it will be saved.
  let schemaText: string | null = null;
  if (report.labels.created.length > 0) {
    const checked = parseLabelSchema(workingSchema);
    if (!checked.ok) throw unprocessable(`The labels to create do not make a valid schema: ${checked.issues[0]?.message ?? ''}`);
    schemaText = JSON.stringify(checked.schema);
  }
  const heads = await currentDocs(deps, [...plans.values()]);
  const writes: { plan: Planned; base: number; objects: AnnotationObject[] }[] = [];
  for (const plan of plans.values()) {
    const head = heads.get(`${plan.jobId}/${plan.asset.id}`);
    const existing = opts.mode === 'append' && head ? (JSON.parse(head.document) as { objects: AnnotationObject[] }).objects : [];
    const ids = new Set(existing.map((o) => o.id));
    const incoming = plan.objects.map((o) => {
      if (!ids.has(o.id)) {
        ids.add(o.id);
        return o;
      }
      const id = `imp-${randomUUID().slice(0, 13)}`;
      ids.add(id);
      return { ...o, id };
    });
    // Validate objects one by one so one bad object is reported, not the whole asset.
    const good: AnnotationObject[] = [];
    for (const o of incoming) {
      const v = validateDocument({ objects: [o] }, workingSchema);
      if (v.ok || (o.kind === 'relation' || o.kind === 'transcript')) good.push(o);
      else skip(plan.from[0] ?? plan.asset.name, `object ${o.id} (${o.kind}): ${v.issues[0]?.message ?? 'invalid'}`);
    }
    const whole = validateDocument({ objects: [...existing, ...good] }, workingSchema);
    if (!whole.ok) {
      skip(plan.asset.name, `the annotations cannot be combined: ${whole.issues[0]?.message ?? ''}`);
      continue;
    }
    writes.push({ plan, base: head?.revision ?? 0, objects: [...existing, ...good] });
    report.objects += good.length;
    report.labelmaps += plan.labelmaps.length;
    report.assets.push({ assetId: plan.asset.id, assetName: plan.asset.name, jobId: plan.jobId, objects: good.length, labelmaps: plan.labelmaps.length, from: plan.from });
  }
  if (opts.dryRun) return report;
  if (writes.length === 0) return report;

  // Store label-map containers first (content-addressed; collected again if the transaction fails).
  const stored: string[] = [];
  const rows: { assetId: string; sha: string; shape: string; dtype: 'uint8' | 'uint16'; bytes: number }[] = [];
  try {
    for (const w of writes) {
      const [cols, rows_, slices] = gridDims(w.plan.asset);
      for (const lm of w.plan.labelmaps) {
        const dtype = lm.data instanceof Uint16Array ? 'uint16' : 'uint8';
        const per = cols * rows_;
        const bytes = encodeLabelmap({ shape: [cols, rows_, slices], dtype, slices: (k) => lm.data.subarray(k * per, (k + 1) * per) });
        const put = await deps.blobs.putBytes(bytes, { contentType: 'application/octet-stream' });
        if (put.created) stored.push(put.sha256);
        rows.push({ assetId: w.plan.asset.id, sha: put.sha256, shape: JSON.stringify([cols, rows_, slices]), dtype, bytes: bytes.length });
        const label = lm.segments[0]!.label;
        w.objects.push({
          id: `imp-${randomUUID().slice(0, 13)}`,
          kind: 'labelmap',
          label,
          attributes: {},
          source,
          createdBy: actor.id,
          createdAt: now,
          updatedAt: now,
          blob: put.sha256,
          shape: [cols, rows_, slices],
          segments: lm.segments,
        } as AnnotationObject);
      }
    }
    await deps.db.transaction().execute(async (trx) => {
      if (schemaText) await trx.updateTable('projects').set({ label_schema: schemaText, updated_at: now }).where('id', '=', task.project_id).execute();
      for (const r of rows) {
        await trx
          .insertInto('labelmap_blobs')
          .values({ asset_id: r.assetId, sha: r.sha, project_id: task.project_id, shape: r.shape, dtype: r.dtype, bytes: r.bytes, created_by: actor.id, created_at: now })
          .onConflict((oc) => oc.columns(['asset_id', 'sha']).doNothing())
          .execute();
      }
      for (const w of writes) {
        const text = JSON.stringify({ objects: w.objects });
        const revision = w.base + 1;
        if (w.base === 0) {
          await trx.insertInto('annotation_docs').values({ job_id: w.plan.jobId, asset_id: w.plan.asset.id, revision, object_count: w.objects.length, updated_at: now, updated_by: actor.id }).execute();
        } else {
          const res = await trx
            .updateTable('annotation_docs')
            .set({ revision, object_count: w.objects.length, updated_at: now, updated_by: actor.id })
            .where('job_id', '=', w.plan.jobId)
            .where('asset_id', '=', w.plan.asset.id)
            .where('revision', '=', w.base)
            .executeTakeFirst();
          if (Number(res.numUpdatedRows) !== 1) throw new ImportError('Annotations of a matched asset changed during the import; nothing was imported. Run it again.', 409);
        }
        await trx
          .insertInto('annotation_revisions')
          .values({ job_id: w.plan.jobId, asset_id: w.plan.asset.id, revision, document: text, object_count: w.objects.length, bytes: Buffer.byteLength(text), created_at: now, created_by: actor.id })
          .execute();
        report.revisions.push({ assetId: w.plan.asset.id, jobId: w.plan.jobId, revision });
      }
      await appendAudit(trx, deps.dbKind, deps.clock, {
        actorId: actor.id,
        action: 'annotation.import',
        targetType: 'task',
        targetId: taskId,
        ip: actor.ip,
        details: { format: opts.format, assets: writes.length, objects: report.objects, labelmaps: report.labelmaps, skipped: report.skippedCount, labelsCreated: report.labels.created.length },
      });
    });
  } catch (err) {
    report.revisions = [];
    await collectBlobs(deps, stored);
    throw err;
  }
  return report;
}

function gridDims(a: AssetsTable): [number, number, number] {
  const meta = JSON.parse(a.metadata) as { imaging?: { dims?: [number, number, number] } };
  const d = meta.imaging?.dims;
  if (!d) throw new ImportError('A label map can only be imported onto an imaging asset.');
  return d;
}

async function jobsByAsset(deps: Deps, taskId: string, jobId: string | undefined): Promise<Map<string, string>> {
  let q = deps.db
    .selectFrom('job_assets')
    .innerJoin('jobs', 'jobs.id', 'job_assets.job_id')
    .select(['job_assets.asset_id', 'jobs.id', 'jobs.stage', 'jobs.created_at'])
    .where('jobs.task_id', '=', taskId);
  if (jobId) q = q.where('jobs.id', '=', jobId);
  const rows = await q.execute();
  const rank = (s: string) => (s === 'annotation' ? 0 : s === 'review' ? 1 : 2);
  rows.sort((a, b) => rank(a.stage) - rank(b.stage) || a.created_at.localeCompare(b.created_at));
  const out = new Map<string, string>();
  for (const r of rows) if (!out.has(r.asset_id)) out.set(r.asset_id, r.id);
  return out;
}

async function currentDocs(deps: Deps, plans: Planned[]) {
  const out = new Map<string, { revision: number; document: string }>();
  for (let i = 0; i < plans.length; i += 200) {
    const batch = plans.slice(i, i + 200);
    const rows = await deps.db
      .selectFrom('annotation_docs as d')
      .innerJoin('annotation_revisions as r', (j) => j.onRef('r.job_id', '=', 'd.job_id').onRef('r.asset_id', '=', 'd.asset_id').onRef('r.revision', '=', 'd.revision'))
      .select(['d.job_id', 'd.asset_id', 'd.revision', 'r.document'])
      .where('d.asset_id', 'in', batch.map((p) => p.asset.id))
      .execute();
    for (const r of rows) out.set(`${r.job_id}/${r.asset_id}`, { revision: r.revision, document: r.document });
  }
  return out;
}
