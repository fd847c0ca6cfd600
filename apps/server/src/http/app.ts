import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyMultipart from '@fastify/multipart';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { safeEqual } from '../auth/crypto.js';
import type { Actor, Deps } from '../deps.js';
import { HttpError } from '../errors.js';
import { authenticate, csrfTokenFor, SESSION_COOKIE } from '../services/users.js';
import { registerRoutes } from './routes/index.js';

/** Route-level access, declared by every /api route. Object-level checks live in ../policy.ts. */
export type Access = 'public' | 'user' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function sendProblem(reply: FastifyReply, status: number, title: string, detail: string, extra: Record<string, unknown> = {}) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status, detail, ...extra });
}

/** All registered routes with their declared access, for the policy tests. */
export const routeTable = new WeakMap<FastifyInstance, { method: string; url: string; access: Access }[]>();

// Fastify's types describe Ajv-style factories; the zod compilers take the same call shape.
const zodCompilers = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

export async function buildApp(deps: Deps, opts: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger === false || deps.config.logLevel === 'silent' ? false : { level: deps.config.logLevel },
    bodyLimit: deps.config.maxJsonBytes,
    trustProxy: false,
    // zod validates and serialises every route; not loading Fastify's default Ajv compilers
    // saves ~120 ms of start-up.
    schemaController: { compilersFactory: zodCompilers },
  });
  app.decorateRequest('actor', null);
  // Bodies are JSON (uploads multipart): without this, text/plain bodies reach the routes as
  // strings and fail validation with a confusing 400 instead of a 415.
  app.removeContentTypeParser('text/plain');

  const routes: { method: string; url: string; access: Access }[] = [];
  routeTable.set(app, routes);
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api')) return;
    if (route.url.startsWith('/api/docs')) route.config = { ...(route.config ?? {}), access: 'public' };
    const access = route.config?.access;
    if (!access) throw new Error(`Route ${String(route.method)} ${route.url} does not declare its access`);
    for (const m of [route.method].flat()) if (m !== 'HEAD') routes.push({ method: m, url: route.url, access });
  });

  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyMultipart, {
    preservePath: true, // keep folder paths; ../media's sanitizeFileName refuses traversal
    // A file over the limit is truncated and marked; ingestUpload rejects it on its own (413 in
    // `rejected`) instead of a request-level error after the other files were already stored.
    throwFileSizeLimit: false,
    // A study folder holds thousands of slices: up to 100 000 files per request.
    limits: { fileSize: deps.config.maxUploadBytes, files: 100_000, fields: 20, fieldSize: 64 * 1024, parts: 100_100 },
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Caliper API', version: '1', description: 'Annotation of medical imaging, video, audio and text.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/api/docs' });

  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config?.access;
    if (!request.url.startsWith('/api') || access === undefined) return;
    const auth = request.headers.authorization;
    let actor: Actor | null = null;
    if (auth?.startsWith('Bearer ')) {
      actor = await authenticate(deps, { kind: 'token', secret: auth.slice(7).trim() }, request.ip);
      if (!actor && access !== 'public') return sendProblem(reply, 401, 'Unauthorized', 'The access token is not valid or was revoked.');
    } else {
      const cookie = request.cookies[SESSION_COOKIE];
      if (cookie) actor = await authenticate(deps, { kind: 'session', secret: cookie }, request.ip);
    }
    request.actor = actor;
    if (access === 'public') return;
    if (!actor) return sendProblem(reply, 401, 'Unauthorized', 'Sign in to continue.');
    if (actor.via === 'session' && UNSAFE.has(request.method)) {
      const header = request.headers['x-csrf-token'];
      const expected = csrfTokenFor(deps.config.secret, actor.credentialHash);
      if (typeof header !== 'string' || !safeEqual(header, expected)) {
        return sendProblem(reply, 403, 'Forbidden', 'The X-CSRF-Token header is missing or wrong; reload the page and try again.');
      }
    }
    if (access === 'admin' && actor.systemRole !== 'admin') {
      return sendProblem(reply, 403, 'Forbidden', 'Only administrators can do this.');
    }
  });

  // Conservative security headers on every response (the app is same-origin only).
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'same-origin');
    reply.header('cross-origin-opener-policy', 'same-origin');
  });

  app.setErrorHandler((error: FastifyError | HttpError | Error, request, reply) => {
    if (error instanceof HttpError) return sendProblem(reply, error.status, error.title, error.detail, error.extra);
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = error.validation.map((v) => ({
        path: [error.validationContext, ...v.instancePath.split('/').filter(Boolean)].join('.'),
        message: v.message ?? 'is not valid',
      }));
      const first = errors[0];
      return sendProblem(reply, 400, 'Bad Request', `The request is not valid: ${first ? `${first.path}: ${first.message}` : ''}`, { errors });
    }
    const fe = error as FastifyError;
    switch (fe.code) {
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendProblem(reply, 400, 'Bad Request', 'The request body is not valid JSON.');
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendProblem(reply, 413, 'Content Too Large', `The request body is larger than the limit of ${deps.config.maxJsonBytes} bytes.`);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendProblem(reply, 415, 'Unsupported Media Type', 'Send the request body as application/json (uploads as multipart/form-data).');
      case 'FST_REQ_FILE_TOO_LARGE':
        return sendProblem(reply, 413, 'Content Too Large', `A file is larger than the upload limit of ${Math.round(deps.config.maxUploadBytes / 1048576)} MB.`);
      case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
        return sendProblem(reply, 415, 'Unsupported Media Type', 'Upload files as multipart/form-data.');
      case 'FST_PARTS_LIMIT':
      case 'FST_FILES_LIMIT':
      case 'FST_FIELDS_LIMIT':
        return sendProblem(reply, 413, 'Content Too Large', 'The upload has too many parts; send at most 1000 files at a time.');
    }
    if (fe.statusCode === 429) return sendProblem(reply, 429, 'Too Many Requests', 'Too many attempts; wait a minute and try again.');
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return sendProblem(reply, fe.statusCode, 'Bad Request', fe.message);
    }
    request.log.error({ err: { message: error.message, stack: error.stack, code: fe.code } }, 'unhandled error');
    return sendProblem(reply, 500, 'Internal Server Error', 'Something went wrong on the server; the error was logged.');
  });

  await registerRoutes(app, deps);

  const webDir = deps.config.webDir ?? defaultWebDir();
  const hasWeb = webDir !== null && existsSync(path.join(webDir, 'index.html'));
  if (hasWeb) {
    await app.register(fastifyStatic, { root: webDir, wildcard: false, index: ['index.html'] });
  }
  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/api') || request.method !== 'GET' || !hasWeb) {
      return sendProblem(reply, 404, 'Not Found', `There is no ${request.method} ${request.url.split('?')[0]} here.`);
    }
    return reply.type('text/html').sendFile('index.html');
  });
  return app;
}

function defaultWebDir(): string | null {
  const here = path.dirname(new URL(import.meta.url).pathname);
  // src/http or dist/http → apps/web/dist
  const candidate = path.resolve(here, '../../../web/dist');
  return existsSync(candidate) ? candidate : null;
}
