import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { createRedis, redisKeys } from '@spotter/stores';
import { verifyWebhook } from '@spotter/webhooks';
import { monitorReferenceCommand } from '../../apps/cli/src/monitor-command.js';
import { DATASET, getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';

interface Drift {
  status: string;
  service: { status: string; metrics: { name: string; objective: string; value: number; burn_rate: number; status: string }[] };
  reference: { id: string; count: number } | null;
  window: { count: number };
  metrics: { name: string; kind: string; test: string; status: string; score: number; p_value: number | null }[];
}

const SECRET = 'monitoring-secret-0123';
type Label = [number, number, number, number, number];

async function readLabels(file: string): Promise<Label[]> {
  const text = await readFile(path.join(DATASET, 'labels', file.replace(/\.jpg$/, '.txt')), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim()).map((l) => l.trim().split(/\s+/).map(Number) as Label);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Submits every image (8 in flight) and waits for each job to succeed; the jobs in the images' order. */
async function finished(url: string, images: Buffer[]) {
  const jobs: any[] = new Array(images.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < images.length) {
        const i = next++;
        const { body } = await postForm(`${url}/v1/jobs`, images[i]!);
        jobs[i] = await waitFinal(url, body.id);
        expect(jobs[i].status).toBe('succeeded');
      }
    }),
  );
  return jobs;
}

/** A job once final, however long a loaded machine takes (the test's own timeout bounds it). */
async function waitFinal(url: string, id: string) {
  for (;;) {
    const job = (await getJson(`${url}/v1/jobs/${id}?wait=30`)).body;
    if (job.status !== 'queued' && job.status !== 'running') return job;
  }
}

/** CPU-bound processes, one per core, until stopped: a neighbour that takes the whole machine. */
function cpuHogs(n = os.availableParallelism()) {
  const hogs = Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  return () => hogs.forEach((h) => h.kill('SIGKILL'));
}

describe('monitoring: input and output drift through the real API and workers', () => {
  let spotter: Spotter;
  let reference: Buffer[];
  let holdout: Buffer[];
  let referenceLabels: Label[][];
  let holdoutLabels: Label[][];
  const alerts: { body: string; signature: string }[] = [];
  let receiver: http.Server;

  /**
   * Serves a batch of images (8 in flight) in its own time window, then sends feedback if
   * given labels (labels[i] for images[i]), one at a time in the images' order: Page-Hinkley
   * reads the feedback in arrival order, which must not depend on which job finished first.
   * Returns the window.
   */
  async function serve(images: Buffer[], labels?: Label[][]) {
    await sleep(1200); // profiles are cut into 1 s buckets here: start in a fresh one
    const from = new Date();
    const jobs = await finished(spotter.url, images);
    for (const [i, job] of labels ? jobs.entries() : []) {
      const { width, height } = job.result.image;
      const boxes = labels![i]!.map(([c, cx, cy, w, h]) => ({
        class_id: c,
        box: { x1: (cx - w / 2) * width, y1: (cy - h / 2) * height, x2: (cx + w / 2) * width, y2: (cy + h / 2) * height },
      }));
      const res = await fetch(`${spotter.url}/v1/jobs/${job.id}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ boxes }) });
      expect(res.status).toBe(202);
    }
    // Workers record a job's measurements after its answer: wait until the window holds them all.
    const open = `${spotter.url}/v1/monitoring/drift?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 600_000).toISOString())}`;
    await until(async () => ((await getJson(open)).body.window.count >= images.length ? true : undefined), 120_000);
    return { from: from.toISOString(), to: new Date(Date.now() + 1).toISOString() };
  }

  async function drift(images: Buffer[], labels?: Label[][]): Promise<Drift> {
    const w = await serve(images, labels);
    return (await getJson(`${spotter.url}/v1/monitoring/drift?from=${encodeURIComponent(w.from)}&to=${encodeURIComponent(w.to)}`)).body;
  }

  const statusOf = (d: Drift, name: string) => d.metrics.find((m) => m.name === name)?.status;
  const flagged = (d: Drift) => d.metrics.filter((m) => m.status === 'alarm' || m.status === 'warn').map((m) => `${m.name}:${m.status}`);

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        alerts.push({ body, signature: String(req.headers['spotter-signature']) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    spotter = await startSpotter({
      // Seconds instead of minutes so that the test can cut windows and see alarms open.
      SPOTTER_MONITOR_BUCKET_S: '1',
      SPOTTER_MONITOR_EVAL_S: '1',
      // The scheduled evaluation's window: long enough to hold SPOTTER_MONITOR_MIN_SAMPLES jobs
      // on a loaded machine.
      SPOTTER_MONITOR_WINDOW_S: '15',
      SPOTTER_ALARM_CONSECUTIVE: '2',
      SPOTTER_ALARM_COOLDOWN_S: '0',
      SPOTTER_WEBHOOK_SECRET: SECRET,
      SPOTTER_WEBHOOK_ALLOW_HOSTS: `127.0.0.1:${port}`,
      SPOTTER_ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/alerts`,
    });
    const files = (await readdir(path.join(DATASET, 'images'))).sort();
    const all = await Promise.all(files.map((f) => readFile(path.join(DATASET, 'images', f))));
    const labels = await Promise.all(files.map(readLabels));
    reference = all.filter((_, i) => i % 2 === 0);
    holdout = all.filter((_, i) => i % 2 === 1);
    referenceLabels = labels.filter((_, i) => i % 2 === 0);
    holdoutLabels = labels.filter((_, i) => i % 2 === 1);
    await serve(all.slice(0, 16)); // warm-up: the reference should be steady-state service
    const w = await serve(reference, referenceLabels);
    const res = await fetch(`${spotter.url}/v1/monitoring/reference`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(w) });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { count: number }).count).toBe(64);
  });
  afterAll(async () => {
    await spotter?.stop();
    receiver?.close();
  });

  it('raises no alarm on the other half of the same dataset, with its true labels as feedback', async () => {
    const d = await drift(holdout, holdoutLabels);
    expect(d.reference!.count).toBe(64);
    expect(d.window.count).toBe(64);
    expect(d.status, flagged(d).join(', ')).not.toBe('alarm');
    for (const name of ['precision', 'recall', 'f1', 'ap50', 'f1_page_hinkley']) {
      expect(['ok', 'warn'], `${name}: ${flagged(d).join(', ')}`).toContain(statusOf(d, name));
    }
  });

  it('raises no model alarm when the same traffic runs on a machine taken by CPU-bound neighbours', async () => {
    const stop = cpuHogs();
    let d: Drift;
    try {
      d = await drift(reference, referenceLabels);
    } finally {
      stop();
    }
    expect(d.window.count).toBe(64);
    // The same pictures and answers as the reference: every input, output and accuracy row is ok,
    // however slow the jobs were (that is service health, reported apart).
    expect(d.status, flagged(d).join(', ')).toBe('ok');
    expect(flagged(d), flagged(d).join(', ')).toEqual([]);
    expect(d.metrics.map((m) => m.name)).not.toContain('queue_seconds');
    expect(d.service.metrics.map((m) => m.objective)).toEqual(['queue_p95', 'latency_p95', 'failure_ratio']);
    console.info(`loaded: service ${d.service.status}: ${d.service.metrics.map((m) => `${m.objective} ${m.value} (burn ${m.burn_rate})`).join(', ')}`);
  });

  it('raises the performance alarm when the feedback no longer agrees (labels shuffled)', async () => {
    const shuffled = holdoutLabels.map((_, i) => holdoutLabels[(i + 7) % holdoutLabels.length]!);
    const d = await drift(holdout, shuffled);
    expect(statusOf(d, 'f1'), flagged(d).join(', ')).toBe('alarm');
    expect(statusOf(d, 'f1_page_hinkley'), flagged(d).join(', ')).toBe('alarm');
    expect(d.status).toBe('alarm');
  });

  it.each([
    ['darkened', (b: Buffer) => sharp(b).linear(0.35, 0).jpeg({ quality: 90 }).toBuffer(), 'brightness', false],
    ['blurred', (b: Buffer) => sharp(b).blur(4).jpeg({ quality: 90 }).toBuffer(), 'sharpness', true],
    ['shrunk to thumbnails', (b: Buffer) => sharp(b).resize(120).jpeg({ quality: 90 }).toBuffer(), 'width', true],
    ['turned grayscale', (b: Buffer) => sharp(b).grayscale().jpeg({ quality: 90 }).toBuffer(), 'grayscale', false],
    ['recompressed at low JPEG quality', (b: Buffer) => sharp(b).jpeg({ quality: 12, mozjpeg: false }).toBuffer(), 'jpeg_quality', false],
  ])('alarms on the matching input metric when images are %s', async (label, transform, metric, outputMoves) => {
    const d = await drift(await Promise.all(holdout.map(transform)));
    expect(d.status, flagged(d).join(', ')).toBe('alarm');
    expect(statusOf(d, metric), flagged(d).join(', ')).toBe('alarm');
    // Blur and thumbnails also cost the model: its scores and boxes move.
    if (outputMoves) expect(d.metrics.filter((m) => m.kind === 'output' && m.status === 'alarm').length, flagged(d).join(', ')).toBeGreaterThan(0);
    console.info(`${label}: ${flagged(d).join(', ')}`);
  });

  it('opens alarms on its own: history, signed alert webhook, Prometheus gauges', async () => {
    const dark = await Promise.all(holdout.map((b) => sharp(b).linear(0.35, 0).jpeg({ quality: 90 }).toBuffer()));
    // Dark traffic flows until the scheduled evaluation has seen enough of it, twice in a row,
    // to open the alarm: how many jobs that takes depends on the machine's speed, not the verdict.
    let gauges = '';
    let serving = true;
    const traffic = (async () => {
      while (serving) await finished(spotter.url, dark.slice(0, 16));
    })();
    try {
      while (!/spotter_drift_status\{[^}]*metric="brightness"[^}]*\} 2/.test(gauges)) {
        gauges = await (await fetch(`${spotter.url}/metrics`)).text();
        await sleep(200);
      }
      await until(async () => ((await getJson(`${spotter.url}/v1/monitoring/alarms`)).body.open.some((a: { metric: string }) => a.metric === 'brightness') ? true : undefined), 120_000);
    } finally {
      serving = false;
      await traffic;
    }
    expect(gauges).toMatch(/spotter_drift_status\{[^}]*metric="brightness"[^}]*\} 2/);
    expect(gauges).toMatch(/spotter_drift_score\{[^}]*metric="brightness"[^}]*\} [0-9.]+/);
    const alarms = (await getJson(`${spotter.url}/v1/monitoring/alarms`)).body;
    expect(alarms.open.map((a: { metric: string }) => a.metric)).toContain('brightness');
    const opened = alarms.history.find((h: { metric: string; action: string }) => h.metric === 'brightness' && h.action === 'opened');
    expect(opened).toMatchObject({ kind: 'input', status: 'alarm', model: 'yolox_nano' });
    const alert = await until(() => alerts.find((a) => a.body.includes('"metric":"brightness"')), 120_000);
    expect(JSON.parse(alert.body)).toMatchObject({ event: 'monitoring.alarm_opened', alarm: { metric: 'brightness' } });
    expect(verifyWebhook(SECRET, alert.signature, alert.body)).toBe(true);
  });

  it('builds a reference from a folder of images with the CLI (npm run spotter -- monitor reference)', async () => {
    const config = loadConfig({ ...spotter.env, SPOTTER_MONITOR_BUCKET_S: '1' });
    const ref = await monitorReferenceCommand({ images: path.join(DATASET, 'images') }, config);
    expect(ref).toMatchObject({ count: 128, model: 'yolox_nano' });
    const d = await drift(holdout.slice(0, 40));
    expect(d.reference).toMatchObject({ id: ref.id, count: 128 });
    expect(statusOf(d, 'brightness')).toBe('ok');
  });
});

describe('service health: a broken queue-time objective is a service alarm, not model drift', () => {
  let spotter: Spotter;
  const alerts: string[] = [];
  let receiver: http.Server;

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        alerts.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    // No worker yet: the jobs below wait in the queue for as long as the test decides.
    spotter = await startSpotter(
      {
        SPOTTER_MONITOR_BUCKET_S: '1',
        SPOTTER_MONITOR_EVAL_S: '1',
        SPOTTER_MONITOR_WINDOW_S: '30',
        SPOTTER_MONITOR_MIN_SAMPLES: '10',
        SPOTTER_ALARM_CONSECUTIVE: '2',
        SPOTTER_SLO_QUEUE_P95_S: '1',
        SPOTTER_WEBHOOK_SECRET: SECRET,
        SPOTTER_WEBHOOK_ALLOW_HOSTS: `127.0.0.1:${port}`,
        SPOTTER_ALERT_WEBHOOK_URL: `http://127.0.0.1:${port}/alerts`,
      },
      { workers: 0 },
    );
  });
  afterAll(async () => {
    await spotter?.stop();
    receiver?.close();
  });

  it('opens the queue_p95 service alarm when every job waited longer than the objective', async () => {
    const image = await readFile(path.join(DATASET, 'images', '000000000139.jpg'));
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await postForm(`${spotter.url}/v1/jobs`, image)).body.id);
    // Every job has now waited at least this long, on any machine: twice the 1 s objective.
    await sleep(2000);
    await spotter.startWorker();
    for (const id of ids) expect((await waitFinal(spotter.url, id)).status).toBe('succeeded');

    let alarms: any;
    do {
      await sleep(250);
      alarms = (await getJson(`${spotter.url}/v1/monitoring/alarms`)).body;
    } while (!alarms.service.open.some((a: { metric: string }) => a.metric === 'queue_seconds'));
    expect(alarms.open, 'no model alarm').toEqual([]);
    expect(alarms.history.find((h: { metric: string; action: string }) => h.metric === 'queue_seconds' && h.action === 'opened')).toMatchObject({ kind: 'service', status: 'alarm', test: 'queue_p95' });

    const now = Date.now();
    const d = (await getJson(`${spotter.url}/v1/monitoring/drift?from=${new Date(now - 30_000).toISOString()}&to=${new Date(now).toISOString()}`)).body as Drift;
    expect(d.service.metrics.find((m) => m.objective === 'queue_p95')).toMatchObject({ status: 'alarm' });
    expect(d.service.metrics.find((m) => m.objective === 'queue_p95')!.value).toBeGreaterThan(1);
    // Without a reference the model is not judged at all: the service alarm says nothing about it.
    expect(d.status).toBe('insufficient_data');
    expect(await (await fetch(`${spotter.url}/metrics`)).text()).toMatch(/spotter_service_status\{objective="queue_p95"[^}]*\} 2/);
    while (!alerts.some((a) => a.includes('"metric":"queue_seconds"'))) await sleep(100);
    expect(JSON.parse(alerts.find((a) => a.includes('"metric":"queue_seconds"'))!)).toMatchObject({ event: 'monitoring.alarm_opened', alarm: { metric: 'queue_seconds', kind: 'service' } });
  });

  it('says so when the active reference cannot be read, in the drift report and in the scheduled evaluation, instead of reading as no data', async () => {
    const now = Date.now();
    const window = `from=${new Date(now - 30_000).toISOString()}&to=${new Date(now).toISOString()}`;
    const made = await fetch(`${spotter.url}/v1/monitoring/reference`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: new Date(now - 60_000).toISOString(), to: new Date(now).toISOString() }) });
    const ref = (await made.json()) as { id: string };
    expect(made.status).toBe(201);
    const config = loadConfig(spotter.env);
    const redis = createRedis(config.redis.url, 'worker');
    try {
      await redis.set(redisKeys(config.redis.prefix).reference(ref.id), '{"profile": {"bins": {');
      const d = await getJson(`${spotter.url}/v1/monitoring/drift?${window}`);
      expect(d.status).toBe(500);
      expect(d.body.error).toMatchObject({ code: 'MONITORING_STATE_UNREADABLE' });
      expect(d.body.error.message).toMatch(new RegExp(`the active reference ${ref.id} of model "yolox_nano" is not valid JSON`));
      const failing = await until(async () => {
        const a = (await getJson(`${spotter.url}/v1/monitoring/alarms`)).body;
        return a.evaluation.failures >= 2 ? a : undefined;
      });
      expect(failing.evaluation.error).toMatch(/cannot|not valid JSON/);
      expect(await (await fetch(`${spotter.url}/metrics`)).text()).toMatch(/spotter_monitoring_evaluation_failures\{[^}]*\} [2-9]/);
      // A new reference mends it: the next evaluation succeeds and the failures clear.
      const again = await fetch(`${spotter.url}/v1/monitoring/reference`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: new Date(now - 60_000).toISOString(), to: new Date(now).toISOString() }) });
      expect(again.status).toBe(201);
      await until(async () => ((await getJson(`${spotter.url}/v1/monitoring/alarms`)).body.evaluation.failures === 0 ? true : undefined));
      expect((await getJson(`${spotter.url}/v1/monitoring/drift?${window}`)).status).toBe(200);
    } finally {
      redis.disconnect();
    }
  });
});
