import type { RolloutEvent, RolloutState } from '@spotter/shared';
import { api, ApiError, messageOf, post } from '../api.js';
import { confirmAction } from '../confirm.js';
import { errorBox, h, liveRegion, replace, table } from '../dom.js';
import { num, pct, time } from '../format.js';
import type { Page } from '../page.js';

interface ModelRow {
  name: string;
  version: string;
  format: string;
  available: boolean;
  problem: string | null;
  score_threshold: number;
  nms_iou: number;
  labels: number;
  eval: Record<string, number> | null;
  role: string | null;
}

interface Outcomes {
  jobs: number;
  failed: number;
  failure_ratio: number | null;
}

type RolloutReport = RolloutState & {
  shadow: { jobs: number; skipped: number; live_boxes: number; matched: number; class_flips: number; agreement: number | null; mean_score_delta: number | null } | null;
  canary: { live: Outcomes; candidate: Outcomes } | null;
  history: RolloutEvent[];
};

const REFRESH_MS = 5000;

/** Models: the registry, the live model, and the rollout with its counters and controls (admin). */
export const modelsPage: Page = (root) => {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const registry = h('div');
  const rollout = h('div');
  const status = liveRegion();
  let models: ModelRow[] = [];
  // What is on screen: a refresh that changes nothing leaves the form you are filling alone.
  let shown = '';

  async function load() {
    clearTimeout(timer);
    try {
      models = (await api<{ models: ModelRow[] }>('/v1/models')).models;
      if (stopped) return;
      replace(
        registry,
        table(
          'Registered models',
          ['Name', 'Role', 'Version', 'Format', 'Usable', 'Score floor', 'NMS IoU', 'Classes', 'AP (eval)'],
          models.map((m) => [
            m.name,
            h('span', { class: m.role ? `role role-${m.role}` : 'muted', 'data-model-role': m.role ?? '' }, m.role ?? '–'),
            m.version,
            m.format,
            m.available ? 'yes' : `no: ${m.problem}`,
            num(m.score_threshold, 2),
            num(m.nms_iou, 2),
            String(m.labels),
            num(m.eval?.AP ?? null),
          ]),
          { 'data-role': 'models' },
        ),
      );
    } catch (err) {
      if (!stopped) replace(registry, errorBox(messageOf(err)));
    }
    try {
      const report = await api<RolloutReport>('/v1/rollout');
      const seen = JSON.stringify([report, models]);
      if (!stopped && seen !== shown) {
        shown = seen;
        replace(rollout, ...rolloutView(report));
      }
    } catch (err) {
      if (stopped) return;
      replace(rollout, err instanceof ApiError && err.status === 403 ? h('p', { class: 'notice', 'data-role': 'needs-admin' }, 'The rollout can be seen and steered with an admin key only; the key in use is a tenant key.') : errorBox(messageOf(err)));
    }
    if (!stopped) timer = setTimeout(() => void load(), REFRESH_MS);
  }

  async function act(what: () => Promise<unknown>, done: string) {
    try {
      await what();
      status.textContent = done;
    } catch (err) {
      status.textContent = messageOf(err);
    }
    await load();
  }

  function rolloutView(r: RolloutReport): (Node | null)[] {
    const facts = h(
      'dl',
      { class: 'facts', 'data-role': 'rollout', 'data-mode': r.mode, 'data-live': r.live, 'data-candidate': r.candidate ?? '' },
      h('dt', {}, 'Live model'),
      h('dd', {}, r.live),
      h('dt', {}, 'Rollout'),
      h('dd', {}, r.mode === 'none' ? 'none in progress' : `${r.mode} of ${r.candidate} since ${time(r.started_at)}${r.mode === 'shadow' ? `, every ${r.every}th job` : `, ${pct(r.share)} of jobs`}`),
    );
    const counters: (Node | null)[] = [];
    if (r.shadow) {
      counters.push(
        table('Shadow agreement with the live model', ['Jobs compared', 'Skipped', 'Live boxes', 'Matched (IoU ≥ 0.5)', 'Agreement', 'Class flips', 'Mean score difference'], [
          [String(r.shadow.jobs), String(r.shadow.skipped), String(r.shadow.live_boxes), String(r.shadow.matched), pct(r.shadow.agreement), String(r.shadow.class_flips), num(r.shadow.mean_score_delta)],
        ]),
      );
    }
    if (r.canary) {
      const row = (name: string, o: Outcomes) => [name, String(o.jobs), String(o.failed), pct(o.failure_ratio)];
      counters.push(table(`Canary: ${pct(r.share)} of jobs go to ${r.candidate}`, ['Model', 'Jobs', 'Failed', 'Failure ratio'], [row(`${r.live} (live)`, r.canary.live), row(`${r.candidate} (candidate)`, r.canary.candidate)]));
    }
    const controls = r.mode === 'none' ? startForm(r.live) : endButtons(r);
    const history = r.history.length
      ? table('Rollout history', ['When', 'What', 'Candidate', 'Why', 'By'], r.history.map((e) => [time(e.at), e.action.replaceAll('_', ' '), e.candidate ?? '–', e.reason, e.by ?? '–']))
      : null;
    return [h('h2', {}, 'Rollout'), facts, ...counters, controls, history];
  }

  function endButtons(r: RolloutReport) {
    const promote = h('button', { type: 'button', class: 'primary', 'data-action': 'promote' }, `Promote ${r.candidate}`);
    const rollback = h('button', { type: 'button', class: 'danger', 'data-action': 'rollback' }, 'Roll back');
    promote.addEventListener('click', async () => {
      if (await confirmAction(`Promote ${r.candidate}?`, `${r.candidate} will serve every job that names no model, instead of ${r.live}.`, 'Promote')) {
        await act(() => post('/v1/rollout/promote'), `${r.candidate} is now live.`);
      }
    });
    rollback.addEventListener('click', async () => {
      if (await confirmAction('Roll back?', `The ${r.mode} of ${r.candidate} ends; ${r.live} keeps serving.`, 'Roll back')) {
        await act(() => post('/v1/rollout/rollback'), `Rolled back: ${r.live} stays live.`);
      }
    });
    return h('div', { class: 'actions' }, promote, rollback);
  }

  function startForm(live: string) {
    const candidates = models.filter((m) => m.available && m.name !== live);
    if (!candidates.length) return h('p', { class: 'muted' }, 'No other usable model is registered to roll out.');
    const candidate = h('select', { id: 'rollout-candidate' }, ...candidates.map((m) => h('option', { value: m.name }, m.name)));
    const mode = h('select', { id: 'rollout-mode' }, h('option', { value: 'shadow' }, 'shadow (also run every Nth job, results kept apart)'), h('option', { value: 'canary' }, 'canary (serve a share of jobs)'));
    const amount = h('input', { id: 'rollout-amount', type: 'number', min: 1, max: 1000, step: 1, value: 10, inputmode: 'decimal' });
    const amountLabel = h('label', { for: 'rollout-amount' }, 'Every Nth job');
    mode.addEventListener('change', () => {
      const canary = mode.value === 'canary';
      amountLabel.textContent = canary ? 'Share of jobs (0–1)' : 'Every Nth job';
      Object.assign(amount, canary ? { min: '0.01', max: '1', step: '0.01', value: '0.1' } : { min: '1', max: '1000', step: '1', value: '10' });
    });
    const form = h(
      'form',
      { class: 'start-rollout', 'aria-label': 'Start a rollout' },
      h('div', { class: 'field' }, h('label', { for: 'rollout-candidate' }, 'Candidate'), candidate),
      h('div', { class: 'field' }, h('label', { for: 'rollout-mode' }, 'Mode'), mode),
      h('div', { class: 'field' }, amountLabel, amount),
      h('button', { type: 'submit', class: 'primary', 'data-action': 'start' }, 'Start'),
    );
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const body = mode.value === 'canary' ? { mode: 'canary', candidate: candidate.value, share: Number(amount.value) } : { mode: 'shadow', candidate: candidate.value, every: Number(amount.value) };
      void act(() => post('/v1/rollout', body), `Started the ${mode.value} of ${candidate.value}.`);
    });
    return form;
  }

  replace(root, h('h1', {}, 'Models'), h('p', { class: 'lead' }, 'What this Spotter serves, and the rollout of a candidate model.'), registry, rollout, status);
  void load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
};
