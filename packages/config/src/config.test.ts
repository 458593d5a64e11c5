import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@spotter/shared';
import { inferenceLayout, loadConfig } from './config.js';

describe('config', () => {
  it('has working defaults: file storage under ./data, loopback only while no API key is set', () => {
    const cfg = loadConfig({});
    expect(cfg.http).toMatchObject({ host: '127.0.0.1', port: 8080, apiKeys: [] });
    expect(cfg.storage).toEqual({ kind: 'file', root: path.resolve('data') });
    expect(cfg.model).toMatchObject({ name: 'yolox_nano', executionProviders: ['cpu'] });
    expect(cfg.webhooks.attempts).toBeGreaterThanOrEqual(8);
  });

  it('listens on all interfaces once API keys are set, unless HOST says otherwise', () => {
    expect(loadConfig({ SPOTTER_API_KEYS: 'a, b' }).http).toMatchObject({ host: '0.0.0.0', apiKeys: ['a', 'b'] });
    expect(loadConfig({ SPOTTER_API_KEYS: 'a', HOST: '10.0.0.1' }).http.host).toBe('10.0.0.1');
  });

  it('parses S3 storage URLs', () => {
    const cfg = loadConfig({ SPOTTER_STORAGE: 's3://my-bucket/some/prefix', S3_ENDPOINT: 'http://minio:9000', S3_FORCE_PATH_STYLE: 'true' });
    expect(cfg.storage).toMatchObject({ kind: 's3', bucket: 'my-bucket', prefix: 'some/prefix', endpoint: 'http://minio:9000', forcePathStyle: true });
  });

  it('refuses invalid values with a message naming each variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', SPOTTER_STORAGE: 'ftp://x' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty', SPOTTER_STORAGE: 'ftp://x' })).toThrow(/PORT[\s\S]*SPOTTER_STORAGE/);
    expect(() => loadConfig({ SPOTTER_STORAGE: 's3://x' })).toThrow(/invalid S3 bucket name/);
    expect(() => loadConfig({ SPOTTER_WEBHOOK_SECRET: 'short' })).toThrow(/SPOTTER_WEBHOOK_SECRET/);
    // Standard Webhooks libraries decode what follows whsec_ as base64: a secret they cannot decode is refused here.
    expect(() => loadConfig({ SPOTTER_WEBHOOK_SECRET: 'whsec_test_0123456789abcdef' })).toThrow(/SPOTTER_WEBHOOK_SECRET[\s\S]*base64/);
    expect(loadConfig({ SPOTTER_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }).webhooks.secret).toBe('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    expect(loadConfig({ SPOTTER_WEBHOOK_SECRET: 'plain-secret-0123456789' }).webhooks.secret).toBe('plain-secret-0123456789');
  });

  it('lays inference out as single-threaded sessions, one per core up to 4, two jobs each; each part overridable', () => {
    expect(inferenceLayout(1)).toEqual({ sessions: 1, intraOpThreads: 1, concurrency: 2 });
    expect(inferenceLayout(2)).toEqual({ sessions: 2, intraOpThreads: 1, concurrency: 4 });
    expect(inferenceLayout(16)).toEqual({ sessions: 4, intraOpThreads: 4, concurrency: 8 });
    expect(inferenceLayout(2, { sessions: 1 })).toEqual({ sessions: 1, intraOpThreads: 2, concurrency: 2 });
    const cfg = loadConfig({ SPOTTER_INFERENCE_SESSIONS: '3', SPOTTER_INTRA_OP_THREADS: '2', SPOTTER_WORKER_CONCURRENCY: '5' });
    expect(cfg.model).toMatchObject({ sessions: 3, intraOpThreads: 2 });
    expect(cfg.worker.concurrency).toBe(5);
  });
});
