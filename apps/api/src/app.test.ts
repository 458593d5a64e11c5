import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import type { ObjectStorage } from '@spotter/storage';
import { createLogger } from '@spotter/telemetry';
import { routesOf } from '../../../test/support/route-table.js';
import { composeApi } from './compose-api.js';

// The whole API in this process, against the run's real Redis and a temporary folder, with
// no worker: jobs stay queued, which is all most routes need. Every route the app declares
// must be exercised here (the last test checks).
const ROOT = path.resolve(import.meta.dirname, '../../..');
const TENANT = { authorization: 'Bearer app-tenant-0001' };
const OTHER = { authorization: 'Bearer app-tenant-0002' };
const ADMIN = { authorization: 'Bearer app-admin-00001' };
const METRICS = { authorization: 'Bearer app-metrics-token-0001' };
const image = () => readFile(path.join(ROOT, '..', 'shared', 'datasets', 'coco-val128', 'images', '000000000139.jpg'));

describe('the API in-process, route by route', () => {
  let server: Server;
  let base: string;
  let app: Express;
  let close: () => Promise<void>;
  let storage: ObjectStorage;
  const covered = new Set<string>();
  /** A request, recording which route template it exercises. */
  const call = async (route: string, url: string, init: RequestInit & { headers?: Record<string, string> } = {}) => {
    covered.add(route);
    return fetch(`${base}${url}`, init);
  };
  const json = async (route: string, url: string, init: RequestInit & { headers?: Record<string, string> } = {}) => {
    const res = await call(route, url, init);
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };
  const upload = async (route: string, url: string, headers: Record<string, string>, part = 'image') => {
    const form = new FormData();
    form.append(part, new Blob([await image()]), 'photo.jpg');
    return json(route, url, { method: 'POST', body: form, headers });
  };

  beforeAll(async () => {
    const config = loadConfig({
      REDIS_URL: inject('redisUrl'),
      SPOTTER_QUEUE_PREFIX: `app${randomBytes(3).toString('hex')}`,
      SPOTTER_STORAGE: `file://${await mkdtemp(path.join(os.tmpdir(), 'spotter-app-'))}`,
      SPOTTER_MODEL_DIR: path.join(ROOT, 'models'),
      SPOTTER_API_KEYS: 'app-tenant-0001,app-tenant-0002',
      SPOTTER_ADMIN_KEYS: 'app-admin-00001',
      SPOTTER_METRICS_TOKEN: 'app-metrics-token-0001',
      SPOTTER_PREDICT_TIMEOUT_MS: '300',
      // Above the 2 MB clip the video test sends, below the 3 MB object it must refuse.
      SPOTTER_VIDEO_MAX_BYTES: String(2.5 * 1024 ** 2),
      LOG_LEVEL: 'silent',
    });
    const api = await composeApi(config, createLogger('spotter-api', 'silent'), 'test');
    app = api.app;
    close = api.close;
    storage = api.storage;
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.close();
    await close?.();
  });

  it('serves the system routes: welcome, health, readiness, metrics behind the token, OpenAPI, Swagger UI', async () => {
    expect((await json('GET /', '/')).body).toMatchObject({ docs: '/docs' });
    expect((await call('GET /', '/', { headers: { accept: 'text/html' } })).headers.get('content-type')).toMatch(/html/);
    expect((await json('GET /healthz', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await json('GET /readyz', '/readyz')).body).toMatchObject({ status: 'ready' });
    expect((await call('GET /metrics', '/metrics')).status).toBe(401);
    const metrics = await call('GET /metrics', '/metrics', { headers: METRICS });
    expect(await metrics.text()).toMatch(/spotter_redis_up 1/);
    expect((await json('GET /openapi.json', '/openapi.json')).body.openapi).toBe('3.1.0');
    expect((await call('USE /docs', '/docs/')).status).toBe(200);
  });

  it('creates, lists, reads, waits for, cancels and erases jobs, each key seeing only its own', async () => {
    const created = await upload('POST /v1/jobs', '/v1/jobs', TENANT);
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    expect((await json('GET /v1/jobs', '/v1/jobs', { headers: TENANT })).body.jobs.map((j: { id: string }) => j.id)).toEqual([id]);
    expect((await json('GET /v1/jobs', '/v1/jobs', { headers: OTHER })).body.jobs).toEqual([]);
    expect((await json('GET /v1/jobs/:id', `/v1/jobs/${id}`, { headers: TENANT })).body).toMatchObject({ id, status: 'queued', image: { held: true } });
    expect((await json('GET /v1/jobs/:id', `/v1/jobs/${id}`, { headers: OTHER })).status).toBe(404);
    expect((await json('GET /v1/jobs/:id', `/v1/jobs/${id}?wait=0.2`, { headers: TENANT })).body.status).toBe('queued');
    expect((await json('GET /v1/jobs/:id/annotated', `/v1/jobs/${id}/annotated`, { headers: TENANT })).status).toBe(409);
    expect((await json('POST /v1/jobs/:id/feedback', `/v1/jobs/${id}/feedback`, { method: 'POST', headers: { ...TENANT, 'content-type': 'application/json' }, body: '{"boxes":[]}' })).status).toBe(409);
    expect((await json('DELETE /v1/jobs/:id', `/v1/jobs/${id}`, { method: 'DELETE', headers: OTHER })).status).toBe(404);
    expect((await json('DELETE /v1/jobs/:id', `/v1/jobs/${id}`, { method: 'DELETE', headers: TENANT })).body).toMatchObject({ id, status: 'cancelled' });
    expect((await call('DELETE /v1/jobs/:id', `/v1/jobs/${id}`, { method: 'DELETE', headers: TENANT })).status).toBe(204);
    expect((await json('GET /v1/jobs/:id', `/v1/jobs/${id}`, { headers: TENANT })).status).toBe(404);
    // No worker here: the synchronous endpoint times out with the job to poll.
    const predict = await upload('POST /v1/predict', '/v1/predict', TENANT);
    expect([predict.status, predict.body.error.code]).toEqual([504, 'TIMEOUT']);
  });

  it('creates, reads, streams and cancels batches', async () => {
    const created = await upload('POST /v1/batches', '/v1/batches', TENANT, 'images');
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    expect((await json('GET /v1/batches/:id', `/v1/batches/${id}`, { headers: TENANT })).body).toMatchObject({ id, counts: { total: 1 } });
    expect((await json('GET /v1/batches/:id', `/v1/batches/${id}`, { headers: OTHER })).status).toBe(404);
    const lines = await (await call('GET /v1/batches/:id/results', `/v1/batches/${id}/results`, { headers: TENANT })).text();
    expect(JSON.parse(lines.trim())).toMatchObject({ item: 0, source: 'photo.jpg', status: 'queued' });
    expect((await call('GET /v1/batches/:id/results', `/v1/batches/${id}/results?format=coco`, { headers: TENANT }).then((r) => r.json()))).toEqual([]);
    expect((await json('DELETE /v1/batches/:id', `/v1/batches/${id}`, { method: 'DELETE', headers: TENANT })).body).toMatchObject({ status: 'cancelled' });
  });

  it('describes the models, serves the model file with an ETag, and keeps the rollout to admins', async () => {
    const models = (await json('GET /v1/models', '/v1/models', { headers: TENANT })).body.models;
    expect(models.find((m: { name: string }) => m.name === 'yolox_nano')).toMatchObject({ role: 'live', available: true });
    expect((await json('GET /v1/models/:name', '/v1/models/yolox_nano', { headers: TENANT })).body).toMatchObject({ name: 'yolox_nano' });
    const file = await call('GET /v1/models/:name/file', '/v1/models/yolox_nano/file', { headers: TENANT });
    expect(file.status).toBe(200);
    expect((await file.arrayBuffer()).byteLength).toBe(3_713_911);
    const etag = file.headers.get('etag')!;
    expect((await call('GET /v1/models/:name/file', '/v1/models/yolox_nano/file', { headers: { ...TENANT, 'if-none-match': etag } })).status).toBe(304);
    expect((await call('GET /v1/models/:name/file', '/v1/models/yolox_nano/file')).status).toBe(401);
    expect((await json('GET /v1/rollout', '/v1/rollout', { headers: TENANT })).status).toBe(403);
    expect((await json('GET /v1/rollout', '/v1/rollout', { headers: ADMIN })).body).toMatchObject({ mode: 'none', live: 'yolox_nano' });
    const post = (route: string, body: unknown, headers = ADMIN) => json(`POST ${route}`, route, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/v1/rollout', { mode: 'shadow', candidate: 'nope' })).status).toBe(400);
    expect((await post('/v1/rollout', { mode: 'shadow', candidate: 'yolox_nano' })).status).toBe(409);
    expect((await post('/v1/rollout/promote', {}, TENANT)).status).toBe(403);
    expect((await post('/v1/rollout/promote', {})).status).toBe(409);
    expect((await post('/v1/rollout/rollback', {})).status).toBe(409);
  });

  it('registers a model file with its manifest (admins), lists it, and removes it; the live model and seeds stay', async () => {
    const add = (manifest: unknown, file: Buffer | null, headers = ADMIN) => {
      const form = new FormData();
      if (file) form.append('file', new Blob([file]), 'upload.onnx');
      form.append('manifest', JSON.stringify(manifest));
      return json('POST /v1/models', '/v1/models', { method: 'POST', body: form, headers });
    };
    const bytes = await readFile(path.join(ROOT, 'models', 'yolox_nano.onnx'));
    expect((await add({ name: 'copy' }, bytes, TENANT)).status).toBe(403);
    expect((await add({ name: 'copy' }, null)).body.error.code).toBe('MISSING_FILE');
    expect((await add({ name: 'copy', format: 'ultralytics' }, bytes)).body.error.code).toBe('INVALID_MODEL');
    expect((await add({ name: 'yolox_nano' }, bytes)).status).toBe(409);
    const added = await add({ name: 'copy' }, bytes);
    expect(added.status, JSON.stringify(added.body)).toBe(201);
    expect(added.body).toMatchObject({ name: 'copy', source: 'stored', format: 'yolox', bytes: bytes.length, available: true, eval: null });
    expect((await json('GET /v1/models', '/v1/models', { headers: TENANT })).body.models.map((m: { name: string }) => m.name)).toContain('copy');
    const del = (name: string, headers = ADMIN) => call('DELETE /v1/models/:name', `/v1/models/${name}`, { method: 'DELETE', headers });
    expect((await del('copy', TENANT)).status).toBe(403);
    expect((await del('yolox_nano')).status).toBe(409);
    expect((await del('copy')).status).toBe(204);
    expect((await del('copy')).status).toBe(404);
  });

  it('answers the monitoring routes (admin) with what there is: no reference yet, no traffic', async () => {
    expect((await json('GET /v1/monitoring/drift', '/v1/monitoring/drift', { headers: TENANT })).status).toBe(403);
    expect((await json('GET /v1/monitoring/drift', '/v1/monitoring/drift', { headers: ADMIN })).body).toMatchObject({ status: 'insufficient_data', reference: null });
    expect((await json('GET /v1/monitoring/alarms', '/v1/monitoring/alarms', { headers: ADMIN })).body).toMatchObject({ open: [], service: { open: [] }, evaluation: { failures: 0, error: null }, history: [] });
    const now = new Date();
    const ref = await json('POST /v1/monitoring/reference', '/v1/monitoring/reference', {
      method: 'POST',
      headers: { ...ADMIN, 'content-type': 'application/json' },
      body: JSON.stringify({ from: new Date(now.getTime() - 60_000).toISOString(), to: now.toISOString() }),
    });
    expect([ref.status, ref.body.error.code]).toEqual([409, 'CONFLICT']);
    expect((await json('GET /v1/monitoring/metrics/:name/histogram', '/v1/monitoring/metrics/brightness/histogram', { headers: ADMIN })).status).toBe(200);
    expect((await json('GET /v1/monitoring/metrics/:name/history', '/v1/monitoring/metrics/brightness/history', { headers: ADMIN })).status).toBe(200);
    expect((await json('GET /v1/monitoring/metrics/:name/histogram', '/v1/monitoring/metrics/nope/histogram', { headers: ADMIN })).status).toBe(400);
    expect((await json('GET /v1/monitoring/labeling', '/v1/monitoring/labeling', { headers: TENANT })).status).toBe(403);
    expect((await json('GET /v1/monitoring/labeling', '/v1/monitoring/labeling?budget=5', { headers: ADMIN })).body).toMatchObject({ budget: 5, items: [] });
    expect((await json('GET /v1/monitoring/labeling', '/v1/monitoring/labeling?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', { headers: ADMIN })).status).toBe(400);
  });

  it('lists evaluation reports and refuses unknown ones', async () => {
    expect((await json('GET /v1/reports', '/v1/reports', { headers: TENANT })).body).toMatchObject({ reports: [] });
    expect((await json('GET /v1/reports/:id', '/v1/reports/00000000-0000-4000-8000-000000000000', { headers: TENANT })).status).toBe(404);
    const basic = { authorization: `Basic ${Buffer.from('x:app-tenant-0001').toString('base64')}` };
    expect((await call('GET /:id', '/reports/00000000-0000-4000-8000-000000000000', { headers: basic })).status).toBe(404);
  });

  it('serves the console and the queue dashboard (admins only)', async () => {
    const page = await call('GET /console', '/console');
    expect([200, 301, 302, 404]).toContain(page.status);
    covered.add('GET /console/').add('GET /console/index.html');
    expect((await call('USE /admin/queues', '/admin/queues', { headers: { authorization: `Basic ${Buffer.from('x:app-tenant-0001').toString('base64')}` } })).status).toBe(403);
    expect((await call('USE /admin/queues', '/admin/queues', { headers: { authorization: `Basic ${Buffer.from('x:app-admin-00001').toString('base64')}` } })).status).toBe(200);
    expect((await json('unmatched', '/v3/nothing')).body.error.code).toBe('NOT_FOUND');
  });

  it('speaks the Open Inference Protocol at /v2: probes without a key, the rest behind it, errors in its form', async () => {
    expect((await json('GET /v2/health/live', '/v2/health/live')).body).toEqual({ live: true });
    expect((await json('GET /v2/health/ready', '/v2/health/ready')).body).toEqual({ ready: true });
    expect((await json('GET /v2', '/v2')).body).toEqual({ error: expect.stringMatching(/key/i) });
    expect((await json('GET /v2', '/v2', { headers: TENANT })).body).toMatchObject({ name: 'spotter', version: 'test' });
    const meta = await json('GET /v2/models/:name', '/v2/models/yolox_nano', { headers: TENANT });
    const version = meta.body.versions[0];
    expect((await json('GET /v2/models/:name/versions/:version', `/v2/models/yolox_nano/versions/${version}`, { headers: TENANT })).body).toEqual(meta.body);
    expect((await json('GET /v2/models/:name/ready', '/v2/models/yolox_nano/ready', { headers: TENANT })).body).toEqual({ name: 'yolox_nano', ready: true });
    const wrong = await json('GET /v2/models/:name/versions/:version/ready', '/v2/models/yolox_nano/versions/nope/ready', { headers: TENANT });
    expect([wrong.status, wrong.headers.get('spotter-error-code'), typeof wrong.body.error]).toEqual([404, 'MODEL_VERSION_NOT_FOUND', 'string']);
    // No worker here: the picture is queued, and the wait ends like /v1/predict's, with the job to poll.
    const body = JSON.stringify({ inputs: [{ name: 'IMAGE', shape: [1], datatype: 'BYTES', data: [(await image()).toString('base64')] }] });
    const waited = await json('POST /v2/models/:name/infer', '/v2/models/yolox_nano/infer', { method: 'POST', body, headers: { ...TENANT, 'content-type': 'application/json' } });
    expect([waited.status, waited.headers.get('spotter-error-code')]).toEqual([504, 'TIMEOUT']);
    expect(waited.headers.get('location')).toMatch(/^\/v1\/jobs\//);
    const bad = await json('POST /v2/models/:name/versions/:version/infer', `/v2/models/yolox_nano/versions/${version}/infer`, { method: 'POST', body: '{"inputs": []}', headers: TENANT });
    expect([bad.status, typeof bad.body.error]).toEqual([400, 'string']);
  });

  it('accepts videos (upload or a key under intake/), reads them, and holds back results until they succeed', async () => {
    const clip = await readFile(path.join(ROOT, '..', 'shared', 'datasets', 'videos', 'degirum_Traffic.mp4'));
    const form = new FormData();
    form.append('video', new Blob([clip]), 'traffic.mp4');
    form.append('classes', 'car,truck');
    form.append('segment_s', '4');
    const created = await json('POST /v1/videos', '/v1/videos', { method: 'POST', body: form, headers: { ...TENANT, 'idempotency-key': 'video-1' } });
    expect(created).toMatchObject({ status: 202, body: { status: 'queued', video: { width: 960, height: 540, frames: 335 }, options: { classes: [2, 7], fps: 15 } } });
    expect(created.body.progress.segments_total).toBeGreaterThan(1);
    const again = new FormData();
    again.append('video', new Blob([clip]), 'traffic.mp4');
    const replay = await json('POST /v1/videos', '/v1/videos', { method: 'POST', body: again, headers: { ...TENANT, 'idempotency-key': 'video-1' } });
    expect([replay.body.id, replay.headers.get('idempotent-replayed')]).toEqual([created.body.id, 'true']);
    const id = created.body.id as string;
    expect((await json('GET /v1/videos/:id', `/v1/videos/${id}`, { headers: TENANT })).body.status).toBe('queued');
    expect((await json('GET /v1/videos/:id', `/v1/videos/${id}`, { headers: OTHER })).status).toBe(404);
    for (const what of ['detections', 'tracks', 'counts', 'events', 'annotated']) {
      const r = await json(`GET /v1/videos/:id/${what}`, `/v1/videos/${id}/${what}`, { headers: TENANT });
      expect([r.status, r.body.error.code]).toEqual([409, 'VIDEO_NOT_READY']);
    }
    await storage.put('intake/clips/traffic.mp4', clip, 'video/mp4');
    const fromKey = await json('POST /v1/videos', '/v1/videos', { method: 'POST', headers: { ...TENANT, 'content-type': 'application/json' }, body: JSON.stringify({ source: { key: 'intake/clips/traffic.mp4' }, fps: 'all' }) });
    expect(fromKey).toMatchObject({ status: 202, body: { source: 'storage', options: { fps: 0 } } });
    const outside = await json('POST /v1/videos', '/v1/videos', { method: 'POST', headers: { ...TENANT, 'content-type': 'application/json' }, body: JSON.stringify({ source: { key: 'videos/x/clip' } }) });
    expect([outside.status, outside.body.error.code]).toEqual([400, 'INVALID_SOURCE']);
    const fromIntake = (key: string) => json('POST /v1/videos', '/v1/videos', { method: 'POST', headers: { ...TENANT, 'content-type': 'application/json' }, body: JSON.stringify({ source: { key } }) });
    expect((await fromIntake('intake/clips/none.mp4')).body.error.code).toBe('SOURCE_NOT_FOUND');
    await storage.put('intake/clips/large.mp4', Buffer.concat([clip, Buffer.alloc(1024 ** 2)]), 'video/mp4');
    const large = await fromIntake('intake/clips/large.mp4');
    expect([large.status, large.body.error]).toEqual([400, { code: 'PAYLOAD_TOO_LARGE', message: `the clip is larger than ${2.5 * 1024 ** 2} bytes (SPOTTER_VIDEO_MAX_BYTES)` }]);
    const badClass = new FormData();
    badClass.append('video', new Blob([clip]), 'traffic.mp4');
    badClass.append('classes', 'unicorn');
    expect((await json('POST /v1/videos', '/v1/videos', { method: 'POST', body: badClass, headers: TENANT })).body.error.code).toBe('UNKNOWN_CLASS');
    // Another key cannot cancel it; its owner cancels (202), then erases (204).
    expect((await json('DELETE /v1/videos/:id', `/v1/videos/${id}`, { method: 'DELETE', headers: OTHER })).status).toBe(404);
    expect((await json('DELETE /v1/videos/:id', `/v1/videos/${id}`, { method: 'DELETE', headers: TENANT })).body).toMatchObject({ status: 'cancelled', webhook: null });
    expect((await call('DELETE /v1/videos/:id', `/v1/videos/${id}`, { method: 'DELETE', headers: TENANT })).status).toBe(204);
    expect(await storage.get(`videos/${id}/clip`)).toBeNull();
  });

  it('exercised every route the app declares', () => {
    const declared = routesOf(app);
    expect(declared.length).toBeGreaterThan(25);
    expect(declared.filter((r) => !covered.has(r))).toEqual([]);
  });
});
