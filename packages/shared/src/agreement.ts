import { greedyMatch } from './geometry.js';
import type { Detection } from './job-contract.js';

export interface Agreement {
  live_boxes: number;
  candidate_boxes: number;
  /** Pairs overlapping at IoU >= the threshold, whatever their class (one-to-one, best IoU first). */
  matched: number;
  /** Matched pairs whose class differs. */
  class_flips: number;
  /** Sum of |score difference| over matched pairs of the same class. */
  score_delta_sum: number;
  /** Largest |score difference| over matched pairs of the same class (0 when there is none). */
  max_score_delta: number;
}

const asMatchBox = (d: Detection) => ({ box: d.box, classId: d.class_id, score: d.score });

/**
 * How far two answers on one image agree: a candidate model's with the live one's (shadow
 * rollout), or the browser's with the server's (the console's edge page).
 */
export function compareDetections(live: readonly Detection[], candidate: readonly Detection[], threshold = 0.5): Agreement {
  const { pairs } = greedyMatch(live.map(asMatchBox), candidate.map(asMatchBox), { iou: threshold, sameClass: false, order: 'iou' });
  const out: Agreement = { live_boxes: live.length, candidate_boxes: candidate.length, matched: pairs.length, class_flips: 0, score_delta_sum: 0, max_score_delta: 0 };
  for (const { a, b } of pairs) {
    if (live[a]!.class_id !== candidate[b]!.class_id) {
      out.class_flips++;
      continue;
    }
    const delta = Math.abs(live[a]!.score - candidate[b]!.score);
    out.score_delta_sum += delta;
    out.max_score_delta = Math.max(out.max_score_delta, delta);
  }
  return out;
}
