import { createRegistry, prom, SECONDS_BUCKETS } from '@spotter/telemetry';
import type { Queue } from 'bullmq';

const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;
const BACKLOG_STATES = ['waiting', 'prioritized', 'delayed'] as const;

async function oldestWaitingAgeS(queue: Queue): Promise<number> {
  // Jobs enter one end of the wait list and leave the other; look at both ends.
  const ends = [...(await queue.getWaiting(0, 0)), ...(await queue.getWaiting(-1, -1))];
  const oldest = Math.min(...ends.map((j) => j.timestamp));
  return Number.isFinite(oldest) ? Math.max(0, (Date.now() - oldest) / 1000) : 0;
}

/**
 * The API's Prometheus metrics. Queue gauges are read from Redis at scrape time, so
 * they are exported once (here), not by every worker.
 */
const STATUS_VALUE: Record<string, number> = { insufficient_data: -1, ok: 0, warn: 1, alarm: 2 };

export function createApiMetrics(queues: Record<string, Queue>, lastDrift: () => Promise<{ metrics: { name: string; score: number; status: string }[] } | null>) {
  const registry = createRegistry('spotter-api');
  const all = Object.values(queues);
  return {
    registry,
    httpDuration: new prom.Histogram({
      name: 'http_server_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    }),
    uploads: new prom.Counter({ name: 'spotter_uploads_total', help: 'Image uploads received', registers: [registry] }),
    uploadBytes: new prom.Counter({ name: 'spotter_upload_bytes_total', help: 'Bytes of image uploads received', registers: [registry] }),
    refused: new prom.Counter({
      name: 'spotter_images_refused_total',
      help: 'Uploads refused, by error code',
      labelNames: ['reason'],
      registers: [registry],
    }),
    queueJobs: new prom.Gauge({
      name: 'spotter_queue_jobs',
      help: 'Jobs in each queue by state',
      labelNames: ['queue', 'state'],
      registers: [registry],
      async collect() {
        for (const q of all) {
          const counts = await q.getJobCounts(...STATES);
          for (const state of STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
        }
      },
    }),
    // One number for autoscalers (KEDA) and alerts: every job that waits for a worker slot.
    // BullMQ keeps prioritized and delayed (retry back-off) jobs outside the wait list, so
    // the wait list's length alone under-counts demand.
    queueBacklog: new prom.Gauge({
      name: 'spotter_queue_backlog',
      help: 'Jobs waiting for a worker in each queue: waiting + prioritized + delayed',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        for (const q of all) {
          const c = await q.getJobCounts(...BACKLOG_STATES);
          this.set({ queue: q.name }, BACKLOG_STATES.reduce((n, s) => n + (c[s] ?? 0), 0));
        }
      },
    }),
    driftScore: new prom.Gauge({
      name: 'spotter_drift_score',
      help: 'Drift test statistic of each monitored metric over the last window (KS D, chi-square, PSI, JS or normalised Wasserstein)',
      labelNames: ['metric'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const m of (await lastDrift())?.metrics ?? []) this.set({ metric: m.name }, m.score);
      },
    }),
    driftStatus: new prom.Gauge({
      name: 'spotter_drift_status',
      help: 'Drift status of each monitored metric: -1 insufficient data, 0 ok, 1 warn, 2 alarm',
      labelNames: ['metric'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const m of (await lastDrift())?.metrics ?? []) this.set({ metric: m.name }, STATUS_VALUE[m.status] ?? -1);
      },
    }),
    oldestAge: new prom.Gauge({
      name: 'spotter_queue_oldest_waiting_age_seconds',
      help: 'Age of the oldest job waiting in each queue (0 when none)',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        for (const q of all) this.set({ queue: q.name }, await oldestWaitingAgeS(q));
      },
    }),
  };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;
