import { isFinal, type BatchCounts, type BatchStatus, type BatchView, type JobStatus } from '@spotter/shared';
import type { StoredBatch } from '@spotter/stores';
import type { BatchManifest } from './batch-files.js';

/** Links to a batch's resources, absolute when a public URL is configured. */
export function batchLinks(id: string, publicUrl?: string) {
  const base = `${publicUrl?.replace(/\/$/, '') ?? ''}/v1/batches/${id}`;
  return { self: base, results: `${base}/results`, results_coco: `${base}/results?format=coco` };
}

/** The public JSON of a batch, from its manifest and the counts Redis keeps. */
export function batchView(m: BatchManifest, s: Omit<StoredBatch, 'owner' | 'cancelRequested'>, publicUrl?: string): BatchView {
  const counts: BatchCounts = { ...s.counts, skipped: m.skipped.length };
  const done = counts.succeeded + counts.failed + counts.cancelled;
  return {
    id: m.id,
    status: s.status,
    model: m.model,
    source: m.source,
    counts,
    progress: counts.total ? Math.round((done / counts.total) * 10000) / 10000 : 1,
    created_at: m.created_at,
    started_at: s.started_at,
    finished_at: s.finished_at,
    skipped: m.skipped,
    links: batchLinks(m.id, publicUrl),
  };
}

/** A batch's state recounted from its items' statuses (when Redis has lost its counters). */
export function recount(m: BatchManifest, statuses: (JobStatus | null)[], cancelRequested = false): Omit<StoredBatch, 'owner' | 'cancelRequested'> {
  const c = { total: m.items.length, queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
  for (const st of statuses) {
    if (st === 'succeeded' || st === 'failed' || st === 'cancelled' || st === 'running') c[st]++;
    else c.queued++;
  }
  const finished = statuses.every((st) => st !== null && isFinal(st));
  const status: BatchStatus = finished ? (cancelRequested ? 'cancelled' : c.succeeded === 0 ? 'failed' : 'succeeded') : c.queued === c.total ? 'queued' : 'running';
  return { status, counts: c, created_at: m.created_at, started_at: null, finished_at: null };
}
