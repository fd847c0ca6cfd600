/**
 * 2D interchange formats as pure converters: COCO, YOLO, Pascal VOC and CVAT for images 1.1.
 * Writers take Caliper objects and report what the format could not express; readers return
 * `ImportedObject`s (no ids, authors or timestamps) and what they skipped, and throw
 * `FormatError` on malformed input.
 */
export {
  FormatError,
  newWriteStats,
  countDropped,
  UNKNOWN_LABEL,
  type ExportImage,
  type ExportCategory,
  type ImageObjects,
  type ImportedObject,
  type ParsedImage,
  type ParsedDataset,
  type SkippedItem,
  type WriteStats,
  type LabelAttribute,
} from './types.js';
export { sliceImageName, parseSliceImageName, sanitizeAssetName, type ImagePlace, type ParsedImageName } from './naming.js';
export { cocoChunks, parseCoco, type CocoInput } from './coco.js';
export { decodeCocoRleString, encodeCocoRleString } from './coco-rle.js';
export { yoloLabelText, yoloDataYaml, parseYoloLabelText, parseYoloDataYaml, type YoloMode } from './yolo.js';
export { vocXml, parseVocXml } from './voc.js';
export { cvatXmlChunks, parseCvatXml, type CvatInput } from './cvat.js';
export { ellipsePolygon, ELLIPSE_VERTICES } from './shapes.js';
