import { describe, expect, it } from 'vitest';
import { evaluate, IOU_THRESHOLDS, perCategoryAp, RECALL_THRESHOLDS, summarize, type GroundTruth, type Prediction, type XYWH } from './coco-eval.js';

let nextId = 1;
const gt = (imageId: number, categoryId: number, bbox: XYWH, iscrowd = false): GroundTruth => ({
  id: nextId++,
  imageId,
  categoryId,
  bbox,
  area: bbox[2] * bbox[3],
  iscrowd,
});
const dt = (imageId: number, categoryId: number, bbox: XYWH, score: number): Prediction => ({ imageId, categoryId, bbox, score });
const run = (gts: GroundTruth[], dts: Prediction[], images = [1], cats = [1]) => summarize(evaluate(gts, dts, images, cats));

describe('COCOeval thresholds', () => {
  it('are numpy.linspace bit for bit, as pycocotools builds them', () => {
    expect(IOU_THRESHOLDS).toHaveLength(10);
    expect(IOU_THRESHOLDS[8]).toBe(0.8999999999999999);
    expect(IOU_THRESHOLDS[2]).toBe(0.6);
    expect(RECALL_THRESHOLDS).toHaveLength(101);
    expect(RECALL_THRESHOLDS[100]).toBeCloseTo(1, 12);
  });
});

describe('COCOeval on hand-worked cases', () => {
  const big: XYWH = [10, 10, 100, 100]; // area 10000: "large"

  it('scores a perfect detection 1 everywhere it is defined', () => {
    const s = run([gt(1, 1, big)], [dt(1, 1, big, 0.9)]);
    // Precision is tp / (tp + fp + eps) as in pycocotools, so "1" is 1 - 2e-16.
    for (const k of ['AP', 'AP50', 'AP75', 'APl', 'AR1', 'AR100', 'ARl'] as const) expect(s[k], k).toBeCloseTo(1, 12);
    expect(s.APs).toBe(-1); // no small objects: undefined, as pycocotools prints -1
    expect(s.APm).toBe(-1);
  });

  it('halves AP when a false positive outranks the true positive', () => {
    // tp = [0, 1], fp = [1, 1]: precision [0, .5] -> interpolated [.5, .5]
    const s = run([gt(1, 1, big)], [dt(1, 1, [300, 300, 50, 50], 0.9), dt(1, 1, big, 0.8)]);
    expect(s.AP).toBeCloseTo(0.5, 10);
    // ...but not when it ranks below
    expect(run([gt(1, 1, big)], [dt(1, 1, [300, 300, 50, 50], 0.5), dt(1, 1, big, 0.8)]).AP).toBeCloseTo(1, 12);
  });

  it('matches at IoU >= threshold: IoU exactly 0.6 counts at .50, .55 and .60 only', () => {
    const s = run([gt(1, 1, [0, 0, 100, 100])], [dt(1, 1, [0, 0, 100, 60], 0.9)]);
    expect(s.AP50).toBeCloseTo(1, 12);
    expect(s.AP75).toBe(0);
    expect(s.AP).toBeCloseTo(0.3, 10);
  });

  it('interpolates precision at 101 recall points', () => {
    // Two objects; TP (0.9), FP (0.8), TP (0.7): recall [.5, .5, 1], precision [1, .5, 2/3]
    // -> monotone [1, 2/3, 2/3]; recall points 0..0.50 read 1, 0.51..1.00 read 2/3.
    const s = run([gt(1, 1, big), gt(1, 1, [200, 200, 100, 100])], [
      dt(1, 1, big, 0.9),
      dt(1, 1, [400, 400, 100, 100], 0.8),
      dt(1, 1, [200, 200, 100, 100], 0.7),
    ]);
    expect(s.AP50).toBeCloseTo((51 * 1 + 50 * (2 / 3)) / 101, 10);
  });

  it('ignores detections on crowd regions instead of counting them false', () => {
    const crowd = gt(1, 1, [300, 300, 200, 200], true);
    const s = run([gt(1, 1, big), crowd], [dt(1, 1, [320, 320, 100, 100], 0.95), dt(1, 1, [350, 350, 100, 100], 0.94), dt(1, 1, big, 0.5)]);
    expect(s.AP).toBeCloseTo(1, 12);
    expect(s.AR100).toBeCloseTo(1, 12);
  });

  it('limits detections per image and category with maxDets', () => {
    const s = run([gt(1, 1, big), gt(1, 1, [200, 200, 100, 100])], [dt(1, 1, big, 0.9), dt(1, 1, [200, 200, 100, 100], 0.8)]);
    expect(s.AR1).toBe(0.5);
    expect(s.AR10).toBeCloseTo(1, 12);
  });

  it('evaluates area ranges separately, ignoring unmatched detections outside the range', () => {
    const small: XYWH = [0, 0, 20, 20];
    // A large object found, plus a small false positive.
    const s = run([gt(1, 1, big)], [dt(1, 1, small, 0.99), dt(1, 1, big, 0.9)]);
    expect(s.AP).toBeCloseTo(0.5, 10); // the small FP outranks the TP
    expect(s.APl).toBeCloseTo(1, 12); // outside "large", the unmatched small box is ignored
    expect(s.APs).toBe(-1);
  });

  it('counts detections on images without objects, and skips categories without ground truth', () => {
    const s = run([gt(1, 1, big)], [dt(2, 1, big, 0.99), dt(1, 1, big, 0.9), dt(1, 2, big, 0.99)], [1, 2], [1, 2]);
    expect(s.AP).toBeCloseTo(0.5, 10);
    const perCat = perCategoryAp(evaluate([gt(1, 1, big)], [dt(1, 1, big, 0.9)], [1], [1, 2]));
    expect(perCat.get(1)).toBeCloseTo(1, 12);
    expect(perCat.get(2)).toBe(-1);
  });

  it('breaks score ties by image then detection order, as the stable sort does', () => {
    // Equal scores: the FP in image 1 comes before the TP in image 2.
    const s = run([gt(2, 1, big)], [dt(1, 1, big, 0.5), dt(2, 1, big, 0.5)], [1, 2]);
    expect(s.AP).toBeCloseTo(0.5, 10);
    const swapped = run([gt(1, 1, big)], [dt(1, 1, big, 0.5), dt(2, 1, big, 0.5)], [1, 2]);
    expect(swapped.AP).toBeCloseTo(1, 12);
  });
});
