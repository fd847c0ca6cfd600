// DICOM SR TID 1500 Imaging Measurement Reports: writer and reader.
export { trackingUid, writeMeasurementReport } from './write.js';
export { readMeasurementReport, type SrReadTarget, type SrSkipped } from './read.js';
export { SrError, type SrItem, type SrUnit } from './model.js';
