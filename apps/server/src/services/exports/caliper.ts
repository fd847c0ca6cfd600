// The Caliper format: lossless, every object kind, every selected document with its job and
// revision, label maps as their stored CLM1 containers. The format of record for backups and
// moves between Caliper instances (schema: ../caliper-format.ts).
import { CALIPER_FORMAT_VERSION } from '../caliper-format.js';
import { readAllBytes } from '../../blob/index.js';
import { assetsInScope } from './collect.js';
import { type ExportContext, type ExportStats, newStats } from './write.js';

export async function writeCaliper(ctx: ExportContext): Promise<ExportStats> {
  const { deps, req, zip } = ctx;
  const stats = newStats();
  const labelmaps = new Map<string, string>();
  async function* text(): AsyncGenerator<string> {
    const head = {
      format: 'caliper',
      version: CALIPER_FORMAT_VERSION,
      exportedAt: deps.clock.now().toISOString(),
      project: { id: ctx.project.id, name: ctx.project.name, labelSchema: ctx.schema },
    };
    yield JSON.stringify(head).slice(0, -1) + ',"assets":[';
    let first = true;
    let done = 0;
    for await (const a of assetsInScope(deps, ctx.project.id, req)) {
      await ctx.progress(done++, 'writing');
      if (a.docs.length === 0) continue;
      const ids = Array.isArray(a.metadata.instanceIds) ? (a.metadata.instanceIds as string[]) : [];
      let dicom: { seriesInstanceUid: string | null; sopInstanceUids: string[] } | null = null;
      if (ids.length > 0) {
        const rows = await deps.db
          .selectFrom('dicom_instances')
          .innerJoin('dicom_series', 'dicom_series.id', 'dicom_instances.series_id')
          .select(['dicom_instances.id', 'dicom_instances.sop_instance_uid', 'dicom_series.series_uid'])
          .where('dicom_instances.id', 'in', ids)
          .execute();
        const byId = new Map(rows.map((r) => [r.id, r]));
        dicom = { seriesInstanceUid: rows[0]?.series_uid ?? null, sopInstanceUids: ids.flatMap((id) => (byId.get(id) ? [byId.get(id)!.sop_instance_uid] : [])) };
      }
      const documents = a.docs.map((d) => ({
        ...d,
        document: req.annotator === 'consensus' ? { ...d.document, objects: d.document.objects.filter((o) => o.source === 'consensus') } : d.document,
      }));
      for (const d of documents) {
        for (const o of d.document.objects) {
          stats.objects++;
          if (o.kind === 'labelmap') labelmaps.set(o.blob, a.row.id);
        }
      }
      const asset = {
        id: a.row.id,
        name: a.row.name,
        taskId: a.row.task_id,
        sha256: a.row.sha256,
        mediaType: a.row.media_type,
        modality: a.row.modality,
        dims: a.imaging?.dims ?? null,
        dicom,
        documents,
      };
      yield (first ? '' : ',') + JSON.stringify(asset);
      first = false;
      stats.assets++;
    }
    yield `],"labelmaps":${JSON.stringify([...labelmaps].map(([sha, assetId]) => ({ sha, assetId, path: `labelmaps/${sha}.clm` })))}}`;
  }
  await zip.addStream('annotations.json', text());
  stats.files++;
  for (const sha of labelmaps.keys()) {
    await zip.add(`labelmaps/${sha}.clm`, await readAllBytes(await deps.blobs.get(sha)), false);
    stats.files++;
  }
  return stats;
}
