import type { AnnotationDocument, AnyObject, AttributeDef, AttributeValue, LabelDef, LabelSchema, TagObject } from '../types';

export function uuid(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; getRandomValues does not.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function isAssetTag(o: AnyObject): o is AnyObject & TagObject {
  return o.kind === 'tag' && (o.scope as { type?: string } | undefined)?.type === 'asset';
}

export function assetTags(doc: AnnotationDocument): TagObject[] {
  return doc.objects.filter(isAssetTag) as unknown as TagObject[];
}

/** Labels that can classify a whole asset, in schema order, with the key that selects each. */
export interface TagLabel {
  label: LabelDef;
  key: string | null;
}

export function tagLabels(schema: LabelSchema | null | undefined): TagLabel[] {
  const labels = (schema?.labels ?? []).filter((l) => (l.kinds ?? ['tag']).includes('tag'));
  const taken = new Set(labels.map((l) => l.shortcut?.toLowerCase()).filter((s): s is string => !!s));
  const free = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].filter((d) => !taken.has(d));
  return labels.map((label) => ({ label, key: label.shortcut ? label.shortcut.toLowerCase() : (free.shift() ?? null) }));
}

/** The attribute values a new object of this label starts with: the schema's defaults. */
export function defaultAttributeValues(label: LabelDef | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const a of label?.attributes ?? []) {
    if (a.default !== undefined && a.default !== null) out[a.name] = a.default as AttributeValue;
  }
  return out;
}

function newTag(label: string, userId: string, attributes: Record<string, AttributeValue>): TagObject {
  const now = new Date().toISOString();
  return { id: uuid(), kind: 'tag', scope: { type: 'asset' }, label, attributes: { ...attributes }, source: 'manual', createdBy: userId, createdAt: now, updatedAt: now };
}

/**
 * Single choice: choosing a label makes it the only asset tag; choosing the active label removes
 * it. With `add` (Shift): toggles that label while keeping the others (multi-label).
 */
export function toggleLabel(
  doc: AnnotationDocument,
  label: string,
  userId: string,
  add: boolean,
  defaults: Record<string, AttributeValue> = {},
): AnnotationDocument {
  const tags = assetTags(doc);
  const has = tags.some((t) => t.label === label);
  let objects: AnyObject[];
  if (has) {
    objects = doc.objects.filter((o) => !(isAssetTag(o) && o.label === label));
  } else if (add) {
    objects = [...doc.objects, newTag(label, userId, defaults) as unknown as AnyObject];
  } else {
    objects = [...doc.objects.filter((o) => !isAssetTag(o)), newTag(label, userId, defaults) as unknown as AnyObject];
  }
  return { ...doc, objects };
}

export function clearTags(doc: AnnotationDocument): AnnotationDocument {
  if (!assetTags(doc).length) return doc;
  return { ...doc, objects: doc.objects.filter((o) => !isAssetTag(o)) };
}

export function setAttribute(doc: AnnotationDocument, objectId: string, name: string, value: AttributeValue | undefined): AnnotationDocument {
  return {
    ...doc,
    objects: doc.objects.map((o) => {
      if (o.id !== objectId) return o;
      const attributes = { ...o.attributes };
      if (value === undefined) delete attributes[name];
      else attributes[name] = value;
      return { ...o, attributes, updatedAt: new Date().toISOString() };
    }),
  };
}

export function isMissing(value: AttributeValue | undefined, def: AttributeDef): boolean {
  if (value === undefined || value === null) return true;
  if (def.type === 'multiselect') return !Array.isArray(value) || value.length === 0;
  if (def.type === 'text' || def.type === 'select') return value === '';
  return false;
}

/** Problems with one value, in words; null when fine. */
export function checkValue(value: AttributeValue | undefined, def: AttributeDef): string | null {
  if (isMissing(value, def)) return def.required ? 'Required' : null;
  switch (def.type) {
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'Enter a number';
      if (def.min !== undefined && value < def.min) return `At least ${def.min}`;
      if (def.max !== undefined && value > def.max) return `At most ${def.max}`;
      if (def.step !== undefined) {
        const q = (value - (def.min ?? 0)) / def.step;
        if (Math.abs(q - Math.round(q)) > 1e-9 * Math.max(1, Math.abs(q))) return `Must be in steps of ${def.step}${def.min ? ` from ${def.min}` : ''}`;
      }
      return null;
    }
    case 'select':
      return def.options?.includes(String(value)) ? null : 'Not one of the options';
    case 'text':
      return typeof value === 'string' && value.length > (def.maxLength ?? 1000) ? `At most ${def.maxLength ?? 1000} characters` : null;
    default:
      return null;
  }
}

/** Required attributes that are still empty, over all asset tags. */
export function missingRequiredFor(doc: AnnotationDocument, schema: LabelSchema | null | undefined): { tag: TagObject; attr: AttributeDef }[] {
  const out: { tag: TagObject; attr: AttributeDef }[] = [];
  for (const tag of assetTags(doc)) {
    const def = schema?.labels.find((l) => l.name === tag.label);
    for (const attr of def?.attributes ?? []) if (attr.required && isMissing(tag.attributes[attr.name], attr)) out.push({ tag, attr });
  }
  return out;
}
