import type { TrackedDetection, VideoSegmentPlan } from '@spotter/shared';
import { describe, expect, it } from 'vitest';
import { ByteTracker, DEFAULT_TRACKER } from './byte-tracker.js';
import { stitchSegments, type SegmentFrame, type SegmentRun } from './stitch.js';

const FPS = 10;

/** Three people walking across 12 s of frames: two cross each other, one pauses out of sight for 0.4 s. */
function scene(): { time: number; pts: number; dets: Omit<TrackedDetection, 'track_id'>[] }[] {
  return Array.from({ length: 120 }, (_, f) => {
    const t = f / FPS;
    const box = (cx: number, cy: number) => ({ x1: cx - 15, y1: cy - 40, x2: cx + 15, y2: cy + 40 });
    const person = (cx: number, cy: number) => ({ label: 'person', class_id: 0, score: 0.9, box: box(cx, cy) });
    const dets = [person(50 + 40 * t, 200), person(530 - 40 * t, 210)];
    if (f < 70 || f >= 74) dets.push(person(300, 60 + 20 * t));
    return { time: t, pts: f * 100, dets };
  });
}

/** Tracks the frames of each plan's decode range [start_s, until_s) with a fresh tracker, as a worker would. */
function runSegments(plans: VideoSegmentPlan[]): SegmentRun[] {
  const frames = scene();
  return plans.map((plan) => {
    const mine = frames.filter((f) => f.time >= plan.start_s && f.time < plan.until_s);
    const tracker = new ByteTracker(DEFAULT_TRACKER, FPS);
    for (const f of mine) tracker.update(f.dets.map((d) => ({ box: d.box, score: d.score, classId: d.class_id })));
    const out: SegmentFrame[] = mine.map((f, i) => ({ pts: f.pts, time: f.time, detections: f.dets.map((d, j) => ({ ...d, track_id: tracker.labels[i]![j]! })) }));
    return { plan, frames: out };
  });
}

/** Segments of `length` s starting every `length` s, each decoding `overlap` s past its end. */
const plans = (length: number, overlap: number): VideoSegmentPlan[] =>
  Array.from({ length: Math.ceil(12 / length) }, (_, k) => ({ index: k, start_s: k * length, from_s: k === 0 ? 0 : k * length + overlap, until_s: k === Math.ceil(12 / length) - 1 ? 12 : (k + 1) * length + overlap }));

const tracksOf = (frames: ReturnType<typeof stitchSegments>['frames']) => frames.map((f) => f.detections.map((d) => d.track_id));

describe('stitching segments', () => {
  it('gives the same ids split in 1, 3 or 6 segments as tracking the clip in one piece', () => {
    const whole = stitchSegments(runSegments(plans(12, 0)), 0.5);
    expect(whole.frames).toHaveLength(120);
    expect(new Set(tracksOf(whole.frames).flat())).toEqual(new Set([1, 2, 3]));
    for (const n of [3, 6]) {
      const split = stitchSegments(runSegments(plans(12 / n, 1)), 0.5);
      expect(split.frames.map((f) => f.time)).toEqual(whole.frames.map((f) => f.time));
      expect(tracksOf(split.frames), `${n} segments`).toEqual(tracksOf(whole.frames));
      expect(split.boundaries).toHaveLength(n - 1);
      for (const b of split.boundaries) expect(b.overlapFrames).toBe(10);
    }
  });

  it('starts a new id when a segment has no overlap to match on', () => {
    const split = stitchSegments(runSegments(plans(6, 0)), 0.5);
    expect(new Set(tracksOf(split.frames).flat()).size).toBe(6);
    expect(split.boundaries[0]).toMatchObject({ overlapFrames: 0, continued: 0, started: 3 });
  });

  it('keeps untracked detections only when they score at least keepUntracked', () => {
    const run: SegmentRun = {
      plan: { index: 0, start_s: 0, from_s: 0, until_s: 1 },
      frames: [{ pts: 0, time: 0, detections: [{ track_id: null, label: 'car', class_id: 2, score: 0.3, box: { x1: 0, y1: 0, x2: 1, y2: 1 } }, { track_id: null, label: 'car', class_id: 2, score: 0.7, box: { x1: 5, y1: 5, x2: 9, y2: 9 } }] }],
    };
    expect(stitchSegments([run], 0.5).frames[0]!.detections.map((d) => d.score)).toEqual([0.7]);
  });
});
