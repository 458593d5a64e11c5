import { randomUUID } from 'node:crypto';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { Config } from '@spotter/config';
import { loadVideoRecord, videoEventOf, videoView } from '@spotter/jobs';
import type { ModelRegistry, Rollout } from '@spotter/models';
import {
  CreateVideoFields,
  CreateVideoFromKey,
  parseOrThrow,
  TrackerOptions,
  UnsupportedVideoError,
  ValidationError,
  VideoNotFoundError,
  VideoNotReadyError,
  type VideoRecord,
  type VideoView,
} from '@spotter/shared';
import { storageKeys, VIDEO_RESULTS, type ObjectStorage, type ObjectStream, type VideoResult } from '@spotter/storage';
import type { IdempotencyStore, JobQueue, VideoStore, WebhookStore } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';
import { planSegments, probeVideo, sniffVideo, SNIFF_BYTES } from '@spotter/video';
import { labelsOf } from '@spotter/vision';
import { readVideoUpload } from '../uploads/video-upload.js';
import { checkIdempotencyKey, checkWebhookUrl } from './request-checks.js';

export interface VideoServiceDeps {
  config: Config;
  storage: ObjectStorage;
  videos: VideoStore;
  webhooks: WebhookStore;
  queue: JobQueue;
  idempotency: IdempotencyStore;
  rollout: Rollout;
  registry: ModelRegistry;
  log: Logger;
}

/** Resolves classes by label or id against a model's labels. */
function classIds(classes: CreateVideoFields['classes'], labels: readonly string[]): number[] | null {
  if (!classes) return null;
  return classes.map((c) => {
    const id = typeof c === 'number' ? c : labels.indexOf(c);
    if (id < 0 || id >= labels.length) throw new ValidationError(`unknown class ${JSON.stringify(c)} for this model`, 'UNKNOWN_CLASS');
    return id;
  });
}

/** Videos: accept a clip (probe, plan its segments, enqueue them), read its status and results. */
export class VideoService {
  constructor(private readonly deps: VideoServiceDeps) {}

  /** A multipart upload: the clip streamed to a local file, then accepted. */
  async fromUpload(owner: string, req: IncomingMessage, idempotencyKey?: string) {
    return this.withLocalFile(async (file) => {
      const { fields, bytes } = await readVideoUpload(req, file, this.deps.config.videos.maxBytes);
      return this.accept(owner, file, bytes, fields, 'upload', idempotencyKey);
    });
  }

  /** A clip already in Spotter's storage, below the intake folder (SPOTTER_BATCH_PREFIX_ROOT). */
  async fromKey(owner: string, body: unknown, idempotencyKey?: string) {
    const { source, ...fields } = parseOrThrow(CreateVideoFromKey, body);
    const root = this.deps.config.batches.prefixRoot;
    if (!source.key.startsWith(root) || source.key.includes('..')) throw new ValidationError(`source.key must be below ${root}`, 'INVALID_SOURCE');
    const max = this.deps.config.videos.maxBytes;
    const tooLarge = () => new ValidationError(`the clip is larger than ${max} bytes (SPOTTER_VIDEO_MAX_BYTES)`, 'PAYLOAD_TOO_LARGE');
    // Sized before it is fetched: a clip past the limit is refused without a byte of it read.
    const size = await this.deps.storage.size(source.key);
    if (size === null) throw new ValidationError(`no object at ${source.key}`, 'SOURCE_NOT_FOUND');
    if (size > max) throw tooLarge();
    return this.withLocalFile(async (file) => {
      if (!(await this.deps.storage.getToFile(source.key, file))) throw new ValidationError(`no object at ${source.key}`, 'SOURCE_NOT_FOUND');
      // The object may have been replaced since it was sized: the copy is what is checked.
      const { size: bytes } = await stat(file);
      if (bytes > max) throw tooLarge();
      return this.accept(owner, file, bytes, fields, 'storage', idempotencyKey);
    });
  }

  private async withLocalFile<T>(fn: (file: string) => Promise<T>): Promise<T> {
    await mkdir(this.deps.config.videos.tmpDir, { recursive: true });
    const file = path.join(this.deps.config.videos.tmpDir, `upload-${randomUUID()}`);
    try {
      return await fn(file);
    } finally {
      await rm(file, { force: true });
    }
  }

  /**
   * Checks the clip (container by content, then ffprobe under the limits), plans its
   * segments, and stores clip and record before the 202; then the counters and the queue.
   */
  private async accept(owner: string, file: string, bytes: number, raw: Record<string, unknown>, source: 'upload' | 'storage', idempotencyKey?: string) {
    const { config, storage, videos, queue, idempotency, rollout, registry } = this.deps;
    checkIdempotencyKey(idempotencyKey);
    const fields = parseOrThrow(CreateVideoFields, raw);
    const model = fields.model ?? (await rollout.state()).live;
    const manifest = await registry.find(model);
    await checkWebhookUrl(fields.webhook_url, config.webhooks);
    const head = Buffer.alloc(SNIFF_BYTES);
    const fd = await open(file);
    const { bytesRead } = await fd.read(head, 0, SNIFF_BYTES, 0).finally(() => fd.close());
    if (!sniffVideo(head.subarray(0, bytesRead))) throw new UnsupportedVideoError('the file is not in a video container Spotter reads (MP4/MOV, Matroska/WebM, AVI, MPEG-TS/PS, FLV, Ogg, ASF)');
    const v = config.videos;
    const probe = await probeVideo(v.ffmpeg, file, bytes, { maxPixels: v.maxPixels, maxDurationS: v.maxDurationS, timeoutMs: v.probeTimeoutMs });
    const { width, height } = probe.info;
    const scale = (p: [number, number]): [number, number] => (fields.units === 'normalized' ? [p[0] * width, p[1] * height] : p);
    const segmentS = fields.segment_s ?? v.segmentS;
    const id = randomUUID();
    if (idempotencyKey !== undefined) {
      const existing = await idempotency.claim(owner, `video:${idempotencyKey}`, id);
      if (existing) return { id: existing, replayed: true };
    }
    try {
      const record: VideoRecord = {
        id,
        owner,
        model,
        created_at: new Date().toISOString(),
        source,
        video: probe.info,
        probe: { time_base: probe.timeBase, start_pts: probe.startPts, frame_duration_s: probe.frameDurationS },
        options: {
          fps: fields.fps,
          min_score: fields.min_score,
          classes: classIds(fields.classes, labelsOf(manifest.labels)),
          tracker: fields.tracker ?? TrackerOptions.parse({}),
          lines: fields.lines.map((l) => ({ ...l, points: [scale(l.points[0]), scale(l.points[1])] })),
          zones: fields.zones.map((z) => ({ ...z, polygon: z.polygon.map(scale) })),
          anchor: fields.anchor,
          segment_s: segmentS,
        },
        segments: planSegments(probe.keyframes, probe.info.duration_s, segmentS, v.overlapS),
        webhook_url: fields.webhook_url ?? null,
      };
      await storage.putFile(storageKeys.video(id, 'clip'), file, 'application/octet-stream');
      await storage.put(storageKeys.video(id, 'video.json'), Buffer.from(JSON.stringify(record)), 'application/json');
      await videos.create(id, owner, record.segments.length, record.created_at);
      await queue.enqueueVideoSegments(id, record.segments.length);
      return { id, replayed: false };
    } catch (err) {
      if (idempotencyKey !== undefined) await idempotency.release(owner, `video:${idempotencyKey}`).catch(() => undefined);
      throw err;
    }
  }

  private async record(owner: string, id: string): Promise<VideoRecord> {
    const record = await loadVideoRecord(this.deps.storage, id);
    if (!record || record.owner !== owner) throw new VideoNotFoundError(id);
    return record;
  }

  /** GET /v1/videos/{id}: status, progress, the webhook's deliveries, and once final the summary or the error. */
  async get(owner: string, id: string): Promise<VideoView> {
    const record = await this.record(owner, id);
    const stored = await this.deps.videos.get(id);
    if (!stored) throw new VideoNotFoundError(id);
    const webhook = record.webhook_url ? await this.deps.webhooks.read(id, record.webhook_url) : null;
    return videoView(record, stored, this.deps.config.http.publicUrl, webhook);
  }

  /**
   * DELETE /v1/videos/{id}: a video that is not final is cancelled (segments not started
   * leave the queue, running ones stop within about a second; webhook `video.cancelled`) and returned; a
   * final one is erased everywhere (null): clip, record, segments, results, Redis, queue.
   */
  async remove(owner: string, id: string): Promise<VideoView | null> {
    const { storage, videos, queue, log } = this.deps;
    const record = await this.record(owner, id);
    if (await videos.finish(id, 'cancelled', new Date().toISOString(), {})) {
      await queue.removeVideoJobs(id, record.segments.length);
      if (record.webhook_url) await queue.enqueueVideoWebhook(id, videoEventOf('cancelled'));
      log.info({ video_id: id, owner, action: 'cancelled' }, 'video cancelled');
      return this.get(owner, id);
    }
    await queue.removeVideoJobs(id, record.segments.length, { webhook: true });
    await videos.erase(id);
    const keys = [...VIDEO_RESULTS, ...record.segments.map((s) => `segment-${s.index}.json` as const), 'clip' as const, 'video.json' as const];
    // The record goes last: until then a retried DELETE finds the video and finishes the job.
    for (const name of keys) await storage.delete(storageKeys.video(id, name));
    log.info({ video_id: id, owner, action: 'erased', removed: keys.length }, 'video erased');
    return null;
  }

  /**
   * A succeeded video's frames (JSON Lines, one per sampled frame): all of them streamed, or
   * a page and where the next starts when there is one. A page reads the lines up to its end
   * (and one more, to know whether a next page exists), never the rest of the file.
   */
  async detections(owner: string, id: string, fromFrame: number, limit: number | undefined): Promise<ObjectStream & { next: number | null }> {
    const all = await this.result(owner, id, 'detections.jsonl');
    if (limit === undefined && fromFrame === 0) return { ...all, next: null };
    const page: string[] = [];
    let index = 0;
    let more = false;
    try {
      for await (const line of createInterface({ input: all.body, crlfDelay: Infinity })) {
        if (!line || index++ < fromFrame) continue;
        if (page.length === limit) {
          more = true;
          break;
        }
        page.push(line);
      }
    } finally {
      all.body.destroy();
    }
    const text = Buffer.from(page.map((l) => `${l}\n`).join(''));
    return { body: Readable.from([text]), bytes: text.length, next: more ? fromFrame + page.length : null };
  }

  /** One of a succeeded video's results, as stored: a stream and its size. */
  async result(owner: string, id: string, name: VideoResult): Promise<ObjectStream> {
    await this.record(owner, id);
    const s = await this.deps.videos.get(id);
    if (s?.status !== 'succeeded') throw new VideoNotReadyError(`video ${id} is ${s?.status ?? 'gone'}; results are there once it has succeeded`);
    const stored = await this.deps.storage.getStream(storageKeys.video(id, name));
    if (!stored) throw new VideoNotFoundError(id);
    return stored;
  }
}
