import { readFileSync } from 'node:fs';

// Linux reports CPU times in clock ticks; 100 per second on every platform Node supports here.
const TICKS_PER_S = 100;

export interface ProcSample {
  cpuS: number;
  rssMB: number;
  peakRssMB: number;
}

/** CPU seconds used so far, current and peak RSS of a process, from /proc. */
export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { cpuS, rssMB: Math.round(kb('VmRSS') / 102.4) / 10, peakRssMB: Math.round(kb('VmHWM') / 102.4) / 10 };
}

/** CPU share (1 = one core) and RSS of each process over a measured window. */
export function procUsage(before: Record<string, ProcSample>, after: Record<string, ProcSample>, seconds: number) {
  return Object.fromEntries(
    Object.keys(after).map((name) => [
      name,
      {
        cpu_cores: Math.round(((after[name]!.cpuS - (before[name]?.cpuS ?? 0)) / seconds) * 100) / 100,
        rss_mb: after[name]!.rssMB,
        peak_rss_mb: after[name]!.peakRssMB,
      },
    ]),
  );
}
