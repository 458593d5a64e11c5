import { h, table } from '../../dom.js';
import { num, time } from '../../format.js';
import type { Drift } from './monitoring-types.js';

const statusBadge = (status: string) => h('span', { class: `drift drift-${status}` }, status.replaceAll('_', ' '));

/** The report's facts: model, the model's overall status, window, reference. */
export function driftSummary(d: Drift) {
  return h(
    'dl',
    { class: 'facts', 'data-role': 'drift-summary', 'data-status': d.status },
    h('dt', {}, 'Model'),
    h('dd', {}, d.model),
    h('dt', {}, 'Model drift'),
    h('dd', {}, statusBadge(d.status)),
    h('dt', {}, 'Service health'),
    h('dd', {}, statusBadge(d.service.status)),
    h('dt', {}, 'Window'),
    h('dd', {}, `${time(d.window.from)} – ${time(d.window.to)}: ${d.window.count} images`),
    h('dt', {}, 'Reference'),
    h('dd', {}, d.reference ? `${d.reference.count} images, made ${time(d.reference.created_at)}` : 'none yet: make one from a period of normal traffic'),
  );
}

/** One row per model metric; the name picks the metric for the charts. */
export function driftTable(d: Drift, choose: (metric: string) => void) {
  if (!d.metrics.length) return null;
  return table(
    'Model drift per metric (inputs, outputs, accuracy against the reference)',
    ['Metric', 'Kind', 'Test', 'Score', 'p-value', 'Warn at', 'Alarm at', 'Status', 'Samples'],
    d.metrics.map((m) => [
      h('button', { type: 'button', class: 'link', 'data-metric': m.name, onclick: () => choose(m.name) }, m.name),
      m.kind,
      m.test.replaceAll('_', ' '),
      num(m.score),
      num(m.p_value, 4),
      num(m.threshold.warn),
      num(m.threshold.alarm),
      statusBadge(m.status),
      String(m.samples),
    ]),
    { 'data-role': 'drift-metrics' },
  );
}

const OBJECTIVE_LABEL: Record<string, string> = { queue_p95: 'queue time p95', latency_p95: 'latency p95', failure_ratio: 'failed jobs' };
const amount = (objective: string, v: number) => (objective === 'failure_ratio' ? `${num(v * 100, 2)} %` : `${num(v, 3)} s`);

/** Service health: each objective (SPOTTER_SLO_*), the window's value and burn rate. */
export function serviceTable(d: Drift, choose: (metric: string) => void) {
  const { warn, alarm } = d.service.thresholds.burn_rate;
  return table(
    `Service health against its objectives (burn rate: warn at ${warn}, alarm at ${alarm})`,
    ['Objective', 'Target', 'Window', 'Burn rate', 'Status', 'Jobs'],
    d.service.metrics.map((m) => [
      h('button', { type: 'button', class: 'link', 'data-metric': m.name, onclick: () => choose(m.name) }, OBJECTIVE_LABEL[m.objective] ?? m.objective),
      amount(m.objective, m.target),
      m.status === 'insufficient_data' ? '–' : amount(m.objective, m.value),
      num(m.burn_rate),
      statusBadge(m.status),
      String(m.samples),
    ]),
    { 'data-role': 'service-health', 'data-status': d.service.status },
  );
}
