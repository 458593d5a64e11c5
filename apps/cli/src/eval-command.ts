import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { specFromManifest } from '@spotter/detector';
import {
  EVAL_DEFAULTS,
  evaluate,
  loadDataset,
  perCategoryAp,
  predictDataset,
  readPredictionsFile,
  summarize,
  IOU_THRESHOLDS,
  precisionCurve,
  RECALL_THRESHOLDS,
  renderReportHtml,
  type Prediction,
} from '@spotter/evaluation';
import { loadModelRegistry, ModelManifest, type Config } from '@spotter/shared';

/** A registered model name, or a path to an .onnx file (taken as a YOLOX COCO export). */
export async function resolveModel(nameOrPath: string, config: Config) {
  if (nameOrPath.endsWith('.onnx')) {
    const file = path.resolve(nameOrPath);
    return { ...ModelManifest.parse({ name: path.basename(file, '.onnx').replace(/[^a-z0-9_.-]/gi, '_'), file: path.basename(file) }), path: file };
  }
  const registry = await loadModelRegistry(config.model.dir, config.model.name);
  const manifest = registry.get(nameOrPath);
  if (!manifest) throw new Error(`unknown model "${nameOrPath}"; registered: ${[...registry.keys()].join(', ')}`);
  return manifest;
}

export interface EvalOptions {
  data: string;
  out: string;
  model?: string | undefined;
  predictions?: string | undefined;
}

const round = (v: number) => Math.round(v * 10000) / 10000;

function progress(done: number, total: number) {
  // A bar on a terminal; a line every quarter in logs.
  if (!process.stderr.isTTY) {
    if (done === total || done % Math.ceil(total / 4) === 0) process.stderr.write(`evaluated ${done}/${total} images\n`);
    return;
  }
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
}

/** `spotter eval`: COCO metrics of a model (or a predictions file) on a dataset; writes report.json. */
export async function evalCommand(opts: EvalOptions, config: Config) {
  const dataset = await loadDataset(path.resolve(opts.data));
  let predictions: Prediction[];
  let model: { name: string; version: string; path?: string } | { predictions: string };
  let seconds: number | null = null;
  if (opts.predictions) {
    predictions = await readPredictionsFile(opts.predictions);
    model = { predictions: path.resolve(opts.predictions) };
  } else {
    // --model is a registered name (file in SPOTTER_MODEL_DIR) or a path to an .onnx file.
    const spec = specFromManifest(await resolveModel(opts.model ?? config.model.name, config));
    const run = await predictDataset(
      dataset,
      { ...spec, iouThreshold: EVAL_DEFAULTS.iouThreshold, maxDetections: EVAL_DEFAULTS.maxDetections },
      config.model,
      { minScore: EVAL_DEFAULTS.minScore, maxPixels: config.images.maxPixels, onProgress: progress },
    );
    predictions = run.predictions;
    seconds = run.seconds;
    model = { name: spec.name, version: run.version, path: spec.path };
  }
  const result = evaluate(dataset.annotations, predictions, dataset.images.map((i) => i.id), dataset.categories.map((c) => c.id));
  const metrics = Object.fromEntries(Object.entries(summarize(result)).map(([k, v]) => [k, round(v)]));
  const perCat = perCategoryAp(result);
  const ap50 = (k: number) => {
    const vals = result.precision[0]!.map((byK) => byK[k]![0]![2]!).filter((v) => v > -1);
    return vals.length ? round(vals.reduce((a, b) => a + b, 0) / vals.length) : -1;
  };
  const gtCount = new Map<number, number>();
  for (const a of dataset.annotations) if (!a.iscrowd) gtCount.set(a.categoryId, (gtCount.get(a.categoryId) ?? 0) + 1);
  const report = {
    dataset: { name: dataset.name, path: path.resolve(opts.data), images: dataset.images.length, objects: dataset.annotations.length },
    model,
    params: {
      ...EVAL_DEFAULTS,
      iou_thresholds: IOU_THRESHOLDS,
      recall_points: 101,
      max_dets: [1, 10, 100],
      predictions: predictions.length,
    },
    metrics,
    per_class: result.categoryIds
      .map((id, k) => ({ id, name: dataset.categories.find((c) => c.id === id)?.name ?? String(id), objects: gtCount.get(id) ?? 0, ap: round(perCat.get(id)!), ap50: ap50(k) }))
      .filter((c) => c.objects > 0),
    pr_curves: [0.5, 0.75].map((iou) => ({
      label: `IoU ${iou}`,
      recall: RECALL_THRESHOLDS,
      precision: precisionCurve(result, IOU_THRESHOLDS.indexOf(iou)).map(round),
    })),
    timing: seconds === null ? null : { seconds: round(seconds), images_per_s: round(dataset.images.length / seconds) },
  };
  await mkdir(opts.out, { recursive: true });
  await writeFile(path.join(opts.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  await writeFile(path.join(opts.out, 'report.html'), renderReportHtml(report));
  // The predictions as a COCO results file, so the same numbers can be recomputed with --predictions.
  const results = predictions.map((p) => ({ image_id: p.imageId, category_id: p.categoryId, bbox: p.bbox, score: p.score }));
  await writeFile(path.join(opts.out, 'predictions.json'), JSON.stringify(results));
  return report;
}
