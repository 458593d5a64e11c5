import { eventOf, failedRecord, JobErasedError, JobRecord } from '@spotter/shared';
import type { BatchStore, WebhookStore } from '@spotter/stores';
import { recount } from './batch-view.js';
import { announceBatch, finalizeJob, saveResultUnlessErased, type LifecycleDeps } from './finalize-job.js';

export interface ReconcileReport {
  /** Outbox entries looked at. */
  checked: number;
  /** Accepted jobs the queue had lost, enqueued again. */
  requeued: number;
  /** Final jobs and batches whose record or event had not gone out, completed now. */
  completed: number;
  /** Outbox entries closed (final and announced). */
  closed: number;
}

export type ReconcileDeps = LifecycleDeps & { webhooks: WebhookStore; batches: BatchStore };

/**
 * Works through the outbox (`pending/` in storage: every accepted job not yet final and
 * announced, every batch whose final event is not out) and repairs what Redis lost or what
 * an outage left half-done:
 * - final in Redis: write the record to storage, schedule a webhook no queue holds, close the entry;
 * - final only in storage (Redis emptied): claim it again and announce it;
 * - not final anywhere and not in the queue (Redis lost it): enqueue it again;
 * - a batch Redis forgot: recount it from its items; a final one is announced.
 * Safe to run at any time and in any process; the maintenance scheduler runs it in one at a time.
 */
export async function reconcile(deps: ReconcileDeps, opts: { graceMs: number; now?: number }): Promise<ReconcileReport> {
  const now = opts.now ?? Date.now();
  const report: ReconcileReport = { checked: 0, requeued: 0, completed: 0, closed: 0 };
  for await (const entry of deps.files.pendingEntries()) {
    report.checked++;
    try {
      const outcome = entry.kind === 'batch' ? await reconcileBatch(deps, entry.id) : await reconcileJob(deps, entry.id, now - opts.graceMs);
      if (outcome) report[outcome]++;
    } catch (err) {
      // Erased while we looked: its outbox entry went with it.
      if (!(err instanceof JobErasedError)) throw err;
    }
  }
  return report;
}

async function reconcileJob(deps: ReconcileDeps, id: string, acceptedBefore: number): Promise<keyof ReconcileReport | null> {
  const data = await deps.files.loadPending(id);
  if (!data) return null;
  const stored = await deps.jobs.get(id);
  if (stored?.record) {
    const record = stored.record;
    // An entry can stay for an hour while its webhook is retried: write the record once, not every pass.
    if (!(await deps.files.hasResult(id))) await saveResultUnlessErased(deps, record);
    if (record.webhook_url) {
      const delivery = await deps.queue.webhookState(id);
      if (delivery === 'in-flight') return null;
      if (delivery === null && (await deps.webhooks.read(id, record.webhook_url)).state === 'pending') {
        await deps.queue.enqueueWebhook(id, eventOf(record.job.status));
        return 'completed';
      }
    }
    await deps.files.deletePending(id);
    return 'closed';
  }
  const result = await deps.files.loadResult(id);
  if (result) return (await finalizeJob(deps, data, result, { repeat: true }), 'completed');
  const queued = await deps.queue.detectJob(data);
  if (queued && queued.state !== 'completed' && queued.state !== 'failed') return null;
  if (queued?.state === 'completed') {
    // Finished, but both its Redis record and its stored one are gone: the queue kept the answer.
    const returned = JobRecord.safeParse(queued.returnvalue);
    if (returned.success) return (await finalizeJob(deps, data, returned.data, { repeat: true }), 'completed');
  }
  if (queued?.state === 'failed') {
    const lost = failedRecord(data, { startedAt: null, error: { code: 'WORKER_LOST', message: 'the job failed without a result' } });
    return (await finalizeJob(deps, data, lost, { repeat: true }), 'completed');
  }
  // The API writes the outbox entry just before it enqueues: leave it a moment.
  if (Date.parse(data.created_at) > acceptedBefore) return null;
  await deps.queue.enqueueDetect(data);
  return 'requeued';
}


async function reconcileBatch(deps: ReconcileDeps, id: string): Promise<keyof ReconcileReport | null> {
  const m = await deps.batchFiles.load(id);
  if (!m) return (await deps.batchFiles.closeOutbox(id), 'closed');
  let stored = await deps.batches.get(id);
  if (!stored) {
    // Redis forgot the counters: recount from the items (Redis first, then their stored records).
    const inRedis = await deps.jobs.many(m.items.map((i) => i.job_id));
    const statuses = await Promise.all(m.items.map(async (item, k) => inRedis[k]?.status ?? (await deps.files.loadResult(item.job_id))?.job.status ?? null));
    const counted = recount(m, statuses);
    await deps.batches.restore(id, m.owner, counted);
    stored = { ...counted, owner: m.owner, cancelRequested: false };
  }
  const status = stored.status;
  if (status === 'queued' || status === 'running') return null;
  const delivery = m.webhook_url ? await deps.queue.webhookState(`batch-${id}`) : 'done';
  if (delivery === 'in-flight') return null;
  if (delivery === 'done') return (await deps.batchFiles.closeOutbox(id), 'closed');
  await announceBatch(deps, id, status);
  return 'completed';
}
