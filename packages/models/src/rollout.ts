import { ConflictError, ValidationError, type RolloutEvent, type RolloutRequest, type RolloutState } from '@spotter/shared';
import type { RolloutRead, RolloutStore, ShadowCounters } from '@spotter/stores';
import type { ModelRegistry } from './model-registry.js';

export interface RolloutPolicy {
  /** Jobs a canary serves before its failure ratio is judged. */
  canaryMinJobs: number;
  /** Roll back when the canary fails this much more often than the live model. */
  canaryMaxFailureGap: number;
}

/** The model a job runs on, and the candidate that shadows it, if any. */
export interface Route {
  model: string;
  shadow: string | null;
  rollout?: 'canary';
}

type Decision = { next: RolloutState; event: RolloutEvent } | null;

/**
 * The rollout's one owner: which model serves, and every transition (start, promote,
 * roll back, automatic rollback). API and workers both go through it. Each transition is
 * decided on a fresh read and applied with compare-and-set, so a promote and an automatic
 * rollback racing each other cannot both win.
 */
export class Rollout {
  constructor(
    private readonly store: RolloutStore,
    readonly registry: ModelRegistry,
    private readonly policy: RolloutPolicy,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async state(): Promise<RolloutState> {
    return (await this.store.read(this.registry.defaultName)).state;
  }

  /** The model for a job that names none: live, or the canary for its share; every Nth is shadowed. */
  async route(random = Math.random): Promise<Route> {
    const s = await this.state();
    if (s.mode === 'canary' && s.candidate && random() < (s.share ?? 0)) return { model: s.candidate, shadow: null, rollout: 'canary' };
    if (s.mode === 'shadow' && s.candidate && (await this.store.shadowTick()) % (s.every ?? 1) === 0) return { model: s.live, shadow: s.candidate };
    return { model: s.live, shadow: null };
  }

  /** Starts a shadow or canary of a registered candidate, with fresh counters. */
  async start(req: RolloutRequest, by: string): Promise<RolloutState> {
    if (!this.registry.has(req.candidate)) throw new ValidationError(`unknown model "${req.candidate}"`, 'UNKNOWN_MODEL');
    return this.transition((s) => {
      if (req.candidate === s.live) throw new ConflictError(`"${req.candidate}" is already the live model`);
      if (s.mode !== 'none') throw new ConflictError(`a ${s.mode} of "${s.candidate}" is in progress; promote or roll it back first`);
      const at = this.now().toISOString();
      return {
        next: { ...s, mode: req.mode, candidate: req.candidate, every: req.mode === 'shadow' ? req.every : null, share: req.mode === 'canary' ? req.share : null, started_at: at },
        event: { at, action: 'started', candidate: req.candidate, reason: `${req.mode} started`, by },
      };
    }, async (s) => this.store.resetCounters([req.candidate, s.live]));
  }

  /** Makes the candidate live. */
  promote(by: string, reason = 'promoted by command'): Promise<RolloutState> {
    return this.transition((s) => this.end(s, 'promoted', reason, by));
  }

  /** Ends the rollout, keeping the live model. */
  rollback(by: string, reason = 'rolled back by command'): Promise<RolloutState> {
    return this.transition((s) => this.end(s, 'rolled_back', reason, by));
  }

  /**
   * Judges a canary after one of its jobs: rolled back automatically once it has served
   * enough jobs and fails clearly more often than the live model. Returns the event, if any.
   */
  async judgeCanary(candidate: string): Promise<RolloutEvent | null> {
    const s = await this.state();
    if (s.mode !== 'canary' || s.candidate !== candidate) return null;
    const [cand, live] = await Promise.all([this.store.outcomes(candidate), this.store.outcomes(s.live)]);
    if (cand.jobs < this.policy.canaryMinJobs) return null;
    const candRatio = cand.failed / cand.jobs;
    const liveRatio = live.jobs ? live.failed / live.jobs : 0;
    if (candRatio <= liveRatio + this.policy.canaryMaxFailureGap) return null;
    const reason = `failure ratio ${candRatio.toFixed(3)} over ${cand.jobs} jobs vs live ${liveRatio.toFixed(3)}`;
    try {
      const next = await this.transition((cur) => (cur.mode === 'canary' && cur.candidate === candidate ? this.end(cur, 'rolled_back_automatically', reason, 'guard') : null));
      return next.last_event;
    } catch (err) {
      if (err instanceof ConflictError) return null;
      throw err;
    }
  }

  /** Adds one shadow comparison (or one skipped for lack of room) to the candidate's counters. */
  recordShadow(candidate: string, agreement: Omit<ShadowCounters, 'jobs' | 'skipped'> | 'skipped'): Promise<void> {
    return this.store.recordShadow(candidate, agreement);
  }

  /** Counts a final job for the canary guard. */
  recordOutcome(model: string, failed: boolean): Promise<void> {
    return this.store.recordOutcome(model, failed);
  }

  /** The state with the counters that judge it (shadow agreement, canary failure ratios) and the history. */
  async report() {
    const s = await this.state();
    const stats = async (model: string) => {
      const o = await this.store.outcomes(model);
      return { ...o, failure_ratio: o.jobs ? o.failed / o.jobs : null };
    };
    const shadow = s.mode === 'shadow' && s.candidate ? await this.store.shadowCounters(s.candidate) : null;
    const scored = shadow ? shadow.matched - shadow.class_flips : 0;
    return {
      ...s,
      shadow: shadow && {
        ...shadow,
        // Share of live boxes the candidate also finds (IoU >= 0.5, any class).
        agreement: shadow.live_boxes ? shadow.matched / shadow.live_boxes : null,
        mean_score_delta: scored > 0 ? shadow.score_delta_sum / scored : null,
      },
      canary: s.mode === 'canary' && s.candidate ? { live: await stats(s.live), candidate: await stats(s.candidate) } : null,
      history: await this.store.history(20),
    };
  }

  private end(s: RolloutState, action: 'promoted' | 'rolled_back' | 'rolled_back_automatically', reason: string, by: string): Decision {
    if (s.mode === 'none' || !s.candidate) throw new ConflictError('no rollout in progress');
    const event: RolloutEvent = { at: this.now().toISOString(), action, candidate: s.candidate, reason, by };
    return {
      next: { live: action === 'promoted' ? s.candidate : s.live, mode: 'none', candidate: null, every: null, share: null, started_at: null, last_event: event },
      event,
    };
  }

  /** Decides on a fresh read and applies with compare-and-set, deciding again if another process got there first. */
  private async transition(decide: (s: RolloutState) => Decision, before?: (s: RolloutState) => Promise<void>): Promise<RolloutState> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const read: RolloutRead = await this.store.read(this.registry.defaultName);
      const decision = decide(read.state);
      if (!decision) return read.state;
      await before?.(read.state);
      if (await this.store.replace(read, decision.next, decision.event)) return decision.next;
    }
    throw new ConflictError('the rollout changed too often to apply this; try again');
  }
}
