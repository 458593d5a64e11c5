import { boxIou, type Corners } from '@spotter/shared';
import { initiate, predict, update, type KalmanState } from './kalman-filter.js';
import { linearAssignment } from './linear-assignment.js';

/** One detection of a frame, as the tracker sees it. */
export interface TrackerDetection {
  box: Corners;
  score: number;
  classId: number;
}

/** ByteTrack's knobs (the defaults are the paper's, with its 30-frame buffer expressed in seconds). */
export interface TrackerSettings {
  /** Detections at or above this score open and carry tracks (first association). */
  highScore: number;
  /** Detections between this and `highScore` only keep existing tracks alive (second association). */
  lowScore: number;
  /** A detection that starts a new track must score at least this. */
  newTrackScore: number;
  /** Smallest IoU (score-weighted) for the first association. */
  matchIou: number;
  /** Smallest IoU for the second association, with the low-score detections. */
  lowMatchIou: number;
  /** How long a lost track may be found again, in seconds. */
  lostS: number;
  /** Associate only detections of the track's class. */
  classAware: boolean;
}

export const DEFAULT_TRACKER: TrackerSettings = { highScore: 0.5, lowScore: 0.1, newTrackScore: 0.6, matchIou: 0.2, lowMatchIou: 0.5, lostS: 1, classAware: true };

type State = 'tracked' | 'lost' | 'removed';

interface Track {
  id: number;
  classId: number;
  kf: KalmanState;
  state: State;
  /** Confirmed: matched in two frames (or born on the first frame). Only confirmed tracks are output. */
  confirmed: boolean;
  score: number;
  startFrame: number;
  lastFrame: number;
  /** Detections taken before confirmation (frame, index), labelled once it is confirmed. */
  pending: [number, number][];
  /** The detection it took in the current frame. */
  taken: number | null;
}

const toXyah = (b: Corners) => {
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  return [b.x1 + w / 2, b.y1 + h / 2, w / Math.max(h, 1e-6), h];
};

/** The box a track's Kalman mean stands for. */
function boxOf(t: Track): Corners {
  const [x, y, a, h] = t.kf.mean;
  const w = a! * h!;
  return { x1: x! - w / 2, y1: y! - h! / 2, x2: x! + w / 2, y2: y! + h! / 2 };
}

/**
 * ByteTrack (Zhang et al., 2022): every track is predicted by its Kalman filter, then matched
 * to the frame's high-score detections by IoU (weighted by score), then the tracks left over
 * to the low-score detections, which recover objects the detector is unsure of (occlusion,
 * blur) instead of dropping them. Unmatched tracks are kept `lostS` seconds to be found
 * again; a new track needs a second frame to be confirmed. `update` is called once per
 * frame, in time order, and labels each detection with a track id (or null). Ids are local
 * to this tracker, 1, 2, 3...
 */
export class ByteTracker {
  private tracks: Track[] = [];
  private frame = 0;
  private nextId = 1;
  private readonly maxLost: number;
  /** Track ids per frame, filled as tracks confirm (the frame index is the call's order). */
  readonly labels: (number | null)[][] = [];

  constructor(private readonly s: TrackerSettings, framesPerSecond: number) {
    this.maxLost = Math.max(1, Math.round(s.lostS * framesPerSecond));
  }

  /** Tracks one frame's detections; returns their track ids (null: not tracked), which may still fill in when a new track confirms. */
  update(dets: readonly TrackerDetection[]): (number | null)[] {
    const f = this.frame++;
    const labels: (number | null)[] = dets.map(() => null);
    this.labels.push(labels);
    const s = this.s;
    const high = dets.map((d, i) => [d, i] as const).filter(([d]) => d.score >= s.highScore);
    const low = dets.map((d, i) => [d, i] as const).filter(([d]) => d.score >= s.lowScore && d.score < s.highScore);

    const confirmed = this.tracks.filter((t) => t.confirmed && t.state !== 'removed');
    const unconfirmed = this.tracks.filter((t) => !t.confirmed && t.state === 'tracked');
    for (const t of [...confirmed, ...unconfirmed]) {
      t.taken = null;
      // A lost track keeps its course but stops growing or shrinking (ByteTrack's multi_predict).
      if (t.state !== 'tracked') t.kf.mean[7] = 0;
      predict(t.kf);
    }
    const take = (t: Track, det: TrackerDetection, index: number) => {
      update(t.kf, toXyah(det.box));
      t.score = det.score;
      t.state = 'tracked';
      t.lastFrame = f;
      t.taken = index;
      if (t.confirmed) labels[index] = t.id;
      else {
        t.confirmed = true;
        for (const [pf, pi] of t.pending) this.labels[pf]![pi] = t.id;
        t.pending = [];
        labels[index] = t.id;
      }
    };

    // 1. Confirmed tracks (tracked or lost) with the high-score detections.
    const first = this.match(confirmed, high.map(([d]) => d), s.matchIou, true);
    for (const [ti, di] of first.pairs) take(confirmed[ti]!, high[di]![0], high[di]![1]);
    // 2. Tracks still unmatched that were tracked in the last frame, with the low-score ones.
    const left = first.unmatchedRows.map((i) => confirmed[i]!).filter((t) => t.state === 'tracked');
    const second = this.match(left, low.map(([d]) => d), s.lowMatchIou, false);
    for (const [ti, di] of second.pairs) take(left[ti]!, low[di]![0], low[di]![1]);
    for (const i of second.unmatchedRows) left[i]!.state = 'lost';
    // 3. Tracks born last frame with the high-score detections nobody took.
    const rest = first.unmatchedCols.map((i) => high[i]!);
    const third = this.match(unconfirmed, rest.map(([d]) => d), 0.3, true);
    for (const [ti, di] of third.pairs) take(unconfirmed[ti]!, rest[di]![0], rest[di]![1]);
    for (const i of third.unmatchedRows) unconfirmed[i]!.state = 'removed';
    // 4. New tracks; on the very first frame they are confirmed at once.
    for (const i of third.unmatchedCols) {
      const [det, index] = rest[i]!;
      if (det.score < s.newTrackScore) continue;
      const t: Track = { id: this.nextId++, classId: det.classId, kf: initiate(toXyah(det.box)), state: 'tracked', confirmed: f === 0, score: det.score, startFrame: f, lastFrame: f, pending: f === 0 ? [] : [[f, index]], taken: index };
      if (t.confirmed) labels[index] = t.id;
      this.tracks.push(t);
    }
    // 5. Lost too long: gone. Duplicates (a lost track and a tracked one on the same object): the younger goes.
    for (const t of this.tracks) if (t.state === 'lost' && f - t.lastFrame > this.maxLost) t.state = 'removed';
    this.dropDuplicates(labels);
    this.tracks = this.tracks.filter((t) => t.state !== 'removed');
    return labels;
  }

  /** Matches tracks to detections on 1 - IoU (times the detection's score when `fuse`), pairs below `minIou` refused. */
  private match(tracks: Track[], dets: TrackerDetection[], minIou: number, fuse: boolean) {
    const cost = tracks.map((t) => {
      const box = boxOf(t);
      return dets.map((d) => {
        if (this.s.classAware && d.classId !== t.classId) return 1;
        const iou = boxIou(box, d.box);
        return 1 - (fuse ? iou * d.score : iou);
      });
    });
    return linearAssignment(cost, 1 - minIou, dets.length);
  }

  private dropDuplicates(labels: (number | null)[]) {
    const tracked = this.tracks.filter((t) => t.state === 'tracked' && t.confirmed);
    const lost = this.tracks.filter((t) => t.state === 'lost');
    for (const a of tracked) for (const b of lost) {
      if (b.state === 'removed' || a.classId !== b.classId || boxIou(boxOf(a), boxOf(b)) <= 0.85) continue;
      const younger = a.lastFrame - a.startFrame > b.lastFrame - b.startFrame ? b : a;
      younger.state = 'removed';
      if (younger.taken !== null && labels[younger.taken] === younger.id) labels[younger.taken] = null;
    }
  }
}
