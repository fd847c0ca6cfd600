// The ROI model of the RTSTRUCT writer and reader, and their error.

/** RT Structure Set Storage SOP class. */
export const RT_STRUCTURE_SET_STORAGE = '1.2.840.10008.5.1.4.1.1.481.3';

/** RT ROI Interpreted Type values Caliper writes ('' = not given). */
export type RtInterpretedType = 'ORGAN' | 'GTV' | 'CTV' | 'PTV' | 'AVOIDANCE' | 'CONTROL' | '';

/** One structure: closed polygons on slices, in pixel coordinates (top-left-corner origin). */
export interface RtRoi {
  number: number;
  name: string;
  /** '#rrggbb'. */
  color: string;
  contours: { slice: number; points: [number, number][] }[];
  interpretedType?: RtInterpretedType;
}

/** Why an RTSTRUCT could not be written or read. The message never contains patient data. */
export class RtStructError extends Error {
  override readonly name = 'RtStructError';

  constructor(
    readonly code: 'invalid-input' | 'not-dicom' | 'not-rtstruct',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
