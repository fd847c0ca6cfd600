import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HeaderElement } from '@caliper/media';
import type { Deps } from '../../deps.js';
import { getDicomHeader, MAX_HEADER_ELEMENTS, MAX_HEADER_VALUE_LENGTH } from '../../services/dicom-header.js';
import { actorOf, idParams } from './common.js';

/** One data element; a sequence lists its items, each a list of elements. */
const headerElement: z.ZodType<HeaderElement> = z
  .object({
    tag: z.string().describe('"(GGGG,EEEE)"'),
    vr: z.string().describe('value representation (from the data dictionary when the transfer syntax has implicit VR)'),
    name: z.string().describe('dictionary keyword, e.g. PatientName; "" when unknown'),
    value: z.string().nullable().describe(`display value (multiple values separated by "\\"), at most ${MAX_HEADER_VALUE_LENGTH} characters; binary data as "<N bytes>"; null for sequences`),
    get items() {
      return z.array(z.array(headerElement)).optional();
    },
  })
  .meta({ id: 'DicomHeaderElement' });

export const dicomHeaderShape = z.object({
  sopInstanceUid: z.string().describe('the stored (remapped) SOP Instance UID'),
  frame: z.number().int(),
  instanceFrame: z.number().int().describe('index of the frame inside its instance (0 unless multi-frame)'),
  instanceFrames: z.number().int().describe('frames in the instance'),
  elements: z.array(headerElement),
  truncated: z.boolean().describe(`true when the listing stopped at ${MAX_HEADER_ELEMENTS} elements`),
});

export const dicomHeaderQuery = z.object({ frame: z.coerce.number().int().min(0).max(1_000_000).default(0) });

export function dicomHeaderRoutes(root: FastifyInstance, deps: Deps) {
  const app = root.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/api/assets/:id/dicom-header',
    {
      config: { access: 'user' },
      schema: {
        tags: ['imaging'],
        params: idParams,
        querystring: dicomHeaderQuery,
        description:
          'Every DICOM element of the stored, de-identified instance holding frame `frame` (default 0) of the asset. 404 "This asset has no DICOM header" for NIfTI and raster assets.',
        response: { 200: dicomHeaderShape },
      },
    },
    async (request) => getDicomHeader(deps, actorOf(request), request.params.id, request.query.frame),
  );
}
