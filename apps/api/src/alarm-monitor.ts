import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { INITIAL_ALARM, stepAlarm, type AlarmState } from '@spotter/monitoring';
import type { Config, Logger, Queues } from '@spotter/shared';
import type { MonitoringService } from './monitoring-service.js';

export const monitorKeys = (prefix: string) => ({
  leader: `${prefix}:mon:leader`,
  lastReport: `${prefix}:mon:last-report`,
  state: `${prefix}:mon:alarm-state`,
  history: `${prefix}:mon:alarms`,
});

export type LastReport = Awaited<ReturnType<MonitoringService['drift']>>;

/**
 * Every SPOTTER_MONITOR_EVAL_S one API process (a Redis lease decides which) computes drift
 * over the last SPOTTER_MONITOR_WINDOW_S, steps each metric's alarm (hysteresis, cooldown)
 * and announces openings and clearings: log, history (GET /v1/monitoring/alarms), alert
 * webhook. The last report feeds the Prometheus gauges of every API process.
 */
export function startAlarmMonitor(deps: { redis: Redis; config: Config; monitoring: MonitoringService; queues: Queues; log: Logger }) {
  const { redis, config, monitoring, queues, log } = deps;
  const m = config.monitoring;
  const keys = monitorKeys(config.redis.prefix);
  const me = randomUUID();

  async function tick() {
    if (!(await redis.set(keys.leader, me, 'PX', Math.max(500, m.evalMs - 100), 'NX'))) return;
    const now = new Date();
    const report = await monitoring.drift(new Date(now.getTime() - m.windowMs), now);
    await redis.set(keys.lastReport, JSON.stringify(report), 'PX', m.evalMs * 5);
    const saved = await redis.hgetall(keys.state);
    const updates: Record<string, string> = {};
    const rows = [
      ...report.metrics.map((x) => ({ metric: x.name, kind: x.kind, status: x.status, test: x.test, score: x.score, p_value: x.p_value, threshold: x.threshold })),
      { metric: 'dataset', kind: 'dataset', status: report.status, test: null, score: report.dataset_drift?.share ?? null, p_value: null, threshold: null },
    ];
    for (const row of rows) {
      const state: AlarmState = saved[row.metric] ? (JSON.parse(saved[row.metric]!) as AlarmState) : INITIAL_ALARM;
      const { state: next, event } = stepAlarm(state, row.status, now, m.alarm);
      updates[row.metric] = JSON.stringify(next);
      if (!event) continue;
      const alarm = { ...row, action: event, at: now.toISOString(), model: report.model, window: report.window, reference: report.reference?.id ?? null };
      await redis.multi().lpush(keys.history, JSON.stringify(alarm)).ltrim(keys.history, 0, 999).exec();
      log.warn({ alarm }, `drift alarm ${event}: ${row.metric}`);
      if (m.alertWebhookUrl) {
        const eventId = `alarm.${row.metric}.${event}.${now.getTime()}`;
        await queues.webhooks.add('alert', { url: m.alertWebhookUrl, event_id: eventId, body: { event: `monitoring.alarm_${event}`, alarm } }, { jobId: eventId });
      }
    }
    await redis.hset(keys.state, updates);
  }

  const timer = setInterval(() => void tick().catch((err: unknown) => log.warn({ err }, 'drift evaluation failed')), m.evalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
