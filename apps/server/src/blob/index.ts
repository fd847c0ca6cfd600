import { LocalBlobStore } from './local.js';
import type { S3BlobStoreOptions } from './s3.js';
import type { BlobStore } from './types.js';

export type BlobStoreConfig =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
      endpoint?: string;
      region?: string;
      forcePathStyle?: boolean;
      accessKeyId?: string;
      secretAccessKey?: string;
    };

/** The S3 adapter (and the AWS SDK) is loaded only when configured, to keep cold start fast. */
export async function createBlobStore(config: BlobStoreConfig): Promise<BlobStore> {
  if (config.kind === 'local') return new LocalBlobStore(config.dir);
  const { bucket, prefix, endpoint, region, forcePathStyle, accessKeyId, secretAccessKey } = config;
  if (!accessKeyId !== !secretAccessKey) throw new Error('S3 blob store: set both accessKeyId and secretAccessKey, or neither');
  const opts: S3BlobStoreOptions = { bucket, prefix, endpoint, region, forcePathStyle };
  // Without explicit keys the SDK's default chain applies (env, profile, instance role).
  if (accessKeyId && secretAccessKey) opts.credentials = { accessKeyId, secretAccessKey };
  const { S3BlobStore } = await import('./s3.js');
  return new S3BlobStore(opts);
}

export { LocalBlobStore } from './local.js';
export type { S3BlobStoreOptions } from './s3.js';
export { spoolToTemp, TooLargeError } from './spool.js';
export { BlobNotFoundError, InvalidBlobKeyError, assertBlobKey, isBlobKey } from './types.js';
export type { BlobStore } from './types.js';

/** Reads a whole stream (a blob from `BlobStore.get`) into one buffer; for small blobs only. */
export async function readAllBytes(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}
