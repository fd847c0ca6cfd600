import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import * as review from '../../services/review.js';
import { actorOf, id, idParams } from './common.js';

const count = z.number().int().min(0);
const coordinate = z.number().finite();

/** Where an issue is pinned: at least one of slice, frame, time, range, point, region. */
export const issueLocation = z
  .object({
    slice: z.number().int('must be a whole number').min(0, 'must be 0 or more').optional(),
    frame: z.number().int('must be a whole number').min(0, 'must be 0 or more').optional(),
    time: z.number().finite().min(0, 'must be 0 or more').optional(),
    range: z
      .tuple([z.number().finite().min(0, 'must be 0 or more'), z.number().finite().min(0, 'must be 0 or more')])
      .refine(([start, end]) => start < end, 'start must be before end')
      .optional(),
    point: z.union([z.tuple([coordinate, coordinate]), z.tuple([coordinate, coordinate, coordinate])]).optional(),
    region: z
      .object({ x: coordinate, y: coordinate, width: z.number().finite().positive('must be above 0'), height: z.number().finite().positive('must be above 0') })
      .strict()
      .optional(),
  })
  .strict()
  .refine((l) => Object.values(l).some((v) => v !== undefined), 'give at least one of slice, frame, time, range, point, region');

const commentText = z.string().trim().min(1, 'must not be empty').max(5000, 'must be at most 5000 characters');

const stage = z.enum(['annotation', 'review', 'acceptance']);
const state = z.enum(['new', 'in_progress', 'completed', 'rejected']);

const queueItemShape = z.object({
  id: z.string(),
  name: z.string(),
  projectId: z.string(),
  projectName: z.string(),
  taskId: z.string(),
  taskName: z.string(),
  assigneeId: z.string().nullable(),
  assigneeName: z.string().nullable(),
  reviewerId: z.string().nullable(),
  reviewerName: z.string().nullable(),
  stage,
  state,
  round: count,
  openIssues: count,
  assetCount: count,
  updatedAt: z.string(),
});

const statusShape = z.object({
  jobId: z.string(),
  stage,
  state,
  round: count,
  reviewerId: z.string().nullable(),
  reviewerName: z.string().nullable(),
  awaitingReview: z.boolean(),
  canReview: z.boolean(),
  canDiscuss: z.boolean(),
  changedByReviewer: z.boolean(),
  openIssues: count,
});

const issueShape = z.object({
  id: z.string(),
  jobId: z.string(),
  assetId: z.string(),
  round: count,
  location: z.unknown().describe('{slice?, frame?, time?, range?, point?, region?}; empty: the whole asset'),
  state: z.enum(['open', 'resolved']),
  createdBy: z.string(),
  createdByName: z.string().nullable(),
  createdAt: z.string(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  comments: z.array(z.object({ id: z.string(), authorId: z.string(), authorName: z.string().nullable(), text: z.string(), createdAt: z.string() })),
});

/** Review queue, review decisions and issue threads (docs/architecture.md, "Review"). */
export function reviewRoutes(root: FastifyInstance, deps: Deps) {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const user = { access: 'user' as const };
  const tags = ['review'];

  app.get('/api/review/queue', { config: user, schema: { tags, response: { 200: z.object({ items: z.array(queueItemShape) }) } } }, async (request) => ({
    items: await review.reviewQueue(deps, actorOf(request)),
  }));
  app.get('/api/jobs/:id/review', { config: user, schema: { tags, params: idParams, response: { 200: statusShape } } }, async (request) =>
    review.reviewStatus(deps, actorOf(request), request.params.id),
  );
  app.post('/api/jobs/:id/review/start', { config: user, schema: { tags, params: idParams, response: { 200: statusShape } } }, async (request) =>
    review.startReview(deps, actorOf(request), request.params.id),
  );
  app.post(
    '/api/jobs/:id/review',
    {
      config: user,
      schema: {
        tags,
        params: idParams,
        body: z.object({ decision: z.enum(['accept', 'fix-accept', 'reject']), comment: z.string().max(5000, 'must be at most 5000 characters').optional() }).strict(),
        response: { 200: statusShape },
      },
    },
    async (request) => review.decideReview(deps, actorOf(request), request.params.id, request.body),
  );
  app.get(
    '/api/jobs/:id/issues',
    { config: user, schema: { tags, params: idParams, querystring: z.object({ assetId: id.optional(), state: z.enum(['open', 'resolved']).optional() }), response: { 200: z.object({ items: z.array(issueShape) }) } } },
    async (request) => ({ items: await review.listIssues(deps, actorOf(request), request.params.id, request.query) }),
  );
  app.post(
    '/api/jobs/:id/issues',
    { config: user, schema: { tags, params: idParams, body: z.object({ assetId: id, location: issueLocation, text: commentText }).strict(), response: { 201: issueShape } } },
    async (request, reply) => reply.code(201).send(await review.createIssue(deps, actorOf(request), request.params.id, request.body)),
  );
  app.post(
    '/api/issues/:id/comments',
    { config: user, schema: { tags, params: idParams, body: z.object({ text: commentText }).strict(), response: { 201: issueShape } } },
    async (request, reply) => reply.code(201).send(await review.addComment(deps, actorOf(request), request.params.id, request.body.text)),
  );
  app.patch(
    '/api/issues/:id',
    { config: user, schema: { tags, params: idParams, body: z.object({ state: z.enum(['open', 'resolved']) }).strict(), response: { 200: issueShape } } },
    async (request) => review.setIssueState(deps, actorOf(request), request.params.id, request.body.state),
  );
}
