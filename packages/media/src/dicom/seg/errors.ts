/** Thrown when a DICOM SEG cannot be written or read. Messages are fixed and never contain attribute values (PHI). */
export class SegError extends Error {
  override readonly name = 'SegError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
