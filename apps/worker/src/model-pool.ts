import { OnnxDetector, type SessionOptions } from '@spotter/detector';
import type { ModelRegistry } from '@spotter/models';
import type { RegisteredModel } from '@spotter/shared';
import { specFromManifest } from '@spotter/vision';

interface Entry {
  detector: Promise<OnnxDetector>;
  /** The registration it was loaded from: another file or version under the name means reload. */
  digest: string | null;
  version: string;
  lastUsed: number;
  inUse: number;
  /** Out of the pool (evicted, or its model changed or went): closed once no job uses it. */
  retired: boolean;
}

const close = (e: Entry) => void e.detector.then((d) => d.close()).catch(() => undefined);

/**
 * The worker's loaded models: one set of sessions per model, loaded on first use (in their own
 * threads, so jobs on other models keep running), at most `maxLoaded` kept, the least recently
 * used evicted once idle. A model registered after the worker started is found by name in
 * Spotter's storage, its file fetched by sha256; one that changes or is removed is let go.
 */
export class ModelPool {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly session: SessionOptions,
    private readonly maxLoaded: number,
    private readonly onLoad: (detector: OnnxDetector) => void = () => {},
  ) {
    registry.onChange(() => this.prune());
  }

  /** Runs `fn` with the named model, loading it first if needed. */
  async use<T>(name: string, fn: (detector: OnnxDetector) => Promise<T>): Promise<T> {
    const model = await this.registry.find(name);
    let entry = this.entries.get(name);
    if (entry && !this.current(entry, model)) this.retire(name, entry);
    entry = this.entries.get(name);
    if (!entry) {
      const detector = this.registry
        .localFile(model)
        .then((file) => OnnxDetector.load(specFromManifest(model, model.version), file, this.session))
        .then((d) => {
          this.onLoad(d);
          return d;
        });
      const created: Entry = { detector, digest: model.digest, version: model.version, lastUsed: Date.now(), inUse: 0, retired: false };
      entry = created;
      this.entries.set(name, created);
      // A model that fails to load is forgotten, so a later job may try again.
      detector.catch(() => this.entries.get(name) === created && this.entries.delete(name));
    }
    entry.inUse++;
    entry.lastUsed = Date.now();
    try {
      return await fn(await entry.detector);
    } finally {
      entry.inUse--;
      if (entry.retired && entry.inUse === 0) close(entry);
      this.evict(name);
    }
  }

  private current(e: Entry, m: RegisteredModel) {
    return e.digest === m.digest && e.version === m.version;
  }

  private retire(name: string, e: Entry) {
    if (this.entries.get(name) === e) this.entries.delete(name);
    e.retired = true;
    if (e.inUse === 0) close(e);
  }

  /** Lets go of models removed from the registry or registered anew under their name. */
  private prune() {
    for (const [name, e] of [...this.entries]) {
      const m = this.registry.has(name) ? this.registry.get(name) : null;
      if (!m || !this.current(e, m)) this.retire(name, e);
    }
  }

  private evict(keep: string) {
    const idle = [...this.entries].filter(([n, e]) => n !== keep && e.inUse === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    while (this.entries.size > this.maxLoaded && idle.length) {
      const [name, entry] = idle.shift()!;
      this.retire(name, entry);
    }
  }

  loadedNames() {
    return [...this.entries.keys()];
  }

  async closeAll() {
    await Promise.allSettled([...this.entries.values()].map(async (e) => (await e.detector).close()));
    this.entries.clear();
  }
}
