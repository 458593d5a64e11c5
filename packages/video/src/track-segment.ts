import { sampledFrames, type Detection, type VideoOptions, type VideoSegmentPlan } from '@spotter/shared';
import { ByteTracker, type SegmentRun, type TrackerSettings } from '@spotter/tracking';
import { fitGeometry, type FitTarget, type ModelInput } from '@spotter/vision';
import { decodeFrames } from './decode-frames.js';
import type { VideoProbe } from './probe-video.js';
import type { FfmpegTools } from './tools.js';

/** The model, as a segment needs it: what frames are fitted to (the detector's `fit`) and one call per frame. */
export interface FrameDetector {
  fit: FitTarget;
  detect(frame: ModelInput, minScore: number): Promise<Detection[]>;
}

export interface SegmentInput {
  file: string;
  probe: VideoProbe;
  plan: VideoSegmentPlan;
  options: VideoOptions;
  maxPixels: number;
  stallMs: number;
  signal?: AbortSignal;
  /** Called after each frame with the number done so far (progress). */
  onFrame?: (done: number) => void;
}

/** The API's tracker options as @spotter/tracking spells them. */
export function trackerSettings(t: VideoOptions['tracker']): TrackerSettings {
  return { highScore: t.high_score, lowScore: t.low_score, newTrackScore: t.new_track_score, matchIou: t.match_iou, lowMatchIou: t.low_match_iou, lostS: t.lost_s, classAware: t.class_aware };
}

/**
 * Runs one segment: decodes its sampled frames (its keyframe to the end of its overlap),
 * detects each, keeps the classes asked for, and tracks them with ByteTrack. Returns every
 * frame it decoded with the segment's own track ids, for `stitchSegments`.
 */
export async function trackSegment(tools: FfmpegTools, detector: FrameDetector, o: SegmentInput): Promise<SegmentRun> {
  const { width, height } = o.probe.info;
  // Frames are fitted as the worker fits images (ffmpeg scales them; the model's padding follows).
  const fit = fitGeometry(width, height, detector.fit);
  const rate = o.options.fps > 0 ? o.options.fps : o.probe.info.fps;
  const tracker = new ByteTracker(trackerSettings(o.options.tracker), rate);
  const keep = o.options.classes ? new Set(o.options.classes) : null;
  const span = Math.min(o.plan.until_s, o.probe.info.duration_s) - o.plan.start_s;
  const frames: SegmentRun['frames'] = [];
  const decoded = decodeFrames(tools, {
    file: o.file,
    probe: o.probe,
    startS: o.plan.start_s,
    untilS: o.plan.until_s,
    fps: o.options.fps,
    width: fit.fitWidth,
    height: fit.fitHeight,
    maxPixels: o.maxPixels,
    // Room for rounding at both ends; a stream giving far more than its packets promised is cut off.
    maxFrames: sampledFrames(span, o.options.fps, o.probe.info.frames) + 16,
    stallMs: o.stallMs,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  for await (const f of decoded) {
    const all = await detector.detect({ width, height, pixels: f.pixels, ...fit }, o.options.min_score);
    const detections = keep ? all.filter((d) => keep.has(d.class_id)) : all;
    tracker.update(detections.map((d) => ({ box: d.box, score: d.score, classId: d.class_id })));
    frames.push({ pts: f.pts, time: f.time, detections: detections.map((d) => ({ track_id: null, label: d.label, class_id: d.class_id, score: d.score, box: d.box })) });
    o.onFrame?.(frames.length);
  }
  // Ids fill in as tracks confirm, so they are read once the segment is done.
  frames.forEach((f, i) => f.detections.forEach((d, j) => (d.track_id = tracker.labels[i]?.[j] ?? null)));
  return { plan: o.plan, frames };
}
