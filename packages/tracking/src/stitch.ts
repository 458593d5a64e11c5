import { boxIou, type TrackedDetection, type VideoFrameLine, type VideoSegmentPlan } from '@spotter/shared';
import { linearAssignment } from './linear-assignment.js';

/** A frame as a segment tracked it: its detections carry the segment's own track ids. */
export interface SegmentFrame {
  /** Presentation timestamp in the stream's time base: the same frame has the same pts in every segment. */
  pts: number;
  /** Seconds from the clip start. */
  time: number;
  detections: TrackedDetection[];
}

/** What one segment produced: every frame it decoded, overlap included, in time order. */
export interface SegmentRun {
  plan: VideoSegmentPlan;
  frames: SegmentFrame[];
}

export interface Boundary {
  /** The later segment of the pair. */
  index: number;
  /** Frames both segments decoded (the later one's warm-up). */
  overlapFrames: number;
  /** Tracks of the later segment that continue one of the earlier segment's. */
  continued: number;
  /** Tracks of the later segment that start anew at the handover. */
  started: number;
}

/**
 * Joins per-segment tracks into tracks of the whole clip. Segment k + 1 starts on a keyframe
 * inside segment k's decode range; the frames both decoded are its warm-up. There, the same
 * pictures gave the same detections, so a track of k and a track of k + 1 that hold the same
 * boxes (IoU >= 0.5) are one object: the pairs sharing the most frames are joined (one to
 * one, by linear assignment). Each frame is then answered by the segment it belongs to
 * (from_s <= time < until_s), so the later segment's tracker has run the whole overlap before
 * its ids are used. Ids are renumbered 1, 2, 3... in order of first appearance, so the same
 * clip gives the same ids whichever workers ran its segments. Untracked detections are kept
 * when they score at least `keepUntracked` (an object not confirmed yet).
 */
export function stitchSegments(runs: readonly SegmentRun[], keepUntracked: number): { frames: VideoFrameLine[]; boundaries: Boundary[] } {
  const sorted = [...runs].sort((a, b) => a.plan.index - b.plan.index);
  // Global id of each (segment, local id), before renumbering.
  const global = new Map<string, number>();
  let next = 1;
  const boundaries: Boundary[] = [];
  const idOf = (k: number, local: number) => {
    const key = `${k}:${local}`;
    if (!global.has(key)) global.set(key, next++);
    return global.get(key)!;
  };
  for (const [k, run] of sorted.entries()) {
    if (k === 0) continue;
    const prev = sorted[k - 1]!;
    const byPts = new Map(prev.frames.map((f) => [f.pts, f]));
    const overlap = run.frames.filter((f) => f.time < run.plan.from_s && byPts.has(f.pts));
    const weights = new Map<number, Map<number, number>>();
    for (const f of overlap) {
      const before = byPts.get(f.pts)!;
      for (const b of f.detections) {
        if (b.track_id === null) continue;
        for (const a of before.detections) {
          if (a.track_id === null || a.class_id !== b.class_id || boxIou(a.box, b.box) < 0.5) continue;
          const row = weights.get(a.track_id) ?? new Map<number, number>();
          row.set(b.track_id, (row.get(b.track_id) ?? 0) + 1);
          weights.set(a.track_id, row);
        }
      }
    }
    const left = [...weights.keys()];
    const right = [...new Set(left.flatMap((a) => [...weights.get(a)!.keys()]))];
    const cost = left.map((a) => right.map((b) => -(weights.get(a)!.get(b) ?? 0)));
    const { pairs } = linearAssignment(cost, 0);
    for (const [i, j] of pairs) global.set(`${k}:${right[j]}`, idOf(k - 1, left[i]!));
    const answered = new Set(run.frames.filter((f) => f.time >= run.plan.from_s).flatMap((f) => f.detections.map((d) => d.track_id).filter((t): t is number => t !== null)));
    const continued = pairs.filter(([, j]) => answered.has(right[j]!)).length;
    boundaries.push({ index: run.plan.index, overlapFrames: overlap.length, continued, started: answered.size - continued });
  }
  const frames: VideoFrameLine[] = [];
  for (const [k, run] of sorted.entries()) {
    for (const f of run.frames) {
      if (f.time < run.plan.from_s || f.time >= run.plan.until_s) continue;
      const detections = f.detections
        .filter((d) => d.track_id !== null || d.score >= keepUntracked)
        .map((d) => ({ ...d, track_id: d.track_id === null ? null : idOf(k, d.track_id) }));
      frames.push({ frame: 0, time: f.time, detections });
    }
  }
  frames.sort((a, b) => a.time - b.time);
  // 1, 2, 3... in order of first appearance.
  const renumbered = new Map<number, number>();
  for (const [i, f] of frames.entries()) {
    f.frame = i;
    for (const d of f.detections) {
      if (d.track_id === null) continue;
      if (!renumbered.has(d.track_id)) renumbered.set(d.track_id, renumbered.size + 1);
      d.track_id = renumbered.get(d.track_id)!;
    }
  }
  return { frames, boundaries };
}
