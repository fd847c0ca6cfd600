import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as core from './index.js';

describe('public API', () => {
  it('takes a label schema and a document from JSON to a submit check', () => {
    const parsed = core.parseLabelSchema(
      JSON.parse('{"version":1,"labels":[{"name":"Finding","color":"#123456","kinds":["box"],"attributes":[{"name":"grade","type":"select","options":["1","2"],"required":true}]}]}'),
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    const doc = {
      objects: [
        { id: 'b1', kind: 'box', label: 'Finding', source: 'model:detector', createdBy: 'u', createdAt: '2024-01-01T00:00:00Z', updatedAt: '2024-01-01T00:00:00Z', x: 1, y: 2, width: 3, height: 4, frame: 7 },
      ],
    };
    const result = core.validateDocument(doc, parsed.schema);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(core.objectArea(result.document.objects[0]!)).toBe(12);
    expect(core.missingRequired(result.document, parsed.schema)).toEqual([
      { path: 'objects[0].attributes.grade', message: 'attribute "grade" is required for label "Finding" (object "b1")' },
    ]);
  });

  it('can describe the document and label schema as JSON Schema (for API docs)', () => {
    const doc = z.toJSONSchema(core.annotationDocumentSchema, { io: 'input' }) as { properties?: { objects?: { items?: { oneOf?: unknown[] } } } };
    expect(doc.properties?.objects?.items?.oneOf).toHaveLength(core.ANNOTATION_KINDS.length);
    expect(() => z.toJSONSchema(core.labelSchemaSchema, { io: 'input' })).not.toThrow();
  });
});
