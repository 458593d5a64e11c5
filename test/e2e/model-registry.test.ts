import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { createStorage } from '@spotter/storage';
import { modelsAddCommand } from '../../apps/cli/src/models-command.js';
import { DATASET, getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';

// The shared registry: models added after the processes started (by the CLI against the same
// storage, or by an admin's POST /v1/models) serve jobs without a restart, on every family.
const ZOO = path.resolve(DATASET, '..', '..', 'models', 'zoo');
const KEY = 'registry-tenant-0001';
const ADMIN_KEY = 'registry-admin-0001';
const AUTH = { authorization: `Bearer ${KEY}` };
const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` };
const STOP_SIGN = path.join(DATASET, 'images', '000000000724.jpg');

async function postModel(spotter: Spotter, file: Buffer | null, manifest: unknown, auth = ADMIN) {
  const form = new FormData();
  if (file) form.append('file', new Blob([file]), 'upload.onnx');
  form.append('manifest', typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  const res = await fetch(`${spotter.url}/v1/models`, { method: 'POST', body: form, headers: auth });
  return { status: res.status, body: (await res.json()) as any };
}

async function detectWith(spotter: Spotter, model: string) {
  const { status, body } = await postForm(`${spotter.url}/v1/jobs`, await readFile(STOP_SIGN), { model }, AUTH);
  expect(status, JSON.stringify(body)).toBe(202);
  const job = (await getJson(`${spotter.url}/v1/jobs/${body.id}?wait=60`, AUTH)).body;
  expect(job.status, JSON.stringify(job)).toBe('succeeded');
  return job;
}

describe('models registered while Spotter runs', () => {
  let spotter: Spotter;
  beforeAll(async () => {
    spotter = await startSpotter({ SPOTTER_API_KEYS: KEY, SPOTTER_ADMIN_KEYS: ADMIN_KEY, SPOTTER_MODEL_REFRESH_S: '1' });
  });
  afterAll(() => spotter?.stop());

  it('a model added with `models add` (another process, the same storage) serves jobs on the running worker', async () => {
    const config = loadConfig({ ...spotter.env, SPOTTER_MODEL_CACHE_DIR: path.join(spotter.storageDir, 'cli-cache') });
    const lines: string[] = [];
    const added = await modelsAddCommand(
      { file: path.join(ZOO, 'nanodet_m_320.onnx'), name: 'nanodet', sample: path.join(DATASET, 'images'), storage: await createStorage(config.storage), say: (l) => lines.push(l) },
      config,
    );
    expect(added.manifest).toMatchObject({ format: 'gfl', labels: 'coco', preprocess: { channels: 'bgr', pad: 'center' } });
    expect(lines.find((l) => l.startsWith('sample:'))).toMatch(/on [1-8] of 8 pictures/);
    const job = await detectWith(spotter, 'nanodet');
    expect(job.status).toBe('succeeded');
    expect(job.result.model).toMatchObject({ name: 'nanodet', version: added.model.version });
    expect(job.result.detections.find((d: { label: string }) => d.label === 'stop sign')?.score).toBeGreaterThan(0.5);
  });

  it('POST /v1/models registers a file and its manifest; the listing, the manifest and the file route show it', async () => {
    const bytes = await readFile(path.join(ZOO, 'yolo26n_int8.onnx'));
    const res = await postModel(spotter, bytes, { name: 'yolo26', format: 'yolo26', preprocess: { pad: 'center', channels: 'rgb', scale: 1 / 255 } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ name: 'yolo26', format: 'yolo26', source: 'stored', bytes: bytes.length, available: true });
    const listed = (await getJson(`${spotter.url}/v1/models`, AUTH)).body.models.map((m: { name: string }) => m.name);
    expect(listed).toEqual(expect.arrayContaining(['yolox_nano', 'nanodet', 'yolo26']));
    const file = await fetch(`${spotter.url}/v1/models/yolo26/file`, { headers: AUTH });
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    const job = await detectWith(spotter, 'yolo26');
    expect(job.status).toBe('succeeded');
    expect(job.result.detections.find((d: { label: string }) => d.label === 'stop sign')?.score).toBeGreaterThan(0.5);
  });

  it('refuses what it cannot serve, with a 4xx and the reason', async () => {
    const yolo = await readFile(path.join(ZOO, 'yolov8n_int8.onnx'));
    expect((await postModel(spotter, yolo, { name: 'mine' }, AUTH)).status).toBe(403);
    const notOnnx = await postModel(spotter, Buffer.from('not a model at all'), { name: 'junk', format: 'ultralytics' });
    expect(notOnnx.status).toBe(400);
    expect(notOnnx.body.error.code).toBe('INVALID_MODEL');
    // YOLOv8's [1, 84, 8400] read as YOLOX: the family's reason and the model's shapes.
    const wrong = await postModel(spotter, yolo, { name: 'wrong', format: 'yolox' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.message).toMatch(/unexpected output for format yolox.*outputs output0 \[1, 84, 8400\]/);
    const dup = await postModel(spotter, yolo, { name: 'yolo26', format: 'ultralytics' });
    expect(dup.status).toBe(409);
    expect((await postModel(spotter, null, { name: 'nofile' })).body.error.code).toBe('MISSING_FILE');
    expect((await postModel(spotter, yolo, '{"name": ')).body.error.code).toBe('INVALID_MANIFEST');
  });

  it('DELETE /v1/models/{name} removes a stored model, never the live one or a seed', async () => {
    const del = (name: string, auth = ADMIN) => fetch(`${spotter.url}/v1/models/${name}`, { method: 'DELETE', headers: auth });
    expect((await del('yolo26', AUTH)).status).toBe(403);
    expect((await del('yolox_nano')).status).toBe(409);
    expect((await del('nope')).status).toBe(404);
    expect((await del('yolo26')).status).toBe(204);
    expect((await getJson(`${spotter.url}/v1/models/yolo26`, AUTH)).status).toBe(404);
    const res = await postForm(`${spotter.url}/v1/jobs`, await readFile(STOP_SIGN), { model: 'yolo26' }, AUTH);
    expect(res.body.error.code).toBe('UNKNOWN_MODEL');
  });
});
