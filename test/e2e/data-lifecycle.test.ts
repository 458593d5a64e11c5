import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { datasetImage } from '../support/images.js';
import { DATASET, getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';
import { makeZip } from '../support/zip.js';

const KEY = { authorization: 'Bearer lifecycle-tenant-01' };
const SECRET = 'lifecycle-webhook-secret-01';
const GPS_EXIF = { IFD0: { Make: 'PhoneMaker' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2964/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 17/1 4032/100' } };

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))])));
  return nested.flat();
}

function startReceiver() {
  const events: { event: string; body: any }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const parsed = JSON.parse(body);
      events.push({ event: parsed.event, body: parsed });
      res.writeHead(200).end();
    });
  });
  return new Promise<{ server: http.Server; port: number; events: typeof events }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, events })),
  );
}

async function postArchive(spotter: Spotter, zip: Uint8Array, fields: Record<string, string> = {}) {
  const form = new FormData();
  form.append('archive', new Blob([zip]), 'upload.zip');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${spotter.url}/v1/batches`, { method: 'POST', body: form, headers: KEY });
  return { status: res.status, body: (await res.json()) as any };
}

/** A zip of the first `n` dataset images. */
async function datasetZip(n: number) {
  const files = (await readdir(path.join(DATASET, 'images'))).sort().slice(0, n);
  return makeZip(await Promise.all(files.map(async (name) => ({ name, data: await readFile(path.join(DATASET, 'images', name)) }))));
}

describe('archives that must be refused or skipped', () => {
  let spotter: Spotter;
  beforeAll(async () => {
    spotter = await startSpotter({ SPOTTER_API_KEYS: 'lifecycle-tenant-01' }, { workers: 0 });
  });
  afterAll(() => spotter?.stop());

  it('refuses a 10,000-entry zip and a zip bomb, skips an entry that expands past the limit; nothing is left in storage', async () => {
    const tooMany = await postArchive(spotter, makeZip(Array.from({ length: 10_000 }, (_, i) => ({ name: `f${i}.txt`, data: new Uint8Array([i % 256]) }))));
    expect(tooMany.status).toBe(413);
    expect(tooMany.body.error.code).toBe('ARCHIVE_TOO_MANY_ENTRIES');
    // A bomb: 200 entries of 8 MB of zeros, about 8 KB each once deflated. With the sizes in
    // its headers each entry is skipped unread; with them hidden, inflating it trips the ratio.
    const zeros = new Uint8Array(8 * 1024 * 1024);
    const bomb = Array.from({ length: 200 }, (_, i) => ({ name: `z${i}.jpg`, data: zeros, deflate: true }));
    const declared = await postArchive(spotter, makeZip(bomb));
    expect([declared.status, declared.body.error.code]).toEqual([400, 'BATCH_EMPTY']);
    expect(declared.body.error.message).toMatch(/z0\.jpg: the entry expands more than 100 times/);
    const hidden = await postArchive(spotter, makeZip(bomb, { hideSizes: true }));
    expect([hidden.status, hidden.body.error.code]).toEqual([413, 'ARCHIVE_COMPRESSION_RATIO']);
    // One entry bigger than an upload may be: skipped, the rest goes on.
    const big = makeZip([
      { name: 'huge.jpg', data: new Uint8Array(25 * 1024 * 1024), deflate: true },
      { name: 'ok.jpg', data: await datasetImage() },
    ]);
    const partly = await postArchive(spotter, big);
    expect(partly.status).toBe(202);
    expect(partly.body.counts).toMatchObject({ total: 1, skipped: 1 });
    expect(partly.body.skipped[0]).toMatchObject({ source: 'huge.jpg', code: expect.stringMatching(/ENTRY_TOO_LARGE|COMPRESSION_RATIO/) });
    const files = await listFiles(spotter.storageDir);
    expect(files.filter((f) => f.startsWith('images/'))).toHaveLength(1);
    expect(files.every((f) => /^(images|pending|batches)\//.test(f))).toBe(true);
  });
});

describe('realtime jobs during a batch', () => {
  let spotter: Spotter;
  beforeAll(async () => {
    spotter = await startSpotter({ SPOTTER_API_KEYS: 'lifecycle-tenant-01' });
  });
  afterAll(() => spotter?.stop());

  it('finish first: a batch waits behind every realtime job', async () => {
    const batch = await postArchive(spotter, await datasetZip(128));
    expect(batch.status).toBe(202);
    await until(async () => ((await getJson(`${spotter.url}/v1/batches/${batch.body.id}`, KEY)).body.counts.succeeded >= 4 ? true : undefined));
    const image = await datasetImage();
    const realtime = await Promise.all(Array.from({ length: 6 }, () => postForm(`${spotter.url}/v1/jobs`, image, {}, KEY)));
    const finished = await Promise.all(realtime.map(async (r) => (await getJson(`${spotter.url}/v1/jobs/${r.body.id}?wait=30`, KEY)).body));
    const during = (await getJson(`${spotter.url}/v1/batches/${batch.body.id}`, KEY)).body;
    // How long one job holds a slot here, measured on this run's own jobs (batch items done so far, the realtime ones).
    const lines = (await (await fetch(`${spotter.url}/v1/batches/${batch.body.id}/results`, { headers: KEY })).text()).trim().split('\n').map((l) => JSON.parse(l));
    const items = await Promise.all(lines.filter((l) => l.status === 'succeeded').map(async (l) => (await getJson(`${spotter.url}/v1/jobs/${l.job_id}`, KEY)).body));
    const held = [...items, ...finished].map((j) => j.timings_ms.total - j.timings_ms.queue);
    const slot = Math.max(...held);
    for (const job of finished) {
      expect(job.status).toBe('succeeded');
      // A batch item in each slot at most: a realtime job waits for one item and the realtime
      // jobs ahead of it (six over at least two slots), not for the batch.
      expect(job.timings_ms.queue, `a slot was held ${slot} ms at most`).toBeLessThan(4 * slot + 250);
    }
    // And the batch is nowhere near done.
    expect(during.counts.queued).toBeGreaterThan(50);
    // Listing the batch's jobs, 50 at a time, newest first, each once.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await getJson(`${spotter.url}/v1/jobs?batch=${batch.body.id}&limit=50${cursor ? `&cursor=${cursor}` : ''}`, KEY)).body;
      seen.push(...page.jobs.map((j: { id: string }) => j.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(128);
    const mine = (await getJson(`${spotter.url}/v1/jobs?limit=200`, KEY)).body.jobs.map((j: { id: string }) => j.id);
    expect(mine).toEqual(expect.arrayContaining(realtime.map((r) => r.body.id)));
    expect((await getJson(`${spotter.url}/v1/jobs?limit=5`, { authorization: 'Bearer nobody' })).status).toBe(401);
  });
});

describe('cancel and erase', () => {
  let spotter: Spotter;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let redis: Redis;
  beforeAll(async () => {
    receiver = await startReceiver();
    spotter = await startSpotter(
      { SPOTTER_API_KEYS: 'lifecycle-tenant-01', SPOTTER_WEBHOOK_SECRET: SECRET, SPOTTER_WEBHOOK_ALLOW_HOSTS: `127.0.0.1:${receiver.port}` },
      { workers: 0 },
    );
    redis = new Redis(inject('redisUrl'));
  });
  afterAll(async () => {
    await spotter?.stop();
    receiver?.server.close();
    redis?.disconnect();
  });

  /** Every Redis key of this deployment that names `id`, and the queue's lists and streams that mention it. */
  async function redisTraces(id: string) {
    const prefix = `{${spotter.env.SPOTTER_QUEUE_PREFIX}}`;
    const keys = await redis.keys(`${prefix}*`);
    const traces = keys.filter((k) => k.includes(id));
    for (const k of keys.filter((k) => !k.includes(id))) {
      const type = await redis.type(k);
      const dump =
        type === 'stream' ? JSON.stringify(await redis.xrange(k, '-', '+'))
        : type === 'zset' ? JSON.stringify(await redis.zrange(k, 0, -1))
        : type === 'list' ? JSON.stringify(await redis.lrange(k, 0, -1))
        : type === 'set' ? JSON.stringify(await redis.smembers(k))
        : type === 'hash' ? JSON.stringify(await redis.hgetall(k))
        : type === 'string' ? String(await redis.get(k))
        : '';
      if (dump.includes(id)) traces.push(`${k} (${type})`);
    }
    return traces;
  }

  it('cancels a queued job (webhook job.cancelled), then erases it: nothing left in storage or Redis', async () => {
    const res = await postForm(`${spotter.url}/v1/jobs`, await datasetImage(), { webhook_url: `http://127.0.0.1:${receiver.port}/hook` }, KEY);
    const id = res.body.id as string;
    const cancel = await fetch(`${spotter.url}/v1/jobs/${id}`, { method: 'DELETE', headers: KEY });
    expect(cancel.status).toBe(202);
    expect(await cancel.json()).toMatchObject({ id, status: 'cancelled', error: { code: 'CANCELLED' } });
    // The cancelled job left the queue; a worker now only delivers its webhook.
    await spotter.startWorker();
    const event = await until(async () => receiver.events.find((e) => e.body.job?.id === id));
    expect(event).toMatchObject({ event: 'job.cancelled', body: { job: { status: 'cancelled' } } });
    expect((await getJson(`${spotter.url}/v1/jobs/${id}`, KEY)).body.status).toBe('cancelled');
    expect((await listFiles(spotter.storageDir)).filter((f) => f.includes(id)).length).toBeGreaterThan(0);
    const erase = await fetch(`${spotter.url}/v1/jobs/${id}`, { method: 'DELETE', headers: KEY });
    expect(erase.status).toBe(204);
    expect((await getJson(`${spotter.url}/v1/jobs/${id}`, KEY)).status).toBe(404);
    expect((await listFiles(spotter.storageDir)).filter((f) => f.includes(id))).toEqual([]);
    // Only the erasure mark stays (an id, no data), so that a late writer cannot bring the job back.
    expect(await redisTraces(id)).toEqual([`{${spotter.env.SPOTTER_QUEUE_PREFIX}}:erased:${id}`]);
    expect(spotter.api.output()).toMatch(new RegExp(`"job_id":"${id}"[^\\n]*"action":"erased"`));
  });

  it('cancels what has not started of a batch (the worker runs meanwhile); the batch ends cancelled with one webhook', async () => {
    const batch = await postArchive(spotter, await datasetZip(80), { webhook_url: `http://127.0.0.1:${receiver.port}/batch` });
    expect(batch.status).toBe(202);
    const res = await fetch(`${spotter.url}/v1/batches/${batch.body.id}`, { method: 'DELETE', headers: KEY });
    expect(res.status).toBe(200);
    const view = await until(async () => {
      const b = (await getJson(`${spotter.url}/v1/batches/${batch.body.id}`, KEY)).body;
      return b.status === 'cancelled' ? b : undefined;
    });
    expect(view.counts).toMatchObject({ total: 80, queued: 0, running: 0, failed: 0 });
    expect(view.counts.cancelled).toBeGreaterThan(40);
    expect(view.counts.cancelled + view.counts.succeeded).toBe(80);
    const events = await until(async () => {
      const mine = receiver.events.filter((e) => e.body.batch?.id === batch.body.id);
      return mine.length ? mine : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.events.filter((e) => e.body.batch?.id === batch.body.id).map((e) => e.event)).toEqual(['batch.cancelled']);
    expect(events[0]!.body.batch.counts).toEqual(view.counts);
    // No per-image webhook unless webhook_each was asked for (the one job event is the previous test's).
    expect(receiver.events.filter((e) => e.event.startsWith('job.'))).toHaveLength(1);
  });
});

describe('retention and privacy', () => {
  let spotter: Spotter;
  beforeAll(async () => {
    // Kept 10 s: the checks of the picture below must come before the sweeper, on any machine.
    spotter = await startSpotter({ SPOTTER_API_KEYS: 'lifecycle-tenant-01', SPOTTER_IMAGE_RETENTION: '10s', SPOTTER_STRIP_METADATA: 'true' });
  });
  afterAll(() => spotter?.stop());

  it('stores originals without GPS, draws pictures without EXIF, deletes originals after their retention and keeps the results', async () => {
    const photo = await sharp(await datasetImage('000000000285.jpg')).withExif(GPS_EXIF).jpeg().toBuffer();
    expect(photo.includes(Buffer.from('PhoneMaker'))).toBe(true);
    const res = await postForm(`${spotter.url}/v1/jobs`, photo, {}, KEY);
    const job = (await getJson(`${spotter.url}/v1/jobs/${res.body.id}?wait=30`, KEY)).body;
    expect(job.status).toBe('succeeded');
    expect(job.image).toMatchObject({ held: true });
    expect(Date.parse(job.image.delete_after) - Date.parse(job.finished_at)).toBe(10_000);
    expect(JSON.stringify(job)).not.toMatch(/GPS|PhoneMaker/);
    const stored = await readFile(path.join(spotter.storageDir, 'images', res.body.id));
    expect(stored.includes(Buffer.from('PhoneMaker'))).toBe(false);
    expect((await sharp(stored).metadata()).exif).toBeUndefined();
    const annotated = Buffer.from(await (await fetch(`${spotter.url}/v1/jobs/${res.body.id}/annotated`, { headers: KEY })).arrayBuffer());
    const meta = await sharp(annotated).metadata();
    expect([meta.format, meta.exif, meta.xmp]).toEqual(['jpeg', undefined, undefined]);
    // The sweeper (a scheduler, every second here) deletes the original and the annotated copy.
    await until(async () => ((await listFiles(spotter.storageDir)).some((f) => f === `images/${res.body.id}`) ? undefined : true));
    const files = await listFiles(spotter.storageDir);
    expect(files).toContain(`results/${res.body.id}.json`);
    expect(files).not.toContain(`annotated/${res.body.id}.jpg`);
    const after = (await getJson(`${spotter.url}/v1/jobs/${res.body.id}`, KEY)).body;
    expect(after).toMatchObject({ status: 'succeeded', image: { held: false } });
    expect(after.result.detections.length).toBeGreaterThan(0);
    const gone = await getJson(`${spotter.url}/v1/jobs/${res.body.id}/annotated`, KEY);
    expect([gone.status, gone.body.error.code]).toEqual([410, 'IMAGE_NOT_HELD']);
  });
});
