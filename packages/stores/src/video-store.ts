import { ErrorDetail, VideoStatus, VideoSummary, type FinalVideoStatus } from '@spotter/shared';
import { TTL, type RedisKeys } from './keys.js';
import { redisCall, type RedisClient } from './redis-connection.js';

/** What Redis holds of a video: status, times and progress (the record itself is in storage). */
export interface StoredVideo {
  owner: string;
  status: VideoStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  segments_total: number;
  /** Segments a worker has begun (each counted once, whatever its retries). */
  segments_started: number;
  segments_done: number;
  frames_done: number;
  summary: VideoSummary | null;
  error: ErrorDetail | null;
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** Video progress in Redis: counters that every worker running one of its segments adds to. */
export class VideoStore {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys, private readonly retentionS: number) {}

  create(id: string, owner: string, segments: number, createdAt: string): Promise<void> {
    return redisCall(async () => {
      await this.redis.hset(this.keys.video(id), 'owner', owner, 'status', 'queued', 'segments_total', segments, 'segments_done', 0, 'frames_done', 0, 'created_at', createdAt);
    });
  }

  get(id: string): Promise<StoredVideo | null> {
    return redisCall(async () => {
      const h = await this.redis.hgetall(this.keys.video(id));
      if (!h.owner) return null;
      return {
        owner: h.owner,
        status: VideoStatus.parse(h.status),
        created_at: h.created_at!,
        started_at: h.started_at ?? null,
        finished_at: h.finished_at ?? null,
        segments_total: Number(h.segments_total ?? 0),
        segments_started: Number(h.segments_started ?? 0),
        segments_done: Number(h.segments_done ?? 0),
        frames_done: Number(h.frames_done ?? 0),
        summary: h.summary ? VideoSummary.parse(JSON.parse(h.summary)) : null,
        error: h.error ? ErrorDetail.parse(JSON.parse(h.error)) : null,
      };
    });
  }

  /**
   * Segment `index` began: the video is running from its first segment's start. False when
   * the video is final (cancelled) or gone (erased): the segment has nothing to do.
   */
  started(id: string, index: number, at: string): Promise<boolean> {
    return redisCall(async () => {
      const key = this.keys.video(id);
      const status = await this.redis.hget(key, 'status');
      if (!status || FINAL.has(status)) return false;
      if (await this.redis.hsetnx(key, 'started_at', at)) await this.redis.hset(key, 'status', 'running');
      if (await this.redis.hsetnx(key, `started:${index}`, at)) await this.redis.hincrby(key, 'segments_started', 1);
      return true;
    });
  }

  /**
   * Counts segment `index` done once (a segment run again after a crash is not counted
   * twice); returns whether this call was the one that completed the video's last segment.
   */
  segmentDone(id: string, index: number, frames: number): Promise<boolean> {
    return redisCall(async () => {
      const key = this.keys.video(id);
      if (!(await this.redis.hsetnx(key, `segment:${index}`, frames))) return false;
      await this.redis.hincrby(key, 'frames_done', frames);
      const done = await this.redis.hincrby(key, 'segments_done', 1);
      return done === Number(await this.redis.hget(key, 'segments_total'));
    });
  }

  /** Ends the video once: false when it was final already. Starts the retention clock. */
  finish(id: string, status: FinalVideoStatus, at: string, outcome: { summary?: VideoSummary; error?: ErrorDetail }): Promise<boolean> {
    return redisCall(async () => {
      const key = this.keys.video(id);
      const current = await this.redis.hget(key, 'status');
      if (!current || FINAL.has(current)) return false;
      const fields: (string | number)[] = ['status', status, 'finished_at', at];
      if (outcome.summary) fields.push('summary', JSON.stringify(outcome.summary));
      if (outcome.error) fields.push('error', JSON.stringify(outcome.error));
      await this.redis.hset(key, ...fields);
      await this.redis.expire(key, this.retentionS);
      return true;
    });
  }

  /** Forgets a video (erasure): its hash and its webhook's attempts; a late writer (a webhook attempt) must not bring them back. */
  erase(id: string): Promise<void> {
    return redisCall(async () => {
      await this.redis
        .multi()
        .set(this.keys.erased(id), '1', 'EX', TTL.webhookS)
        .del(this.keys.video(id), this.keys.webhook(id), this.keys.webhookAttempts(id))
        .exec();
    });
  }
}
