import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '@spotter/config';
import { OnnxDetector } from '@spotter/detector';
import { decodeToFit, sniffFormat } from '@spotter/imaging';
import { addObservation, emptyProfile, imageObservation, mergeProfiles } from '@spotter/monitoring';
import { createRedis, createStores } from '@spotter/stores';
import { specFromManifest } from '@spotter/vision';
import { resolveModel } from './eval-command.js';

/**
 * `spotter monitor reference --images <dir>`: runs the model over a folder with the workers'
 * code, profiles the images and answers like served jobs, and makes that the model's active
 * reference (in the Redis at REDIS_URL).
 */
export async function monitorReferenceCommand(opts: { images: string; model?: string | undefined }, config: Config) {
  const manifest = await resolveModel(opts.model ?? config.model.name, config);
  const files = (await readdir(opts.images)).filter((f) => /\.(jpe?g|png|webp|gif|avif|tiff?)$/i.test(f)).sort();
  if (files.length === 0) throw new Error(`no images in ${opts.images}`);
  const detector = await OnnxDetector.load(specFromManifest(manifest, manifest.version), manifest.path, config.model);
  const chunks = Array.from({ length: Math.min(10, files.length) }, emptyProfile);
  try {
    for (const [i, f] of files.entries()) {
      const bytes = await readFile(path.join(opts.images, f));
      const img = await decodeToFit(bytes, detector.fit, config.images.maxPixels);
      const { detections } = await detector.detect(img, 0.25);
      addObservation(chunks[i % chunks.length]!, { ...imageObservation(img, bytes, sniffFormat(bytes) ?? 'unknown', detections), failed: 'false' });
    }
  } finally {
    await detector.close();
  }
  const redis = createRedis(config.redis.url, 'worker');
  try {
    const ref = await createStores(redis, config).profiles.saveReference({ model: manifest.name, source: { images: path.resolve(opts.images) }, profile: mergeProfiles(...chunks), chunks });
    return { id: ref.id, count: ref.profile.images, created_at: ref.created_at, model: manifest.name };
  } finally {
    redis.disconnect();
  }
}
