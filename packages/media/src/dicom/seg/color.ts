// sRGB ↔ DICOM CIELab (PS3.3 C.10.7.1.1, Recommended Display CIELab Value): CIELab with the
// D65 white point, L* 0..100 scaled to 0..65535 and a*, b* −128..127 scaled to 0..65535.
// sRGB uses the IEC 61966-2-1 transfer function and the sRGB → XYZ (D65) matrix.

const WHITE_D65: readonly [number, number, number] = [0.95047, 1.0, 1.08883];
const DELTA = 6 / 29;

function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
}

function linearToSrgb(c: number): number {
  return c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
}

function labF(t: number): number {
  return t > DELTA ** 3 ? Math.cbrt(t) : t / (3 * DELTA * DELTA) + 4 / 29;
}

function labFInv(t: number): number {
  return t > DELTA ? t ** 3 : 3 * DELTA * DELTA * (t - 4 / 29);
}

const clampU16 = (x: number): number => Math.min(65535, Math.max(0, Math.round(x)));

/** Parses `#rrggbb` into 0..255 components, or null when malformed. */
export function parseHexColor(hex: string): [number, number, number] | null {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) return null;
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

/** CIELab (L* 0..100, a*, b*) of an sRGB colour given as 0..255 components. */
export function srgbToLab(rgb: readonly [number, number, number]): [number, number, number] {
  const [r, g, b] = rgb.map((c) => srgbToLinear(c / 255)) as [number, number, number];
  const x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = 0.0193339 * r + 0.119192 * g + 0.9503041 * b;
  const fx = labF(x / WHITE_D65[0]);
  const fy = labF(y / WHITE_D65[1]);
  const fz = labF(z / WHITE_D65[2]);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** The DICOM scaled CIELab triplet (0..65535 each) of a `#rrggbb` colour. */
export function hexToDicomLab(hex: string): [number, number, number] {
  const rgb = parseHexColor(hex);
  if (!rgb) throw new RangeError('A segment colour must be #rrggbb');
  const [l, a, b] = srgbToLab(rgb);
  return [clampU16((l * 65535) / 100), clampU16(((a + 128) * 65535) / 255), clampU16(((b + 128) * 65535) / 255)];
}

/** The `#rrggbb` colour of a DICOM scaled CIELab triplet (out-of-gamut colours are clipped). */
export function dicomLabToHex(lab: readonly number[]): string {
  const l = ((lab[0] ?? 0) * 100) / 65535;
  const a = ((lab[1] ?? 0) * 255) / 65535 - 128;
  const bb = ((lab[2] ?? 0) * 255) / 65535 - 128;
  const fy = (l + 16) / 116;
  const x = WHITE_D65[0] * labFInv(fy + a / 500);
  const y = WHITE_D65[1] * labFInv(fy);
  const z = WHITE_D65[2] * labFInv(fy - bb / 200);
  const lin = [
    3.2404542 * x - 1.5371385 * y - 0.4985314 * z,
    -0.969266 * x + 1.8760108 * y + 0.041556 * z,
    0.0556434 * x - 0.2040259 * y + 1.0572252 * z,
  ];
  return `#${lin
    .map((c) => Math.min(255, Math.max(0, Math.round(linearToSrgb(Math.min(1, Math.max(0, c))) * 255))).toString(16).padStart(2, '0'))
    .join('')}`;
}
