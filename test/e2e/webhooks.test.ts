import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { verifyWebhook as clientVerifyWebhook } from '@spotter/client';
import { verifyWebhook } from '@spotter/webhooks';
import { corruptPng, datasetImage } from '../support/images.js';
import { getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

interface Delivery {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  answered: number;
}

/** A receiver that fails the first `failures` deliveries for each path, then accepts. */
function startReceiver(failures: number) {
  const deliveries: Delivery[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const seen = deliveries.filter((d) => d.path === req.url).length;
      const answered = seen < failures ? 500 : 200;
      deliveries.push({ path: req.url!, headers: req.headers, body, answered });
      res.writeHead(answered).end();
    });
  });
  return new Promise<{ server: http.Server; port: number; deliveries: Delivery[] }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, deliveries })),
  );
}


describe('webhooks', () => {
  let spotter: Spotter;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver(2);
    spotter = await startSpotter({
      SPOTTER_WEBHOOK_SECRET: SECRET,
      SPOTTER_WEBHOOK_ALLOW_HOSTS: `127.0.0.1:${receiver.port}`,
      SPOTTER_WEBHOOK_BACKOFF_MS: '100',
    });
  });
  afterAll(async () => {
    await spotter?.stop();
    receiver?.server.close();
  });

  it('delivers each final state once, signed, after a receiver that fails twice', async () => {
    const image = await datasetImage();
    const jobs = await Promise.all(
      [1, 2, 3].map(async (n) => {
        const res = await postForm(`${spotter.url}/v1/jobs`, image, { webhook_url: `http://127.0.0.1:${receiver.port}/hook/${n}` });
        expect(res.status).toBe(202);
        return { id: res.body.id as string, path: `/hook/${n}` };
      }),
    );
    for (const job of jobs) {
      const view = await until(async () => {
        const { body } = await getJson(`${spotter.url}/v1/jobs/${job.id}`);
        return body.webhook?.state === 'delivered' ? body : undefined;
      });
      expect(view.webhook.attempts.map((a: { status_code: number }) => a.status_code)).toEqual([500, 500, 200]);
      expect(view.webhook.url).toBe(`http://127.0.0.1:${receiver.port}${job.path}`);
    }
    // Deliveries are deduplicated by job id: once the webhooks queue holds nothing waiting,
    // delayed or running, no further delivery can come, so the count below is final.
    const queue = new Queue('webhooks', { connection: new Redis(inject('redisUrl')), prefix: `{${spotter.env.SPOTTER_QUEUE_PREFIX}}` });
    await until(async () => {
      const c = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      return Object.values(c).every((n) => n === 0) ? true : undefined;
    });
    await queue.close();
    for (const job of jobs) {
      const mine = receiver.deliveries.filter((d) => d.path === job.path);
      expect(mine.map((d) => d.answered)).toEqual([500, 500, 200]);
      const accepted = mine.at(-1)!;
      expect(verifyWebhook(SECRET, String(accepted.headers['spotter-signature']), accepted.body)).toBe(true);
      expect(verifyWebhook('another-secret-0123456789', String(accepted.headers['spotter-signature']), accepted.body)).toBe(false);
      expect(verifyWebhook(SECRET, String(accepted.headers['spotter-signature']), accepted.body.replace('succeeded', 'failed'))).toBe(false);
      // The event id is stable across retries so receivers can deduplicate.
      expect(new Set(mine.map((d) => d.headers['spotter-event-id'])).size).toBe(1);
      const event = JSON.parse(accepted.body);
      expect(event.event).toBe('job.succeeded');
      expect(event.job.id).toBe(job.id);
      expect(event.job.result.detections.length).toBeGreaterThan(0);
      const { body: view } = await getJson(`${spotter.url}/v1/jobs/${job.id}`);
      expect({ ...event.job, webhook: null }).toEqual({ ...view, webhook: null });
    }
  });

  it('is verified by the off-the-shelf standardwebhooks and svix packages, job and batch events alike; tampered ones are refused', async () => {
    const image = await datasetImage();
    const job = await postForm(`${spotter.url}/v1/jobs`, image, { webhook_url: `http://127.0.0.1:${receiver.port}/verify/job` });
    const form = new FormData();
    for (const name of ['a.jpg', 'b.jpg']) form.append('images', new Blob([image]), name);
    form.append('webhook_url', `http://127.0.0.1:${receiver.port}/verify/batch`);
    const batch = await fetch(`${spotter.url}/v1/batches`, { method: 'POST', body: form });
    expect([job.status, batch.status]).toEqual([202, 202]);
    const accepted = (path: string) => until(async () => receiver.deliveries.find((d) => d.path === path && d.answered === 200));
    const deliveries = [await accepted('/verify/job'), await accepted('/verify/batch')];
    const headers = (d: Delivery) => Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k, String(v)]));
    // Exactly what a receiver writes: the secret as documented, the raw body, the request's headers.
    // @spotter/client's verifyWebhook is standardwebhooks underneath: it must agree.
    const viaClient = (secret: string) => ({ verify: (body: string, h: Record<string, string>) => clientVerifyWebhook(secret, body, h) });
    const receivers = [new StandardWebhook(SECRET), new SvixWebhook(SECRET), viaClient(SECRET)];
    type Event = { event: string; job?: { id: string }; batch?: { id: string } };
    // standardwebhooks answers the parsed payload; svix 2's verify only throws or passes.
    const events = deliveries.map((d) => receivers.map((r) => (r.verify(d.body, headers(d)) ?? JSON.parse(d.body)) as Event));
    expect(events.map((e) => e.map((x) => x.event))).toEqual([['job.succeeded', 'job.succeeded', 'job.succeeded'], ['batch.succeeded', 'batch.succeeded', 'batch.succeeded']]);
    expect(events[0]![0]!.job!.id).toBe(job.body.id);
    expect(events[1]![1]!.batch!.id).toBe(((await batch.json()) as { id: string }).id);
    for (const d of deliveries) {
      const h = headers(d);
      const [, signature] = h['webhook-signature']!.split(',');
      const flipped = `${signature![0] === 'A' ? 'B' : 'A'}${signature!.slice(1)}`;
      const tampered = [
        { body: d.body.replace('succeeded', 'failed'), headers: h },
        { body: d.body, headers: { ...h, 'webhook-signature': `v1,${flipped}` } },
        { body: d.body, headers: { ...h, 'webhook-id': `${h['webhook-id']}x` } },
        { body: d.body, headers: { ...h, 'webhook-timestamp': String(Number(h['webhook-timestamp']) - 1) } },
      ];
      for (const r of receivers) for (const t of tampered) expect(() => r.verify(t.body, t.headers)).toThrow();
      for (const other of [new StandardWebhook('whsec_aGVsbG8gdGhlcmUsIGFub3RoZXIgc2VjcmV0'), new SvixWebhook('whsec_aGVsbG8gdGhlcmUsIGFub3RoZXIgc2VjcmV0'), viaClient('whsec_aGVsbG8gdGhlcmUsIGFub3RoZXIgc2VjcmV0')]) {
        expect(() => other.verify(d.body, h)).toThrow();
      }
    }
  });

  it('sends job.failed for an image that cannot be decoded', async () => {
    const res = await postForm(`${spotter.url}/v1/jobs`, await corruptPng(), { webhook_url: `http://127.0.0.1:${receiver.port}/hook/bad` });
    expect(res.status).toBe(202);
    const delivery = await until(async () => receiver.deliveries.find((d) => d.path === '/hook/bad' && d.answered === 200));
    const event = JSON.parse(delivery.body);
    expect(event.event).toBe('job.failed');
    expect(event.job.status).toBe('failed');
    expect(event.job.error.code).toBe('IMAGE_DECODE_FAILED');
  });

  it.each([
    ['loopback not on the allow-list', 'http://127.0.0.2:9/hook'],
    ['localhost by name', 'http://localhost:9/hook'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['private range', 'http://10.1.2.3/hook'],
    ['IPv6 loopback', 'http://[::1]:9/hook'],
    ['IPv4-mapped IPv6', 'http://[::ffff:127.0.0.1]:9/hook'],
    ['credentials in the URL', 'http://user:pw@example.com/hook'],
    ['another scheme', 'ftp://example.com/hook'],
  ])('refuses a webhook destination: %s', async (_label, url) => {
    const res = await postForm(`${spotter.url}/v1/jobs`, await datasetImage(), { webhook_url: url });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toMatch(/^(WEBHOOK_URL_FORBIDDEN|INVALID_REQUEST)$/);
  });
});
