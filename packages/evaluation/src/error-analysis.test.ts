import { describe, expect, it } from 'vitest';
import { analyseErrors } from './error-analysis.js';
import type { GroundTruth, Prediction, XYWH } from './coco-eval.js';

let id = 1;
const gt = (categoryId: number, bbox: XYWH): GroundTruth => ({ id: id++, imageId: 1, categoryId, bbox, area: bbox[2] * bbox[3], iscrowd: false });
const dt = (categoryId: number, bbox: XYWH, score = 0.9): Prediction => ({ imageId: 1, categoryId, bbox, score });

describe('error analysis', () => {
  it('classifies each prediction and object of an image', () => {
    const truth = [gt(1, [0, 0, 100, 100]), gt(2, [200, 0, 100, 100]), gt(3, [400, 0, 100, 100]), gt(4, [600, 0, 100, 100])];
    const preds = [
      dt(1, [0, 0, 100, 100]), // TP
      dt(5, [200, 0, 100, 100]), // on the class-2 object, wrong class
      dt(3, [400, 0, 40, 100]), // class 3, IoU 0.4: localisation error
      dt(1, [900, 900, 50, 50]), // nothing there
      dt(1, [0, 0, 100, 100], 0.1), // under the score threshold: not counted
    ];
    const { images, totals, confusion } = analyseErrors(truth, preds, [1], 0.25);
    expect(images[0]).toEqual({ imageId: 1, tp: 1, fpLocalisation: 1, fpClassConfusion: 1, fpBackground: 1, fnMissed: 2, fnPoorlyLocalised: 1 });
    // Object 2 was covered by a wrong-class box (not a same-class one), so it counts as missed; object 4 had nothing.
    expect(totals.fnMissed).toBe(2);
    expect(confusion).toEqual(
      expect.arrayContaining([
        { truth: 1, predicted: 1, count: 1 },
        { truth: 2, predicted: 5, count: 1 },
        { truth: 4, predicted: 'background', count: 1 },
        { truth: 'background', predicted: 1, count: 1 },
      ]),
    );
  });
});
