import type { Config } from '@spotter/config';
import { reconcile, sweepImages, type Lifecycle } from '@spotter/jobs';
import type { ObjectStorage } from '@spotter/storage';
import type { AlarmStore, JobQueue, RedisClient } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';
import { evaluateAlarms } from './services/alarm-evaluator.js';
import type { MonitoringService } from './services/monitoring-service.js';

export interface MaintenanceDeps {
  config: Config;
  connection: RedisClient;
  lifecycle: Lifecycle;
  storage: ObjectStorage;
  monitoring: MonitoringService;
  alarms: AlarmStore;
  queue: JobQueue;
  log: Logger;
}

/**
 * Periodic work, as BullMQ job schedulers: each run happens in exactly one process across
 * all API replicas, and survives restarts. Every API process offers to run it (the API is
 * always up; workers may be scaled to zero) and declares the schedules again every
 * reconciliation period (at most a minute), so that a Redis that lost its data gets them back.
 */
export function startMaintenance(deps: MaintenanceDeps) {
  const { config, log, queue } = deps;
  const tasks: Record<string, { everyMs: number; run: () => Promise<unknown> }> = {
    reconcile: {
      everyMs: config.jobs.reconcileMs,
      run: async () => {
        const report = await reconcile(deps.lifecycle, { graceMs: 10_000 });
        if (report.requeued || report.completed) log.info({ reconcile: report }, 'repaired jobs from the outbox');
        return report;
      },
    },
    'evaluate-drift': { everyMs: config.monitoring.evalMs, run: () => evaluateAlarms(deps) },
  };
  const retention = config.images.retention;
  if (retention !== 'keep') {
    tasks['sweep-images'] = {
      // Often enough that an image outlives its retention by at most a quarter of it (1 s .. 1 h).
      everyMs: Math.min(3_600_000, Math.max(1000, retention.keepMs / 4)),
      run: async () => {
        const report = await sweepImages({ ...deps.lifecycle, storage: deps.storage });
        if (report.deleted) log.info({ sweep: report }, 'deleted images past their retention');
        return report;
      },
    };
  }
  const worker = queue.runMaintenance(
    deps.connection,
    async (task) => tasks[task]?.run(),
    (err, task) => log.warn({ task, err: err.message }, task ? 'maintenance task failed' : 'maintenance worker error'),
  );
  const declare = () =>
    Promise.all(Object.entries(tasks).map(([name, t]) => queue.schedule(name, t.everyMs))).catch((err: unknown) =>
      log.warn({ err: (err as Error).message }, 'cannot declare the maintenance schedules yet'),
    );
  void declare();
  const timer = setInterval(() => void declare(), Math.min(60_000, config.jobs.reconcileMs));
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await worker.close();
    },
  };
}
