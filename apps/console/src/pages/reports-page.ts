import { api, messageOf } from '../api.js';
import { errorBox, h, replace, table } from '../dom.js';
import { num, time } from '../format.js';
import type { Page } from '../page.js';

interface ReportSummary {
  id: string;
  created_at: string;
  model: { name: string | null; version: string | null };
  dataset: { name: string | null; images: number | null; objects: number | null };
  metrics: { AP: number | null; AP50: number | null; AR100: number | null };
  links: { self: string; html: string };
}

/** Evaluation reports: what `spotter eval --store` kept, each opening its self-contained page. */
export const reportsPage: Page = (root) => {
  const holder = h('div');
  replace(
    root,
    h('h1', {}, 'Evaluation reports'),
    h('p', { class: 'lead' }, 'Reports written by ', h('code', {}, 'npm run spotter -- eval --data <dir> --out <dir> --store'), ', newest first. A report opens in a new tab (with keys configured, the browser asks for the key: any user name, the key as password).'),
    holder,
  );
  void (async () => {
    try {
      const { reports } = await api<{ reports: ReportSummary[] }>('/v1/reports');
      replace(
        holder,
        reports.length
          ? table(
              'Stored reports',
              ['Report', 'Model', 'Dataset', 'AP', 'AP50', 'AR100'],
              reports.map((r) => [
                h('a', { href: r.links.html, target: '_blank', rel: 'noopener', 'data-report-id': r.id }, time(r.created_at)),
                [r.model.name, r.model.version].filter(Boolean).join(' ') || '–',
                r.dataset.name ? `${r.dataset.name} (${r.dataset.images} images, ${r.dataset.objects} objects)` : '–',
                num(r.metrics.AP),
                num(r.metrics.AP50),
                num(r.metrics.AR100),
              ]),
              { 'data-role': 'reports' },
            )
          : h('p', {}, 'No report stored yet.'),
      );
    } catch (err) {
      replace(holder, errorBox(messageOf(err)));
    }
  })();
};
