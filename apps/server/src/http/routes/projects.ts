import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { PROJECT_ROLES } from '../../policy.js';
import * as projects from '../../services/projects.js';
import { actorOf, id, idParams } from './common.js';
import { items, memberShape, projectShape, projectSummaryShape, taskShape } from './shapes.js';

const text = (max: number) => z.string().max(max, `must be at most ${max} characters`);

export function projectRoutes(root: FastifyInstance, deps: Deps) {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const user = { access: 'user' as const };

  app.get('/api/projects', { config: user, schema: { tags: ['projects'], response: { 200: items(projectSummaryShape) } } }, async (request) => ({
    items: await projects.listProjects(deps, actorOf(request)),
  }));
  app.post(
    '/api/projects',
    {
      config: user,
      schema: {
        tags: ['projects'],
        body: z.object({
          name: z.string().trim().min(1, 'is required').max(200),
          description: text(10_000).optional(),
          guidelines: text(200_000).optional(),
          labelSchema: z.unknown().describe('Label schema (see docs/annotation-model.md)'),
        }),
        response: { 201: projectShape },
      },
    },
    async (request, reply) => reply.code(201).send(await projects.createProject(deps, actorOf(request), request.body)),
  );
  app.get('/api/projects/:id', { config: user, schema: { tags: ['projects'], params: idParams, response: { 200: projectShape } } }, async (request) =>
    projects.getProject(deps, actorOf(request), request.params.id),
  );
  app.patch(
    '/api/projects/:id',
    {
      config: user,
      schema: {
        tags: ['projects'],
        params: idParams,
        body: z
          .object({
            name: z.string().trim().min(1, 'is required').max(200).optional(),
            description: text(10_000).optional(),
            guidelines: text(200_000).optional(),
            labelSchema: z.unknown().optional(),
          })
          .strict(),
        response: { 200: projectShape },
      },
    },
    async (request) => projects.updateProject(deps, actorOf(request), request.params.id, request.body),
  );
  app.delete('/api/projects/:id', { config: user, schema: { tags: ['projects'], params: idParams } }, async (request, reply) => {
    await projects.deleteProject(deps, actorOf(request), request.params.id);
    return reply.code(204).send();
  });

  app.get('/api/projects/:id/members', { config: user, schema: { tags: ['members'], params: idParams, response: { 200: items(memberShape) } } }, async (request) => ({
    items: await projects.listMembers(deps, actorOf(request), request.params.id),
  }));
  app.put(
    '/api/projects/:id/members/:userId',
    { config: user, schema: { tags: ['members'], params: z.object({ id, userId: id }), body: z.object({ role: z.enum(PROJECT_ROLES) }), response: { 200: memberShape } } },
    async (request) => projects.setMember(deps, actorOf(request), request.params.id, request.params.userId, request.body.role),
  );
  app.delete(
    '/api/projects/:id/members/:userId',
    { config: user, schema: { tags: ['members'], params: z.object({ id, userId: id }) } },
    async (request, reply) => {
      await projects.removeMember(deps, actorOf(request), request.params.id, request.params.userId);
      return reply.code(204).send();
    },
  );

  app.get('/api/projects/:id/tasks', { config: user, schema: { tags: ['tasks'], params: idParams, response: { 200: items(taskShape) } } }, async (request) => ({
    items: await projects.listTasks(deps, actorOf(request), request.params.id),
  }));
  app.post(
    '/api/projects/:id/tasks',
    { config: user, schema: { tags: ['tasks'], params: idParams, body: z.object({ name: z.string().trim().min(1, 'is required').max(200) }), response: { 201: taskShape } } },
    async (request, reply) => reply.code(201).send(await projects.createTask(deps, actorOf(request), request.params.id, request.body.name)),
  );
  app.get('/api/tasks/:id', { config: user, schema: { tags: ['tasks'], params: idParams, response: { 200: taskShape } } }, async (request) =>
    projects.getTask(deps, actorOf(request), request.params.id),
  );
  app.delete('/api/tasks/:id', { config: user, schema: { tags: ['tasks'], params: idParams } }, async (request, reply) => {
    await projects.deleteTask(deps, actorOf(request), request.params.id);
    return reply.code(204).send();
  });
}
