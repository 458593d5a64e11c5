import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '@spotter/config';
import { root } from '../../scripts/lib.mjs';
import { datasetImage } from '../support/images.js';
import { declaredMetrics, parsePrometheus, valueOf, type Sample } from '../support/prometheus-text.js';
import { getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  service: string;
}

/** An in-process OTLP/HTTP (JSON) collector. */
function startCollector() {
  const spans: OtlpSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const payload = JSON.parse(body) as {
        resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: Omit<OtlpSpan, 'service'>[] }[] }[];
      };
      for (const rs of payload.resourceSpans) {
        const service = String(rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue);
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise<{ server: http.Server; url: string; spans: OtlpSpan[] }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans })),
  );
}

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v ? Object.values(v)[0] : undefined;
};


const KEY = 'observability-key-1';
const ADMIN = 'observability-admin-1';
const AUTH = { authorization: `Bearer ${KEY}` };
const N = 5;

describe('observability', () => {
  let spotter: Spotter;
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let hook: http.Server;
  let hookPort: number;
  let workerMetricsUrl: string;
  const scrape = async (url: string) => parsePrometheus(await (await fetch(url)).text());

  beforeAll(async () => {
    collector = await startCollector();
    hook = http.createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookPort = (hook.address() as AddressInfo).port;
    spotter = await startSpotter({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      SPOTTER_API_KEYS: KEY,
      SPOTTER_ADMIN_KEYS: ADMIN,
      SPOTTER_WEBHOOK_SECRET: 'observability-secret-123',
      SPOTTER_WEBHOOK_ALLOW_HOSTS: `127.0.0.1:${hookPort}`,
    });
    const port = /metrics on port (\d+)/.exec(spotter.workers[0]!.output())![1];
    workerMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  });
  afterAll(async () => {
    await spotter?.stop();
    collector?.server.close();
    hook?.close();
  });

  it('records one trace per job across API, queue and worker, with correct parents', async () => {
    const res = await postForm(`${spotter.url}/v1/jobs`, await datasetImage(), { webhook_url: `http://127.0.0.1:${hookPort}/done` }, AUTH);
    const id = res.body.id as string;
    await until(async () => ((await getJson(`${spotter.url}/v1/jobs/${id}`, AUTH)).body.webhook?.state === 'delivered' ? true : undefined));
    const names = ['POST /v1/jobs', 'storage put', 'detect publish', 'detect wait', 'detect process', 'download', 'decode', 'inference', 'postprocess', 'result write', 'webhooks publish', 'webhook deliver'];
    const spans = await until(() => {
      const server = collector.spans.find((s) => s.name === 'POST /v1/jobs' && attr(s, 'spotter.job.id') === id);
      const trace = server ? collector.spans.filter((s) => s.traceId === server.traceId) : [];
      return names.every((n) => trace.some((s) => s.name === n)) ? trace : undefined;
    });
    const one = (name: string) => {
      const found = spans.filter((s) => s.name === name);
      expect(found, name).toHaveLength(1);
      return found[0]!;
    };
    const server = one('POST /v1/jobs');
    const publish = one('detect publish');
    const processSpan = one('detect process');
    const webhookPublish = one('webhooks publish');
    expect(server.service).toBe('spotter-api');
    expect(processSpan.service).toBe('spotter-worker');
    expect(attr(server, 'http.route')).toBe('/v1/jobs');
    expect(attr(server, 'http.response.status_code')).toBe(202);
    expect(one('storage put').parentSpanId).toBe(server.spanId);
    expect(publish.parentSpanId).toBe(server.spanId);
    expect(attr(publish, 'messaging.system')).toBe('bullmq');
    expect(one('detect wait').parentSpanId).toBe(publish.spanId);
    expect(processSpan.parentSpanId).toBe(publish.spanId);
    expect(attr(processSpan, 'messaging.system')).toBe('bullmq');
    expect(attr(processSpan, 'spotter.model.name')).toBe('yolox_nano');
    expect(attr(processSpan, 'spotter.detections.count')).toBeGreaterThan(0);
    for (const stage of ['download', 'decode', 'inference', 'postprocess', 'result write', 'webhooks publish']) {
      expect(one(stage).parentSpanId, stage).toBe(processSpan.spanId);
    }
    expect(one('webhook deliver').parentSpanId).toBe(webhookPublish.spanId);
    expect(attr(one('webhook deliver'), 'http.response.status_code')).toBe(204);
    // Logs carry the same trace id.
    expect(spotter.api.output()).toMatch(new RegExp(`"trace_id":"${server.traceId}"[^\\n]*"job_id":"${id}"|"job_id":"${id}"[^\\n]*"trace_id":"${server.traceId}"`));
    expect(spotter.workers[0]!.output()).toMatch(new RegExp(`"trace_id":"${server.traceId}"[^\\n]*"msg":"job finished"`));
  });

  describe('metrics after N more jobs', () => {
    let api: Sample[];
    let worker: Sample[];
    let before: { api: Sample[]; worker: Sample[] };

    beforeAll(async () => {
      before = { api: await scrape(`${spotter.url}/metrics`), worker: await scrape(workerMetricsUrl) };
      const image = await datasetImage();
      for (let i = 0; i < N; i++) {
        const res = await postForm(`${spotter.url}/v1/jobs`, image, {}, AUTH);
        await getJson(`${spotter.url}/v1/jobs/${res.body.id}?wait=30`, AUTH);
      }
      await postForm(`${spotter.url}/v1/jobs`, Buffer.from('plain text, not an image'), {}, AUTH);
      api = await scrape(`${spotter.url}/metrics`);
      // The worker counts a job just after answering it.
      const counted = (s: Sample[]) => valueOf(s, 'spotter_jobs_total', { model: 'yolox_nano', status: 'succeeded', code: '' }) - valueOf(before.worker, 'spotter_jobs_total', { model: 'yolox_nano', status: 'succeeded', code: '' });
      worker = await until(async () => {
        const s = await scrape(workerMetricsUrl);
        return counted(s) >= N ? s : undefined;
      });
    });
    const delta = (which: 'api' | 'worker', name: string, labels: Record<string, string> = {}) =>
      valueOf(which === 'api' ? api : worker, name, labels) - valueOf(before[which], name, labels);

    it('counts uploads, bytes, refusals and requests on the API', async () => {
      const bytes = (await datasetImage()).length;
      expect(delta('api', 'spotter_uploads_total')).toBe(N + 1);
      expect(delta('api', 'spotter_upload_bytes_total')).toBe(N * bytes + 'plain text, not an image'.length);
      expect(delta('api', 'spotter_images_refused_total', { reason: 'UNSUPPORTED_MEDIA_TYPE' })).toBe(1);
      expect(delta('api', 'http_server_request_duration_seconds_count', { method: 'POST', route: '/v1/jobs', status_code: '202' })).toBe(N);
    });

    it('counts jobs and observes every stage once per job on the worker', () => {
      expect(delta('worker', 'spotter_jobs_total', { model: 'yolox_nano', status: 'succeeded', code: '' })).toBe(N);
      expect(delta('worker', 'spotter_job_duration_seconds_count', { model: 'yolox_nano', status: 'succeeded' })).toBe(N);
      for (const stage of ['queue', 'download', 'decode', 'inference', 'postprocess']) {
        expect(delta('worker', 'spotter_job_stage_duration_seconds_count', { stage }), stage).toBe(N);
      }
      expect(delta('worker', 'spotter_inference_batch_size_count')).toBe(N);
      expect(valueOf(worker, 'spotter_worker_concurrency')).toBe(loadConfig({}).worker.concurrency);
      expect(valueOf(worker, 'spotter_worker_busy_slots')).toBe(0);
      expect(valueOf(worker, 'spotter_model_load_seconds', { model: 'yolox_nano' })).toBeGreaterThan(0);
      for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
        expect(worker.some((s) => s.name === name), name).toBe(true);
      }
    });

    it('exports queue gauges that match Redis', async () => {
      const queue = new Queue('detect', { connection: new Redis(inject('redisUrl')), prefix: `{${spotter.env.SPOTTER_QUEUE_PREFIX}}` });
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      const fresh = await scrape(`${spotter.url}/metrics`);
      for (const [state, n] of Object.entries(counts)) {
        expect(valueOf(fresh, 'spotter_queue_jobs', { queue: 'detect', state }), state).toBe(n);
      }
      expect(counts.completed).toBe(N + 1);
      expect(valueOf(fresh, 'spotter_queue_oldest_waiting_age_seconds', { queue: 'detect' })).toBe(0);
      await queue.close();
    });

    it('has a dashboard and alert rules that query only exported metrics', async () => {
      const pages = await Promise.all([`${spotter.url}/metrics`, workerMetricsUrl].map(async (u) => (await fetch(u)).text()));
      const exported = new Set([...api, ...worker].map((s) => s.name).concat(pages.flatMap(declaredMetrics)));
      const dashboard = JSON.parse(await readFile(path.join(root, 'deploy/grafana/dashboards/spotter.json'), 'utf8'));
      const rules = parse(await readFile(path.join(root, 'deploy/prometheus/alerts.yml'), 'utf8'));
      const exprs: string[] = [
        ...dashboard.panels.flatMap((p: { targets: { expr: string }[] }) => p.targets.map((t) => t.expr)),
        ...rules.groups.flatMap((g: { rules: { expr: string }[] }) => g.rules.map((r) => r.expr)),
      ];
      expect(exprs.length).toBeGreaterThan(10);
      const used = new Set(exprs.flatMap((e) => e.match(/\b(spotter_|http_server_|process_|nodejs_)[a-z0-9_]+/g) ?? []));
      expect([...used].filter((m) => !exported.has(m))).toEqual([]);
      for (const needed of ['spotter_queue_jobs', 'spotter_queue_oldest_waiting_age_seconds', 'spotter_jobs_total', 'spotter_worker_busy_slots', 'spotter_drift_status']) {
        expect(used.has(needed), needed).toBe(true);
      }
    });
  });

  it('serves the queue dashboard to admin keys only, with a browser login', async () => {
    const anon = await fetch(`${spotter.url}/admin/queues`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toMatch(/^Basic/);
    const basic = (key: string) => `Basic ${Buffer.from(`admin:${key}`).toString('base64')}`;
    // A tenant key is no queue administrator: every tenant's jobs are on that page.
    expect((await fetch(`${spotter.url}/admin/queues`, { headers: { authorization: basic(KEY) } })).status).toBe(403);
    const page = await fetch(`${spotter.url}/admin/queues`, { headers: { authorization: basic(ADMIN) } });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/bull/i);
    const wrong = await fetch(`${spotter.url}/admin/queues`, { headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
  });
});
