import type { VideoFrameLine } from '@spotter/shared';
import { describe, expect, it } from 'vitest';
import { analyseTracks } from './analytics.js';

const box = (cx: number, bottom: number) => ({ x1: cx - 10, y1: bottom - 40, x2: cx + 10, y2: bottom });

/** Car 1 drives right along y = 100 through x = 0..180; person 2 stands at (300, 100) from frame 3. */
const frames: VideoFrameLine[] = Array.from({ length: 10 }, (_, f) => ({
  frame: f,
  time: f / 2,
  detections: [
    { track_id: 1, label: 'car', class_id: 2, score: 0.8, box: box(20 * f, 100) },
    ...(f >= 3 ? [{ track_id: 2, label: 'person', class_id: 0, score: 0.6, box: box(300, 100) }] : []),
    { track_id: null, label: 'car', class_id: 2, score: 0.9, box: box(500, 500) },
  ],
}));

describe('analysing tracks', () => {
  const opts = {
    // A vertical line at x = 90 drawn upwards: looking from its first point to its second, moving right is
    // crossing from its left to its right ("in"); a horizontal line drawn left to right has "in" downwards.
    lines: [{ name: 'gate', points: [[90, 200], [90, 0]] as [[number, number], [number, number]] }],
    zones: [{ name: 'lot', polygon: [[40, 50], [140, 50], [140, 150], [40, 150]] as [number, number][] }],
    anchor: 'bottom_center' as const,
  };

  it('summarises each track: span, frames, mean score, path and distance', () => {
    const { tracks } = analyseTracks(frames, opts);
    expect(tracks.map((t) => [t.id, t.label, t.first_frame, t.last_frame, t.frames])).toEqual([[1, 'car', 0, 9, 10], [2, 'person', 3, 9, 7]]);
    expect(tracks[0]).toMatchObject({ first_time: 0, last_time: 4.5, mean_score: 0.8, distance_px: 180 });
    expect(tracks[0]!.path).toHaveLength(10);
    expect(tracks[0]!.path.at(-1)).toEqual({ time: 4.5, box: box(180, 100) });
  });

  it('counts a line crossing once, with its direction, and a zone stay as one dwell', () => {
    const { events, counts } = analyseTracks(frames, opts);
    expect(events).toEqual([
      { type: 'zone_dwell', zone: 'lot', track_id: 1, label: 'car', class_id: 2, entered_at: 1, exited_at: 3, dwell_s: 2, first_frame: 2, last_frame: 6 },
      { type: 'line_crossing', line: 'gate', direction: 'in', track_id: 1, label: 'car', class_id: 2, time: 2.5, frame: 5 },
    ]);
    expect(counts.lines).toEqual({ gate: { in: { car: 1 }, out: {} } });
    // Driving back the other way is "out".
    const back = frames.map((f) => ({ ...f, detections: f.detections.map((d) => (d.track_id === 1 ? { ...d, box: box(180 - 20 * f.frame, 100) } : d)) }));
    expect(analyseTracks(back, opts).counts.lines).toEqual({ gate: { in: {}, out: { car: 1 } } });
  });

  it('counts tracked objects per class and per zone in every frame, and distinct tracks per class', () => {
    const { counts } = analyseTracks(frames, opts);
    expect(counts.times).toEqual(frames.map((f) => f.time));
    expect(counts.classes).toEqual({ car: Array(10).fill(1), person: [0, 0, 0, 1, 1, 1, 1, 1, 1, 1] });
    // The zone's left edge (x = 40) is inside, its right edge (x = 140) outside.
    expect(counts.zones.lot).toEqual([0, 0, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(counts.totals).toEqual({ car: 1, person: 1 });
  });
});
