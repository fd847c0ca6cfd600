import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Deps } from '../../deps.js';
import { badRequest, HttpError } from '../../errors.js';
import * as assets from '../../services/assets.js';
import { sendProblem } from '../app.js';
import { actorOf, idParams } from './common.js';
import { assetShape, items } from './shapes.js';

export function assetRoutes(root: FastifyInstance, deps: Deps) {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const user = { access: 'user' as const };

  app.get('/api/tasks/:id/assets', { config: user, schema: { tags: ['assets'], params: idParams, response: { 200: items(assetShape) } } }, async (request) => ({
    items: await assets.listTaskAssets(deps, actorOf(request), request.params.id),
  }));

  app.post(
    '/api/tasks/:id/assets',
    {
      config: user,
      schema: {
        tags: ['assets'],
        params: idParams,
        description: 'multipart/form-data with one or more `file` parts; a part’s filename may hold a relative folder path.',
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const task = await assets.authorizeUpload(deps, actor, request.params.id);
      if (!request.isMultipart()) throw new HttpError(415, 'Unsupported Media Type', 'Upload files as multipart/form-data.');
      const accepted: assets.AssetView[] = [];
      const rejected: assets.Rejection[] = [];
      for await (const part of request.parts()) {
        if (part.type !== 'file') continue;
        if (part.fieldname !== 'file') {
          part.file.resume();
          rejected.push({ fileName: part.filename ?? '', status: 400, detail: `Unexpected field "${part.fieldname}"; send files in the "file" field.` });
          continue;
        }
        const r = await assets.ingestUpload(deps, actor, task, part.filename ?? '', part.file);
        if (r.ok) accepted.push(r.asset);
        else rejected.push(r.rejection);
      }
      if (accepted.length === 0 && rejected.length === 0) throw badRequest('The upload contains no files.');
      if (accepted.length === 0) {
        const first = rejected[0]!;
        const title = first.status === 413 ? 'Content Too Large' : first.status === 415 ? 'Unsupported Media Type' : first.status === 422 ? 'Unprocessable Content' : 'Bad Request';
        return sendProblem(reply, first.status, title, rejected.length === 1 ? first.detail : `None of the ${rejected.length} files was accepted; first: ${first.detail}`, { accepted, rejected });
      }
      return reply.code(201).send({ accepted, rejected });
    },
  );

  app.get('/api/assets/:id', { config: user, schema: { tags: ['assets'], params: idParams, response: { 200: assetShape } } }, async (request) =>
    assets.getAsset(deps, actorOf(request), request.params.id),
  );

  app.get('/api/assets/:id/media', { config: user, schema: { tags: ['assets'], params: idParams } }, async (request, reply) => {
    const m = await assets.openAssetMedia(deps, actorOf(request), request.params.id);
    return reply
      .header('content-type', m.contentType)
      .header('content-length', String(m.size))
      .header('etag', `"${m.sha256}"`)
      .header('cache-control', 'private, max-age=3600, immutable')
      .header('x-content-type-options', 'nosniff')
      .send(m.stream);
  });
}
