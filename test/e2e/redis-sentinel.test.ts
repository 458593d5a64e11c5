import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { auditJobs, report } from '../faults/audit.js';
import { startFaultStack, type FaultStack } from '../faults/fault-stack.js';
import { steadyLoad } from '../faults/load.js';
import { datasetImage } from '../support/images.js';
import { startRedisSentinel } from '../support/redis-topologies.js';
import { postForm } from '../support/spotter.js';

/**
 * REDIS_URL=redis-sentinel://...: Spotter asks the Sentinel for the master and follows a
 * failover. SENTINEL FAILOVER promotes the replica before the old master is demoted, so writes
 * in between can be lost (asynchronous replication); the outbox in storage must repair that.
 */
describe('Spotter behind Redis Sentinel: one master, one replica, one Sentinel', () => {
  let sentinel: Awaited<ReturnType<typeof startRedisSentinel>>;
  let stack: FaultStack;
  beforeAll(async () => {
    sentinel = await startRedisSentinel();
    stack = await startFaultStack({ redis: sentinel, workers: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
    await sentinel?.stop();
  });

  it('runs a job end to end on the master the Sentinel names', async () => {
    const res = await postForm(`${stack.url}/v1/jobs`, await datasetImage(), { webhook_url: stack.receiver.url('/hook') });
    expect(res.status).toBe(202);
    const audit = await auditJobs(stack, [res.body.id], { timeoutMs: 120_000 });
    expect(audit).toMatchObject({ lost: 0, byStatus: { succeeded: 1 }, mismatched: 0, webhooks: { delivered: 1, missing: 0 } });
    const master = new Redis(await sentinel.masterPort(), '127.0.0.1');
    try {
      expect(await master.hget(`{${stack.env.SPOTTER_QUEUE_PREFIX}}:job:${res.body.id}`, 'status')).toBe('succeeded');
    } finally {
      master.disconnect();
    }
  });

  it('loses nothing accepted through SENTINEL FAILOVER under light load', async () => {
    const before = await sentinel.masterPort();
    let faultAt = 0;
    let failoverS = 0;
    const { accepted, statuses } = await steadyLoad(
      stack,
      async () => {
        faultAt = Date.now();
        await sentinel.failover();
        failoverS = (Date.now() - faultAt) / 1000;
      },
      { clients: 2 },
    );
    const audit = await auditJobs(stack, accepted, { timeoutMs: 120_000, faultAt });
    await report('Redis Sentinel: SENTINEL FAILOVER under light load', { failover_s: failoverS, http: statuses, ...audit });
    expect(await sentinel.masterPort()).not.toBe(before);
    expect(audit.lost).toBe(0);
    expect(audit.byStatus).toEqual({ succeeded: accepted.length });
    expect(audit.webhooks.missing).toBe(0);
    expect(audit.mismatched).toBe(0);
    expect(Object.keys(statuses).filter((s) => s !== '202' && s !== '503')).toEqual([]);
  });
});
