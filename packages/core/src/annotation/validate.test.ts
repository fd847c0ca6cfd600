import { describe, expect, it } from 'vitest';
import { parseLabelSchema, type LabelSchema } from '../schema/label-schema.js';
import { missingRequired, validateDocument } from './validate.js';

function schemaOf(input: unknown): LabelSchema {
  const result = parseLabelSchema(input);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.schema;
}

const schema = schemaOf({
  version: 1,
  labels: [
    {
      name: 'Nodule',
      color: '#ff0000',
      kinds: ['polygon', 'ellipse'],
      attributes: [
        { name: 'size', type: 'number', min: 0, max: 100 },
        { name: 'density', type: 'number', step: 0.1 },
        { name: 'offset', type: 'number', min: 1, step: 0.5 },
        { name: 'severity', type: 'select', options: ['mild', 'severe'], required: true },
        { name: 'findings', type: 'multiselect', options: ['calcified', 'spiculated'], required: true },
        { name: 'solid', type: 'checkbox' },
        { name: 'note', type: 'text', maxLength: 5, required: true },
      ],
    },
    { name: 'Liver', color: '#00ff00', kinds: ['labelmap'] },
    { name: 'Kidney', color: '#0000ff', kinds: ['labelmap'] },
    { name: 'Utterance', color: '#888888', kinds: ['segment'] },
    { name: 'Text', color: '#888888', kinds: ['transcript'] },
    { name: 'Drug', color: '#aa00aa', kinds: ['span'] },
    { name: 'treats', color: '#aa00aa', kinds: ['relation'] },
    { name: 'Hip', color: '#123456', kinds: ['landmarks'], landmarks: ['left femoral head centre', 'right femoral head centre'] },
    { name: 'Keypoints', color: '#654321', kinds: ['landmarks'] },
  ],
});

const stamp = { source: 'manual', createdBy: 'u1', createdAt: '2024-05-01T12:00:00Z', updatedAt: '2024-05-01T12:00:00Z' };

const nodule = (attributes: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  id: 'n1',
  kind: 'polygon',
  label: 'Nodule',
  attributes,
  ...stamp,
  points: [[0, 0], [4, 0], [4, 3]],
  ...extra,
});

const issuesOf = (objects: unknown[]) => {
  const result = validateDocument({ objects }, schema);
  if (result.ok) throw new Error('expected the document to be rejected');
  return result.issues;
};

describe('validateDocument', () => {
  it('accepts a document that fits the schema, without requiring required attributes', () => {
    const result = validateDocument({ objects: [nodule({ size: 12, solid: true })] }, schema);
    expect(result).toMatchObject({ ok: true, document: { objects: [{ id: 'n1', attributes: { size: 12, solid: true } }] } });
  });

  it('reports structural problems with paths', () => {
    expect(validateDocument({ objects: [nodule({}, { points: 'none' })] }, schema)).toEqual({
      ok: false,
      issues: [{ path: 'objects[0].points', message: expect.stringContaining('expected array') }],
    });
    expect(validateDocument(null, schema)).toMatchObject({ ok: false, issues: [{ path: '' }] });
  });

  it('rejects unknown labels, with a hint when only the case differs', () => {
    expect(issuesOf([nodule({}, { label: 'Foo' })])).toEqual([{ path: 'objects[0].label', message: 'unknown label "Foo"' }]);
    expect(issuesOf([nodule({}, { label: 'nodule' })])).toEqual([
      { path: 'objects[0].label', message: 'unknown label "nodule" (did you mean "Nodule"?)' },
    ]);
  });

  it('rejects a kind the label does not allow', () => {
    const { points: _points, ...base } = nodule();
    const box = { ...base, kind: 'box', x: 0, y: 0, width: 1, height: 1 };
    expect(issuesOf([box])).toEqual([
      { path: 'objects[0].label', message: 'label "Nodule" does not allow kind "box" (allowed: polygon, ellipse)' },
    ]);
  });

  it('rejects unknown attributes', () => {
    expect(issuesOf([nodule({ colour: 'red' })])).toEqual([
      { path: 'objects[0].attributes.colour', message: 'unknown attribute "colour" for label "Nodule"' },
    ]);
  });

  it('checks number ranges and steps', () => {
    expect(issuesOf([nodule({ size: 101 })])).toEqual([
      { path: 'objects[0].attributes.size', message: 'attribute "size" must be between 0 and 100' },
    ]);
    expect(issuesOf([nodule({ size: -0.5 })])[0]?.message).toBe('attribute "size" must be between 0 and 100');
    expect(issuesOf([nodule({ size: '12' })])[0]?.message).toBe('attribute "size" must be a number, not "12"');
    expect(issuesOf([nodule({ density: 0.35 })])[0]?.message).toBe('attribute "density" must be a multiple of 0.1');
    expect(issuesOf([nodule({ offset: 2.25 })])[0]?.message).toBe('attribute "offset" must be 1 plus a multiple of 0.5');
    // Float noise must not count as a miss.
    expect(validateDocument({ objects: [nodule({ density: 0.1 + 0.2, offset: 2.5, size: 100 })] }, schema).ok).toBe(true);
  });

  it('checks select, multiselect, checkbox and text values', () => {
    expect(issuesOf([nodule({ severity: 'maybe' })])).toEqual([
      { path: 'objects[0].attributes.severity', message: '"maybe" is not an option of attribute "severity" (options: mild, severe)' },
    ]);
    expect(issuesOf([nodule({ severity: ['mild'] })])[0]?.message).toMatch(/^attribute "severity" must be one of the options/);
    expect(issuesOf([nodule({ findings: ['calcified', 'round'] })])).toEqual([
      { path: 'objects[0].attributes.findings[1]', message: '"round" is not an option of attribute "findings" (options: calcified, spiculated)' },
    ]);
    expect(issuesOf([nodule({ findings: ['calcified', 'calcified'] })])[0]?.message).toBe('"calcified" is chosen twice in attribute "findings"');
    expect(issuesOf([nodule({ findings: 'calcified' })])[0]?.message).toBe('attribute "findings" must be a list of options, not "calcified"');
    expect(issuesOf([nodule({ solid: 'yes' })])[0]?.message).toBe('attribute "solid" must be true or false, not "yes"');
    expect(issuesOf([nodule({ note: 'too long' })])[0]?.message).toBe('attribute "note" must be at most 5 characters long');
    // Length counts code points: five emoji are five characters.
    expect(validateDocument({ objects: [nodule({ note: '😀😀😀😀😀' })] }, schema).ok).toBe(true);
  });

  it('reports every problem, not just the first', () => {
    const issues = issuesOf([nodule({ size: 500 }), nodule({ solid: 1 }, { id: 'n2', label: 'Bar' })]);
    expect(issues.map((i) => i.path)).toEqual(['objects[0].attributes.size', 'objects[1].label']);
  });

  it('checks that relations and transcripts point at objects in the document', () => {
    const span = (id: string) => ({ id, kind: 'span', label: 'Drug', ...stamp, ranges: [[0, 4]] });
    const rel = { id: 'r1', kind: 'relation', label: 'treats', ...stamp, from: 'd1', to: 'gone' };
    expect(issuesOf([span('d1'), rel])).toEqual([
      { path: 'objects[1].to', message: 'relation refers to object "gone", which is not in this document' },
    ]);
    expect(validateDocument({ objects: [span('d1'), span('d2'), { ...rel, to: 'd2' }] }, schema).ok).toBe(true);

    const seg = { id: 's1', kind: 'segment', label: 'Utterance', ...stamp, start: 0, end: 1.5 };
    const tr = { id: 't1', kind: 'transcript', label: 'Text', ...stamp, segment: 's1', text: 'hello' };
    expect(validateDocument({ objects: [seg, tr] }, schema).ok).toBe(true);
    expect(issuesOf([tr])).toEqual([
      { path: 'objects[0].segment', message: 'transcript refers to object "s1", which is not in this document' },
    ]);
    expect(issuesOf([span('s1'), tr])).toEqual([
      { path: 'objects[1].segment', message: 'transcript must refer to a segment object, but "s1" is a span' },
    ]);
  });

  it('checks the labels of a label map’s segments', () => {
    const lm = (segments: unknown[]) => ({
      id: 'lm',
      kind: 'labelmap',
      label: 'Liver',
      ...stamp,
      blob: 'ab'.repeat(32),
      shape: [64, 64, 32],
      segments,
    });
    expect(validateDocument({ objects: [lm([{ value: 1, label: 'Liver' }, { value: 2, label: 'Kidney' }])] }, schema).ok).toBe(true);
    expect(issuesOf([lm([{ value: 1, label: 'Spleen' }, { value: 2, label: 'Nodule' }])])).toEqual([
      { path: 'objects[0].segments[0].label', message: 'unknown label "Spleen"' },
      { path: 'objects[0].segments[1].label', message: 'label "Nodule" does not allow kind "labelmap" (allowed: polygon, ellipse)' },
    ]);
  });
});

describe('landmark sets', () => {
  const lms = (label: string, points: unknown[]) => ({ id: 'lm1', kind: 'landmarks', label, attributes: {}, ...stamp, points });

  it('accepts points named from the label\'s set, in 3D and 2D', () => {
    const ok = validateDocument(
      {
        objects: [
          lms('Hip', [
            { name: 'left femoral head centre', i: 100.5, j: 200, k: 40 },
            { name: 'right femoral head centre', i: 300, j: 201, k: 41.25 },
          ]),
        ],
      },
      schema,
    );
    expect(ok.ok).toBe(true);
    expect(validateDocument({ objects: [lms('Hip', [{ name: 'left femoral head centre', x: 3, y: 4 }])] }, schema).ok).toBe(true);
  });

  it('names an unknown point and lists the allowed ones', () => {
    expect(issuesOf([lms('Hip', [{ name: 'left femoral head centre', i: 1, j: 2, k: 3 }, { name: 'nasion', i: 1, j: 2, k: 4 }])])).toEqual([
      {
        path: 'objects[0].points[1].name',
        message:
          'landmark "nasion" is not in the landmark set of label "Hip"; allowed: "left femoral head centre", "right femoral head centre"',
      },
    ]);
    expect(issuesOf([lms('Hip', [{ name: 'Left femoral head centre', i: 1, j: 2, k: 3 }])])[0]?.message).toContain('(did you mean "left femoral head centre"?)');
  });

  it('allows any names when the label defines no set', () => {
    expect(validateDocument({ objects: [lms('Keypoints', [{ name: 'anything', x: 1, y: 1 }])] }, schema).ok).toBe(true);
  });
});

describe('missingRequired', () => {
  it('lists required attributes that are absent or blank', () => {
    const { points: _points, ...base } = nodule({}, { id: 'n2', kind: 'ellipse' });
    const ellipse = { ...base, cx: 1, cy: 1, rx: 1, ry: 1 };
    const result = validateDocument({ objects: [nodule({ severity: 'mild', findings: [], note: '  ' }), ellipse] }, schema);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(missingRequired(result.document, schema)).toEqual([
      { path: 'objects[0].attributes.findings', message: 'attribute "findings" is required for label "Nodule" (object "n1")' },
      { path: 'objects[0].attributes.note', message: 'attribute "note" is required for label "Nodule" (object "n1")' },
      { path: 'objects[1].attributes.severity', message: 'attribute "severity" is required for label "Nodule" (object "n2")' },
      { path: 'objects[1].attributes.findings', message: 'attribute "findings" is required for label "Nodule" (object "n2")' },
      { path: 'objects[1].attributes.note', message: 'attribute "note" is required for label "Nodule" (object "n2")' },
    ]);
  });

  it('is empty once every required attribute is filled in', () => {
    const result = validateDocument({ objects: [nodule({ severity: 'mild', findings: ['calcified'], note: 'ok' })] }, schema);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(missingRequired(result.document, schema)).toEqual([]);
  });
});
