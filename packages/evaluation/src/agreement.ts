import { greedyMatch, type Detection } from '@spotter/shared';

export interface Agreement {
  live_boxes: number;
  candidate_boxes: number;
  /** Pairs overlapping at IoU >= the threshold, whatever their class (one-to-one, best IoU first). */
  matched: number;
  /** Matched pairs whose class differs. */
  class_flips: number;
  /** Sum of |score difference| over matched pairs of the same class. */
  score_delta_sum: number;
}

const asMatchBox = (d: Detection) => ({ box: d.box, classId: d.class_id, score: d.score });

/** How far a candidate's boxes agree with the live model's on one image. */
export function compareDetections(live: readonly Detection[], candidate: readonly Detection[], threshold = 0.5): Agreement {
  const { pairs } = greedyMatch(live.map(asMatchBox), candidate.map(asMatchBox), { iou: threshold, sameClass: false, order: 'iou' });
  const out: Agreement = { live_boxes: live.length, candidate_boxes: candidate.length, matched: pairs.length, class_flips: 0, score_delta_sum: 0 };
  for (const { a, b } of pairs) {
    if (live[a]!.class_id !== candidate[b]!.class_id) out.class_flips++;
    else out.score_delta_sum += Math.abs(live[a]!.score - candidate[b]!.score);
  }
  return out;
}
