// Synthetic CT series for the de-identification benchmark: 512×512×N int16 slices written as
// DICOM Part-10 files (Explicit VR Little Endian, CT Image Storage). No real PHI: every
// identifying attribute holds an obviously fake value, but there are plenty of them (names,
// IDs, dates/times, institution/equipment, UIDs, a nested sequence, private tags) so a
// de-identifier has real work to do. The image is a seeded phantom (ellipses of different HU
// plus noise from mulberry32), so runs are repeatable byte for byte.
//
// The encoder is written by hand (a few dozen lines): the benchmark input must not depend on
// the code under test, and it keeps the generator fast (about 150 MB for N = 300).
//
//   import { writeSyntheticCtSeries } from './synthetic-ct.mjs';
//   await writeSyntheticCtSeries('/tmp/ct', { slices: 300 });
//
// CLI: node bench/synthetic-ct.mjs <dir> [slices]
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from './common.mjs';

const EXPLICIT_VR_LE = '1.2.840.10008.1.2.1';
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
/** VRs with a 2-byte reserved field and a 4-byte length in explicit VR encoding. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const UNDEFINED = 0xffffffff;

/** Encodes one element (explicit VR little endian). `value` is a string, a byte array or an item list (SQ). */
function encodeElement(group, element, vr, value) {
  if (vr === 'SQ') {
    // Undefined-length sequence of undefined-length items, as many modalities write them.
    const parts = [];
    for (const item of value) {
      parts.push(tagHeader(0xfffe, 0xe000, UNDEFINED), encodeDataset(item), tagHeader(0xfffe, 0xe00d, 0));
    }
    parts.push(tagHeader(0xfffe, 0xe0dd, 0));
    return Buffer.concat([vrHeader(group, element, vr, UNDEFINED), ...parts]);
  }
  let body;
  if (typeof value === 'string') {
    body = Buffer.from(value, 'latin1');
    if (body.length % 2) body = Buffer.concat([body, Buffer.from(vr === 'UI' ? '\0' : ' ', 'latin1')]);
  } else {
    body = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (body.length % 2) body = Buffer.concat([body, Buffer.alloc(1)]);
  }
  return Buffer.concat([vrHeader(group, element, vr, body.length), body]);
}

function tagHeader(group, element, length) {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(group, 0);
  b.writeUInt16LE(element, 2);
  b.writeUInt32LE(length, 4);
  return b;
}

function vrHeader(group, element, vr, length) {
  const long = LONG_VRS.has(vr);
  const b = Buffer.alloc(long ? 12 : 8);
  b.writeUInt16LE(group, 0);
  b.writeUInt16LE(element, 2);
  b.write(vr, 4, 'latin1');
  if (long) b.writeUInt32LE(length, 8);
  else {
    if (length > 0xffff) throw new Error(`value too long for VR ${vr}`);
    b.writeUInt16LE(length, 6);
  }
  return b;
}

/** `elements`: [tag number (gggg eeee as 0xggggeeee), vr, value][]; sorted by tag before encoding. */
function encodeDataset(elements) {
  const sorted = [...elements].sort((a, b) => a[0] - b[0]);
  return Buffer.concat(sorted.map(([tag, vr, value]) => encodeElement(tag >>> 16, tag & 0xffff, vr, value)));
}

function us(n) {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
}

function ul(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** A fake, well-formed UID under the 2.25 (UUID-derived) root, deterministic from the seed. */
function fakeUid(rand) {
  let digits = String(1 + Math.floor(rand() * 9));
  while (digits.length < 38) digits += String(Math.floor(rand() * 10));
  return `2.25.${digits}`;
}

/** Fills `out` (rows×cols int16, stored values = HU + 1024) with the phantom slice `z`. */
function phantomSlice(out, rows, cols, z, slices, rand) {
  const cz = (z - slices / 2) / (slices / 2); // -1..1 along the body axis
  const taper = Math.sqrt(Math.max(0, 1 - 0.6 * cz * cz));
  // [centre x, centre y, semi-axis x, semi-axis y (pixels), HU]; later ellipses overwrite earlier ones.
  const ellipses = [
    [256, 256, 200 * taper, 150 * taper, 40], // soft tissue body
    [256, 256, 185 * taper, 135 * taper, -80], // subcutaneous fat ring inside
    [256, 256, 170 * taper, 122 * taper, 45], // muscle / organs
    [180, 240, 55 * taper, 80 * taper, -850], // right lung
    [332, 240, 55 * taper, 80 * taper, -850], // left lung
    [256, 330, 22, 22, 700], // vertebra
    [256, 330, 12, 12, 250], // vertebral body (cancellous)
    [256, 210, 28 * taper, 22 * taper, 60 + 20 * cz], // heart / liver, varies along z
    [300, 200, 10, 10, 180], // contrast-filled vessel
  ];
  const flat = Float64Array.from(ellipses.flat());
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      let hu = -1000; // air inside the field of view
      const fx = x - 256;
      const fy = y - 256;
      if (fx * fx + fy * fy > 250 * 250) {
        out[y * cols + x] = -2048 + 1024; // outside the reconstruction circle (padding value)
        continue;
      }
      for (let e = 0; e < flat.length; e += 5) {
        const dx = (x - flat[e]) / flat[e + 2];
        const dy = (y - flat[e + 1]) / flat[e + 3];
        if (dx * dx + dy * dy <= 1) hu = flat[e + 4];
      }
      // Approximately Gaussian noise (sum of three uniforms), sigma ≈ 12 HU.
      const noise = (rand() + rand() + rand() - 1.5) * 24;
      out[y * cols + x] = Math.round(hu + noise) + 1024;
    }
  }
}

/**
 * Writes a synthetic CT series (N files named CT000001.dcm …) into `dir` and returns the file
 * paths and total bytes. Options: `slices` (default 300), `rows`/`cols` (default 512), `seed`;
 * `uids` ({study, series, frame, sops[]}) and `geometry` ({origin: [x, y, z0], sliceStep,
 * pixelSpacing}) to build a series that another object (e.g. a SEG) refers to.
 */
export async function writeSyntheticCtSeries(dir, { slices = 300, rows = 512, cols = 512, seed = 20261128, uids = {}, geometry = {} } = {}) {
  await mkdir(dir, { recursive: true });
  const rand = mulberry32(seed);
  const studyUid = uids.study ?? fakeUid(rand);
  const seriesUid = uids.series ?? fakeUid(rand);
  const frameUid = uids.frame ?? fakeUid(rand);
  const [ox, oy, oz] = geometry.origin ?? [-179.2, -179.2, 100];
  const step = geometry.sliceStep ?? -1.25;
  const pixelSpacing = geometry.pixelSpacing ?? 0.7;
  const referencedStudyUid = fakeUid(rand);
  const irradiationUid = fakeUid(rand);
  const pixels = new Int16Array(rows * cols);
  const files = [];
  let totalBytes = 0;
  for (let i = 0; i < slices; i++) {
    const drawn = fakeUid(rand);
    const sopUid = uids.sops?.[i] ?? drawn;
    const z = oz + i * step;
    const acqTime = `0931${String(10 + Math.floor(i / 10)).padStart(2, '0')}.${String((i % 10) * 100000).padStart(6, '0')}`;
    phantomSlice(pixels, rows, cols, i, slices, rand);
    const ds = [
      [0x00080005, 'CS', 'ISO_IR 100'],
      [0x00080008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'],
      [0x00080012, 'DA', '20240307'],
      [0x00080013, 'TM', '093512'],
      [0x00080014, 'UI', '2.25.12345678901234567890123456789'], // Instance Creator UID
      [0x00080016, 'UI', CT_IMAGE_STORAGE],
      [0x00080018, 'UI', sopUid],
      [0x00080020, 'DA', '20240307'],
      [0x00080021, 'DA', '20240307'],
      [0x00080022, 'DA', '20240307'],
      [0x00080023, 'DA', '20240307'],
      [0x00080030, 'TM', '092745'],
      [0x00080031, 'TM', '093001'],
      [0x00080032, 'TM', acqTime],
      [0x00080033, 'TM', acqTime],
      [0x00080050, 'SH', 'SYNACC0001'],
      [0x00080060, 'CS', 'CT'],
      [0x00080070, 'LO', 'SYNTHETIC MEDICAL SYSTEMS'],
      [0x00080080, 'LO', 'SYNTHETIC GENERAL HOSPITAL'],
      [0x00080081, 'ST', '1 SYNTHETIC WAY, NOWHERE'],
      [0x00080090, 'PN', 'SYNTHETIC^REFERRER^^DR'],
      [0x00081010, 'SH', 'SYNTH-CT-01'],
      [0x00081030, 'LO', 'CT CHEST SYNTHETIC'],
      [0x0008103e, 'LO', 'AXIAL 1.25 SYNTHETIC'],
      [0x00081040, 'LO', 'SYNTHETIC RADIOLOGY'],
      [0x00081050, 'PN', 'SYNTHETIC^PERFORMER'],
      [0x00081070, 'PN', 'SYNTHETIC^OPERATOR'],
      [0x00081090, 'LO', 'SYNTHETIC SCANNER 9000'],
      [
        0x00081110,
        'SQ',
        [
          [
            [0x00081150, 'UI', '1.2.840.10008.3.1.2.3.1'], // Detached Study Management SOP Class (retired)
            [0x00081155, 'UI', referencedStudyUid],
          ],
        ],
      ],
      [0x00100010, 'PN', 'SYNTHETIC^PATIENT'],
      [0x00100020, 'LO', 'SYN-000123'],
      [0x00100030, 'DA', '19700101'],
      [0x00100040, 'CS', 'O'],
      [0x00101010, 'AS', '054Y'],
      [0x00101020, 'DS', '1.75'],
      [0x00101030, 'DS', '70'],
      [0x00101040, 'LO', '1 SYNTHETIC STREET'],
      [0x00104000, 'LT', 'SYNTHETIC PATIENT COMMENT'],
      [0x00180015, 'CS', 'CHEST'],
      [0x00180050, 'DS', '1.25'],
      [0x00180060, 'DS', '120'],
      [0x00180088, 'DS', '1.25'],
      [0x00181000, 'LO', 'SYN-SN-000042'],
      [0x00181020, 'LO', 'SYNTH 1.0'],
      [0x00181030, 'LO', 'SYNTHETIC CHEST PROTOCOL'],
      [0x00181100, 'DS', '350'],
      [0x00181150, 'IS', '500'],
      [0x00181151, 'IS', '200'],
      [0x00181152, 'IS', '100'],
      [0x00181210, 'SH', 'STANDARD'],
      [0x00185100, 'CS', 'FFS'],
      [0x0020000d, 'UI', studyUid],
      [0x0020000e, 'UI', seriesUid],
      [0x00200010, 'SH', 'SYNSTUDY1'],
      [0x00200011, 'IS', '2'],
      [0x00200012, 'IS', '1'],
      [0x00200013, 'IS', String(i + 1)],
      [0x00200032, 'DS', `${ox}\\${oy}\\${z.toFixed(2)}`],
      [0x00200037, 'DS', '1\\0\\0\\0\\1\\0'],
      [0x00200052, 'UI', frameUid],
      [0x00201040, 'LO', ''],
      [0x00201041, 'DS', z.toFixed(2)],
      [0x00280002, 'US', us(1)],
      [0x00280004, 'CS', 'MONOCHROME2'],
      [0x00280010, 'US', us(rows)],
      [0x00280011, 'US', us(cols)],
      [0x00280030, 'DS', `${pixelSpacing}\\${pixelSpacing}`],
      [0x00280100, 'US', us(16)],
      [0x00280101, 'US', us(16)],
      [0x00280102, 'US', us(15)],
      [0x00280103, 'US', us(1)],
      [0x00281050, 'DS', '40'],
      [0x00281051, 'DS', '400'],
      [0x00281052, 'DS', '-1024'],
      [0x00281053, 'DS', '1'],
      [0x00281054, 'LO', 'HU'],
      [0x00321060, 'LO', 'CT CHEST SYNTHETIC'],
      [0x00400244, 'DA', '20240307'],
      [0x00400245, 'TM', '092700'],
      [0x00400253, 'SH', 'SYNPPS01'],
      [0x00400254, 'LO', 'CT CHEST SYNTHETIC'],
      [0x00083010, 'UI', irradiationUid],
      // Private block: creator + two elements that look like vendor data with identity in them.
      [0x00090010, 'LO', 'SYNTHETIC_VENDOR'],
      [0x00091001, 'LO', 'SYNTHETIC^PATIENT^PRIVATE'],
      [0x00091002, 'SH', 'SYN-000123'],
      [0x00190010, 'LO', 'SYNTHETIC_VENDOR_2'],
      [0x00191001, 'DS', '0.5'],
      [0x7fe00010, 'OW', new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength)],
    ];
    const body = encodeDataset(ds);
    const metaElements = encodeDataset([
      [0x00020001, 'OB', new Uint8Array([0, 1])],
      [0x00020002, 'UI', CT_IMAGE_STORAGE],
      [0x00020003, 'UI', sopUid],
      [0x00020010, 'UI', EXPLICIT_VR_LE],
      [0x00020012, 'UI', '2.25.98765432109876543210987654321'],
      [0x00020013, 'SH', 'SYNTH_BENCH_1'],
      [0x00020016, 'AE', 'SYNTHSCANNER'],
    ]);
    const groupLength = encodeElement(0x0002, 0x0000, 'UL', ul(metaElements.length));
    const preamble = Buffer.alloc(132);
    preamble.write('DICM', 128, 'latin1');
    const file = path.join(dir, `CT${String(i + 1).padStart(6, '0')}.dcm`);
    const bytes = Buffer.concat([preamble, groupLength, metaElements, body]);
    await writeFile(file, bytes);
    files.push(file);
    totalBytes += bytes.length;
  }
  return { files, totalBytes };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node bench/synthetic-ct.mjs <dir> [slices]');
    process.exit(2);
  }
  const t = performance.now();
  const { files, totalBytes } = await writeSyntheticCtSeries(dir, { slices: Number(process.argv[3] ?? 300) });
  console.log(`wrote ${files.length} files, ${(totalBytes / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
