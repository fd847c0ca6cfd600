import { describe, expect, it } from 'vitest';
import { SLAB_BYTES, slabFrames } from './volume';

describe('slabFrames', () => {
  it('splits the 512×512×300 int16 CT into three equal slabs of 100 frames', () => {
    expect(slabFrames(300, 512 * 512 * 2)).toBe(100);
  });

  it('keeps every slab within SLAB_BYTES and uses rounds of three equal requests', () => {
    const frameBytes = 512 * 512 * 2;
    const per = slabFrames(1000, frameBytes);
    expect(per * frameBytes).toBeLessThanOrEqual(SLAB_BYTES);
    expect(Math.ceil(1000 / per) % 3).toBe(0);
  });

  it('never asks for more than the server limit of 1024 frames or fewer than one', () => {
    expect(slabFrames(100_000, 16)).toBeLessThanOrEqual(1024);
    expect(slabFrames(1, 512 * 512 * 2)).toBe(1);
    expect(slabFrames(10, SLAB_BYTES * 2)).toBe(1);
  });
});
