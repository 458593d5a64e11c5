import { OnnxDetector, type SessionOptions } from '@spotter/detector';
import type { ModelRegistry } from '@spotter/models';
import { ModelError } from '@spotter/shared';
import { specFromManifest } from '@spotter/vision';

interface Entry {
  detector: Promise<OnnxDetector>;
  lastUsed: number;
  inUse: number;
}

/**
 * The worker's loaded models: one session per model, loaded on first use (in its own thread,
 * so jobs on other models keep running), at most `maxLoaded` kept, least recently used
 * evicted once idle.
 */
export class ModelPool {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly session: SessionOptions,
    private readonly maxLoaded: number,
    private readonly onLoad: (detector: OnnxDetector) => void = () => {},
  ) {}

  /** Runs `fn` with the named model, loading it first if needed. */
  async use<T>(name: string, fn: (detector: OnnxDetector) => Promise<T>): Promise<T> {
    const model = this.registry.get(name);
    let entry = this.entries.get(name);
    if (!entry) {
      const detector = model.problem
        ? Promise.reject(new ModelError(`model "${name}": ${model.problem}`))
        : OnnxDetector.load(specFromManifest(model, model.version), model.path, this.session).then((d) => {
            this.onLoad(d);
            return d;
          });
      entry = { detector, lastUsed: Date.now(), inUse: 0 };
      this.entries.set(name, entry);
      // A model that fails to load is forgotten, so a later job may try again.
      detector.catch(() => this.entries.delete(name));
    }
    entry.inUse++;
    entry.lastUsed = Date.now();
    try {
      return await fn(await entry.detector);
    } finally {
      entry.inUse--;
      this.evict(name);
    }
  }

  private evict(keep: string) {
    const idle = [...this.entries].filter(([n, e]) => n !== keep && e.inUse === 0).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    while (this.entries.size > this.maxLoaded && idle.length) {
      const [name, entry] = idle.shift()!;
      this.entries.delete(name);
      void entry.detector.then((d) => d.close()).catch(() => undefined);
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
