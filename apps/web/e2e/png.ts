// PNG fixtures for the end-to-end tests, written with pngjs.
import { PNG } from 'pngjs';

/** An 8-bit RGB PNG whose pixels come from `pixel(x, y) → [r, g, b]`. */
export function makePng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const opts = { width, height, bitDepth: 8, colorType: 2, inputColorType: 2, inputHasAlpha: false } as const;
  const png = new PNG(opts);
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      data.set([r, g, b], (y * width + x) * 3);
    }
  }
  png.data = data;
  return PNG.sync.write(png, opts);
}

/** A synthetic "radiograph": a soft radial blob on a dark background, varied by `seed`. */
export function syntheticScan(seed: number, width = 320, height = 256): Buffer {
  const cx = width * (0.35 + 0.1 * seed);
  const cy = height * 0.5;
  return makePng(width, height, (x, y) => {
    const d = Math.hypot((x - cx) / (width * 0.3), (y - cy) / (height * 0.35));
    const v = Math.max(0, Math.min(255, Math.round(220 * Math.exp(-d * d * 1.5) + 20 + ((x * 7 + y * 13 + seed * 31) % 9))));
    return [v, v, v];
  });
}
