// Minimal typings for the part of dcmjs 0.51 used by the de-identifier (dcmjs ships none).
declare module 'dcmjs' {
  export interface DcmjsElement {
    vr: string;
    Value?: unknown[];
    _rawValue?: unknown;
    [key: string]: unknown;
  }
  export type DcmjsDataset = Record<string, DcmjsElement>;
  export interface DcmjsDicomDict {
    meta: DcmjsDataset;
    dict: DcmjsDataset;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  export interface DcmjsReadOptions {
    ignoreErrors?: boolean;
    untilTag?: string | null;
    includeUntilTagValue?: boolean;
    noCopy?: boolean;
    forceStoreRaw?: boolean;
  }
  const dcmjs: {
    data: {
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: DcmjsReadOptions): DcmjsDicomDict };
      /** Standard data dictionary keyed by "(GGGG,EEEE)" (uppercase hex). */
      DicomMetaDictionary: {
        dictionary: Record<string, { vr?: string } | undefined>;
        /** Denaturalized dataset → plain object keyed by keyword (sequences as arrays of objects). */
        naturalizeDataset(dataset: DcmjsDataset): Record<string, unknown>;
        /** Plain object keyed by keyword → denaturalized dataset ready for writing. */
        denaturalizeDataset(dataset: Record<string, unknown>): DcmjsDataset;
      };
      /** An empty Part-10 object: set `dict` and call write(). */
      DicomDict: new (meta: DcmjsDataset) => DcmjsDicomDict;
    };
    log: {
      setLevel(level: string): void;
      getLoggers(): Record<string, { setLevel(level: string): void }>;
    };
  };
  export default dcmjs;
}
