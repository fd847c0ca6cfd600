import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { formatPath, formatZodIssues } from './issues.js';

describe('formatPath', () => {
  it('reads like a JavaScript accessor', () => {
    expect(formatPath(['objects', 3, 'attributes', 'size'])).toBe('objects[3].attributes.size');
    expect(formatPath([])).toBe('');
    expect(formatPath([0, 'x'])).toBe('[0].x');
  });

  it('quotes keys that are not identifiers', () => {
    expect(formatPath(['attributes', 'lesion size'])).toBe('attributes["lesion size"]');
  });
});

describe('formatZodIssues', () => {
  const schema = z.object({ objects: z.array(z.object({ label: z.string() })) });

  it('turns a zod error into path + message pairs', () => {
    const result = schema.safeParse({ objects: [{ label: 'a' }, { label: 1 }] });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(formatZodIssues(result.error)).toEqual([{ path: 'objects[1].label', message: expect.stringContaining('expected string') }]);
    expect(formatZodIssues(result.error.issues)).toEqual(formatZodIssues(result.error));
  });

  it('reports a union failure by the branch that matched best, with its nested path', () => {
    const u = z.union([z.string(), z.object({ a: z.number(), b: z.number() })]);
    const result = z.object({ v: u }).safeParse({ v: { a: 1, b: 'x' } });
    if (result.success) throw new Error('expected failure');
    expect(formatZodIssues(result.error)).toEqual([{ path: 'v.b', message: expect.stringContaining('expected number') }]);
  });

  it('lists the expected types when no union branch matched', () => {
    const result = z.object({ v: z.union([z.string(), z.number()]) }).safeParse({ v: null });
    if (result.success) throw new Error('expected failure');
    expect(formatZodIssues(result.error)).toEqual([{ path: 'v', message: 'Invalid input: expected string or number' }]);
    const literals = z.union([z.literal('a'), z.literal('b')]).safeParse('c');
    if (literals.success) throw new Error('expected failure');
    expect(formatZodIssues(literals.error)).toEqual([{ path: '', message: 'Invalid input: expected "a" or "b"' }]);
  });

  it('keeps a custom union message', () => {
    const result = z.union([z.literal('a'), z.number()], { error: 'must be "a" or a number' }).safeParse('c');
    if (result.success) throw new Error('expected failure');
    expect(formatZodIssues(result.error)).toEqual([{ path: '', message: 'must be "a" or a number' }]);
  });
});
