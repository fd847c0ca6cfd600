// The Caliper interchange format (annotations.json inside a Caliper export zip), version 1.
// Lossless: documents are stored as saved, label maps as their CLM1 containers beside it.
import { z } from 'zod';

export const CALIPER_FORMAT_VERSION = 1;

const documentEntry = z.object({
  jobId: z.string(),
  jobName: z.string(),
  stage: z.string(),
  state: z.string(),
  assigneeId: z.string().nullable(),
  revision: z.number().int(),
  updatedAt: z.string(),
  updatedBy: z.string(),
  /** Validated against the target project's label schema on import. */
  document: z.object({ objects: z.array(z.record(z.string(), z.unknown())) }),
});

export const caliperFileSchema = z.object({
  format: z.literal('caliper'),
  version: z.literal(CALIPER_FORMAT_VERSION),
  exportedAt: z.string(),
  project: z.object({ id: z.string(), name: z.string(), labelSchema: z.unknown() }),
  assets: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      taskId: z.string(),
      sha256: z.string(),
      mediaType: z.string(),
      modality: z.string(),
      dims: z.tuple([z.number().int(), z.number().int(), z.number().int()]).nullable(),
      dicom: z.object({ seriesInstanceUid: z.string().nullable(), sopInstanceUids: z.array(z.string()) }).nullable(),
      documents: z.array(documentEntry),
    }),
  ),
  labelmaps: z.array(z.object({ sha: z.string().regex(/^[0-9a-f]{64}$/), assetId: z.string(), path: z.string() })),
});
export type CaliperFile = z.output<typeof caliperFileSchema>;
