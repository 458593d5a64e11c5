import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildReport,
  compareReports,
  EVAL_DEFAULTS,
  loadDataset,
  predictDataset,
  readPredictionsFile,
  renderReportHtml,
  renderSideBySide,
  subsetDataset,
  type DatasetImage,
  type Prediction,
  type Report,
} from '@spotter/evaluation';
import type { Config } from '@spotter/config';
import { ModelRegistry } from '@spotter/models';
import { ModelError, type RegisteredModel } from '@spotter/shared';
import { createStorage, storageKeys, type ObjectStorage } from '@spotter/storage';
import { specFromManifest } from '@spotter/vision';

/**
 * A registered model (a seed of SPOTTER_MODEL_DIR or one stored with `models add`, its file
 * fetched by sha256), or a path to an .onnx file (family and pre-processing read from it). Its
 * eval_report is not read: evaluating is how a model gets one (or a fresh one).
 */
export async function resolveModel(nameOrPath: string, config: Config): Promise<RegisteredModel> {
  if (nameOrPath.endsWith('.onnx')) {
    const registry = await ModelRegistry.ofFile(nameOrPath);
    const model = registry.get(registry.defaultName);
    if (model.problem) throw new ModelError(`model "${model.name}": ${model.problem}`);
    return model;
  }
  const registry = await ModelRegistry.load(config.model.dir, config.model.name, { storage: await createStorage(config.storage), cacheDir: config.model.cacheDir, reports: false });
  try {
    const model = await registry.find(nameOrPath);
    return { ...model, path: await registry.localFile(model) };
  } finally {
    registry.close();
  }
}

export interface EvalOptions {
  data: string;
  out: string;
  model?: string | undefined;
  /** A model to evaluate that is not registered (yet): `models add --eval`. */
  registered?: RegisteredModel | undefined;
  predictions?: string | undefined;
  /** A report.json of an earlier evaluation, or a model to evaluate as the baseline. */
  baseline?: string | undefined;
  /** JSON file: { "<image file name>": ["tag", ...] } for user-defined slices. */
  tags?: string | undefined;
  /** Also keep report.json and report.html in Spotter's storage (`--store`), for the API and the console. */
  storage?: ObjectStorage | undefined;
  /** Evaluate only the images this keeps (a held-out split). */
  images?: ((image: DatasetImage) => boolean) | undefined;
}

/** A stored report's id: sortable by time, unique without coordination. */
export function reportId(at = new Date()): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomBytes(3).toString('hex')}`;
}

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

/** `spotter eval`: report.json, report.html and predictions.json for a model or a predictions file on a dataset. */
export async function evalCommand(
  opts: EvalOptions,
  config: Config,
): Promise<Report & { baseline: ReturnType<typeof compareReports> | null; stored?: string }> {
  const all = await loadDataset(path.resolve(opts.data));
  const dataset = opts.images ? subsetDataset(all, opts.images) : all;
  if (dataset.images.length === 0) throw new Error(`no images of ${opts.data} left to evaluate`);
  let predictions: Prediction[];
  let model: Report['model'];
  let timing: Report['timing'] = null;
  // The operating point is measured as the model serves: the manifest's score floor over the
  // default min_score (0.25), its NMS IoU and cap. A predictions file is taken as YOLOX defaults.
  let serving = { score: 0.25, nms: { iou: 0.45, maxDetections: 300 } };
  if (opts.predictions) {
    predictions = await readPredictionsFile(opts.predictions);
    model = { predictions: path.resolve(opts.predictions) };
  } else {
    const manifest = opts.registered ?? (await resolveModel(opts.model ?? config.model.name, config));
    const spec = { ...specFromManifest(manifest, manifest.version), iouThreshold: EVAL_DEFAULTS.iouThreshold, maxDetections: EVAL_DEFAULTS.maxDetections };
    const run = await predictDataset(dataset, spec, manifest.path, config.model, { minScore: EVAL_DEFAULTS.minScore, maxPixels: config.images.maxPixels, onProgress: progress });
    predictions = run.predictions;
    timing = { seconds: Math.round(run.seconds * 1000) / 1000, images_per_s: Math.round((dataset.images.length / run.seconds) * 10) / 10 };
    model = { name: manifest.name, version: run.version, path: manifest.path };
    serving = { score: Math.max(0.25, manifest.score_threshold), nms: { iou: manifest.nms_iou, maxDetections: manifest.max_detections } };
  }
  const tags = opts.tags ? (JSON.parse(await readFile(opts.tags, 'utf8')) as Record<string, string[]>) : undefined;
  const report = await buildReport({
    dataset,
    datasetPath: path.resolve(opts.data),
    predictions,
    model,
    timing,
    tags,
    params: { ...EVAL_DEFAULTS },
    operatingScore: serving.score,
    servingNms: serving.nms,
  });

  let baseline = null;
  if (opts.baseline) {
    const base: Report = opts.baseline.endsWith('.json')
      ? JSON.parse(await readFile(opts.baseline, 'utf8'))
      : await evalCommand({ data: opts.data, out: path.join(opts.out, 'baseline'), model: opts.baseline, tags: opts.tags, images: opts.images }, config);
    baseline = compareReports(report, base);
  }

  await mkdir(path.join(opts.out, 'worst'), { recursive: true });
  const names = new Map(dataset.categories.map((c) => [c.id, c.name]));
  const worstImages = [];
  for (const w of report.errors.worst) {
    const image = dataset.images.find((i) => i.id === w.imageId)!;
    const jpeg = await renderSideBySide(
      image.file,
      dataset.annotations.filter((a) => a.imageId === w.imageId),
      predictions.filter((p) => p.imageId === w.imageId && p.score >= report.errors.score_threshold),
      names,
      config.images.maxPixels,
    );
    await writeFile(path.join(opts.out, 'worst', `${w.imageId}.jpg`), jpeg);
    worstImages.push({ ...w, dataUri: `data:image/jpeg;base64,${jpeg.toString('base64')}` });
  }
  const full = { ...report, baseline };
  const json = JSON.stringify(full, null, 2) + '\n';
  const html = renderReportHtml(full, worstImages);
  await writeFile(path.join(opts.out, 'report.json'), json);
  await writeFile(path.join(opts.out, 'report.html'), html);
  // The predictions as a COCO results file, so the same numbers can be recomputed with --predictions.
  const results = predictions.map((p) => ({ image_id: p.imageId, category_id: p.categoryId, bbox: p.bbox, score: p.score }));
  await writeFile(path.join(opts.out, 'predictions.json'), JSON.stringify(results));
  if (!opts.storage) return full;
  const id = reportId();
  // HTML first: a listed report.json always has its page.
  await opts.storage.put(storageKeys.report(id, 'report.html'), Buffer.from(html), 'text/html; charset=utf-8');
  await opts.storage.put(storageKeys.report(id, 'report.json'), Buffer.from(json), 'application/json');
  return { ...full, stored: id };
}
