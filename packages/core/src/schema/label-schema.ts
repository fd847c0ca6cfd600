import { z } from 'zod';
import { ANNOTATION_KINDS } from '../annotation/kind-names.js';
import { formatZodIssues, type ValidationIssue } from '../validation/issues.js';

/**
 * A project's label schema: which labels exist, which object kinds each may be drawn as, and
 * which attributes annotators fill in for it. Unknown keys are rejected everywhere so that a
 * typo (`shortCut`) is reported instead of silently dropped.
 */

const NAME_PATTERN = /^\S(?:.*\S)?$/;

const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters long')
  .regex(NAME_PATTERN, 'must not start or end with whitespace');

const commonAttributeShape = {
  name: nameSchema,
  required: z.boolean().default(false),
  description: z.string().max(2000).optional(),
};

const selectAttributeSchema = z.strictObject({
  ...commonAttributeShape,
  type: z.literal('select'),
  options: z.array(z.string().min(1, 'an option must not be empty')).min(1, 'needs at least one option'),
  default: z.string().optional(),
});

const multiselectAttributeSchema = z.strictObject({
  ...commonAttributeShape,
  type: z.literal('multiselect'),
  options: z.array(z.string().min(1, 'an option must not be empty')).min(1, 'needs at least one option'),
  default: z.array(z.string()).optional(),
});

const checkboxAttributeSchema = z.strictObject({
  ...commonAttributeShape,
  type: z.literal('checkbox'),
  default: z.boolean().optional(),
});

const numberAttributeSchema = z.strictObject({
  ...commonAttributeShape,
  type: z.literal('number'),
  min: z.number().optional(),
  max: z.number().optional(),
  step: z.number().positive('step must be greater than 0').optional(),
  default: z.number().optional(),
});

const textAttributeSchema = z.strictObject({
  ...commonAttributeShape,
  type: z.literal('text'),
  maxLength: z.number().int().positive().default(1000),
  default: z.string().optional(),
});

export const attributeDefSchema = z.discriminatedUnion(
  'type',
  [selectAttributeSchema, multiselectAttributeSchema, checkboxAttributeSchema, numberAttributeSchema, textAttributeSchema],
  { error: 'attribute type must be one of select, multiselect, checkbox, number, text' },
);

/** A coded concept (DICOM Code Sequence item): code value, coding scheme (SCT, DCM, ...), meaning. */
export const codedConceptSchema = z.strictObject({
  value: z.string().min(1).max(64),
  scheme: z.string().min(1).max(16),
  meaning: z.string().min(1).max(64),
});

export const labelDefSchema = z.strictObject({
  name: nameSchema,
  color: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'color must look like #rrggbb'),
  shortcut: z.string().regex(/^[0-9a-z]$/, 'shortcut must be a single key: 0-9 or a-z').optional(),
  kinds: z
    .array(z.enum(ANNOTATION_KINDS, { error: `kind must be one of ${ANNOTATION_KINDS.join(', ')}` }))
    .min(1, 'a label must allow at least one kind'),
  attributes: z.array(attributeDefSchema).default([]),
  /**
   * A landmark set: the names of the points a `landmarks` object with this label may hold
   * (e.g. "left femoral head centre"). Same rules as label names, unique case-insensitively,
   * 1 to 100 entries; only for labels whose kinds include `landmarks`. Without it any names go.
   */
  landmarks: z
    .array(nameSchema)
    .min(1, 'a landmark set needs at least 1 name')
    .max(100, 'a landmark set may have at most 100 names')
    .optional(),
  description: z.string().max(2000).optional(),
  /**
   * Coded meaning for exports that need one (DICOM SEG segment category and type, SR findings):
   * e.g. `{"category": {"value": "91723000", "scheme": "SCT", "meaning": "Anatomical Structure"},
   * "type": {"value": "10200004", "scheme": "SCT", "meaning": "Liver"}}`. Without it, exporters
   * choose SNOMED CT defaults from the label name.
   */
  codes: z
    .strictObject({ category: codedConceptSchema.optional(), type: codedConceptSchema.optional() })
    .optional(),
});

/** Tolerance for "is a multiple of step" checks on floats (0.1 + 0.2 is a multiple of 0.1). */
const STEP_EPSILON = 1e-9;

/** True when `value` lies on the grid `base + n * step`, allowing float rounding. */
export function isOnStep(value: number, step: number, base = 0): boolean {
  const q = (value - base) / step;
  return Math.abs(q - Math.round(q)) <= STEP_EPSILON * Math.max(1, Math.abs(q));
}

type NumberAttr = z.output<typeof numberAttributeSchema>;

/** Sentence describing the allowed range of a number attribute, e.g. `between 0 and 100`. */
export function describeRange(def: Pick<NumberAttr, 'min' | 'max'>): string | undefined {
  if (def.min !== undefined && def.max !== undefined) return `between ${def.min} and ${def.max}`;
  if (def.min !== undefined) return `at least ${def.min}`;
  if (def.max !== undefined) return `at most ${def.max}`;
  return undefined;
}

/** Sentence describing a step constraint, e.g. `a multiple of 0.5` or `1 plus a multiple of 0.5`. */
export function describeStep(def: Pick<NumberAttr, 'min' | 'step'>): string {
  const base = def.min ?? 0;
  return base === 0 ? `a multiple of ${def.step}` : `${base} plus a multiple of ${def.step}`;
}

function inRange(value: number, def: Pick<NumberAttr, 'min' | 'max'>): boolean {
  return (def.min === undefined || value >= def.min) && (def.max === undefined || value <= def.max);
}

export const labelSchemaSchema = z
  .strictObject({
    version: z.literal(1, { error: 'version must be 1' }),
    labels: z.array(labelDefSchema),
  })
  .superRefine((schema, ctx) => {
    const issue = (path: PropertyKey[], message: string): void => {
      ctx.addIssue({ code: 'custom', path, message });
    };
    const byName = new Map<string, string>();
    const byShortcut = new Map<string, string>();
    schema.labels.forEach((label, li) => {
      const key = label.name.toLowerCase();
      const clash = byName.get(key);
      if (clash !== undefined) {
        issue(['labels', li, 'name'], `duplicate label name "${label.name}" (names are case-insensitive; "${clash}" exists)`);
      } else byName.set(key, label.name);

      if (label.shortcut !== undefined) {
        const other = byShortcut.get(label.shortcut);
        if (other !== undefined) {
          issue(['labels', li, 'shortcut'], `label "${label.name}": shortcut "${label.shortcut}" is already used by label "${other}"`);
        } else byShortcut.set(label.shortcut, label.name);
      }

      const seenKinds = new Set<string>();
      label.kinds.forEach((kind, ki) => {
        if (seenKinds.has(kind)) issue(['labels', li, 'kinds', ki], `label "${label.name}": kind "${kind}" is listed twice`);
        seenKinds.add(kind);
      });

      if (label.landmarks !== undefined) {
        if (!label.kinds.includes('landmarks')) {
          issue(['labels', li, 'landmarks'], `label "${label.name}": a landmark set needs the kind "landmarks" in kinds (allowed: ${label.kinds.join(', ')})`);
        }
        const seenLandmarks = new Map<string, string>();
        label.landmarks.forEach((name, ni) => {
          const key = name.toLowerCase();
          const first = seenLandmarks.get(key);
          if (first !== undefined) {
            issue(['labels', li, 'landmarks', ni], `label "${label.name}": duplicate landmark name "${name}" (names are case-insensitive; "${first}" exists)`);
          } else seenLandmarks.set(key, name);
        });
      }

      const attrNames = new Set<string>();
      label.attributes.forEach((attr, ai) => {
        const at = (...rest: PropertyKey[]): PropertyKey[] => ['labels', li, 'attributes', ai, ...rest];
        const who = `label "${label.name}", attribute "${attr.name}"`;
        if (attrNames.has(attr.name)) issue(at('name'), `label "${label.name}": duplicate attribute "${attr.name}"`);
        attrNames.add(attr.name);

        switch (attr.type) {
          case 'select':
          case 'multiselect': {
            const seen = new Set<string>();
            attr.options.forEach((option, oi) => {
              if (seen.has(option)) issue(at('options', oi), `${who}: duplicate option "${option}"`);
              seen.add(option);
            });
            if (attr.type === 'select' && attr.default !== undefined && !seen.has(attr.default)) {
              issue(at('default'), `${who}: default "${attr.default}" is not one of the options`);
            }
            if (attr.type === 'multiselect' && attr.default !== undefined) {
              const seenDefault = new Set<string>();
              attr.default.forEach((value, di) => {
                if (!seen.has(value)) issue(at('default', di), `${who}: default "${value}" is not one of the options`);
                else if (seenDefault.has(value)) issue(at('default', di), `${who}: default "${value}" is listed twice`);
                seenDefault.add(value);
              });
            }
            break;
          }
          case 'number': {
            if (attr.min !== undefined && attr.max !== undefined && attr.min > attr.max) {
              issue(at('max'), `${who}: min (${attr.min}) must not be greater than max (${attr.max})`);
            } else if (attr.default !== undefined) {
              if (!inRange(attr.default, attr)) {
                issue(at('default'), `${who}: default ${attr.default} must be ${describeRange(attr) ?? ''}`);
              } else if (attr.step !== undefined && !isOnStep(attr.default, attr.step, attr.min ?? 0)) {
                issue(at('default'), `${who}: default ${attr.default} must be ${describeStep(attr)}`);
              }
            }
            break;
          }
          case 'text': {
            if (attr.default !== undefined && [...attr.default].length > attr.maxLength) {
              issue(at('default'), `${who}: default is longer than maxLength (${attr.maxLength})`);
            }
            break;
          }
          case 'checkbox':
            break;
        }
      });
    });
  });

/** A validated label schema (defaults applied). */
export type LabelSchema = z.output<typeof labelSchemaSchema>;
/** What a client may send: `required`, `attributes` and `maxLength` may be left out. */
export type LabelSchemaInput = z.input<typeof labelSchemaSchema>;
export type LabelDef = z.output<typeof labelDefSchema>;
export type AttributeDef = z.output<typeof attributeDefSchema>;
export type AttributeType = AttributeDef['type'];
export type AttributeValue = string | number | boolean | string[];

export type ParseLabelSchemaResult = { ok: true; schema: LabelSchema } | { ok: false; issues: ValidationIssue[] };

export function parseLabelSchema(input: unknown): ParseLabelSchemaResult {
  const result = labelSchemaSchema.safeParse(input);
  return result.success ? { ok: true, schema: result.data } : { ok: false, issues: formatZodIssues(result.error) };
}

/** Find a label by its exact name. */
export function findLabel(schema: LabelSchema, name: string): LabelDef | undefined {
  return schema.labels.find((label) => label.name === name);
}

/** The attribute values a new object with this label starts with (only attributes that declare a default). */
export function defaultAttributes(label: LabelDef): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const attr of label.attributes) {
    if (attr.default !== undefined) out[attr.name] = Array.isArray(attr.default) ? [...attr.default] : attr.default;
  }
  return out;
}
