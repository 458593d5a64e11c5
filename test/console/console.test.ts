import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@spotter/config';
import { boxIou } from '@spotter/shared';
import { createStorage } from '@spotter/storage';
import { inspectModel, readOnnxFile } from '@spotter/vision';
import { evalCommand } from '../../apps/cli/src/eval-command.js';
import { root } from '../../scripts/lib.mjs';
import { DATASET, getJson, MODEL_DIR, postForm, startSpotter, type Spotter } from '../support/spotter.js';

const run = promisify(execFile);
const TENANT = 'console-tenant-0001';
const OTHER = 'console-other-0001';
const ADMIN = 'console-admin-0001';
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const IMAGE = path.join(DATASET, 'images', '000000000139.jpg');
const SHOTS = path.join(root, 'test', 'console', 'screenshots');

// HTTP failures the tests provoke on purpose (no key yet, tenant key on admin pages, another
// key's job, a text file as an image); Chromium logs each as a console error.
const EXPECTED_STATUS = /status of (401|403|404|415) /;

interface Watched {
  page: Page;
  errors: string[];
  violations: string[];
}

/** A page whose console errors, uncaught exceptions and CSP violations are collected. */
async function watchedPage(context: BrowserContext): Promise<Watched> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !(m.text().startsWith('Failed to load resource') && EXPECTED_STATUS.test(m.text()))) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // Reported to the test as they happen, so violations on any page load are kept.
  const violations: string[] = [];
  await page.exposeBinding('__cspViolation', (_source, v: string) => void violations.push(v));
  await page.addInitScript({
    content: "document.addEventListener('securitypolicyviolation', (e) => window.__cspViolation(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));",
  });
  return { page, errors, violations };
}

/** Answers the console's key dialog (asked on the first 401). */
async function enterKey(page: Page, key: string) {
  await page.locator('#key-dialog').waitFor({ state: 'visible' });
  await page.fill('#key-input', key);
  await page.click('#key-dialog button[type=submit]');
}

/** The boxes the page drew for one answer, read back from the SVG's data attributes. */
async function drawnBoxes(page: Page, source: string) {
  return page.locator(`svg[data-source="${source}"] rect[data-score]`).evaluateAll((rects) =>
    rects.map((r) => ({
      label: r.getAttribute('data-label')!,
      class_id: Number(r.getAttribute('data-class-id')),
      score: Number(r.getAttribute('data-score')),
      box: { x1: Number(r.getAttribute('data-x1')), y1: Number(r.getAttribute('data-y1')), x2: Number(r.getAttribute('data-x2')), y2: Number(r.getAttribute('data-y2')) },
    })),
  );
}

async function setSlider(page: Page, source: string, value: number) {
  await page.locator(`section:has(svg[data-source="${source}"]) input[data-role="score-filter"]`).fill(String(value));
}

const byScore = <T extends { score: number }>(xs: T[]) => [...xs].sort((a, b) => b.score - a.score);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Share of pixels that are not the page background: a chart that drew something. */
async function inkShare(png: Buffer) {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  return data.filter((v) => v < 200).length / (info.width * info.height);
}

async function submitJobs(spotter: Spotter, key: string, n: number) {
  const image = await readFile(IMAGE);
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const { body } = await postForm(`${spotter.url}/v1/jobs`, image, {}, bearer(key));
    jobs.push((await getJson(`${spotter.url}/v1/jobs/${body.id}?wait=30`, bearer(key))).body);
  }
  return jobs;
}

describe('the console against the real stack', () => {
  let spotter: Spotter;
  let browser: Browser;
  let tenant: BrowserContext;
  let admin: BrowserContext;
  let tenantPage: Watched;
  let adminPage: Watched;
  let otherJobIds: string[] = [];
  let tryJobId = '';

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    // The default model and a stricter manifest of the same file: a candidate to roll out.
    const models = await mkdtemp(path.join(os.tmpdir(), 'spotter-console-models-'));
    await symlink(path.join(MODEL_DIR, 'yolox_nano.onnx'), path.join(models, 'yolox_nano.onnx'));
    await writeFile(path.join(models, 'yolox_nano_strict.model.json'), JSON.stringify({ name: 'yolox_nano_strict', file: 'yolox_nano.onnx', score_threshold: 0.5 }));
    spotter = await startSpotter({
      SPOTTER_MODEL_DIR: models,
      SPOTTER_API_KEYS: `${TENANT},${OTHER}`,
      SPOTTER_ADMIN_KEYS: ADMIN,
      SPOTTER_MONITOR_BUCKET_S: '1',
      SPOTTER_MONITOR_MIN_SAMPLES: '5',
    });
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    // Basic credentials only answer the report page's challenge (/v1 asks for Bearer).
    tenant = await browser.newContext({ viewport: { width: 1280, height: 900 }, httpCredentials: { username: 'spotter', password: TENANT } });
    admin = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    tenantPage = await watchedPage(tenant);
    adminPage = await watchedPage(admin);
    // Another tenant's jobs, which no page of this key may show.
    otherJobIds = (await submitJobs(spotter, OTHER, 2)).map((j) => j.id);
  });

  afterAll(async () => {
    await browser?.close();
    await spotter?.stop();
  });

  it('links the console and the docs from / for browsers, with the console isolated and under a strict CSP', async () => {
    const { page } = tenantPage;
    await page.goto(`${spotter.url}/`);
    expect(await page.locator('a[href="/console/"]').count()).toBe(1);
    expect(await page.locator('a[href="/docs"]').count()).toBe(1);
    expect((await getJson(`${spotter.url}/`)).body.console).toBe('/console/');

    const res = (await page.goto(`${spotter.url}/console/`))!;
    const headers = res.headers();
    expect(headers['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(headers['content-security-policy']).not.toMatch(/unsafe-inline/);
    expect(headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(headers['cache-control']).toBe('no-cache');
    expect(await page.evaluate('crossOriginIsolated')).toBe(true);
    // Hashed assets are cached for a year; no inline script in the page.
    const script = await page.locator('script[src]').first().getAttribute('src');
    expect(script).toMatch(/^\/console\/assets\/index-[\w-]+\.js$/);
    const asset = await fetch(`${spotter.url}${script}`);
    expect(asset.headers.get('cache-control')).toMatch(/max-age=31536000.*immutable/);
    expect(await page.locator('script:not([src])').count()).toBe(0);
  });

  it('Try: submits a dataset image, shows its life and draws exactly the job JSON’s boxes; errors read as sentences', async () => {
    const { page } = tenantPage;
    await page.goto(`${spotter.url}/console/#/try`);
    await page.setInputFiles('#try-file', IMAGE);
    await enterKey(page, TENANT);
    await page.locator('.lifeline [data-status="succeeded"]').waitFor({ timeout: 60_000 });
    tryJobId = (await page.locator('.result').getAttribute('data-job-id'))!;
    const job = (await getJson(`${spotter.url}/v1/jobs/${tryJobId}`, bearer(TENANT))).body;
    expect(job.status).toBe('succeeded');
    expect(await page.locator('.waterfall .wf-row').count()).toBe(5);
    const life = await page.locator('.lifeline li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-status')));
    expect(life[0]).toBe('queued');
    expect(life.at(-1)).toBe('succeeded');

    // At the default 0.25, then the slider down to the floor asked of the server: live filtering.
    const at = (min: number) => byScore(job.result.detections.filter((d: { score: number }) => d.score >= min));
    expect(byScore(await drawnBoxes(page, 'server'))).toEqual(at(0.25));
    await setSlider(page, 'server', 0.1);
    expect(byScore(await drawnBoxes(page, 'server'))).toEqual(at(0.1));
    expect(at(0.1).length).toBeGreaterThan(at(0.25).length);
    expect(await page.locator('table[data-source="server"] tbody tr').count()).toBe(at(0.1).length);
    await setSlider(page, 'server', 0.25);
    await page.screenshot({ path: path.join(SHOTS, 'try.png'), fullPage: true });

    // Not an image: a plain sentence, no JSON.
    const text = path.join(await mkdtemp(path.join(os.tmpdir(), 'spotter-console-')), 'notes.jpg');
    await writeFile(text, 'this is not an image');
    await page.setInputFiles('#try-file', text);
    const error = page.locator('.result .error');
    await error.waitFor();
    expect(await error.textContent()).toBe('That file is not an image Spotter can read (JPEG, PNG, WebP, GIF, AVIF, HEIF or TIFF).');

    // A phone-sized screen still shows the picker and the boxes.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.setInputFiles('#try-file', IMAGE);
    await page.locator('.lifeline [data-status="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('#try-camera').getAttribute('capture')).toBe('environment');
    await page.screenshot({ path: path.join(SHOTS, 'try-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('Edge: the same picture in the browser with onnxruntime-web agrees with the server', async () => {
    const { page } = tenantPage;
    await page.goto(`${spotter.url}/console/#/edge`);
    await expect.poll(() => page.locator('#edge-model option').count()).toBeGreaterThan(0);
    expect(await page.locator('#edge-model').inputValue()).toBe('yolox_nano');
    await page.setInputFiles('#edge-file', IMAGE);
    const agreement = page.locator('[data-role="agreement"]');
    await agreement.waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-role="environment"]').textContent()).toMatch(/cross-origin isolated, [2-4] WASM threads/);

    await setSlider(page, 'server', 0.1);
    await setSlider(page, 'browser', 0.1);
    const server = await drawnBoxes(page, 'server');
    const local = await drawnBoxes(page, 'browser');
    const strong = server.filter((d) => d.score >= 0.3);
    expect(strong.length).toBeGreaterThan(3);
    for (const s of strong) {
      const twins = local.filter((b) => b.class_id === s.class_id).map((b) => ({ b, iou: boxIou(s.box, b.box) }));
      const best = twins.sort((x, y) => y.iou - x.iou)[0];
      expect(best?.iou ?? 0, `server ${JSON.stringify(s)}; closest in the browser ${JSON.stringify(best)}`).toBeGreaterThanOrEqual(0.9);
    }
    expect(Number(await agreement.getAttribute('data-class-flips'))).toBe(0);

    const download = page.locator('[data-role="model-download"]');
    expect(Number(await download.getAttribute('data-bytes'))).toBe((await stat(path.join(MODEL_DIR, 'yolox_nano.onnx'))).size);
    await setSlider(page, 'server', 0.25);
    await setSlider(page, 'browser', 0.25);
    await page.screenshot({ path: path.join(SHOTS, 'edge.png'), fullPage: true });

    // Figures for docs/console.md: browser median of 5 runs against the worker's on the same image.
    await page.click('[data-role="repeat"]');
    const repeated = page.locator('[data-role="repeat-result"][data-inference-median]');
    await repeated.waitFor({ timeout: 120_000 });
    const worker = (await submitJobs(spotter, TENANT, 5)).map((j) => j.timings_ms.inference as number);
    const figures = {
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      backend: await download.getAttribute('data-backend'),
      threads: Number(await download.getAttribute('data-threads')),
      browser_inference_median_ms: Number(await repeated.getAttribute('data-inference-median')),
      worker_inference_median_ms: median(worker),
      worker_inference_ms: worker,
      model_bytes: Number(await download.getAttribute('data-bytes')),
      model_download_ms: Number(await download.getAttribute('data-ms')),
    };
    await writeFile(path.join(SHOTS, 'edge-figures.json'), JSON.stringify(figures, null, 2));
    expect(figures.browser_inference_median_ms).toBeGreaterThan(0);
  });

  it('Edge: a DETR model registered while the stack runs (two inputs, three outputs) runs in the browser with the server\'s boxes', async () => {
    const file = path.join(root, '..', 'shared', 'models', 'zoo', 'deimv2_atto_320.onnx');
    const bytes = await readFile(file);
    const info = readOnnxFile(bytes);
    const form = new FormData();
    form.append('file', new Blob([bytes]), 'deimv2.onnx');
    form.append('manifest', JSON.stringify({ name: 'deimv2', ...inspectModel(info.io, info.metadata).manifest }));
    const added = await fetch(`${spotter.url}/v1/models`, { method: 'POST', body: form, headers: bearer(ADMIN) });
    expect(added.status, await added.clone().text()).toBe(201);

    const { page } = tenantPage;
    await page.goto(`${spotter.url}/console/#/edge`);
    // The picker lists the registry as the page opens: opened again, it has the new model.
    await page.reload();
    await expect.poll(() => page.locator('#edge-model option[value="deimv2"]').count()).toBe(1);
    await page.selectOption('#edge-model', 'deimv2');
    await page.setInputFiles('#edge-file', IMAGE);
    const agreement = page.locator('[data-role="agreement"]');
    await agreement.waitFor({ timeout: 120_000 });
    expect(await page.locator('[data-role="model-download"]').getAttribute('data-bytes')).toBe(String(bytes.length));
    await setSlider(page, 'server', 0.1);
    await setSlider(page, 'browser', 0.1);
    const server = await drawnBoxes(page, 'server');
    const local = await drawnBoxes(page, 'browser');
    const strong = server.filter((d) => d.score >= 0.3);
    expect(strong.length).toBeGreaterThan(2);
    for (const s of strong) {
      const best = local.filter((b) => b.class_id === s.class_id).map((b) => boxIou(s.box, b.box)).sort((x, y) => y - x)[0];
      expect(best ?? 0, `server ${JSON.stringify(s)}`).toBeGreaterThanOrEqual(0.9);
    }
    expect(Number(await agreement.getAttribute('data-class-flips'))).toBe(0);
    // Gone again for the pages after this one (the models page lists the seeds only).
    expect((await fetch(`${spotter.url}/v1/models/deimv2`, { method: 'DELETE', headers: bearer(ADMIN) })).status).toBe(204);
  });

  it('the model file is behind the key, cacheable, and 304 on a matching ETag', async () => {
    const url = `${spotter.url}/v1/models/yolox_nano/file`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: bearer(TENANT) });
    expect(res.status).toBe(200);
    const etag = res.headers.get('etag')!;
    expect(etag).toBe('"sha256-d39bee73564e338080378b0ad567fbb40e818b55bbfaf971de82a0267ed16b8a"');
    expect(res.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    expect((await res.arrayBuffer()).byteLength).toBe((await stat(path.join(MODEL_DIR, 'yolox_nano.onnx'))).size);
    expect((await fetch(url, { headers: { ...bearer(TENANT), 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${spotter.url}/v1/models/nope/file`, { headers: bearer(TENANT) })).status).toBe(404);
  });

  it('Jobs: this key’s jobs only, newest first, paged, live-updating, with a detail view', async () => {
    // More than one page (20) of this key's jobs.
    const had = (await getJson(`${spotter.url}/v1/jobs?limit=200`, bearer(TENANT))).body.jobs.length as number;
    await submitJobs(spotter, TENANT, Math.max(0, 25 - had));
    const { page } = tenantPage;
    await page.goto(`${spotter.url}/console/#/jobs`);
    const ids = () => page.locator('table[data-role="jobs"] a[data-job-id]').evaluateAll((as) => as.map((a) => a.getAttribute('data-job-id')!));
    await expect.poll(async () => (await ids()).length).toBe(20);
    const first = await ids();
    const all = (await getJson(`${spotter.url}/v1/jobs?limit=200`, bearer(TENANT))).body.jobs.map((j: { id: string }) => j.id);
    expect(first).toEqual(all.slice(0, 20));
    await page.screenshot({ path: path.join(SHOTS, 'jobs.png'), fullPage: true });

    await page.getByRole('button', { name: 'Older' }).click();
    await expect.poll(async () => (await ids())[0]).toBe(all[20]);
    const second = await ids();
    expect(second).toEqual(all.slice(20, 40));
    for (const id of otherJobIds) expect([...first, ...second]).not.toContain(id);
    await page.getByRole('button', { name: 'Newer' }).click();
    await expect.poll(async () => (await ids())[0]).toBe(all[0]);

    // A new job shows up on the first page without a reload.
    const [fresh] = await submitJobs(spotter, TENANT, 1);
    await expect.poll(async () => (await ids())[0], { timeout: 15_000 }).toBe(fresh.id);

    await page.goto(`${spotter.url}/console/#/jobs/${tryJobId}`);
    await page.locator('[data-role="job-detail"][data-status="succeeded"]').waitFor();
    await page.locator('.annotated img').waitFor();
    // Another key's job reads as not found, never as its content.
    await page.goto(`${spotter.url}/console/#/jobs/${otherJobIds[0]}`);
    expect(await page.locator('.error').textContent()).toMatch(/^No job with id/);
  });

  it('Videos: uploads a clip, follows its progress, plays the annotated clip with the counts chart under it', async () => {
    const clip = path.join(await mkdtemp(path.join(os.tmpdir(), 'spotter-console-video-')), 'crowd.mp4');
    await run('ffmpeg', ['-v', 'error', '-nostdin', '-i', path.join(root, '..', 'shared', 'datasets', 'videos', 'supervision_walking.mp4'), '-t', '3', '-c', 'copy', '-y', clip]);
    const { page } = tenantPage;
    await page.goto(`${spotter.url}/console/#/videos`);
    await page.setInputFiles('#video-file', clip);
    await page.fill('#video-fps', '10');
    await page.getByRole('button', { name: 'Upload and track' }).click();
    await page.waitForURL(/#\/videos\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    await page.locator('[data-video-status="succeeded"]').waitFor({ timeout: 120_000 });
    // The annotated clip plays in the page: Chromium decoded its first frame.
    await expect.poll(() => page.locator('video[data-role="annotated"]').evaluate((v) => (v as unknown as { videoWidth: number }).videoWidth), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.locator('[data-role="counts-chart"] canvas').waitFor();
    const view = (await getJson(`${spotter.url}/v1/videos/${id}`, bearer(TENANT))).body;
    expect(await page.locator('.status').first().textContent()).toBe(`Done: ${view.summary.frames} frames, ${view.summary.tracks} tracks, ${view.summary.realtime_factor}× realtime.`);
    expect(view.summary.tracks).toBeGreaterThan(1);
    await page.screenshot({ path: path.join(SHOTS, 'video.png'), fullPage: true });
    // A video that is not this key's (or none) reads as a sentence.
    await page.goto(`${spotter.url}/console/#/videos/00000000-0000-4000-8000-000000000000`);
    expect(await page.locator('.error').textContent()).toMatch(/^No video with id/);
  });

  it('Monitoring: drift table and charts with data after traffic, against a reference built from a window', async () => {
    const { page } = adminPage;
    await page.goto(`${spotter.url}/console/#/monitoring`);
    await enterKey(page, ADMIN);
    // Every job so far becomes the reference; then a window of fresh traffic.
    await page.fill('#ref-minutes', '30');
    await page.click('[data-action="make-reference"]');
    await expect.poll(() => page.locator('main [role="status"]').textContent()).toMatch(/Reference made from \d+ images/);
    await submitJobs(spotter, TENANT, 8);
    await page.selectOption('#mon-window', { label: 'last 5 minutes' });
    await page.locator('table[data-role="drift-metrics"]').waitFor();
    await page.click('button[data-metric="brightness"]');
    const hist = page.locator('[data-role="histogram-chart"]');
    await expect.poll(async () => Number(await hist.getAttribute('data-window-images'))).toBeGreaterThan(0);
    await expect.poll(async () => Number(await page.locator('[data-role="history-chart"]').getAttribute('data-points'))).toBeGreaterThan(0);
    await hist.locator('canvas').waitFor();
    expect(await inkShare(await hist.screenshot())).toBeGreaterThan(0.01);
    expect(await page.locator('[data-role="drift-summary"]').getAttribute('data-status')).not.toBe('insufficient_data');
    // Service health has its own table, one row per objective, apart from the model's metrics.
    const service = page.locator('table[data-role="service-health"]');
    expect(await service.locator('tbody tr').count()).toBe(3);
    expect(await page.locator('table[data-role="drift-metrics"] button[data-metric="queue_seconds"]').count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'monitoring.png'), fullPage: true });
  });

  it('Models: a tenant reads a sentence; an admin starts, promotes and rolls back with confirmation', async () => {
    const t = tenantPage.page;
    await t.goto(`${spotter.url}/console/#/models`);
    await t.locator('[data-role="needs-admin"]').waitFor();
    expect(await t.locator('table[data-role="models"] tbody tr').count()).toBe(2);

    const { page } = adminPage;
    await page.goto(`${spotter.url}/console/#/models`);
    const rollout = page.locator('[data-role="rollout"]');
    await rollout.waitFor();
    expect(await rollout.getAttribute('data-live')).toBe('yolox_nano');
    await page.selectOption('#rollout-candidate', 'yolox_nano_strict');
    await page.click('[data-action="start"]');
    await expect.poll(() => rollout.getAttribute('data-mode')).toBe('shadow');
    await page.screenshot({ path: path.join(SHOTS, 'models.png'), fullPage: true });

    // Cancel first: nothing changes.
    await page.click('[data-action="promote"]');
    await page.click('#confirm-dialog button[value="cancel"]');
    expect(await rollout.getAttribute('data-mode')).toBe('shadow');
    await page.click('[data-action="promote"]');
    await page.click('#confirm-dialog button[value="confirm"]');
    await expect.poll(() => rollout.getAttribute('data-live')).toBe('yolox_nano_strict');
    expect((await getJson(`${spotter.url}/v1/rollout`, bearer(ADMIN))).body).toMatchObject({ live: 'yolox_nano_strict', mode: 'none' });

    await page.selectOption('#rollout-candidate', 'yolox_nano');
    await page.selectOption('#rollout-mode', 'canary');
    await page.fill('#rollout-amount', '0.2');
    await page.click('[data-action="start"]');
    await expect.poll(() => rollout.getAttribute('data-mode')).toBe('canary');
    await page.click('[data-action="rollback"]');
    await page.click('#confirm-dialog button[value="confirm"]');
    await expect.poll(() => rollout.getAttribute('data-mode')).toBe('none');
    expect((await getJson(`${spotter.url}/v1/rollout`, bearer(ADMIN))).body).toMatchObject({ live: 'yolox_nano_strict', mode: 'none', last_event: { action: 'rolled_back' } });
  });

  it('Reports: a report stored by spotter eval --store is listed and opens under a no-script CSP', async () => {
    // An eight-image slice of the dataset keeps the evaluation short.
    const data = await mkdtemp(path.join(os.tmpdir(), 'spotter-console-data-'));
    await mkdir(path.join(data, 'images'));
    await mkdir(path.join(data, 'labels'));
    await copyFile(path.join(DATASET, 'classes.yaml'), path.join(data, 'classes.yaml'));
    for (const f of (await readdir(path.join(DATASET, 'images'))).sort().slice(0, 8)) {
      await symlink(path.join(DATASET, 'images', f), path.join(data, 'images', f));
      await copyFile(path.join(DATASET, 'labels', f.replace(/\.jpg$/, '.txt')), path.join(data, 'labels', f.replace(/\.jpg$/, '.txt'))).catch(() => undefined);
    }
    const config = loadConfig({ SPOTTER_MODEL_DIR: MODEL_DIR, SPOTTER_STORAGE: spotter.env.SPOTTER_STORAGE });
    const out = await mkdtemp(path.join(os.tmpdir(), 'spotter-console-eval-'));
    const report = await evalCommand({ data, out, storage: await createStorage(config.storage) }, config);
    expect(report.stored).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{6}$/);

    const { page } = tenantPage;
    await page.goto(`${spotter.url}/console/#/reports`);
    const link = page.locator(`a[data-report-id="${report.stored}"]`);
    await link.waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'reports.png'), fullPage: true });
    const [opened] = await Promise.all([tenant.waitForEvent('page'), link.click()]);
    await opened.locator('#metrics tr').first().waitFor();
    expect(opened.url()).toBe(`${spotter.url}/reports/${report.stored}`);
    expect(await opened.locator('#metrics tr').count()).toBe(12);
    await opened.screenshot({ path: path.join(SHOTS, 'report.png') });
    await opened.close();
    const unauthorised = await fetch(`${spotter.url}/reports/${report.stored}`);
    expect(unauthorised.status).toBe(401);
    const html = await fetch(`${spotter.url}/reports/${report.stored}`, { headers: bearer(TENANT) });
    const csp = html.headers.get('content-security-policy')!;
    expect(csp).toMatch(/^default-src 'none';.*sandbox$/);
    expect(csp).not.toMatch(/script-src/);
    expect((await getJson(`${spotter.url}/v1/reports`, bearer(OTHER))).body.reports[0].id).toBe(report.stored);
    expect((await fetch(`${spotter.url}/v1/reports/nope`, { headers: bearer(TENANT) })).status).toBe(404);
  });

  it('no page logged an error or broke the CSP', async () => {
    for (const w of [tenantPage, adminPage]) {
      expect(w.errors).toEqual([]);
      expect(w.violations).toEqual([]);
    }
  });
});
