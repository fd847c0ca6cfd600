import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import * as dashboard from '../../services/quality/dashboard.js';
import * as hooks from '../../services/quality/hooks.js';
import { listReplicas } from '../../services/quality/replicas.js';
import * as settings from '../../services/quality/settings.js';
import { actorOf, id, idParams } from './common.js';

const settingsShape = z.object({ taskId: z.string(), overlap: z.number(), honeypotPercent: z.number() });
const means = z.object({ tags: z.number().nullable(), boxF1: z.number().nullable(), polygonF1: z.number().nullable(), dice: z.number().nullable() });
const dashboardShape = z.object({
  annotators: z.array(z.object({ id: z.string(), name: z.string(), items: z.number(), agreement: means, accuracy: means })),
  labels: z.array(z.object({ label: z.string(), agreement: means, accuracy: means, n: z.number() })),
  confusion: z.object({ labels: z.array(z.string()), matrix: z.array(z.array(z.number())) }),
  dice: z.array(z.number()),
  trend: z.array(z.object({ day: z.string(), annotatorId: z.string().nullable(), metric: z.string(), mean: z.number(), n: z.number() })),
  task: z.object({ fleissKappa: z.number().nullable(), krippendorffAlpha: z.number().nullable(), percentAgreement: z.number().nullable(), items: z.number() }),
});
const replicasShape = z.object({
  raters: z.array(z.object({ jobId: z.string(), annotatorId: z.string().nullable(), annotatorName: z.string().nullable(), revision: z.number(), document: z.unknown() })),
  consensus: z.object({ jobId: z.string(), revision: z.number(), document: z.unknown(), result: z.unknown() }).nullable(),
});
const filterQuery = z.object({
  taskId: id.optional(),
  from: z.string().max(40).optional().describe('YYYY-MM-DD (inclusive) or an ISO date-time'),
  to: z.string().max(40).optional().describe('YYYY-MM-DD (inclusive) or an ISO date-time'),
});

/** Overlap and honeypot settings, ground truth, consensus and the quality dashboard. */
export function qualityRoutes(root: FastifyInstance, deps: Deps) {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const user = { access: 'user' as const };
  const tags = ['quality'];

  app.get('/api/tasks/:id/quality', { config: user, schema: { tags, params: idParams, response: { 200: settingsShape } } }, async (request) =>
    settings.getQualitySettings(deps, actorOf(request), request.params.id),
  );
  app.put(
    '/api/tasks/:id/quality',
    {
      config: user,
      schema: {
        tags,
        params: idParams,
        body: z
          .object({
            overlap: z.number().int('must be a whole number').min(1, 'must be at least 1').max(11, 'must be at most 11').optional(),
            honeypotPercent: z.number().int('must be a whole number').min(0, 'must be at least 0').max(50, 'must be at most 50').optional(),
          })
          .strict(),
        response: { 200: settingsShape },
      },
    },
    async (request) => settings.updateQualitySettings(deps, actorOf(request), request.params.id, request.body),
  );

  app.post(
    '/api/jobs/:id/ground-truth',
    { config: user, schema: { tags, params: idParams, body: z.object({ assetIds: z.array(id).min(1).max(10_000).optional() }).strict(), response: { 200: z.object({ marked: z.number() }) } } },
    async (request) => settings.markGroundTruth(deps, actorOf(request), request.params.id, request.body.assetIds),
  );
  app.delete('/api/assets/:id/ground-truth', { config: user, schema: { tags, params: idParams } }, async (request, reply) => {
    await settings.unmarkGroundTruth(deps, actorOf(request), request.params.id);
    return reply.code(204).send();
  });
  app.get(
    '/api/tasks/:id/ground-truth',
    {
      config: user,
      schema: {
        tags,
        params: idParams,
        response: {
          200: z.object({
            items: z.array(z.object({ assetId: z.string(), assetName: z.string(), taskId: z.string(), jobId: z.string(), revision: z.number(), createdBy: z.string(), createdAt: z.string() })),
          }),
        },
      },
    },
    async (request) => ({ items: await settings.listGroundTruth(deps, actorOf(request), request.params.id) }),
  );

  app.post('/api/tasks/:id/consensus', { config: user, schema: { tags, params: idParams, response: { 202: z.object({ queued: z.number() }) } } }, async (request, reply) =>
    reply.code(202).send(await hooks.rerunConsensus(deps, actorOf(request), request.params.id)),
  );
  app.get(
    '/api/jobs/:id/assets/:assetId/replicas',
    {
      config: user,
      schema: {
        tags,
        params: z.object({ id, assetId: id }),
        description: 'Every annotator\'s document of an item with overlap and its consensus, for the side-by-side disagreement view (quality.read; 404 otherwise).',
        response: { 200: replicasShape },
      },
    },
    async (request) => listReplicas(deps, actorOf(request), request.params.id, request.params.assetId),
  );
  app.get(
    '/api/tasks/:id/consensus',
    {
      config: user,
      schema: {
        tags,
        params: idParams,
        response: {
          200: z.object({
            items: z.array(z.object({ assetId: z.string(), assetName: z.string(), state: z.string(), jobId: z.string().nullable(), result: z.unknown(), updatedAt: z.string() })),
          }),
        },
      },
    },
    async (request) => ({ items: await dashboard.listConsensus(deps, actorOf(request), request.params.id) }),
  );

  app.get('/api/projects/:id/quality', { config: user, schema: { tags, params: idParams, querystring: filterQuery, response: { 200: dashboardShape } } }, async (request) =>
    dashboard.qualityDashboard(deps, actorOf(request), request.params.id, request.query),
  );
  app.get('/api/projects/:id/quality.csv', { config: user, schema: { tags, params: idParams, querystring: filterQuery } }, async (request, reply) => {
    const text = await dashboard.qualityCsv(deps, actorOf(request), request.params.id, request.query);
    return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="quality.csv"').send(text);
  });
}
