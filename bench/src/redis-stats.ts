import type { RedisClient } from '@spotter/stores';

/** Server-side counters of one Redis server: calls per command (commands run inside Lua scripts included) and read events. */
export interface RedisCounters {
  calls: Record<string, number>;
  /** Microseconds spent executing each command (a script's time includes the commands it runs). */
  usec: Record<string, number>;
  /** Read events on client sockets: one per request (or batch of pipelined requests) that arrived. */
  reads: number;
}

/** Reads INFO commandstats and stats. Costs one INFO call (two read events are subtracted by `delta`). */
export async function redisCounters(redis: RedisClient): Promise<RedisCounters> {
  const info = (await redis.info('all')) as string;
  const calls: Record<string, number> = {};
  const usec: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    calls[m[1]!] = Number(m[2]);
    usec[m[1]!] = Number(m[3]);
  }
  const reads = Number(/^total_reads_processed:(\d+)/m.exec(info)?.[1] ?? NaN);
  return { calls, usec, reads };
}

/** What happened between two readings, less the INFO call that took the second one. */
export function delta(before: RedisCounters, after: RedisCounters) {
  const calls: Record<string, number> = {};
  const usec: Record<string, number> = {};
  for (const [cmd, n] of Object.entries(after.calls)) {
    const d = n - (before.calls[cmd] ?? 0) - (cmd === 'info' ? 1 : 0);
    if (d <= 0) continue;
    calls[cmd] = d;
    usec[cmd] = (after.usec[cmd] ?? 0) - (before.usec[cmd] ?? 0);
  }
  return { calls, usec, total: Object.values(calls).reduce((a, b) => a + b, 0), reads: after.reads - before.reads - 1 };
}

/** Commands that clients send (a script call counts once); the rest of `calls` ran inside scripts. */
export const SCRIPT_CALLS = ['evalsha', 'eval', 'fcall'];
