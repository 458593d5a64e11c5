import { z } from 'zod';
import { Box, ErrorDetail, WebhookState } from './job-contract.js';
import { ModelName } from './model-manifest.js';

/**
 * Videos: one clip, split into time segments that run as jobs of the batch queue (after every
 * realtime job), tracked per segment, stitched into one set of tracks, then counted.
 */
export const VideoStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export type VideoStatus = z.infer<typeof VideoStatus>;
export const FinalVideoStatus = VideoStatus.extract(['succeeded', 'failed', 'cancelled']);
export type FinalVideoStatus = z.infer<typeof FinalVideoStatus>;

/** BullMQ job names of video work. Do not rename: jobs already in Redis would be stranded. */
export const VideoJobNames = { segment: 'video-segment', finish: 'video-finish', webhook: 'video' } as const;

/** A multipart text field holding JSON (lines, zones, tracker), or the JSON body's value as it is. */
const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v, ctx) => {
    if (typeof v !== 'string') return v;
    if (v.trim() === '') return undefined;
    try {
      return JSON.parse(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON' });
      return z.NEVER;
    }
  }, schema);

const Name = z.string().regex(/^[\w .:-]{1,64}$/, 'letters, digits, " ", "_", ".", ":" or "-" (at most 64)');
const Point = z.tuple([z.number(), z.number()]);

/** A counting line: crossings of its segment from one side to the other are counted ("in": left to right, looking from its first point to its second). */
export const CountingLine = z.object({ name: Name, points: z.tuple([Point, Point]) }).strict();
export type CountingLine = z.infer<typeof CountingLine>;

/** A zone: a polygon; a track's stay inside it is one dwell event. */
export const Zone = z.object({ name: Name, polygon: z.array(Point).min(3).max(64) }).strict();
export type Zone = z.infer<typeof Zone>;

/** ByteTrack's settings as the API spells them (see @spotter/tracking's TrackerSettings). */
export const TrackerOptions = z
  .object({
    high_score: z.number().min(0).max(1).default(0.5).describe('Detections at or above this open and carry tracks'),
    low_score: z.number().min(0).max(1).default(0.1).describe('Detections between this and high_score only keep tracks alive (second association)'),
    new_track_score: z.number().min(0).max(1).default(0.6).describe('Smallest score that starts a new track'),
    match_iou: z.number().min(0).max(1).default(0.2).describe('Smallest score-weighted IoU of the first association'),
    low_match_iou: z.number().min(0).max(1).default(0.5).describe('Smallest IoU of the second association'),
    lost_s: z.number().min(0).max(60).default(1).describe('How long a lost track may be found again, in seconds'),
    class_aware: z.boolean().default(true).describe('Associate detections with tracks of their own class only'),
  })
  .strict()
  .refine((t) => t.low_score <= t.high_score, { message: 'low_score must not exceed high_score' });
export type TrackerOptions = z.infer<typeof TrackerOptions>;

/** The options of POST /v1/videos (multipart text fields, or the JSON body's). */
export const CreateVideoFields = z
  .object({
    model: ModelName.optional().describe('Model name; the live model when absent'),
    min_score: z.preprocess((v) => (v === '' || v === undefined ? undefined : Number(v)), z.number({ error: 'must be a number between 0 and 1' }).min(0).max(1).default(0.1)).describe('Lowest detection score kept; the tracker uses those below tracker.high_score for its second association'),
    fps: z
      .preprocess((v) => (v === 'all' ? 0 : v === '' || v === undefined ? undefined : Number(v)), z.number({ error: 'must be a number of frames per second, or "all"' }).min(0).max(120).default(15))
      .refine((v) => v === 0 || v >= 0.1, 'must be at least 0.1, or 0 / "all" for every frame')
      .describe('Frames per second to sample on a grid from the clip start; 0 or "all": every frame'),
    classes: z
      .preprocess((v) => (typeof v === 'string' ? (v.trim() ? v.split(',').map((s) => s.trim()) : undefined) : v), z.array(z.union([z.string().min(1).max(64), z.number().int().min(0)])).min(1).max(1000).optional())
      .describe('Classes to keep, by label or id (comma-separated in a form); all when absent'),
    tracker: json(TrackerOptions.optional()).describe('Tracker settings (JSON in a form)'),
    lines: json(z.array(CountingLine).max(16).default([])).describe('Counting lines (JSON in a form)'),
    zones: json(z.array(Zone).max(16).default([])).describe('Zones (JSON in a form)'),
    units: z.enum(['pixels', 'normalized']).default('pixels').describe('Units of lines and zones: pixels of the frame, or 0..1 of its width and height'),
    anchor: z.enum(['bottom_center', 'center']).default('bottom_center').describe('The point of a box that crosses lines and enters zones'),
    segment_s: z.preprocess((v) => (v === '' || v === undefined ? undefined : Number(v)), z.number({ error: 'must be a number of seconds' }).min(1).max(3600).optional()).describe('Target segment length in seconds (SPOTTER_VIDEO_SEGMENT_S by default); segments start on keyframes'),
    webhook_url: z.url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' }).max(2048).optional().describe('Called with a signed POST when the video is final'),
  })
  .strict();
export type CreateVideoFields = z.infer<typeof CreateVideoFields>;

/** The JSON form of POST /v1/videos: a clip already in Spotter's bucket under the intake folder. */
export const CreateVideoFromKey = CreateVideoFields.extend({ source: z.object({ key: z.string().min(1).max(1024) }).strict() }).strict();

/** What probing found in the clip. */
export const VideoInfo = z.object({
  container: z.string(),
  codec: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  /** Nominal frame rate of the video stream. */
  fps: z.number(),
  duration_s: z.number(),
  /** Frames in the video stream (its packets). */
  frames: z.number().int(),
  bytes: z.number().int(),
});
export type VideoInfo = z.infer<typeof VideoInfo>;

/** The options as the video runs them: classes resolved to ids, lines and zones in pixels. */
export const VideoOptions = z.object({
  fps: z.number(),
  min_score: z.number(),
  classes: z.array(z.number().int()).nullable(),
  tracker: TrackerOptions,
  lines: z.array(CountingLine),
  zones: z.array(Zone),
  anchor: z.enum(['bottom_center', 'center']),
  segment_s: z.number(),
});
export type VideoOptions = z.infer<typeof VideoOptions>;

/** One time segment: decoded from its keyframe `start_s`, its frames in [from_s, until_s) are the ones it answers for; the rest is overlap. */
export const VideoSegmentPlan = z.object({ index: z.number().int(), start_s: z.number(), from_s: z.number(), until_s: z.number() });
export type VideoSegmentPlan = z.infer<typeof VideoSegmentPlan>;

export const VideoProgress = z.object({
  frames_done: z.number().int(),
  frames_total: z.number().int().describe('Frames to sample (estimated from the probe until the video is final)'),
  segments_done: z.number().int(),
  segments_running: z.number().int(),
  segments_total: z.number().int(),
  /** Share done, 0..1. */
  share: z.number(),
});

export const VideoSummary = z.object({
  frames: z.number().int(),
  tracks: z.number().int(),
  tracks_by_class: z.record(z.string(), z.number().int()),
  line_crossings: z.record(z.string(), z.object({ in: z.number().int(), out: z.number().int() })),
  zone_visits: z.record(z.string(), z.number().int()),
  /** Clip seconds per second of processing, from the first segment's start to the end. */
  realtime_factor: z.number().nullable(),
  annotated: z.boolean().describe('Whether the annotated MP4 was made'),
});
export type VideoSummary = z.infer<typeof VideoSummary>;

/** GET /v1/videos/{id}/detections: a page of the sampled frames (all of them without `limit`). */
export const DetectionsQuery = z.object({
  from_frame: z.coerce.number().int().min(0).default(0).describe('The first sampled frame of the page (its `frame`)'),
  limit: z.coerce.number().int().min(1).max(10_000).optional().describe('Frames in the page; a `Link: rel="next"` header points at the next one'),
});

export const VideoLinks = z.object({ self: z.string(), detections: z.string(), tracks: z.string(), counts: z.string(), events: z.string(), annotated: z.string() });

/** The body of GET /v1/videos/{id}, and the `video` of a video webhook event. */
export const VideoView = z.object({
  id: z.uuid(),
  status: VideoStatus,
  model: z.string(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  source: z.enum(['upload', 'storage']),
  video: VideoInfo,
  options: VideoOptions,
  progress: VideoProgress,
  summary: VideoSummary.nullable(),
  error: ErrorDetail.nullable(),
  links: VideoLinks,
  webhook: WebhookState.nullable(),
});
export type VideoView = z.infer<typeof VideoView>;

export const VideoEvent = z.enum(['video.succeeded', 'video.failed', 'video.cancelled']);
export type VideoEvent = z.infer<typeof VideoEvent>;

/** Queue payloads: a segment to run, the stitching and results, the one final webhook. */
export const VideoSegmentJobData = z.object({ video_id: z.uuid(), index: z.number().int().nonnegative() });
export type VideoSegmentJobData = z.infer<typeof VideoSegmentJobData>;
export const VideoFinishJobData = z.object({ video_id: z.uuid() });
export type VideoFinishJobData = z.infer<typeof VideoFinishJobData>;
export const VideoWebhookJobData = z.object({ video_id: z.uuid(), event: VideoEvent });
export type VideoWebhookJobData = z.infer<typeof VideoWebhookJobData>;

/** A detection of a frame with the id of its track (null: not tracked). */
export const TrackedDetection = z.object({ track_id: z.number().int().nullable(), label: z.string(), class_id: z.number().int(), score: z.number(), box: Box });
export type TrackedDetection = z.infer<typeof TrackedDetection>;

/** One line of GET /v1/videos/{id}/detections (JSON Lines): a sampled frame. */
export const VideoFrameLine = z.object({ frame: z.number().int(), time: z.number(), detections: z.array(TrackedDetection) });
export type VideoFrameLine = z.infer<typeof VideoFrameLine>;

export const VideoTrack = z.object({
  id: z.number().int(),
  label: z.string(),
  class_id: z.number().int(),
  first_time: z.number(),
  last_time: z.number(),
  first_frame: z.number().int(),
  last_frame: z.number().int(),
  frames: z.number().int().describe('Frames it was detected in'),
  mean_score: z.number(),
  distance_px: z.number().describe('Path length of its anchor point, in pixels'),
  path: z.array(z.object({ time: z.number(), box: Box })).describe('Its box at up to 24 evenly spread detections, first and last included'),
});
export type VideoTrack = z.infer<typeof VideoTrack>;

export const VideoCounts = z.object({
  times: z.array(z.number()).describe('Time of each sampled frame, seconds from the clip start'),
  classes: z.record(z.string(), z.array(z.number().int())).describe('Tracked objects of each class visible in each frame'),
  zones: z.record(z.string(), z.array(z.number().int())).describe('Tracked objects inside each zone in each frame'),
  totals: z.record(z.string(), z.number().int()).describe('Distinct tracks of each class'),
  lines: z.record(z.string(), z.object({ in: z.record(z.string(), z.number().int()), out: z.record(z.string(), z.number().int()) })).describe('Crossings of each line by direction and class'),
});
export type VideoCounts = z.infer<typeof VideoCounts>;

export const VideoEventItem = z.discriminatedUnion('type', [
  z.object({ type: z.literal('line_crossing'), line: z.string(), direction: z.enum(['in', 'out']), track_id: z.number().int(), label: z.string(), class_id: z.number().int(), time: z.number(), frame: z.number().int() }),
  z.object({ type: z.literal('zone_dwell'), zone: z.string(), track_id: z.number().int(), label: z.string(), class_id: z.number().int(), entered_at: z.number(), exited_at: z.number(), dwell_s: z.number(), first_frame: z.number().int(), last_frame: z.number().int() }),
]);
export type VideoEventItem = z.infer<typeof VideoEventItem>;

/** Links to a video's resources, absolute when a public URL is configured. */
export function videoLinks(id: string, publicUrl?: string) {
  const base = `${publicUrl?.replace(/\/$/, '') ?? ''}/v1/videos/${id}`;
  return { self: base, detections: `${base}/detections`, tracks: `${base}/tracks`, counts: `${base}/counts`, events: `${base}/events`, annotated: `${base}/annotated` };
}

/** The record of a video in storage (`videos/<id>/video.json`): what every segment and the finish read. */
export const VideoRecord = z.object({
  id: z.uuid(),
  owner: z.string(),
  model: z.string(),
  created_at: z.string(),
  source: z.enum(['upload', 'storage']),
  video: VideoInfo,
  /** Decoding needs these exactly as probing found them, so that every worker computes the same times. */
  probe: z.object({ time_base: z.tuple([z.number().int(), z.number().int()]), start_pts: z.number(), frame_duration_s: z.number() }),
  options: VideoOptions,
  segments: z.array(VideoSegmentPlan),
  webhook_url: z.string().nullable(),
});
export type VideoRecord = z.infer<typeof VideoRecord>;

/** Frames the sampling gives for `durationS` seconds: one per 1/fps step, or every frame (fps 0). */
export function sampledFrames(durationS: number, fps: number, frames: number): number {
  return fps > 0 ? Math.min(frames, Math.ceil(durationS * fps)) : frames;
}
