import type { JobRecord } from '@spotter/shared';
import { createRegistry, prom, SECONDS_BUCKETS } from '@spotter/telemetry';

const STAGES = ['queue', 'download', 'decode', 'inference', 'postprocess'] as const;

/** The worker's Prometheus metrics, served on SPOTTER_METRICS_PORT. */
export function createWorkerMetrics(concurrency: number) {
  const registry = createRegistry('spotter-worker');
  const metrics = {
    registry,
    stageDuration: new prom.Histogram({
      name: 'spotter_job_stage_duration_seconds',
      help: 'Time a job spent in each stage',
      labelNames: ['stage'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    }),
    jobDuration: new prom.Histogram({
      name: 'spotter_job_duration_seconds',
      help: 'End-to-end job time, from creation to final state',
      labelNames: ['model', 'status'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    }),
    jobs: new prom.Counter({
      name: 'spotter_jobs_total',
      help: 'Jobs that reached a final state, by model, status and error code',
      labelNames: ['model', 'status', 'code'],
      registers: [registry],
    }),
    detections: new prom.Counter({
      name: 'spotter_detections_total',
      help: 'Boxes returned, by model',
      labelNames: ['model'],
      registers: [registry],
    }),
    webhookDeliveries: new prom.Counter({
      name: 'spotter_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome (delivered, retrying, gave_up)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    busySlots: new prom.Gauge({ name: 'spotter_worker_busy_slots', help: 'Jobs this worker is processing now', registers: [registry] }),
    concurrency: new prom.Gauge({ name: 'spotter_worker_concurrency', help: 'Jobs this worker may process at once', registers: [registry] }),
    modelLoad: new prom.Gauge({
      name: 'spotter_model_load_seconds',
      help: 'Time to read, load and warm up the model',
      labelNames: ['model'],
      registers: [registry],
    }),
    batchSize: new prom.Histogram({
      name: 'spotter_inference_batch_size',
      help: 'Images per inference call',
      buckets: [1, 2, 4, 8, 16, 32],
      registers: [registry],
    }),
    /** Records a job's final record: counters, end-to-end and per-stage histograms. */
    observeJob(record: JobRecord) {
      const { job } = record;
      metrics.jobs.inc({ model: job.model, status: job.status, code: job.error?.code ?? '' });
      const end = job.finished_at ? Date.parse(job.finished_at) : Date.now();
      metrics.jobDuration.observe({ model: job.model, status: job.status }, Math.max(0, end - Date.parse(job.created_at)) / 1000);
      if (job.timings_ms) for (const stage of STAGES) metrics.stageDuration.observe({ stage }, job.timings_ms[stage] / 1000);
      if (job.result) {
        metrics.detections.inc({ model: job.model }, job.result.detections.length);
        metrics.batchSize.observe(1);
      }
    },
  };
  metrics.concurrency.set(concurrency);
  return metrics;
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;
