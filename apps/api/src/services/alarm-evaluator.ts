import type { Config } from '@spotter/config';
import { INITIAL_ALARM, stepAlarm, type AlarmState } from '@spotter/monitoring';
import type { AlarmStore, JobQueue } from '@spotter/stores';
import type { Logger } from '@spotter/telemetry';
import type { MonitoringService } from './monitoring-service.js';

/**
 * One periodic drift evaluation (run by the maintenance scheduler, in one process at a time):
 * drift over the last SPOTTER_MONITOR_WINDOW_S, each metric's alarm stepped (hysteresis,
 * cooldown), openings and clearings announced to the log, the history and the alert webhook.
 * The report is kept for the Prometheus gauges of every API process.
 */
export async function evaluateAlarms(deps: EvaluatorDeps, now = new Date()) {
  try {
    await evaluate(deps, now);
  } catch (err) {
    // Alarms that cannot be evaluated fail visibly: /v1/monitoring/alarms and a gauge say so.
    await deps.alarms.recordEvaluation(now, (err as Error).message).catch(() => undefined);
    throw err;
  }
  await deps.alarms.recordEvaluation(now, null);
}

interface EvaluatorDeps {
  config: Config;
  monitoring: MonitoringService;
  alarms: AlarmStore;
  queue: JobQueue;
  log: Logger;
}

async function evaluate(deps: EvaluatorDeps, now: Date) {
  const { config, monitoring, alarms, queue, log } = deps;
  const m = config.monitoring;
  const report = await monitoring.drift(new Date(now.getTime() - m.windowMs), now);
  await alarms.saveLastReport(report, m.evalMs * 5);
  const saved = await alarms.states();
  const updates: Record<string, AlarmState> = {};
  const rows = [
    ...report.metrics.map((x) => ({ metric: x.name, kind: x.kind, status: x.status, test: x.test, score: x.score, p_value: x.p_value, threshold: x.threshold })),
    { metric: 'dataset', kind: 'dataset', status: report.status, test: null, score: report.dataset_drift?.share ?? null, p_value: null, threshold: null },
    // Service health: a burn rate against the operator's objective, under the same hysteresis.
    ...report.service.metrics.map((x) => ({ metric: x.name, kind: 'service', status: x.status, test: x.objective, score: x.burn_rate, p_value: null, threshold: { ...report.service.thresholds.burn_rate, source: 'objective' }, value: x.value, target: x.target })),
  ];
  for (const row of rows) {
    const { state, event } = stepAlarm(saved[row.metric] ?? INITIAL_ALARM, row.status, now, m.alarm);
    updates[row.metric] = state;
    if (!event) continue;
    const alarm = { ...row, action: event, at: now.toISOString(), model: report.model, window: report.window, reference: report.reference?.id ?? null };
    await alarms.pushHistory(alarm);
    log.warn({ alarm }, `drift alarm ${event}: ${row.metric}`);
    if (m.alertWebhookUrl) {
      const eventId = `alarm.${row.metric}.${event}.${now.getTime()}`;
      await queue.enqueueAlert({ url: m.alertWebhookUrl, event_id: eventId, body: { event: `monitoring.alarm_${event}`, alarm } });
    }
  }
  await alarms.saveStates(updates);
}
