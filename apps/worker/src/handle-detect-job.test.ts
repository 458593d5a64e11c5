import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { lifecycleDeps } from '@spotter/jobs';
import { ModelRegistry, Rollout } from '@spotter/models';
import { decodeToFit } from '@spotter/imaging';
import { decodeRawTensor, ImageGoneError, UnsupportedImageError, type DetectJobData } from '@spotter/shared';
import { FileStorage, storageKeys, type ObjectStorage } from '@spotter/storage';
import { createStores, type Stores } from '@spotter/stores';
import { createLogger } from '@spotter/telemetry';
import { fillImageTensor, planForFile, specFromManifest } from '@spotter/vision';
import { AfterAnswer } from './after-answer.js';
import { handleDetectJob, type DetectDeps } from './handle-detect-job.js';
import { ModelPool } from './model-pool.js';
import { ShadowRunner } from './shadow-runner.js';
import { fetchImage } from './stages/fetch-image.js';
import { createWorkerMetrics } from './worker-metrics.js';

// The worker's stages with their real dependencies (Redis, files, the model), one attempt at a time.
const ROOT = path.resolve(import.meta.dirname, '../../..');
const BEAR = path.join(ROOT, '..', 'shared', 'datasets', 'coco-val128', 'images', '000000000285.jpg');

describe('a detect job, stage by stage', () => {
  let stores: Stores;
  let storage: ObjectStorage;
  let models: ModelPool;
  let redis: Redis;
  let deps: (over?: Partial<DetectDeps>, env?: Record<string, string>) => DetectDeps;
  let after: AfterAnswer;
  let registry: ModelRegistry;
  const held: (() => void)[] = [];
  const release = () => held.splice(0).forEach((start) => start());

  beforeAll(async () => {
    const env = { REDIS_URL: inject('redisUrl'), SPOTTER_QUEUE_PREFIX: `w${randomBytes(3).toString('hex')}`, SPOTTER_MODEL_DIR: path.join(ROOT, 'models') };
    const config = loadConfig(env);
    redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
    stores = createStores(redis, config);
    storage = new FileStorage(await mkdtemp(path.join(os.tmpdir(), 'spotter-stage-')));
    registry = await ModelRegistry.load(config.model.dir, config.model.name);
    models = new ModelPool(registry, { executionProviders: ['cpu'], intraOpThreads: 1 }, 2);
    const log = createLogger('test', 'silent');
    const rollout = new Rollout({ store: stores.rollout, profiles: stores.profiles, registry, policy: config.rollout, alerts: stores.queue });
    const metrics = createWorkerMetrics(1);
    // The work after an answer starts when the test says (release), not on the next turn.
    after = new AfterAnswer(log, (start) => void held.push(start));
    deps = (over = {}, extra = {}) => {
      const cfg = loadConfig({ ...env, ...extra });
      const lifecycle = lifecycleDeps(stores, over.storage ?? storage, cfg);
      return {
        config: cfg,
        storage,
        models,
        jobs: stores.jobs,
        log,
        record: { lifecycle, after, profiles: stores.profiles, rollout, metrics, log },
        shadows: new ShadowRunner({ storage, models, rollout, profiles: stores.profiles, maxPixels: cfg.images.maxPixels, log, release: async () => undefined }),
        ...over,
      };
    };
  });
  afterAll(async () => {
    await models?.closeAll();
    redis?.disconnect();
  });

  async function job(overrides: Partial<DetectJobData> = {}): Promise<DetectJobData> {
    const id = randomUUID();
    const key = storageKeys.image(id);
    await storage.put(key, await readFile(BEAR), 'image/jpeg');
    return { id, owner: 'stage-test', model: 'yolox_nano', min_score: 0.5, webhook_url: null, created_at: new Date().toISOString(), shadow: null, image: { key, bytes: 0, format: 'jpeg', width: 586, height: 640 }, ...overrides };
  }
  const fresh = { failed: 0, crashed: 0 };

  it('fetches the image and judges its format by content', async () => {
    const data = await job();
    expect((await fetchImage(storage, data)).format).toBe('jpeg');
    await storage.put(data.image.key, Buffer.from('a text file, not a picture'), 'image/jpeg');
    await expect(fetchImage(storage, data)).rejects.toBeInstanceOf(UnsupportedImageError);
    await storage.delete(data.image.key);
    await expect(fetchImage(storage, data)).rejects.toBeInstanceOf(ImageGoneError);
  });

  it('runs the model and ends the job once: the record and its timings, then (after the answer) the stored copy and the counts', async () => {
    const data = await job();
    const counted = async () => (await stores.profiles.buckets('yolox_nano', Date.now() - 3600_000, Date.now() + 60_000)).reduce((n, b) => n + b.images, 0);
    const before = await counted();
    await deps().record.lifecycle.files.savePending(data);
    const outcome = await handleDetectJob(deps(), data, fresh, new Date());
    expect(outcome.kind).toBe('final');
    const { done } = outcome as Extract<typeof outcome, { kind: 'final' }>;
    expect(done).toMatchObject({ claimed: true, record: { job: { status: 'succeeded', result: { detections: [expect.objectContaining({ label: 'bear' })] } } } });
    for (const stage of ['queue', 'download', 'decode', 'inference', 'postprocess', 'total'] as const) expect(done.record.job.timings_ms![stage]).toBeGreaterThanOrEqual(0);
    // The answer holds in Redis at once; the stored copy and the counts come after the
    // answer, and until then the outbox keeps the job.
    expect((await stores.jobs.get(data.id))?.record?.job).toEqual(done.record.job);
    expect(await storage.size(storageKeys.pending(data.id))).not.toBeNull();
    expect(await storage.size(storageKeys.result(data.id))).toBeNull();
    expect(await counted()).toBe(before);
    release();
    await after.drain();
    expect(JSON.parse((await storage.get(storageKeys.result(data.id)))!.toString()).job).toEqual(done.record.job);
    expect(await storage.size(storageKeys.pending(data.id))).toBeNull();
    expect(await counted()).toBe(before + 1);
    // A takeover of a job that already ended completes from its record and computes nothing.
    const again = await handleDetectJob(deps(), data, { failed: 0, crashed: 1 }, new Date());
    expect(again).toMatchObject({ kind: 'final', done: { claimed: false, record: { job: { finished_at: done.record.job.finished_at } } } });
    expect((await stores.jobs.get(data.id))?.computed).toBe(1);
  });

  it("runs a client's pre-processed tensor to the picture's very detections, keeps the raw output when asked, and fails a tensor of another shape without retrying", async () => {
    const picture = await job();
    const final = async (d: DetectJobData) => {
      const outcome = await handleDetectJob(deps(), d, fresh, new Date());
      if (outcome.kind !== 'final') throw new Error(`attempt ended ${outcome.kind}`);
      return outcome.done.record.job;
    };
    const fromPicture = await final(picture);
    // The tensor the worker itself would make: fitted, letterboxed, BGR (YOLOX).
    const img = await decodeToFit(await readFile(BEAR), 416, 1e8);
    const model = registry.get('yolox_nano');
    const tensor = fillImageTensor(img, planForFile(specFromManifest(model), await readFile(model.path)).preprocess);
    const tensorJob = await job({ tensor: { datatype: 'FP32', shape: [1, 3, 416, 416], source: { width: img.width, height: img.height } }, raw_output: true });
    await storage.put(tensorJob.image.key, Buffer.from(tensor.buffer), 'application/octet-stream');
    const fromTensor = await final(tensorJob);
    expect(fromTensor.result).toEqual(fromPicture.result);
    const raw = decodeRawTensor((await storage.get(storageKeys.output(tensorJob.id)))!);
    expect(raw.dims).toEqual([1, 3549, 85]);
    expect(raw.data.some((v) => v > 0.5)).toBe(true);
    // Without the picture's size the boxes stay in the tensor's pixels.
    const unscaled = await job({ tensor: { datatype: 'FP32', shape: [1, 3, 416, 416] } });
    await storage.put(unscaled.image.key, Buffer.from(tensor.buffer), 'application/octet-stream');
    const inTensor = await final(unscaled);
    expect(inTensor.result!.image).toEqual({ width: 416, height: 416 });
    expect(inTensor.result!.detections[0]!.box.x2).toBeCloseTo(fromPicture.result!.detections[0]!.box.x2 * img.scaleX, 0);
    const wrong = await job({ tensor: { datatype: 'FP32', shape: [1, 3, 320, 320] } });
    await storage.put(wrong.image.key, Buffer.alloc(4 * 3 * 320 * 320), 'application/octet-stream');
    expect((await final(wrong)).error).toMatchObject({ code: 'TENSOR_SHAPE_MISMATCH', message: expect.stringContaining('[1, 3, 416, 416]') });
  });

  it('ends a job whose attempts were all used by crashes as WORKER_LOST', async () => {
    const data = await job();
    const outcome = await handleDetectJob(deps(), data, { failed: 1, crashed: 2 }, new Date());
    expect(outcome).toMatchObject({ kind: 'final', done: { claimed: true, record: { job: { status: 'failed', error: { code: 'WORKER_LOST' } } } } });
  });

  it('waits out a storage outage without spending an attempt, and fails it once the budget is spent', async () => {
    // A storage root that is a file: every read fails as an unreachable backend would.
    const broken = path.join(await mkdtemp(path.join(os.tmpdir(), 'spotter-broken-')), 'root');
    await writeFile(broken, 'not a directory');
    const down = new FileStorage(broken);
    const data = await job();
    const waiting = await handleDetectJob(deps({ storage: down }), data, fresh, new Date());
    expect(waiting).toMatchObject({ kind: 'wait' });
    expect((waiting as { delayMs: number }).delayMs).toBeGreaterThanOrEqual(1000);
    const spent = await handleDetectJob(deps({ storage: down }, { SPOTTER_OUTAGE_BUDGET_S: '0' }), data, fresh, new Date());
    expect(spent).toMatchObject({ kind: 'final', done: { record: { job: { status: 'failed', error: { code: 'STORAGE_UNAVAILABLE', message: 'storage was unavailable for more than 0 s' } } } } });
  });

  it('does nothing for a job erased while it waited', async () => {
    const data = await job();
    await stores.jobs.erase(data);
    expect(await handleDetectJob(deps(), data, fresh, new Date())).toEqual({ kind: 'erased' });
    expect(await stores.jobs.get(data.id)).toBeNull();
  });
});
