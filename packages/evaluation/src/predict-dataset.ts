import { readFile } from 'node:fs/promises';
import { OnnxDetector, type SessionOptions } from '@spotter/detector';
import { decodeToFit } from '@spotter/imaging';
import type { ModelSpec } from '@spotter/vision';
import type { Prediction } from './coco-eval.js';
import type { Dataset } from './datasets.js';

/** COCOeval's customary detection settings: keep nearly everything, let the metric rank it. */
export const EVAL_DEFAULTS = { minScore: 0.01, iouThreshold: 0.65, maxDetections: 300 };

/**
 * Runs the model over every image with the code the workers run (decodeToFit, then
 * OnnxDetector.detect), two images in flight as a worker does.
 */
export async function predictDataset(
  dataset: Dataset,
  spec: ModelSpec,
  file: string,
  session: SessionOptions,
  opts: { minScore: number; maxPixels: number; onProgress?: (done: number, total: number) => void },
): Promise<{ predictions: Prediction[]; version: string; seconds: number }> {
  const detector = await OnnxDetector.load(spec, file, session);
  const predictions: Prediction[] = [];
  const start = performance.now();
  let next = 0;
  let done = 0;
  try {
    await Promise.all(
      [0, 1].map(async () => {
        while (next < dataset.images.length) {
          const image = dataset.images[next++]!;
          const img = await decodeToFit(await readFile(image.file), detector.fit, opts.maxPixels);
          const { detections } = await detector.detect(img, opts.minScore);
          for (const d of detections) {
            const { x1, y1, x2, y2 } = d.box;
            predictions.push({ imageId: image.id, categoryId: d.class_id, bbox: [x1, y1, x2 - x1, y2 - y1], score: d.score });
          }
          opts.onProgress?.(++done, dataset.images.length);
        }
      }),
    );
  } finally {
    await detector.close();
  }
  return { predictions, version: detector.version, seconds: (performance.now() - start) / 1000 };
}

/** Reads a COCO results file: [{image_id, category_id, bbox: [x, y, w, h], score}]. */
export async function readPredictionsFile(file: string): Promise<Prediction[]> {
  const rows = JSON.parse(await readFile(file, 'utf8')) as { image_id: number; category_id: number; bbox: number[]; score: number }[];
  if (!Array.isArray(rows)) throw new Error(`${file}: expected a JSON array of COCO results`);
  return rows.map((r, i) => {
    if (!Array.isArray(r.bbox) || r.bbox.length !== 4 || typeof r.score !== 'number') throw new Error(`${file}: result ${i} is not {image_id, category_id, bbox, score}`);
    return { imageId: r.image_id, categoryId: r.category_id, bbox: r.bbox as [number, number, number, number], score: r.score };
  });
}
