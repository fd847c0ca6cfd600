import { describe, expect, expectTypeOf, it } from 'vitest';
import { formatZodIssues } from '../validation/issues.js';
import { ANNOTATION_KINDS, type AnnotationKind } from './kind-names.js';
import { trackShapeAt } from './kinds/track.js';
import {
  annotationDocumentSchema,
  annotationObjectSchema,
  objectArea,
  objectBounds,
  type AnnotationObject,
  type AnnotationObjectOf,
} from './object.js';
import { getKindUtil, KIND_UTILS } from './registry.js';

const common = {
  label: 'L',
  source: 'manual',
  createdBy: 'u1',
  createdAt: '2024-05-01T12:00:00Z',
  updatedAt: '2024-05-01T12:00:00.123+02:00',
} as const;

/** One valid object of every kind. */
const EXAMPLES: Record<AnnotationKind, Record<string, unknown>> = {
  tag: { scope: { type: 'timeRange', start: 1.5, end: 3 } },
  box: { x: 10, y: 20, width: 30, height: 40, slice: 5 },
  polygon: { points: [[0, 0], [4, 0], [4, 3], [0, 3]], frame: 12 },
  polyline: { points: [[0, 0], [3, 4]] },
  points: { points: [[1, 2]] },
  ellipse: { cx: 10, cy: 10, rx: 2, ry: 3 },
  landmarks: { points: [{ name: 'carina', i: 200.5, j: 180, k: 42 }] },
  mask: { rle: { size: [2, 3], counts: [1, 3, 2] } },
  labelmap: { blob: 'a'.repeat(64), shape: [512, 512, 120], segments: [{ value: 1, label: 'Liver' }] },
  measurement: { type: 'length', points: [[0, 0], [3, 4]], value: 3.5, unit: 'mm', slice: 2 },
  track: {
    keyframes: [
      { frame: 0, shape: { type: 'box', x: 0, y: 0, width: 10, height: 10 } },
      { frame: 10, shape: { type: 'box', x: 10, y: 20, width: 20, height: 10 }, outside: false },
      { frame: 20, shape: { type: 'box', x: 10, y: 20, width: 20, height: 10 }, outside: true },
    ],
  },
  segment: { start: 0.25, end: 1.75, channel: 0 },
  transcript: { segment: 's1', text: 'no murmur' },
  span: { ranges: [[0, 5], [10, 12]] },
  relation: { from: 'a', to: 'b' },
};

const make = (kind: AnnotationKind, overrides: Record<string, unknown> = {}, id = `${kind}-1`): Record<string, unknown> => ({
  id,
  kind,
  ...common,
  ...EXAMPLES[kind],
  ...overrides,
});

function issuesOf(input: unknown): { path: string; message: string }[] {
  const result = annotationObjectSchema.safeParse(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return formatZodIssues(result.error);
}

describe('kind registry', () => {
  it('has exactly one util per kind, keyed by its own kind', () => {
    expect(Object.keys(KIND_UTILS).sort()).toEqual([...ANNOTATION_KINDS].sort());
    for (const kind of ANNOTATION_KINDS) expect(getKindUtil(kind).kind).toBe(kind);
  });
});

describe('annotationObjectSchema', () => {
  it.each(ANNOTATION_KINDS)('accepts a valid %s and defaults attributes to {}', (kind) => {
    const parsed = annotationObjectSchema.parse(make(kind));
    expect(parsed.kind).toBe(kind);
    expect(parsed.attributes).toEqual({});
  });

  it('narrows to the kind-specific type', () => {
    const parsed = annotationObjectSchema.parse(make('box'));
    if (parsed.kind === 'box') expectTypeOf(parsed.width).toEqualTypeOf<number>();
    expectTypeOf<AnnotationObjectOf<'segment'>>().toHaveProperty('start');
    expectTypeOf<AnnotationObject['kind']>().toEqualTypeOf<AnnotationKind>();
  });

  it('names the valid kinds when the kind is unknown', () => {
    expect(issuesOf({ ...make('box'), kind: 'circle' })).toEqual([{ path: 'kind', message: expect.stringContaining('kind must be one of tag, box, polygon') }]);
  });

  it('rejects unknown fields instead of silently dropping them', () => {
    expect(issuesOf(make('box', { colour: 'red' }))).toEqual([{ path: '', message: 'Unrecognized key: "colour"' }]);
  });

  it('checks the common fields', () => {
    expect(issuesOf(make('box', {}, ''))[0]?.path).toBe('id');
    expect(issuesOf(make('box', {}, 'x'.repeat(65)))[0]?.path).toBe('id');
    expect(issuesOf(make('box', { createdAt: 'yesterday' }))[0]).toEqual({ path: 'createdAt', message: expect.stringContaining('ISO 8601') });
    expect(issuesOf(make('box', { attributes: { size: null } }))[0]?.path).toBe('attributes.size');
  });

  it('accepts the four kinds of source and nothing else', () => {
    for (const source of ['manual', 'consensus', 'model:nnunet-v2', 'import:coco']) {
      expect(annotationObjectSchema.safeParse(make('box', { source })).success).toBe(true);
    }
    for (const source of ['model:', 'import:', 'robot', 'Manual']) {
      expect(issuesOf(make('box', { source }))[0]).toEqual({ path: 'source', message: expect.stringContaining('"model:<name>"') });
    }
  });

  it('applies each kind’s own checks', () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [make('box', { width: 0 }), 'width', /greater than 0/],
      [make('box', { slice: 1, frame: 2 }), 'frame', /either slice or frame/],
      [make('polygon', { points: [[0, 0], [1, 1]] }), 'points', /at least 3 points/],
      [make('ellipse', { rx: -1 }), 'rx', /greater than 0/],
      [make('segment', { start: 2, end: 2 }), 'end', /must be after start/],
      [make('segment', { start: -1 }), 'start', /negative/],
      [make('span', { ranges: [[3, 3]] }), 'ranges[0]', /start < end/],
      [make('span', { ranges: [] }), 'ranges', /at least one range/],
      [make('span', { ranges: [[1.5, 3]] }), 'ranges[0][0]', /whole number/],
      [make('mask', { rle: { size: [2, 3], counts: [1, 3] } }), 'rle.counts', /add up to 4 pixels/],
      [make('labelmap', { blob: 'xyz' }), 'blob', /sha256/],
      [make('labelmap', { segments: [{ value: 1, label: 'A' }, { value: 1, label: 'B' }] }), 'segments[1].value', /duplicate segment value 1/],
      [make('labelmap', { segments: [{ value: 0, label: 'A' }] }), 'segments[0].value', /> 0/],
      [make('measurement', { type: 'angle' }), 'points', /exactly 3 points/],
      [make('measurement', { unit: 'deg' }), 'unit', /does not fit a length/],
      [make('relation', { to: 'a' }), 'to', /itself/],
      [make('tag', { scope: { type: 'timeRange', start: 3, end: 1 } }), 'scope.end', /after start/],
      [make('tag', { scope: { type: 'slice' } }), 'scope.k', /expected number/],
      [make('landmarks', { points: [{ name: 'a', x: 1, y: 1 }, { name: 'a', x: 2, y: 2 }] }), 'points[1].name', /duplicate landmark "a"/],
      [make('landmarks', { points: [{ name: 'a', x: 1, y: 1 }, { name: 'b', i: 1, j: 2, k: 3 }] }), 'points[1]', /do not mix/],
    ];
    for (const [input, path, message] of cases) {
      const issues = issuesOf(input);
      expect(issues, JSON.stringify(input)).toContainEqual({ path, message: expect.stringMatching(message) });
    }
  });

  it('requires track keyframes sorted by frame, one per frame', () => {
    const kf = (frame: number) => ({ frame, shape: { type: 'box', x: 0, y: 0, width: 1, height: 1 } });
    expect(issuesOf(make('track', { keyframes: [kf(0), kf(5), kf(3)] }))).toEqual([
      { path: 'keyframes[2].frame', message: 'keyframes must be sorted by frame (3 comes after 5)' },
    ]);
    expect(issuesOf(make('track', { keyframes: [kf(2), kf(2)] }))).toEqual([
      { path: 'keyframes[1].frame', message: 'two keyframes on frame 2' },
    ]);
    const parsed = annotationObjectSchema.parse(make('track', { keyframes: [kf(0)] }));
    expect(parsed.kind === 'track' && parsed.keyframes[0]?.outside).toBe(false);
  });
});

describe('annotationDocumentSchema', () => {
  it('accepts a document holding every kind', () => {
    const objects = ANNOTATION_KINDS.map((kind) => make(kind));
    expect(annotationDocumentSchema.parse({ objects }).objects).toHaveLength(ANNOTATION_KINDS.length);
  });

  it('rejects duplicate object ids', () => {
    const result = annotationDocumentSchema.safeParse({ objects: [make('box', {}, 'a'), make('span', {}, 'b'), make('polygon', {}, 'a')] });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(formatZodIssues(result.error)).toEqual([
      { path: 'objects[2].id', message: 'duplicate object id "a" (also used by objects[0])' },
    ]);
  });
});

describe('geometry through the registry', () => {
  const parse = (kind: AnnotationKind, overrides: Record<string, unknown> = {}): AnnotationObject =>
    annotationObjectSchema.parse(make(kind, overrides));

  it('computes areas', () => {
    expect(objectArea(parse('box'))).toBe(1200);
    expect(objectArea(parse('polygon'))).toBe(12);
    expect(objectArea(parse('ellipse'))).toBeCloseTo(6 * Math.PI);
    expect(objectArea(parse('mask'))).toBe(3);
    expect(objectArea(parse('polyline'))).toBeUndefined();
    expect(objectArea(parse('span'))).toBeUndefined();
  });

  it('computes 2D bounds', () => {
    expect(objectBounds(parse('box'))).toEqual({ minX: 10, minY: 20, maxX: 40, maxY: 60 });
    expect(objectBounds(parse('polyline'))).toEqual({ minX: 0, minY: 0, maxX: 3, maxY: 4 });
    expect(objectBounds(parse('mask'))).toEqual({ minX: 0, minY: 0, maxX: 3, maxY: 2 });
    expect(objectBounds(parse('landmarks', { points: [{ name: 'a', x: 5, y: 1 }, { name: 'b', x: 2, y: 8 }] }))).toEqual({
      minX: 2,
      minY: 1,
      maxX: 5,
      maxY: 8,
    });
    expect(objectBounds(parse('segment'))).toBeUndefined();
  });
});

describe('trackShapeAt', () => {
  const track = annotationObjectSchema.parse(make('track'));
  if (track.kind !== 'track') throw new Error('not a track');

  it('returns keyframe shapes and interpolates boxes between keyframes', () => {
    expect(trackShapeAt(track, 0)).toEqual({ type: 'box', x: 0, y: 0, width: 10, height: 10 });
    expect(trackShapeAt(track, 5)).toEqual({ type: 'box', x: 5, y: 10, width: 15, height: 10 });
  });

  it('holds the shape before an outside keyframe and hides it after', () => {
    expect(trackShapeAt(track, 15)).toEqual({ type: 'box', x: 10, y: 20, width: 20, height: 10 });
    expect(trackShapeAt(track, 25)).toBeUndefined();
  });

  it('interpolates polygons with matching vertex counts', () => {
    const poly = (frame: number, d: number) => ({ frame, outside: false, shape: { type: 'polygon' as const, points: [[d, 0], [d + 2, 0], [d, 2]] as [number, number][] } });
    expect(trackShapeAt({ keyframes: [poly(0, 0), poly(4, 4)] }, 1)).toEqual({ type: 'polygon', points: [[1, 0], [3, 0], [1, 2]] });
  });
});

describe('point lists', () => {
  const base = { id: 'p', kind: 'polygon', label: 'L', attributes: {}, source: 'manual', createdBy: 'u', createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z' };
  it('accepts long polygons and names the first bad vertex by index', () => {
    const points = Array.from({ length: 500 }, (_, i) => [i, i * 2]);
    expect(annotationObjectSchema.safeParse({ ...base, points }).success).toBe(true);
    const bad = points.map((p) => [...p]);
    bad[137] = [1, Number.NaN];
    const r = annotationObjectSchema.safeParse({ ...base, points: bad });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['points', 137]);
    const three = annotationObjectSchema.safeParse({ ...base, points: [[0, 0], [1, 1], [2]] });
    expect(three.success).toBe(false);
    expect(annotationObjectSchema.safeParse({ ...base, points: [[0, 0], [1, 1]] }).error?.issues[0]?.message).toMatch(/at least 3/);
  });
});
