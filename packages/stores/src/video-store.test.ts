import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { createStores, type Stores } from './create-stores.js';

// Real Redis: the counters several workers add to, and what a cancel and an erasure leave.
describe('VideoStore', () => {
  let redis: Redis;
  let stores: Stores;
  const prefix = `v${randomBytes(3).toString('hex')}`;
  beforeAll(() => {
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    stores = createStores(redis, loadConfig({ REDIS_URL: inject('redisUrl'), SPOTTER_QUEUE_PREFIX: prefix }));
  });
  afterAll(() => redis?.quit());

  it('counts each segment started and done once, whatever its retries', async () => {
    const { videos } = stores;
    const id = randomUUID();
    await videos.create(id, 'o', 3, new Date().toISOString());
    expect(await videos.started(id, 0, 't0')).toBe(true);
    expect(await videos.started(id, 0, 't1')).toBe(true); // a retry after a crash
    expect(await videos.started(id, 1, 't1')).toBe(true);
    expect(await videos.get(id)).toMatchObject({ status: 'running', started_at: 't0', segments_started: 2, segments_done: 0 });
    expect(await videos.segmentDone(id, 0, 10)).toBe(false);
    expect(await videos.segmentDone(id, 0, 10)).toBe(false);
    expect(await videos.get(id)).toMatchObject({ segments_started: 2, segments_done: 1, frames_done: 10 });
  });

  it('keeps a cancelled video cancelled when a segment starts late, and forgets an erased one', async () => {
    const { videos, webhooks } = stores;
    const id = randomUUID();
    await videos.create(id, 'o', 2, new Date().toISOString());
    expect(await videos.finish(id, 'cancelled', 't', {})).toBe(true);
    expect(await videos.started(id, 0, 't')).toBe(false);
    expect(await videos.get(id)).toMatchObject({ status: 'cancelled', started_at: null, segments_started: 0 });
    await webhooks.record(id, 'http://h/x', 'delivered', { at: new Date().toISOString(), status_code: 200, error: null });
    expect((await webhooks.read(id, 'http://h/x')).attempts).toHaveLength(1);
    await videos.erase(id);
    expect(await videos.get(id)).toBeNull();
    // A delivery that ends after the erasure leaves nothing behind.
    await webhooks.record(id, 'http://h/x', 'delivered', { at: new Date().toISOString(), status_code: 200, error: null });
    expect(await webhooks.read(id, 'http://h/x')).toEqual({ url: 'http://h/x', state: 'pending', attempts: [] });
    expect(await videos.started(id, 0, 't')).toBe(false);
    // Nor does a late segment's end or finish: the hash stays gone.
    expect(await videos.segmentDone(id, 0, 10)).toBe(false);
    expect(await videos.finish(id, 'succeeded', 't', {})).toBe(false);
    expect(await redis.keys(`*:video:${id}`)).toEqual([]);
  });

  it('keeps a cancel that races segment starts and ends on other connections', async () => {
    // Two processes, as the API (cancel) and a worker (segments) are: each its own connection.
    const worker = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    const workerStores = createStores(worker, loadConfig({ REDIS_URL: inject('redisUrl'), SPOTTER_QUEUE_PREFIX: prefix }));
    try {
      const ids = Array.from({ length: 40 }, () => randomUUID());
      await Promise.all(ids.map((id) => stores.videos.create(id, 'o', 1, 't')));
      await worker.ping(); // both connected: the calls below interleave in Redis
      const cancels = await Promise.all(
        ids.map(async (id) => (await Promise.all([workerStores.videos.started(id, 0, 't'), stores.videos.finish(id, 'cancelled', 't', {}), workerStores.videos.segmentDone(id, 0, 5)]))[1]),
      );
      expect(cancels.every(Boolean)).toBe(true);
      // Whatever the order, the cancel holds: no video is set back to running.
      expect(new Set((await Promise.all(ids.map((id) => stores.videos.get(id)))).map((v) => v!.status))).toEqual(new Set(['cancelled']));
    } finally {
      await worker.quit();
    }
  });
});
