import { describe, expect, it } from 'vitest';
import type { ReplicasView } from '../../types';
import { boundarySegments, CONSENSUS_COLOR, CONSENSUS_KEY, RATER_COLORS, raterRows, stapleText, toggleAll } from './raters';

const obj = (id: string, kind: string) => ({ id, kind, label: 'L', attributes: {} });

describe('raterRows', () => {
  const view: ReplicasView = {
    raters: [
      { jobId: 'j1', annotatorId: 'u1', annotatorName: 'Ann', revision: 2, document: { objects: [obj('a', 'box'), obj('t', 'tag')] } },
      { jobId: 'j2', annotatorId: 'u2', annotatorName: null, revision: 0, document: { objects: [] } },
    ],
    consensus: {
      jobId: 'c',
      revision: 1,
      document: { objects: [obj('c1', 'labelmap')] },
      // The consensus lists raters in its own order.
      result: { raters: [{ jobId: 'j2' }, { jobId: 'j1' }], labelmap: { labels: ['Liver'], sensitivity: [{ Liver: 0.5 }, { Liver: 0.9 }], specificity: [0.99, 0.98] } },
    },
  };
  it('colours by position, counts non-tag objects, STAPLE matched by job id, consensus last', () => {
    const rows = raterRows(view);
    expect(rows.map((r) => [r.key, r.name, r.color, r.count])).toEqual([
      ['j1', 'Ann', RATER_COLORS[0], 1],
      ['j2', 'Rater 2', RATER_COLORS[1], 0],
      [CONSENSUS_KEY, 'Consensus', CONSENSUS_COLOR, 1],
    ]);
    expect(rows[0]!.staple).toEqual({ sensitivity: { Liver: 0.9 }, specificity: 0.98 });
    expect(rows[1]!.staple).toEqual({ sensitivity: { Liver: 0.5 }, specificity: 0.99 });
    expect(rows[2]!.staple).toBeNull();
    expect(stapleText(rows[0]!.staple!)).toBe('Se 0.90 · Sp 0.98');
    expect(stapleText({ sensitivity: { A: 1, B: 0.255 }, specificity: 1 })).toBe('Se A 1.00, B 0.26 · Sp 1.00');
  });
  it('no consensus: raters only, no STAPLE', () => {
    const rows = raterRows({ ...view, consensus: null });
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.staple === null)).toBe(true);
  });
});

describe('toggleAll', () => {
  it('turns all on when any is off, all off when all are on', () => {
    expect([...toggleAll(['a', 'b'], new Set(['a']))].sort()).toEqual(['a', 'b']);
    expect([...toggleAll(['a', 'b'], new Set(['a', 'b']))]).toEqual([]);
  });
});

/** Independent check: the set of unit edges between differing pixels, by brute force. */
function unitEdges(plane: number[], w: number, h: number): Set<string> {
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= w || y >= h ? 0 : plane[y * w + x]!);
  const s = new Set<string>();
  for (let y = -1; y < h; y++) for (let x = -1; x < w; x++) {
    if (at(x, y) !== at(x + 1, y)) s.add(`v${x + 1},${y}`);
    if (at(x, y) !== at(x, y + 1)) s.add(`h${x},${y + 1}`);
  }
  return s;
}
function expand(segs: number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < segs.length; i += 4) {
    const [x0, y0, x1, y1] = segs.slice(i, i + 4) as [number, number, number, number];
    if (y0 === y1) for (let x = x0; x < x1; x++) out.push(`h${x},${y0}`);
    else for (let y = y0; y < y1; y++) out.push(`v${x0},${y}`);
  }
  return out;
}

describe('boundarySegments', () => {
  it('a 2×2 square in a 4×4 plane: four merged sides', () => {
    const p = [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0];
    expect(boundarySegments(p, 4, 4)).toEqual([1, 1, 3, 1, 1, 3, 3, 3, 1, 1, 1, 3, 3, 1, 3, 3]);
  });
  it('random planes with two labels touching the border: exactly the differing unit edges, each once', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) % 3;
    for (let t = 0; t < 20; t++) {
      const w = 3 + (t % 5);
      const h = 2 + (t % 4);
      const p = Array.from({ length: w * h }, rnd);
      const got = expand(boundarySegments(p, w, h));
      expect(new Set(got).size).toBe(got.length);
      expect(new Set(got)).toEqual(unitEdges(p, w, h));
    }
  });
  it('an empty plane has no boundary', () => {
    expect(boundarySegments(new Uint8Array(12), 4, 3)).toEqual([]);
  });
});
