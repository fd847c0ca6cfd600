import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, prepareDataDir } from './config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(8080);
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.database).toEqual({ kind: 'sqlite', file: path.resolve('./data/caliper.sqlite') });
    expect(c.blobStore).toEqual({ kind: 'local', dir: path.resolve('./data/blobs') });
    expect(c.admin.password).toBeUndefined();
  });

  it('reads PostgreSQL and S3 settings', () => {
    const c = loadConfig({
      CALIPER_DATABASE_URL: 'postgres://caliper@db.internal:5432/caliper',
      CALIPER_BLOB_STORE: 's3://medical-blobs/caliper/prod',
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_FORCE_PATH_STYLE: 'true',
    });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://caliper@db.internal:5432/caliper' });
    expect(c.blobStore).toMatchObject({ kind: 's3', bucket: 'medical-blobs', prefix: 'caliper/prod', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
  });

  it.each([
    [{ CALIPER_PORT: 'eighty' }, 'CALIPER_PORT'],
    [{ CALIPER_PORT: '70000' }, 'CALIPER_PORT'],
    [{ CALIPER_DATABASE_URL: 'mysql://x' }, 'CALIPER_DATABASE_URL'],
    [{ CALIPER_BLOB_STORE: 'ftp://x' }, 'CALIPER_BLOB_STORE'],
    [{ CALIPER_BLOB_STORE: 's3://Bad_Bucket' }, 'CALIPER_BLOB_STORE'],
    [{ CALIPER_ADMIN_EMAIL: 'not-an-email' }, 'CALIPER_ADMIN_EMAIL'],
    [{ CALIPER_ADMIN_PASSWORD: 'short' }, 'CALIPER_ADMIN_PASSWORD'],
    [{ CALIPER_SECRET: 'too-short' }, 'CALIPER_SECRET'],
  ])('refuses %o naming the variable', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it('generates a secret once and keeps it across starts', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'caliper-cfg-'));
    const a = prepareDataDir(loadConfig({ CALIPER_DATA_DIR: dir }));
    const b = prepareDataDir(loadConfig({ CALIPER_DATA_DIR: dir }));
    expect(a.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(b.secret).toBe(a.secret);
    expect(readFileSync(path.join(dir, 'secret'), 'utf8').trim()).toBe(a.secret);
    const given = 'x'.repeat(40);
    expect(prepareDataDir(loadConfig({ CALIPER_DATA_DIR: dir, CALIPER_SECRET: given })).secret).toBe(given);
  });
});
