import { copyFile, mkdir, mkdtemp, readdir, readFile, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { evalCommand } from '../../apps/cli/src/eval-command.js';
import { datasetImage } from '../support/images.js';
import { rolloutModelDir } from '../support/model-dirs.js';
import { DATASET, getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';

const KEY = 'rollout-key-0001';
const ADMIN_KEY = 'rollout-admin-0001';
const AUTH = { authorization: `Bearer ${KEY}` };
const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` };

async function post(spotter: Spotter, route: string, body?: unknown, auth = ADMIN) {
  const res = await fetch(`${spotter.url}${route}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
  return { status: res.status, body: (await res.json()) as any };
}

async function runJobs(spotter: Spotter, n: number) {
  const image = await datasetImage();
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const { body } = await postForm(`${spotter.url}/v1/jobs`, image, {}, AUTH);
    jobs.push((await getJson(`${spotter.url}/v1/jobs/${body.id}?wait=30`, AUTH)).body);
  }
  return jobs;
}

describe('model registry: evaluation comparison, shadow and canary', () => {
  let dir: string;
  let spotter: Spotter;
  beforeAll(async () => {
    dir = await rolloutModelDir();
    spotter = await startSpotter({ SPOTTER_MODEL_DIR: dir, SPOTTER_API_KEYS: KEY, SPOTTER_ADMIN_KEYS: ADMIN_KEY, SPOTTER_CANARY_MIN_JOBS: '3' });
  });
  afterAll(() => spotter?.stop());

  it('compares the stricter model with the default one on a dataset', async () => {
    // A 16-image YOLO dataset made of the shared one's files.
    const data = await mkdtemp(path.join(os.tmpdir(), 'spotter-data16-'));
    await mkdir(path.join(data, 'images'));
    await mkdir(path.join(data, 'labels'));
    await copyFile(path.join(DATASET, 'classes.yaml'), path.join(data, 'classes.yaml'));
    for (const f of (await readdir(path.join(DATASET, 'images'))).sort().slice(0, 16)) {
      await symlink(path.join(DATASET, 'images', f), path.join(data, 'images', f));
      const label = f.replace(/\.jpg$/, '.txt');
      await copyFile(path.join(DATASET, 'labels', label), path.join(data, 'labels', label)).catch(() => undefined);
    }
    const config = loadConfig({ SPOTTER_MODEL_DIR: dir });
    const out = await mkdtemp(path.join(os.tmpdir(), 'spotter-cmp-'));
    const report = await evalCommand({ data, out, model: 'yolox_nano_strict', baseline: 'yolox_nano' }, config);
    expect(report.model).toMatchObject({ name: 'yolox_nano_strict' });
    expect(report.baseline!.model).toMatchObject({ name: 'yolox_nano' });
    // A 0.5 score floor cuts recall: the comparison must show it and flag the slices.
    expect(report.baseline!.diff.AR100!).toBeLessThan(0);
    expect(report.baseline!.worse.map((w) => w.slice)).toContain('metric: AR100');
    const html = await readFile(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="comparison"');
    expect(html).toContain('id="slices"');
  });

  it('lists the registered models with the live one marked', async () => {
    const { status, body } = await getJson(`${spotter.url}/v1/models`, AUTH);
    expect(status).toBe(200);
    const byName = Object.fromEntries(body.models.map((m: { name: string }) => [m.name, m]));
    expect(Object.keys(byName).sort()).toEqual(['broken', 'yolox_nano', 'yolox_nano_strict']);
    expect(byName.yolox_nano).toMatchObject({ role: 'live', version: 'd39bee73564e', available: true });
    expect(byName.yolox_nano_strict).toMatchObject({ role: null, score_threshold: 0.5 });
    expect((await postForm(`${spotter.url}/v1/jobs`, await datasetImage(), { model: 'nope' }, AUTH)).body.error.code).toBe('UNKNOWN_MODEL');
  });

  it('lets only admin keys steer the rollout', async () => {
    for (const route of ['/v1/rollout', '/v1/rollout/promote', '/v1/rollout/rollback']) {
      const res = await post(spotter, route, { mode: 'shadow', candidate: 'yolox_nano_strict' }, AUTH);
      expect(res.status, route).toBe(403);
      expect(res.body.error.code).toBe('FORBIDDEN');
    }
    expect((await getJson(`${spotter.url}/v1/rollout`, AUTH)).status).toBe(403);
    expect((await getJson(`${spotter.url}/v1/rollout`, ADMIN)).body).toMatchObject({ mode: 'none', live: 'yolox_nano' });
  });

  it('runs a shadow: answers come from the live model, the candidate is compared', async () => {
    expect((await post(spotter, '/v1/rollout/promote')).status).toBe(409);
    expect((await post(spotter, '/v1/rollout', { mode: 'shadow', candidate: 'unknown' })).status).toBe(400);
    // The strict model (score floor 0.5) is what the agreement guard stops (test/e2e/quality-rollout.test.ts);
    // this test is about routing and counting, so its minimum sample is beyond the jobs it runs.
    const started = await post(spotter, '/v1/rollout', { mode: 'shadow', candidate: 'yolox_nano_strict', every: 1, guards: { min_jobs: 10 } });
    expect(started.status).toBe(201);
    const jobs = await runJobs(spotter, 4);
    for (const job of jobs) expect(job.result.model.name).toBe('yolox_nano');
    // Shadows run after each job has answered: wait for the last one.
    const body = await until(async () => {
      const r = (await getJson(`${spotter.url}/v1/rollout`, ADMIN)).body;
      return r.shadow.jobs + r.shadow.skipped === 4 ? r : undefined;
    });
    expect(body).toMatchObject({ mode: 'shadow', live: 'yolox_nano', candidate: 'yolox_nano_strict' });
    expect(body.shadow).toMatchObject({ jobs: 4, skipped: 0 });
    // The strict model keeps a subset of the live boxes: everything it finds, the live model found.
    expect(body.shadow.candidate_boxes).toBeLessThan(body.shadow.live_boxes);
    expect(body.shadow.matched).toBe(body.shadow.candidate_boxes);
    expect(body.shadow.agreement).toBeGreaterThan(0);
    expect(body.shadow.agreement).toBeLessThan(1);
    const shadowFiles = await readdir(path.join(spotter.storageDir, 'shadow'));
    expect(shadowFiles.sort()).toEqual(jobs.map((j) => `${j.id}.json`).sort());
    expect((await post(spotter, '/v1/rollout/rollback')).body).toMatchObject({ mode: 'none', live: 'yolox_nano', last_event: { action: 'rolled_back' } });
  });

  it('runs a canary, then promotes it', async () => {
    // As above: the output-drift guard would (rightly) roll this candidate back at its minimum sample.
    await post(spotter, '/v1/rollout', { mode: 'canary', candidate: 'yolox_nano_strict', share: 1, guards: { min_jobs: 10 } });
    const jobs = await runJobs(spotter, 3);
    for (const job of jobs) expect(job.result.model.name).toBe('yolox_nano_strict');
    // Jobs are counted just after their answers.
    const canary = await until(async () => {
      const c = (await getJson(`${spotter.url}/v1/rollout`, ADMIN)).body.canary.candidate;
      return c.jobs === 3 ? c : undefined;
    });
    expect(canary).toMatchObject({ jobs: 3, failed: 0 });
    expect((await post(spotter, '/v1/rollout/promote')).body).toMatchObject({ live: 'yolox_nano_strict', mode: 'none', last_event: { action: 'promoted' } });
    const [after] = await runJobs(spotter, 1);
    expect(after.result.model.name).toBe('yolox_nano_strict');
    const models = (await getJson(`${spotter.url}/v1/models`, AUTH)).body.models;
    expect(models.find((m: { name: string }) => m.name === 'yolox_nano_strict').role).toBe('live');
  });

  it('rolls a failing canary back by itself', async () => {
    await post(spotter, '/v1/rollout', { mode: 'canary', candidate: 'broken', share: 1 });
    const jobs = await runJobs(spotter, 3);
    for (const job of jobs) expect(job.error.code).toBe('MODEL_ERROR');
    // The guards judge just after the jobs have answered.
    const body = await until(async () => {
      const state = (await getJson(`${spotter.url}/v1/rollout`, ADMIN)).body;
      return state.mode === 'none' ? state : undefined;
    });
    expect(body).toMatchObject({ mode: 'none', live: 'yolox_nano_strict', last_event: { action: 'rolled_back_automatically', candidate: 'broken', by: 'guard' } });
    expect(body.history.map((e: { action: string }) => e.action)).toEqual(['rolled_back_automatically', 'started', 'promoted', 'started', 'rolled_back', 'started']);
    // The very next job goes to the live model: routing reads the rollout state, no cache to expire.
    const [after] = await runJobs(spotter, 1);
    expect(after.status).toBe('succeeded');
    expect(after.result.model.name).toBe('yolox_nano_strict');
  });
});
