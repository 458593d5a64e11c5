import type { DriftStatus } from './drift-report.js';

export interface AlarmState {
  /** Consecutive evaluations at "alarm". */
  breaches: number;
  open: boolean;
  opened_at: string | null;
  cleared_at: string | null;
}

export interface AlarmPolicy {
  /** Evaluations in a row at "alarm" before an alarm opens (hysteresis on the way up). */
  consecutive: number;
  /** After an alarm clears, how long before the same metric may open one again. */
  cooldownMs: number;
}

export const INITIAL_ALARM: AlarmState = { breaches: 0, open: false, opened_at: null, cleared_at: null };

/**
 * One evaluation of one metric. An alarm opens after `consecutive` alarm-level windows
 * (and not within the cooldown after the last one cleared), stays open through "warn",
 * and clears only once the metric is back to "ok" (below the warning level).
 */
export function stepAlarm(state: AlarmState, status: DriftStatus, now: Date, policy: AlarmPolicy): { state: AlarmState; event: 'opened' | 'cleared' | null } {
  if (status === 'insufficient_data') return { state, event: null };
  if (status === 'alarm') {
    const breaches = state.breaches + 1;
    const cooled = !state.cleared_at || now.getTime() - Date.parse(state.cleared_at) >= policy.cooldownMs;
    if (!state.open && breaches >= policy.consecutive && cooled) {
      return { state: { ...state, breaches, open: true, opened_at: now.toISOString() }, event: 'opened' };
    }
    return { state: { ...state, breaches }, event: null };
  }
  if (status === 'ok' && state.open) {
    return { state: { ...state, breaches: 0, open: false, cleared_at: now.toISOString() }, event: 'cleared' };
  }
  return { state: { ...state, breaches: 0 }, event: null };
}
