// First: see zod-jitless.ts.
import './zod-jitless.js';
import './styles.css';
import type { Page } from './page.js';
import { edgePage } from './pages/edge-page.js';
import { jobsPage } from './pages/jobs-page.js';
import { modelsPage } from './pages/models-page.js';
import { monitoringPage } from './pages/monitoring-page.js';
import { reportsPage } from './pages/reports-page.js';
import { tryPage } from './pages/try-page.js';
import { videosPage } from './pages/videos-page.js';

const PAGES: Record<string, { title: string; page: Page }> = {
  try: { title: 'Try', page: tryPage },
  edge: { title: 'Edge', page: edgePage },
  jobs: { title: 'Jobs', page: jobsPage },
  videos: { title: 'Videos', page: videosPage },
  models: { title: 'Models', page: modelsPage },
  monitoring: { title: 'Monitoring', page: monitoringPage },
  reports: { title: 'Reports', page: reportsPage },
};

const view = document.getElementById('view')!;
let stop: (() => void) | void;

/** Hash routes (#/jobs/<id>): the server serves one index.html, and no route needs it to know more. */
function route() {
  const [name = 'try', ...params] = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  const entry = PAGES[name] ?? PAGES.try!;
  stop?.();
  document.querySelectorAll<HTMLAnchorElement>('nav a').forEach((a) => {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  document.title = `${entry.title} · Spotter console`;
  view.replaceChildren();
  stop = entry.page(view, params.map(decodeURIComponent));
  view.focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);
route();
