import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertBlobKey, BlobNotFoundError, isBlobKey } from './types.js';
import type { BlobStore } from './types.js';

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix, e.g. `caliper/blobs`; a trailing slash is added. */
  prefix: string;
  /** For S3-compatible stores (MinIO, Ceph, ...). */
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(opts: S3BlobStoreOptions) {
    this.bucket = opts.bucket;
    const p = opts.prefix.replace(/^\/+|\/+$/g, '');
    this.prefix = p ? `${p}/` : '';
    const config: S3ClientConfig = { region: opts.region ?? 'us-east-1' };
    if (opts.endpoint) {
      config.endpoint = opts.endpoint;
      // Third-party S3 servers often reject the SDK's default streaming checksum trailers.
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    }
    if (opts.forcePathStyle !== undefined) config.forcePathStyle = opts.forcePathStyle;
    if (opts.credentials) config.credentials = opts.credentials;
    this.client = new S3Client(config);
  }

  private keyOf(sha256: string): string {
    assertBlobKey(sha256);
    return this.prefix + sha256;
  }

  async putFile(localPath: string, sha256: string, opts: { contentType: string }): Promise<{ created: boolean }> {
    const Key = this.keyOf(sha256);
    if (await this.stat(sha256)) return { created: false };
    // Streams from disk; large files go up as a multipart upload, 5 MB parts, 4 at a time.
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: createReadStream(localPath), ContentType: opts.contentType },
      queueSize: 4,
      partSize: 8 * 1024 * 1024,
      leavePartsOnError: false,
    });
    await upload.done();
    return { created: true };
  }

  async putBytes(bytes: Uint8Array, opts: { contentType: string }): Promise<{ sha256: string; created: boolean }> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (await this.stat(sha256)) return { sha256, created: false };
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256), Body: bytes, ContentType: opts.contentType }));
    return { sha256, created: true };
  }

  async get(sha256: string): Promise<NodeJS.ReadableStream> {
    const Key = this.keyOf(sha256);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      if (!res.Body) throw new BlobNotFoundError(sha256);
      return res.Body as Readable; // in Node the SDK body is an http IncomingMessage
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(sha256);
      throw err;
    }
  }

  async stat(sha256: string): Promise<{ size: number } | null> {
    const Key = this.keyOf(sha256);
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: res.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }));
  }

  async *list(): AsyncIterable<string> {
    let ContinuationToken: string | undefined;
    do {
      const res = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, ContinuationToken }),
      );
      for (const o of res.Contents ?? []) {
        const name = o.Key?.slice(this.prefix.length);
        if (name && isBlobKey(name)) yield name;
      }
      ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
