export interface BlobStore {
  /**
   * Put a finished local file into the store under its sha256 key. Idempotent: an existing key
   * is kept (`created: false`). The source file is left in place; the caller removes it.
   * The key is trusted to be the file's sha256 (computed by `spoolToTemp`).
   */
  putFile(localPath: string, sha256: string, opts: { contentType: string }): Promise<{ created: boolean }>;
  /**
   * Put bytes held in memory under their sha256 (computed here). Idempotent like putFile;
   * durable on return. For small, already de-identified blobs (frames, instances, thumbnails).
   */
  putBytes(bytes: Uint8Array, opts: { contentType: string }): Promise<{ sha256: string; created: boolean }>;
  /** Rejects with BlobNotFoundError if the key is absent. */
  get(sha256: string): Promise<NodeJS.ReadableStream>;
  stat(sha256: string): Promise<{ size: number } | null>;
  /** No error if the key is absent. */
  delete(sha256: string): Promise<void>;
  /** All keys (for orphan checks). */
  list(): AsyncIterable<string>;
  close?(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  override readonly name = 'BlobNotFoundError';
  constructor(readonly key: string) {
    super(`Blob ${key} not found`);
  }
}

export class InvalidBlobKeyError extends Error {
  override readonly name = 'InvalidBlobKeyError';
  constructor(key: string) {
    super(`Invalid blob key ${JSON.stringify(key.slice(0, 80))}: expected 64 lowercase hex characters (sha256)`);
  }
}

const KEY = /^[0-9a-f]{64}$/;

export function isBlobKey(key: string): boolean {
  return KEY.test(key);
}

export function assertBlobKey(key: string): void {
  if (!KEY.test(key)) throw new InvalidBlobKeyError(key);
}
