import {
  describeRange,
  describeStep,
  isOnStep,
  type AttributeDef,
  type LabelDef,
  type LabelSchema,
} from '../schema/label-schema.js';
import { formatZodIssues, prefixIssues, type PathSegment, type RelativeIssue, type ValidationIssue } from '../validation/issues.js';
import type { GeometrySchema, KindContext, KindUtil, ObjectSummary } from './kind-util.js';
import type { AnnotationKind } from './kind-names.js';
import { annotationDocumentSchema, type AnnotationDocument } from './object.js';
import { KIND_UTILS } from './registry.js';
import { checkLabelUse } from './label-use.js';

export type ValidateDocumentResult = { ok: true; document: AnnotationDocument } | { ok: false; issues: ValidationIssue[] };

const describe = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** Check one attribute value against its definition; issues are pushed with `path`. */
function checkAttribute(def: AttributeDef, value: unknown, path: readonly PathSegment[], issues: RelativeIssue[]): void {
  const name = `attribute "${def.name}"`;
  const fail = (message: string, at: readonly PathSegment[] = path): void => {
    issues.push({ path: at, message });
  };
  switch (def.type) {
    case 'select':
      if (typeof value !== 'string') fail(`${name} must be one of the options (${def.options.join(', ')}), not ${describe(value)}`);
      else if (!def.options.includes(value)) fail(`"${value}" is not an option of ${name} (options: ${def.options.join(', ')})`);
      return;
    case 'multiselect': {
      if (!Array.isArray(value)) {
        fail(`${name} must be a list of options, not ${describe(value)}`);
        return;
      }
      const seen = new Set<string>();
      value.forEach((item: unknown, i) => {
        if (typeof item !== 'string' || !def.options.includes(item)) {
          fail(`${describe(item)} is not an option of ${name} (options: ${def.options.join(', ')})`, [...path, i]);
        } else if (seen.has(item)) fail(`"${item}" is chosen twice in ${name}`, [...path, i]);
        if (typeof item === 'string') seen.add(item);
      });
      return;
    }
    case 'checkbox':
      if (typeof value !== 'boolean') fail(`${name} must be true or false, not ${describe(value)}`);
      return;
    case 'number': {
      if (typeof value !== 'number') {
        fail(`${name} must be a number, not ${describe(value)}`);
        return;
      }
      const outside = (def.min !== undefined && value < def.min) || (def.max !== undefined && value > def.max);
      if (outside) fail(`${name} must be ${describeRange(def) ?? ''}`);
      else if (def.step !== undefined && !isOnStep(value, def.step, def.min ?? 0)) fail(`${name} must be ${describeStep(def)}`);
      return;
    }
    case 'text':
      if (typeof value !== 'string') fail(`${name} must be text, not ${describe(value)}`);
      else if ([...value].length > def.maxLength) fail(`${name} must be at most ${def.maxLength} characters long`);
      return;
  }
}

function checkAttributes(label: LabelDef, attributes: Record<string, unknown>, path: readonly PathSegment[], issues: RelativeIssue[]): void {
  for (const [key, value] of Object.entries(attributes)) {
    const def = label.attributes.find((a) => a.name === key);
    if (def === undefined) {
      issues.push({ path: [...path, key], message: `unknown attribute "${key}" for label "${label.name}"` });
    } else checkAttribute(def, value, [...path, key], issues);
  }
}

/**
 * Parse an annotation document and check it against a project's label schema: labels exist and
 * allow the object's kind, attribute values fit their definitions, references between objects
 * resolve. Missing required attributes are allowed here (work in progress may be saved); see
 * {@link missingRequired}.
 */
export function validateDocument(input: unknown, schema: LabelSchema): ValidateDocumentResult {
  const parsed = annotationDocumentSchema.safeParse(input);
  if (!parsed.success) return { ok: false, issues: formatZodIssues(parsed.error) };
  const document = parsed.data;

  const objects = new Map<string, ObjectSummary>();
  for (const o of document.objects) objects.set(o.id, { id: o.id, kind: o.kind, label: o.label });
  const ctx: KindContext = { schema, objects };

  const issues: RelativeIssue[] = [];
  document.objects.forEach((object, i) => {
    const at: PathSegment[] = ['objects', i];
    const label = checkLabelUse(schema, object.label, object.kind, [...at, 'label'], issues);
    if (label !== undefined) checkAttributes(label, object.attributes, [...at, 'attributes'], issues);
    const util = KIND_UTILS[object.kind] as KindUtil<AnnotationKind, GeometrySchema>;
    for (const issue of util.validateAgainst?.(object, ctx) ?? []) issues.push({ path: [...at, ...issue.path], message: issue.message });
  });

  return issues.length === 0 ? { ok: true, document } : { ok: false, issues: prefixIssues([], issues) };
}

const isEmpty = (value: unknown): boolean =>
  value === undefined || (typeof value === 'string' && value.trim() === '') || (Array.isArray(value) && value.length === 0);

/**
 * Required attributes that are not filled in (absent, blank text or an empty selection), for
 * objects whose label exists. Used when a job is submitted.
 */
export function missingRequired(document: AnnotationDocument, schema: LabelSchema): ValidationIssue[] {
  const issues: RelativeIssue[] = [];
  document.objects.forEach((object, i) => {
    const label = schema.labels.find((l) => l.name === object.label);
    if (label === undefined) return;
    for (const def of label.attributes) {
      if (def.required && isEmpty(object.attributes[def.name])) {
        issues.push({
          path: ['objects', i, 'attributes', def.name],
          message: `attribute "${def.name}" is required for label "${label.name}" (object "${object.id}")`,
        });
      }
    }
  });
  return prefixIssues([], issues);
}
