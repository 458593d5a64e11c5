import { copyFile, mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { createStorage, type ObjectStorage } from '@spotter/storage';
import { evalCommand } from '../../apps/cli/src/eval-command.js';
import { datasetImage } from '../support/images.js';
import { DATASET, getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';
import { makeZip } from '../support/zip.js';

const KEY = { authorization: 'Bearer batch-tenant-0001' };
const N = 200;
const MIN_SCORE = '0.05';

/** N images: the dataset's 128 and copies under new numeric names (distinct COCO image ids). */
async function images(n: number) {
  const files = (await readdir(path.join(DATASET, 'images'))).filter((f) => f.endsWith('.jpg')).sort();
  return Array.from({ length: n }, (_, i) => {
    const file = files[i % files.length]!;
    return { name: i < files.length ? file : `${900000000000 + i}.jpg`, file: path.join(DATASET, 'images', file), labels: path.join(DATASET, 'labels', file.replace(/\.jpg$/, '.txt')) };
  });
}

/** A YOLO dataset folder of those images (symlinks) and their labels, for `spotter eval`. */
async function yoloDataset(set: Awaited<ReturnType<typeof images>>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-batch-ds-'));
  await mkdir(path.join(dir, 'images'));
  await mkdir(path.join(dir, 'labels'));
  await copyFile(path.join(DATASET, 'classes.yaml'), path.join(dir, 'classes.yaml'));
  for (const img of set) {
    await symlink(img.file, path.join(dir, 'images', img.name));
    await copyFile(img.labels, path.join(dir, 'labels', img.name.replace(/\.jpg$/, '.txt'))).catch(() => undefined);
  }
  return dir;
}

async function apOf(data: string, coco: unknown) {
  const out = await mkdtemp(path.join(os.tmpdir(), 'spotter-batch-eval-'));
  const file = path.join(out, 'predictions.json');
  await writeFile(file, JSON.stringify(coco));
  return (await evalCommand({ data, out, predictions: file }, loadConfig({}))).metrics;
}

async function postMultipart(url: string, parts: { name: string; filename: string; bytes: Uint8Array }[], fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const p of parts) form.append(p.name, new Blob([p.bytes]), p.filename);
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(url, { method: 'POST', body: form, headers: KEY });
  return { status: res.status, body: (await res.json()) as any };
}

async function finalBatch(spotter: Spotter, id: string) {
  return until(async () => {
    const { body } = await getJson(`${spotter.url}/v1/batches/${id}`, KEY);
    return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
  }, 240_000);
}

async function results(spotter: Spotter, id: string) {
  const text = await (await fetch(`${spotter.url}/v1/batches/${id}/results`, { headers: KEY })).text();
  return text.trim().split('\n').map((l) => JSON.parse(l));
}

describe.each(['file', 's3'] as const)('batches with %s storage', (kind) => {
  let spotter: Spotter;
  let storage: ObjectStorage;
  const size = kind === 'file' ? N : 40;
  let set: Awaited<ReturnType<typeof images>>;
  let dataset: string;
  let oneByOneAp: number;

  beforeAll(async () => {
    const s3 = { SPOTTER_STORAGE: `s3://${inject('s3Bucket')}/batches-${Date.now()}`, S3_ENDPOINT: inject('s3Endpoint'), S3_FORCE_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
    spotter = await startSpotter({ SPOTTER_API_KEYS: 'batch-tenant-0001', ...(kind === 's3' ? s3 : {}) });
    storage = await createStorage(loadConfig(spotter.env).storage);
    set = await images(size);
    dataset = await yoloDataset(set);
    if (kind === 'file') {
      // The reference: the same images sent one by one.
      const coco: unknown[] = [];
      const ids = new Map<string, number>();
      for (const img of set) {
        const res = await postForm(`${spotter.url}/v1/jobs`, await datasetImage(path.basename(img.file)), { min_score: MIN_SCORE }, KEY);
        const job = (await getJson(`${spotter.url}/v1/jobs/${res.body.id}?wait=30`, KEY)).body;
        const imageId = Number(img.name.replace(/\.jpg$/, ''));
        ids.set(img.name, imageId);
        for (const d of job.result.detections) coco.push({ image_id: imageId, category_id: d.class_id, bbox: [d.box.x1, d.box.y1, d.box.x2 - d.box.x1, d.box.y2 - d.box.y1], score: d.score });
      }
      oneByOneAp = (await apOf(dataset, coco)).AP!;
    }
  });
  afterAll(() => spotter?.stop());

  const check = async (id: string, expected: string[]) => {
    const batch = await finalBatch(spotter, id);
    expect(batch).toMatchObject({ status: 'succeeded', counts: { total: expected.length, succeeded: expected.length, failed: 0, queued: 0, running: 0 }, progress: 1 });
    const lines = await results(spotter, id);
    expect(lines.map((l) => l.source)).toEqual(expected);
    expect(lines.every((l) => l.status === 'succeeded' && Array.isArray(l.detections))).toBe(true);
    if (kind === 'file') {
      const coco = await (await fetch(`${spotter.url}/v1/batches/${id}/results?format=coco`, { headers: KEY })).json();
      expect((await apOf(dataset, coco)).AP).toBe(oneByOneAp);
    }
    return lines;
  };

  it('takes several image parts in one request', async () => {
    const parts = await Promise.all(set.map(async (img) => ({ name: 'images', filename: img.name, bytes: await datasetImage(path.basename(img.file)) })));
    const res = await postMultipart(`${spotter.url}/v1/batches`, parts, { min_score: MIN_SCORE });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ source: 'images', counts: { total: size, skipped: 0 } });
    expect(['queued', 'running']).toContain(res.body.status);
    await check(res.body.id, set.map((i) => i.name));
  });

  it('takes a zip archive, streamed; entries that are not images are skipped with their reason', async () => {
    const zip = makeZip([
      { name: 'readme.txt', data: new TextEncoder().encode('not an image'), deflate: true },
      { name: '../../escape.jpg', data: await datasetImage() },
      ...(await Promise.all(set.map(async (img) => ({ name: `photos/${img.name}`, data: await datasetImage(path.basename(img.file)) })))),
    ]);
    const res = await postMultipart(`${spotter.url}/v1/batches`, [{ name: 'archive', filename: 'photos.zip', bytes: zip }], { min_score: MIN_SCORE });
    expect(res.status).toBe(202);
    expect(res.body.counts).toMatchObject({ total: size, skipped: 2 });
    expect(res.body.skipped).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'readme.txt', code: 'UNSUPPORTED_MEDIA_TYPE' }),
        expect.objectContaining({ source: '../../escape.jpg', code: 'UNSAFE_NAME' }),
      ]),
    );
    await check(res.body.id, set.map((i) => `photos/${i.name}`));
  });

  it('takes images already in the bucket under an intake prefix, and refuses any other prefix', async () => {
    for (const img of set) await storage.put(`intake/run1/${img.name}`, await datasetImage(path.basename(img.file)), 'image/jpeg');
    const post = (prefix: string) =>
      fetch(`${spotter.url}/v1/batches`, { method: 'POST', headers: { ...KEY, 'content-type': 'application/json' }, body: JSON.stringify({ source: { prefix }, min_score: Number(MIN_SCORE) }) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    for (const bad of ['images/', 'results/', 'intake/../images/', '../etc/', 'http://example.com/x/']) {
      const res = await post(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.error.code, bad).toBe('INVALID_PREFIX');
    }
    const res = await post('intake/run1');
    expect(res.status).toBe(202);
    await check(res.body.id, set.map((i) => `intake/run1/${i.name}`).sort());
  });
});
