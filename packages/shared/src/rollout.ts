import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * Which model serves jobs that name none: the live one, plus optionally a candidate in
 * shadow (every Nth job also runs on it, results kept apart) or canary (a share of jobs is
 * served by it). Kept in Redis so every API and worker process sees the same state.
 */
export const RolloutState = z.object({
  live: z.string(),
  mode: z.enum(['none', 'shadow', 'canary']),
  candidate: z.string().nullable(),
  every: z.number().int().min(1).nullable(),
  share: z.number().gt(0).max(1).nullable(),
  started_at: z.string().nullable(),
  /** Why the last rollout ended (promoted, rolled back by command, rolled back automatically). */
  last_event: z.object({ at: z.string(), action: z.string(), candidate: z.string().nullable(), reason: z.string() }).nullable(),
});
export type RolloutState = z.infer<typeof RolloutState>;

export const RolloutRequest = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('shadow'), candidate: z.string(), every: z.number().int().min(1).max(1000).default(10) }),
  z.object({ mode: z.literal('canary'), candidate: z.string(), share: z.number().gt(0).max(1).default(0.1) }),
]);
export type RolloutRequest = z.infer<typeof RolloutRequest>;

const stateKey = (prefix: string) => `${prefix}:rollout`;
export const shadowStatsKey = (prefix: string, candidate: string) => `${prefix}:shadow:${candidate}`;
export const modelStatsKey = (prefix: string, model: string) => `${prefix}:model-stats:${model}`;

export async function readRollout(redis: Redis, prefix: string, defaultLive: string): Promise<RolloutState> {
  const raw = await redis.get(stateKey(prefix));
  const parsed = raw ? RolloutState.safeParse(JSON.parse(raw)) : null;
  return parsed?.success
    ? parsed.data
    : { live: defaultLive, mode: 'none', candidate: null, every: null, share: null, started_at: null, last_event: null };
}

export async function writeRollout(redis: Redis, prefix: string, state: RolloutState): Promise<void> {
  await redis.set(stateKey(prefix), JSON.stringify(state));
}

/** Counters a worker keeps per model (jobs, failed) and per shadow candidate (agreement). */
export async function readHash(redis: Redis, key: string): Promise<Record<string, number>> {
  const h = await redis.hgetall(key);
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
}
