import { compareDetections, type Detection, type JobView } from '@spotter/shared';
import { api, messageOf } from '../api.js';
import { detectionsView } from '../detections-view.js';
import { errorBox, h, liveRegion, replace, table } from '../dom.js';
import { loadEdgeModel, runEdge, wasmThreads, webGpuAvailable, type EdgeModel, type EdgeRun, type ModelManifestView } from '../edge-runtime.js';
import { bytes, ms, num } from '../format.js';
import { imagePicker, lastImage } from '../image-picker.js';
import { followJob } from '../job-parts.js';
import type { Page } from '../page.js';
import { ASKED_MIN_SCORE, submitImage } from './try-page.js';

/** Boxes compared at the score the API answers with by default. */
const COMPARE_AT = 0.25;

// Kept across visits of the page: a model is downloaded and opened once per version.
const models = new Map<string, Promise<EdgeModel>>();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Edge: the same picture through the server and through this browser, side by side. */
export const edgePage: Page = (root) => {
  const controller = new AbortController();
  const status = liveRegion();
  const env = h('p', { class: 'muted', 'data-role': 'environment' });
  const picker = h('select', { id: 'edge-model' });
  const out = h('div', { class: 'edge-out' });

  void (async () => {
    const gpu = await webGpuAvailable();
    env.textContent = `This browser: ${gpu ? 'WebGPU available' : 'no WebGPU adapter, WASM'}; ${globalThis.crossOriginIsolated ? `cross-origin isolated, ${wasmThreads()} WASM threads` : 'not cross-origin isolated, 1 WASM thread'}.`;
    try {
      const { models: list } = await api<{ models: { name: string; role: string | null; available: boolean }[] }>('/v1/models');
      replace(picker, ...list.filter((m) => m.available).map((m) => h('option', { value: m.name, selected: m.role === 'live' }, `${m.name}${m.role ? ` (${m.role})` : ''}`)));
    } catch (err) {
      replace(out, errorBox(messageOf(err)));
    }
  })();

  function modelFor(name: string, onProgress: (done: number, total: number) => void) {
    let p = models.get(name);
    if (!p) {
      p = api<ModelManifestView>(`/v1/models/${encodeURIComponent(name)}`).then((m) => loadEdgeModel(m, onProgress));
      models.set(name, p);
      p.catch(() => models.delete(name));
    }
    return p;
  }

  async function run(file: File) {
    lastImage.file = file;
    const name = picker.value;
    if (!name) return;
    replace(out);
    status.textContent = 'Running on the server and in this browser…';
    const progress = h('progress', { max: 1, value: 0, 'aria-label': 'Model download' });
    out.append(progress);
    try {
      const server = (async () => {
        // The server runs the model picked here, whatever the rollout routes to.
        const created = await submitImage(file, ASKED_MIN_SCORE, name);
        const job = await followJob(created.id, () => undefined, controller.signal);
        if (job.status !== 'succeeded' || !job.result) throw new Error(`the server job ${job.status}: ${job.error?.message ?? ''}`);
        return job;
      })();
      const model = await modelFor(name, (done, total) => {
        progress.max = total || done;
        progress.value = done;
      });
      const browser = await runEdge(model, file, ASKED_MIN_SCORE);
      const job = await server;
      status.textContent = `Done: ${model.name} ran on ${model.backend === 'webgpu' ? 'WebGPU' : `WASM with ${model.threads} thread${model.threads > 1 ? 's' : ''}`}.`;
      show(job, model, browser, file);
    } catch (err) {
      status.textContent = '';
      replace(out, errorBox(messageOf(err)));
    }
  }

  function show(job: JobView, model: EdgeModel, browser: EdgeRun, file: File) {
    const result = job.result!;
    const url = URL.createObjectURL(file);
    const common = { imageUrl: url, width: result.image.width, height: result.image.height, minScore: COMPARE_AT };
    const server = detectionsView({ ...common, detections: result.detections, source: 'server', title: `Server (${result.model.name})` });
    const local = detectionsView({ ...common, detections: browser.detections, source: 'browser', title: `This browser (${model.backend})` });
    const atScore = (ds: readonly Detection[]) => ds.filter((d) => d.score >= COMPARE_AT);
    const a = compareDetections(atScore(result.detections), atScore(browser.detections), 0.5);
    const t = job.timings_ms!;
    const agreement = h(
      'dl',
      { class: 'agreement', 'data-role': 'agreement', 'data-matched': a.matched, 'data-server-boxes': a.live_boxes, 'data-browser-boxes': a.candidate_boxes, 'data-class-flips': a.class_flips, 'data-max-score-delta': a.max_score_delta },
      h('dt', {}, `Matched boxes (IoU ≥ 0.5, score ≥ ${COMPARE_AT})`),
      h('dd', {}, `${a.matched} of ${a.live_boxes} server boxes (the browser found ${a.candidate_boxes})`),
      h('dt', {}, 'Class flips'),
      h('dd', {}, String(a.class_flips)),
      h('dt', {}, 'Largest score difference'),
      h('dd', {}, num(a.max_score_delta, 4)),
    );
    const timing = table(
      'Time per stage',
      ['Stage', 'Server (worker)', 'This browser'],
      [
        ['Decode and preprocess', ms(t.decode), ms(browser.timings.decode)],
        ['Inference', ms(t.inference), ms(browser.timings.inference)],
        ['Postprocess', ms(t.postprocess), ms(browser.timings.postprocess)],
        ['Queue, download, total', `${ms(t.queue)}, ${ms(t.download)}, ${ms(t.total)}`, '–'],
      ],
      { 'data-role': 'edge-timings', 'data-browser-inference': browser.timings.inference, 'data-server-inference': t.inference },
    );
    const dl = model.download;
    const modelInfo = h(
      'p',
      { 'data-role': 'model-download', 'data-bytes': dl.bytes, 'data-ms': Math.round(dl.ms), 'data-backend': model.backend, 'data-threads': model.threads },
      `Model ${model.name} (${model.version}): ${bytes(dl.bytes)} downloaded in ${ms(dl.ms)}${dl.fromCache ? ' (from the browser cache)' : ''}; opened and warmed up in ${ms(model.loadMs)}.`,
    );
    const repeat = h('button', { type: 'button', 'data-role': 'repeat' }, 'Time 5 more runs in this browser');
    const repeated = h('p', { 'data-role': 'repeat-result', role: 'status' });
    repeat.addEventListener('click', async () => {
      repeat.disabled = true;
      const runs: EdgeRun[] = [];
      for (let i = 0; i < 5; i++) runs.push(await runEdge(model, file, ASKED_MIN_SCORE));
      const med = (k: keyof EdgeRun['timings']) => median(runs.map((r) => r.timings[k]));
      repeated.dataset.inferenceMedian = String(med('inference'));
      repeated.textContent = `Median of 5 runs: decode ${ms(med('decode'))}, inference ${ms(med('inference'))}, postprocess ${ms(med('postprocess'))}.`;
      repeat.disabled = false;
    });
    replace(out, h('div', { class: 'side-by-side' }, server.element, local.element), h('h2', {}, 'Agreement'), agreement, h('h2', {}, 'Timing'), modelInfo, timing, repeat, repeated);
  }

  const again = h('button', { type: 'button', class: 'button' }, 'Use the picture from Try');
  again.addEventListener('click', () => lastImage.file && void run(lastImage.file));
  again.hidden = !lastImage.file;

  replace(
    root,
    h('h1', {}, 'Edge'),
    h('p', { class: 'lead' }, 'The same model, downloaded from this server, runs in your browser with onnxruntime-web; pre- and post-processing are the very code the workers run.'),
    env,
    h('div', { class: 'field' }, h('label', { for: 'edge-model' }, 'Model'), picker),
    imagePicker((f) => void run(f), 'edge'),
    again,
    status,
    out,
  );
  return () => controller.abort();
};
