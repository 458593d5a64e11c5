import { mergeProfiles, outputDrift, type Profile } from '@spotter/monitoring';
import { ConflictError, PromotionRefusedError, ValidationError, type RolloutEvent, type RolloutRequest, type RolloutState } from '@spotter/shared';
import type { JobQueue, ProfileStore, RolloutRead, RolloutStore, ShadowCounters } from '@spotter/stores';
import type { ModelRegistry } from './model-registry.js';
import { promotionGate, type PromotionGate } from './promotion-gate.js';
import { guardSettings, isDriftCheckpoint, judgeGuards, type GuardEvidence, type GuardPolicy, type GuardVerdict } from './rollout-guards.js';

export interface RolloutPolicy extends GuardPolicy {
  /** The output-drift guard compares at most this much of the rollout (its latest part). */
  windowMs: number;
  /** Where automatic stops and rollbacks are announced (signed alert webhook), if anywhere. */
  alertWebhookUrl?: string | undefined;
}

export interface RolloutDeps {
  store: RolloutStore;
  /** Per-model monitoring profiles: the output-drift guard reads them. */
  profiles: ProfileStore;
  registry: ModelRegistry;
  policy: RolloutPolicy;
  /** Delivers alerts (the webhooks queue). */
  alerts?: Pick<JobQueue, 'enqueueAlert'> | undefined;
  now?: () => Date;
}

/** The model a job runs on, and the candidate that shadows it, if any. */
export interface Route {
  model: string;
  shadow: string | null;
  rollout?: 'canary';
}

type Decision = { next: RolloutState; event: RolloutEvent } | null;

const answered = (p: Profile) => (p.bins.empty ?? []).reduce((a, b) => a + b, 0);

/**
 * The rollout's one owner: which model serves, and every transition (start, promote past the
 * gate, roll back, stop or roll back by a guard). API and workers both go through it. Each
 * transition is decided on a fresh read and applied with compare-and-set, so a promote and
 * an automatic rollback racing each other cannot both win.
 */
export class Rollout {
  readonly registry: ModelRegistry;
  private readonly store: RolloutStore;
  private readonly profiles: ProfileStore;
  private readonly policy: RolloutPolicy;
  private readonly now: () => Date;

  constructor(private readonly deps: RolloutDeps) {
    this.registry = deps.registry;
    this.store = deps.store;
    this.profiles = deps.profiles;
    this.policy = deps.policy;
    this.now = deps.now ?? (() => new Date());
  }

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

  /** Starts a shadow or canary of a registered candidate, with fresh counters and its guards frozen into the state. */
  async start(req: RolloutRequest, by: string): Promise<RolloutState> {
    const candidate = await this.registry.find(req.candidate).catch(() => null);
    if (!candidate) throw new ValidationError(`unknown model "${req.candidate}"`, 'UNKNOWN_MODEL');
    if (candidate.problem) throw new ValidationError(`model "${req.candidate}" is unavailable: ${candidate.problem}`, 'MODEL_UNAVAILABLE');
    const guards = guardSettings(this.policy, req.guards ?? {});
    const { state } = await this.transition(
      (s) => {
        if (req.candidate === s.live) throw new ConflictError(`"${req.candidate}" is already the live model`);
        if (s.mode !== 'none') throw new ConflictError(`a ${s.mode} of "${s.candidate}" is in progress; promote or roll it back first`);
        const at = this.now().toISOString();
        return {
          next: { ...s, mode: req.mode, candidate: req.candidate, every: req.mode === 'shadow' ? req.every : null, share: req.mode === 'canary' ? req.share : null, started_at: at, guards },
          event: { at, action: 'started', candidate: req.candidate, reason: `${req.mode} started`, by },
        };
      },
      async (s) => this.store.resetCounters([req.candidate, s.live]),
    );
    return state;
  }

  /** The promotion gate for the rollout in progress: the candidate's evaluation report against the live model's. */
  async gate(s: RolloutState): Promise<PromotionGate> {
    const side = (name: string) => {
      const m = this.registry.get(name);
      return { name, reportFile: m.eval_report ?? null, report: this.registry.evalReport(name), problem: m.problem, important_tags: m.important_tags, gate_tolerance: m.gate_tolerance };
    };
    const [live, candidate] = [side(s.live), side(s.candidate!)];
    return promotionGate(live, candidate);
  }

  /**
   * Makes the candidate live, unless the gate refuses (PromotionRefusedError, with the table).
   * `force` promotes anyway; the history records it as forced, by whom, and past what.
   */
  async promote(by: string, opts: { force?: boolean } = {}): Promise<{ state: RolloutState; gate: PromotionGate }> {
    const seen = await this.state();
    if (seen.mode === 'none' || !seen.candidate) throw new ConflictError('no rollout in progress');
    const gate = await this.gate(seen);
    if (!gate.passed && !opts.force) {
      throw new PromotionRefusedError(`promotion of "${seen.candidate}" refused by the gate: ${gate.reasons.join('; ')}; force=true overrides`, gate);
    }
    const forced = !gate.passed;
    const reason = forced
      ? `forced past the gate by ${by}: ${gate.reasons.join('; ')}`
      : `promoted by command${gate.warnings.length ? ` (gate: ${gate.warnings.join('; ')})` : ''}`;
    const { state } = await this.transition((s) => {
      // The gate judged this candidate against this live model; anything else is a new decision.
      if (s.candidate !== seen.candidate || s.live !== seen.live || s.started_at !== seen.started_at) throw new ConflictError('the rollout changed while the gate was being checked; look again');
      return this.end(s, 'promoted', reason, by, forced ? { forced: true } : {});
    });
    return { state, gate };
  }

  /** Ends the rollout, keeping the live model. */
  async rollback(by: string, reason = 'rolled back by command'): Promise<RolloutState> {
    return (await this.transition((s) => this.end(s, 'rolled_back', reason, by))).state;
  }

  /**
   * Judges the rollout after new evidence about `candidate` (a canary job's end, a shadow
   * run). `judged` is the candidate's count that evidence brought (from the counter's
   * increment): the output-drift guard runs only at its checkpoints. Stops a shadow or rolls
   * a canary back when a guard fails, records why, and sends the alert. Returns the event
   * when this call made the decision.
   */
  async judge(candidate: string, judged?: number): Promise<RolloutEvent | null> {
    const s = await this.state();
    if (s.mode === 'none' || s.candidate !== candidate) return null;
    const guards = s.guards ?? guardSettings(this.policy);
    const withDrift = judged === undefined || isDriftCheckpoint(judged, guards.min_jobs);
    const verdicts = judgeGuards(guards, await this.evidence(s, withDrift));
    const tripped = verdicts.find((v) => v.status === 'fail');
    if (!tripped) return null;
    const action = s.mode === 'canary' ? 'rolled_back_automatically' : 'shadow_stopped';
    const { event } = await this.transition((cur) =>
      cur.mode === s.mode && cur.candidate === s.candidate && cur.started_at === s.started_at ? this.end(cur, action, tripped.reason, 'guard', { guard: tripped.guard }) : null,
    );
    if (event) await this.announce(s, event, verdicts);
    return event;
  }

  /** Adds one shadow comparison (or a run skipped for lack of room, or a failed one); returns the runs judged so far. */
  recordShadow(candidate: string, agreement: Omit<ShadowCounters, 'jobs' | 'skipped' | 'failed'> | 'skipped' | 'failed'): Promise<number> {
    return this.store.recordShadow(candidate, agreement);
  }

  /** Counts a final job for the guards; returns the model's jobs so far. */
  recordOutcome(model: string, failed: boolean): Promise<number> {
    return this.store.recordOutcome(model, failed);
  }

  /** The state with the counters that judge it, the guards' verdicts as they stand, the promotion gate and the history. */
  async report() {
    const s = await this.state();
    const stats = async (model: string) => {
      const o = await this.store.outcomes(model);
      return { ...o, failure_ratio: o.jobs ? o.failed / o.jobs : null };
    };
    const active = s.mode !== 'none' && s.candidate !== null;
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
      verdicts: active ? judgeGuards(s.guards ?? guardSettings(this.policy), await this.evidence(s, true)) : null,
      gate: active ? await this.gate(s) : null,
      history: await this.store.history(20),
    };
  }

  /** Reads what the guards judge: outcomes, shadow counters and, when asked, both models' outputs over the rollout's window. */
  private async evidence(s: RolloutState, withDrift: boolean): Promise<GuardEvidence> {
    const candidate = s.candidate!;
    const [live, cand, shadow] = await Promise.all([
      this.store.outcomes(s.live),
      s.mode === 'canary' ? this.store.outcomes(candidate) : Promise.resolve(null),
      s.mode === 'shadow' ? this.store.shadowCounters(candidate) : Promise.resolve(null),
    ]);
    let outputs: GuardEvidence['outputs'] = null;
    if (withDrift) {
      const to = this.now().getTime();
      const from = Math.max(Date.parse(s.started_at ?? new Date(to).toISOString()), to - this.policy.windowMs);
      const [liveBuckets, candBuckets] = await Promise.all([this.profiles.buckets(s.live, from, to + 1), this.profiles.buckets(candidate, from, to + 1)]);
      const liveProfile = mergeProfiles(...liveBuckets);
      const candProfile = mergeProfiles(...candBuckets);
      outputs = { rows: outputDrift(liveProfile, candProfile, { minSamples: (s.guards ?? guardSettings(this.policy)).min_jobs }), candidateImages: answered(candProfile), liveImages: answered(liveProfile) };
    }
    return {
      mode: s.mode === 'canary' ? 'canary' : 'shadow',
      candidate: cand ?? { jobs: (shadow?.jobs ?? 0) + (shadow?.failed ?? 0), failed: shadow?.failed ?? 0 },
      live,
      shadow,
      outputs,
    };
  }

  /** Sends the signed alert of an automatic decision (rollout.stopped, rollout.rolled_back). */
  private async announce(s: RolloutState, event: RolloutEvent, verdicts: GuardVerdict[]) {
    const url = this.policy.alertWebhookUrl;
    if (!url || !this.deps.alerts) return;
    await this.deps.alerts.enqueueAlert({
      url,
      event_id: `rollout.${event.action}.${event.candidate}.${Date.parse(event.at)}`,
      body: { event: event.action === 'shadow_stopped' ? 'rollout.stopped' : 'rollout.rolled_back', rollout: { ...event, live: s.live, mode: s.mode, started_at: s.started_at, guards: s.guards, verdicts } },
    });
  }

  private end(s: RolloutState, action: RolloutEvent['action'], reason: string, by: string, extra: Pick<RolloutEvent, 'guard' | 'forced'> = {}): Decision {
    if (s.mode === 'none' || !s.candidate) throw new ConflictError('no rollout in progress');
    const event: RolloutEvent = { at: this.now().toISOString(), action, candidate: s.candidate, reason, by, ...extra };
    return {
      next: { live: action === 'promoted' ? s.candidate : s.live, mode: 'none', candidate: null, every: null, share: null, started_at: null, guards: null, last_event: event },
      event,
    };
  }

  /**
   * Decides on a fresh read and applies with compare-and-set, deciding again if another
   * process got there first. `event` is null when the decision was to do nothing.
   */
  private async transition(decide: (s: RolloutState) => Decision, before?: (s: RolloutState) => Promise<void>): Promise<{ state: RolloutState; event: RolloutEvent | null }> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const read: RolloutRead = await this.store.read(this.registry.defaultName);
      const decision = decide(read.state);
      if (!decision) return { state: read.state, event: null };
      await before?.(read.state);
      if (await this.store.replace(read, decision.next, decision.event)) return { state: decision.next, event: decision.event };
    }
    throw new ConflictError('the rollout changed too often to apply this; try again');
  }
}
