import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { BlobStoreConfig } from './blob/index.js';

/** Everything the server reads from its environment, validated once at start. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  blobStore: BlobStoreConfig;
  admin: { email: string; password?: string };
  secret: string;
  maxUploadBytes: number;
  /** Run background jobs (ingest) in this process. Off for web-only nodes that leave the work to `caliper worker`. */
  worker: boolean;
  /** Largest total a zip, or a single .gz, may expand to during ingest (decompression-bomb guard). */
  maxExpandedBytes: number;
  maxJsonBytes: number;
  webDir?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
}

export class ConfigError extends Error {}

const envSchema = z.object({
  CALIPER_HOST: z
    .string()
    .regex(/^[0-9a-zA-Z.:-]+$/, 'must be a host name or IP address')
    .default('127.0.0.1'),
  CALIPER_PORT: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be between 0 and 65535')
    .max(65535, 'must be between 0 and 65535')
    .default(8080),
  CALIPER_DATA_DIR: z.string().min(1).default('./data'),
  CALIPER_DATABASE_URL: z.string().optional(),
  CALIPER_BLOB_STORE: z.string().optional(),
  CALIPER_ADMIN_EMAIL: z.email('must be an email address').optional(),
  CALIPER_ADMIN_PASSWORD: z.string().min(10, 'must be at least 10 characters').optional(),
  CALIPER_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  CALIPER_MAX_UPLOAD_MB: z.coerce.number().positive('must be positive').default(2048),
  CALIPER_MAX_JSON_MB: z.coerce.number().positive('must be positive').default(16),
  CALIPER_WEB_DIR: z.string().optional(),
  CALIPER_MAX_EXPANDED_MB: z.coerce.number().positive('must be positive').default(8192),
  CALIPER_WORKER: z.enum(['on', 'off'], 'must be on or off').default('on'),
  CALIPER_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('warn'),
  S3_ENDPOINT: z.url('must be a URL').optional(),
  S3_REGION: z.string().optional(),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false', '1', '0']).optional(),
  AWS_ACCESS_KEY_ID: z.string().optional(),
  AWS_SECRET_ACCESS_KEY: z.string().optional(),
  AWS_REGION: z.string().optional(),
});

/** Reads and validates configuration. Throws ConfigError with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${String(i.path[0] ?? '?')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.CALIPER_DATA_DIR);

  let database: Config['database'];
  const dbUrl = e.CALIPER_DATABASE_URL;
  if (!dbUrl) database = { kind: 'sqlite', file: path.join(dataDir, 'caliper.sqlite') };
  else if (/^postgres(ql)?:\/\//.test(dbUrl)) database = { kind: 'postgres', url: dbUrl };
  else if (dbUrl.startsWith('sqlite:')) {
    const file = dbUrl.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file) throw new ConfigError('Invalid configuration:\n  CALIPER_DATABASE_URL: sqlite: needs a file path');
    database = { kind: 'sqlite', file: path.resolve(file) };
  } else {
    throw new ConfigError(
      'Invalid configuration:\n  CALIPER_DATABASE_URL: must start with postgres://, postgresql:// or sqlite:',
    );
  }

  let blobStore: Config['blobStore'];
  const blob = e.CALIPER_BLOB_STORE;
  if (!blob) blobStore = { kind: 'local', dir: path.join(dataDir, 'blobs') };
  else if (blob.startsWith('s3://')) {
    const rest = blob.slice(5);
    const [bucket, ...prefixParts] = rest.split('/');
    if (!bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new ConfigError('Invalid configuration:\n  CALIPER_BLOB_STORE: s3://<bucket>/<prefix> needs a valid bucket name');
    }
    blobStore = {
      kind: 's3',
      bucket,
      prefix: prefixParts.filter(Boolean).join('/'),
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION ?? e.AWS_REGION ?? 'us-east-1',
      forcePathStyle: e.S3_FORCE_PATH_STYLE === 'true' || e.S3_FORCE_PATH_STYLE === '1',
      accessKeyId: e.AWS_ACCESS_KEY_ID,
      secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
    };
  } else if (blob.startsWith('file:') || blob.startsWith('/') || blob.startsWith('.')) {
    blobStore = { kind: 'local', dir: path.resolve(blob.replace(/^file:(\/\/)?/, '')) };
  } else {
    throw new ConfigError('Invalid configuration:\n  CALIPER_BLOB_STORE: must be a folder path, file:<path> or s3://bucket/prefix');
  }

  return {
    host: e.CALIPER_HOST,
    port: e.CALIPER_PORT,
    dataDir,
    database,
    blobStore,
    admin: { email: e.CALIPER_ADMIN_EMAIL ?? 'admin@caliper.local', password: e.CALIPER_ADMIN_PASSWORD },
    secret: e.CALIPER_SECRET ?? '',
    maxUploadBytes: Math.floor(e.CALIPER_MAX_UPLOAD_MB * 1024 * 1024),
    maxJsonBytes: Math.floor(e.CALIPER_MAX_JSON_MB * 1024 * 1024),
    webDir: e.CALIPER_WEB_DIR,
    logLevel: e.CALIPER_LOG_LEVEL,
    worker: e.CALIPER_WORKER === 'on',
    maxExpandedBytes: Math.floor(e.CALIPER_MAX_EXPANDED_MB * 1024 * 1024),
  };
}

/** Creates the data directory and, when CALIPER_SECRET is absent, a persistent secret file in it. */
export function prepareDataDir(config: Config): Config {
  mkdirSync(config.dataDir, { recursive: true });
  mkdirSync(path.join(config.dataDir, 'tmp'), { recursive: true });
  if (config.secret) return config;
  const file = path.join(config.dataDir, 'secret');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  }
  const secret = readFileSync(file, 'utf8').trim();
  if (secret.length < 32) throw new ConfigError(`The secret file ${file} is too short; delete it to generate a new one.`);
  return { ...config, secret };
}
