import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { descendantsCpuSeconds, parseProcStat } from './cpu-time.js';

describe('CPU time from /proc', () => {
  it('parses a stat line whose command name holds spaces and parentheses', () => {
    const stat = '4242 (Chrome (renderer) x) S 4000 4242 4242 0 -1 4194560 100 0 0 0 250 30 7 1 20 0 12 0 300 0 0';
    expect(parseProcStat(stat)).toEqual({ ppid: 4000, cpuSeconds: 2.8 });
  });

  it('counts the CPU a child process burns', async () => {
    const before = descendantsCpuSeconds(process.pid);
    // The child burns 300 ms of its own CPU time (however long a busy machine makes that take), then idles.
    const child = spawn(process.execPath, ['-e', 'while (process.cpuUsage().user < 300e3); console.log("done"); setTimeout(() => {}, 10e3)']);
    await new Promise((r) => child.stdout.once('data', r));
    const used = descendantsCpuSeconds(process.pid) - before;
    child.kill();
    expect(used).toBeGreaterThan(0.25);
  });
});
