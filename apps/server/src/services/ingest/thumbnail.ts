import type { renderThumbnail } from '@caliper/media';
import type { Deps } from '../../deps.js';
import type { ImagingMeta } from './assets.js';
import type { FrameArray, StoredBlob } from './frames.js';
import { putBytes } from './frames.js';

/** A small 8-bit PNG of one frame, windowed with the asset's first window (or its value range). */
export async function thumbnailOf(deps: Deps, frame: FrameArray, imaging: ImagingMeta): Promise<StoredBlob | null> {
  const media = await import('@caliper/media');
  const [width, height] = imaging.dims;
  if (width === 0 || height === 0) return null;
  if (imaging.samples === 4) return null;
  let png: Uint8Array;
  try {
    png = renderOne(media.renderThumbnail, frame, imaging, width, height);
  } catch {
    // A thumbnail is a convenience: an image it cannot render still ingests.
    return null;
  }
  return putBytes(deps, png, 'image/png');
}

function renderOne(render: typeof renderThumbnail, frame: FrameArray, imaging: ImagingMeta, width: number, height: number): Uint8Array {
  if (imaging.samples === 4) throw new RangeError('no RGBA thumbnails');
  return render({
    width,
    height,
    samples: imaging.samples,
    data: frame,
    slope: imaging.rescale.slope,
    intercept: imaging.rescale.intercept,
    window: imaging.windows[0] ? { center: imaging.windows[0].center, width: imaging.windows[0].width } : undefined,
    invert: imaging.photometric === 'MONOCHROME1',
    maxSize: 160,
  });
}
