import { describe, expect, it } from 'vitest';
import { compareDetections } from './agreement.js';

const d = (class_id: number, score: number, x1: number, y1: number, x2: number, y2: number) => ({ label: String(class_id), class_id, score, box: { x1, y1, x2, y2 } });

describe('shadow agreement', () => {
  it('matches one-to-one at IoU 0.5, counts class flips and score deltas', () => {
    const live = [d(0, 0.9, 0, 0, 100, 100), d(1, 0.8, 200, 200, 300, 300), d(2, 0.7, 500, 500, 520, 520)];
    const cand = [d(0, 0.7, 5, 5, 100, 100), d(3, 0.6, 200, 200, 300, 290), d(0, 0.5, 0, 0, 100, 100)];
    const a = compareDetections(live, cand);
    expect(a).toEqual({ live_boxes: 3, candidate_boxes: 3, matched: 2, class_flips: 1, score_delta_sum: expect.closeTo(0.4, 10), max_score_delta: expect.closeTo(0.4, 10) });
  });

  it('agrees fully with itself and not at all with nothing', () => {
    const live = [d(0, 0.9, 0, 0, 100, 100)];
    expect(compareDetections(live, live)).toMatchObject({ matched: 1, class_flips: 0, score_delta_sum: 0 });
    expect(compareDetections(live, [])).toMatchObject({ matched: 0, candidate_boxes: 0 });
  });
});
