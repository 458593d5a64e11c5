import { initialRollout, RolloutEvent, RolloutState } from '@spotter/shared';
import type { RedisKeys } from './keys.js';
import { defineScript } from './lua.js';
import { redisCall, type RedisClient } from './redis-connection.js';

// Compare-and-set on the exact state text: a transition decided on a stale read (a promote
// racing an automatic rollback) changes nothing and is decided again on the fresh state.
const REPLACE = `local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[2], ARGV[3])
  redis.call('LTRIM', KEYS[2], 0, 199)
end
return 1`;

/** A read of the rollout state, with the text it was read from (for compare-and-set). */
export interface RolloutRead {
  state: RolloutState;
  raw: string | null;
}

export interface ShadowCounters {
  jobs: number;
  /** Shadow runs that failed (the candidate could not answer). */
  failed: number;
  live_boxes: number;
  candidate_boxes: number;
  matched: number;
  class_flips: number;
  score_delta_sum: number;
  skipped: number;
}

const numbers = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)])) as Record<string, number>;

/** The rollout state and its counters: shadow agreement, per-model outcomes since it started. */
export class RolloutStore {
  private readonly replaceScript;
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {
    this.replaceScript = defineScript<number>(redis, 'spotterRolloutReplace', 2, REPLACE);
  }

  read(defaultLive: string): Promise<RolloutRead> {
    return redisCall(async () => {
      const raw = await this.redis.get(this.keys.rollout);
      const parsed = raw ? RolloutState.safeParse(JSON.parse(raw)) : null;
      return { state: parsed?.success ? parsed.data : initialRollout(defaultLive), raw };
    });
  }

  /** Writes `next` if the state is still `read`; records `event` in the history. */
  replace(read: RolloutRead, next: RolloutState, event: RolloutEvent | null): Promise<boolean> {
    return redisCall(async () => {
      const done = await this.replaceScript([this.keys.rollout, this.keys.rolloutHistory], [read.raw ?? '', JSON.stringify(next), event ? JSON.stringify(event) : '']);
      return done === 1;
    });
  }

  history(limit = 50): Promise<RolloutEvent[]> {
    return redisCall(async () => {
      const rows = await this.redis.lrange(this.keys.rolloutHistory, 0, limit - 1);
      return rows.flatMap((r) => {
        const p = RolloutEvent.safeParse(JSON.parse(r));
        return p.success ? [p.data] : [];
      });
    });
  }

  /** The next value of the counter that picks every Nth job for the shadow. */
  shadowTick(): Promise<number> {
    return redisCall(() => this.redis.incr(this.keys.shadowCounter));
  }

  /**
   * Adds one shadow comparison (or a run skipped for lack of room, or one that failed) to the
   * candidate's counters; returns the runs judged so far (compared and failed), each count
   * returned to exactly one caller.
   */
  recordShadow(candidate: string, a: Omit<ShadowCounters, 'jobs' | 'skipped' | 'failed'> | 'skipped' | 'failed'): Promise<number> {
    const key = this.keys.shadowStats(candidate);
    return redisCall(async () => {
      if (a === 'skipped') {
        await this.redis.hincrby(key, 'skipped', 1);
        return 0;
      }
      if (a === 'failed') {
        const res = await this.redis.multi().hincrby(key, 'runs', 1).hincrby(key, 'failed', 1).exec();
        return Number(res?.[0]?.[1] ?? 0);
      }
      const res = await this.redis
        .multi()
        .hincrby(key, 'runs', 1)
        .hincrby(key, 'jobs', 1)
        .hincrby(key, 'live_boxes', a.live_boxes)
        .hincrby(key, 'candidate_boxes', a.candidate_boxes)
        .hincrby(key, 'matched', a.matched)
        .hincrby(key, 'class_flips', a.class_flips)
        .hincrbyfloat(key, 'score_delta_sum', a.score_delta_sum)
        .exec();
      return Number(res?.[0]?.[1] ?? 0);
    });
  }

  shadowCounters(candidate: string): Promise<ShadowCounters> {
    return redisCall(async () => {
      const h = numbers(await this.redis.hgetall(this.keys.shadowStats(candidate)));
      return {
        jobs: h.jobs ?? 0,
        failed: h.failed ?? 0,
        live_boxes: h.live_boxes ?? 0,
        candidate_boxes: h.candidate_boxes ?? 0,
        matched: h.matched ?? 0,
        class_flips: h.class_flips ?? 0,
        score_delta_sum: h.score_delta_sum ?? 0,
        skipped: h.skipped ?? 0,
      };
    });
  }

  /** Counts one final job of `model` (the guards compare failure ratios); returns its jobs so far, each count to one caller. */
  recordOutcome(model: string, failed: boolean): Promise<number> {
    const key = this.keys.modelStats(model);
    return redisCall(async () => {
      const res = await this.redis.multi().hincrby(key, 'jobs', 1).hincrby(key, 'failed', failed ? 1 : 0).exec();
      return Number(res?.[0]?.[1] ?? 0);
    });
  }

  outcomes(model: string): Promise<{ jobs: number; failed: number }> {
    return redisCall(async () => {
      const h = numbers(await this.redis.hgetall(this.keys.modelStats(model)));
      return { jobs: h.jobs ?? 0, failed: h.failed ?? 0 };
    });
  }

  /** Clears the counters of these models (a rollout starts afresh). */
  resetCounters(models: string[]): Promise<void> {
    return redisCall(async () => {
      const keys = models.flatMap((m) => [this.keys.shadowStats(m), this.keys.modelStats(m)]);
      if (keys.length) await this.redis.del(...keys);
    });
  }
}
