import { performance } from 'node:perf_hooks';
import type { Config } from '@spotter/config';
import { OnnxDetector } from '@spotter/detector';
import { decodeToFit } from '@spotter/imaging';
import { ModelRegistry } from '@spotter/models';
import { specFromManifest } from '@spotter/vision';
import { summarize } from './stats.js';

/** The configured default model, loaded as a worker loads it. */
export async function loadDefaultDetector(config: Config) {
  const model = (await ModelRegistry.load(config.model.dir, config.model.name)).get(config.model.name);
  return OnnxDetector.load(specFromManifest(model, model.version), model.path, config.model);
}

/**
 * The model's own limit: exactly the worker's decode + pre-process + inference +
 * post-process, in-process, with no queue, storage or HTTP.
 */
export async function measureLimit(config: Config, images: readonly Buffer[], concurrency: number, count: number) {
  const detector = await loadDefaultDetector(config);
  const stages = { decode: [] as number[], inference: [] as number[], postprocess: [] as number[], total: [] as number[] };
  let next = 0;
  const one = async (i: number) => {
    const t0 = performance.now();
    const img = await decodeToFit(images[i % images.length]!, detector.fit, config.images.maxPixels);
    const t1 = performance.now();
    const out = await detector.detect(img, 0.25);
    stages.decode.push(t1 - t0 + out.timings.preprocess);
    stages.inference.push(out.timings.inference);
    stages.postprocess.push(out.timings.postprocess);
    stages.total.push(performance.now() - t0);
  };
  for (let i = 0; i < Math.min(8, images.length); i++) await one(i); // warm-up
  for (const list of Object.values(stages)) list.length = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await one(next++);
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await detector.close();
  return {
    concurrency,
    images: count,
    images_per_s: Math.round((count / seconds) * 10) / 10,
    ms: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, summarize(v)])),
  };
}
