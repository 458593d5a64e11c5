import { StoredModel, type ModelManifest, type ModelSignature, type RegisteredModel } from '@spotter/shared';
import { storageKeys, type ObjectStorage } from '@spotter/storage';
import { parseEvalReport, type EvalReportFile } from './eval-report.js';
import type { ModelFileCache } from './model-files.js';

/** A registered model with its evaluation report, read and checked once. */
export interface Registered {
  model: RegisteredModel;
  report: EvalReportFile | null;
}

const PREFIX = 'models/';
const REPORT_ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;

/**
 * The models registered in Spotter's storage: one `models/<name>.json` record each (manifest,
 * digest, who added it), files under `modelfiles/<sha256>.onnx`. The record is written after
 * the file, so a listed model always has its file.
 */
export class StoredModels {
  /** Records already read, by key, with what the listing said of them. */
  private readonly seen = new Map<string, { bytes: number; at: number; model: Registered | null }>();

  constructor(
    private readonly storage: ObjectStorage,
    private readonly files: ModelFileCache,
    private readonly onError: (err: Error) => void,
    /** false: records are read without their eval_report (the eval command). */
    private readonly reports = true,
  ) {}

  /** Every stored model, reading only records that are new or changed since the last listing. */
  async list(): Promise<Registered[]> {
    const out: Registered[] = [];
    const keys = new Set<string>();
    for await (const o of this.storage.list(PREFIX)) {
      if (!o.key.endsWith('.json')) continue;
      keys.add(o.key);
      const known = this.seen.get(o.key);
      if (known && known.bytes === o.bytes && known.at === o.modifiedAt.getTime()) {
        if (known.model) out.push(known.model);
        continue;
      }
      const model = await this.read(o.key);
      this.seen.set(o.key, { bytes: o.bytes, at: o.modifiedAt.getTime(), model });
      if (model) out.push(model);
    }
    for (const k of this.seen.keys()) if (!keys.has(k)) this.seen.delete(k);
    return out;
  }

  private async read(key: string): Promise<Registered | null> {
    const body = await this.storage.get(key);
    if (!body) return null;
    let parsed;
    try {
      parsed = StoredModel.safeParse(JSON.parse(body.toString('utf8')));
    } catch {
      parsed = null;
    }
    if (!parsed?.success) {
      this.onError(new Error(`stored model record ${key} is not valid; skipped`));
      return null;
    }
    const { manifest, bytes, signature } = parsed.data;
    const model: RegisteredModel = { ...manifest, source: 'stored', path: this.files.pathOf(manifest.sha256), version: manifest.version ?? manifest.sha256.slice(0, 12), digest: manifest.sha256, bytes, problem: null, signature };
    if (!manifest.eval_report || !this.reports) return { model, report: null };
    // Checked when it was added; checked again by each process that reads the record, so no gate runs on a report that went missing since.
    const id = manifest.eval_report;
    const text = await this.report(id);
    const read = text === null ? { report: null, problem: `its stored report ${id} does not exist` } : parseEvalReport(text, model, (why) => ({ report: null, problem: `its stored report ${id} ${why}` }));
    return { model: { ...model, problem: read.problem }, report: read.report };
  }

  /** Stores the file (unless a model already stored it) and then the record. */
  async put(manifest: ModelManifest & { sha256: string }, signature: ModelSignature | null, bytes: Uint8Array, by: string | null): Promise<void> {
    const fileKey = storageKeys.modelFile(manifest.sha256);
    if ((await this.storage.size(fileKey)) === null) await this.storage.put(fileKey, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'application/octet-stream');
    const record: StoredModel = { manifest, signature, bytes: bytes.length, added_at: new Date().toISOString(), added_by: by };
    await this.storage.put(storageKeys.model(manifest.name), Buffer.from(JSON.stringify(record, null, 2)), 'application/json');
  }

  /** Removes the record, then the file when `digest` is given (no other model uses it). */
  async delete(name: string, digest: string | null): Promise<void> {
    await this.storage.delete(storageKeys.model(name));
    if (digest) await this.storage.delete(storageKeys.modelFile(digest));
  }

  /** A stored evaluation report's JSON text (`reports/<id>/report.json`), or null. */
  async report(id: string): Promise<string | null> {
    if (!REPORT_ID.test(id)) return null;
    return (await this.storage.get(storageKeys.report(id, 'report.json')))?.toString('utf8') ?? null;
  }
}
