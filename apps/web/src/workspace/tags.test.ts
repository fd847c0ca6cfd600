import { describe, expect, it } from 'vitest';
import type { AnnotationDocument, LabelSchema } from '../types';
import { assetTags, checkValue, clearTags, defaultAttributeValues, missingRequiredFor, setAttribute, tagLabels, toggleLabel, uuid } from './tags';

const schema: LabelSchema = {
  version: 1,
  labels: [
    { name: 'Normal', color: '#00aa00', kinds: ['tag'], attributes: [] },
    { name: 'Nodule', color: '#aa0000', kinds: ['tag', 'box'], attributes: [{ name: 'Size', type: 'number', required: true, min: 0, max: 30, step: 0.5 }] },
    { name: 'Box only', color: '#0000aa', kinds: ['box'], attributes: [] },
    { name: 'Other', color: '#888888', shortcut: 'o', kinds: ['tag'], attributes: [] },
    { name: 'Two', color: '#888888', shortcut: '2', kinds: ['tag'], attributes: [] },
  ],
};
const empty: AnnotationDocument = { objects: [] };

describe('tagLabels', () => {
  it('keeps labels that allow tags and gives free digits to those without a shortcut', () => {
    expect(tagLabels(schema).map((l) => [l.label.name, l.key])).toEqual([
      ['Normal', '1'],
      ['Nodule', '3'],
      ['Other', 'o'],
      ['Two', '2'],
    ]);
  });
});

describe('toggleLabel', () => {
  it('is single choice, removes the active label, and adds with shift', () => {
    let doc = toggleLabel(empty, 'Normal', 'u1', false);
    expect(assetTags(doc).map((t) => t.label)).toEqual(['Normal']);
    const tag = assetTags(doc)[0]!;
    expect(tag).toMatchObject({ kind: 'tag', scope: { type: 'asset' }, attributes: {}, source: 'manual', createdBy: 'u1' });
    doc = toggleLabel(doc, 'Nodule', 'u1', false);
    expect(assetTags(doc).map((t) => t.label)).toEqual(['Nodule']);
    doc = toggleLabel(doc, 'Other', 'u1', true);
    expect(assetTags(doc).map((t) => t.label)).toEqual(['Nodule', 'Other']);
    doc = toggleLabel(doc, 'Nodule', 'u1', false);
    expect(assetTags(doc).map((t) => t.label)).toEqual(['Other']);
    expect(assetTags(clearTags(doc))).toEqual([]);
  });

  it('leaves objects of other kinds alone', () => {
    const box = { id: 'b', kind: 'box', label: 'Box only', attributes: {}, x: 1 };
    const doc = toggleLabel({ objects: [box] }, 'Normal', 'u', false);
    expect(doc.objects[0]).toBe(box);
    expect(clearTags(doc).objects).toEqual([box]);
  });
});

describe('attributes', () => {
  it('reports missing required values and range/step problems', () => {
    let doc = toggleLabel(empty, 'Nodule', 'u', false);
    expect(missingRequiredFor(doc, schema).map((m) => m.attr.name)).toEqual(['Size']);
    const id = assetTags(doc)[0]!.id;
    doc = setAttribute(doc, id, 'Size', 4.5);
    expect(missingRequiredFor(doc, schema)).toEqual([]);
    const size = schema.labels[1]!.attributes[0]!;
    expect(checkValue(undefined, size)).toBe('Required');
    expect(checkValue(31, size)).toBe('At most 30');
    expect(checkValue(0.3, size)).toMatch(/steps of 0.5/);
    expect(checkValue(0.1 + 0.2 + 0.2, size)).toBeNull();
    doc = setAttribute(doc, id, 'Size', undefined);
    expect(assetTags(doc)[0]!.attributes).toEqual({});
  });
});

describe('uuid', () => {
  it('looks like a v4 UUID', () => {
    expect(uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('schema defaults', () => {
  it('a new tag starts with the label’s default attribute values', () => {
    const label = {
      name: 'Nodule',
      color: '#ff0000',
      kinds: ['tag'],
      attributes: [
        { name: 'severity', type: 'select', options: ['mild', 'severe'], default: 'mild', required: true },
        { name: 'size', type: 'number', required: false },
      ],
    } as unknown as Parameters<typeof defaultAttributeValues>[0];
    const defaults = defaultAttributeValues(label);
    expect(defaults).toEqual({ severity: 'mild' });
    const doc = toggleLabel({ objects: [] }, 'Nodule', 'u', false, defaults);
    expect((doc.objects[0] as { attributes: unknown }).attributes).toEqual({ severity: 'mild' });
  });
});
