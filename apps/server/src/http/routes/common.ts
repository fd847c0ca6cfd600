import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../../deps.js';
import { unauthorized } from '../../errors.js';

export const id = z.uuid('must be an id (UUID)');
export const idParams = z.object({ id });
export const email = z.email('must be an email address').max(254);

/** The authenticated caller; routes with access 'user' or 'admin' always have one. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw unauthorized();
  return request.actor;
}
