import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { boxIou, type Corners } from '@spotter/shared';
import { startRedisCluster } from '../support/redis-topologies.js';
import { getJson, loadDataset, postForm, startSpotter, type LabelledImage, type Spotter } from '../support/spotter.js';

type Box = Corners;
const iou = boxIou;

/** Labelled objects covering more than 5% of the image: the ones the model must find. */
const largeObjects = (img: LabelledImage) =>
  img.boxes.filter((b) => (b.x2 - b.x1) * (b.y2 - b.y1) > 0.05 * img.width * img.height);

async function runDataset(spotter: Spotter) {
  const images = (await loadDataset()).filter((img) => largeObjects(img).length > 0).slice(0, 24);
  expect(images.length).toBeGreaterThanOrEqual(16);
  const ids = await Promise.all(
    images.map(async (img) => {
      const res = await postForm(`${spotter.url}/v1/jobs`, await readFile(img.file));
      expect(res.status).toBe(202);
      expect(res.headers.get('location')).toBe(`/v1/jobs/${res.body.id}`);
      expect(res.body).toMatchObject({ status: 'queued', links: { self: `/v1/jobs/${res.body.id}` } });
      return res.body.id as string;
    }),
  );
  const failures: string[] = [];
  let total = 0;
  let hits = 0;
  for (const [i, id] of ids.entries()) {
    const img = images[i]!;
    const { status, body: job } = await getJson(`${spotter.url}/v1/jobs/${id}?wait=30`);
    expect(status).toBe(200);
    expect(job.status).toBe('succeeded');
    expect(job.result.image).toEqual({ width: img.width, height: img.height });
    expect(job.result.model).toMatchObject({ name: 'yolox_nano', version: 'd39bee73564e' });
    for (const key of ['queue', 'download', 'decode', 'inference', 'postprocess', 'total']) {
      expect(job.timings_ms[key]).toBeGreaterThanOrEqual(0);
    }
    expect(job.timings_ms.inference).toBeGreaterThan(0);
    expect(Date.parse(job.finished_at)).toBeGreaterThanOrEqual(Date.parse(job.started_at));
    const large = largeObjects(img);
    const found = large.filter((truth) =>
      job.result.detections.some((d: { class_id: number; box: Box }) => d.class_id === truth.classId && iou(d.box, truth) >= 0.5),
    );
    total += large.length;
    hits += found.length;
    if (found.length * 2 <= large.length) failures.push(`${path.basename(img.file)}: found ${found.length} of ${large.length}`);
  }
  console.info(`found ${hits} of ${total} large labelled objects; images with half or fewer found: ${failures.join(', ') || 'none'}`);
  // YOLOX-nano (25.8 mAP) finds 215 of the 278 large objects of the whole set at score 0.25
  // (77%, the same with every resize kernel), so some images lose one of two objects to the
  // model itself (a half-hidden train, a cake it calls a bowl). Boxes not scaled back to the
  // original image, or the wrong orientation, miss the IoU test almost everywhere.
  expect(failures.length).toBeLessThanOrEqual(Math.floor(images.length * 0.3));
  expect(hits / total).toBeGreaterThan(0.75);
}

/**
 * Where Redis runs. Spotter takes the topology from REDIS_URL alone: the same processes and
 * assertions run against the run's single server and against a real 3-master Redis Cluster
 * (every job key and BullMQ key under one hash tag, monitoring keys under another).
 */
const topologies: { name: string; start: () => Promise<{ env: Record<string, string>; stop: () => Promise<void> }> }[] = [
  { name: 'one Redis server', start: async () => ({ env: {}, stop: async () => undefined }) },
  {
    name: 'a 3-master Redis Cluster',
    start: async () => {
      const cluster = await startRedisCluster(3);
      return { env: { REDIS_URL: cluster.url }, stop: cluster.stop };
    },
  },
];

describe.each(topologies)('pipeline on $name: API -> storage -> queue -> worker -> result', ({ start }) => {
  let redis: Awaited<ReturnType<typeof start>> | undefined;
  beforeAll(async () => {
    redis = await start();
  });
  afterAll(() => redis?.stop());

  describe('with filesystem storage', () => {
    let spotter: Spotter;
    beforeAll(async () => {
      spotter = await startSpotter(redis!.env);
    });
    afterAll(() => spotter?.stop());

    it('finds the labelled objects of the dataset images', async () => {
      await runDataset(spotter);
    });
  });

  describe('with S3 storage', () => {
    let spotter: Spotter;
    beforeAll(async () => {
      spotter = await startSpotter({
        ...redis!.env,
        SPOTTER_STORAGE: `s3://${inject('s3Bucket')}/pipeline-${Date.now()}`,
        S3_ENDPOINT: inject('s3Endpoint'),
        S3_FORCE_PATH_STYLE: 'true',
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: 'S3RVER',
      });
    });
    afterAll(() => spotter?.stop());

    it('finds the labelled objects of the dataset images', async () => {
      await runDataset(spotter);
    });
  });
});
