import { z } from 'zod';

/** Response shapes: they document the API in OpenAPI and are enforced when serialising. */
const ts = z.string().describe('ISO-8601 timestamp');

export const userShape = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  systemRole: z.enum(['admin', 'user']),
  active: z.boolean(),
  createdAt: ts,
});

const effectiveRole = z.enum(['admin', 'manager', 'annotator', 'reviewer', 'viewer']);

export const projectShape = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  guidelines: z.string().describe('Markdown shown to annotators'),
  labelSchema: z.unknown().describe('Label schema (docs/annotation-model.md)'),
  myRole: effectiveRole,
  createdAt: ts,
  updatedAt: ts,
});

export const projectSummaryShape = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  myRole: effectiveRole,
  taskCount: z.number(),
  assetCount: z.number(),
  createdAt: ts,
});

export const memberShape = z.object({
  userId: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(['manager', 'annotator', 'reviewer', 'viewer']),
  active: z.boolean(),
});

export const taskShape = z.object({
  id: z.string(),
  projectId: z.string(),
  name: z.string(),
  assetCount: z.number(),
  jobCount: z.number(),
  createdAt: ts,
  overlap: z.number(),
  honeypotPercent: z.number(),
});

export const assetShape = z.object({
  id: z.string(),
  projectId: z.string(),
  taskId: z.string(),
  name: z.string().describe('file name, with its relative folder path'),
  modality: z.string(),
  mediaType: z.string(),
  size: z.number(),
  sha256: z.string(),
  metadata: z.record(z.string(), z.unknown()).describe('probe results; imaging assets carry `imaging` (geometry, dtype, rescale, windows, frame times)'),
  createdAt: ts,
  frameCount: z.number().int(),
  hasThumbnail: z.boolean(),
  hold: z.string().nullable(),
});

export const jobShape = z.object({
  id: z.string(),
  taskId: z.string(),
  projectId: z.string(),
  name: z.string(),
  assigneeId: z.string().nullable(),
  assigneeName: z.string().nullable(),
  stage: z.enum(['annotation', 'review', 'acceptance']),
  state: z.enum(['new', 'in_progress', 'completed', 'rejected']),
  assetCount: z.number(),
  annotatedCount: z.number(),
  createdAt: ts,
  updatedAt: ts,
});

export const queueJobShape = jobShape.extend({ projectName: z.string(), taskName: z.string() });
export const jobDetailShape = jobShape.extend({ assets: z.array(assetShape.extend({ annotated: z.boolean() })) });

export const annotationsShape = z.object({
  revision: z.number().int().describe('0 when never saved'),
  document: z.unknown().describe('Annotation document (docs/annotation-model.md)'),
  updatedAt: ts.nullable(),
  updatedBy: z.string().nullable(),
});
export const savedShape = z.object({ revision: z.number().int(), updatedAt: ts });

export const tokenShape = z.object({ id: z.string(), name: z.string(), createdAt: ts, lastUsedAt: ts.nullable(), revokedAt: ts.nullable() });

export const items = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });
