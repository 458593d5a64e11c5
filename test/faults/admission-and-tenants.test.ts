import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetImage } from '../support/images.js';
import { getJson, postForm } from '../support/spotter.js';
import { CHAOS, report } from './audit.js';
import { startFaultStack, type FaultStack } from './fault-stack.js';

const A = { authorization: 'Bearer tenant-alpha-0001' };
const B = { authorization: 'Bearer tenant-bravo-0002' };
const ADMIN = { authorization: 'Bearer operator-admin-0003' };
const KEYS = { SPOTTER_API_KEYS: 'tenant-alpha-0001,tenant-bravo-0002', SPOTTER_ADMIN_KEYS: 'operator-admin-0003' };
const basic = (h: { authorization: string }) => ({ authorization: `Basic ${Buffer.from(`x:${h.authorization.slice(7)}`).toString('base64')}` });

const BURST = CHAOS ? 2000 : 600;
const CAP = 50;

describe(`a ${BURST}-request burst against two API processes with SPOTTER_MAX_BACKLOG=${CAP}`, () => {
  let stack: FaultStack;
  beforeAll(async () => {
    // No worker: nothing leaves the backlog, so every admission counts.
    stack = await startFaultStack({ apis: 2, workers: 0, env: { ...KEYS, SPOTTER_MAX_BACKLOG: String(CAP) } });
  });
  afterAll(() => stack?.stop());

  it('admits exactly up to the cap, refuses the rest with 429 and Retry-After, never a 5xx', async () => {
    const image = await datasetImage();
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await stack.waitingCount());
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const res = await Promise.all(Array.from({ length: BURST }, (_, i) => postForm(`${stack.apis[i % 2]!.url}/v1/jobs`, image, {}, A)));
    sampling = false;
    await sampler;
    const statuses: Record<number, number> = {};
    for (const r of res) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const refused = res.filter((r) => r.status === 429);
    const final = await stack.waitingCount();
    await report(`${BURST}-request burst, cap ${CAP}, 2 API processes`, { http: statuses, waiting_peak: peak, waiting_after: final });
    expect(statuses[202]).toBe(CAP);
    expect(statuses[202]! + statuses[429]!).toBe(BURST);
    expect(peak).toBeLessThanOrEqual(CAP);
    expect(final).toBe(CAP);
    expect(refused.every((r) => r.headers.get('retry-after') === '5' && r.body.error.code === 'OVERLOADED')).toBe(true);
  });
});

describe('tenants: a key sees and touches only its own jobs, everywhere', () => {
  let stack: FaultStack;
  let jobOfA: string;
  beforeAll(async () => {
    stack = await startFaultStack({ workers: 0, env: KEYS });
    jobOfA = (await postForm(`${stack.url}/v1/jobs`, await datasetImage(), {}, A)).body.id;
  });
  afterAll(() => stack?.stop());

  it('keeps key B out of A\'s job through /v1 and the queue dashboard', async () => {
    const reads: [string, number][] = [];
    const probe = async (label: string, res: Promise<{ status: number }>) => reads.push([label, (await res).status]);
    await probe('GET job', getJson(`${stack.url}/v1/jobs/${jobOfA}`, B));
    await probe('GET annotated', fetch(`${stack.url}/v1/jobs/${jobOfA}/annotated`, { headers: B }));
    await probe('POST feedback', fetch(`${stack.url}/v1/jobs/${jobOfA}/feedback`, { method: 'POST', headers: { ...B, 'content-type': 'application/json' }, body: '{"boxes":[]}' }));
    await probe('dashboard page', fetch(`${stack.url}/admin/queues`, { headers: basic(B) }));
    await probe('dashboard API', fetch(`${stack.url}/admin/queues/api/queues?activeQueue=detect&status=waiting&page=1`, { headers: basic(B) }));
    await probe('dashboard clean', fetch(`${stack.url}/admin/queues/api/queues/detect/clean/waiting`, { method: 'PUT', headers: basic(B) }));
    await probe('dashboard job', fetch(`${stack.url}/admin/queues/api/queues/detect/${jobOfA}`, { headers: basic(B) }));
    const listed = (await getJson(`${stack.url}/v1/jobs`, B)).body.jobs.map((j: { id: string }) => j.id);
    await report('cross-tenant probes by key B', { reads: Object.fromEntries(reads), listed_by_b: listed.length });
    expect(Object.fromEntries(reads)).toEqual({
      'GET job': 404,
      'GET annotated': 404,
      'POST feedback': 404,
      'dashboard page': 403,
      'dashboard API': 403,
      'dashboard clean': 403,
      'dashboard job': 403,
    });
    expect(listed).not.toContain(jobOfA);
    // A's job is untouched, and A lists it.
    expect((await getJson(`${stack.url}/v1/jobs/${jobOfA}`, A)).body.status).toBe('queued');
    expect((await getJson(`${stack.url}/v1/jobs`, A)).body.jobs.map((j: { id: string }) => j.id)).toEqual([jobOfA]);
  });

  it('lets an admin key use the dashboard', async () => {
    const page = await fetch(`${stack.url}/admin/queues/api/queues?activeQueue=detect&status=waiting&page=1`, { headers: basic(ADMIN) });
    expect(page.status).toBe(200);
    expect(JSON.stringify(await page.json())).toContain(jobOfA);
  });
});

describe('per-key limits, shared by every API process', () => {
  let stack: FaultStack;
  beforeAll(async () => {
    stack = await startFaultStack({
      apis: 2,
      workers: 0,
      env: { ...KEYS, SPOTTER_RATE_LIMIT_RPS: '5', SPOTTER_RATE_LIMIT_BURST: '10', SPOTTER_MAX_ACTIVE_JOBS_PER_KEY: '3' },
    });
  });
  afterAll(() => stack?.stop());

  it('refuses a key over its concurrent-job limit with 429 TOO_MANY_ACTIVE_JOBS, not the other keys', async () => {
    const image = await datasetImage();
    const mine = [];
    for (let i = 0; i < 4; i++) mine.push(await postForm(`${stack.apis[i % 2]!.url}/v1/jobs`, image, {}, A));
    expect(mine.map((r) => r.status)).toEqual([202, 202, 202, 429]);
    expect(mine[3]!.body.error.code).toBe('TOO_MANY_ACTIVE_JOBS');
    expect(mine[3]!.headers.get('retry-after')).toBeTruthy();
    expect((await postForm(`${stack.url}/v1/jobs`, image, {}, B)).status).toBe(202);
  });

  it('refuses requests over the rate with 429 RATE_LIMITED and Retry-After, across both API processes', async () => {
    const started = performance.now();
    const res = await Promise.all(Array.from({ length: 60 }, (_, i) => getJson(`${stack.apis[i % 2]!.url}/v1/models`, B)));
    const elapsedS = (performance.now() - started) / 1000;
    const ok = res.filter((r) => r.status === 200).length;
    const limited = res.filter((r) => r.status === 429);
    await report('rate limit 5/s, burst 10, 60 requests at once over 2 API processes', { ok, limited: limited.length, elapsed_s: Math.round(elapsedS * 100) / 100 });
    // At most the burst (10, less what B already used) plus what the rate refilled while the
    // requests were in flight passes, whichever process answers; the rest is refused.
    const allowed = 10 + Math.ceil(5 * elapsedS);
    expect(ok).toBeLessThanOrEqual(allowed);
    expect(limited.length).toBe(60 - ok);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((r) => r.body.error.code === 'RATE_LIMITED' && Number(r.headers.get('retry-after')) >= 1)).toBe(true);
  });
});
