import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { evaluate, summarize, type GroundTruth, type Prediction, type XYWH } from './coco-eval.js';

// pycocotools' own numbers on a fixed case (the dataset's golden/ fixture: 128 images, 898
// objects, 5,830 damaged detections with false positives, class flips, ties and duplicates).
const GOLDEN = path.resolve(import.meta.dirname, '../../../../shared/datasets/coco-val128/golden');
const gz = async (name: string) => JSON.parse(gunzipSync(await readFile(path.join(GOLDEN, name))).toString('utf8'));

interface CocoGt {
  images: { id: number }[];
  categories: { id: number }[];
  annotations: { id: number; image_id: number; category_id: number; bbox: XYWH; area: number; iscrowd: number }[];
}

describe('COCOeval against pycocotools', () => {
  it('gives the twelve numbers pycocotools gives, to 12 decimal places', async () => {
    const truth = (await gz('ground-truth.json.gz')) as CocoGt;
    const results = (await gz('predictions-jittered.json.gz')) as { image_id: number; category_id: number; bbox: XYWH; score: number }[];
    const expected = JSON.parse(await readFile(path.join(GOLDEN, 'pycocotools-stats.json'), 'utf8')) as Record<string, number>;
    const gts: GroundTruth[] = truth.annotations.map((a) => ({ id: a.id, imageId: a.image_id, categoryId: a.category_id, bbox: a.bbox, area: a.area, iscrowd: a.iscrowd === 1 }));
    const preds: Prediction[] = results.map((r) => ({ imageId: r.image_id, categoryId: r.category_id, bbox: r.bbox, score: r.score }));
    // As COCOeval: sorted image and category ids of the ground truth.
    const stats = summarize(evaluate(gts, preds, truth.images.map((i) => i.id).sort((a, b) => a - b), truth.categories.map((c) => c.id).sort((a, b) => a - b)));
    expect(Object.keys(stats).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, value] of Object.entries(expected)) expect(stats[name as keyof typeof stats], name).toBeCloseTo(value, 12);
  });
});
