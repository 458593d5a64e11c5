import { api, ApiError, messageOf, post } from '../api.js';
import { histogramChart, scoreChart } from '../charts.js';
import { errorBox, h, liveRegion, replace, table } from '../dom.js';
import { num, time } from '../format.js';
import type { Page } from '../page.js';

interface MetricRow {
  name: string;
  kind: string;
  test: string;
  score: number;
  p_value: number | null;
  threshold: { warn: number; alarm: number; source: string };
  status: string;
  samples: number;
}

interface Drift {
  model: string;
  window: { from: string; to: string; count: number };
  reference: { id: string; count: number; created_at: string } | null;
  status: string;
  dataset_drift: { drifted: number; judged: number; share: number } | null;
  metrics: MetricRow[];
}

interface Histogram {
  bins: string[];
  reference: { counts: number[]; images: number } | null;
  window: { counts: number[]; images: number };
}

interface History {
  points: { from: string; to: string; count: number; score: number | null; p_value: number | null; status: string; threshold: { warn: number; alarm: number } | null }[];
}

interface Alarms {
  open: { metric: string; opened_at: string }[];
  history: { metric: string; action: string; at: string; status: string; score: number | null; p_value: number | null }[];
}

const WINDOWS = [
  { label: 'last 5 minutes', ms: 5 * 60_000 },
  { label: 'last 15 minutes', ms: 15 * 60_000 },
  { label: 'last hour', ms: 3600_000 },
  { label: 'last 6 hours', ms: 6 * 3600_000 },
  { label: 'last 24 hours', ms: 24 * 3600_000 },
];
const PERFORMANCE = new Set(['precision', 'recall', 'f1', 'ap50', 'f1_page_hinkley']);
const REFRESH_MS = 15_000;

/** Monitoring: drift per metric, one metric's histograms and score over time, alarms (admin). */
export const monitoringPage: Page = (root) => {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cleanups: (() => void)[] = [];
  const windowSelect = h('select', { id: 'mon-window' }, ...WINDOWS.map((w, i) => h('option', { value: i, selected: i === 2 }, w.label)));
  const metricSelect = h('select', { id: 'mon-metric' });
  const summary = h('div');
  const metricsTable = h('div');
  const histogram = h('div', { class: 'chart', 'data-role': 'histogram-chart' });
  const history = h('div', { class: 'chart', 'data-role': 'history-chart' });
  const alarms = h('div');
  const status = liveRegion();
  let drift: Drift | null = null;

  const range = () => {
    const to = new Date();
    return { from: new Date(to.getTime() - WINDOWS[Number(windowSelect.value)]!.ms), to };
  };
  const rangeQuery = () => {
    const { from, to } = range();
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
      if (!stopped) renderAlarms(a);
    } catch (err) {
      if (stopped) return;
      const message = err instanceof ApiError && err.status === 403 ? 'Monitoring covers every tenant’s traffic, so it needs an admin key; the key in use is a tenant key.' : messageOf(err);
      replace(summary, errorBox(message));
    }
    if (!stopped) timer = setTimeout(() => void load(), REFRESH_MS);
  }

  function renderDrift(d: Drift) {
    const chosen = metricSelect.value || 'brightness';
    replace(metricSelect, ...d.metrics.map((m) => h('option', { value: m.name, selected: m.name === chosen }, m.name)));
    if (!d.metrics.length) replace(metricSelect, h('option', { value: chosen }, chosen));
    replace(
      summary,
      h(
        'dl',
        { class: 'facts', 'data-role': 'drift-summary', 'data-status': d.status },
        h('dt', {}, 'Model'),
        h('dd', {}, d.model),
        h('dt', {}, 'Overall'),
        h('dd', {}, h('span', { class: `drift drift-${d.status}` }, d.status.replaceAll('_', ' '))),
        h('dt', {}, 'Window'),
        h('dd', {}, `${time(d.window.from)} – ${time(d.window.to)}: ${d.window.count} images`),
        h('dt', {}, 'Reference'),
        h('dd', {}, d.reference ? `${d.reference.count} images, made ${time(d.reference.created_at)}` : 'none yet: make one from a period of normal traffic'),
      ),
    );
    replace(
      metricsTable,
      d.metrics.length
        ? table(
            'Drift per metric',
            ['Metric', 'Kind', 'Test', 'Score', 'p-value', 'Warn at', 'Alarm at', 'Status', 'Samples'],
            d.metrics.map((m) => [
              h('button', { type: 'button', class: 'link', 'data-metric': m.name, onclick: () => choose(m.name) }, m.name),
              m.kind,
              m.test.replaceAll('_', ' '),
              num(m.score),
              num(m.p_value, 4),
              num(m.threshold.warn),
              num(m.threshold.alarm),
              h('span', { class: `drift drift-${m.status}` }, m.status.replaceAll('_', ' ')),
              String(m.samples),
            ]),
            { 'data-role': 'drift-metrics' },
          )
        : null,
    );
  }

  function referenceForm() {
    const minutes = h('input', { id: 'ref-minutes', type: 'number', min: 1, max: 10080, value: 60, inputmode: 'numeric' });
    const form = h(
      'form',
      { class: 'inline-form', 'aria-label': 'Make a reference' },
      h('label', { for: 'ref-minutes' }, 'Make the reference from the jobs of the last (minutes)'),
      minutes,
      h('button', { type: 'submit', 'data-action': 'make-reference' }, 'Make reference'),
    );
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const to = new Date();
      const from = new Date(to.getTime() - Number(minutes.value) * 60_000);
      try {
        const ref = await post<{ count: number }>('/v1/monitoring/reference', { from: from.toISOString(), to: to.toISOString() });
        status.textContent = `Reference made from ${ref.count} images.`;
        await load();
      } catch (err) {
        status.textContent = messageOf(err);
      }
    });
    return form;
  }

  function choose(metric: string) {
    metricSelect.value = metric;
    void loadCharts();
  }

  async function loadCharts() {
    cleanups.splice(0).forEach((c) => c());
    const metric = metricSelect.value;
    if (!metric) return;
    const q = rangeQuery();
    try {
      if (PERFORMANCE.has(metric)) {
        replace(histogram, h('p', { class: 'muted' }, `${metric} is judged from feedback (late labels): it has no histogram.`));
      } else {
        const hg = await api<Histogram>(`/v1/monitoring/metrics/${metric}/histogram?${q}`);
        histogram.dataset.windowImages = String(hg.window.images);
        cleanups.push(histogramChart(histogram, `${metric}: reference vs current window`, hg.bins, hg.reference?.counts ?? null, hg.window.counts));
      }
      const hs = await api<History>(`/v1/monitoring/metrics/${metric}/history?${q}&steps=24`);
      const row = drift?.metrics.find((m) => m.name === metric);
      const byP = row ? row.p_value !== null : hs.points.some((p) => p.p_value !== null);
      const values = hs.points.map((p) => (p.status === 'insufficient_data' ? null : byP ? p.p_value : p.score));
      const thr = hs.points.find((p) => p.threshold)?.threshold ?? row?.threshold ?? null;
      history.dataset.points = String(values.filter((v) => v !== null).length);
      cleanups.push(
        scoreChart(
          history,
          `${metric}: drift over time`,
          byP ? 'p-value (below the lines: drift)' : 'score (above the lines: drift)',
          hs.points.map((p) => Date.parse(p.to) / 1000),
          values,
          thr?.warn ?? null,
          thr?.alarm ?? null,
        ),
      );
    } catch (err) {
      replace(history, errorBox(messageOf(err)));
    }
  }

  function renderAlarms(a: Alarms) {
    replace(
      alarms,
      h('h2', {}, 'Alarms'),
      a.open.length ? h('p', { class: 'notice' }, `Open: ${a.open.map((o) => `${o.metric} since ${time(o.opened_at)}`).join('; ')}.`) : h('p', {}, 'No alarm is open.'),
      a.history.length
        ? table('Alarm history (newest first)', ['When', 'Metric', 'Event', 'Status', 'Score', 'p-value'], a.history.slice(0, 50).map((e) => [time(e.at), e.metric, e.action, e.status, num(e.score), num(e.p_value, 4)]), { 'data-role': 'alarm-history' })
        : h('p', { class: 'muted' }, 'No alarm has opened or cleared yet.'),
    );
  }

  windowSelect.addEventListener('change', () => void load());
  metricSelect.addEventListener('change', () => void loadCharts());
  replace(
    root,
    h('h1', {}, 'Monitoring'),
    h('p', { class: 'lead' }, 'Whether today’s images and answers still look like the reference, metric by metric.'),
    h('div', { class: 'controls' }, h('div', { class: 'field' }, h('label', { for: 'mon-window' }, 'Window'), windowSelect), h('div', { class: 'field' }, h('label', { for: 'mon-metric' }, 'Metric for the charts'), metricSelect)),
    summary,
    referenceForm(),
    status,
    h('div', { class: 'charts' }, histogram, history),
    metricsTable,
    alarms,
  );
  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
    cleanups.forEach((c) => c());
  };
};
