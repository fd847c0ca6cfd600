// DICOM RT Structure Sets: writer and reader.
export { writeRtStruct } from './write.js';
export { readRtStruct, type RtReadTarget } from './read.js';
export { RtStructError, RT_STRUCTURE_SET_STORAGE, type RtInterpretedType, type RtRoi } from './model.js';
