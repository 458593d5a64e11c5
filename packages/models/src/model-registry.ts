import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvaluationBaseline } from '@spotter/monitoring';
import { ConflictError, formatIssues, ModelError, ModelManifest, ModelRegistryError, UnknownModelError, ValidationError, type RegisteredModel } from '@spotter/shared';
import type { ObjectStorage } from '@spotter/storage';
import { inspectModel, planForFile, readOnnxFile, specFromManifest } from '@spotter/vision';
import { parseEvalReport, readEvalReport, type EvalReportFile } from './eval-report.js';
import { ModelFileCache, sha256 } from './model-files.js';
import { onnxSignature } from './onnx-signature.js';
import { StoredModels, type Registered } from './stored-models.js';

/** A model file's version: the first 12 hex digits of its sha256. */
export function fileVersion(bytes: Uint8Array): string {
  return sha256(bytes).slice(0, 12);
}

/**
 * Registers a seed: its file read once for the digest, version and signature, its eval_report
 * read and checked once (unless `reports` is false: the eval command, which writes reports,
 * needs the model without them).
 */
async function seed(manifest: ModelManifest, dir: string, reports: boolean): Promise<Registered> {
  const file = path.join(dir, manifest.file);
  const bytes = await readFile(file).catch(() => null);
  const base = { ...manifest, source: 'seed' as const, path: file };
  if (!bytes) return { model: { ...base, version: manifest.version ?? 'missing', digest: null, bytes: null, problem: `the file ${manifest.file} is missing`, signature: null }, report: null };
  const digest = sha256(bytes);
  const model = { ...base, version: manifest.version ?? digest.slice(0, 12), digest, bytes: bytes.length, problem: null, signature: onnxSignature(bytes) };
  if (manifest.sha256 && manifest.sha256 !== digest) return { model: { ...model, problem: `the file's sha256 is ${digest}, not the manifest's ${manifest.sha256}` }, report: null };
  if (!manifest.eval_report || !reports) return { model, report: null };
  const read = await readEvalReport(dir, manifest.eval_report, model);
  return { model: { ...model, problem: read.problem }, report: read.report };
}

/** Every `*.model.json` of `dir`, parsed; ModelRegistryError naming the file when one is invalid. */
async function seedManifests(dir: string, defaultName: string): Promise<Map<string, ModelManifest>> {
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
  return manifests;
}

export interface RegistryOptions {
  /** Spotter's storage: the models registered there are served beside the seeds. */
  storage?: ObjectStorage | undefined;
  /** Where stored models' files are cached by sha256 (needed with `storage`). */
  cacheDir?: string | undefined;
  /** How often stored models are listed again (0: only on demand). */
  refreshMs?: number | undefined;
  /** Told when a listing fails (the last one read stays in force) or a stored record is unreadable. */
  onError?: ((err: Error) => void) | undefined;
  /** false: models are registered without reading their eval_report (the eval command, which writes reports). */
  reports?: boolean | undefined;
}

/**
 * The models a deployment serves: the read-only seeds of `SPOTTER_MODEL_DIR` (every
 * `*.model.json`, plus the default model, which needs no manifest) and the models registered
 * in Spotter's storage, which every process lists again every `refreshMs` and whenever a name
 * it does not know is asked for. So a model added on one host serves on every host within
 * seconds, with no restart; workers fetch its file by sha256 and cache it.
 */
export class ModelRegistry {
  private models: ReadonlyMap<string, RegisteredModel>;
  private reports: ReadonlyMap<string, EvalReportFile>;
  private readonly listeners: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastRefresh: Promise<void> | null = null;
  private lastRefreshAt = 0;

  private constructor(
    readonly dir: string,
    readonly defaultName: string,
    private readonly seeds: ReadonlyMap<string, Registered>,
    private readonly stored: StoredModels | null,
    private readonly files: ModelFileCache | null,
    private readonly onError: (err: Error) => void,
  ) {
    [this.models, this.reports] = ModelRegistry.index(seeds.values());
  }

  private static index(all: Iterable<Registered>): [Map<string, RegisteredModel>, Map<string, EvalReportFile>] {
    const models = new Map<string, RegisteredModel>();
    const reports = new Map<string, EvalReportFile>();
    for (const { model, report } of all) {
      models.set(model.name, model);
      if (report) reports.set(model.name, report);
    }
    return [models, reports];
  }

  static async load(dir: string, defaultName: string, opts: RegistryOptions = {}): Promise<ModelRegistry> {
    const reports = opts.reports ?? true;
    const seeds = new Map<string, Registered>();
    for (const [name, m] of await seedManifests(dir, defaultName)) seeds.set(name, await seed(m, dir, reports));
    const onError = opts.onError ?? (() => undefined);
    const files = opts.storage ? new ModelFileCache(opts.storage, opts.cacheDir ?? path.join(dir, '.cache')) : null;
    const registry = new ModelRegistry(dir, defaultName, seeds, opts.storage && files ? new StoredModels(opts.storage, files, onError, reports) : null, files, onError);
    if (registry.stored) {
      await registry.refresh().catch(onError);
      if (opts.refreshMs) {
        registry.timer = setInterval(() => void registry.refresh().catch(onError), opts.refreshMs);
        registry.timer.unref();
      }
    }
    return registry;
  }

  /** A registry of one model file outside any model directory (the eval command's `--model file.onnx`), its family and pre-processing read from the file. */
  static async ofFile(file: string): Promise<ModelRegistry> {
    const name = path.basename(file, '.onnx').replace(/[^a-z0-9_.-]/gi, '_').replace(/^\./, '_').slice(0, 64);
    const info = readOnnxFile(await readFile(file).catch((err: Error) => {
      throw new ModelError(`cannot read ${file}: ${err.message}`);
    }));
    const { manifest } = inspectModel(info.io, info.metadata);
    const m = await seed(ModelManifest.parse({ name, file: path.basename(file), ...manifest }), path.dirname(path.resolve(file)), false);
    return new ModelRegistry(path.dirname(m.model.path), name, new Map([[name, m]]), null, null, () => undefined);
  }

  /** Lists the stored models again (concurrent calls share one listing). */
  refresh(): Promise<void> {
    if (!this.stored) return Promise.resolve();
    if (this.lastRefresh) return this.lastRefresh;
    this.lastRefresh = (async () => {
      try {
        const stored = await this.stored!.list();
        const all = [...this.seeds.values()];
        for (const r of stored) {
          if (this.seeds.has(r.model.name)) this.onError(new ModelRegistryError(`stored model "${r.model.name}" is shadowed by the seed of the same name`));
          else all.push(r);
        }
        const [next, reports] = ModelRegistry.index(all);
        const changed = next.size !== this.models.size || [...next].some(([n, m]) => this.models.get(n)?.digest !== m.digest || this.models.get(n)?.version !== m.version);
        this.models = next;
        this.reports = reports;
        if (changed) for (const l of this.listeners) l();
      } finally {
        this.lastRefreshAt = Date.now();
        this.lastRefresh = null;
      }
    })();
    return this.lastRefresh;
  }

  /** Called after a listing that changed the set of models or a model's file. */
  onChange(listener: () => void) {
    this.listeners.push(listener);
  }

  has(name: string): boolean {
    return this.models.has(name);
  }

  /** The named model as last listed; UnknownModelError when it is not registered. */
  get(name: string): RegisteredModel {
    const m = this.models.get(name);
    if (!m) throw new UnknownModelError(name, this.names());
    return m;
  }

  /**
   * The named model, listing storage again first when the name is not known here yet. A
   * listing that starts after the call sees every model registered before it; unknown names
   * cost at most one listing a second (they wait for the next one).
   */
  async find(name: string): Promise<RegisteredModel> {
    if (!this.models.has(name) && this.stored) {
      // A listing already under way may have started before the model was registered.
      if (this.lastRefresh) await this.lastRefresh.catch(() => undefined);
      const wait = this.lastRefreshAt + 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (!this.models.has(name)) await this.refresh();
    }
    return this.get(name);
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  all(): RegisteredModel[] {
    return [...this.models.values()];
  }

  /** The model's .onnx on this machine: a seed's own file, or a stored model's, fetched by sha256 and cached. */
  async localFile(model: RegisteredModel): Promise<string> {
    if (model.problem) throw new ModelError(`model "${model.name}": ${model.problem}`);
    if (model.source === 'seed') return model.path;
    if (!this.files || !model.digest) throw new ModelError(`model "${model.name}" is stored, and this process has no storage`);
    return this.files.file(model.digest);
  }

  /**
   * The model's evaluation report (`eval_report`: a file beside a seed, a stored report's id),
   * read and checked when the model was registered; null when it has none, or when it cannot be
   * read (then the model has a problem and is not served).
   */
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

  /**
   * Registers a model in storage, where every process finds it. Refused when the name is taken
   * (ConflictError), when the file is not a model its format reads or its report is missing
   * (ValidationError `INVALID_MODEL`).
   */
  async add(manifest: ModelManifest, bytes: Uint8Array, by: string | null): Promise<RegisteredModel> {
    if (!this.stored) throw new ModelError('this process has no storage to register models in');
    await this.refresh();
    if (this.seeds.has(manifest.name)) throw new ConflictError(`"${manifest.name}" is a seed of the model directory, which is read-only`);
    if (this.models.has(manifest.name)) throw new ConflictError(`a model named "${manifest.name}" is already registered; delete it first`);
    const digest = sha256(bytes);
    if (manifest.sha256 && manifest.sha256 !== digest) throw new ValidationError(`the file's sha256 is ${digest}, not the manifest's ${manifest.sha256}`, 'INVALID_MODEL');
    try {
      planForFile(specFromManifest(manifest), bytes);
    } catch (err) {
      throw new ValidationError((err as Error).message, 'INVALID_MODEL');
    }
    if (manifest.eval_report) {
      const text = await this.stored.report(manifest.eval_report);
      if (text === null) throw new ValidationError(`no stored report ${JSON.stringify(manifest.eval_report)} (eval_report must be the id of a report in storage)`, 'INVALID_MODEL');
      const read = parseEvalReport(text, { version: manifest.version ?? digest.slice(0, 12) }, (why) => ({ report: null, problem: `the stored report ${manifest.eval_report} ${why}` }));
      if (read.problem) throw new ValidationError(read.problem, 'INVALID_MODEL');
    }
    await this.stored.put({ ...manifest, sha256: digest }, onnxSignature(bytes), bytes, by);
    await this.refresh();
    return this.get(manifest.name);
  }

  /** Removes a stored model (its file too when no other model uses it); refused for seeds and for `inUse` names. */
  async remove(name: string, inUse: readonly string[]): Promise<void> {
    await this.refresh();
    if (this.seeds.has(name)) throw new ConflictError(`"${name}" is a seed of the model directory, which is read-only`);
    const m = this.get(name);
    if (inUse.includes(name)) throw new ConflictError(`"${name}" is in use by the rollout; roll back or promote another model first`);
    const shared = this.all().some((o) => o.name !== name && o.digest === m.digest);
    await this.stored!.delete(name, shared ? null : m.digest);
    await this.refresh();
  }

  close() {
    clearInterval(this.timer);
  }
}
