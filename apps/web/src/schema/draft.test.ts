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

  it('maps server paths onto editor paths', () => {
    expect(schemaErrors([{ path: 'labelSchema.labels.0.name', message: 'x' }])[0]!.path).toBe('labels.0.name');
  });
});
