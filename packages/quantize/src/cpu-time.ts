import { readdirSync, readFileSync } from 'node:fs';

// Linux's USER_HZ: /proc reports CPU times in these ticks (100 on every x86-64 and arm64 kernel config in use).
const TICKS_PER_SECOND = 100;

/** ppid, and user + system CPU seconds, from the text of /proc/<pid>/stat. */
export function parseProcStat(stat: string): { ppid: number; cpuSeconds: number } {
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(fields[1]), cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
}

/**
 * CPU seconds used so far by every descendant of `root` (not `root` itself): a headless
 * browser's processes, say. Unlike wall time it does not grow while other tenants of a shared
 * machine hold the cores.
 */
export function descendantsCpuSeconds(root: number): number {
  const procs = new Map<number, { ppid: number; cpuSeconds: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      procs.set(Number(entry), parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8')));
    } catch {
      // Exited meanwhile.
    }
  }
  const isDescendant = (pid: number): boolean => {
    for (let p = procs.get(pid)?.ppid; p !== undefined && p > 1; p = procs.get(p)?.ppid) if (p === root) return true;
    return false;
  };
  let total = 0;
  for (const [pid, p] of procs) if (isDescendant(pid)) total += p.cpuSeconds;
  return total;
}
