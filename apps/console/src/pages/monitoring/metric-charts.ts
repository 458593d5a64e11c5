import { api, messageOf } from '../../api.js';
import { histogramChart, scoreChart } from '../../charts.js';
import { errorBox, h, replace } from '../../dom.js';
import { PERFORMANCE, type History, type Histogram, type MetricRow } from './monitoring-types.js';

/**
 * Draws one metric's histogram (reference against window) and its score over time into the
 * two chart elements; returns what tears the charts down. `row` is the metric's drift row,
 * if it has one (service metrics do not: their score over time is the burn rate).
 */
export async function drawMetricCharts(el: { histogram: HTMLElement; history: HTMLElement }, metric: string, query: string, row: MetricRow | undefined): Promise<(() => void)[]> {
  const cleanups: (() => void)[] = [];
  try {
    if (PERFORMANCE.has(metric)) {
      replace(el.histogram, h('p', { class: 'muted' }, `${metric} is judged from feedback (late labels): it has no histogram.`));
    } else {
      const hg = await api<Histogram>(`/v1/monitoring/metrics/${metric}/histogram?${query}`);
      el.histogram.dataset.windowImages = String(hg.window.images);
      cleanups.push(histogramChart(el.histogram, `${metric}: reference vs current window`, hg.bins, hg.reference?.counts ?? null, hg.window.counts));
    }
    const hs = await api<History>(`/v1/monitoring/metrics/${metric}/history?${query}&steps=24`);
    const byP = row ? row.p_value !== null : hs.points.some((p) => p.p_value !== null);
    const values = hs.points.map((p) => (p.status === 'insufficient_data' ? null : byP ? p.p_value : p.score));
    const thr = hs.points.find((p) => p.threshold)?.threshold ?? row?.threshold ?? null;
    el.history.dataset.points = String(values.filter((v) => v !== null).length);
    cleanups.push(
      scoreChart(
        el.history,
        `${metric}: ${row ? 'drift' : 'burn rate'} over time`,
        byP ? 'p-value (below the lines: drift)' : 'score (above the lines: drift or a broken objective)',
        hs.points.map((p) => Date.parse(p.to) / 1000),
        values,
        thr?.warn ?? null,
        thr?.alarm ?? null,
      ),
    );
  } catch (err) {
    replace(el.history, errorBox(messageOf(err)));
  }
  return cleanups;
}
