import { randomUUID } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';
import type { Observation } from './image-metrics.js';
import type { ImagePerformance } from './performance.js';
import { emptyProfile, increments, mergeProfiles, type Profile } from './profile.js';

const bucketKey = (prefix: string, model: string, bucket: number) => `${prefix}:mon:${model}:${bucket}`;

/** Where profiles live: key prefix, bucket length (60 s by default) and retention. */
export interface ProfileStoreOptions {
  prefix: string;
  bucketMs: number;
  retentionS: number;
}

/**
 * Appends to `multi` the commands that add one image's observation to the current bucket's
 * profile, so that the caller sends them with its own in one round trip. Workers all add to
 * the same keys, so N workers sum to what one process would count.
 */
export function queueObservation(multi: ChainableCommander, opts: ProfileStoreOptions, model: string, obs: Observation, now = Date.now()): ChainableCommander {
  const key = bucketKey(opts.prefix, model, Math.floor(now / opts.bucketMs));
  const counts = new Map<string, number>();
  for (const [name, bin] of increments(obs)) counts.set(`${name}:${bin}`, (counts.get(`${name}:${bin}`) ?? 0) + 1);
  multi.hincrby(key, 'images', 1);
  for (const [field, n] of counts) multi.hincrby(key, field, n);
  return multi.expire(key, opts.retentionS);
}

/** Adds one job's feedback (its matches against the true boxes) to the current bucket. */
export async function recordFeedback(redis: Redis, opts: ProfileStoreOptions, model: string, perf: ImagePerformance, now = Date.now()) {
  const key = bucketKey(opts.prefix, model, Math.floor(now / opts.bucketMs));
  const m = redis.multi().hincrby(key, 'perf:images', 1).hincrby(key, 'perf:tp', perf.tp).hincrby(key, 'perf:fp', perf.fp).hincrby(key, 'perf:fn', perf.fn);
  perf.tpBins.forEach((c, i) => c && m.hincrby(key, `perf:tpb:${i}`, c));
  perf.fpBins.forEach((c, i) => c && m.hincrby(key, `perf:fpb:${i}`, c));
  // Per-image F1 in arrival order, for the Page-Hinkley detector.
  const stream = `${opts.prefix}:mon:f1:${model}`;
  await m.expire(key, opts.retentionS).zadd(stream, now, `${now}:${Math.random().toString(36).slice(2, 8)}:${perf.f1}`).zremrangebyrank(stream, 0, -5001).exec();
}

/** The last `limit` per-image F1 values whose feedback arrived before `toMs`, oldest first (history included, so a drop shows). */
export async function readF1Stream(redis: Redis, prefix: string, model: string, toMs: number, limit = 500): Promise<number[]> {
  const rows = await redis.zrevrangebyscore(`${prefix}:mon:f1:${model}`, `(${toMs}`, '-inf', 'LIMIT', 0, limit);
  return rows.reverse().map((r) => Number(r.split(':')[2]));
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

/** The bucket profiles of a time range (oldest first), for merging or re-cutting. */
export async function readBuckets(redis: Redis, opts: ProfileStoreOptions, model: string, fromMs: number, toMs: number): Promise<Profile[]> {
  const { prefix } = opts;
  const first = Math.floor(fromMs / opts.bucketMs);
  const last = Math.floor((toMs - 1) / opts.bucketMs);
  const out: Profile[] = [];
  for (let start = first; start <= last; start += 1000) {
    const pipe = redis.pipeline();
    for (let b = start; b <= Math.min(last, start + 999); b++) pipe.hgetall(bucketKey(prefix, model, b));
    for (const [err, h] of (await pipe.exec()) ?? []) {
      if (err) throw err;
      if (h && Object.keys(h as object).length) out.push(parseBucket(h as Record<string, string>));
    }
  }
  return out;
}

/** A frozen profile to compare windows with, cut into chunks for adaptive thresholds. */
export interface Reference {
  id: string;
  model: string;
  created_at: string;
  source: { from: string; to: string } | { images: string };
  profile: Profile;
  chunks: Profile[];
}

/** Splits profiles into about `n` chunks of similar image counts. */
export function chunkProfiles(parts: Profile[], n = 10): Profile[] {
  const total = parts.reduce((s, p) => s + p.images, 0);
  const target = Math.max(1, total / n);
  const chunks: Profile[] = [];
  let current: Profile[] = [];
  let count = 0;
  for (const p of parts) {
    current.push(p);
    count += p.images;
    if (count >= target) {
      chunks.push(mergeProfiles(...current));
      current = [];
      count = 0;
    }
  }
  if (current.length) chunks.push(mergeProfiles(...current));
  return chunks;
}

const refKey = (prefix: string, id: string) => `${prefix}:mon:ref:${id}`;
const activeKey = (prefix: string, model: string) => `${prefix}:mon:ref-active:${model}`;
const historyKey = (prefix: string, model: string) => `${prefix}:mon:refs:${model}`;

/** Stores a reference, makes it the model's active one and keeps the history. */
export async function saveReference(redis: Redis, prefix: string, ref: Omit<Reference, 'id' | 'created_at'>): Promise<Reference> {
  const full: Reference = { id: randomUUID(), created_at: new Date().toISOString(), ...ref };
  await redis
    .multi()
    .set(refKey(prefix, full.id), JSON.stringify(full))
    .set(activeKey(prefix, full.model), full.id)
    .lpush(historyKey(prefix, full.model), full.id)
    .exec();
  return full;
}

export async function activeReference(redis: Redis, prefix: string, model: string): Promise<Reference | null> {
  const id = await redis.get(activeKey(prefix, model));
  const raw = id ? await redis.get(refKey(prefix, id)) : null;
  return raw ? (JSON.parse(raw) as Reference) : null;
}
