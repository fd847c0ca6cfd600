import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { badRequest, HttpError } from '../../errors.js';
import { exportRequestSchema } from '../../services/exports/collect.js';
import { createExport, getExport, listExports, openExportDownload } from '../../services/exports/runs.js';
import { importOptionsSchema, runImport } from '../../services/imports/apply.js';
import { ImportError } from '../../services/imports/read.js';
import { actorOf, idParams } from './common.js';

const importQuery = importOptionsSchema.omit({ labelMap: true, mapping: true }).extend({
  labelMap: z.string().max(100_000).optional().describe('JSON object {"their label": "our label"}'),
  mapping: z.string().max(1_000_000).optional().describe('JSON object {"file or image name": "asset id"}'),
});

function jsonParam(name: string, value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw badRequest(`${name} must be a JSON object.`);
  }
}

/** Dataset exports (background jobs → zip) and annotation imports; see docs/formats.md. */
export function exchangeRoutes(root: FastifyInstance, deps: Deps) {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const user = { access: 'user' as const };

  app.post('/api/projects/:id/exports', { config: user, schema: { tags: ['exports'], params: idParams, body: exportRequestSchema } }, async (request, reply) =>
    reply.code(202).send(await createExport(deps, actorOf(request), request.params.id, request.body)),
  );
  app.get('/api/projects/:id/exports', { config: user, schema: { tags: ['exports'], params: idParams } }, async (request) => ({
    items: await listExports(deps, actorOf(request), request.params.id),
  }));
  app.get('/api/exports/:id', { config: user, schema: { tags: ['exports'], params: idParams } }, async (request) => getExport(deps, actorOf(request), request.params.id));
  app.get('/api/exports/:id/download', { config: user, schema: { tags: ['exports'], params: idParams } }, async (request, reply) => {
    const d = await openExportDownload(deps, actorOf(request), request.params.id);
    return reply
      .header('content-type', 'application/zip')
      .header('content-length', String(d.size))
      .header('content-disposition', `attachment; filename="${d.fileName}"`)
      .send(d.stream);
  });

  app.post(
    '/api/tasks/:id/imports',
    {
      config: user,
      schema: {
        tags: ['imports'],
        params: idParams,
        querystring: importQuery,
        description: 'multipart/form-data with one `file` part (a zip or a single file). `dryRun=true` reports what would be imported without writing.',
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const q = request.query;
      const options = { ...q, labelMap: jsonParam('labelMap', q.labelMap), mapping: jsonParam('mapping', q.mapping) };
      if (!request.isMultipart()) throw new HttpError(415, 'Unsupported Media Type', 'Send the import as multipart/form-data with a "file" part.');
      let report = null;
      for await (const part of request.parts()) {
        if (part.type !== 'file') continue;
        if (part.fieldname !== 'file' || report) {
          part.file.resume();
          continue;
        }
        try {
          report = await runImport(deps, actor, request.params.id, options, { fileName: part.filename ?? '', stream: part.file });
        } catch (err) {
          if (err instanceof ImportError) throw new HttpError(err.status, err.status === 409 ? 'Conflict' : 'Unprocessable Content', err.message);
          if (err instanceof Error && (err.name === 'FormatError' || err.name === 'SegError' || err.name === 'NiftiError' || err.name === 'LabelmapFormatError')) throw new HttpError(422, 'Unprocessable Content', err.message);
          if (err instanceof Error && err.name === 'TooLargeError') throw new HttpError(413, 'Content Too Large', err.message);
          throw err;
        }
      }
      if (!report) throw badRequest('The request holds no "file" part to import.');
      return report;
    },
  );
}
