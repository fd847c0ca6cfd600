import type { DicomInstance } from '@caliper/media';
import type { FrameArray } from './frames.js';

/** Decodes a (de-identified) instance's pixel data into one typed array per frame, colour as RGB. */
export async function decodedFrames(dicom: DicomInstance): Promise<{ frames: FrameArray[]; samples: 1 | 3 }> {
  const media = await import('@caliper/media');
  const decoded = await media.decodeFramesAsync(dicom);
  const [nFrames, rows, cols] = decoded.shape;
  const samples = decoded.shape.length === 4 ? decoded.shape[3] : 1;
  if (samples === 3) {
    const rgb = media.toRgb(decoded, dicom);
    const per = rows * cols * 3;
    const frames: FrameArray[] = [];
    for (let f = 0; f < nFrames; f++) frames.push(rgb.data.subarray(f * per, (f + 1) * per));
    return { frames, samples: 3 };
  }
  const per = rows * cols;
  const frames: FrameArray[] = [];
  for (let f = 0; f < nFrames; f++) frames.push(decoded.data.subarray(f * per, (f + 1) * per));
  return { frames, samples: 1 };
}
