/** A problem with one uploaded file, worded for the user (no attribute values). */
export class IngestError extends Error {
  override readonly name = 'IngestError';
}
