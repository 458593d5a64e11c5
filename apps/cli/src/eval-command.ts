import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { specFromManifest } from '@spotter/detector';
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
  /** A report.json of an earlier evaluation, or a model to evaluate as the baseline. */
  baseline?: string | undefined;
  /** JSON file: { "<image file name>": ["tag", ...] } for user-defined slices. */
  tags?: string | undefined;
  /** Evaluate only the images this keeps (a held-out split). */
  images?: ((image: DatasetImage) => boolean) | undefined;
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
export async function evalCommand(opts: EvalOptions, config: Config): Promise<Report & { baseline: ReturnType<typeof compareReports> | null }> {
  const all = await loadDataset(path.resolve(opts.data));
  const dataset = opts.images ? subsetDataset(all, opts.images) : all;
  if (dataset.images.length === 0) throw new Error(`no images of ${opts.data} left to evaluate`);
  let predictions: Prediction[];
  let model: Report['model'];
  let timing: Report['timing'] = null;
  if (opts.predictions) {
    predictions = await readPredictionsFile(opts.predictions);
    model = { predictions: path.resolve(opts.predictions) };
  } else {
    const manifest = await resolveModel(opts.model ?? config.model.name, config);
    const spec = { ...specFromManifest(manifest), iouThreshold: EVAL_DEFAULTS.iouThreshold, maxDetections: EVAL_DEFAULTS.maxDetections };
    const run = await predictDataset(dataset, spec, config.model, { minScore: EVAL_DEFAULTS.minScore, maxPixels: config.images.maxPixels, onProgress: progress });
    predictions = run.predictions;
    timing = { seconds: Math.round(run.seconds * 1000) / 1000, images_per_s: Math.round((dataset.images.length / run.seconds) * 10) / 10 };
    model = { name: manifest.name, version: run.version, path: manifest.path };
  }
  const tags = opts.tags ? (JSON.parse(await readFile(opts.tags, 'utf8')) as Record<string, string[]>) : undefined;
  const report = await buildReport({ dataset, datasetPath: path.resolve(opts.data), predictions, model, timing, tags, params: { ...EVAL_DEFAULTS } });

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
  await writeFile(path.join(opts.out, 'report.json'), JSON.stringify(full, null, 2) + '\n');
  await writeFile(path.join(opts.out, 'report.html'), renderReportHtml(full, worstImages));
  // The predictions as a COCO results file, so the same numbers can be recomputed with --predictions.
  const results = predictions.map((p) => ({ image_id: p.imageId, category_id: p.categoryId, bbox: p.bbox, score: p.score }));
  await writeFile(path.join(opts.out, 'predictions.json'), JSON.stringify(results));
  return full;
}
