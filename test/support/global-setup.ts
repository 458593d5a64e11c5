import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import type { TestProject } from 'vitest/node';
import { freePort, startRedis } from '../../scripts/lib.mjs';

/** Starts a real redis-server and a real S3-protocol server (s3rver) for the run. */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-test-'));
  const redis = await startRedis(path.join(dir, 'redis'));
  const s3Port = await freePort();
  const bucket = 'spotter-test';
  const s3 = new S3rver({
    port: s3Port,
    address: '127.0.0.1',
    directory: path.join(dir, 's3'),
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  await s3.run();
  project.provide('redisUrl', redis.url);
  project.provide('s3Endpoint', `http://127.0.0.1:${s3Port}`);
  project.provide('s3Bucket', bucket);
  return async () => {
    await s3.close();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
