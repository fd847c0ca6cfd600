import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { badRequest, HttpError } from '../../errors.js';
import { MAX_LABELMAP_BYTES, openLabelmap, saveLabelmap } from '../../services/labelmaps.js';
import { actorOf, id, idParams } from './common.js';

const savedShape = z.object({
  sha: z.string().describe('sha256 of the stored full container: put it in the labelmap object as `blob`'),
  shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
  dtype: z.enum(['uint8', 'uint16']),
  bytes: z.number().int().describe('size of the stored full container'),
  slices: z.number().int().describe('slices the request carried (changed slices of a patch; all slices of a full container)'),
});

const tooLarge = () => new HttpError(413, 'Content Too Large', `The label map is larger than the limit of ${MAX_LABELMAP_BYTES / 1048576} MB.`);

/**
 * Collects an application/octet-stream body into one buffer, up to MAX_LABELMAP_BYTES (checked
 * against Content-Length first, then while reading).
 */
function readOctets(request: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: Buffer) => void) {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > MAX_LABELMAP_BYTES) {
    payload.resume();
    done(tooLarge());
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  payload.on('data', (c: Buffer) => {
    if (failed) return;
    size += c.length;
    if (size > MAX_LABELMAP_BYTES) {
      failed = true;
      chunks.length = 0;
      done(tooLarge());
      return;
    }
    chunks.push(c);
  });
  payload.on('end', () => {
    if (!failed) done(null, Buffer.concat(chunks, size));
  });
  payload.on('error', (err: Error) => {
    if (!failed) {
      failed = true;
      done(err);
    }
  });
}

/** Label-map containers (CLM1) of imaging assets; see docs/architecture.md "Label-map containers". */
export async function labelmapRoutes(root: FastifyInstance, deps: Deps) {
  // The octet-stream parser is scoped to these routes (an encapsulated plugin context).
  await root.register(async (scoped) => {
    scoped.addContentTypeParser('application/octet-stream', readOctets);
    const app = scoped.withTypeProvider<ZodTypeProvider>();
    const user = { access: 'user' as const };

    app.post(
      '/api/assets/:id/labelmaps',
      {
        config: user,
        schema: {
          tags: ['imaging'],
          params: idParams,
          consumes: ['application/octet-stream'],
          description:
            'Stores a label map of this asset. Body (`application/octet-stream`): a CLM1 container, either FULL (every slice) or a PATCH whose header names as `base` a label map already stored for this asset and carries only the changed slices. ' +
            `The shape must equal the asset's [columns, rows, frames]. Needs the right to edit this asset's annotations. At most ${MAX_LABELMAP_BYTES / 1048576} MB. ` +
            'Answers with the sha256 of the stored full container, to reference from a `labelmap` annotation object.',
          response: { 201: savedShape },
        },
      },
      async (request, reply) => {
        const body: unknown = request.body;
        if (!Buffer.isBuffer(body)) {
          if (body === undefined || body === null) throw badRequest('Send the label map container as the request body (application/octet-stream).');
          throw new HttpError(415, 'Unsupported Media Type', 'Send the label map container as application/octet-stream.');
        }
        return reply.code(201).send(await saveLabelmap(deps, actorOf(request), request.params.id, body));
      },
    );

    app.get(
      '/api/assets/:id/labelmaps/:sha',
      {
        config: user,
        schema: {
          tags: ['imaging'],
          params: z.object({ id, sha: z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase sha256 hex digest') }),
          description: 'A stored label map of this asset: the full CLM1 container (`application/octet-stream`). Immutable: cache by ETag (= sha).',
        },
      },
      async (request, reply) => {
        const etag = `"${request.params.sha}"`;
        const lm = await openLabelmap(deps, actorOf(request), request.params.id, request.params.sha);
        reply.header('etag', etag).header('cache-control', 'private, max-age=31536000, immutable').header('content-type', 'application/octet-stream');
        if (request.headers['if-none-match'] === etag) {
          (lm.stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
          return reply.code(304).send();
        }
        return reply.header('content-length', String(lm.size)).send(lm.stream);
      },
    );
  });
}
