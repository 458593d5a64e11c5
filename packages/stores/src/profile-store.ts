import { createHash, randomUUID } from 'node:crypto';
import {
  feedbackFields,
  isSliceField,
  labelCandidate,
  profileFields,
  profileFromFields,
  type ImagePerformance,
  type LabelCandidate,
  type LabelDisagreement,
  type Observation,
  type Profile,
  type Reference,
} from '@spotter/monitoring';
import { MonitoringStateError, type ImageRetention } from '@spotter/shared';
import { LABEL_CANDIDATES_PER_HOUR, type RedisKeys } from './keys.js';
import { redisCall, type RedisClient } from './redis-connection.js';

/** Where profiles live: bucket length (60 s by default) and retention. */
export interface ProfileStoreOptions {
  bucketMs: number;
  retentionS: number;
  /**
   * How long labelling candidates are kept: no longer than their images (a job whose image
   * is gone cannot be labelled), nor than the monitoring; 0 keeps none.
   */
  labelRetentionS: number;
}

/** Labelling candidates' lifetime for a monitoring retention and an image retention. */
export function labelRetentionS(monitoringS: number, images: ImageRetention): number {
  if (images === 'keep') return monitoringS;
  if (images.keepMs === 0) return 0;
  // An hour more than the images: the hour the candidates are filed under.
  return Math.min(monitoringS, Math.ceil(images.keepMs / 1000) + 3600);
}

const HOUR_MS = 3_600_000;

/**
 * A job's place in the hourly labelling sample: a number in [0, 1) drawn from its id, the
 * same in the candidates and the disagreements, so both keep the same jobs when trimmed.
 */
const sampleScore = (id: string) => createHash('sha1').update(id).digest().readUInt32BE(0) / 2 ** 32;

/**
 * Mergeable monitoring profiles per model and time bucket: every worker adds to the same
 * counters, so N workers sum to what one process would count. Also references, the feedback
 * (late labels) with its per-image F1 stream, and the labelling candidates.
 */
export class ProfileStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly opts: ProfileStoreOptions,
  ) {}

  /** The bucket's two hashes: its fields, and its slice-keyed fields. */
  private bucketKeys(model: string, now: number) {
    const b = Math.floor(now / this.opts.bucketMs);
    return { key: this.keys.profileBucket(model, b), slices: this.keys.profileSlices(model, b) };
  }

  /** Queues HINCRBYs of `fields` on the bucket's hashes, and their expiry, on `m`. */
  private increment(m: ReturnType<RedisClient['multi']>, model: string, now: number, fields: Map<string, number>) {
    const { key, slices } = this.bucketKeys(model, now);
    let sliced = false;
    for (const [field, n] of fields) {
      sliced ||= isSliceField(field);
      m.hincrby(isSliceField(field) ? slices : key, field, n);
    }
    m.expire(key, this.opts.retentionS);
    if (sliced) m.expire(slices, this.opts.retentionS);
  }

  /**
   * Adds one image's observation to the current bucket of its model, in one round trip. With
   * `job` (a served job that succeeded), also offers it as a labelling candidate of its hour.
   */
  record(model: string, obs: Observation, opts: { now?: number; job?: { id: string; finishedAt: number } } = {}): Promise<void> {
    const now = opts.now ?? Date.now();
    const candidate = opts.job && this.opts.labelRetentionS > 0 ? labelCandidate(opts.job.id, opts.job.finishedAt, obs) : null;
    return redisCall(async () => {
      const multi = this.redis.multi();
      this.increment(multi, model, now, profileFields(obs));
      if (candidate) {
        const sample = this.keys.labelCandidates(model, Math.floor(candidate.t / HOUR_MS));
        multi.zadd(sample, sampleScore(candidate.id), JSON.stringify(candidate)).zremrangebyrank(sample, 0, -(LABEL_CANDIDATES_PER_HOUR + 1)).expire(sample, this.opts.labelRetentionS);
      }
      await multi.exec();
    });
  }

  /** Records how far a shadow candidate disagreed with the live model on a job (for labelling). */
  recordDisagreement(model: string, finishedAt: number, d: LabelDisagreement): Promise<void> {
    const key = this.keys.labelDisagreements(model, Math.floor(finishedAt / HOUR_MS));
    return redisCall(async () => {
      if (this.opts.labelRetentionS === 0) return;
      await this.redis
        .multi()
        .zadd(key, sampleScore(d.id), JSON.stringify(d))
        .zremrangebyrank(key, 0, -(LABEL_CANDIDATES_PER_HOUR + 1))
        .expire(key, this.opts.labelRetentionS)
        .exec();
    });
  }

  /** The labelling candidates of jobs that finished in [fromMs, toMs), with the shadow disagreements on them. */
  labelCandidates(model: string, fromMs: number, toMs: number): Promise<{ candidates: LabelCandidate[]; disagreements: LabelDisagreement[] }> {
    const first = Math.floor(fromMs / HOUR_MS);
    const last = Math.floor((toMs - 1) / HOUR_MS);
    return redisCall(async () => {
      const pipe = this.redis.pipeline();
      for (let h = first; h <= last; h++) pipe.zrange(this.keys.labelCandidates(model, h), 0, -1).zrange(this.keys.labelDisagreements(model, h), 0, -1);
      const rows = ((await pipe.exec()) ?? []).map(([err, v]) => {
        if (err) throw err;
        return v as string[];
      });
      const candidates = rows.filter((_, i) => i % 2 === 0).flat().map((r) => JSON.parse(r) as LabelCandidate).filter((c) => c.t >= fromMs && c.t < toMs);
      const ids = new Set(candidates.map((c) => c.id));
      const disagreements = rows.filter((_, i) => i % 2 === 1).flat().map((r) => JSON.parse(r) as LabelDisagreement).filter((d) => ids.has(d.id));
      return { candidates, disagreements };
    });
  }

  /** Which of these jobs already have feedback (labelled: not offered again). */
  labelled(ids: string[]): Promise<Set<string>> {
    return redisCall(async () => {
      if (!ids.length) return new Set<string>();
      const pipe = this.redis.pipeline();
      for (const id of ids) pipe.exists(this.keys.feedbackOnce(id));
      const res = (await pipe.exec()) ?? [];
      return new Set(ids.filter((_, i) => res[i]?.[1] === 1));
    });
  }

  /**
   * Adds one job's feedback (its matches against the true boxes, overall and per slice) to
   * the current bucket, once per job: false when feedback for `jobId` was already recorded.
   */
  recordFeedback(jobId: string, model: string, perf: ImagePerformance, now = Date.now()): Promise<boolean> {
    const stream = this.keys.f1Stream(model);
    return redisCall(async () => {
      if (!(await this.redis.set(this.keys.feedbackOnce(jobId), '1', 'EX', this.opts.retentionS, 'NX'))) return false;
      const m = this.redis.multi();
      this.increment(m, model, now, feedbackFields(perf));
      // Per-image F1 in arrival order, for the Page-Hinkley detector.
      await m.zadd(stream, now, `${now}:${randomUUID().slice(0, 8)}:${perf.f1}`).zremrangebyrank(stream, 0, -5001).exec();
      return true;
    });
  }

  /** Forgets that a job's feedback was recorded (erasure; the counts it added stay, as sums). */
  forgetFeedback(jobId: string): Promise<void> {
    return redisCall(async () => void (await this.redis.del(this.keys.feedbackOnce(jobId))));
  }

  /** Per-image F1 of the feedback that arrived in [fromMs, toMs), oldest first (at most `limit`, the latest). */
  feedbackWindow(model: string, fromMs: number, toMs: number, limit = 5000): Promise<{ at: number; value: number }[]> {
    return redisCall(async () => {
      const rows = await this.redis.zrevrangebyscore(this.keys.f1Stream(model), `(${toMs}`, fromMs, 'LIMIT', 0, limit);
      return rows.reverse().map((r) => {
        const [at, , value] = r.split(':');
        return { at: Number(at), value: Number(value) };
      });
    });
  }

  /** The last `limit` per-image F1 values that arrived before `toMs`, oldest first. */
  feedbackBefore(model: string, toMs: number, limit = 200): Promise<number[]> {
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
        for (let b = start; b <= Math.min(last, start + 999); b++) pipe.hgetall(this.keys.profileBucket(model, b)).hgetall(this.keys.profileSlices(model, b));
        const rows = ((await pipe.exec()) ?? []).map(([err, h]) => {
          if (err) throw err;
          return h as Record<string, string>;
        });
        for (let i = 0; i < rows.length; i += 2) {
          const fields = { ...rows[i], ...rows[i + 1] };
          if (Object.keys(fields).length) out.push(profileFromFields(fields));
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
      if (!id) return null;
      const raw = await this.redis.get(this.keys.reference(id));
      const unreadable = (why: string) => new MonitoringStateError(`the active reference ${id} of model "${model}" ${why}: make a new one (POST /v1/monitoring/reference)`);
      if (!raw) throw unreadable('is missing');
      let ref: Reference;
      try {
        ref = JSON.parse(raw) as Reference;
      } catch (err) {
        throw unreadable(`is not valid JSON (${(err as Error).message})`);
      }
      if (!ref?.profile?.bins || !Array.isArray(ref.chunks)) throw unreadable('is not a reference');
      // References saved before profiles had slices.
      ref.profile.slices ??= {};
      for (const c of ref.chunks) c.slices ??= {};
      return ref;
    });
  }
}
