import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { verifyWebhook } from '@spotter/webhooks';
import { corruptPng, datasetImage } from '../support/images.js';
import { getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';

const SECRET = 'whsec_test_0123456789abcdef';

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
