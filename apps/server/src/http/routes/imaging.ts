import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { HttpError } from '../../errors.js';
import * as imaging from '../../services/imaging.js';
import { getRun, listTaskRuns, receiveUpload, type IncomingFile } from '../../services/ingest/runs.js';
import { deidSettingsSchema, getDeidSettings, putDeidSettings } from '../../services/ingest/settings.js';
import { actorOf, idParams } from './common.js';
import { assetShape, items } from './shapes.js';

const runShape = z.object({
  id: z.string(),
  taskId: z.string(),
  state: z.enum(['queued', 'running', 'done', 'failed']),
  phase: z.string(),
  filesTotal: z.number().int(),
  filesDone: z.number().int(),
  bytesTotal: z.number(),
  bytesDone: z.number(),
  summary: z.record(z.string(), z.unknown()).describe('counts: assetsCreated, instancesStored, duplicates, rejected, flaggedBurnedIn, redacted, deid actions, series issues'),
  error: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const fileShape = z.object({
  index: z.number().int(),
  parentIndex: z.number().int().nullable(),
  name: z.string(),
  size: z.number(),
  status: z.enum(['pending', 'stored', 'duplicate', 'rejected', 'skipped', 'expanded']),
  kind: z.string().nullable(),
  detail: z.string().nullable(),
  assetId: z.string().nullable(),
  flags: z.array(z.string()),
});
const seriesShape = z.object({
  id: z.string(),
  seriesUid: z.string(),
  modality: z.string(),
  description: z.string(),
  number: z.number().nullable(),
  instanceCount: z.number().int(),
  assets: z.array(assetShape),
});
const studyShape = z.object({ id: z.string(), studyUid: z.string(), patientId: z.string(), studyDate: z.string(), description: z.string(), series: z.array(seriesShape) });
const frameParams = z.object({ id: z.string().min(1).max(100), index: z.coerce.number().int().min(0).max(1_000_000) });

export function imagingRoutes(root: FastifyInstance, deps: Deps) {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const user = { access: 'user' as const };

  app.post(
    '/api/tasks/:id/uploads',
    {
      config: user,
      schema: {
        tags: ['ingest'],
        params: idParams,
        description:
          'multipart/form-data with `file` parts (DICOM, NIfTI, PNG/TIFF/JPEG, text, or zip archives of these; a part’s filename may hold a relative folder path). Files are de-identified and ingested in the background; poll the returned run.',
        response: { 202: z.object({ run: runShape }) },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) throw new HttpError(415, 'Unsupported Media Type', 'Upload files as multipart/form-data.');
      const parts = request.parts();
      async function* files(): AsyncGenerator<IncomingFile> {
        for await (const part of parts) {
          if (part.type !== 'file') continue;
          if (part.fieldname !== 'file') {
            part.file.resume();
            continue;
          }
          yield { name: part.filename ?? '', stream: part.file };
        }
      }
      const run = await receiveUpload(deps, actorOf(request), request.params.id, files());
      return reply.code(202).send({ run });
    },
  );

  app.get('/api/tasks/:id/ingest-runs', { config: user, schema: { tags: ['ingest'], params: idParams, response: { 200: items(runShape) } } }, async (request) => ({
    items: await listTaskRuns(deps, actorOf(request), request.params.id),
  }));

  app.get('/api/ingest-runs/:id', { config: user, schema: { tags: ['ingest'], params: idParams, response: { 200: z.object({ run: runShape, files: z.array(fileShape) }) } } }, async (request) =>
    getRun(deps, actorOf(request), request.params.id),
  );

  app.get('/api/tasks/:id/studies', { config: user, schema: { tags: ['imaging'], params: idParams, response: { 200: items(studyShape) } } }, async (request) => ({
    items: await imaging.listTaskStudies(deps, actorOf(request), request.params.id),
  }));

  app.get(
    '/api/assets/:id/frames/:index',
    {
      config: user,
      schema: {
        tags: ['imaging'],
        params: frameParams,
        description:
          'One frame (slice) as raw little-endian samples of `metadata.imaging.dtype`, rows × columns × samples, sent gzip-encoded when the client accepts it. Immutable: cache by ETag.',
      },
    },
    async (request, reply) => {
      const etagIn = request.headers['if-none-match'];
      const acceptsGzip = /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
      const f = await imaging.openFrame(deps, actorOf(request), request.params.id, request.params.index, acceptsGzip);
      const etag = `"${f.sha256}"`;
      reply.header('etag', etag).header('cache-control', 'private, max-age=31536000, immutable').header('content-type', 'application/octet-stream').header('vary', 'accept-encoding');
      if (etagIn === etag) {
        (f.stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
        return reply.code(304).send();
      }
      if (f.gzip) reply.header('content-encoding', 'gzip').header('content-length', String(f.size));
      return reply.send(f.stream);
    },
  );

  app.get(
    '/api/assets/:id/frames',
    {
      config: user,
      schema: {
        tags: ['imaging'],
        params: idParams,
        querystring: z.object({ start: z.coerce.number().int().min(0), count: z.coerce.number().int().min(1).max(imaging.MAX_SLAB_FRAMES) }),
        description: `A slab: \`count\` consecutive frames from \`start\` (at most ${imaging.MAX_SLAB_FRAMES}), concatenated raw samples; \`x-frame-start\` and \`x-frame-count\` say which frames came (fewer at the end of the asset).`,
      },
    },
    async (request, reply) => {
      const slab = await imaging.openSlab(deps, actorOf(request), request.params.id, request.query.start, request.query.count);
      return reply
        .header('content-type', 'application/octet-stream')
        .header('content-length', String(slab.size))
        .header('x-frame-start', String(slab.first))
        .header('x-frame-count', String(slab.count))
        .header('cache-control', 'private, max-age=31536000, immutable')
        .send(slab.stream);
    },
  );

  app.get('/api/assets/:id/thumbnail', { config: user, schema: { tags: ['imaging'], params: idParams } }, async (request, reply) => {
    const t = await imaging.openThumbnail(deps, actorOf(request), request.params.id);
    return reply.header('content-type', 'image/png').header('etag', `"${t.sha256}"`).header('cache-control', 'private, max-age=31536000, immutable').send(t.stream);
  });

  app.get('/api/projects/:id/held-assets', { config: user, schema: { tags: ['imaging'], params: idParams, response: { 200: items(assetShape) } } }, async (request) => ({
    items: await imaging.listHeldAssets(deps, actorOf(request), request.params.id),
  }));

  app.post('/api/assets/:id/release', { config: user, schema: { tags: ['imaging'], params: idParams, response: { 200: assetShape } } }, async (request) =>
    imaging.releaseAsset(deps, actorOf(request), request.params.id),
  );

  app.get('/api/projects/:id/deid-settings', { config: user, schema: { tags: ['ingest'], params: idParams, response: { 200: deidSettingsSchema } } }, async (request) =>
    getDeidSettings(deps, actorOf(request), request.params.id),
  );

  app.put('/api/projects/:id/deid-settings', { config: user, schema: { tags: ['ingest'], params: idParams, body: deidSettingsSchema, response: { 200: deidSettingsSchema } } }, async (request) =>
    putDeidSettings(deps, actorOf(request), request.params.id, request.body),
  );
}
