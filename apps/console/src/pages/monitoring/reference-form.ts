import { messageOf, post } from '../../api.js';
import { h } from '../../dom.js';

/** The form that freezes the last N minutes of traffic as the reference; `done` reloads the page's data. */
export function referenceForm(status: HTMLElement, done: () => Promise<void>) {
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
      await done();
    } catch (err) {
      status.textContent = messageOf(err);
    }
  });
  return form;
}
