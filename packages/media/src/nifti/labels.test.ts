import { describe, expect, it } from 'vitest';
import { NiftiError } from './errors.js';
import { itkSnapLabelFile, parseItkSnapLabelFile, segmentTableJson, type SegmentInfo } from './labels.js';

const SEGMENTS: SegmentInfo[] = [
  { value: 5, label: 'Right kidney', color: '#00FF80' },
  { value: 1, label: 'Liver', color: '#aa0000', description: 'whole organ' },
  { value: 300, label: 'Tumour', color: '#0a0b0c' },
];

// The layout ITK-SNAP writes (Segmentation → Export label descriptions), typed by hand, including its own
// header (with "IDX" for the mesh column) and its column widths.
const ITK_SNAP_SAMPLE = `################################################
# ITK-SnAP Label Description File
# File format: 
# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL
# Fields: 
#    IDX:   Zero-based index 
#    -R-:   Red color component (0..255)
#    -G-:   Green color component (0..255)
#    -B-:   Blue color component (0..255)
#    -A-:   Label transparency (0.00 .. 1.00)
#    VIS:   Label visibility (0 or 1)
#    IDX:   Label mesh visibility (0 or 1)
#  LABEL:   Label description 
################################################
    0     0    0    0        0  0  0    "Clear Label"
    1   255    0    0        1  1  1    "Label 1"
    2     0  255    0        1  1  1    "Label 2"
    3     0    0  255      0.5  0  1    "Left hippocampus"
`;

describe('itkSnapLabelFile', () => {
  it('writes the header, the Clear Label line and one line per segment in ITK-SNAP column layout', () => {
    const text = itkSnapLabelFile(SEGMENTS);
    const lines = text.split('\n');
    expect(lines[0]).toBe('################################################');
    expect(lines[1]).toBe('# ITK-SnAP Label Description File');
    expect(lines[13]).toBe('################################################');
    // Same widths as ITK-SNAP's own lines in the sample above.
    expect(lines[14]).toBe('    0     0    0    0        0  0  0    "Clear Label"');
    expect(lines[15]).toBe('    1   170    0    0        1  1  1    "Liver"');
    expect(lines[16]).toBe('    5     0  255  128        1  1  1    "Right kidney"');
    expect(lines[17]).toBe('  300    10   11   12        1  1  1    "Tumour"');
    expect(lines[18]).toBe('');
    expect(lines).toHaveLength(19);
  });

  it('round-trips through the parser (descriptions are not part of the format)', () => {
    const back = parseItkSnapLabelFile(itkSnapLabelFile(SEGMENTS));
    expect(back).toEqual([
      { value: 1, label: 'Liver', color: '#aa0000' },
      { value: 5, label: 'Right kidney', color: '#00ff80' },
      { value: 300, label: 'Tumour', color: '#0a0b0c' },
    ]);
  });

  it('quotes labels and escapes quotes and backslashes', () => {
    const tricky: SegmentInfo[] = [
      { value: 1, label: 'The "big" one', color: '#010203' },
      { value: 2, label: 'C:\\path\\"x"', color: '#010203' },
      { value: 3, label: 'two\nlines', color: '#010203' },
      { value: 4, label: '', color: '#010203' },
    ];
    const text = itkSnapLabelFile(tricky);
    expect(text).toContain('"The \\"big\\" one"');
    expect(text).toContain('"C:\\\\path\\\\\\"x\\""');
    expect(parseItkSnapLabelFile(text).map((s) => s.label)).toEqual(['The "big" one', 'C:\\path\\"x"', 'two lines', '']);
  });

  it('refuses bad segments', () => {
    expect(() => itkSnapLabelFile([{ value: 0, label: 'bg', color: '#000000' }])).toThrow(NiftiError);
    expect(() => itkSnapLabelFile([{ value: 70000, label: 'x', color: '#000000' }])).toThrow(NiftiError);
    expect(() => itkSnapLabelFile([{ value: 1, label: 'x', color: 'red' }])).toThrow(/#rrggbb/);
    expect(() =>
      itkSnapLabelFile([
        { value: 1, label: 'x', color: '#000000' },
        { value: 1, label: 'y', color: '#000000' },
      ]),
    ).toThrow(/label value 1/);
  });
});

describe('parseItkSnapLabelFile', () => {
  it("reads ITK-SNAP's own layout, skipping the background entry", () => {
    expect(parseItkSnapLabelFile(ITK_SNAP_SAMPLE)).toEqual([
      { value: 1, label: 'Label 1', color: '#ff0000' },
      { value: 2, label: 'Label 2', color: '#00ff00' },
      { value: 3, label: 'Left hippocampus', color: '#0000ff' },
    ]);
  });

  it('tolerates CRLF, tabs, odd spacing, indented comments, unescaped inner quotes and bare labels', () => {
    const text = '\uFEFF  # comment\r\n\r\n7\t1 2 3 1 1 1 "Say "hi" now"\r\n   8 4 5 6 1.0 1 0 bare_label  \r\n';
    expect(parseItkSnapLabelFile(text)).toEqual([
      { value: 7, label: 'Say "hi" now', color: '#010203' },
      { value: 8, label: 'bare_label', color: '#040506' },
    ]);
  });

  it('throws a NiftiError naming the line for malformed lines', () => {
    expect(() => parseItkSnapLabelFile('# x\n1 2 3 "no alpha"\n')).toThrow(/line 2 of the label description file/);
    expect(() => parseItkSnapLabelFile('1 256 0 0 1 1 1 "x"')).toThrow(/above 255/);
    expect(() => parseItkSnapLabelFile('1 0 0 0 2 1 1 "x"')).toThrow(/opacity/);
    expect(() => parseItkSnapLabelFile('1 0 0 0 1 1 1 "x')).toThrow(/closing quote/);
    expect(() => parseItkSnapLabelFile('1 0 0 0 1 1 1 "x"\n1 0 0 0 1 1 1 "y"')).toThrow(/line 2.*defined twice/);
    expect(() => parseItkSnapLabelFile('-1 0 0 0 1 1 1 "x"')).toThrow(NiftiError);
  });
});

describe('segmentTableJson', () => {
  it('writes a pretty, value-ordered table with lower-case colours and optional descriptions', () => {
    const json = segmentTableJson(SEGMENTS);
    expect(json).toBe(
      `${JSON.stringify(
        {
          segments: [
            { value: 1, label: 'Liver', color: '#aa0000', description: 'whole organ' },
            { value: 5, label: 'Right kidney', color: '#00ff80' },
            { value: 300, label: 'Tumour', color: '#0a0b0c' },
          ],
        },
        null,
        2,
      )}\n`,
    );
    expect(json.split('\n')[1]).toBe('  "segments": [');
  });
});
