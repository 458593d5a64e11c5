import type { JobView } from '@spotter/shared';
import { client, messageOf, withKey } from '../api.js';
import { detectionsView } from '../detections-view.js';
import { errorBox, h, liveRegion, replace } from '../dom.js';
import { imagePicker, lastImage } from '../image-picker.js';
import { followJob, lifeline, waterfall } from '../job-parts.js';
import type { Page } from '../page.js';

/** The lowest score asked of the server, so the slider can go below the usual 0.25. */
export const ASKED_MIN_SCORE = 0.1;

/** Submits an image as a job; the answer for `followJob`. */
export function submitImage(file: File, minScore = ASKED_MIN_SCORE, model?: string): Promise<{ id: string; status: string }> {
  // Without a model the rollout routes the job (live model or canary).
  return withKey(() => client.submit(file, { min_score: minScore, ...(model ? { model } : {}) }));
}

/** Try: submit a picture, watch the job's life, see the boxes drawn by the page. */
export const tryPage: Page = (root) => {
  const controller = new AbortController();
  const status = liveRegion();
  const life = h('div', { class: 'life' });
  const result = h('div', { class: 'result' });

  async function run(file: File) {
    lastImage.file = file;
    const line = lifeline();
    replace(life, line.element);
    replace(result);
    status.textContent = `Uploading ${file.name || 'the image'}…`;
    try {
      const created = await submitImage(file);
      status.textContent = `Job ${created.id} accepted.`;
      line.add(created.status);
      const job: JobView = await followJob(created.id, (j) => line.add(j.status), controller.signal, created.status);
      if (job.status !== 'succeeded' || !job.result) {
        status.textContent = '';
        replace(result, errorBox(`The job ${job.status}: ${job.error?.message ?? 'no reason given'}.`));
        return;
      }
      status.textContent = `Found ${job.result.detections.length} objects with ${job.result.model.name} (${job.result.model.version}).`;
      const view = detectionsView({
        imageUrl: URL.createObjectURL(file),
        width: job.result.image.width,
        height: job.result.image.height,
        detections: job.result.detections,
        source: 'server',
        title: 'Server result',
      });
      replace(result, job.timings_ms ? waterfall(job.timings_ms) : null, view.element, h('p', {}, h('a', { href: `#/jobs/${job.id}` }, 'Open this job'), ' · ', h('a', { href: '#/edge' }, 'Run the same picture in this browser')));
      result.dataset.jobId = job.id;
    } catch (err) {
      if (controller.signal.aborted) return;
      status.textContent = '';
      replace(result, errorBox(messageOf(err)));
    }
  }

  replace(
    root,
    h('h1', {}, 'Try'),
    h('p', { class: 'lead' }, 'Submit a picture as a job and watch it go through the queue; the boxes are drawn here from the job’s JSON.'),
    imagePicker((f) => void run(f), 'try'),
    status,
    life,
    result,
  );
  return () => controller.abort();
};
