import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvaluationBaseline, PerformanceCounts } from '@spotter/monitoring';
import { formatIssues, ModelManifest, ModelRegistryError, UnknownModelError, type RegisteredModel } from '@spotter/shared';
import { onnxSignature } from './onnx-signature.js';

/** What Spotter reads of a registered evaluation report (the report.json of `spotter eval`). */
export interface EvalReportFile {
  dataset?: { name?: string; images?: number };
  metrics?: Record<string, number>;
  slices?: { slice: string; ap: number; recall?: number }[];
  /** The model at its serving threshold and NMS (reports made before it existed lack it). */
  operating_point?: { counts: PerformanceCounts; slices: Record<string, PerformanceCounts>; f1_per_image: number[] };
  [k: string]: unknown;
}

/** A model file's version: the first 12 hex digits of its sha256. */
export function fileVersion(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

async function register(manifest: ModelManifest, dir: string): Promise<RegisteredModel> {
  const file = path.join(dir, manifest.file);
  const bytes = await readFile(file).catch(() => null);
  if (!bytes) return { ...manifest, path: file, version: manifest.version ?? 'missing', problem: `the file ${manifest.file} is missing`, signature: null };
  const digest = createHash('sha256').update(bytes).digest('hex');
  const problem = manifest.sha256 && manifest.sha256 !== digest ? `the file's sha256 is ${digest}, not the manifest's ${manifest.sha256}` : null;
  return { ...manifest, path: file, version: manifest.version ?? digest.slice(0, 12), problem, signature: onnxSignature(bytes) };
}

/**
 * The models a deployment serves: every `*.model.json` of `dir`, each file read once to
 * check its digest and derive its version. The default model needs no manifest: a plain
 * `<default>.onnx` is registered as a YOLOX COCO model.
 */
export class ModelRegistry {
  private constructor(
    readonly dir: string,
    readonly defaultName: string,
    private readonly models: ReadonlyMap<string, RegisteredModel>,
  ) {}

  static async load(dir: string, defaultName: string): Promise<ModelRegistry> {
    const files = await readdir(dir).catch(() => [] as string[]);
    const manifests = new Map<string, ModelManifest>();
    for (const f of files.filter((x) => x.endsWith('.model.json')).sort()) {
      let raw: unknown;
      try {
        raw = JSON.parse(await readFile(path.join(dir, f), 'utf8'));
      } catch (err) {
        throw new ModelRegistryError(`${f}: ${(err as Error).message}`);
      }
      const parsed = ModelManifest.safeParse(raw);
      if (!parsed.success) throw new ModelRegistryError(`${f}: ${formatIssues(parsed.error, 'manifest')}`);
      if (manifests.has(parsed.data.name)) throw new ModelRegistryError(`${f}: model "${parsed.data.name}" is declared twice`);
      manifests.set(parsed.data.name, parsed.data);
    }
    if (!manifests.has(defaultName)) manifests.set(defaultName, ModelManifest.parse({ name: defaultName, file: `${defaultName}.onnx` }));
    const models = new Map<string, RegisteredModel>();
    for (const [name, m] of manifests) models.set(name, await register(m, dir));
    return new ModelRegistry(dir, defaultName, models);
  }

  /** A registry of one model file outside any model directory (the eval command's `--model file.onnx`). */
  static async ofFile(file: string): Promise<ModelRegistry> {
    const name = path.basename(file, '.onnx');
    const m = await register(ModelManifest.parse({ name, file: path.basename(file) }), path.dirname(path.resolve(file)));
    return new ModelRegistry(path.dirname(m.path), name, new Map([[name, m]]));
  }

  has(name: string): boolean {
    return this.models.has(name);
  }

  /** The named model; UnknownModelError when it is not registered. */
  get(name: string): RegisteredModel {
    const m = this.models.get(name);
    if (!m) throw new UnknownModelError(name, this.names());
    return m;
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  all(): RegisteredModel[] {
    return [...this.models.values()];
  }

  /** The model's evaluation report (`eval_report` of its manifest), or null when it has none or it cannot be read. */
  async evalReport(name: string): Promise<EvalReportFile | null> {
    const m = this.get(name);
    if (!m.eval_report) return null;
    return readFile(path.join(this.dir, m.eval_report), 'utf8').then(
      (t) => JSON.parse(t) as EvalReportFile,
      () => null,
    );
  }

  /** The performance baseline the model's evaluation report gives the monitoring (its operating point), or null. */
  async evaluationBaseline(name: string): Promise<EvaluationBaseline | null> {
    const op = (await this.evalReport(name))?.operating_point;
    if (!op?.counts) return null;
    return { source: this.get(name).eval_report!, counts: op.counts, slices: op.slices ?? {}, f1: op.f1_per_image ?? [] };
  }
}
