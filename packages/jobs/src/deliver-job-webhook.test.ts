import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { cancelledRecord, type DetectJobData } from '@spotter/shared';
import { FileStorage, storageKeys } from '@spotter/storage';
import { createStores } from '@spotter/stores';
import { deliverJobWebhook, type WebhookDeps } from './deliver-job-webhook.js';
import { saveResultUnlessErased } from './finalize-job.js';
import { lifecycleDeps } from './lifecycle.js';

// Real Redis and file storage: a delivery that finds no record must tell "not stored yet" from "erased".
describe('a job webhook delivery without a readable record', () => {
  let redis: Redis;
  let deps: WebhookDeps;
  beforeAll(async () => {
    const config = loadConfig({ REDIS_URL: inject('redisUrl'), SPOTTER_QUEUE_PREFIX: `d${randomBytes(3).toString('hex')}` });
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const storage = new FileStorage(await mkdtemp(path.join(os.tmpdir(), 'spotter-delivery-')));
    deps = { ...lifecycleDeps(createStores(redis, config), storage, config), publicUrl: undefined, policy: config.webhooks };
  });
  afterAll(() => redis?.quit());

  it('is retried while the job is in the outbox (its record is on its way), and dropped once the job is erased', async () => {
    const id = randomUUID();
    const data: DetectJobData = { id, owner: 'o', model: 'yolox_nano', min_score: 0.25, webhook_url: 'http://127.0.0.1:9/hook', created_at: new Date().toISOString(), image: { key: storageKeys.image(id), bytes: 1, format: 'jpeg', width: 1, height: 1 } };
    await deps.files.savePending(data);
    // Redis lost the record and the worker has not stored it yet: the event must not be lost.
    await expect(deliverJobWebhook(deps, { job_id: id, event: 'job.succeeded' }, false)).rejects.toThrow(/not readable yet/);
    // Erasure removes the outbox entry: nothing to announce, nothing to retry.
    await deps.files.deletePending(id);
    expect(await deliverJobWebhook(deps, { job_id: id, event: 'job.succeeded' }, false)).toBe(0);
  });

  it('takes a record written after the erasure back out: a late writer cannot bring an erased job back', async () => {
    const job = (id: string): DetectJobData => ({ id, owner: 'o', model: 'yolox_nano', min_score: 0.25, webhook_url: null, created_at: new Date().toISOString(), image: { key: storageKeys.image(id), bytes: 1, format: 'jpeg', width: 1, height: 1 } });
    const [kept, erased] = [job(randomUUID()), job(randomUUID())];
    await saveResultUnlessErased(deps, cancelledRecord(kept, null));
    expect(await deps.files.hasResult(kept.id)).toBe(true);
    // The erasure ran (mark, then files) before this write landed, as a webhook's outbox closing can.
    await deps.jobs.erase(erased);
    await saveResultUnlessErased(deps, cancelledRecord(erased, null));
    expect(await deps.files.hasResult(erased.id)).toBe(false);
  });
});
