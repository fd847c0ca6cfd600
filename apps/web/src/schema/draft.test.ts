import { describe, expect, it } from 'vitest';
import { newAttr, newLabel, schemaErrors, toDraft, toSchema, validateDraft } from './draft';

describe('label schema draft', () => {
  it('round-trips and drops fields the strict server schema would refuse', () => {
    const l = { ...newLabel(0), name: ' Pneumonia ', shortcut: '' };
    l.attributes = [{ ...newAttr(), name: 'Severity', type: 'select', required: true, options: ['mild', ' ', 'severe'], min: '3' }];
    const schema = toSchema([l]);
    expect(schema).toEqual({
      version: 1,
      labels: [{ name: 'Pneumonia', color: l.color, kinds: ['tag'], attributes: [{ name: 'Severity', type: 'select', required: true, options: ['mild', 'severe'] }] }],
    });
    expect(toSchema(toDraft(schema))).toEqual(schema);
  });

  it('finds duplicate names, shortcuts and empty options', () => {
    const a = { ...newLabel(0), name: 'A', shortcut: 'x' };
    const b = { ...newLabel(1), name: 'a', shortcut: 'x', attributes: [{ ...newAttr(), name: 'S' }] };
    expect(validateDraft([a, b]).map((e) => e.path)).toEqual(['labels.1.name', 'labels.1.shortcut', 'labels.1.attributes.0.options']);
  });

  it('round-trips a landmark set only for labels that allow the landmarks kind', () => {
    const hip = { ...newLabel(0), name: 'Hip', kinds: ['landmarks'], landmarks: ' left femoral head centre\r\n\nright femoral head centre \n' };
    const schema = toSchema([hip]);
    expect(schema.labels[0]).toEqual({ name: 'Hip', color: hip.color, kinds: ['landmarks'], attributes: [], landmarks: ['left femoral head centre', 'right femoral head centre'] });
    const back = toDraft(schema);
    expect(back[0]!.landmarks).toBe('left femoral head centre\nright femoral head centre');
    expect(toSchema(back)).toEqual(schema);
    // names typed while the kind was allowed are not sent once it is unchecked, nor blank sets
    expect(toSchema([{ ...hip, kinds: ['points'] }]).labels[0]).not.toHaveProperty('landmarks');
    expect(toSchema([{ ...hip, landmarks: ' \n ' }]).labels[0]).not.toHaveProperty('landmarks');
    expect(toDraft({ version: 1, labels: [{ name: 'A', color: '#000000', kinds: ['tag'], attributes: [] }] })[0]!.landmarks).toBe('');
  });

  it('checks landmark names like the server', () => {
    const base = { ...newLabel(0), name: 'Hip', kinds: ['landmarks'] };
    expect(validateDraft([{ ...base, landmarks: 'Nasion\nsella\nNASION' }])).toEqual([{ path: 'labels.0.landmarks', message: 'Duplicate landmark "NASION".' }]);
    const many = Array.from({ length: 101 }, (_, i) => `p${i}`).join('\n');
    expect(validateDraft([{ ...base, landmarks: many }])[0]?.message).toBe('At most 100 landmark names (101 given).');
    expect(validateDraft([{ ...base, kinds: ['tag'], landmarks: 'a\na' }])).toEqual([]);
  });

  it('maps server paths onto editor paths', () => {
    expect(schemaErrors([{ path: 'labelSchema.labels.0.name', message: 'x' }])[0]!.path).toBe('labels.0.name');
  });
});
