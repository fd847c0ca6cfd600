import { describe, expect, it } from 'vitest';
import { adjustRadius, CT_THRESHOLD_PRESETS, MAX_RADIUS_MM, MIN_RADIUS_MM } from './settings';
import { colorTable, parseHexColor, remapByLabel, segmentsFromLabels } from './segments';

describe('adjustRadius', () => {
  it('steps by 1 mm below 10, 2 mm below 20, 5 mm above, and is reversible', () => {
    expect(adjustRadius(5, 1)).toBe(6);
    expect(adjustRadius(10, 1)).toBe(12);
    expect(adjustRadius(20, 1)).toBe(25);
    expect(adjustRadius(10, -1)).toBe(9);
    expect(adjustRadius(20, -1)).toBe(18);
    expect(adjustRadius(25, -1)).toBe(20);
    for (let r = MIN_RADIUS_MM; r < MAX_RADIUS_MM; r = adjustRadius(r, 1)) expect(adjustRadius(adjustRadius(r, 1), -1)).toBe(r);
  });

  it('clamps to 1..50 mm and repairs bad input', () => {
    expect(adjustRadius(1, -1)).toBe(1);
    expect(adjustRadius(50, 1)).toBe(50);
    expect(adjustRadius(80, -1)).toBe(45);
    expect(adjustRadius(Number.NaN, 1)).toBe(6);
  });
});

describe('segment table', () => {
  it('parses label colours and falls back to a palette', () => {
    expect(parseHexColor('#0f8')).toEqual([0, 255, 136]);
    expect(parseHexColor('#12345678')).toEqual([0x12, 0x34, 0x56]);
    expect(parseHexColor('red')).toBeNull();
    const segs = segmentsFromLabels([
      { name: 'A', color: 'not a colour', kinds: ['labelmap'], attributes: [] },
      { name: 'B', color: '#000000', kinds: ['tag'], attributes: [] },
      { name: 'C', color: '#0000ff', kinds: ['mask', 'labelmap'], attributes: [] },
    ]);
    expect(segs.map((s) => [s.value, s.label])).toEqual([
      [1, 'A'],
      [2, 'C'],
    ]);
    expect(segs[0]!.color).toMatch(/^#[0-9a-f]{6}$/);
    const table = colorTable(segs);
    expect(table.length).toBe(3);
    expect(table[2]).toBe(0xffff0000); // blue, opaque, little-endian RGBA
  });

  it('remaps stored values by label name and lists dropped labels once', () => {
    const current = segmentsFromLabels([
      { name: 'Liver', color: '#ff0000', kinds: ['labelmap'], attributes: [] },
      { name: 'Kidney', color: '#00ff00', kinds: ['labelmap'], attributes: [] },
    ]);
    const r = remapByLabel(
      [
        { value: 1, label: 'Kidney' },
        { value: 3, label: 'Liver' },
        { value: 4, label: 'Gone' },
      ],
      current,
      5,
    );
    expect(Array.from(r.table)).toEqual([0, 2, 0, 1, 0, 0]);
    expect(r.identity).toBe(false);
    expect(r.dropped).toEqual(['Gone']);
    expect(remapByLabel([{ value: 1, label: 'Liver' }, { value: 2, label: 'Kidney' }], current, 2).identity).toBe(true);
  });

  it('has the CT presets of the brief', () => {
    expect(Object.fromEntries(CT_THRESHOLD_PRESETS.map((p) => [p.name, p.range]))).toEqual({
      Lung: [-1000, -400],
      Fat: [-190, -30],
      'Soft tissue': [-100, 300],
      Liver: [40, 200],
      Bone: [200, 3000],
    });
  });
});
