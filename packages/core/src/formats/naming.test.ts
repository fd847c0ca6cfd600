import { describe, expect, it } from 'vitest';
import { parseSliceImageName, sanitizeAssetName, sliceImageName } from './naming.js';

describe('sliceImageName', () => {
  it('names plain 2D images, slices and frames', () => {
    expect(sliceImageName('chest.jpg')).toBe('chest.png');
    expect(sliceImageName('CT chest', { slice: 42, slices: 120 })).toBe('CT chest/slice_0042.png');
    expect(sliceImageName('scan.nii.gz', { slice: 7, slices: 20000 })).toBe('scan/slice_00007.png');
    expect(sliceImageName('endo.mp4', { frame: 3 }, 'jpg')).toBe('endo/frame_0003.jpg');
    expect(() => sliceImageName('a', { slice: 1, frame: 1 })).toThrow(RangeError);
  });

  it('sanitises names for paths', () => {
    expect(sanitizeAssetName('../../etc/passwd')).toBe('____etc_passwd');
    expect(sanitizeAssetName('a\\b\u0000c')).toBe('a_b_c');
    expect(sanitizeAssetName('..')).toBe('_');
    expect(sanitizeAssetName('   ')).toBe('asset');
    const name = sliceImageName('../x/y..z', { slice: 1 });
    expect(name.split('/')).toHaveLength(2);
    expect(name).not.toContain('..');
    expect(sliceImageName('Lunge – 肺 ü.png')).toBe('Lunge – 肺 ü.png');
  });

  it('parses its own names back', () => {
    for (const [asset, where] of [
      ['CT chest', { slice: 42, slices: 300 }],
      ['肺 scan', { frame: 12345 }],
      ['plain', {}],
    ] as const) {
      const name = sliceImageName(asset, where);
      const parsed = parseSliceImageName(name);
      expect(parsed.assetName).toBe(asset);
      expect(parsed.slice).toBe('slice' in where ? where.slice : undefined);
      expect(parsed.frame).toBe('frame' in where ? where.frame : undefined);
    }
  });

  it('tolerates an images/ folder, backslashes and other extensions', () => {
    expect(parseSliceImageName('images/CT/slice_0003.jpg')).toEqual({ assetName: 'CT', slice: 3 });
    expect(parseSliceImageName('images\\CT\\frame_10.PNG')).toEqual({ assetName: 'CT', frame: 10 });
    expect(parseSliceImageName('photo.jpeg')).toEqual({ assetName: 'photo' });
    expect(parseSliceImageName('noext')).toEqual({ assetName: 'noext' });
  });
});
