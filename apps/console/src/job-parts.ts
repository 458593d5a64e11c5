import type { JobView, Timings } from '@spotter/shared';
import { api } from './api.js';
import { h } from './dom.js';
import { ms } from './format.js';

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * Polls a job until it is final, calling `onChange` with every new status seen (so a page
 * can show queued -> running -> succeeded). Polling, not `?wait`, so the middle states show.
 * `seen` is the status already shown (the one POST /v1/jobs answered).
 */
export async function followJob(id: string, onChange: (job: JobView) => void, signal?: AbortSignal, seen = ''): Promise<JobView> {
  let last = seen;
  for (let delay = 150; ; delay = Math.min(delay * 1.3, 1000)) {
    const job = await api<JobView>(`/v1/jobs/${id}`, { signal: signal ?? null });
    if (job.status !== last) {
      last = job.status;
      onChange(job);
    }
    if (FINAL.has(job.status)) return job;
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** The job's life as a list of the states seen, each with the time it was seen. */
export function lifeline(): { element: HTMLOListElement; add(status: string): void } {
  const element = h('ol', { class: 'lifeline', 'aria-label': 'Job status' });
  const t0 = performance.now();
  return {
    element,
    add(status) {
      element.append(h('li', { class: `state state-${status}`, 'data-status': status }, status, h('small', {}, ` +${ms(performance.now() - t0)}`)));
    },
  };
}

const STAGES: (keyof Timings)[] = ['queue', 'download', 'decode', 'inference', 'postprocess'];

/**
 * `timings_ms` as a small waterfall: each stage starts where the previous ended, bar widths
 * relative to the total (set through the CSSOM, which the CSP allows, not style attributes).
 */
export function waterfall(t: Timings, caption = 'Where the time went (timings_ms)'): HTMLElement {
  const total = Math.max(t.total, STAGES.reduce((a, k) => a + t[k], 0), 1);
  let start = 0;
  const rows = STAGES.map((k) => {
    const bar = h('span', { class: `bar bar-${k}` });
    bar.style.marginLeft = `${(start / total) * 100}%`;
    bar.style.width = `${Math.max((t[k] / total) * 100, 0.4)}%`;
    start += t[k];
    return h('div', { class: 'wf-row', 'data-stage': k }, h('span', { class: 'wf-name' }, k), h('span', { class: 'wf-track' }, bar), h('span', { class: 'wf-ms' }, ms(t[k])));
  });
  return h('figure', { class: 'waterfall' }, h('figcaption', {}, `${caption}: total ${ms(t.total)}`), ...rows);
}
