import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '@spotter/config';
import { evalCommand, resolveModel } from './eval-command.js';

/** One model's row of a comparison. */
export interface ComparedModel {
  name: string;
  format: string;
  version: string;
  file_bytes: number | null;
  /** Process CPU time (every thread: decode, pre-processing, inference, post-processing) per image. */
  cpu_ms_per_image: number;
  metrics: Record<string, number>;
  /** AP on the least frequent third of the classes. */
  rare_classes_ap: number | null;
  per_class: { name: string; ap: number }[];
  report: string;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Accuracy (AP) against cost (CPU-ms per image) as an inline SVG, one labelled point per model. */
function chart(models: ComparedModel[]): string {
  const W = 640, H = 360, L = 60, B = 40, T = 20, R = 20;
  const maxX = Math.max(...models.map((m) => m.cpu_ms_per_image)) * 1.15 || 1;
  const maxY = Math.min(1, Math.max(...models.map((m) => m.metrics.AP ?? 0)) * 1.2) || 1;
  const x = (v: number) => L + (v / maxX) * (W - L - R);
  const y = (v: number) => H - B - (v / maxY) * (H - B - T);
  const points = models
    .map((m) => `<circle cx="${x(m.cpu_ms_per_image).toFixed(1)}" cy="${y(m.metrics.AP ?? 0).toFixed(1)}" r="5" data-model="${esc(m.name)}"/><text x="${(x(m.cpu_ms_per_image) + 8).toFixed(1)}" y="${(y(m.metrics.AP ?? 0) - 6).toFixed(1)}">${esc(m.name)}</text>`)
    .join('');
  return (
    `<svg id="accuracy-cost" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">` +
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#444"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#444"/>` +
    `<text x="${(W + L) / 2}" y="${H - 8}" text-anchor="middle">CPU ms per image (0 to ${maxX.toFixed(0)})</text>` +
    `<text x="14" y="${(H - B + T) / 2}" transform="rotate(-90 14 ${(H - B + T) / 2})" text-anchor="middle">COCO AP (0 to ${maxY.toFixed(2)})</text>` +
    `<g fill="#1f6feb">${points}</g></svg>`
  );
}

function html(c: Awaited<ReturnType<typeof compareCommand>>): string {
  const cols = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl'];
  const rows = c.models
    .map((m) => `<tr><td>${esc(m.name)}</td><td>${esc(m.format)}</td>${cols.map((k) => `<td>${m.metrics[k] ?? '–'}</td>`).join('')}<td>${m.rare_classes_ap ?? '–'}</td><td>${m.cpu_ms_per_image}</td><td>${m.file_bytes ?? '–'}</td></tr>`)
    .join('');
  const classes = c.models[0]?.per_class.map((k) => k.name) ?? [];
  const perClass = classes.map((name) => `<tr><td>${esc(name)}</td>${c.models.map((m) => `<td>${m.per_class.find((k) => k.name === name)?.ap ?? '–'}</td>`).join('')}</tr>`).join('');
  return `<!doctype html><meta charset="utf-8"><title>Model comparison: ${esc(c.dataset)}</title>
<style>body{font-family:sans-serif;max-width:60rem;margin:2rem auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}td:first-child{text-align:left}</style>
<h1>Model comparison on ${esc(c.dataset)} (${c.images} images)</h1>
<p>Measured on ${esc(c.machine.cpu)} (${c.machine.cores} cores), ${esc(c.created_at)}. CPU ms per image is the process's CPU time over the whole evaluation (decode, pre-processing, inference, post-processing) divided by the images.</p>
${chart(c.models)}
<table id="comparison"><tr><th>model</th><th>family</th>${cols.map((k) => `<th>${k}</th>`).join('')}<th>rare classes AP</th><th>CPU ms / image</th><th>file bytes</th></tr>${rows}</table>
<h2>AP per class</h2><table id="per-class"><tr><th>class</th>${c.models.map((m) => `<th>${esc(m.name)}</th>`).join('')}</tr>${perClass}</table>`;
}

/**
 * `spotter eval --data <dataset> --models a,b,c`: each model evaluated with the workers' code
 * (its own report under `<out>/<name>/`), then one comparison of accuracy against cost:
 * comparison.json and comparison.html (with an accuracy/cost chart) in `<out>`.
 */
export async function compareCommand(opts: { data: string; out: string; models: string[] }, config: Config) {
  if (opts.models.length < 1) throw new Error('--models needs at least one model name');
  const models: ComparedModel[] = [];
  let dataset = '';
  let images = 0;
  for (const name of opts.models) {
    const model = await resolveModel(name, config);
    const cpu0 = process.cpuUsage();
    const report = await evalCommand({ data: opts.data, out: path.join(opts.out, model.name), registered: model }, config);
    const cpu = process.cpuUsage(cpu0);
    dataset = report.dataset.name;
    images = report.dataset.images;
    models.push({
      name: model.name,
      format: model.format,
      version: model.version,
      file_bytes: model.bytes,
      cpu_ms_per_image: Math.round((cpu.user + cpu.system) / 1000 / report.dataset.images * 10) / 10,
      metrics: report.metrics,
      rare_classes_ap: report.slices.find((s) => s.slice.startsWith('classes: rare'))?.ap ?? null,
      per_class: report.per_class.map((c) => ({ name: c.name, ap: c.ap })),
      report: path.join(opts.out, model.name, 'report.json'),
    });
  }
  const comparison = { dataset, images, created_at: new Date().toISOString(), machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length }, models };
  await mkdir(opts.out, { recursive: true });
  await writeFile(path.join(opts.out, 'comparison.json'), JSON.stringify(comparison, null, 2) + '\n');
  await writeFile(path.join(opts.out, 'comparison.html'), html(comparison));
  return comparison;
}
