import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvaluationBaseline } from '@spotter/monitoring';
import { formatIssues, ModelManifest, ModelRegistryError, UnknownModelError, type RegisteredModel } from '@spotter/shared';
import { readEvalReport, type EvalReportFile } from './eval-report.js';

/** A model file's version: the first 12 hex digits of its sha256. */
export function fileVersion(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

interface Registered {
  model: RegisteredModel;
  report: EvalReportFile | null;
}

/**
 * Registers a manifest: its file read once for the digest and version, its eval_report read
 * and checked once (unless `reports` is false: the eval command, which writes reports, needs
 * the model without them).
 */
async function register(manifest: ModelManifest, dir: string, reports: boolean): Promise<Registered> {
  const file = path.join(dir, manifest.file);
  const bytes = await readFile(file).catch(() => null);
  if (!bytes) return { model: { ...manifest, path: file, version: manifest.version ?? 'missing', problem: `the file ${manifest.file} is missing` }, report: null };
  const digest = createHash('sha256').update(bytes).digest('hex');
  const model = { ...manifest, path: file, version: manifest.version ?? digest.slice(0, 12), problem: null };
  if (manifest.sha256 && manifest.sha256 !== digest) return { model: { ...model, problem: `the file's sha256 is ${digest}, not the manifest's ${manifest.sha256}` }, report: null };
  if (!manifest.eval_report || !reports) return { model, report: null };
  const read = await readEvalReport(dir, manifest.eval_report, model);
  return { model: { ...model, problem: read.problem }, report: read.report };
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
    private readonly reports: ReadonlyMap<string, EvalReportFile>,
  ) {}

  /** `reports: false` registers models without reading their eval_report (for the eval command). */
  static async load(dir: string, defaultName: string, opts: { reports?: boolean } = {}): Promise<ModelRegistry> {
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
    const reports = new Map<string, EvalReportFile>();
    for (const [name, m] of manifests) {
      const { model, report } = await register(m, dir, opts.reports ?? true);
      models.set(name, model);
      if (report) reports.set(name, report);
    }
    return new ModelRegistry(dir, defaultName, models, reports);
  }

  /** A registry of one model file outside any model directory (the eval command's `--model file.onnx`). */
  static async ofFile(file: string): Promise<ModelRegistry> {
    const name = path.basename(file, '.onnx');
    const { model } = await register(ModelManifest.parse({ name, file: path.basename(file) }), path.dirname(path.resolve(file)), false);
    return new ModelRegistry(path.dirname(model.path), name, new Map([[name, model]]), new Map());
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

  /** The model's evaluation report (`eval_report` of its manifest, read at load), or null when it has none or it is unreadable (then the model has a problem). */
  evalReport(name: string): EvalReportFile | null {
    this.get(name);
    return this.reports.get(name) ?? null;
  }

  /** The performance baseline the model's evaluation report gives the monitoring (its operating point), or null. */
  evaluationBaseline(name: string): EvaluationBaseline | null {
    const op = this.evalReport(name)?.operating_point;
    if (!op?.counts) return null;
    return { source: this.get(name).eval_report!, counts: op.counts, slices: op.slices ?? {}, f1: op.f1_per_image ?? [] };
  }
}
