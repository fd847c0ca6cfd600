/** Thrown when bytes cannot be read as DICOM or their pixel data cannot be decoded. */
export class DicomError extends Error {
  override readonly name = 'DicomError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** dicom-parser throws strings or `{ exception, dataSet }` objects; turn either into text. */
export function describeThrown(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  if (thrown instanceof Error) return thrown.message;
  if (typeof thrown === 'object' && thrown !== null && 'exception' in thrown) {
    const inner = (thrown as { exception: unknown }).exception;
    return typeof inner === 'string' ? inner : String(inner);
  }
  return String(thrown);
}
