/** Every problem with NIfTI input surfaces as this error, with a message meant for a person. */
export class NiftiError extends Error {
  override readonly name = 'NiftiError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
