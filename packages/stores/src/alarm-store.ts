import { INITIAL_ALARM, type AlarmState } from '@spotter/monitoring';
import type { RedisKeys } from './keys.js';
import { redisCall, type RedisClient } from './redis-connection.js';

/** Drift alarms: each metric's state, the history of openings and clearings, the last report. */
export class AlarmStore {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  states(): Promise<Record<string, AlarmState>> {
    return redisCall(async () => {
      const h = await this.redis.hgetall(this.keys.alarmState);
      return Object.fromEntries(Object.entries(h).map(([metric, raw]) => [metric, { ...INITIAL_ALARM, ...(JSON.parse(raw) as AlarmState) }]));
    });
  }

  saveStates(states: Record<string, AlarmState>): Promise<void> {
    const fields = Object.entries(states).flatMap(([metric, s]) => [metric, JSON.stringify(s)]);
    return redisCall(async () => void (fields.length && (await this.redis.hset(this.keys.alarmState, ...fields))));
  }

  /** Appends an opening or clearing to the history (last 1000 kept). */
  pushHistory(alarm: object): Promise<void> {
    return redisCall(async () => void (await this.redis.multi().lpush(this.keys.alarmHistory, JSON.stringify(alarm)).ltrim(this.keys.alarmHistory, 0, 999).exec()));
  }

  history(limit = 1000): Promise<unknown[]> {
    return redisCall(async () => (await this.redis.lrange(this.keys.alarmHistory, 0, limit - 1)).map((h) => JSON.parse(h) as unknown));
  }

  /**
   * Records how the scheduled evaluation went: a failure keeps its message and counts the
   * failures in a row, a success clears them. An evaluation that throws must be seen, not
   * read as quiet.
   */
  recordEvaluation(at: Date, error: string | null): Promise<void> {
    const key = this.keys.alarmEvaluation;
    return redisCall(async () => {
      const m = this.redis.multi().hset(key, 'last_run_at', at.toISOString());
      if (error === null) m.hset(key, 'last_ok_at', at.toISOString(), 'failures', '0').hdel(key, 'error');
      else m.hset(key, 'error', error.slice(0, 500)).hincrby(key, 'failures', 1);
      await m.exec();
    });
  }

  /** The scheduled evaluation's last run, last success, error (null when the last run succeeded) and failures in a row. */
  evaluation(): Promise<{ last_run_at: string | null; last_ok_at: string | null; error: string | null; failures: number }> {
    return redisCall(async () => {
      const h = await this.redis.hgetall(this.keys.alarmEvaluation);
      return { last_run_at: h.last_run_at ?? null, last_ok_at: h.last_ok_at ?? null, error: h.error ?? null, failures: Number(h.failures ?? 0) };
    });
  }

  /** Keeps the last periodic report for the Prometheus gauges of every API process. */
  saveLastReport(report: object, ttlMs: number): Promise<void> {
    return redisCall(async () => void (await this.redis.set(this.keys.lastReport, JSON.stringify(report), 'PX', ttlMs)));
  }

  lastReport<T>(): Promise<T | null> {
    return redisCall(async () => {
      const raw = await this.redis.get(this.keys.lastReport);
      return raw ? (JSON.parse(raw) as T) : null;
    });
  }
}
