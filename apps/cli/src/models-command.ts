import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '@spotter/config';
import { OnnxDetector } from '@spotter/detector';
import { decodeToFit } from '@spotter/imaging';
import { ModelRegistry, onnxSignature, sha256 } from '@spotter/models';
import { formatIssues, ModelManifest, PreprocessManifest, type RegisteredModel } from '@spotter/shared';
import type { ObjectStorage } from '@spotter/storage';
import { COCO_LABELS, InspectionError, inspectModel, preprocessSettings, readOnnxFile, specFromManifest } from '@spotter/vision';
import { evalCommand } from './eval-command.js';

export interface ModelsAddOptions {
  file: string;
  name?: string | undefined;
  format?: string | undefined;
  /** `coco`, or a file of class names: a JSON list, a YAML `names:` map, or one name a line. */
  labels?: string | undefined;
  /** `key=value` pre-processing settings (docs/models.md), over what the file and the family say. */
  preprocess?: string[] | undefined;
  /** A labelled dataset: its first pictures are the sample, and its evaluation report is attached. */
  eval?: string | undefined;
  /** Pictures to try the model on when there is no --eval dataset. */
  sample?: string | undefined;
  /** Register even when the model finds nothing on the sample pictures. */
  force?: boolean | undefined;
  storage: ObjectStorage;
  /** Lines for people: what was decided and why. */
  say?: ((line: string) => void) | undefined;
}

const SAMPLE_PICTURES = 8;
const SAMPLE_SCORE = 0.25;
const IMAGE = /\.(jpe?g|png|webp|gif|avif|tiff?)$/i;

/** Class names from `--labels`: `coco`, a JSON list, a YAML `names:` map (YOLO's classes.yaml) or one name a line. */
export async function readLabels(arg: string): Promise<string[]> {
  if (arg === 'coco') return [...COCO_LABELS];
  const text = await readFile(arg, 'utf8');
  if (/\.json$/i.test(arg)) {
    const list: unknown = JSON.parse(text);
    if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) throw new Error(`--labels ${arg}: expected a JSON list of names`);
    return list;
  }
  const map = [...text.matchAll(/^\s+(\d+):\s*['"]?(.+?)['"]?\s*$/gm)];
  if (/^names:/m.test(text) && map.length) return map.sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => m[2]!);
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

/** `--preprocess key=value` pairs as a manifest's `preprocess` (checked like one): numbers, `1/255`, lists `a,b,c`, `WxH`, `inputs.<name>=<source>`. */
export function parsePreprocess(pairs: readonly string[]): PreprocessManifest {
  const raw: Record<string, unknown> = {};
  const inputs: Record<string, string> = {};
  const num = (v: string) => (/^\d+(\.\d+)?\/\d+(\.\d+)?$/.test(v) ? Number(v.split('/')[0]) / Number(v.split('/')[1]) : Number(v));
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new Error(`--preprocess ${pair}: expected key=value`);
    const key = pair.slice(0, eq).replace(/-/g, '_');
    const value = pair.slice(eq + 1);
    if (key.startsWith('inputs.')) inputs[key.slice(7)] = value;
    else if (key === 'mean' || key === 'std') raw[key] = value.split(',').map(num);
    else if (key === 'size') raw.size = /^\d+x\d+$/i.test(value) ? value.toLowerCase().split('x').map(Number) : Number(value);
    else if (key === 'scale' || key === 'pad_value') raw[key] = num(value);
    else raw[key] = value;
  }
  if (Object.keys(inputs).length) raw.inputs = inputs;
  const parsed = PreprocessManifest.safeParse(raw);
  if (!parsed.success) throw new Error(`--preprocess: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

async function samplePictures(opts: ModelsAddOptions): Promise<{ dir: string; files: string[] } | null> {
  const dir = opts.sample ?? (opts.eval ? path.join(opts.eval, 'images') : null);
  if (!dir) return null;
  const files = (await readdir(dir)).filter((f) => IMAGE.test(f)).sort().slice(0, SAMPLE_PICTURES);
  if (!files.length) throw new Error(`no pictures in ${dir} to try the model on`);
  return { dir, files: files.map((f) => path.join(dir, f)) };
}

/** Runs the model as a worker would on the sample pictures: how many pictures it finds something on, and its boxes. */
async function tryOnSample(model: RegisteredModel, file: string, sample: { files: string[] }, config: Config) {
  const detector = await OnnxDetector.load(specFromManifest(model, model.version), file, config.model);
  try {
    let found = 0;
    let boxes = 0;
    for (const f of sample.files) {
      const img = await decodeToFit(await readFile(f), detector.fit, config.images.maxPixels);
      const { detections } = await detector.detect(img, SAMPLE_SCORE);
      boxes += detections.length;
      if (detections.length) found++;
    }
    return { found, boxes };
  } finally {
    await detector.close();
  }
}

/**
 * `spotter models add <file.onnx>`: reads the file's graph and metadata, decides its family and
 * pre-processing (saying which and why), tries it on sample pictures, evaluates it with
 * `--eval`, and registers it in Spotter's storage, where every API and worker process finds it.
 */
export async function modelsAddCommand(opts: ModelsAddOptions, config: Config) {
  const say = opts.say ?? (() => undefined);
  const bytes = await readFile(opts.file);
  let info;
  try {
    info = readOnnxFile(bytes);
  } catch (err) {
    throw new Error(`${opts.file} is not an ONNX model: ${(err as Error).message}`);
  }
  const given = {
    format: opts.format,
    labels: opts.labels ? await readLabels(opts.labels) : undefined,
    preprocess: opts.preprocess?.length ? preprocessSettings({ name: 'model', preprocess: parsePreprocess(opts.preprocess) }) : undefined,
  };
  let inspected;
  try {
    inspected = inspectModel(info.io, info.metadata, given);
  } catch (err) {
    if (err instanceof InspectionError) throw new Error(`refused ${path.basename(opts.file)}: ${err.message}`);
    throw err;
  }
  for (const r of inspected.reasons) say(r);
  const name = opts.name ?? path.basename(opts.file, '.onnx');
  const parsed = ModelManifest.safeParse({ name, file: `${name}.onnx`, sha256: sha256(bytes), ...inspected.manifest });
  if (!parsed.success) throw new Error(`${formatIssues(parsed.error, 'manifest')}${opts.name ? '' : ' (give --name)'}`);
  const manifest = parsed.data;
  const model: RegisteredModel = { ...manifest, source: 'seed', path: path.resolve(opts.file), version: manifest.sha256!.slice(0, 12), digest: manifest.sha256!, bytes: bytes.length, problem: null, signature: onnxSignature(bytes) };

  const sample = await samplePictures(opts);
  if (!sample) {
    if (!opts.force) throw new Error(`refused ${name}: no pictures to try it on; give --eval <dataset> or --sample <dir> (or --force to register it untried)`);
    say('sample: none given; registered untried (--force)');
  } else {
    const { found, boxes } = await tryOnSample(model, opts.file, sample, config);
    say(`sample: ${boxes} boxes at score >= ${SAMPLE_SCORE} on ${found} of ${sample.files.length} pictures of ${sample.dir}`);
    if (boxes === 0 && !opts.force) {
      throw new Error(
        `refused ${name}: it finds nothing (score >= ${SAMPLE_SCORE}) on ${sample.files.length} pictures of ${sample.dir}; its scores may all be 0 (a broken export or quantization) or its pre-processing wrong; --force registers it anyway`,
      );
    }
  }

  const registry = await ModelRegistry.load(config.model.dir, config.model.name, { storage: opts.storage, cacheDir: config.model.cacheDir });
  try {
    // Refused now rather than after a long evaluation.
    if (registry.has(name)) throw new Error(`a model named "${name}" is already registered; give --name or delete it first (DELETE /v1/models/${name})`);
    let report;
    if (opts.eval) {
      report = await evalCommand({ data: opts.eval, out: path.join(os.tmpdir(), `spotter-models-add-${name}-${process.pid}`), registered: model, storage: opts.storage }, config);
      say(`evaluation on ${opts.eval}: AP ${report.metrics.AP}, AP50 ${report.metrics.AP50} (report ${report.stored})`);
    }
    const registered = await registry.add({ ...manifest, ...(report?.stored ? { eval_report: report.stored } : {}) }, bytes, 'cli');
    return { model: registered, reasons: inspected.reasons, manifest: { ...manifest, ...(report?.stored ? { eval_report: report.stored } : {}) }, metrics: report?.metrics ?? null };
  } finally {
    registry.close();
  }
}

