import { ErrorDetail, VideoStatus, VideoSummary, type FinalVideoStatus } from '@spotter/shared';
import { TTL, type RedisKeys } from './keys.js';
import { defineScript } from './lua.js';
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

// Each write below reads the status and writes in one script: a cancel landing between a
// worker's read and its write (a segment starting, the last segment done, the finish) would
// otherwise be overwritten (CI saw a cancelled video set back to running), and a write to an
// erased video would bring its hash back without an expiry.
const IF_WANTED = `local status = redis.call('HGET', KEYS[1], 'status')
if not status or status == 'succeeded' or status == 'failed' or status == 'cancelled' then return 0 end
`;
const STARTED = `${IF_WANTED}if redis.call('HSETNX', KEYS[1], 'started_at', ARGV[1]) == 1 then redis.call('HSET', KEYS[1], 'status', 'running') end
if redis.call('HSETNX', KEYS[1], 'started:' .. ARGV[2], ARGV[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'segments_started', 1) end
return 1`;
const SEGMENT_DONE = `${IF_WANTED}if redis.call('HSETNX', KEYS[1], 'segment:' .. ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], 'frames_done', ARGV[2])
local done = redis.call('HINCRBY', KEYS[1], 'segments_done', 1)
if done == tonumber(redis.call('HGET', KEYS[1], 'segments_total')) then return 1 end
return 0`;
const FINISH = `${IF_WANTED}redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1`;

/** Video progress in Redis: counters that every worker running one of its segments adds to. */
export class VideoStore {
  private readonly startedScript;
  private readonly segmentDoneScript;
  private readonly finishScript;
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys, private readonly retentionS: number) {
    this.startedScript = defineScript<number>(redis, 'spotterVideoStarted', 1, STARTED);
    this.segmentDoneScript = defineScript<number>(redis, 'spotterVideoSegmentDone', 1, SEGMENT_DONE);
    this.finishScript = defineScript<number>(redis, 'spotterVideoFinish', 1, FINISH);
  }

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
    return redisCall(async () => (await this.startedScript([this.keys.video(id)], [at, index])) === 1);
  }

  /**
   * Counts segment `index` done once (a segment run again after a crash is not counted
   * twice), and not at all once the video is final or gone; returns whether this call was
   * the one that completed the video's last segment.
   */
  segmentDone(id: string, index: number, frames: number): Promise<boolean> {
    return redisCall(async () => (await this.segmentDoneScript([this.keys.video(id)], [index, frames])) === 1);
  }

  /** Ends the video once: false when it was final already (or erased). Starts the retention clock. */
  finish(id: string, status: FinalVideoStatus, at: string, outcome: { summary?: VideoSummary; error?: ErrorDetail }): Promise<boolean> {
    const fields: (string | number)[] = ['status', status, 'finished_at', at];
    if (outcome.summary) fields.push('summary', JSON.stringify(outcome.summary));
    if (outcome.error) fields.push('error', JSON.stringify(outcome.error));
    return redisCall(async () => (await this.finishScript([this.keys.video(id)], [this.retentionS, ...fields])) === 1);
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
