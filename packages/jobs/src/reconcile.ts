import { eventOf, failedRecord, JobRecord } from '@spotter/shared';
import type { WebhookStore } from '@spotter/stores';
import { finalizeJob, type LifecycleDeps } from './finalize-job.js';

export interface ReconcileReport {
  /** Outbox entries looked at. */
  checked: number;
  /** Accepted jobs the queue had lost, enqueued again. */
  requeued: number;
  /** Final jobs whose record or webhook had not gone out, completed now. */
  completed: number;
  /** Outbox entries closed (final and announced). */
  closed: number;
}

/**
 * Works through the outbox (`pending/` in storage: every accepted job not yet final and
 * announced) and repairs what Redis lost or what an outage left half-done:
 * - final in Redis: write the record to storage, schedule a webhook that no queue holds, close the entry;
 * - final only in storage (Redis emptied): claim it again and announce it;
 * - not final anywhere and not in the queue (Redis lost it): enqueue it again.
 * Safe to run at any time and in any process; the maintenance scheduler runs it in one at a time.
 */
export async function reconcile(deps: LifecycleDeps & { webhooks: WebhookStore }, opts: { graceMs: number; now?: number }): Promise<ReconcileReport> {
  const now = opts.now ?? Date.now();
  const report: ReconcileReport = { checked: 0, requeued: 0, completed: 0, closed: 0 };
  for await (const id of deps.files.pendingIds()) {
    report.checked++;
    const data = await deps.files.loadPending(id);
    if (!data) continue;
    const stored = await deps.jobs.get(id);
    if (stored?.record) {
      const record = stored.record;
      await deps.files.saveResult(record);
      if (record.webhook_url && (await deps.queue.webhookInFlight(id))) continue;
      if (record.webhook_url && (await deps.webhooks.read(id, record.webhook_url)).state === 'pending') {
        await deps.queue.enqueueWebhook(id, eventOf(record.job.status));
        report.completed++;
        continue;
      }
      await deps.files.deletePending(id);
      report.closed++;
      continue;
    }
    const result = await deps.files.loadResult(id);
    if (result) {
      await finalizeJob(deps, data, result, { repeat: true });
      report.completed++;
      continue;
    }
    const queued = await deps.queue.detectJob(id);
    if (queued && queued.state !== 'completed' && queued.state !== 'failed') continue;
    if (queued?.state === 'completed') {
      // Finished, but both its Redis record and its stored one are gone: the queue kept the answer.
      const returned = JobRecord.safeParse(queued.returnvalue);
      if (returned.success) {
        await finalizeJob(deps, data, returned.data, { repeat: true });
        report.completed++;
        continue;
      }
    }
    if (queued?.state === 'failed') {
      await finalizeJob(deps, data, failedRecord(data, { startedAt: null, error: { code: 'WORKER_LOST', message: 'the job failed without a result' } }));
      report.completed++;
      continue;
    }
    // The API writes the outbox entry just before it enqueues: leave it a moment.
    if (now - Date.parse(data.created_at) < opts.graceMs) continue;
    await deps.queue.enqueueDetect(data);
    report.requeued++;
  }
  return report;
}
