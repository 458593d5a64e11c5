import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetFiles, evaluatedModelDir, subsetDataset, truthOf } from '../support/quality.js';
import { DATASET, getJson, postForm, startSpotter, type Spotter } from '../support/spotter.js';
import { until } from '../support/until.js';

interface Row {
  name: string;
  status: string;
  score: number;
  fired_at?: string[];
  warmup?: { source: string | null; values: number };
}
const REASONS = ['shadow_disagreement', 'drifted_input', 'rare_class', 'low_confidence'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('model quality monitoring: evaluation baseline, Page-Hinkley per window, slices, what to label', () => {
  let spotter: Spotter;
  let files: string[];
  let images: Buffer[];
  const referenceHalf: number[] = [];
  const holdout: number[] = [];
  let dropWindow: { from: string; to: string };

  /** Feedback with the true boxes of dataset image `index` (or another image's, to shuffle). */
  async function feedback(job: any, index: number) {
    const { width, height } = job.result.image;
    const res = await fetch(`${spotter.url}/v1/jobs/${job.id}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ boxes: await truthOf(files[index]!, width, height) }) });
    expect(res.status).toBe(202);
  }

  /**
   * Serves images (8 in flight) in a time window of its own; `labelOf(i)` names the dataset
   * image whose labels to send as feedback for the i-th (none when it returns undefined), sent
   * once every job has answered, in the images' order: Page-Hinkley reads feedback in arrival
   * order, which must not depend on which job finished first.
   */
  async function serve(bodies: Buffer[], labelOf: (i: number) => number | undefined = () => undefined) {
    await sleep(1200); // profiles are cut into 1 s buckets here: start in a fresh one
    const from = new Date();
    const jobs: any[] = new Array(bodies.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < bodies.length) {
          const i = next++;
          const { body } = await postForm(`${spotter.url}/v1/jobs`, bodies[i]!);
          const job = (await getJson(`${spotter.url}/v1/jobs/${body.id}?wait=30`)).body;
          expect(job.status).toBe('succeeded');
          jobs[i] = job;
        }
      }),
    );
    for (const [i, job] of jobs.entries()) {
      const label = labelOf(i);
      if (label !== undefined) await feedback(job, label);
    }
    // A job is counted just after its answer: the window ends once it holds them all.
    let to = '';
    await until(async () => {
      to = new Date(Date.now() + 1).toISOString();
      const counted = (await getJson(`${spotter.url}/v1/monitoring/drift?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to)}`)).body.window.count;
      return counted >= bodies.length ? true : undefined;
    });
    return { from: from.toISOString(), to, jobs };
  }

  const drift = async (w: { from: string; to: string }, slice?: string) =>
    (await getJson(`${spotter.url}/v1/monitoring/drift?from=${encodeURIComponent(w.from)}&to=${encodeURIComponent(w.to)}${slice ? `&slice=${slice}` : ''}`)).body;
  const row = (d: { metrics: Row[] }, name: string) => d.metrics.find((m) => m.name === name)!;
  const flagged = (d: { metrics: Row[] }) => d.metrics.filter((m) => m.status === 'alarm' || m.status === 'warn').map((m) => `${m.name}:${m.status}`).join(', ');

  beforeAll(async () => {
    files = await datasetFiles();
    images = await Promise.all(files.map((f) => readFile(path.join(DATASET, 'images', f))));
    files.forEach((_, i) => (i % 2 === 0 ? referenceHalf : holdout).push(i));
    // The live model evaluated on the reference half; its report gives the monitoring a baseline.
    const dir = await evaluatedModelDir({ yolox_nano: {} }, await subsetDataset(referenceHalf.map((i) => files[i]!)));
    // A shadow candidate for the labelling test: the same file behind a 0.5 score floor.
    await writeFile(path.join(dir, 'yolox_nano_halved.model.json'), JSON.stringify({ name: 'yolox_nano_halved', file: 'yolox_nano.onnx', score_threshold: 0.5 }));
    spotter = await startSpotter({ SPOTTER_MONITOR_BUCKET_S: '1', SPOTTER_MODEL_DIR: dir });
    // The reference: served traffic, no labels at all.
    const w = await serve(referenceHalf.map((i) => images[i]!));
    const res = await fetch(`${spotter.url}/v1/monitoring/reference`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ from: w.from, to: w.to }) });
    expect(res.status).toBe(201);
  });
  afterAll(() => spotter?.stop());

  it('judges feedback against the evaluation report when the reference has no labels: true labels read ok, shuffled ones alarm', async () => {
    const good = await drift(await serve(holdout.map((i) => images[i]!), (i) => holdout[i]));
    expect(good.reference).toMatchObject({ count: 64, labelled: 0 });
    expect(good.window).toMatchObject({ count: 64, labelled: 64 });
    expect(good.baseline).toBe('evaluation_report');
    expect(good.baseline_metrics).toMatchObject({ source: 'eval/yolox_nano.json', labelled: 64 });
    console.info(`baseline ${JSON.stringify(good.baseline_metrics)}; window ${['precision', 'recall', 'f1', 'ap50', 'f1_page_hinkley'].map((n) => `${n} ${row(good, n).score.toFixed(3)}`).join(', ')}`);
    expect(row(good, 'f1').status, flagged(good)).toBe('ok');
    for (const name of ['precision', 'recall', 'ap50']) expect(['ok', 'warn'], `${name}: ${flagged(good)}`).toContain(row(good, name).status);
    // Per-image F1 is noisy: the statistic may come near the threshold (warn), but does not fire.
    expect(row(good, 'f1_page_hinkley')).toMatchObject({ fired_at: [], warmup: { source: 'evaluation_report', values: 64 } });
    expect(['ok', 'warn']).toContain(row(good, 'f1_page_hinkley').status);

    // The same window cut to small objects: its own boxes, share and feedback, the same baseline.
    const small = await drift({ from: good.window.from, to: good.window.to }, 'small');
    expect(small.slice).toEqual({ name: 'small', classes: null });
    expect(small.baseline).toBe('evaluation_report');
    expect(small.metrics.map((m: Row) => m.name)).toEqual(['score', 'class', 'box_share', 'precision', 'recall', 'f1', 'ap50']);
    expect(row(small, 'box_share').status).not.toBe('insufficient_data');
    const rare = await drift({ from: good.window.from, to: good.window.to }, 'rare');
    expect(rare.slice.classes.length).toBeGreaterThan(0);
    expect((await getJson(`${spotter.url}/v1/monitoring/drift?slice=tiny`)).body.error.code).toBe('UNKNOWN_SLICE');

    const shuffledWindow = await serve(holdout.map((i) => images[i]!), (i) => holdout[(i + 7) % holdout.length]);
    const shuffled = await drift(shuffledWindow);
    expect(shuffled.baseline).toBe('evaluation_report');
    expect(row(shuffled, 'f1').status, flagged(shuffled)).toBe('alarm');
    expect(shuffled.status).toBe('alarm');
    dropWindow = shuffledWindow;
  });

  it('fires Page-Hinkley in the window where F1 drops, and not in a later window of good feedback', async () => {
    const drop = row(await drift(dropWindow), 'f1_page_hinkley');
    expect(drop.status).toBe('alarm');
    expect(drop.fired_at!.length).toBeGreaterThanOrEqual(1);
    for (const at of drop.fired_at!) {
      expect(at >= dropWindow.from && at < dropWindow.to, `${at} in [${dropWindow.from}, ${dropWindow.to})`).toBe(true);
    }
    const later = await drift(await serve(holdout.map((i) => images[i]!), (i) => holdout[i]));
    expect(row(later, 'f1').status, flagged(later)).toBe('ok');
    expect(row(later, 'f1_page_hinkley').fired_at).toEqual([]);
    expect(['ok', 'warn']).toContain(row(later, 'f1_page_hinkley').status);
  });

  it('names the jobs most worth labelling, by reason, and offers others once those are labelled', async () => {
    const admin = (route: string, body: unknown) => fetch(`${spotter.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await admin('/v1/rollout', { mode: 'shadow', candidate: 'yolox_nano_halved', every: 1, guards: { min_jobs: 1000 } })).status).toBe(201);
    // Half of the window darkened (its brightness drifts), half as usual; the shadow disagrees here and there.
    const picked = holdout.slice(0, 32);
    const bodies = await Promise.all(picked.map((i, k) => (k % 2 ? sharp(images[i]!).linear(0.3, 0).jpeg({ quality: 90 }).toBuffer() : images[i]!)));
    const w = await serve(bodies);
    await until(async () => ((await getJson(`${spotter.url}/v1/rollout`)).body.shadow.jobs === 32 ? true : undefined));
    expect((await admin('/v1/rollout/rollback', {})).status).toBe(200);
    const indexOf = new Map<string, number>(w.jobs.map((job, k) => [job.id, k]));

    const ask = async () => (await getJson(`${spotter.url}/v1/monitoring/labeling?budget=8&from=${encodeURIComponent(w.from)}&to=${encodeURIComponent(w.to)}`)).body;
    const first = await ask();
    expect(first.window.candidates).toBe(32);
    expect(first.drifted_metrics).toContain('brightness');
    const items: { id: string; reason: string; score: number; detail: any; image: { held: boolean } }[] = first.items;
    console.info(items.map((x) => `${x.reason} ${x.score} ${JSON.stringify(x.detail)}`).join('\n'));
    expect(items).toHaveLength(8);
    expect(new Set(items.map((x) => x.id)).size).toBe(8);
    // Ordered by reason, then by how strongly it applies.
    const order = items.map((x) => REASONS.indexOf(x.reason));
    expect(order).toEqual([...order].sort((a, b) => a - b));
    for (let k = 1; k < items.length; k++) if (items[k]!.reason === items[k - 1]!.reason) expect(items[k]!.score).toBeLessThanOrEqual(items[k - 1]!.score);
    const reasons = new Set(items.map((x) => x.reason));
    for (const reason of ['shadow_disagreement', 'drifted_input', 'low_confidence']) expect(reasons).toContain(reason);
    for (const x of items) {
      expect(x.image.held).toBe(true);
      expect(indexOf.has(x.id)).toBe(true);
      if (x.reason !== 'drifted_input') continue;
      // Far from the reference (a bin holding under 5 % of it) on a metric that drifts in the window.
      expect(first.drifted_metrics).toContain(x.detail.metric);
      expect(x.detail.reference_share).toBeLessThan(0.05);
    }
    // The darkened images (odd positions) are among them.
    expect(items.some((x) => x.reason === 'drifted_input' && indexOf.get(x.id)! % 2 === 1)).toBe(true);

    for (const x of items) await feedback(w.jobs[indexOf.get(x.id)!], picked[indexOf.get(x.id)!]!);
    const second = await ask();
    expect(second.items.length).toBeGreaterThan(0);
    const before = new Set(items.map((x) => x.id));
    for (const x of second.items) expect(before.has(x.id), x.id).toBe(false);
  });
});
