import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sha256Hex } from '../../auth/crypto.js';
import type { Deps } from '../../deps.js';
import { forbidden, notFound } from '../../errors.js';
import { audit, verifyAudit } from '../../services/audit.js';
import * as users from '../../services/users.js';
import { isManagerSomewhere } from '../../policy.js';
import { actorOf, email, idParams } from './common.js';
import { items, tokenShape, userShape } from './shapes.js';

const password = z.string().min(1, 'is required').max(1024);

export function authRoutes(root: FastifyInstance, deps: Deps) {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const secureCookie = false; // served over plain HTTP on 127.0.0.1 by default; put TLS in front for remote use

  app.get('/api/health', { config: { access: 'public' }, schema: { tags: ['system'] } }, async () => ({ status: 'ok' }));

  app.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => root.swagger());

  app.post(
    '/api/auth/login',
    {
      config: {
        access: 'public',
        rateLimit: {
          max: 10,
          timeWindow: '1 minute',
          hook: 'preHandler',
          keyGenerator: (req) => `${req.ip}|${String((req.body as { email?: unknown } | undefined)?.email ?? '').toLowerCase()}`,
        },
      },
      schema: { tags: ['auth'], body: z.object({ email: z.string().min(1, 'is required').max(254), password }) },
    },
    async (request, reply) => {
      const r = await users.login(deps, request.body.email, request.body.password, request.ip);
      reply.setCookie(users.SESSION_COOKIE, r.token, {
        httpOnly: true,
        sameSite: 'strict',
        secure: secureCookie,
        path: '/',
        maxAge: r.maxAgeSeconds,
      });
      return { user: r.user, csrfToken: users.csrfTokenFor(deps.config.secret, sha256Hex(r.token)) };
    },
  );

  app.post('/api/auth/logout', { config: { access: 'user' }, schema: { tags: ['auth'] } }, async (request, reply) => {
    await users.logout(deps, actorOf(request));
    reply.clearCookie(users.SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });

  app.get('/api/auth/me', { config: { access: 'user' }, schema: { tags: ['auth'] } }, async (request) => {
    const actor = actorOf(request);
    const u = await deps.db.selectFrom('users').selectAll().where('id', '=', actor.id).executeTakeFirstOrThrow();
    return {
      user: users.toUserView(u),
      csrfToken: actor.via === 'session' ? users.csrfTokenFor(deps.config.secret, actor.credentialHash) : null,
    };
  });

  app.post(
    '/api/auth/password',
    { config: { access: 'user' }, schema: { tags: ['auth'], body: z.object({ currentPassword: password, newPassword: z.string().min(users.MIN_PASSWORD, `must be at least ${users.MIN_PASSWORD} characters`).max(1024) }) } },
    async (request, reply) => {
      await users.changeOwnPassword(deps, actorOf(request), request.body.currentPassword, request.body.newPassword);
      return reply.code(204).send();
    },
  );

  // ---- personal access tokens ----
  app.get('/api/tokens', { config: { access: 'user' }, schema: { tags: ['tokens'], response: { 200: items(tokenShape) } } }, async (request) => ({
    items: await users.listTokens(deps.db, actorOf(request).id),
  }));
  app.post(
    '/api/tokens',
    { config: { access: 'user' }, schema: { tags: ['tokens'], body: z.object({ name: z.string().trim().min(1, 'is required').max(100) }) } },
    async (request, reply) => reply.code(201).send(await users.createToken(deps, actorOf(request), request.body.name)),
  );
  app.delete('/api/tokens/:id', { config: { access: 'user' }, schema: { tags: ['tokens'], params: idParams } }, async (request, reply) => {
    await users.revokeToken(deps, actorOf(request), request.params.id);
    return reply.code(204).send();
  });

  // ---- user administration ----
  app.get('/api/users', { config: { access: 'admin' }, schema: { tags: ['users'], response: { 200: items(userShape) } } }, async () => {
    const rows = await deps.db.selectFrom('users').selectAll().orderBy('email').execute();
    return { items: rows.map(users.toUserView) };
  });
  app.post(
    '/api/users',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['users'],
        body: z.object({
          email,
          name: z.string().trim().max(200).default(''),
          password: z.string().min(users.MIN_PASSWORD, `must be at least ${users.MIN_PASSWORD} characters`).max(1024),
          systemRole: z.enum(['admin', 'user']).default('user'),
        }),
      },
    },
    async (request, reply) => reply.code(201).send(await users.createUser(deps, actorOf(request).id, request.body, request.ip)),
  );
  app.patch(
    '/api/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['users'],
        params: idParams,
        body: z.object({ name: z.string().trim().min(1).max(200).optional(), systemRole: z.enum(['admin', 'user']).optional(), active: z.boolean().optional() }).strict(),
      },
    },
    async (request) => users.updateUser(deps, actorOf(request), request.params.id, request.body),
  );
  app.post(
    '/api/users/:id/password',
    { config: { access: 'admin' }, schema: { tags: ['users'], params: idParams, body: z.object({ password: z.string().min(users.MIN_PASSWORD, `must be at least ${users.MIN_PASSWORD} characters`).max(1024) }) } },
    async (request, reply) => {
      await users.setPassword(deps, actorOf(request), request.params.id, request.body.password, 'user.password.reset');
      return reply.code(204).send();
    },
  );
  app.get(
    '/api/users/lookup',
    { config: { access: 'user' }, schema: { tags: ['users'], querystring: z.object({ email }) } },
    async (request) => {
      const actor = actorOf(request);
      if (!(await isManagerSomewhere(deps.db, actor))) throw forbidden('Only project managers can look up users.');
      const u = await deps.db.selectFrom('users').select(['id', 'email', 'name', 'active']).where('email', '=', request.query.email.toLowerCase()).executeTakeFirst();
      if (!u || !u.active) throw notFound('An active user with this email');
      return { id: u.id, email: u.email, name: u.name };
    },
  );

  // ---- audit trail ----
  app.get(
    '/api/audit',
    {
      config: { access: 'admin' },
      schema: { tags: ['audit'], querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), before: z.coerce.number().int().positive().optional() }) },
    },
    async (request) => {
      let q = deps.db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(request.query.limit);
      if (request.query.before) q = q.where('seq', '<', request.query.before);
      const rows = await q.execute();
      return {
        items: rows.map((r) => ({
          seq: Number(r.seq),
          at: r.at,
          actorId: r.actor_id,
          action: r.action,
          targetType: r.target_type,
          targetId: r.target_id,
          ip: r.ip,
          details: JSON.parse(r.details) as unknown,
          hash: r.hash,
        })),
      };
    },
  );
  app.get('/api/audit/verify', { config: { access: 'admin' }, schema: { tags: ['audit'] } }, async (request) => {
    const result = await verifyAudit(deps.db);
    await audit(deps.db, deps.dbKind, deps.clock, { actorId: actorOf(request).id, action: 'audit.verify', ip: request.ip, details: { ok: result.ok } });
    return result;
  });
}
