import { readdirSync, readFileSync } from 'node:fs';

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

/** A process and all its descendants (uvicorn's supervisor and its workers), summed: CPU and RSS add up, peak RSS is the sum of peaks. */
export function sampleTree(pid: number): ProcSample {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while listing.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  const all = tree.flatMap((p) => {
    try {
      return [sampleProc(p)];
    } catch {
      return [];
    }
  });
  const sum = (k: keyof ProcSample) => Math.round(all.reduce((a, s) => a + s[k], 0) * 100) / 100;
  return { cpuS: sum('cpuS'), rssMB: sum('rssMB'), peakRssMB: sum('peakRssMB') };
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

/** The machine's CPU ticks so far, all and stolen by the hypervisor (/proc/stat). */
export function machineTicks(): { total: number; steal: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  return { total: cpu.slice(0, 8).reduce((a, b) => a + b, 0), steal: cpu[7] ?? 0 };
}

/** Share of CPU time the hypervisor gave to other guests between two readings: on a shared VM, how far to trust a run. */
export const stealShare = (a: ReturnType<typeof machineTicks>, b: ReturnType<typeof machineTicks>) =>
  Math.round(((b.steal - a.steal) / Math.max(1, b.total - a.total)) * 1000) / 1000;
