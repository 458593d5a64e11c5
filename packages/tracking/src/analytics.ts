import type { CountingLine, VideoCounts, VideoEventItem, VideoFrameLine, VideoTrack, Zone } from '@spotter/shared';
import { anchorOf, crosses, insidePolygon, sideOf, type Anchor, type Point } from './regions.js';

interface Seen {
  frame: number;
  time: number;
  point: Point;
  detection: VideoFrameLine['detections'][number];
}

const PATH_POINTS = 24;
const round = (v: number, d = 3) => Math.round(v * 10 ** d) / 10 ** d;

/** Every tracked detection of the clip, grouped by track, in time order. */
function byTrack(frames: readonly VideoFrameLine[], anchor: Anchor): Map<number, Seen[]> {
  const out = new Map<number, Seen[]>();
  for (const f of frames) {
    for (const d of f.detections) {
      if (d.track_id === null) continue;
      const list = out.get(d.track_id) ?? [];
      list.push({ frame: f.frame, time: f.time, point: anchorOf(d.box, anchor), detection: d });
      out.set(d.track_id, list);
    }
  }
  return out;
}

/** The most frequent label of a track (class-aware tracks have one). */
function labelOf(seen: Seen[]) {
  const votes = new Map<string, { n: number; classId: number }>();
  for (const s of seen) {
    const v = votes.get(s.detection.label) ?? { n: 0, classId: s.detection.class_id };
    v.n++;
    votes.set(s.detection.label, v);
  }
  const [label, { classId }] = [...votes].sort((a, b) => b[1].n - a[1].n)[0]!;
  return { label, classId };
}

/**
 * What a clip's tracks add up to: a summary of each track (its span, its path), the tracked
 * objects of each class and in each zone frame by frame, line crossings (the anchor's move
 * between two detections of a track crossing the line's segment) and zone dwells (from the
 * first detection inside to the last, closed when the track leaves or ends).
 */
export function analyseTracks(frames: readonly VideoFrameLine[], opts: { lines: readonly CountingLine[]; zones: readonly Zone[]; anchor: Anchor }) {
  const tracks = byTrack(frames, opts.anchor);
  const summaries: VideoTrack[] = [];
  const events: VideoEventItem[] = [];
  const totals: Record<string, number> = {};
  const lines: VideoCounts['lines'] = Object.fromEntries(opts.lines.map((l) => [l.name, { in: {}, out: {} }]));
  for (const [id, seen] of tracks) {
    const { label, classId } = labelOf(seen);
    totals[label] = (totals[label] ?? 0) + 1;
    let distance = 0;
    for (let i = 1; i < seen.length; i++) distance += Math.hypot(seen[i]!.point[0] - seen[i - 1]!.point[0], seen[i]!.point[1] - seen[i - 1]!.point[1]);
    const step = Math.max(1, (seen.length - 1) / (PATH_POINTS - 1));
    const picks = [...new Set(Array.from({ length: Math.min(PATH_POINTS, seen.length) }, (_, i) => Math.min(seen.length - 1, Math.round(i * step))))];
    summaries.push({
      id,
      label,
      class_id: classId,
      first_time: seen[0]!.time,
      last_time: seen.at(-1)!.time,
      first_frame: seen[0]!.frame,
      last_frame: seen.at(-1)!.frame,
      frames: seen.length,
      mean_score: round(seen.reduce((s, x) => s + x.detection.score, 0) / seen.length, 4),
      distance_px: round(distance, 1),
      path: picks.map((i) => ({ time: seen[i]!.time, box: seen[i]!.detection.box })),
    });
    for (const line of opts.lines) {
      const [a, b] = line.points;
      // The side the anchor was last seen on (points on the line itself belong to neither).
      let last: { side: number; point: Point } | null = null;
      for (const s of seen) {
        const side = sideOf(a, b, s.point);
        if (side === 0) continue;
        if (last && side !== last.side && crosses(a, b, last.point, s.point)) {
          const direction = side > 0 ? 'in' : 'out';
          const counted = lines[line.name]![direction];
          counted[label] = (counted[label] ?? 0) + 1;
          events.push({ type: 'line_crossing', line: line.name, direction, track_id: id, label, class_id: classId, time: s.time, frame: s.frame });
        }
        last = { side, point: s.point };
      }
    }
    for (const zone of opts.zones) {
      let entered: Seen | null = null;
      let last: Seen | null = null;
      const close = () => {
        if (entered && last) events.push({ type: 'zone_dwell', zone: zone.name, track_id: id, label, class_id: classId, entered_at: entered.time, exited_at: last.time, dwell_s: round(last.time - entered.time), first_frame: entered.frame, last_frame: last.frame });
        entered = null;
      };
      for (const s of seen) {
        if (insidePolygon(zone.polygon, s.point)) {
          entered ??= s;
          last = s;
        } else close();
      }
      close();
    }
  }
  summaries.sort((a, b) => a.id - b.id);
  events.sort((a, b) => (a.type === 'line_crossing' ? a.time : a.entered_at) - (b.type === 'line_crossing' ? b.time : b.entered_at) || a.track_id - b.track_id);
  return { tracks: summaries, events, counts: countsOf(frames, opts, totals, lines) };
}

function countsOf(frames: readonly VideoFrameLine[], opts: { zones: readonly Zone[]; anchor: Anchor }, totals: Record<string, number>, lines: VideoCounts['lines']): VideoCounts {
  const labels = Object.keys(totals).sort();
  const classes: Record<string, number[]> = Object.fromEntries(labels.map((l) => [l, []]));
  const zones: Record<string, number[]> = Object.fromEntries(opts.zones.map((z) => [z.name, []]));
  for (const f of frames) {
    const tracked = f.detections.filter((d) => d.track_id !== null);
    for (const l of labels) classes[l]!.push(tracked.filter((d) => d.label === l).length);
    for (const z of opts.zones) zones[z.name]!.push(tracked.filter((d) => insidePolygon(z.polygon, anchorOf(d.box, opts.anchor))).length);
  }
  return { times: frames.map((f) => f.time), classes, zones, totals, lines };
}
