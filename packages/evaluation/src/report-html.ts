/** Renders an evaluation report as one self-contained HTML page: tables and inline SVG, no scripts. */

import type { compareReports, Report } from './build-report.js';

type ReportForHtml = Report & { baseline: ReturnType<typeof compareReports> | null };
type WorstImage = Report['errors']['worst'][number] & { dataUri: string };

const esc = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number) => (v < 0 ? 'n/a' : v.toFixed(3));
const COLORS = ['#4363d8', '#e6194b', '#3cb44b', '#f58231'];

function prChart(curves: ReportForHtml['pr_curves']): string {
  const W = 420;
  const H = 300;
  const pad = 40;
  const x = (r: number) => pad + r * (W - pad - 10);
  const y = (p: number) => H - pad - p * (H - pad - 10);
  const grid = [0, 0.25, 0.5, 0.75, 1]
    .map((v) => `<line x1="${x(0)}" y1="${y(v)}" x2="${x(1)}" y2="${y(v)}" stroke="#ddd"/><text x="${pad - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v}</text>` +
      `<text x="${x(v)}" y="${H - pad + 16}" text-anchor="middle" font-size="11">${v}</text>`)
    .join('');
  const lines = curves
    .map((c, i) => {
      const pts = c.recall.map((r, j) => `${x(r).toFixed(1)},${y(Math.max(0, c.precision[j]!)).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${pts}"/>` +
        `<text x="${W - 150}" y="${20 + 16 * i}" font-size="12" fill="${COLORS[i % COLORS.length]}">${esc(c.label)}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="precision-recall curves">${grid}` +
    `<text x="${(W + pad) / 2}" y="${H - 6}" text-anchor="middle" font-size="12">recall</text>` +
    `<text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" text-anchor="middle" font-size="12">precision</text>${lines}</svg>`;
}

function classBars(rows: ReportForHtml['per_class']): string {
  const sorted = [...rows].sort((a, b) => b.ap - a.ap);
  const rowH = 16;
  const W = 520;
  const labelW = 130;
  const H = sorted.length * rowH + 10;
  const bars = sorted
    .map((r, i) => {
      const w = Math.max(0, r.ap) * (W - labelW - 50);
      const yy = 5 + i * rowH;
      return `<text x="${labelW - 6}" y="${yy + 11}" text-anchor="end" font-size="11">${esc(r.name)}</text>` +
        `<rect x="${labelW}" y="${yy + 2}" width="${w.toFixed(1)}" height="${rowH - 4}" fill="#4363d8"/>` +
        `<text x="${labelW + w + 4}" y="${yy + 11}" font-size="10">${fmt(r.ap)}</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="AP per class">${bars}</svg>`;
}

function table(id: string, header: string[], rows: (string | number)[][]) {
  return `<table id="${id}"><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${typeof c === 'number' ? fmt(c) : esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

export function renderReportHtml(r: ReportForHtml, worst: WorstImage[] = []): string {
  const names = new Map(r.per_class.map((c) => [c.id, c.name]));
  const nameOf = (v: number | 'background') => (v === 'background' ? 'background' : (names.get(v) ?? String(v)));
  const e = r.errors.totals;
  const comparison = r.baseline
    ? `<h2>Against the baseline (${esc('name' in r.baseline.model ? r.baseline.model.name : 'predictions')})</h2>` +
      table('comparison', ['metric', 'this', 'baseline', 'difference'], Object.entries(r.metrics).map(([k, v]) => [k, v, r.baseline!.metrics[k] ?? -1, signed(r.baseline!.diff[k] ?? 0)])) +
      `<h3>Where this model is worse (${r.baseline.worse.length})</h3>` +
      table('worse', ['slice', 'this', 'baseline', 'difference'], r.baseline.worse.map((w) => [w.slice, w.current, w.baseline, signed(w.diff)]))
    : '';
  const model = 'name' in r.model ? `${esc(r.model.name)} (${esc(r.model.version)})` : `predictions ${esc(r.model.predictions)}`;
  const metricRows = Object.entries(r.metrics).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${fmt(v)}</td></tr>`).join('');
  const classRows = r.per_class
    .map((c) => `<tr><td>${c.id}</td><td>${esc(c.name)}</td><td>${c.objects}</td><td>${fmt(c.ap)}</td><td>${fmt(c.ap50)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Spotter evaluation: ${esc(r.dataset.name)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,#per-class td:nth-child(2){text-align:left}.row{display:flex;gap:2rem;flex-wrap:wrap}
</style></head><body>
<h1>Evaluation: ${model} on ${esc(r.dataset.name)}</h1>
<p>${r.dataset.images} images, ${r.dataset.objects} labelled objects. COCO bbox metrics as pycocotools computes them
(IoU .50:.05:.95, 101 recall points, maxDets 1/10/100).${r.timing ? ` Inference: ${r.timing.seconds.toFixed(1)} s (${r.timing.images_per_s.toFixed(1)} images/s).` : ''}</p>
<div class="row"><section><h2>Summary</h2><table id="metrics">${metricRows}</table></section>
<section><h2>Precision-recall (all areas, maxDets 100, mean over classes)</h2>${prChart(r.pr_curves)}</section></div>
${comparison}
<h2>Slices</h2>${table('slices', ['slice', 'images', 'objects', 'AP', 'recall (AR@100)'], r.slices.map((s) => [s.slice, String(s.images), String(s.objects), s.ap, s.recall]))}
<h2>Errors at score &ge; ${r.errors.score_threshold}, IoU 0.5</h2>
${table('errors', ['true positives', 'FP localisation', 'FP class confusion', 'FP background', 'FN missed', 'FN poorly localised'], [[String(e.tp), String(e.fpLocalisation), String(e.fpClassConfusion), String(e.fpBackground), String(e.fnMissed), String(e.fnPoorlyLocalised)]])}
<h3>Most frequent confusions</h3>${table('confusion', ['truth', 'predicted', 'count'], r.errors.confusion.slice(0, 15).map((c) => [nameOf(c.truth), nameOf(c.predicted), String(c.count)]))}
<h3>Worst images (truth left, predictions right)</h3>
${worst.map((w) => `<figure><img src="${w.dataUri}" alt="${esc(w.file)}" style="max-width:100%"><figcaption>${esc(w.file)}: ${w.tp} correct, ${w.errors} errors</figcaption></figure>`).join('\n')}
<h2>AP per class</h2>${classBars(r.per_class)}
<table id="per-class"><thead><tr><th>id</th><th>class</th><th>objects</th><th>AP</th><th>AP50</th></tr></thead><tbody>${classRows}</tbody></table>
</body></html>
`;
}
