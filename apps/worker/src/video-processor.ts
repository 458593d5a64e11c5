import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Config } from '@spotter/config';
import { loadVideoRecord, videoEventOf } from '@spotter/jobs';
import { isFinal, SpotterError, VideoFinishJobData, VideoJobNames, VideoSegmentJobData, type VideoRecord, type VideoSummary } from '@spotter/shared';
import { storageKeys, VIDEO_RESULTS, type ObjectStorage } from '@spotter/storage';
import type { JobQueue, VideoStore } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';
import { analyseTracks, stitchSegments, type SegmentRun } from '@spotter/tracking';
import { renderAnnotated, trackSegment, type VideoProbe } from '@spotter/video';
import type { ModelPool } from './model-pool.js';

export interface VideoDeps {
  config: Config;
  storage: ObjectStorage;
  videos: VideoStore;
  queue: JobQueue;
  models: ModelPool;
  log: Logger;
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

async function readRecord(storage: ObjectStorage, id: string): Promise<VideoRecord> {
  const record = await loadVideoRecord(storage, id);
  if (!record) throw new UnrecoverableError(`video ${id} has no record`);
  return record;
}

/** Ends the video once and, when it was this call that ended it, schedules its webhook. */
async function endVideo(deps: VideoDeps, record: VideoRecord | null, id: string, status: 'succeeded' | 'failed', outcome: Parameters<VideoStore['finish']>[3]) {
  const ended = await deps.videos.finish(id, status, new Date().toISOString(), outcome);
  if (ended && record?.webhook_url) await deps.queue.enqueueVideoWebhook(id, videoEventOf(status));
  await dropLocalClip(deps, id);
}

/** Removes this host's copy of the clip (the video ended, or was cancelled or erased). */
const dropLocalClip = (deps: VideoDeps, id: string) => rm(path.join(deps.config.videos.tmpDir, `${id}.clip`), { force: true });

/** Whether the video still wants work: not final (cancelled) and not erased. */
async function stillRunning(deps: VideoDeps, id: string): Promise<boolean> {
  const s = await deps.videos.get(id);
  return s !== null && !isFinal(s.status);
}

const WANTED_CHECK_MS = 1000;

/**
 * A signal that aborts once the video is cancelled or erased, read from Redis every second
 * while a segment runs: a cancel frees the worker within about a second, not at the end of a
 * segment that may be minutes long. A failed read keeps the segment running (the check after
 * its write still holds).
 */
function whileWanted(deps: VideoDeps, id: string) {
  const controller = new AbortController();
  const timer = setInterval(() => {
    stillRunning(deps, id).then((yes) => yes || controller.abort(), () => undefined);
  }, WANTED_CHECK_MS);
  timer.unref();
  return { signal: controller.signal, stop: () => clearInterval(timer) };
}

const probeOf = (r: VideoRecord): VideoProbe => ({ info: r.video, timeBase: r.probe.time_base, startPts: r.probe.start_pts, frameDurationS: r.probe.frame_duration_s, keyframes: [] });

/** This host's copy of a clip for ffmpeg, fetched once for all the segments it runs. */
async function localClip(deps: VideoDeps, id: string): Promise<string> {
  const file = path.join(deps.config.videos.tmpDir, `${id}.clip`);
  if (await stat(file).then(() => true, () => false)) return file;
  await mkdir(deps.config.videos.tmpDir, { recursive: true });
  const partial = `${file}.${process.pid}.${Date.now()}`;
  if (!(await deps.storage.getToFile(storageKeys.video(id, 'clip'), partial))) throw new UnrecoverableError(`video ${id} has no clip in storage`);
  await rename(partial, file);
  return file;
}

/** Runs one segment: decode, detect, track; stores its frames; the last segment done enqueues the finish. */
async function runSegment(deps: VideoDeps, data: VideoSegmentJobData) {
  const record = await readRecord(deps.storage, data.video_id);
  const plan = record.segments[data.index];
  if (!plan) throw new UnrecoverableError(`video ${data.video_id} has no segment ${data.index}`);
  if (!(await deps.videos.started(record.id, plan.index, new Date().toISOString()))) return dropLocalClip(deps, record.id);
  const file = await localClip(deps, record.id);
  const v = deps.config.videos;
  const wanted = whileWanted(deps, record.id);
  const run = await deps.models
    .use(record.model, (detector) =>
      trackSegment(v.ffmpeg, { fit: detector.fit, detect: async (img, minScore) => (await detector.detect(img, minScore, 'low')).detections }, { file, probe: probeOf(record), plan, options: record.options, maxPixels: v.maxPixels, stallMs: v.stallMs, signal: wanted.signal }),
    )
    .finally(wanted.stop);
  if (wanted.signal.aborted) {
    deps.log.info({ video_id: record.id, segment: plan.index, frames: run.frames.length }, 'video segment stopped: the video was cancelled or erased');
    return dropLocalClip(deps, record.id);
  }
  const key = storageKeys.video(record.id, `segment-${plan.index}.json`);
  await deps.storage.put(key, json(run), 'application/json');
  // Cancelled or erased while this segment ran: its frames are not wanted. Checked after the
  // write, as the erasure removes the video in Redis before its files: a write that lands
  // after those are gone is taken back here.
  if (!(await stillRunning(deps, record.id))) {
    await deps.storage.delete(key);
    return dropLocalClip(deps, record.id);
  }
  const answered = run.frames.filter((f) => f.time >= plan.from_s && f.time < plan.until_s).length;
  if (await deps.videos.segmentDone(record.id, plan.index, answered)) await deps.queue.enqueueVideoFinish(record.id);
  deps.log.info({ video_id: record.id, segment: plan.index, frames: run.frames.length }, 'video segment done');
}

/** Stitches the segments into tracks of the whole clip, writes the results and the annotated MP4, ends the video. */
async function finishVideo(deps: VideoDeps, data: VideoFinishJobData) {
  const { storage, config } = deps;
  const record = await readRecord(storage, data.video_id);
  const runs: SegmentRun[] = [];
  for (const plan of record.segments) {
    const bytes = await storage.get(storageKeys.video(record.id, `segment-${plan.index}.json`));
    if (!bytes) throw new Error(`segment ${plan.index} of video ${record.id} is missing`);
    runs.push(JSON.parse(bytes.toString('utf8')) as SegmentRun);
  }
  const { frames } = stitchSegments(runs, record.options.tracker.new_track_score);
  const { tracks, events, counts } = analyseTracks(frames, { lines: record.options.lines, zones: record.options.zones, anchor: record.options.anchor });
  await storage.put(storageKeys.video(record.id, 'detections.jsonl'), Buffer.from(frames.map((f) => `${JSON.stringify(f)}\n`).join('')), 'application/x-ndjson');
  await storage.put(storageKeys.video(record.id, 'tracks.json'), json(tracks), 'application/json');
  await storage.put(storageKeys.video(record.id, 'counts.json'), json(counts), 'application/json');
  await storage.put(storageKeys.video(record.id, 'events.json'), json(events), 'application/json');
  const file = await localClip(deps, record.id);
  const out = `${file}.annotated.mp4`;
  let annotated = false;
  try {
    const v = config.videos;
    await renderAnnotated(v.ffmpeg, { file, probe: probeOf(record), fps: record.options.fps, frames, events, lines: record.options.lines, zones: record.options.zones, out, maxPixels: v.maxPixels, stallMs: v.stallMs });
    await storage.putFile(storageKeys.video(record.id, 'annotated.mp4'), out, 'video/mp4');
    annotated = true;
  } catch (err) {
    deps.log.warn({ video_id: record.id, err: (err as Error).message }, 'annotated video not made');
  } finally {
    await rm(out, { force: true });
  }
  // Cancelled and erased while this ran: the erasure has deleted the results already, so what
  // was written here after it is taken back (the same check after the write as a segment's).
  const stored = await deps.videos.get(record.id);
  if (!stored) {
    for (const name of VIDEO_RESULTS) await storage.delete(storageKeys.video(record.id, name));
    return dropLocalClip(deps, record.id);
  }
  const finishedAt = new Date();
  const wallS = stored.started_at ? (finishedAt.getTime() - Date.parse(stored.started_at)) / 1000 : 0;
  const summary: VideoSummary = {
    frames: frames.length,
    tracks: tracks.length,
    tracks_by_class: counts.totals,
    line_crossings: Object.fromEntries(Object.entries(counts.lines).map(([name, l]) => [name, { in: Object.values(l.in).reduce((a, b) => a + b, 0), out: Object.values(l.out).reduce((a, b) => a + b, 0) }])),
    zone_visits: Object.fromEntries(record.options.zones.map((z) => [z.name, events.filter((e) => e.type === 'zone_dwell' && e.zone === z.name).length])),
    realtime_factor: wallS > 0 ? Math.round((record.video.duration_s / wallS) * 1000) / 1000 : null,
    annotated,
  };
  await endVideo(deps, record, record.id, 'succeeded', { summary });
  deps.log.info({ video_id: record.id, frames: frames.length, tracks: tracks.length, realtime_factor: summary.realtime_factor }, 'video finished');
}

/**
 * BullMQ processor of the video jobs in the batch queue. A clip that cannot be decoded (or
 * any error on the last attempt) fails the whole video with its code and message; other
 * errors are retried by BullMQ.
 */
export function videoProcessor(deps: VideoDeps) {
  return async (job: Job) => {
    const id = (job.data as { video_id?: string }).video_id ?? 'unknown';
    try {
      // Cancelled or erased since this job was queued: nothing to do.
      if (!(await stillRunning(deps, id))) return void (await dropLocalClip(deps, id));
      if (job.name === VideoJobNames.segment) return void (await runSegment(deps, VideoSegmentJobData.parse(job.data)));
      return void (await finishVideo(deps, VideoFinishJobData.parse(job.data)));
    } catch (err) {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const known = err instanceof SpotterError;
      if (err instanceof UnrecoverableError || (known && !err.retryable) || last || !known) {
        const error = known ? { code: err.code, message: err.message } : { code: 'VIDEO_FAILED', message: 'the video could not be processed' };
        if (!known) deps.log.error({ video_id: id, err: (err as Error).message }, 'video job failed');
        if (!known && !last && !(err instanceof UnrecoverableError)) throw err;
        await endVideo(deps, await loadVideoRecord(deps.storage, id).catch(() => null), id, 'failed', { error });
        throw new UnrecoverableError(error.message);
      }
      throw err;
    }
  };
}
