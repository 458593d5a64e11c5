import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { auditJobs, report } from '../faults/audit.js';
import { startFaultStack, type FaultStack } from '../faults/fault-stack.js';
import { steadyLoad } from '../faults/load.js';
import { datasetImage } from '../support/images.js';
import { parsePrometheus, valueOf } from '../support/prometheus-text.js';
import { rolloutModelDir } from '../support/model-dirs.js';
import { startRedisCluster, type RedisTopology } from '../support/redis-topologies.js';
import { getJson, postForm } from '../support/spotter.js';
import { until } from '../support/until.js';

const TENANT = 'cluster-tenant-0001';
const PROBE = 'cluster-probe-0001';
const ADMIN = 'cluster-admin-0001';
const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/**
 * Spotter on a real 3-master Redis Cluster, past the pipeline: every script and
 * multi-key command it has (admission, claim, rollout compare-and-set, GCRA, profile and
 * feedback transactions, alarm state, BullMQ's schedulers), then the repair path after every
 * master is emptied. A command spanning two slots fails with CROSSSLOT in some process's log.
 */
describe('Spotter on a 3-master Redis Cluster: its own keys, and FLUSHALL repaired', () => {
  let cluster: RedisTopology & { ports: number[] };
  let models: string;
  let stack: FaultStack;
  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    models = await rolloutModelDir();
    stack = await startFaultStack({
      redis: cluster,
      workers: 2,
      env: {
        SPOTTER_MODEL_DIR: models,
        SPOTTER_API_KEYS: `${TENANT},${PROBE}`,
        SPOTTER_ADMIN_KEYS: ADMIN,
        SPOTTER_RATE_LIMIT_RPS: '50',
        SPOTTER_RATE_LIMIT_BURST: '50',
        SPOTTER_MAX_ACTIVE_JOBS_PER_KEY: '500',
        SPOTTER_MONITOR_BUCKET_S: '1',
        SPOTTER_MONITOR_EVAL_S: '1',
        SPOTTER_MONITOR_MIN_SAMPLES: '4',
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await cluster?.stop();
    if (models) await rm(models, { recursive: true, force: true });
  });

  const post = async (route: string, body: unknown, key = ADMIN) => {
    const res = await fetch(`${stack.url}${route}`, { method: 'POST', headers: { ...auth(key), 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('runs jobs, a shadow rollout and its rollback, feedback, a reference, drift, alarms and a rate limit', async () => {
    const image = await datasetImage();
    const from = new Date();
    expect((await post('/v1/rollout', { mode: 'shadow', candidate: 'yolox_nano_strict', every: 1 })).status).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await postForm(`${stack.url}/v1/jobs`, image, { webhook_url: stack.receiver.url('/hook') }, auth(TENANT));
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    const audit = await auditJobs(stack, ids, { timeoutMs: 120_000, headers: auth(TENANT) });
    expect(audit).toMatchObject({ lost: 0, byStatus: { succeeded: ids.length }, mismatched: 0, webhooks: { missing: 0, duplicates: 0, unsigned: 0 } });

    // The shadow compared every job (rollout counters: MULTI on the job tag).
    const rollout = await until(async () => {
      const r = (await getJson(`${stack.url}/v1/rollout`, auth(ADMIN))).body;
      return r.shadow.jobs + r.shadow.skipped === ids.length ? r : undefined;
    });
    expect(rollout.shadow.jobs).toBe(ids.length);
    expect((await post('/v1/rollout/rollback', {})).body).toMatchObject({ mode: 'none', live: 'yolox_nano', last_event: { action: 'rolled_back' } });

    // Feedback (SET NX + MULTI on the monitoring tag), once per job.
    const job = (await getJson(`${stack.url}/v1/jobs/${ids[0]}`, auth(TENANT))).body;
    const boxes = job.result.detections.map((d: { class_id: number; box: unknown }) => ({ class_id: d.class_id, box: d.box }));
    expect((await post(`/v1/jobs/${ids[0]}/feedback`, { boxes }, TENANT)).body).toMatchObject({ f1: 1 });
    expect((await post(`/v1/jobs/${ids[0]}/feedback`, { boxes }, TENANT)).status).toBe(409);

    // A reference from the window just served, and a drift report against it.
    const to = new Date(Date.now() + 1);
    const ref = await post('/v1/monitoring/reference', { from: from.toISOString(), to: to.toISOString() });
    expect(ref.status).toBe(201);
    expect(ref.body.count).toBe(ids.length);
    const drift = (await getJson(`${stack.url}/v1/monitoring/drift?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`, auth(ADMIN))).body;
    expect(drift).toMatchObject({ reference: { id: ref.body.id, count: ids.length }, window: { count: ids.length } });
    expect(drift.metrics.length).toBeGreaterThan(0);
    // The scheduled evaluator (a BullMQ job scheduler) ran on the cluster and kept its report.
    await until(async () => ((await stack.stores.alarms.lastReport()) ? true : undefined));
    expect((await getJson(`${stack.url}/v1/monitoring/alarms`, auth(ADMIN))).status).toBe(200);

    // GCRA: a burst past 50 from one key is cut; another key is untouched.
    const started = performance.now();
    const burst = await Promise.all(Array.from({ length: 120 }, () => fetch(`${stack.url}/v1/models`, { headers: auth(PROBE) }).then((r) => r.status)));
    // At most the burst plus what 50/s refills while the requests are in flight passes.
    const allowed = 50 + Math.ceil((50 * (performance.now() - started)) / 1000);
    const ok = burst.filter((s) => s === 200).length;
    expect(ok).toBeGreaterThanOrEqual(50);
    expect(ok).toBeLessThanOrEqual(allowed);
    expect(burst.filter((s) => s === 429).length).toBe(120 - ok);
    expect((await getJson(`${stack.url}/v1/models`, auth(TENANT))).status).toBe(200);

    // The queue dashboard and the Prometheus gauges read the queues over the cluster connection.
    expect((await fetch(`${stack.url}/admin/queues/api/queues`, { headers: auth(ADMIN) })).status).toBe(200);
    const metrics = parsePrometheus(await (await fetch(`${stack.url}/metrics`)).text());
    expect(valueOf(metrics, 'spotter_redis_up')).toBe(1);
    expect(valueOf(metrics, 'spotter_queue_jobs', { queue: 'detect', state: 'completed' })).toBe(ids.length);
  });

  it('survives FLUSHALL on every master under load: the outbox brings every accepted job back', async () => {
    let faultAt = 0;
    const { accepted, statuses } = await steadyLoad(
      stack,
      async () => {
        faultAt = Date.now();
        await cluster.flushall();
      },
      { clients: 4, headers: auth(TENANT) },
    );
    const audit = await auditJobs(stack, accepted, { timeoutMs: 120_000, faultAt, headers: auth(TENANT) });
    await report('Redis Cluster: FLUSHALL on every master under load', { http: statuses, ...audit });
    expect(audit.lost).toBe(0);
    expect(audit.byStatus).toEqual({ succeeded: accepted.length });
    expect(audit.webhooks.missing).toBe(0);
    expect(audit.mismatched).toBe(0);
  });

  it('kept every key under the two hash tags, and no process met a cross-slot error', async () => {
    const prefix = stack.env.SPOTTER_QUEUE_PREFIX!;
    const tags = [`{${prefix}}`, `{${prefix}:mon}`];
    const keys: string[] = [];
    const slots = new Set<number>();
    for (const port of cluster.ports) {
      const node = new Redis(port, '127.0.0.1');
      try {
        keys.push(...(await node.keys('*')));
        for (const tag of tags) slots.add((await node.call('CLUSTER', 'KEYSLOT', tag)) as number);
      } finally {
        node.disconnect();
      }
    }
    console.info(`${keys.length} keys; job tag slot and monitoring tag slot: ${[...slots].join(', ')}`);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((k) => !tags.some((t) => k.startsWith(`${t}:`)))).toEqual([]);
    expect(keys.some((k) => k.startsWith(`${tags[1]}:`))).toBe(true);
    expect(stack.output()).not.toMatch(/CROSSSLOT|MOVED|ASK |Too many Cluster redirections/);
  });
});
