export { readDicom, TRANSFER_SYNTAX } from './read.js';
export type { DicomInstance, DicomEncoding } from './read.js';
export {
  decodeFrames,
  decodeFramesAsync,
  SUPPORTED_PIXEL_TRANSFER_SYNTAXES,
  SUPPORTED_PIXEL_TRANSFER_SYNTAXES_ASYNC,
} from './decode.js';
export type { DecodedPixels, PixelArray, PixelDtype } from './decode.js';
export { toRgb, type RgbPixels } from './color.js';
export { DicomError } from './errors.js';
export { frameGeometries, frameTimes, frameRate, type FrameGeometry, type FrameGeometrySource, type FrameRate } from './frames.js';
export { characterSetOf, decodeText, parseSpecificCharacterSet, readText, type CharacterSet } from './charset.js';
export { dumpDicom, formatTag, type DumpOptions, type HeaderDump, type HeaderElement } from './dump.js';
