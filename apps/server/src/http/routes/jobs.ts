import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import * as annotations from '../../services/annotations.js';
import * as jobs from '../../services/jobs.js';
import { actorOf, id, idParams } from './common.js';
import { annotationsShape, items, jobDetailShape, jobShape, queueJobShape, savedShape } from './shapes.js';

const jobAssetParams = z.object({ id, assetId: id });

export function jobRoutes(root: FastifyInstance, deps: Deps) {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const user = { access: 'user' as const };

  app.get('/api/tasks/:id/jobs', { config: user, schema: { tags: ['jobs'], params: idParams, response: { 200: items(jobShape) } } }, async (request) => ({
    items: await jobs.listTaskJobs(deps, actorOf(request), request.params.id),
  }));
  app.post(
    '/api/tasks/:id/jobs',
    {
      config: user,
      schema: {
        tags: ['jobs'],
        params: idParams,
        body: z.object({
          assetsPerJob: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000),
          assigneeId: id.nullable().optional(),
          assigneeIds: z.array(id).max(1000).optional().describe('Distinct assignees; with task overlap N > 1, each item goes to N of them'),
        }),
        response: { 201: items(jobShape) },
      },
    },
    async (request, reply) => reply.code(201).send({ items: await jobs.createJobs(deps, actorOf(request), request.params.id, request.body) }),
  );
  app.get('/api/jobs/:id', { config: user, schema: { tags: ['jobs'], params: idParams, response: { 200: jobDetailShape } } }, async (request) =>
    jobs.getJob(deps, actorOf(request), request.params.id),
  );
  app.patch(
    '/api/jobs/:id',
    {
      config: user,
      schema: {
        tags: ['jobs'],
        params: idParams,
        body: z
          .object({
            assigneeId: id.nullable().optional(),
            stage: z.enum(['annotation', 'review', 'acceptance']).optional(),
            state: z.enum(['new', 'in_progress', 'completed', 'rejected']).optional(),
          })
          .strict(),
        response: { 200: jobShape },
      },
    },
    async (request) => jobs.updateJob(deps, actorOf(request), request.params.id, request.body),
  );
  app.get('/api/me/jobs', { config: user, schema: { tags: ['jobs'], response: { 200: items(queueJobShape) } } }, async (request) => ({ items: await jobs.myJobs(deps, actorOf(request)) }));
  app.post('/api/me/jobs/next', { config: user, schema: { tags: ['jobs'], response: { 200: queueJobShape } } }, async (request) => jobs.nextJob(deps, actorOf(request)));

  app.get('/api/jobs/:id/assets/:assetId/annotations', { config: user, schema: { tags: ['annotations'], params: jobAssetParams, response: { 200: annotationsShape } } }, async (request) =>
    annotations.getAnnotations(deps, actorOf(request), request.params.id, request.params.assetId),
  );
  app.put(
    '/api/jobs/:id/assets/:assetId/annotations',
    {
      config: user,
      schema: {
        tags: ['annotations'],
        params: jobAssetParams,
        body: z.object({
          baseRevision: z.number().int('must be a whole number').min(0, 'must be 0 or more'),
          document: z.unknown().describe('Annotation document (see docs/annotation-model.md)'),
        }),
        response: { 200: savedShape },
      },
    },
    async (request) => annotations.saveAnnotations(deps, actorOf(request), request.params.id, request.params.assetId, request.body),
  );
  app.get(
    '/api/jobs/:id/assets/:assetId/annotations/revisions',
    { config: user, schema: { tags: ['annotations'], params: jobAssetParams } },
    async (request) => ({ items: await annotations.listRevisions(deps, actorOf(request), request.params.id, request.params.assetId) }),
  );
  app.get(
    '/api/jobs/:id/assets/:assetId/annotations/revisions/:rev',
    { config: user, schema: { tags: ['annotations'], params: jobAssetParams.extend({ rev: z.coerce.number().int().min(1) }) } },
    async (request) => annotations.getRevision(deps, actorOf(request), request.params.id, request.params.assetId, request.params.rev),
  );
}
