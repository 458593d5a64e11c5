import { api, ApiError, messageOf } from '../api.js';
import { errorBox, h, liveRegion, replace } from '../dom.js';
import type { Page } from '../page.js';
import { alarmsView } from './monitoring/alarms-view.js';
import { driftSummary, driftTable, serviceTable } from './monitoring/drift-view.js';
import { drawMetricCharts } from './monitoring/metric-charts.js';
import type { Alarms, Drift } from './monitoring/monitoring-types.js';
import { referenceForm } from './monitoring/reference-form.js';

const WINDOWS = [
  { label: 'last 5 minutes', ms: 5 * 60_000 },
  { label: 'last 15 minutes', ms: 15 * 60_000 },
  { label: 'last hour', ms: 3600_000 },
  { label: 'last 6 hours', ms: 6 * 3600_000 },
  { label: 'last 24 hours', ms: 24 * 3600_000 },
];
const REFRESH_MS = 15_000;

/** Monitoring (admin): model drift per metric, service health against its objectives, one metric's charts, alarms. */
export const monitoringPage: Page = (root) => {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cleanups: (() => void)[] = [];
  const windowSelect = h('select', { id: 'mon-window' }, ...WINDOWS.map((w, i) => h('option', { value: i, selected: i === 2 }, w.label)));
  const metricSelect = h('select', { id: 'mon-metric' });
  const summary = h('div');
  const metricsTable = h('div');
  const serviceHealth = h('div');
  const charts = { histogram: h('div', { class: 'chart', 'data-role': 'histogram-chart' }), history: h('div', { class: 'chart', 'data-role': 'history-chart' }) };
  const alarms = h('div');
  const status = liveRegion();
  let drift: Drift | null = null;

  const rangeQuery = () => {
    const to = new Date();
    const from = new Date(to.getTime() - WINDOWS[Number(windowSelect.value)]!.ms);
    return `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
  };

  async function load() {
    clearTimeout(timer);
    try {
      drift = await api<Drift>(`/v1/monitoring/drift?${rangeQuery()}`);
      if (stopped) return;
      renderDrift(drift);
      await loadCharts();
      const a = await api<Alarms>('/v1/monitoring/alarms');
      if (!stopped) replace(alarms, ...alarmsView(a));
    } catch (err) {
      if (stopped) return;
      const message = err instanceof ApiError && err.status === 403 ? 'Monitoring covers every tenant’s traffic, so it needs an admin key; the key in use is a tenant key.' : messageOf(err);
      replace(summary, errorBox(message));
    }
    if (!stopped) timer = setTimeout(() => void load(), REFRESH_MS);
  }

  function renderDrift(d: Drift) {
    const chosen = metricSelect.value || 'brightness';
    const names = [...d.metrics.map((m) => m.name), ...d.service.metrics.map((m) => m.name)];
    replace(metricSelect, ...(names.length ? names : [chosen]).map((name) => h('option', { value: name, selected: name === chosen }, name)));
    replace(summary, driftSummary(d));
    replace(metricsTable, driftTable(d, choose));
    replace(serviceHealth, h('h2', {}, 'Service health'), serviceTable(d, choose));
  }

  function choose(metric: string) {
    metricSelect.value = metric;
    void loadCharts();
  }

  async function loadCharts() {
    cleanups.splice(0).forEach((c) => c());
    const metric = metricSelect.value;
    if (!metric) return;
    const drawn = await drawMetricCharts(charts, metric, rangeQuery(), drift?.metrics.find((m) => m.name === metric));
    if (stopped) drawn.forEach((c) => c());
    else cleanups = drawn;
  }

  windowSelect.addEventListener('change', () => void load());
  metricSelect.addEventListener('change', () => void loadCharts());
  replace(
    root,
    h('h1', {}, 'Monitoring'),
    h('p', { class: 'lead' }, 'Whether today’s images and answers still look like the reference, metric by metric; and whether the service keeps its objectives.'),
    h('div', { class: 'controls' }, h('div', { class: 'field' }, h('label', { for: 'mon-window' }, 'Window'), windowSelect), h('div', { class: 'field' }, h('label', { for: 'mon-metric' }, 'Metric for the charts'), metricSelect)),
    summary,
    referenceForm(status, load),
    status,
    h('div', { class: 'charts' }, charts.histogram, charts.history),
    metricsTable,
    serviceHealth,
    alarms,
  );
  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
    cleanups.forEach((c) => c());
  };
};
