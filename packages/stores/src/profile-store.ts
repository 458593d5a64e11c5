import { randomUUID } from 'node:crypto';
import { emptyProfile, increments, type ImagePerformance, type Observation, type Profile, type Reference } from '@spotter/monitoring';
import type { RedisKeys } from './keys.js';
import { redisCall, type RedisClient } from './redis-connection.js';

/** Where profiles live: bucket length (60 s by default) and retention. */
export interface ProfileStoreOptions {
  bucketMs: number;
  retentionS: number;
}

function parseBucket(h: Record<string, string>): Profile {
  const p = emptyProfile();
  for (const [field, v] of Object.entries(h)) {
    if (field === 'images') {
      p.images = Number(v);
      continue;
    }
    if (field.startsWith('perf:')) {
      const [, what, bin] = field.split(':');
      const perf = p.performance;
      if (what === 'tpb' || what === 'fpb') (what === 'tpb' ? perf.tpBins : perf.fpBins)[Number(bin)] = Number(v);
      else if (what === 'images' || what === 'tp' || what === 'fp' || what === 'fn') perf[what] = Number(v);
      continue;
    }
    const sep = field.lastIndexOf(':');
    const bins = p.bins[field.slice(0, sep)];
    const bin = Number(field.slice(sep + 1));
    if (bins && bin < bins.length) bins[bin] = Number(v);
  }
  return p;
}

/**
 * Mergeable monitoring profiles per model and time bucket: every worker adds to the same
 * counters, so N workers sum to what one process would count. Also references, and the
 * feedback (late labels) with its per-image F1 stream.
 */
export class ProfileStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly opts: ProfileStoreOptions,
  ) {}

  private bucketKey(model: string, now: number) {
    return this.keys.profileBucket(model, Math.floor(now / this.opts.bucketMs));
  }

  /** Adds one image's observation to the current bucket of its model, in one round trip. */
  record(model: string, obs: Observation, now = Date.now()): Promise<void> {
    const key = this.bucketKey(model, now);
    const counts = new Map<string, number>();
    for (const [name, bin] of increments(obs)) counts.set(`${name}:${bin}`, (counts.get(`${name}:${bin}`) ?? 0) + 1);
    return redisCall(async () => {
      const multi = this.redis.multi().hincrby(key, 'images', 1);
      for (const [field, n] of counts) multi.hincrby(key, field, n);
      await multi.expire(key, this.opts.retentionS).exec();
    });
  }

  /**
   * Adds one job's feedback (its matches against the true boxes) to the current bucket,
   * once per job: false when feedback for `jobId` was already recorded.
   */
  recordFeedback(jobId: string, model: string, perf: ImagePerformance, now = Date.now()): Promise<boolean> {
    const key = this.bucketKey(model, now);
    const stream = this.keys.f1Stream(model);
    return redisCall(async () => {
      if (!(await this.redis.set(this.keys.feedbackOnce(jobId), '1', 'EX', this.opts.retentionS, 'NX'))) return false;
      const m = this.redis.multi().hincrby(key, 'perf:images', 1).hincrby(key, 'perf:tp', perf.tp).hincrby(key, 'perf:fp', perf.fp).hincrby(key, 'perf:fn', perf.fn);
      perf.tpBins.forEach((c, i) => c && m.hincrby(key, `perf:tpb:${i}`, c));
      perf.fpBins.forEach((c, i) => c && m.hincrby(key, `perf:fpb:${i}`, c));
      // Per-image F1 in arrival order, for the Page-Hinkley detector.
      await m.expire(key, this.opts.retentionS).zadd(stream, now, `${now}:${randomUUID().slice(0, 8)}:${perf.f1}`).zremrangebyrank(stream, 0, -5001).exec();
      return true;
    });
  }

  /** Forgets that a job's feedback was recorded (erasure; the counts it added stay, as sums). */
  forgetFeedback(jobId: string): Promise<void> {
    return redisCall(async () => void (await this.redis.del(this.keys.feedbackOnce(jobId))));
  }

  /** The last `limit` per-image F1 values whose feedback arrived before `toMs`, oldest first. */
  f1Stream(model: string, toMs: number, limit = 500): Promise<number[]> {
    return redisCall(async () => {
      const rows = await this.redis.zrevrangebyscore(this.keys.f1Stream(model), `(${toMs}`, '-inf', 'LIMIT', 0, limit);
      return rows.reverse().map((r) => Number(r.split(':')[2]));
    });
  }

  /** The bucket profiles of a time range (oldest first), for merging or re-cutting. */
  buckets(model: string, fromMs: number, toMs: number): Promise<Profile[]> {
    const first = Math.floor(fromMs / this.opts.bucketMs);
    const last = Math.floor((toMs - 1) / this.opts.bucketMs);
    return redisCall(async () => {
      const out: Profile[] = [];
      for (let start = first; start <= last; start += 1000) {
        const pipe = this.redis.pipeline();
        for (let b = start; b <= Math.min(last, start + 999); b++) pipe.hgetall(this.keys.profileBucket(model, b));
        for (const [err, h] of (await pipe.exec()) ?? []) {
          if (err) throw err;
          if (h && Object.keys(h as object).length) out.push(parseBucket(h as Record<string, string>));
        }
      }
      return out;
    });
  }

  /** Stores a reference, makes it the model's active one and keeps the history. */
  saveReference(ref: Omit<Reference, 'id' | 'created_at'>): Promise<Reference> {
    const full: Reference = { id: randomUUID(), created_at: new Date().toISOString(), ...ref };
    return redisCall(async () => {
      await this.redis
        .multi()
        .set(this.keys.reference(full.id), JSON.stringify(full))
        .set(this.keys.activeReference(full.model), full.id)
        .lpush(this.keys.references(full.model), full.id)
        .exec();
      return full;
    });
  }

  activeReference(model: string): Promise<Reference | null> {
    return redisCall(async () => {
      const id = await this.redis.get(this.keys.activeReference(model));
      const raw = id ? await this.redis.get(this.keys.reference(id)) : null;
      return raw ? (JSON.parse(raw) as Reference) : null;
    });
  }
}
