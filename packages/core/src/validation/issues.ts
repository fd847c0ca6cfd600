import type { z } from 'zod';

/** One problem found in user input: where it is and what is wrong, in words a person understands. */
export interface ValidationIssue {
  /** JavaScript-like path into the input, e.g. `objects[3].attributes.size`; `''` for the root. */
  path: string;
  message: string;
}

export type PathSegment = string | number;

/** An issue whose path is still relative (segments), e.g. to one annotation object. */
export interface RelativeIssue {
  path: readonly PathSegment[];
  message: string;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Join path segments the way a JavaScript accessor reads: numbers become `[3]`, identifier keys
 * `.name`, any other key `["odd key"]`.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'symbol') out += `[${segment.toString()}]`;
    else if (IDENTIFIER.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Prefix every issue's path, e.g. with `objects[2]`. */
export function prefixIssues(prefix: readonly PathSegment[], issues: readonly RelativeIssue[]): ValidationIssue[] {
  return issues.map((issue) => ({ path: formatPath([...prefix, ...issue.path]), message: issue.message }));
}

/**
 * Turn a zod error (or its issue list) into flat {@link ValidationIssue}s. Union failures are
 * reported once, by the branch that got furthest, rather than as a wall of alternatives.
 */
export function formatZodIssues(error: z.ZodError | readonly z.core.$ZodIssue[]): ValidationIssue[] {
  const issues = Array.isArray(error) ? (error as readonly z.core.$ZodIssue[]) : (error as z.ZodError).issues;
  const out: ValidationIssue[] = [];
  const visit = (issue: z.core.$ZodIssue, base: readonly PropertyKey[]): void => {
    const path = [...base, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Alternatives that got past the value's own type into its fields are the ones the user
      // probably meant; report the one with the fewest issues.
      const nested = issue.errors.filter((branch) => branch.some((sub) => sub.path.length > 0));
      if (nested.length > 0) {
        let best: readonly z.core.$ZodIssue[] | undefined;
        for (const branch of nested) if (best === undefined || branch.length < best.length) best = branch;
        for (const sub of best ?? []) visit(sub, path);
        return;
      }
      // Nothing matched at all: keep a custom union message, else say what was expected.
      if (issue.message === 'Invalid input') {
        const expected = [...new Set(issue.errors.flat().flatMap((sub) => expectedOf(sub)))];
        if (expected.length > 0) {
          out.push({ path: formatPath(path), message: `Invalid input: expected ${expected.join(' or ')}` });
          return;
        }
      }
    }
    out.push({ path: formatPath(path), message: issue.message });
  };
  for (const issue of issues) visit(issue, []);
  return out;
}

function expectedOf(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'invalid_type') return [issue.expected];
  if (issue.code === 'invalid_value') return issue.values.map((v) => JSON.stringify(v) ?? String(v));
  return [];
}
