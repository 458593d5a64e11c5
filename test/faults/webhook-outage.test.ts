import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetImage } from '../support/images.js';
import { postForm } from '../support/spotter.js';
import { auditJobs, CHAOS, report } from './audit.js';
import { startFaultStack, type FaultStack } from './fault-stack.js';

const OUTAGE_S = CHAOS ? 20 : 5;
const JOBS = CHAOS ? 100 : 20;

describe(`a webhook receiver failing for ${OUTAGE_S} s`, () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await startFaultStack({ workers: 1 });
  });
  afterAll(() => stack?.stop());

  it('gets every event once it answers again: signed, once each, the same record as GET', async () => {
    stack.receiver.state.failing = true;
    const failingFrom = Date.now();
    const image = await datasetImage();
    const res = await Promise.all(Array.from({ length: JOBS }, () => postForm(`${stack.url}/v1/jobs`, image, { webhook_url: stack.receiver.url('/hook') })));
    await new Promise((r) => setTimeout(r, OUTAGE_S * 1000 - (Date.now() - failingFrom)));
    stack.receiver.state.failing = false;
    const audit = await auditJobs(stack, res.map((r) => r.body.id), { timeoutMs: 120_000, faultAt: failingFrom });
    const refusedAttempts = stack.receiver.deliveries.filter((d) => d.status === 500).length;
    await report(`webhook receiver answering 500 for ${OUTAGE_S} s`, { refused_attempts: refusedAttempts, ...audit });
    expect(refusedAttempts).toBeGreaterThan(0);
    expect(audit).toMatchObject({ lost: 0, mismatched: 0, byStatus: { succeeded: JOBS } });
    expect(audit.webhooks).toEqual({ delivered: JOBS, duplicates: 0, differentIds: 0, missing: 0, unsigned: 0 });
  });
});
