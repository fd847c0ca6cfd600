// DICOM Segmentation (SEG) export and import.
export { writeSeg, SEG_SOP_CLASS } from './write.js';
export type { SegSegment, SegWriteInput } from './write.js';
export { readSeg, segToLabelmap } from './read.js';
export type { ParsedSeg, SegFrame, SegLabelmap, SegTarget } from './read.js';
export { SegError } from './errors.js';
export { defaultSegmentCodes, SEG_CATEGORIES } from './codes.js';
export { hexToDicomLab, dicomLabToHex } from './color.js';
