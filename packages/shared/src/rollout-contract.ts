import { z } from 'zod';

/**
 * Which model serves jobs that name none: the live one, plus optionally a candidate in
 * shadow (every Nth job also runs on it, results kept apart) or canary (a share of jobs is
 * served by it). Kept in Redis so every API and worker process sees the same state.
 */
/** One transition of the rollout, kept in its history (newest first). */
export const RolloutEvent = z.object({
  at: z.string(),
  action: z.enum(['started', 'promoted', 'rolled_back', 'rolled_back_automatically', 'shadow_stopped']),
  candidate: z.string().nullable(),
  reason: z.string(),
  /** Who asked: the key's owner id, or "guard" for an automatic decision. */
  by: z.string().optional(),
});
export type RolloutEvent = z.infer<typeof RolloutEvent>;

export const RolloutState = z.object({
  live: z.string(),
  mode: z.enum(['none', 'shadow', 'canary']),
  candidate: z.string().nullable(),
  every: z.number().int().min(1).nullable(),
  share: z.number().gt(0).max(1).nullable(),
  started_at: z.string().nullable(),
  /** Why the last rollout ended (promoted, rolled back by command, rolled back automatically). */
  last_event: RolloutEvent.nullable(),
});
export type RolloutState = z.infer<typeof RolloutState>;

export const RolloutRequest = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('shadow'), candidate: z.string(), every: z.number().int().min(1).max(1000).default(10) }),
  z.object({ mode: z.literal('canary'), candidate: z.string(), share: z.number().gt(0).max(1).default(0.1) }),
]);
export type RolloutRequest = z.infer<typeof RolloutRequest>;


/** The state before any rollout: `live` serves everything. */
export function initialRollout(live: string): RolloutState {
  return { live, mode: 'none', candidate: null, every: null, share: null, started_at: null, last_event: null };
}
