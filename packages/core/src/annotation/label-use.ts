import type { LabelDef, LabelSchema } from '../schema/label-schema.js';
import type { PathSegment, RelativeIssue } from '../validation/issues.js';
import type { AnnotationKind } from './kind-names.js';

/**
 * Look up `name` in the schema and check that it may be used for `kind`. Returns the label
 * definition when the name exists (even if the kind is not allowed) so that callers can go on
 * to check attributes.
 */
export function checkLabelUse(
  schema: LabelSchema,
  name: string,
  kind: AnnotationKind,
  path: readonly PathSegment[],
  issues: RelativeIssue[],
): LabelDef | undefined {
  const label = schema.labels.find((l) => l.name === name);
  if (label === undefined) {
    const near = schema.labels.find((l) => l.name.toLowerCase() === name.toLowerCase());
    issues.push({
      path,
      message: near === undefined ? `unknown label "${name}"` : `unknown label "${name}" (did you mean "${near.name}"?)`,
    });
    return undefined;
  }
  if (!label.kinds.includes(kind)) {
    issues.push({ path, message: `label "${label.name}" does not allow kind "${kind}" (allowed: ${label.kinds.join(', ')})` });
  }
  return label;
}
