import type { DriftStatus } from './drift-report.js';
import { METRIC_BY_NAME, type Metric } from './metric-catalog.js';
import type { Profile } from './profile.js';

/**
 * Service objectives an operator sets (SPOTTER_SLO_*): the p95 of queue time and of end-to-end
 * latency, in seconds, and the share of jobs that may fail. They are judged against the
 * objective, never against a reference: how long jobs take follows the load and the machine,
 * not the model or its inputs, so a busy neighbour must not read as drift.
 */
export interface ServiceObjectives {
  queueP95S: number;
  latencyP95S: number;
  failureRatio: number;
}

export type ServiceObjective = 'queue_p95' | 'latency_p95' | 'failure_ratio';

export interface ServiceRow {
  /** The profile metric judged. */
  name: 'queue_seconds' | 'latency_seconds' | 'failed';
  objective: ServiceObjective;
  /** The objective: seconds for the p95s, a share for failures. */
  target: number;
  /** The window's p95 (seconds) or failure share. */
  value: number;
  /**
   * The window's share of jobs that broke the objective over the share it allows (5 % for a
   * p95, `target` for failures): 1 spends the error budget exactly as fast as it is allowed.
   */
  burn_rate: number;
  status: DriftStatus;
  samples: number;
}

/** Burn rates at which a row warns and alarms: half the budget's pace, then all of it. */
export const BURN_RATE = { warn: 0.5, alarm: 1 } as const;

/** The service metrics of the profile catalog (kind "service"): judged here, never as drift. */
export const SERVICE_METRICS = ['queue_seconds', 'latency_seconds', 'failed'] as const;
export const isServiceMetric = (name: string) => (SERVICE_METRICS as readonly string[]).includes(name);

const total = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Bounds of each bin of a numeric metric with geometric edges: [0, e0), [e0, e1), …,
 * [e_last, 2·e_last) (the open last bin is given twice its lower edge).
 */
function bounds(edges: readonly number[]): [number, number][] {
  return [[0, edges[0]!], ...edges.slice(1).map((e, i): [number, number] => [edges[i]!, e]), [edges.at(-1)!, edges.at(-1)! * 2]];
}

/** Where `x` sits inside [lo, hi), 0..1: geometric (the bins are), linear in the first bin that starts at 0. */
const position = (x: number, lo: number, hi: number) => (lo <= 0 ? x / hi : Math.log(x / lo) / Math.log(hi / lo));
const atPosition = (t: number, lo: number, hi: number) => (lo <= 0 ? t * hi : lo * (hi / lo) ** t);

/** Share of the binned values above `x`, spreading each bin's values over it as its edges do. */
export function shareAbove(counts: readonly number[], edges: readonly number[], x: number): number {
  const n = total(counts);
  if (n === 0) return 0;
  let above = 0;
  bounds(edges).forEach(([lo, hi], i) => {
    const c = counts[i] ?? 0;
    if (x < lo) above += c;
    else if (x < hi) above += c * (1 - Math.min(1, Math.max(0, position(x, lo, hi))));
  });
  return above / n;
}

/** The q-quantile of binned values, interpolated in the same way (so that p95 > T exactly when shareAbove(T) > 5 %). */
export function interpolatedQuantile(counts: readonly number[], edges: readonly number[], q: number): number {
  const n = total(counts);
  const b = bounds(edges);
  let acc = 0;
  for (let i = 0; i < b.length; i++) {
    const c = counts[i] ?? 0;
    if (c > 0 && acc + c >= q * n) {
      const [lo, hi] = b[i]!;
      return atPosition((q * n - acc) / c, lo, hi);
    }
    acc += c;
  }
  return 0;
}

const statusOf = (burn: number, samples: number, minSamples: number): DriftStatus =>
  samples < minSamples ? 'insufficient_data' : burn >= BURN_RATE.alarm ? 'alarm' : burn >= BURN_RATE.warn ? 'warn' : 'ok';

const round = (v: number, d = 4) => Math.round(v * 10 ** d) / 10 ** d;

function p95Row(window: Profile, name: 'queue_seconds' | 'latency_seconds', objective: ServiceObjective, target: number, minSamples: number): ServiceRow {
  const metric = METRIC_BY_NAME.get(name) as Extract<Metric, { type: 'numeric' }>;
  const counts = window.bins[name] ?? [];
  const samples = total(counts);
  const burn = shareAbove(counts, metric.edges, target) / 0.05;
  return { name, objective, target, value: round(interpolatedQuantile(counts, metric.edges, 0.95)), burn_rate: round(burn), status: statusOf(burn, samples, minSamples), samples };
}

function failureRow(window: Profile, target: number, minSamples: number): ServiceRow {
  const [ok = 0, failed = 0] = window.bins.failed ?? [];
  const samples = ok + failed;
  const share = samples ? failed / samples : 0;
  const burn = share / target;
  return { name: 'failed', objective: 'failure_ratio', target, value: round(share), burn_rate: round(burn), status: statusOf(burn, samples, minSamples), samples };
}

/** The worst status of some rows: alarm, then warn, then ok; insufficient_data when none was judged. */
export function worstStatus(statuses: readonly DriftStatus[]): DriftStatus {
  for (const s of ['alarm', 'warn', 'ok'] as const) if (statuses.includes(s)) return s;
  return 'insufficient_data';
}

/**
 * Service health of a window: each objective's row (value, burn rate, status) and the worst
 * status. Rows with fewer than `minSamples` jobs read insufficient_data.
 */
export function serviceHealth(window: Profile, objectives: ServiceObjectives, minSamples: number) {
  const metrics = [
    p95Row(window, 'queue_seconds', 'queue_p95', objectives.queueP95S, minSamples),
    p95Row(window, 'latency_seconds', 'latency_p95', objectives.latencyP95S, minSamples),
    failureRow(window, objectives.failureRatio, minSamples),
  ];
  return { status: worstStatus(metrics.map((m) => m.status)), thresholds: { burn_rate: BURN_RATE }, metrics };
}
export type ServiceHealth = ReturnType<typeof serviceHealth>;
