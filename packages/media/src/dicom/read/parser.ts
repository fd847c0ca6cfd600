import { createRequire } from 'node:module';
import type * as DicomParserModule from 'dicom-parser';

// dicom-parser 1.8 ships a UMD bundle; Node's ESM loader cannot see its named exports,
// so load it through CommonJS and keep the package's own typings.
const require = createRequire(import.meta.url);

export const dicomParser = require('dicom-parser') as typeof DicomParserModule;
export type DataSet = DicomParserModule.DataSet;
export type Element = DicomParserModule.Element;
