import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetImage } from '../support/images.js';
import { getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';

const A = { authorization: 'Bearer key-alpha-0001' };
const B = { authorization: 'Bearer key-bravo-0002' };

describe('HTTP contract', () => {
  let spotter: Spotter;
  beforeAll(async () => {
    // No worker at first: jobs stay queued until a test starts one. /v1/predict gives up after
    // 5 s: certain to time out while no worker runs, and fifty times an idle job's time once one does.
    spotter = await startSpotter(
      { SPOTTER_API_KEYS: 'key-alpha-0001,key-bravo-0002', SPOTTER_MAX_BACKLOG: '5', SPOTTER_PREDICT_TIMEOUT_MS: '5000' },
      { workers: 0 },
    );
  });
  afterAll(() => spotter?.stop());
  /** Jobs created while no worker runs; the drain test checks that each one succeeds. */
  const created: { id: string; headers: Record<string, string> }[] = [];
  const track = (id: string, headers: Record<string, string>) => created.push({ id, headers });

  it('serves the welcome, health, OpenAPI 3.1 and Swagger UI without a key', async () => {
    const root = await getJson(`${spotter.url}/`);
    expect(root.status).toBe(200);
    expect(root.body.docs).toBe('/docs');
    expect((await getJson(`${spotter.url}/healthz`)).body.status).toBe('ok');
    expect((await getJson(`${spotter.url}/readyz`)).body).toEqual({ status: 'ready', checks: { redis: 'ok', storage: 'ok' } });
    const doc = (await getJson(`${spotter.url}/openapi.json`)).body;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/annotated', '/v1/predict', '/v1/models', '/v1/rollout', '/healthz', '/readyz']),
    );
    const job = doc.components.schemas.Job;
    expect(job.required).toEqual(expect.arrayContaining(['id', 'status', 'created_at', 'started_at', 'finished_at', 'timings_ms', 'result', 'error']));
    expect(job.properties.status.enum).toEqual(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
    const form = doc.paths['/v1/jobs'].post.requestBody.content['multipart/form-data'].schema;
    expect(Object.keys(form.properties)).toEqual(expect.arrayContaining(['image', 'webhook_url', 'min_score', 'model']));
    const docs = await fetch(`${spotter.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger-ui');
  });

  it('needs a valid key on /v1 and shows each key only its own jobs', async () => {
    const image = await datasetImage();
    const none = await postForm(`${spotter.url}/v1/jobs`, image);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    expect((await postForm(`${spotter.url}/v1/jobs`, image, {}, { authorization: 'Bearer wrong' })).status).toBe(401);
    const res = await postForm(`${spotter.url}/v1/jobs`, image, {}, A);
    expect(res.status).toBe(202);
    const id = res.body.id;
    track(id, A);
    expect((await getJson(`${spotter.url}/v1/jobs/${id}`, A)).body).toMatchObject({ id, status: 'queued', result: null, started_at: null });
    expect((await getJson(`${spotter.url}/v1/jobs/${id}`, B)).status).toBe(404);
    expect((await getJson(`${spotter.url}/v1/jobs/${id}`)).status).toBe(401);
  });

  it('returns the same job for the same Idempotency-Key, per API key', async () => {
    const image = await datasetImage();
    const key = { 'idempotency-key': `order-${Date.now()}` };
    const first = await postForm(`${spotter.url}/v1/jobs`, image, {}, { ...A, ...key });
    const again = await postForm(`${spotter.url}/v1/jobs`, image, {}, { ...A, ...key });
    const other = await postForm(`${spotter.url}/v1/jobs`, image, {}, { ...B, ...key });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(other.body.id).not.toBe(first.body.id);
    track(first.body.id, A);
    track(other.body.id, B);
  });

  it('holds ?wait=N at most N seconds, and refuses the annotated image before success', async () => {
    const res = await postForm(`${spotter.url}/v1/jobs`, await datasetImage(), {}, B);
    track(res.body.id, B);
    const t0 = Date.now();
    const waited = await getJson(`${spotter.url}/v1/jobs/${res.body.id}?wait=1`, B);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(waited.body.status).toBe('queued');
    const annotated = await getJson(`${spotter.url}/v1/jobs/${res.body.id}/annotated`, B);
    expect(annotated.status).toBe(409);
    expect(annotated.body.error.code).toBe('JOB_NOT_READY');
  });

  it('answers 504 with the job id when /v1/predict times out, then 429 with Retry-After when the backlog is full', async () => {
    const image = await datasetImage();
    const timedOut = await postForm(`${spotter.url}/v1/predict`, image, {}, A);
    expect(timedOut.status).toBe(504);
    expect(timedOut.body.error.code).toBe('TIMEOUT');
    expect(timedOut.body.error.job_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(timedOut.headers.get('location')).toBe(`/v1/jobs/${timedOut.body.error.job_id}`);
    track(timedOut.body.error.job_id, A);
    // Five jobs now wait, the limit: admission counts them exactly, with no cache.
    const full = await postForm(`${spotter.url}/v1/jobs`, image, {}, A);
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('5');
    expect(full.body.error.code).toBe('OVERLOADED');
  });

  it('drains the backlog once a worker starts; every queued job succeeds', async () => {
    await spotter.startWorker();
    for (const { id, headers } of created) {
      const { body } = await getJson(`${spotter.url}/v1/jobs/${id}?wait=30`, headers);
      expect(body.status, id).toBe('succeeded');
      expect(body.timings_ms.queue).toBeGreaterThan(500);
    }
    const { id, headers } = created[0]!;
    const jpeg = await fetch(`${spotter.url}/v1/jobs/${id}/annotated`, { headers });
    expect(jpeg.status).toBe(200);
    expect(jpeg.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(Buffer.from(await jpeg.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 640, 426]);
  });

  it('answers /v1/predict with the job JSON, or the annotated JPEG on Accept: image/jpeg', async () => {
    const bear = await datasetImage('000000000285.jpg');
    const json = await postForm(`${spotter.url}/v1/predict`, bear, { min_score: '0.5' }, A);
    expect(json.status).toBe(200);
    expect(json.body.status).toBe('succeeded');
    expect(json.body.result.detections.map((d: { label: string }) => d.label)).toEqual(['bear']);
    const image = await postForm(`${spotter.url}/v1/predict`, bear, {}, { ...A, accept: 'image/jpeg' });
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/jpeg');
    const meta = await sharp(image.body as Buffer).metadata();
    expect([meta.width, meta.height]).toEqual([586, 640]);
  });

  it('keeps API keys and image bytes out of the logs', () => {
    const logs = spotter.api.output() + spotter.workers.map((w) => w.output()).join('');
    expect(logs).toContain('"route":"/v1/jobs"');
    expect(logs).not.toMatch(/key-alpha-0001|key-bravo-0002/);
    // JPEG bytes would show up as their magic number in any encoding we might log.
    expect(logs).not.toMatch(/\/9j\/|ffd8ff|\\xff\\xd8/i);
  });
});
