import { z } from 'zod';
import type { Actor, Deps } from '../../deps.js';
import { notFound } from '../../errors.js';
import { requireProject } from '../../policy.js';
import { appendAudit } from '../audit.js';
import type { ProjectDeid } from './dicom.js';

const rect = z.object({ x: z.number().int().min(0), y: z.number().int().min(0), width: z.number().int().min(1), height: z.number().int().min(1) });

/** Project de-identification settings: the PS3.15 profile options (safe defaults: all off) and redaction rules. */
export const deidSettingsSchema = z.object({
  settings: z
    .object({
      retainLongitudinalTemporalModifiedDates: z.boolean(),
      retainPatientCharacteristics: z.boolean(),
      retainDeviceIdentity: z.boolean(),
      retainInstitutionIdentity: z.boolean(),
      retainUids: z.boolean(),
      cleanDescriptors: z.boolean(),
      retainSafePrivate: z.boolean(),
      keepPrivateTags: z.boolean(),
    })
    .partial()
    .strict(),
  redactions: z
    .array(
      z
        .object({
          manufacturer: z.string().max(64).optional(),
          model: z.string().max(64).optional(),
          rows: z.number().int().positive().optional(),
          columns: z.number().int().positive().optional(),
          rects: z.array(rect).min(1).max(32),
        })
        .strict(),
    )
    .max(100),
});
export type DeidSettingsInput = z.infer<typeof deidSettingsSchema>;

export const DEFAULT_PROJECT_DEID: DeidSettingsInput = { settings: {}, redactions: [] };

function parse(text: string): DeidSettingsInput {
  const r = deidSettingsSchema.safeParse(JSON.parse(text || '{}'));
  return r.success ? r.data : DEFAULT_PROJECT_DEID;
}

export async function projectDeid(deps: Deps, projectId: string): Promise<ProjectDeid> {
  const row = await deps.db.selectFrom('projects').select('deid_settings').where('id', '=', projectId).executeTakeFirst();
  if (!row) throw notFound('Project');
  return parse(row.deid_settings);
}

export async function getDeidSettings(deps: Deps, actor: Actor, projectId: string) {
  await requireProject(deps.db, actor, projectId, 'project.read');
  return projectDeid(deps, projectId);
}

export async function putDeidSettings(deps: Deps, actor: Actor, projectId: string, input: DeidSettingsInput) {
  await requireProject(deps.db, actor, projectId, 'project.update');
  await deps.db.transaction().execute(async (trx) => {
    await trx.updateTable('projects').set({ deid_settings: JSON.stringify(input), updated_at: deps.clock.now().toISOString() }).where('id', '=', projectId).execute();
    await appendAudit(trx, deps.dbKind, deps.clock, {
      actorId: actor.id,
      action: 'project.deid',
      targetType: 'project',
      targetId: projectId,
      ip: actor.ip,
      details: { options: Object.keys(input.settings).filter((k) => input.settings[k as keyof typeof input.settings]).join(','), redactionRules: input.redactions.length },
    });
  });
  return input;
}
