/**
 * A no-op detect worker for the routing benchmark: the same queue, stores and lifecycle code
 * as apps/worker (BullMQ Worker with Spotter's lock and stall options, JobStore.begin,
 * finalizeJob), with the decode and the inference left out, so that what it measures is the
 * Redis routing of jobs. Storage writes (result, outbox) go nowhere: they are not Redis work.
 * Started by routing.ts with an IPC channel; reports how many jobs it finished when asked.
 */
import { Worker } from 'bullmq';
import { loadConfig } from '@spotter/config';
import { finalizeJob, JobFiles, lifecycleDeps } from '@spotter/jobs';
import { DetectJobData, QueueNames, succeededRecord, type Detection } from '@spotter/shared';
import type { ObjectStorage } from '@spotter/storage';
import { createRedis, createStores, workerLockOptions } from '@spotter/stores';

/** Storage that keeps nothing: results and outbox deletes of the routing run are not Redis work. */
const discard: ObjectStorage = {
  describe: 'discarded (routing benchmark)',
  put: async () => undefined,
  putFile: async () => undefined,
  get: async () => null,
  getStream: async () => null,
  getToFile: async () => false,
  size: async () => null,
  delete: async () => undefined,
  list: async function* () {},
  check: async () => undefined,
};

// Eight boxes: about the size of a real answer on a COCO image, so the record weighs what one does.
const detections: Detection[] = Array.from({ length: 8 }, (_, i) => ({
  label: 'person',
  class_id: 0,
  score: 0.5 + i / 20,
  box: { x1: 10 * i, y1: 20 * i, x2: 10 * i + 120.5, y2: 20 * i + 240.25 },
}));

const config = loadConfig(process.env);
const connection = createRedis(config.redis.url, 'worker');
const stores = createStores(connection, config);
const lifecycle = { ...lifecycleDeps(stores, discard, config), files: new JobFiles(discard) };
let finished = 0;

const worker = new Worker(
  QueueNames.detect,
  async (job) => {
    const data = DetectJobData.parse(job.data);
    const begun = await stores.jobs.begin(data, new Date().toISOString());
    if ('final' in begun) return (await finalizeJob(lifecycle, data, begun.final, { repeat: true })).record;
    const record = succeededRecord(data, {
      startedAt: begun.startedAt,
      timings: { queue: 0, download: 0, decode: 0, inference: 0, postprocess: 0, total: 0 },
      result: { image: { width: data.image.width, height: data.image.height }, model: { name: data.model, version: 'routing' }, detections },
    });
    return (await finalizeJob(lifecycle, data, record)).record;
  },
  { connection, prefix: stores.queue.prefix, concurrency: Number(process.env.ROUTING_CONCURRENCY ?? config.worker.concurrency), ...workerLockOptions(config) },
);
worker.on('completed', () => finished++);
worker.on('error', (err) => process.stderr.write(`routing worker: ${err.message}\n`));

process.on('message', async (msg: string) => {
  if (msg === 'count') process.send!({ finished });
  if (msg === 'stop') {
    await worker.close();
    await stores.queue.close();
    connection.disconnect();
    process.exit(0);
  }
});
await worker.waitUntilReady();
process.send!({ ready: true });
