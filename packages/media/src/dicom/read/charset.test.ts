import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CharacterSet, characterSetOf, decodeText, parseSpecificCharacterSet, readText } from './charset.js';
import type { DataSet } from './parser.js';
import { readDicom } from './read.js';

const DATA_DIR = fileURLToPath(new URL('../../../../../../shared/data/dicom', import.meta.url));

const ESC = 0x1b;
const ascii = (text: string): number[] => [...text].map((char) => char.charCodeAt(0));
const bytes = (...parts: (string | number | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((part) => (typeof part === 'string' ? ascii(part) : part)));
const decode = (terms: string | string[], data: Uint8Array, vr?: string): string =>
  decodeText(data, parseSpecificCharacterSet(terms), vr);

describe('parseSpecificCharacterSet', () => {
  it('treats an absent or empty value as the default repertoire', () => {
    for (const value of [undefined, '', []]) {
      const charset = parseSpecificCharacterSet(value);
      expect(charset.fallback).toBe(false);
      expect(charset.warnings).toEqual([]);
      expect(decodeText(bytes('Doe^John'), charset, 'PN')).toBe('Doe^John');
    }
  });

  it('falls back to latin1 for an unknown term, with a warning flag and no exception', () => {
    const charset = parseSpecificCharacterSet('ISO_IR 999');
    expect(charset.fallback).toBe(true);
    expect(charset.warnings).toHaveLength(1);
    expect(decodeText(bytes(0xc4, 'x'), charset, 'LO')).toBe('\u00c4x');
    expect(parseSpecificCharacterSet('KOI8-R-ish').fallback).toBe(true);
  });

  it('accepts common misspellings with a warning', () => {
    for (const term of ['ISO-IR 144', 'ISO_IR_144', 'iso ir 144']) {
      const charset = parseSpecificCharacterSet(term);
      expect(charset.fallback).toBe(false);
      expect(charset.warnings).toHaveLength(1);
      expect(decodeText(bytes(191, 224, 216, 210, 213, 226), charset, 'LO')).toBe('Привет');
    }
    expect(parseSpecificCharacterSet('ISO2022 IR 87').warnings).toHaveLength(1);
  });

  it('ignores code extensions after a stand-alone encoding', () => {
    const charset = parseSpecificCharacterSet('ISO_IR 192\\ISO 2022 IR 87');
    expect(charset.standAlone).toBe('utf-8');
    expect(charset.warnings).toHaveLength(1);
  });
});

describe('decodeText: single-byte repertoires', () => {
  const cases: [string, number[], string][] = [
    ['ISO_IR 100', [0xc4, 0x6e, 0xe9], 'Äné'],
    ['ISO_IR 101', [0xa3, 0xf3, 0x64, 0xbc], 'Łódź'],
    ['ISO_IR 109', [0xa6], 'Ĥ'],
    ['ISO_IR 110', [0xa7, 0xbd], '§Ŋ'],
    ['ISO_IR 144', [191, 224, 216, 210, 213, 226], 'Привет'],
    ['ISO_IR 127', [0xc7], 'ا'],
    ['ISO_IR 126', [217, 236, 221, 227, 225], 'Ωμέγα'],
    ['ISO_IR 138', [0xf9], 'ש'],
    ['ISO_IR 148', [199, 97, 240], 'Çağ'],
    ['ISO_IR 166', [202, 199, 209, 202, 180, 213], 'สวัสดี'],
    ['ISO_IR 203', [0xa4, 0xbd], '€œ'],
    ['ISO_IR 13', [0xd4, 0xcf, 0xc0, 0xde, 0x5e, 0xc0, 0xdb, 0xb3], 'ﾔﾏﾀﾞ^ﾀﾛｳ'],
    ['', [0x41, 0x42], 'AB'],
  ];
  it.each(cases)('%s', (term, data, text) => {
    expect(decode(term, Uint8Array.from(data), 'LO')).toBe(text);
    expect(decode(term.replace('ISO_IR', 'ISO 2022 IR'), Uint8Array.from(data), 'LO')).toBe(text);
  });

  it('maps 0x80–0x9F to C1 controls as ISO 8859 does (not Windows code pages)', () => {
    expect(decode('ISO_IR 100', bytes(0x80, 0x9f))).toBe('\u0080\u009f');
    expect(decode('ISO_IR 148', bytes(0x80))).toBe('\u0080');
  });
});

describe('decodeText: stand-alone multi-byte encodings', () => {
  it('ISO_IR 192 is UTF-8', () => {
    const data = Uint8Array.from([...ascii('Wang^XiaoDong='), ...new TextEncoder().encode('王^小東'), ...ascii('=')]);
    expect(decode('ISO_IR 192', data, 'PN')).toBe('Wang^XiaoDong=王^小東=');
  });

  it('GB18030 and GBK, including trail bytes equal to "\\"', () => {
    expect(decode('GB18030', bytes('Wang^XiaoDong=', 0xcd, 0xf5, '^', 0xd0, 0xa1, 0xb6, 0xab), 'PN')).toBe(
      'Wang^XiaoDong=王^小东',
    );
    // 0x90 0x5C is a GBK character whose trail byte is the backslash.
    const gbk = new TextDecoder('gbk').decode(Uint8Array.from([0x90, 0x5c]));
    expect(gbk).not.toContain('\\');
    expect(decode('GBK', bytes(0x90, 0x5c, '\\', 0xd6, 0xd0), 'LO')).toBe(`${gbk}\\中`);
  });
});

describe('decodeText: ISO 2022 code extensions', () => {
  const JIS_ON = [ESC, ...ascii('$B')];
  const ASCII_ON = [ESC, ...ascii('(B')];
  const ROMAJI_ON = [ESC, ...ascii('(J')];

  it('Japanese, PS3.5 H.3.1 (ISO 2022 IR 87)', () => {
    const data = bytes(
      'Yamada^Tarou=',
      JIS_ON, ';3ED', ASCII_ON, '^', JIS_ON, 'B@O:', ASCII_ON,
      '=', JIS_ON, '$d$^$@', ASCII_ON, '^', JIS_ON, '$?$m$&', ASCII_ON,
    );
    expect(decode(['', 'ISO 2022 IR 87'], data, 'PN')).toBe('Yamada^Tarou=山田^太郎=やまだ^たろう');
  });

  it('Japanese, PS3.5 H.3.2 (ISO 2022 IR 13 with IR 87)', () => {
    const data = bytes(
      0xd4, 0xcf, 0xc0, 0xde, '^', 0xc0, 0xdb, 0xb3,
      '=', JIS_ON, ';3ED', ROMAJI_ON, '^', JIS_ON, 'B@O:', ROMAJI_ON,
      '=', JIS_ON, '$d$^$@', ROMAJI_ON, '^', JIS_ON, '$?$m$&', ROMAJI_ON,
    );
    expect(decode(['ISO 2022 IR 13', 'ISO 2022 IR 87'], data, 'PN')).toBe('ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう');
  });

  it('JIS X 0208 bytes equal to delimiters are characters, not delimiters', () => {
    // 0x25 0x5E is katakana マ in JIS X 0208 ('^' as its second byte).
    expect(decode(['', 'ISO 2022 IR 87'], bytes(JIS_ON, '%^', ASCII_ON, '^a'), 'PN')).toBe('マ^a');
  });

  it('Japanese supplementary kanji (ISO 2022 IR 159, JIS X 0212)', () => {
    const data = bytes(ESC, '$(D', 0x30, 0x21, ASCII_ON);
    expect(decode(['', 'ISO 2022 IR 87', 'ISO 2022 IR 159'], data, 'LO')).toBe('丂');
  });

  it('Korean, PS3.5 I.2 (ISO 2022 IR 149), G1 reset at "^" and "="', () => {
    const KSC = [ESC, ...ascii('$)C')];
    const data = bytes(
      'Hong^Gildong=', KSC, 0xfb, 0xf3, '^', KSC, 0xd1, 0xce, 0xd4, 0xd7,
      '=', KSC, 0xc8, 0xab, '^', KSC, 0xb1, 0xe6, 0xb5, 0xbf,
    );
    expect(decode(['', 'ISO 2022 IR 149'], data, 'PN')).toBe('Hong^Gildong=洪^吉洞=홍^길동');
  });

  it('Chinese GB 2312 (ISO 2022 IR 58)', () => {
    const data = bytes('Zhang^XiaoDong=', ESC, '$)A', 0xd5, 0xc5, '^', ESC, '$)A', 0xd0, 0xa1, 0xb6, 0xab, '=');
    expect(decode(['', 'ISO 2022 IR 58'], data, 'PN')).toBe('Zhang^XiaoDong=张^小东=');
  });

  it('switches between single-byte G1 sets and resets at value delimiters', () => {
    const data = bytes(ESC, '-L', 191, 224, '\\', 0xe9, '\\', ESC, '-F', 217);
    expect(decode(['ISO 2022 IR 100', 'ISO 2022 IR 144', 'ISO 2022 IR 126'], data, 'LO')).toBe('Пр\\é\\Ω');
    // ST/LT/UT hold one value: "\" is an ordinary character and does not reset.
    expect(decode(['ISO 2022 IR 100', 'ISO 2022 IR 144'], bytes(ESC, '-L', 191, '\\', 191), 'LT')).toBe('П\\П');
  });

  it('replaces an unknown escape sequence instead of throwing', () => {
    expect(decode(['', 'ISO 2022 IR 87'], bytes('a', ESC, '(Z', 'b'), 'LO')).toBe('a\ufffdb');
  });
});

/** A little-endian implicit VR data set (no meta header), as readDicom accepts. */
function implicitDataSet(elements: [number, number, Uint8Array][]): Uint8Array {
  const chunks = elements.map(([group, element, value]) => {
    const padded = value.length % 2 === 0 ? value : Uint8Array.from([...value, 0x20]);
    const header = new DataView(new ArrayBuffer(8));
    header.setUint16(0, group, true);
    header.setUint16(2, element, true);
    header.setUint32(4, padded.length, true);
    return [...new Uint8Array(header.buffer), ...padded];
  });
  return Uint8Array.from(chunks.flat());
}

describe('readDicom: getString decodes text attributes', () => {
  it('decodes implicit VR text with ISO 2022 IR 87, leaving UIDs and codes alone', () => {
    const data = implicitDataSet([
      [0x0008, 0x0005, bytes('\\ISO 2022 IR 87')],
      [0x0008, 0x0018, bytes('1.2.3.4')],
      [0x0008, 0x0060, bytes('OT')],
      [0x0010, 0x0010, bytes(ESC, '$B$d$^$@', ESC, '(B^', ESC, '$B$?$m$&', ESC, '(B')],
    ]);
    const instance = readDicom(data);
    expect(instance.characterSet.fallback).toBe(false);
    expect(instance.getString('x00100010')).toBe('やまだ^たろう');
    expect(instance.sopInstanceUID).toBe('1.2.3.4');
    expect(instance.modality).toBe('OT');
  });

  it('does not throw for an unknown character set and flags it', () => {
    const data = implicitDataSet([
      [0x0008, 0x0005, bytes('ISO_IR 4242')],
      [0x0008, 0x0018, bytes('1.2.3')],
      [0x0010, 0x0010, bytes('M', 0xfc, 'ller')],
    ]);
    const instance = readDicom(data);
    expect(instance.characterSet.fallback).toBe(true);
    expect(instance.characterSet.warnings.length).toBeGreaterThan(0);
    expect(instance.getString('x00100010')).toBe('Müller');
  });

  it('keeps U+3000 (ideographic space) inside and at the end of a value', () => {
    const data = implicitDataSet([
      [0x0008, 0x0005, bytes('ISO_IR 192')],
      [0x0010, 0x0010, new TextEncoder().encode('山田\u3000太郎\u3000 ')],
    ]);
    expect(readDicom(data).getString('x00100010')).toBe('山田\u3000太郎\u3000');
  });
});

// ---------------------------------------------------------------------------------------------
// Shared samples

it('resolves the shared data folder', () => {
  expect(DATA_DIR.replaceAll('\\', '/').endsWith('/shared/data/dicom')).toBe(true);
});

const hasSamples = existsSync(join(DATA_DIR, 'EXPECTED.json'));

/** Keywords in EXPECTED.json with a text VR: tag and VR. */
const TEXT_KEYWORDS: Record<string, [string, string]> = {
  PatientName: ['x00100010', 'PN'],
  PatientID: ['x00100020', 'LO'],
  ReferringPhysicianName: ['x00080090', 'PN'],
  PerformingPhysicianName: ['x00081050', 'PN'],
  OperatorsName: ['x00081070', 'PN'],
  InstitutionName: ['x00080080', 'LO'],
  StationName: ['x00081010', 'SH'],
  AccessionNumber: ['x00080050', 'SH'],
  DeviceSerialNumber: ['x00181000', 'LO'],
  StudyDescription: ['x00081030', 'LO'],
  SeriesDescription: ['x0008103e', 'LO'],
  Manufacturer: ['x00080070', 'LO'],
  ManufacturerModelName: ['x00081090', 'LO'],
};

const SINGLE_VALUED = new Set(['ST', 'LT', 'UT']);

/**
 * pydicom drops trailing empty PN component groups (`A=B=` → `A=B`) and strips the padding of
 * each value; apply the same to our raw decoded value before comparing.
 */
function normalise(value: string, vr: string | undefined): string {
  const values = vr !== undefined && SINGLE_VALUED.has(vr) ? [value] : value.split('\\');
  return values
    .map((part) => {
      const trimmed = part.replace(/^[ \t\r\n\f]+|[ \t\r\n\f\0]+$/gu, '');
      return vr === 'PN' ? trimmed.replace(/=+$/u, '') : trimmed;
    })
    .join('\\');
}

function samples(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return samples(path);
    return name.endsWith('.dcm') ? [path] : [];
  });
}

describe.skipIf(!hasSamples)('shared samples against EXPECTED.json', () => {
  const expected = hasSamples
    ? (JSON.parse(readFileSync(join(DATA_DIR, 'EXPECTED.json'), 'utf8')) as Record<string, Record<string, unknown>>)
    : {};
  const withText = Object.entries(expected).filter(([file, entry]) =>
    existsSync(join(DATA_DIR, file)) && Object.keys(TEXT_KEYWORDS).some((key) => typeof entry[key] === 'string'),
  );

  it.each(withText.map(([file]) => [file]))('%s text attributes match', (file) => {
    const entry = expected[file] ?? {};
    const instance = readDicom(readFileSync(join(DATA_DIR, file)));
    expect(instance.characterSet.fallback).toBe(false);
    for (const [keyword, [tag, vr]] of Object.entries(TEXT_KEYWORDS)) {
      const want = entry[keyword];
      if (typeof want !== 'string') continue;
      expect(normalise(instance.getString(tag) ?? '', vr), `${file} ${keyword}`).toBe(normalise(want, vr));
    }
  });

  it('covers the character-set samples', () => {
    const files = withText.map(([file]) => file);
    expect(files).toContain('pydicom/chrGerm.dcm');
    expect(files).toContain('pydicom/chrJapMulti.dcm');
    const jap = readDicom(readFileSync(join(DATA_DIR, 'pydicom/chrJapMulti.dcm')));
    expect(jap.getString('x00100010')).toBe(expected['pydicom/chrJapMulti.dcm']?.['PatientName']);
    const germ = readDicom(readFileSync(join(DATA_DIR, 'pydicom/chrGerm.dcm')));
    expect(germ.getString('x00100010')).toBe(expected['pydicom/chrGerm.dcm']?.['PatientName']);
  });
});

// ---------------------------------------------------------------------------------------------
// pydicom as the oracle for every text element, including those in sequence items

const PYTHON = '/usr/bin/python3';

const ORACLE = String.raw`
import json, sys, warnings
warnings.simplefilter('ignore')
import pydicom
from pydicom.data import get_charset_files
TEXT = {'SH', 'LO', 'ST', 'LT', 'UT', 'PN', 'UC'}
def walk(ds, prefix, out):
    for el in ds:
        key = prefix + 'x%08x' % el.tag
        if el.VR == 'SQ':
            for i, item in enumerate(el.value):
                walk(item, key + '/' + str(i) + '/', out)
        elif el.VR in TEXT and el.value not in (None, ''):
            v = el.value
            vals = list(v) if isinstance(v, pydicom.multival.MultiValue) else [v]
            out[key] = {'vr': el.VR, 'value': '\\'.join(str(x) for x in vals)}
result = {'charset_files': sorted(get_charset_files('*.dcm')), 'files': {}}
for path in sys.argv[1:] + result['charset_files']:
    out = {}
    try:
        walk(pydicom.dcmread(path, force=True), '', out)
    except Exception as e:
        out = None
    result['files'][path] = out
print(json.dumps(result))
`;

interface OracleResult {
  charset_files: string[];
  files: Record<string, Record<string, { vr: string; value: string }> | null>;
}

function runOracle(): OracleResult | undefined {
  if (!existsSync(PYTHON)) return undefined;
  const run = spawnSync(PYTHON, ['-c', ORACLE, ...samples(DATA_DIR)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) return undefined;
  return JSON.parse(run.stdout) as OracleResult;
}

const oracle = runOracle();

/** Follows `x00321064/0/x00100010` through sequence items, carrying the character set down. */
function lookup(dataSet: DataSet, charset: CharacterSet, key: string): string | undefined {
  const [tag, index, ...rest] = key.split('/');
  if (tag === undefined) return undefined;
  if (index === undefined) return readText(dataSet, tag, charset);
  const item = dataSet.elements[tag]?.items?.[Number(index)]?.dataSet;
  if (item === undefined) return undefined;
  return lookup(item, characterSetOf(item, charset), rest.join('/'));
}

describe.skipIf(oracle === undefined)('all text elements against pydicom', () => {
  const files = Object.entries(oracle?.files ?? {}).filter(
    (entry): entry is [string, Record<string, { vr: string; value: string }>] => entry[1] !== null,
  );

  it('includes pydicom charset samples (chrH31, chrX1, chrSQEncoding, …)', () => {
    expect(oracle?.charset_files.length).toBeGreaterThan(10);
  });

  it.each(files.map(([path]) => [path.includes(DATA_DIR) ? relative(DATA_DIR, path) : path.replace(/^.*\//u, 'pydicom charset_files/'), path]))(
    '%s',
    (_name, path) => {
      const want = oracle?.files[path] ?? {};
      const instance = readDicom(readFileSync(path));
      for (const [key, { vr, value }] of Object.entries(want)) {
        const got = key.includes('/') ? lookup(instance.dataSet, instance.characterSet, key) : instance.getString(key);
        expect(normalise(got ?? '', vr), key).toBe(normalise(value, vr));
      }
    },
  );
});
