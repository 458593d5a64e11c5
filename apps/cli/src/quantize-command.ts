import { createHash } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import { readdir, readFile, realpath, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Report } from '@spotter/evaluation';
import {
  calibrationTensors,
  DEFAULT_CHROMIUM,
  DEFAULT_QUANTIZE,
  quantizeModel,
  splitCalibration,
  timeInBrowser,
  timeInNode,
  type CalibrationMethod,
  type Timing,
} from '@spotter/quantize';
import type { Config } from '@spotter/config';
import { ModelManifest } from '@spotter/shared';
import { planForFile, specFromManifest } from '@spotter/vision';
import { evalCommand, resolveModel } from './eval-command.js';

const IMAGE = /\.(jpe?g|png|webp|bmp|tiff?)$/i;

export interface QuantizeCommandOptions {
  model: string;
  /** An image folder, or a dataset folder (its images/). */
  calibration: string;
  /** How many calibration images to use (of the even-indexed half). */
  images?: number | undefined;
  method?: CalibrationMethod | undefined;
  out: string;
  /** A labelled dataset to evaluate on; by default the calibration folder, when it is one. */
  evalData?: string | undefined;
  /** Nodes kept in float (regular expression on their output names), instead of the default's. */
  keepFloat?: string | undefined;
  /** Inference runs timed per model and runtime. */
  runs?: number | undefined;
  /** Chromium for the browser timing; none: skip it. */
  chromium?: string | null | undefined;
}

/** Image files of a folder, or of its images/ when it is a dataset, sorted. */
async function imageFiles(dir: string): Promise<string[]> {
  const folder = existsSync(path.join(dir, 'images')) ? path.join(dir, 'images') : dir;
  const files = (await readdir(folder)).filter((f) => IMAGE.test(f)).sort();
  if (files.length < 2) throw new Error(`${folder}: need at least 2 images (one half calibrates, the other is held out)`);
  return Promise.all(files.map((f) => realpath(path.join(folder, f))));
}

/**
 * `spotter quantize`: an int8 (QDQ) copy of a model, calibrated on the even-indexed half of
 * the calibration images, evaluated against the float model on the held-out half, registered
 * as `<out>.model.json` with that evaluation attached, and timed in Node and in the browser.
 */
export async function quantizeCommand(opts: QuantizeCommandOptions, config: Config) {
  if (!/^[a-z0-9_.-]{1,64}$/i.test(opts.out)) throw new Error(`--out must be a model name ([a-z0-9_.-], up to 64), got "${opts.out}"`);
  const source = await resolveModel(opts.model, config);
  const target = path.join(config.model.dir, `${opts.out}.onnx`);
  if (path.resolve(target) === path.resolve(source.path)) throw new Error(`--out ${opts.out} would overwrite the model being quantized`);
  const spec = specFromManifest(source, source.version);
  const floatBytes = await readFile(source.path);
  const plan = planForFile(spec, floatBytes);

  const split = splitCalibration(await imageFiles(opts.calibration), (f) => f);
  const calibrationFiles = split.calibration.slice(0, opts.images ?? split.calibration.length);
  const calibrationHalf = new Set(split.calibration);
  const evalData = opts.evalData ?? opts.calibration;
  if (!existsSync(path.join(evalData, 'classes.yaml')) && !existsSync(path.join(evalData, 'annotations')) && !opts.evalData) {
    throw new Error(`${opts.calibration} has no labels to evaluate with: pass --eval-data <dataset>`);
  }

  const method = opts.method ?? DEFAULT_QUANTIZE.method;
  process.stderr.write(`calibrating on ${calibrationFiles.length} images (${method})\n`);
  const inputs = await calibrationTensors(calibrationFiles, plan, config.images.maxPixels);
  const result = await quantizeModel(floatBytes, inputs, { ...DEFAULT_QUANTIZE, method, ...(opts.keepFloat ? { keepFloat: new RegExp(opts.keepFloat) } : {}) });
  await writeFile(`${target}.part`, result.bytes);
  await rename(`${target}.part`, target);

  // Registered first (evaluation loads it by name, with the source's format and labels), then
  // evaluated on the held-out images only, against the float model on the same images.
  const manifestFile = path.join(config.model.dir, `${opts.out}.model.json`);
  const evalDir = `${opts.out}.eval`;
  const manifest = ModelManifest.parse({
    name: opts.out,
    version: `int8-${method}`,
    file: path.basename(target),
    sha256: createHash('sha256').update(result.bytes).digest('hex'),
    format: source.format,
    input_size: source.input_size,
    preprocess: source.preprocess,
    decode: source.decode,
    labels: source.labels,
    score_threshold: source.score_threshold,
    nms_iou: source.nms_iou,
    max_detections: source.max_detections,
  });
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  const report = await evalCommand(
    {
      data: evalData,
      out: path.join(config.model.dir, evalDir),
      model: opts.out,
      baseline: opts.model,
      // Never an image of the calibration half, even one --images left unused.
      images: (image) => !calibrationHalf.has(realpathSync(image.file)),
    },
    config,
  );
  await writeFile(manifestFile, JSON.stringify({ ...manifest, eval_report: `${evalDir}/report.json` }, null, 2) + '\n');

  const [input] = await calibrationTensors([split.heldOut[0]!], plan, config.images.maxPixels);
  const models = [
    { name: source.name, bytes: new Uint8Array(floatBytes) },
    { name: opts.out, bytes: result.bytes },
  ];
  const runs = opts.runs ?? 50;
  const node = await timeInNode(models, input!, { runs, threads: config.model.intraOpThreads });
  const chromium = opts.chromium === undefined ? DEFAULT_CHROMIUM : opts.chromium;
  const browser = chromium && existsSync(chromium) ? await timeInBrowser(models, input!, { runs: Math.ceil(runs / 2), threads: 2, executablePath: chromium }) : null;
  return {
    model: { name: opts.out, path: target, manifest: manifestFile, eval_report: path.join(config.model.dir, evalDir, 'report.json') },
    method,
    calibration_images: calibrationFiles.length,
    held_out_images: report.dataset.images,
    quantized_ops: result.quantizedOps,
    rows: [
      { model: source.name, bytes: (await stat(source.path)).size, node: node.get(source.name)!, browser: browser?.get(source.name) ?? null, metrics: report.baseline!.metrics },
      { model: opts.out, bytes: result.bytes.length, node: node.get(opts.out)!, browser: browser?.get(opts.out) ?? null, metrics: report.metrics },
    ],
    node_threads: config.model.intraOpThreads,
  };
}

export type QuantizeSummary = Awaited<ReturnType<typeof quantizeCommand>>;

/** The comparison table `spotter quantize` prints. */
export function quantizeTable(s: QuantizeSummary): string {
  const keys = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl'] as const;
  const ms = (t: Timing | null) => (t ? `${t.median_ms.toFixed(1)} (cpu ${t.cpu_ms?.toFixed(1)})` : 'n/a');
  const [float, int8] = s.rows as [QuantizeSummary['rows'][0], QuantizeSummary['rows'][0]];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const metric = (m: Report['metrics'], k: string) => (m[k] ?? -1).toFixed(4);
  return [
    line(['model', 'file MB', `node ms (${s.node_threads} thr)`, 'browser ms (wasm, 2 thr)', ...keys]),
    line(Array(3 + 1 + keys.length).fill('---')),
    ...s.rows.map((r) => line([r.model, (r.bytes / 1e6).toFixed(2), ms(r.node), ms(r.browser), ...keys.map((k) => metric(r.metrics, k))])),
    line([
      'int8 - float',
      `x${(int8.bytes / float.bytes).toFixed(2)}`,
      `x${(float.node.median_ms / int8.node.median_ms).toFixed(2)} speed`,
      int8.browser && float.browser ? `x${(float.browser.median_ms / int8.browser.median_ms).toFixed(2)} speed` : 'n/a',
      ...keys.map((k) => {
        const d = (int8.metrics[k] ?? 0) - (float.metrics[k] ?? 0);
        return `${d >= 0 ? '+' : ''}${d.toFixed(4)}`;
      }),
    ]),
  ].join('\n');
}
