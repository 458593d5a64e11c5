import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retryAfterSeconds, retryingFetch } from './retry.js';

// A real HTTP server that refuses the first requests of each path with a status and Retry-After.
describe('retries honouring Retry-After', () => {
  let server: http.Server;
  let base: string;
  const seen: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        const [, status, after, refusals] = /^\/(\d+)\/([^/]+)\/(\d+)/.exec(req.url!)!;
        const n = seen.filter((s) => s.startsWith(`${req.method} ${req.url} `)).length;
        if (n <= Number(refusals)) return res.writeHead(Number(status), { 'retry-after': decodeURIComponent(after!) }).end('{}');
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ body }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  const client = (retries = 3, maxWaitS = 60) => {
    const waits: number[] = [];
    const f = retryingFetch(fetch, { retries, maxWaitS, sleep: async (ms) => void waits.push(ms) });
    return { f, waits };
  };

  it('repeats a 429 or 503 after the Retry-After it was given, body and all, then answers', async () => {
    const { f, waits } = client();
    const res = await f(new Request(`${base}/429/2/2/a`, { method: 'POST', body: 'the same bytes' }));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ body: 'the same bytes' });
    expect(waits).toEqual([2000, 2000]);
    const unavailable = client();
    expect((await unavailable.f(new Request(`${base}/503/1/1/b`))).status).toBe(202);
    expect(unavailable.waits).toEqual([1000]);
  });

  it('gives the refusal to the caller when retries run out, when the wait is too long, or with no Retry-After', async () => {
    const { f, waits } = client(2);
    expect((await f(new Request(`${base}/429/1/5/c`))).status).toBe(429);
    expect(waits).toEqual([1000, 1000]);
    const long = client(3, 10);
    expect((await long.f(new Request(`${base}/503/120/1/d`))).status).toBe(503);
    expect(long.waits).toEqual([]);
    const none = client();
    expect((await none.f(new Request(`${base}/500/1/1/e`))).status).toBe(500);
    expect(none.waits).toEqual([]);
  });

  it('repeats a network failure only where a repeat is harmless', async () => {
    const closed = 'http://127.0.0.1:1/';
    const get = client(2);
    await expect(get.f(new Request(closed))).rejects.toThrow();
    expect(get.waits).toEqual([500, 1000]);
    const post = client(2);
    await expect(post.f(new Request(closed, { method: 'POST', body: 'x' }))).rejects.toThrow();
    expect(post.waits).toEqual([]);
    const keyed = client(1);
    await expect(keyed.f(new Request(closed, { method: 'POST', body: 'x', headers: { 'idempotency-key': 'k1' } }))).rejects.toThrow();
    expect(keyed.waits).toEqual([500]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds('7', now)).toBe(7);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30);
    expect(retryAfterSeconds('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect([retryAfterSeconds(null), retryAfterSeconds('soon')]).toEqual([null, null]);
  });
});
