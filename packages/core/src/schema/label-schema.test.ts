import { describe, expect, it } from 'vitest';
import { defaultAttributes, isOnStep, parseLabelSchema, type LabelSchemaInput } from './label-schema.js';

const nodule = (): LabelSchemaInput['labels'][number] => ({
  name: 'Nodule',
  color: '#ff0000',
  shortcut: 'n',
  kinds: ['box', 'polygon'],
  attributes: [
    { name: 'size', type: 'number', min: 0, max: 100, step: 0.5 },
    { name: 'severity', type: 'select', options: ['mild', 'moderate', 'severe'], required: true },
    { name: 'findings', type: 'multiselect', options: ['calcified', 'spiculated'] },
    { name: 'solid', type: 'checkbox', default: true },
    { name: 'note', type: 'text' },
  ],
});

function issuesOf(input: unknown): { path: string; message: string }[] {
  const result = parseLabelSchema(input);
  if (result.ok) throw new Error('expected the schema to be rejected');
  return result.issues;
}

describe('parseLabelSchema', () => {
  it('accepts a valid schema and applies defaults', () => {
    const result = parseLabelSchema({ version: 1, labels: [nodule(), { name: 'Liver', color: '#00AA00', kinds: ['labelmap'] }] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [n, liver] = result.schema.labels;
    expect(liver?.attributes).toEqual([]);
    expect(n?.attributes.find((a) => a.name === 'size')?.required).toBe(false);
    expect(n?.attributes.find((a) => a.name === 'severity')?.required).toBe(true);
    const note = n?.attributes.find((a) => a.name === 'note');
    expect(note?.type === 'text' && note.maxLength).toBe(1000);
  });

  it('rejects a wrong version and unknown keys instead of dropping them', () => {
    expect(issuesOf({ version: 2, labels: [] })).toEqual([{ path: 'version', message: 'version must be 1' }]);
    const issues = issuesOf({ version: 1, labels: [{ ...nodule(), shortCut: 'x' }] });
    expect(issues).toEqual([{ path: 'labels[0]', message: expect.stringContaining('shortCut') }]);
  });

  it('rejects duplicate label names regardless of case', () => {
    const issues = issuesOf({ version: 1, labels: [nodule(), { ...nodule(), name: 'NODULE', shortcut: 'm' }] });
    expect(issues).toEqual([{ path: 'labels[1].name', message: expect.stringContaining('duplicate label name "NODULE"') }]);
  });

  it('rejects a shortcut used twice, naming both labels', () => {
    const issues = issuesOf({ version: 1, labels: [nodule(), { ...nodule(), name: 'Mass' }] });
    expect(issues).toEqual([{ path: 'labels[1].shortcut', message: 'label "Mass": shortcut "n" is already used by label "Nodule"' }]);
  });

  it('accepts only single keys 0-9 / a-z as shortcuts', () => {
    for (const shortcut of ['N', 'ab', '#', '']) {
      expect(issuesOf({ version: 1, labels: [{ ...nodule(), shortcut }] })[0]?.path).toBe('labels[0].shortcut');
    }
  });

  it('checks name length, colour format and kinds', () => {
    expect(issuesOf({ version: 1, labels: [{ ...nodule(), name: 'x'.repeat(65) }] })[0]?.path).toBe('labels[0].name');
    expect(issuesOf({ version: 1, labels: [{ ...nodule(), name: ' Nodule' }] })[0]?.message).toContain('whitespace');
    expect(issuesOf({ version: 1, labels: [{ ...nodule(), color: 'red' }] })).toEqual([
      { path: 'labels[0].color', message: 'color must look like #rrggbb' },
    ]);
    expect(issuesOf({ version: 1, labels: [{ ...nodule(), kinds: [] }] })).toEqual([
      { path: 'labels[0].kinds', message: 'a label must allow at least one kind' },
    ]);
    expect(issuesOf({ version: 1, labels: [{ ...nodule(), kinds: ['box', 'circle'] }] })[0]).toEqual({
      path: 'labels[0].kinds[1]',
      message: expect.stringContaining('kind must be one of tag, box'),
    });
  });

  it('names label and attribute for a duplicate attribute', () => {
    const label = nodule();
    label.attributes = [...(label.attributes ?? []), { name: 'size', type: 'text' }];
    expect(issuesOf({ version: 1, labels: [label] })).toEqual([
      { path: 'labels[0].attributes[5].name', message: 'label "Nodule": duplicate attribute "size"' },
    ]);
  });

  it('checks select options and defaults', () => {
    const bad = (attr: unknown) => issuesOf({ version: 1, labels: [{ ...nodule(), attributes: [attr] }] });
    expect(bad({ name: 's', type: 'select', options: [] })[0]?.message).toBe('needs at least one option');
    expect(bad({ name: 's', type: 'select', options: ['a', 'a'] })).toEqual([
      { path: 'labels[0].attributes[0].options[1]', message: 'label "Nodule", attribute "s": duplicate option "a"' },
    ]);
    expect(bad({ name: 's', type: 'select', options: ['a'], default: 'b' })).toEqual([
      { path: 'labels[0].attributes[0].default', message: 'label "Nodule", attribute "s": default "b" is not one of the options' },
    ]);
    expect(bad({ name: 'm', type: 'multiselect', options: ['a', 'b'], default: ['a', 'c'] })).toEqual([
      { path: 'labels[0].attributes[0].default[1]', message: 'label "Nodule", attribute "m": default "c" is not one of the options' },
    ]);
    expect(bad({ name: 's', type: 'colour' })[0]?.message).toContain('attribute type must be one of');
  });

  it('checks number ranges, defaults and steps', () => {
    const bad = (attr: unknown) => issuesOf({ version: 1, labels: [{ ...nodule(), attributes: [attr] }] });
    expect(bad({ name: 'n', type: 'number', min: 5, max: 1 })[0]?.message).toBe(
      'label "Nodule", attribute "n": min (5) must not be greater than max (1)',
    );
    expect(bad({ name: 'n', type: 'number', min: 0, max: 10, default: 11 })[0]?.message).toBe(
      'label "Nodule", attribute "n": default 11 must be between 0 and 10',
    );
    expect(bad({ name: 'n', type: 'number', min: 1, step: 0.5, default: 1.25 })[0]?.message).toBe(
      'label "Nodule", attribute "n": default 1.25 must be 1 plus a multiple of 0.5',
    );
    expect(bad({ name: 'n', type: 'number', step: 0 })[0]?.message).toBe('step must be greater than 0');
    const ok = parseLabelSchema({ version: 1, labels: [{ ...nodule(), attributes: [{ name: 'n', type: 'number', min: 0, max: 1, step: 0.1, default: 0.3 }] }] });
    expect(ok.ok).toBe(true);
  });

  it('checks a text default against maxLength', () => {
    const issues = issuesOf({ version: 1, labels: [{ ...nodule(), attributes: [{ name: 't', type: 'text', maxLength: 3, default: 'abcd' }] }] });
    expect(issues[0]?.message).toBe('label "Nodule", attribute "t": default is longer than maxLength (3)');
  });
});

describe('landmark sets', () => {
  const hips = (extra: Record<string, unknown> = {}) => ({
    name: 'Hip',
    color: '#123456',
    kinds: ['landmarks'],
    landmarks: ['left femoral head centre', 'right femoral head centre'],
    ...extra,
  });

  it('accepts a landmark set on a label that allows the landmarks kind', () => {
    const result = parseLabelSchema({ version: 1, labels: [hips()] });
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.schema.labels[0]?.landmarks).toEqual(['left femoral head centre', 'right femoral head centre']);
    const plain = parseLabelSchema({ version: 1, labels: [nodule()] });
    expect(plain.ok && plain.schema.labels[0]?.landmarks).toBeUndefined();
  });

  it('requires the landmarks kind', () => {
    expect(issuesOf({ version: 1, labels: [hips({ kinds: ['points', 'box'] })] })).toEqual([
      { path: 'labels[0].landmarks', message: 'label "Hip": a landmark set needs the kind "landmarks" in kinds (allowed: points, box)' },
    ]);
  });

  it('rejects duplicates (case-insensitive), bad names, empty and oversized sets', () => {
    expect(issuesOf({ version: 1, labels: [hips({ landmarks: ['Nasion', 'sella', 'NASION'] })] })).toEqual([
      { path: 'labels[0].landmarks[2]', message: 'label "Hip": duplicate landmark name "NASION" (names are case-insensitive; "Nasion" exists)' },
    ]);
    expect(issuesOf({ version: 1, labels: [hips({ landmarks: [' nasion'] })] })).toEqual([
      { path: 'labels[0].landmarks[0]', message: 'must not start or end with whitespace' },
    ]);
    expect(issuesOf({ version: 1, labels: [hips({ landmarks: [] })] })[0]?.message).toBe('a landmark set needs at least 1 name');
    const many = Array.from({ length: 101 }, (_, i) => `p${i}`);
    expect(issuesOf({ version: 1, labels: [hips({ landmarks: many })] })[0]?.message).toBe('a landmark set may have at most 100 names');
    expect(parseLabelSchema({ version: 1, labels: [hips({ landmarks: many.slice(0, 100) })] }).ok).toBe(true);
  });
});

describe('isOnStep', () => {
  it('tolerates float rounding but not real misses', () => {
    expect(isOnStep(0.1 + 0.2, 0.1)).toBe(true);
    expect(isOnStep(0.35, 0.1)).toBe(false);
    expect(isOnStep(1.5, 0.5, 1)).toBe(true);
    expect(isOnStep(1.2, 0.5, 1)).toBe(false);
  });
});

describe('defaultAttributes', () => {
  it('fills in the declared defaults only, copying arrays', () => {
    const result = parseLabelSchema({
      version: 1,
      labels: [
        {
          name: 'A',
          color: '#000000',
          kinds: ['tag'],
          attributes: [
            { name: 'c', type: 'checkbox', default: false },
            { name: 'm', type: 'multiselect', options: ['x', 'y'], default: ['x'] },
            { name: 'free', type: 'text' },
          ],
        },
      ],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const label = result.schema.labels[0];
    if (label === undefined) throw new Error('no label');
    const defaults = defaultAttributes(label);
    expect(defaults).toEqual({ c: false, m: ['x'] });
    (defaults['m'] as string[]).push('y');
    expect(defaultAttributes(label)).toEqual({ c: false, m: ['x'] });
  });
});
