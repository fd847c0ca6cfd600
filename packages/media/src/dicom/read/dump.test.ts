import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dumpDicom, formatTag, type HeaderElement, readDicom } from './index.js';

const DATA_DIR = fileURLToPath(new URL('../../../../../../shared/data/dicom', import.meta.url));
const PYTHON = '/usr/bin/python3';

/** pydicom's view of the same file: tag, VR, keyword, value (text and numbers), items. */
const PYDICOM_DUMP = String.raw`
import json, sys, pydicom
from pydicom.multival import MultiValue
TEXT = {'SH','LO','ST','LT','UT','PN','UC','UI','CS','DA','TM','AE','UR'}
NUM = {'US','SS','UL','SL','FL','FD'}
def val(el):
    if el.VR in TEXT:
        v = el.value
        if v is None: return ''
        if isinstance(v, MultiValue): return '\\'.join(str(x) for x in v)
        return str(v)
    if el.VR in NUM:
        v = el.value
        if v is None: return []
        if isinstance(v, (list, MultiValue)): return [float(x) for x in v]
        if isinstance(v, (bytes, bytearray)): return None
        return [float(v)]
    return None
def dump(ds):
    out = []
    for el in ds:
        row = {'tag': '(%04X,%04X)' % (el.tag.group, el.tag.element), 'vr': el.VR, 'keyword': el.keyword}
        if el.VR == 'SQ':
            row['items'] = [dump(item) for item in el.value]
        else:
            row['value'] = val(el)
        out.append(row)
    return out
ds = pydicom.dcmread(sys.argv[1], force=True)
print(json.dumps(dump(ds.file_meta) + dump(ds)))
`;

interface PyElement {
  tag: string;
  vr: string;
  keyword: string;
  value?: string | number[] | null;
  items?: PyElement[][];
}

function pydicomDump(file: string): PyElement[] {
  const r = spawnSync(PYTHON, ['-c', PYDICOM_DUMP, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as PyElement[];
}

/** Compares our listing with pydicom's, level by level; returns the differences found. */
function compare(ours: HeaderElement[], theirs: PyElement[], path: string, diffs: string[]) {
  const mine = new Map(ours.map((e) => [e.tag, e]));
  expect(ours.map((e) => e.tag), path).toEqual([...theirs.map((e) => e.tag)].sort());
  for (const t of theirs) {
    // pydicom knows some vendors' private dictionaries; we list private data elements as UN.
    if (Number.parseInt(t.tag.slice(1, 5), 16) % 2 === 1 && Number.parseInt(t.tag.slice(6, 10), 16) > 0xff) continue;
    const o = mine.get(t.tag)!;
    const at = `${path}${t.tag}`;
    if (!t.vr.includes(' or ') && o.vr !== t.vr) diffs.push(`${at} VR ${o.vr} != ${t.vr}`);
    if (t.keyword && o.name !== t.keyword) diffs.push(`${at} name ${o.name} != ${t.keyword}`);
    if (t.items) {
      expect(o.items?.length, at).toBe(t.items.length);
      t.items.forEach((item, i) => compare(o.items![i]!, item, `${at}[${i}]`, diffs));
      continue;
    }
    if (typeof t.value === 'string') {
      if (o.value !== t.value) diffs.push(`${at} value ${JSON.stringify(o.value)} != ${JSON.stringify(t.value)}`);
    } else if (Array.isArray(t.value) && t.value.length <= 256) {
      const nums = o.value === '' ? [] : (o.value ?? '').split('\\').map(Number);
      if (nums.length !== t.value.length || nums.some((n, i) => n !== t.value![i])) diffs.push(`${at} numbers ${o.value} != ${t.value.join('\\')}`);
    }
  }
}

const SAMPLES = [
  'pydicom/CT_small.dcm',
  'pydicom/MR_small_implicit.dcm',
  'pydicom/MR_small_bigendian.dcm',
  'pydicom/chrJapMulti.dcm',
  'pydicom/chrGerm.dcm',
  'pydicom/rtstruct.dcm',
  'pydicom/test-SR.dcm',
];

const hasData = existsSync(DATA_DIR) && spawnSync(PYTHON, ['-c', 'import pydicom']).status === 0;

describe.skipIf(!hasData)('dumpDicom agrees with pydicom', () => {
  it.each(SAMPLES)('%s: same tags, VRs, keywords, text and numbers at every depth', (name) => {
    const file = join(DATA_DIR, name);
    const dump = dumpDicom(readDicom(new Uint8Array(readFileSync(file))));
    expect(dump.truncated).toBe(false);
    const diffs: string[] = [];
    compare(dump.elements, pydicomDump(file), '', diffs);
    expect(diffs).toEqual([]);
  });
});

describe.skipIf(!hasData)('dumpDicom', () => {
  const ct = () => readDicom(new Uint8Array(readFileSync(join(DATA_DIR, 'pydicom/CT_small.dcm'))));

  it('summarises pixel data by size and decodes a Japanese (ISO 2022 IR 87) name', () => {
    const pixel = dumpDicom(ct()).elements.find((e) => e.tag === '(7FE0,0010)');
    expect(pixel).toMatchObject({ vr: 'OW', name: 'PixelData', value: '<32768 bytes>' });
    const jp = dumpDicom(readDicom(new Uint8Array(readFileSync(join(DATA_DIR, 'pydicom/chrJapMulti.dcm')))));
    expect(jp.elements.find((e) => e.tag === '(0010,0010)')?.value).toBe('やまだ^たろう');
  });

  it('summarises encapsulated pixel data with its fragments', () => {
    const rle = dumpDicom(readDicom(new Uint8Array(readFileSync(join(DATA_DIR, 'pydicom/MR_small_RLE.dcm')))));
    expect(rle.elements.find((e) => e.tag === '(7FE0,0010)')?.value).toMatch(/^<\d+ bytes, encapsulated in 1 fragment>$/);
  });

  it('stops at maxElements, cuts long values and caps numbers', () => {
    const full = dumpDicom(ct());
    const capped = dumpDicom(ct(), { maxElements: 10, maxValueLength: 5, maxNumbers: 1 });
    expect(full.count).toBeGreaterThan(10);
    expect(capped.count).toBe(10);
    expect(capped.truncated).toBe(true);
    expect(capped.elements.length).toBe(10);
    for (const e of capped.elements) expect((e.value ?? '').length).toBeLessThanOrEqual(5);
    const uid = capped.elements.find((e) => e.tag === '(0002,0003)')!;
    expect(uid.value!.endsWith('…')).toBe(true);
  });

  it('formats tags', () => {
    expect(formatTag('x7fe00010')).toBe('(7FE0,0010)');
    expect(formatTag('x0010a010')).toBe('(0010,A010)');
  });
});
