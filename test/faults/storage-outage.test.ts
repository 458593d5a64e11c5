import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetImage } from '../support/images.js';
import { getJson, postForm } from '../support/spotter.js';
import { until } from '../support/until.js';
import { auditJobs, CHAOS, report } from './audit.js';
import { startFaultStack, type FaultStack } from './fault-stack.js';

const OUTAGE_S = CHAOS ? 60 : 10;
const JOBS = CHAOS ? 100 : 24;

/** Submits `n` jobs and returns their ids once all are accepted. */
async function submit(stack: FaultStack, n: number) {
  const image = await datasetImage();
  const res = await Promise.all(Array.from({ length: n }, () => postForm(`${stack.url}/v1/jobs`, image, { webhook_url: stack.receiver.url('/hook') })));
  for (const r of res) expect(r.status).toBe(202);
  return res.map((r) => r.body.id as string);
}

describe(`an S3 outage of ${OUTAGE_S} s is waited out`, () => {
  let stack: FaultStack;
  beforeAll(async () => {
    // One slow-ish worker so that jobs are still queued when storage goes away.
    stack = await startFaultStack({ s3: true, workers: 1, env: { SPOTTER_WORKER_CONCURRENCY: '1' } });
  });
  afterAll(() => stack?.stop());

  it('answers 503 with Retry-After while storage is down, then finishes every accepted job', async () => {
    const ids = await submit(stack, JOBS);
    const downAt = Date.now();
    await stack.s3!.stop();
    const refused = await postForm(`${stack.url}/v1/jobs`, await datasetImage());
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(refused.body.error.code).toBe('STORAGE_UNAVAILABLE');
    expect(refused.body.error.message).not.toMatch(/127\.0\.0\.1|:\d{2,5}\b|\/tmp\//);
    expect((await getJson(`${stack.url}/readyz`)).status).toBe(503);
    await new Promise((r) => setTimeout(r, OUTAGE_S * 1000));
    await stack.s3!.start();
    const audit = await auditJobs(stack, ids, { timeoutMs: 120_000, faultAt: downAt });
    await report(`S3 stopped for ${OUTAGE_S} s with jobs in flight`, audit);
    expect(audit.lost).toBe(0);
    expect(audit.byStatus).toEqual({ succeeded: ids.length });
    expect(audit.webhooks).toMatchObject({ missing: 0, duplicates: 0 });
    expect(audit.mismatched).toBe(0);
    expect((await getJson(`${stack.url}/readyz`)).status).toBe(200);
  });
});

describe('an outage longer than SPOTTER_OUTAGE_BUDGET_S', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await startFaultStack({ s3: true, workers: 1, env: { SPOTTER_OUTAGE_BUDGET_S: '3', SPOTTER_WORKER_CONCURRENCY: '1' } });
  });
  afterAll(() => stack?.stop());

  it('fails the waiting jobs with STORAGE_UNAVAILABLE (no host, port or path), announces them, and stores the records once storage is back', async () => {
    const ids = await submit(stack, 8);
    await stack.s3!.stop();
    // GET answers from Redis while storage is down: the jobs become final there, with their webhooks.
    const failed = await until(async () => {
      const views = await Promise.all(ids.map(async (id) => (await getJson(`${stack.url}/v1/jobs/${id}`)).body));
      return views.filter((v) => v.status === 'failed').length > 0 && views.every((v) => v.status === 'failed' || v.status === 'succeeded') ? views : undefined;
    });
    for (const v of failed.filter((x) => x.status === 'failed')) {
      expect(v.error.code).toBe('STORAGE_UNAVAILABLE');
      expect(v.error.message).toMatch(/storage was unavailable for more than 3 s/);
      expect(v.error.message).not.toMatch(/127\.0\.0\.1|:\d{2,5}\b|\/tmp\//);
    }
    await stack.s3!.start();
    const audit = await auditJobs(stack, ids, { timeoutMs: 120_000 });
    await report('S3 outage beyond a 3 s budget', audit);
    expect(audit).toMatchObject({ lost: 0, mismatched: 0 });
    expect(audit.byCode.STORAGE_UNAVAILABLE).toBeGreaterThan(0);
    expect(audit.webhooks).toMatchObject({ missing: 0, duplicates: 0 });
  });
});
