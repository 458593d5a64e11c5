import { describe, expect, it } from 'vitest';
import { ByteTracker, DEFAULT_TRACKER, type TrackerDetection } from './byte-tracker.js';

const det = (cx: number, cy: number, score = 0.9, classId = 0, w = 40, h = 80): TrackerDetection => ({ box: { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2 }, score, classId });

/** Runs the tracker over frames of detections; the final ids per frame (after confirmations filled in). */
function run(frames: TrackerDetection[][], settings = DEFAULT_TRACKER, fps = 10) {
  const t = new ByteTracker(settings, fps);
  for (const f of frames) t.update(f);
  return t.labels;
}

describe('ByteTracker', () => {
  it('keeps each of two objects on its id while their paths cross', () => {
    // A walks right, B walks left on nearly the same row: they overlap around frame 10.
    const frames = Array.from({ length: 21 }, (_, f) => [det(100 + 10 * f, 200), det(300 - 10 * f, 210)]);
    const ids = run(frames);
    expect(new Set(ids.map((f) => f[0]))).toEqual(new Set([1]));
    expect(new Set(ids.map((f) => f[1]))).toEqual(new Set([2]));
  });

  it('keeps a track through low-score detections (the second association), and loses it without it', () => {
    const scores = [0.9, 0.9, 0.9, 0.3, 0.25, 0.3, 0.9, 0.9];
    const frames = scores.map((s, f) => [det(100 + 8 * f, 100, s)]);
    expect(run(frames).map((f) => f[0])).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    // Low detections ignored altogether: the track is lost for three frames, then found again by its motion.
    const ids = run(frames, { ...DEFAULT_TRACKER, lowScore: 0.5 });
    expect(ids.map((f) => f[0])).toEqual([1, 1, 1, null, null, null, 1, 1]);
  });

  it('finds an occluded object again within lost_s, and gives it a new id after', () => {
    const visible = (f: number) => f < 5 || f >= 9;
    const frames = Array.from({ length: 14 }, (_, f) => (visible(f) ? [det(100 + 5 * f, 100)] : []));
    expect(run(frames, DEFAULT_TRACKER, 10).flat()).toEqual(Array(10).fill(1));
    // 4 frames at 10 fps is longer than 0.2 s.
    expect(run(frames, { ...DEFAULT_TRACKER, lostS: 0.2 }, 10).flat()).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
  });

  it('confirms a new track on its second frame and labels its first detection then', () => {
    const frames = [[det(50, 50)], [det(50, 50), det(400, 300)], [det(50, 50), det(405, 300)], [det(50, 50), det(410, 300)]];
    const t = new ByteTracker(DEFAULT_TRACKER, 10);
    t.update(frames[0]!);
    expect(t.update(frames[1]!)).toEqual([1, null]);
    expect(t.update(frames[2]!)).toEqual([1, 2]);
    expect(t.labels[1]).toEqual([1, 2]);
    // A one-frame blip never becomes a track.
    expect(run([[det(50, 50)], [det(50, 50), det(400, 300)], [det(50, 50)]])[1]).toEqual([1, null]);
  });

  it('does not start tracks from detections under new_track_score, and keeps classes apart', () => {
    expect(run([[det(50, 50, 0.55)], [det(50, 50, 0.55)], [det(50, 50, 0.55)]]).flat()).toEqual([null, null, null]);
    // Same place, another class: another track (confirmed on its second frame, its first detection labelled then).
    const ids = run([[det(50, 50, 0.9, 0)], [det(50, 50, 0.9, 1)], [det(50, 50, 0.9, 1)]]);
    expect(ids).toEqual([[1], [2], [2]]);
    expect(run([[det(50, 50, 0.9, 0)], [det(50, 50, 0.9, 1)], [det(50, 50, 0.9, 1)]], { ...DEFAULT_TRACKER, classAware: false })).toEqual([[1], [1], [1]]);
  });
});
