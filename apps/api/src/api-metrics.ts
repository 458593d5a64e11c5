import { probe } from '@spotter/shared';
import type { JobQueue } from '@spotter/stores';
import { createRegistry, prom, SECONDS_BUCKETS } from '@spotter/telemetry';

const STATUS_VALUE: Record<string, number> = { insufficient_data: -1, ok: 0, warn: 1, alarm: 2 };

type DriftGaugeSource = () => Promise<{
  metrics: { name: string; score: number; status: string }[];
  service: { metrics: { objective: string; burn_rate: number; status: string }[] };
} | null>;

/**
 * The API's Prometheus metrics. Queue gauges are read from Redis at scrape time, so they
 * are exported once (here), not by every worker. A scrape never fails because Redis is
 * down: the Redis-backed gauges are skipped and spotter_redis_up says so.
 */
export function createApiMetrics(queue: JobQueue, lastDrift: DriftGaugeSource, evaluation: () => Promise<{ failures: number }>, ping: () => Promise<unknown>) {
  const registry = createRegistry('spotter-api');
  /**
   * Runs a Redis-backed collect; a failure empties that gauge (no stale value is exported)
   * instead of failing the scrape.
   */
  const fromRedis = (gauge: prom.Gauge, fn: () => Promise<void>) => fn().catch(() => gauge.reset());
  new prom.Gauge({
    name: 'spotter_redis_up',
    help: '1 when this scrape could reach Redis, else 0 (the queue and drift gauges are then left out)',
    registers: [registry],
    async collect() {
      this.set(await probe(ping, 1000).then((r) => (r === 'ok' ? 1 : 0)));
    },
  });
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
        await fromRedis(this, async () => {
          for (const [q, counts] of Object.entries(await queue.counts())) for (const [state, n] of Object.entries(counts)) this.set({ queue: q, state }, n);
        });
      },
    }),
    backlog: new prom.Gauge({
      name: 'spotter_queue_backlog',
      help: 'Jobs waiting for a worker in each queue (waiting + prioritized + delayed): what autoscaling follows',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        await fromRedis(this, async () => {
          for (const [q, c] of Object.entries(await queue.counts())) this.set({ queue: q }, c.waiting + c.prioritized + c.delayed);
        });
      },
    }),
    oldestAge: new prom.Gauge({
      name: 'spotter_queue_oldest_waiting_age_seconds',
      help: 'Age of the oldest job waiting in each queue (0 when none)',
      labelNames: ['queue'],
      registers: [registry],
      async collect() {
        await fromRedis(this, async () => {
          for (const [q, age] of Object.entries(await queue.oldestWaitingAgeS())) this.set({ queue: q }, age);
        });
      },
    }),
    driftScore: new prom.Gauge({
      name: 'spotter_drift_score',
      help: 'Drift test statistic of each monitored metric over the last window (KS D, chi-square, PSI, JS or normalised Wasserstein)',
      labelNames: ['metric'],
      registers: [registry],
      async collect() {
        await fromRedis(this, async () => {
          const report = await lastDrift();
          this.reset();
          for (const m of report?.metrics ?? []) this.set({ metric: m.name }, m.score);
        });
      },
    }),
    driftStatus: new prom.Gauge({
      name: 'spotter_drift_status',
      help: 'Drift status of each monitored metric: -1 insufficient data, 0 ok, 1 warn, 2 alarm',
      labelNames: ['metric'],
      registers: [registry],
      async collect() {
        await fromRedis(this, async () => {
          const report = await lastDrift();
          this.reset();
          for (const m of report?.metrics ?? []) this.set({ metric: m.name }, STATUS_VALUE[m.status] ?? -1);
        });
      },
    }),
    evaluationFailures: new prom.Gauge({
      name: 'spotter_monitoring_evaluation_failures',
      help: 'Scheduled drift evaluations that failed in a row (0 once one succeeds): alarms are not being judged while it is above 0',
      registers: [registry],
      async collect() {
        await fromRedis(this, async () => this.set((await evaluation()).failures));
      },
    }),
    serviceStatus: new prom.Gauge({
      name: 'spotter_service_status',
      help: 'Service health of each objective (SPOTTER_SLO_*) over the last window: -1 insufficient data, 0 ok, 1 warn, 2 alarm',
      labelNames: ['objective'],
      registers: [registry],
      async collect() {
        await fromRedis(this, async () => {
          const report = await lastDrift();
          this.reset();
          for (const m of report?.service.metrics ?? []) this.set({ objective: m.objective }, STATUS_VALUE[m.status] ?? -1);
        });
      },
    }),
    serviceBurnRate: new prom.Gauge({
      name: 'spotter_service_burn_rate',
      help: "Each objective's burn rate over the last window: the share of jobs that broke it over the share it allows (1 spends the budget exactly)",
      labelNames: ['objective'],
      registers: [registry],
      async collect() {
        await fromRedis(this, async () => {
          const report = await lastDrift();
          this.reset();
          for (const m of report?.service.metrics ?? []) this.set({ objective: m.objective }, m.burn_rate);
        });
      },
    }),
  };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;
