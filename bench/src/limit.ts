import { performance } from 'node:perf_hooks';
import { OnnxDetector, specFromManifest } from '@spotter/detector';
import { decodeToFit } from '@spotter/imaging';
import { loadModelRegistry, type Config } from '@spotter/shared';
import { summarize } from './stats.js';

/**
 * The model's own limit: exactly the worker's decode + pre-process + inference +
 * post-process, in-process, with no queue, storage or HTTP.
 */
export async function measureLimit(config: Config, images: readonly Buffer[], concurrency: number, count: number) {
  const registry = await loadModelRegistry(config.model.dir, config.model.name);
  const detector = await OnnxDetector.load(specFromManifest(registry.get(config.model.name)!), config.model);
  const stages = { decode: [] as number[], inference: [] as number[], postprocess: [] as number[], total: [] as number[] };
  let next = 0;
  const one = async (i: number) => {
    const t0 = performance.now();
    const img = await decodeToFit(images[i % images.length]!, detector.inputSize, config.images.maxPixels);
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
