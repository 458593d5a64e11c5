import { describe, expect, it } from 'vitest';
import { INITIAL_ALARM, stepAlarm, type AlarmState } from './alarm-state.js';
import type { DriftStatus } from './drift-report.js';

const policy = { consecutive: 2, cooldownMs: 60_000 };

function run(statuses: DriftStatus[], start = 0) {
  let state: AlarmState = INITIAL_ALARM;
  return statuses.map((s, i) => {
    const r = stepAlarm(state, s, new Date(start + i * 10_000), policy);
    state = r.state;
    return r.event;
  });
}

describe('alarm hysteresis', () => {
  it('opens after N consecutive alarm windows, not on a single spike', () => {
    expect(run(['alarm', 'ok', 'alarm', 'ok'])).toEqual([null, null, null, null]);
    expect(run(['alarm', 'alarm', 'alarm'])).toEqual([null, 'opened', null]);
  });

  it('stays open through warn and clears only at ok', () => {
    expect(run(['alarm', 'alarm', 'warn', 'warn', 'ok'])).toEqual([null, 'opened', null, null, 'cleared']);
  });

  it('ignores windows without enough data', () => {
    expect(run(['alarm', 'insufficient_data', 'alarm'])).toEqual([null, null, 'opened']);
  });

  it('waits out the cooldown before opening again', () => {
    // Windows every 10 s: cleared at 20 s, alarm level again from 40 s; the 60 s cooldown ends at 80 s.
    expect(run(['alarm', 'alarm', 'ok', 'ok', 'alarm', 'alarm', 'alarm', 'alarm', 'alarm', 'alarm'])).toEqual([
      null, 'opened', 'cleared', null, null, null, null, null, 'opened', null,
    ]);
  });
});
