import type { Redis } from 'ioredis';
import {
  ConflictError,
  InvalidRequestError,
  modelStatsKey,
  readHash,
  readRollout,
  shadowStatsKey,
  writeRollout,
  type Config,
  type ModelManifest,
  type RolloutRequest,
  type RolloutState,
} from '@spotter/shared';

/** Picks the model of each job from the rollout state, and changes that state on command. */
export class RolloutService {
  private cached: { state: RolloutState; at: number } | null = null;

  constructor(
    readonly registry: ReadonlyMap<string, ModelManifest>,
    private readonly redis: Redis,
    private readonly config: Config,
  ) {}

  private get prefix() {
    return this.config.redis.prefix;
  }

  /** The current state, read from Redis at most once a second per API process. */
  async state(): Promise<RolloutState> {
    if (!this.cached || Date.now() - this.cached.at > 1000) {
      this.cached = { state: await readRollout(this.redis, this.prefix, this.config.model.name), at: Date.now() };
    }
    return this.cached.state;
  }

  /** The model for a job that names none, and the candidate to shadow it with, if any. */
  async route(): Promise<{ model: string; shadow: string | null; rollout?: 'canary' }> {
    const s = await this.state();
    if (s.mode === 'canary' && s.candidate && Math.random() < (s.share ?? 0)) return { model: s.candidate, shadow: null, rollout: 'canary' };
    if (s.mode === 'shadow' && s.candidate) {
      const n = await this.redis.incr(`${this.prefix}:shadow-counter`);
      if (n % (s.every ?? 1) === 0) return { model: s.live, shadow: s.candidate };
    }
    return { model: s.live, shadow: null };
  }

  private async save(state: RolloutState) {
    await writeRollout(this.redis, this.prefix, state);
    this.cached = { state, at: Date.now() };
    return state;
  }

  /** Starts a shadow or canary rollout of a registered candidate, with fresh counters. */
  async start(req: RolloutRequest): Promise<RolloutState> {
    const s = await readRollout(this.redis, this.prefix, this.config.model.name);
    if (!this.registry.has(req.candidate)) throw new InvalidRequestError(`unknown model "${req.candidate}"`, 'UNKNOWN_MODEL');
    if (req.candidate === s.live) throw new ConflictError(`"${req.candidate}" is already the live model`);
    if (s.mode !== 'none') throw new ConflictError(`a ${s.mode} of "${s.candidate}" is in progress; promote or roll it back first`);
    await this.redis.del(shadowStatsKey(this.prefix, req.candidate), modelStatsKey(this.prefix, req.candidate), modelStatsKey(this.prefix, s.live));
    return this.save({
      ...s,
      mode: req.mode,
      candidate: req.candidate,
      every: req.mode === 'shadow' ? req.every : null,
      share: req.mode === 'canary' ? req.share : null,
      started_at: new Date().toISOString(),
    });
  }

  /** Ends the rollout: `promote` makes the candidate live, `rollback` keeps the live model. */
  async end(action: 'promote' | 'rollback', reason: string): Promise<RolloutState> {
    const s = await readRollout(this.redis, this.prefix, this.config.model.name);
    if (s.mode === 'none' || !s.candidate) throw new ConflictError('no rollout in progress');
    return this.save({
      live: action === 'promote' ? s.candidate : s.live,
      mode: 'none',
      candidate: null,
      every: null,
      share: null,
      started_at: null,
      last_event: { at: new Date().toISOString(), action: action === 'promote' ? 'promoted' : 'rolled_back', candidate: s.candidate, reason },
    });
  }

  /** The state with the counters that judge it: shadow agreement, canary failure ratios. */
  async report() {
    const s = await readRollout(this.redis, this.prefix, this.config.model.name);
    const stats = async (model: string) => {
      const h = await readHash(this.redis, modelStatsKey(this.prefix, model));
      return { jobs: h.jobs ?? 0, failed: h.failed ?? 0, failure_ratio: h.jobs ? (h.failed ?? 0) / h.jobs : null };
    };
    const shadow = s.mode === 'shadow' && s.candidate ? await readHash(this.redis, shadowStatsKey(this.prefix, s.candidate)) : null;
    return {
      ...s,
      shadow: shadow && {
        jobs: shadow.jobs ?? 0,
        live_boxes: shadow.live_boxes ?? 0,
        candidate_boxes: shadow.candidate_boxes ?? 0,
        matched: shadow.matched ?? 0,
        class_flips: shadow.class_flips ?? 0,
        // Shadow runs dropped because a worker already had 64 waiting.
        skipped: shadow.skipped ?? 0,
        // Share of live boxes the candidate also finds (IoU >= 0.5, any class).
        agreement: shadow.live_boxes ? (shadow.matched ?? 0) / shadow.live_boxes : null,
        mean_score_delta: shadow.matched && shadow.matched > (shadow.class_flips ?? 0) ? (shadow.score_delta_sum ?? 0) / (shadow.matched - (shadow.class_flips ?? 0)) : null,
      },
      canary: s.mode === 'canary' && s.candidate ? { live: await stats(s.live), candidate: await stats(s.candidate) } : null,
    };
  }
}
