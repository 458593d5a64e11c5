import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpotterClient, SpotterApiError, type SpotterClient } from '@spotter/client';
import { datasetImage } from '../support/images.js';
import { startSpotter, type Spotter } from '../support/spotter.js';

// @spotter/client against the real API and worker processes: its types come from the OpenAPI
// document (test/client-types.test.ts keeps them current), its flows are checked here.
const KEY = 'client-tenant-key-0001';

describe('@spotter/client', () => {
  let spotter: Spotter;
  let client: SpotterClient;
  let picture: Buffer;
  beforeAll(async () => {
    spotter = await startSpotter({ SPOTTER_API_KEYS: KEY });
    client = createSpotterClient({ url: spotter.url, apiKey: KEY });
    picture = await datasetImage();
  });
  afterAll(() => spotter?.stop());

  it('predicts, and submits then waits, with the same detections', async () => {
    const predicted = await client.predict(picture, { min_score: 0.3 });
    expect(predicted.status).toBe('succeeded');
    expect(predicted.result!.detections.length).toBeGreaterThan(0);
    const created = await client.submit(new Blob([picture], { type: 'image/jpeg' }), { min_score: 0.3 });
    expect(created.status).toBe('queued');
    const done = await client.wait(created.id);
    expect(done.status).toBe('succeeded');
    expect(done.result!.detections).toEqual(predicted.result!.detections);
    expect((await client.job(created.id)).id).toBe(created.id);
  });

  it('sends an Idempotency-Key: the same key is the same job, a fresh key per call otherwise', async () => {
    const a = await client.submit(picture, {}, { idempotencyKey: 'client-test-key-1' });
    const b = await client.submit(picture, {}, { idempotencyKey: 'client-test-key-1' });
    const c = await client.submit(picture);
    expect(b.id).toBe(a.id);
    expect(c.id).not.toBe(a.id);
  });

  it('runs a batch from pictures and streams its results line by line', async () => {
    const batch = await client.createBatch({ images: [picture, new File([picture], 'second.jpg')] }, { min_score: 0.3 });
    expect(batch.counts.total).toBe(2);
    const seen: string[] = [];
    const final = await client.waitBatch(batch.id, { pollMs: 200, onProgress: (b) => seen.push(b.status) });
    expect(final.status).toBe('succeeded');
    expect(seen.at(-1)).toBe('succeeded');
    const lines = [];
    for await (const line of client.batchResults(batch.id)) lines.push(line);
    expect(lines.map((l) => [l.item, l.status])).toEqual([[0, 'succeeded'], [1, 'succeeded']]);
    expect(lines[1]!.source).toBe('second.jpg');
    expect(lines[0]!.detections).toEqual((await client.job(lines[0]!.job_id)).result!.detections);
  });

  it("throws Spotter's error code and message, and reaches any route through the typed api", async () => {
    const refused = await client.submit(Buffer.from('not a picture')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SpotterApiError);
    expect([(refused as SpotterApiError).status, (refused as SpotterApiError).code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const anonymous = createSpotterClient({ url: spotter.url });
    await expect(anonymous.job('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ status: 401 });
    await expect(client.job('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
    const models = await client.api.GET('/v1/models');
    expect(JSON.stringify(models.data)).toContain('yolox_nano');
  });
});
