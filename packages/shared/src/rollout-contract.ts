import { z } from 'zod';

/**
 * What judges a shadow or canary, frozen into the rollout when it starts (defaults from the
 * configuration, overridden per rollout in POST /v1/rollout). No guard acts before the
 * candidate has `min_jobs` jobs (canary) or shadow runs (shadow) behind it.
 */
export const RolloutGuards = z.object({
  /** Jobs (canary) or shadow runs (shadow) the candidate needs before any guard acts. */
  min_jobs: z.number().int().min(1).max(1_000_000),
  /** Stop when the candidate fails this much more often than the live model (ratio difference). */
  max_failure_gap: z.number().min(0).max(1),
  /** Shadow only: stop when the candidate finds less than this share of the live model's boxes (IoU >= 0.5). */
  min_agreement: z.number().min(0).max(1),
  /** Shadow only: stop when more than this share of matched boxes changed class. */
  max_class_flip_rate: z.number().min(0).max(1),
  /** Shadow only: stop when the mean |score difference| of same-class matches is larger. */
  max_score_shift: z.number().min(0).max(1),
  /** Stop when more output metrics than this drift at alarm level against the live model's outputs. */
  max_drifted_outputs: z.number().int().min(0).max(100),
});
export type RolloutGuards = z.infer<typeof RolloutGuards>;

/** One transition of the rollout, kept in its history (newest first). */
export const RolloutEvent = z.object({
  at: z.string(),
  action: z.enum(['started', 'promoted', 'rolled_back', 'rolled_back_automatically', 'shadow_stopped']),
  candidate: z.string().nullable(),
  reason: z.string(),
  /** Who asked: the key's owner id, or "guard" for an automatic decision. */
  by: z.string().optional(),
  /** The guard that acted (automatic decisions). */
  guard: z.string().optional(),
  /** A promotion made past a refusing gate (force=true). */
  forced: z.boolean().optional(),
});
export type RolloutEvent = z.infer<typeof RolloutEvent>;

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
  /** The guards of the rollout in progress (null when none is). */
  guards: RolloutGuards.nullable().default(null),
  /** Why the last rollout ended (promoted, rolled back by command, rolled back automatically). */
  last_event: RolloutEvent.nullable(),
});
export type RolloutState = z.infer<typeof RolloutState>;

const GuardOverrides = RolloutGuards.partial().strict().optional();

export const RolloutRequest = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('shadow'), candidate: z.string(), every: z.number().int().min(1).max(1000).default(10), guards: GuardOverrides }),
  z.object({ mode: z.literal('canary'), candidate: z.string(), share: z.number().gt(0).max(1).default(0.1), guards: GuardOverrides }),
]);
export type RolloutRequest = z.infer<typeof RolloutRequest>;

/** POST /v1/rollout/promote: `force` promotes past a refusing gate (recorded with who forced it). */
export const PromoteRequest = z.object({ force: z.boolean().default(false) }).strict();
export type PromoteRequest = z.infer<typeof PromoteRequest>;

/** The state before any rollout: `live` serves everything. */
export function initialRollout(live: string): RolloutState {
  return { live, mode: 'none', candidate: null, every: null, share: null, started_at: null, guards: null, last_event: null };
}
