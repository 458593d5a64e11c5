import type { JobView } from '@spotter/shared';
import { api, apiFetch, messageOf } from '../api.js';
import { errorBox, h, liveRegion, replace, table } from '../dom.js';
import { ms, time } from '../format.js';
import { waterfall } from '../job-parts.js';
import type { Page } from '../page.js';

interface JobPage {
  jobs: (JobView & { links: { self: string } })[];
  next_cursor: string | null;
}

const REFRESH_MS = 3000;
const PAGE_SIZE = 20;

/** Jobs: this key's recent jobs, newest first, paged by cursor, refreshed while on the first page. */
export const jobsPage: Page = (root, [id]) => (id ? jobDetail(root, id) : jobList(root));

function jobList(root: HTMLElement) {
  const status = liveRegion();
  const holder = h('div');
  const filter = h(
    'select',
    { id: 'jobs-status' },
    ...['', 'queued', 'running', 'succeeded', 'failed', 'cancelled'].map((s) => h('option', { value: s }, s || 'any status')),
  );
  const newer = h('button', { type: 'button' }, 'Newer');
  const older = h('button', { type: 'button' }, 'Older');
  // Cursors of the pages before the current one; [] on the first page.
  let trail: string[] = [];
  let cursor: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  async function load() {
    clearTimeout(timer);
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (filter.value) q.set('status', filter.value);
    if (cursor) q.set('cursor', cursor);
    try {
      const page = await api<JobPage>(`/v1/jobs?${q}`);
      if (stopped) return;
      replace(
        holder,
        page.jobs.length
          ? table(
              trail.length ? `Jobs, page ${trail.length + 1}` : 'Recent jobs (newest first)',
              ['Job', 'Status', 'Model', 'Created', 'Objects', 'Total'],
              page.jobs.map((j) => [
                h('a', { href: `#/jobs/${j.id}`, 'data-job-id': j.id }, j.id.slice(0, 8)),
                h('span', { class: `state state-${j.status}` }, j.status),
                j.model,
                time(j.created_at),
                j.result ? String(j.result.detections.length) : '–',
                ms(j.timings_ms?.total),
              ]),
              { 'data-role': 'jobs' },
            )
          : h('p', {}, 'No jobs yet for this key.'),
      );
      newer.disabled = trail.length === 0;
      older.disabled = page.next_cursor === null;
      older.dataset.cursor = page.next_cursor ?? '';
      status.textContent = trail.length === 0 ? `Updated ${new Date().toLocaleTimeString()}; refreshes every ${REFRESH_MS / 1000} s.` : '';
    } catch (err) {
      if (!stopped) replace(holder, errorBox(messageOf(err)));
    }
    // Only the first page moves: older pages stay put while you read them.
    if (!stopped && trail.length === 0) timer = setTimeout(() => void load(), REFRESH_MS);
  }

  older.addEventListener('click', () => {
    trail.push(cursor ?? '');
    cursor = older.dataset.cursor || null;
    void load();
  });
  newer.addEventListener('click', () => {
    cursor = trail.pop() || null;
    void load();
  });
  filter.addEventListener('change', () => {
    trail = [];
    cursor = null;
    void load();
  });

  replace(
    root,
    h('h1', {}, 'Jobs'),
    h('p', { class: 'lead' }, 'The jobs of the key in use, newest first.'),
    h('div', { class: 'field' }, h('label', { for: 'jobs-status' }, 'Status'), filter),
    holder,
    h('div', { class: 'pager' }, newer, older),
    status,
  );
  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function jobDetail(root: HTMLElement, id: string) {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const holder = h('div');
  let annotated: string | null = null;

  async function load() {
    try {
      const job = await api<JobView>(`/v1/jobs/${encodeURIComponent(id)}`);
      if (stopped) return;
      const r = job.result;
      if (r && !annotated) {
        // The server's own drawing, fetched with the key (an <img> could not send it).
        const res = await apiFetch(`/v1/jobs/${encodeURIComponent(id)}/annotated`).catch(() => null);
        if (res) annotated = URL.createObjectURL(await res.blob());
      }
      replace(
        holder,
        h(
          'dl',
          { class: 'facts', 'data-role': 'job-detail', 'data-status': job.status },
          ...([
            ['Status', job.status],
            ['Model', r ? `${r.model.name} (${r.model.version})` : job.model],
            ['Created', time(job.created_at)],
            ['Started', time(job.started_at)],
            ['Finished', time(job.finished_at)],
            ['Image', r ? `${r.image.width} × ${r.image.height}` : '–'],
            ['Error', job.error ? `${job.error.code}: ${job.error.message}` : '–'],
          ] as const).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
        ),
        job.timings_ms ? waterfall(job.timings_ms) : null,
        annotated ? h('figure', { class: 'annotated' }, h('img', { src: annotated, alt: 'The picture with the boxes as the server drew them' }), h('figcaption', {}, 'As drawn by the server')) : null,
        r
          ? table(
              'Detections',
              ['Label', 'Score', 'x1', 'y1', 'x2', 'y2'],
              r.detections.map((d) => [d.label, d.score.toFixed(3), d.box.x1, d.box.y1, d.box.x2, d.box.y2]),
            )
          : null,
      );
      if (job.status === 'queued' || job.status === 'running') timer = setTimeout(() => void load(), 1000);
    } catch (err) {
      if (!stopped) replace(holder, errorBox(messageOf(err)));
    }
  }

  replace(root, h('p', {}, h('a', { href: '#/jobs' }, '← All jobs')), h('h1', {}, `Job ${id.slice(0, 8)}`), h('p', { class: 'muted' }, id), holder);
  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
