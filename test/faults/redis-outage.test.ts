import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheus, valueOf } from '../support/prometheus-text.js';
import { datasetImage } from '../support/images.js';
import { getJson, postForm } from '../support/spotter.js';
import { until } from '../support/until.js';
import { auditJobs, CHAOS, report } from './audit.js';
import { startFaultStack, type FaultStack } from './fault-stack.js';
import { steadyLoad } from './load.js';

const CLIENTS = CHAOS ? 8 : 4;

describe('Redis unavailable: every route answers 503 with Retry-After, never 500', () => {
  let stack: FaultStack;
  let workerPort: string;
  beforeAll(async () => {
    stack = await startFaultStack({ workers: 1 });
    workerPort = /metrics on port (\d+)/.exec(stack.workers[0]!.output())![1]!;
  });
  afterAll(() => stack?.stop());

  it('answers 503 on job, model, rollout and monitoring routes; keeps /metrics up; readiness within a second', async () => {
    const job = await postForm(`${stack.url}/v1/jobs`, await datasetImage());
    const backlog = async () => parsePrometheus(await (await fetch(`${stack.url}/metrics`)).text()).filter((s) => s.name === 'spotter_queue_backlog');
    expect((await backlog()).length).toBeGreaterThan(0);
    await stack.redis.stop();
    for (const route of ['/v1/models', '/v1/rollout', '/v1/monitoring/drift', '/v1/monitoring/alarms', `/v1/jobs/${job.body.id}`, '/v1/jobs']) {
      const res = await getJson(`${stack.url}${route}`);
      expect(res.status, route).toBe(503);
      expect(res.headers.get('retry-after'), route).toBe('5');
      expect(res.body.error.code, route).toBe('REDIS_UNAVAILABLE');
    }
    const post = await postForm(`${stack.url}/v1/jobs`, await datasetImage());
    expect([post.status, post.body.error.code]).toEqual([503, 'REDIS_UNAVAILABLE']);
    const metrics = await fetch(`${stack.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(valueOf(parsePrometheus(await metrics.text()), 'spotter_redis_up')).toBe(0);
    // The queue gauges are left out rather than repeated stale.
    expect(await backlog()).toEqual([]);
    for (const url of [`${stack.url}/readyz`, `http://127.0.0.1:${workerPort}/readyz`]) {
      const res = await fetch(url);
      expect(res.status, url).toBe(503);
      // Known down at once (the client's state), not found out by waiting for a probe's timeout.
      expect(((await res.json()) as { checks: { redis: string } }).checks.redis, url).toMatch(/^error: redis connection is /);
    }
    await stack.redis.start();
    const back = Date.now();
    await until(async () => ((await fetch(`http://127.0.0.1:${workerPort}/readyz`)).status === 200 && (await fetch(`${stack.url}/readyz`)).status === 200 ? true : undefined));
    await report('Redis stopped: routes and readiness', { readiness_recovered_s: (Date.now() - back) / 1000 });
    expect((await getJson(`${stack.url}/v1/jobs/${job.body.id}?wait=30`)).body.status).toBe('succeeded');
  });
});

describe('Redis losing data under load: every 202 still ends final, with its webhook', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await startFaultStack({ workers: 2 });
  });
  afterAll(() => stack?.stop());

  /** Steady load, the fault once jobs are in flight; then every accepted job must end final, with its webhook. */
  async function survives(scenario: string, fault: () => Promise<void>) {
    let faultAt = 0;
    const { accepted, statuses } = await steadyLoad(
      stack,
      async () => {
        faultAt = Date.now();
        await fault();
      },
      { clients: CLIENTS },
    );
    const audit = await auditJobs(stack, accepted, { timeoutMs: 120_000, faultAt });
    await report(scenario, { http: statuses, ...audit });
    expect(audit.lost).toBe(0);
    expect(audit.byStatus).toEqual({ succeeded: accepted.length });
    expect(audit.webhooks.missing).toBe(0);
    expect(audit.mismatched).toBe(0);
    return statuses;
  }

  it('survives redis-server SIGKILLed and restarted from its AOF', async () => {
    const statuses = await survives('redis-server SIGKILL under load, restarted from AOF', async () => {
      await stack.redis.kill();
      await new Promise((r) => setTimeout(r, 2000));
      await stack.redis.start();
    });
    expect(Object.keys(statuses).filter((s) => s !== '202' && s !== '503')).toEqual([]);
  });

  it('survives FLUSHALL: the outbox in storage brings every accepted job back', async () => {
    await survives('Redis FLUSHALL under load', () => stack.redis.flushall());
  });
});
