import type { VideoSegmentPlan } from '@spotter/shared';

/**
 * Splits a clip into time segments that start on keyframes (so each decodes on its own), about
 * `segmentS` long. Segment k decodes from its keyframe up to `overlapS` past the next one's:
 * the frames both decode are the later segment's warm-up, where tracks are matched across the
 * boundary, and each frame is answered by exactly one segment (from_s <= t < until_s). A split
 * that would leave a last segment shorter than half a segment, or than twice the overlap, is
 * not made.
 */
export function planSegments(keyframes: readonly number[], durationS: number, segmentS: number, overlapS: number): VideoSegmentPlan[] {
  const starts = [0];
  const minTail = Math.max(segmentS / 2, 2 * overlapS);
  for (const k of [...keyframes].sort((a, b) => a - b)) {
    if (k >= starts.at(-1)! + segmentS && durationS - k >= minTail) starts.push(k);
  }
  return starts.map((start, i) => ({
    index: i,
    start_s: start,
    from_s: i === 0 ? 0 : start + overlapS,
    until_s: i === starts.length - 1 ? Number.MAX_SAFE_INTEGER : starts[i + 1]! + overlapS,
  }));
}

