// Charts with uPlot: small (about 50 kB), canvas-drawn, fast with many points, and it
// styles only through the CSSOM and its stylesheet, so the strict CSP holds.
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';

const REF = 'rgb(99, 110, 250)';
const CUR = 'rgb(239, 85, 59)';

/** A chart sized to its container and kept so when the page resizes; returns what removes it. */
function mount(el: HTMLElement, opts: Omit<Options, 'width' | 'height'>, data: AlignedData, height = 260): () => void {
  el.replaceChildren();
  const width = () => Math.max(280, el.clientWidth);
  const chart = new uPlot({ ...opts, width: width(), height }, data, el);
  const resize = new ResizeObserver(() => chart.setSize({ width: width(), height }));
  resize.observe(el);
  return () => {
    resize.disconnect();
    chart.destroy();
  };
}

/** Reference against window, as shares of their images per bin (counts differ in size). */
export function histogramChart(el: HTMLElement, title: string, bins: string[], reference: number[] | null, window: number[]): () => void {
  const share = (xs: number[]) => {
    const n = xs.reduce((a, b) => a + b, 0);
    return xs.map((x) => (n ? x / n : 0));
  };
  const xs = bins.map((_, i) => i);
  const bars = uPlot.paths.bars!;
  return mount(
    el,
    {
      title,
      scales: { x: { time: false, range: [-0.6, bins.length - 0.4] }, y: { range: [0, null] } },
      axes: [
        { values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? (bins[i] ?? '') : '')), rotate: bins.length > 12 ? -45 : 0, size: bins.length > 12 ? 80 : 40 },
        { label: 'share of values', values: (_u, splits) => splits.map((v) => `${Math.round(v * 100)}%`) },
      ],
      series: [
        { label: 'bin', value: (_u, v) => (v === null ? '' : (bins[v] ?? '')) },
        { label: 'reference', stroke: REF, fill: 'rgba(99, 110, 250, 0.45)', paths: bars({ size: [0.4, 40], align: -1 }), points: { show: false } },
        { label: 'current window', stroke: CUR, fill: 'rgba(239, 85, 59, 0.45)', paths: bars({ size: [0.4, 40], align: 1 }), points: { show: false } },
      ],
    },
    [xs, reference ? share(reference) : xs.map(() => null), share(window)] as AlignedData,
  );
}

/** The judged value over time with its warn and alarm thresholds as lines. */
export function scoreChart(el: HTMLElement, title: string, label: string, times: number[], values: (number | null)[], warn: number | null, alarm: number | null): () => void {
  const flat = (v: number | null) => times.map(() => v);
  return mount(
    el,
    {
      title,
      scales: { x: { time: true } },
      axes: [{}, { label }],
      series: [
        {},
        { label, stroke: 'rgb(30, 30, 30)', width: 2, spanGaps: false, points: { show: true, size: 6 } },
        { label: 'warn', stroke: 'rgb(230, 160, 0)', dash: [6, 4], points: { show: false } },
        { label: 'alarm', stroke: 'rgb(210, 40, 40)', dash: [6, 4], points: { show: false } },
      ],
    },
    [times, values, flat(warn), flat(alarm)] as AlignedData,
  );
}

/** Tracked objects of each class in view at each sampled time of a clip (seconds from its start). */
export function countsChart(el: HTMLElement, times: number[], classes: Record<string, number[]>): () => void {
  const palette = ['rgb(99, 110, 250)', 'rgb(239, 85, 59)', 'rgb(0, 160, 120)', 'rgb(171, 99, 250)', 'rgb(255, 161, 90)', 'rgb(25, 170, 230)'];
  const names = Object.keys(classes);
  return mount(
    el,
    {
      title: 'Tracked objects in view',
      scales: { x: { time: false }, y: { range: [0, null] } },
      axes: [{ label: 'seconds', values: (_u, splits) => splits.map((v) => `${v} s`) }, { label: 'objects' }],
      series: [{ label: 'time', value: (_u, v) => (v === null ? '' : `${v.toFixed(2)} s`) }, ...names.map((n, i) => ({ label: n, stroke: palette[i % palette.length]!, width: 2, points: { show: false } }))],
    },
    [times, ...names.map((n) => classes[n]!)] as AlignedData,
    220,
  );
}
