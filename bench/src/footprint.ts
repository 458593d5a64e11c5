import { setTimeout as sleep } from 'node:timers/promises';
import { closedLoop, ingest } from './load.js';
import { sampleProc } from './proc-stats.js';
import { table } from './report.js';
import { startStack, type Build } from './stack.js';
import { summarize } from './stats.js';

/** How the processes run: the build, and NODE_OPTIONS (the production images set PRODUCTION_NODE_OPTIONS). */
export interface Variant {
  label: string;
  build: Build;
  nodeOptions?: string;
}

/** Memory and start-up of the API and a worker run one way: every start and every round. */
export interface Footprint {
  variant: Variant;
  startup_ms: { api: number[]; worker: number[] };
  idle_rss_mb: { api: number[]; worker: number[] };
  /** The ingest benchmark: 32 clients uploading a ~150 KB JPEG, no worker running. */
  ingest: { uploads_per_s: number[]; api_peak_rss_mb: number[] };
  /** A closed loop of 16 clients on /v1/predict with one worker. */
  load: { jobs_per_s: number[]; worker_peak_rss_mb: number[]; api_peak_rss_mb: number[] };
}

const envOf = (v: Variant): Record<string, string> => (v.nodeOptions ? { NODE_OPTIONS: v.nodeOptions } : {});

/**
 * For each variant: start-up (spawn to the "listening"/"ready" line, one process at a time,
 * `starts` times), RSS once idle, worker and API peak RSS (VmHWM) under a closed loop of 16
 * clients, and API peak RSS under the ingest benchmark, `rounds` times. Variants are
 * interleaved within each round so that a change in a shared machine's load hits them alike.
 */
export async function measureFootprints(
  redisUrl: string,
  variants: readonly Variant[],
  images: readonly Buffer[],
  upload: Buffer,
  { seconds, starts, rounds }: { seconds: number; starts: number; rounds: number },
): Promise<Footprint[]> {
  const keys = ['startApi', 'startWorker', 'idleApi', 'idleWorker', 'uploads', 'ingestPeak', 'jobs', 'workerPeak', 'apiPeak'] as const;
  const m = variants.map(() => Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<(typeof keys)[number], number[]>);
  for (let i = 0; i < starts; i++) {
    for (const [n, v] of variants.entries()) {
      let stack = await startStack(redisUrl, 0, envOf(v), { build: v.build });
      m[n]!.startApi.push(stack.startupMs.api!);
      await stack.stop();
      stack = await startStack(redisUrl, 1, envOf(v), { build: v.build, api: false });
      m[n]!.startWorker.push(stack.startupMs.worker1!);
      await stack.stop();
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const [n, v] of variants.entries()) {
      // Idle: both running, nothing sent; a moment for start-up garbage to be collected.
      let stack = await startStack(redisUrl, 1, envOf(v), { build: v.build });
      await sleep(3000);
      m[n]!.idleApi.push(sampleProc(stack.pids.api!).rssMB);
      m[n]!.idleWorker.push(sampleProc(stack.pids.worker1!).rssMB);
      const load = await closedLoop(stack.url, images, 16, seconds);
      m[n]!.jobs.push(load.throughput_per_s);
      m[n]!.workerPeak.push(sampleProc(stack.pids.worker1!).peakRssMB);
      m[n]!.apiPeak.push(sampleProc(stack.pids.api!).peakRssMB);
      await stack.stop();

      stack = await startStack(redisUrl, 0, envOf(v), { build: v.build });
      const ingested = await ingest(stack.url, upload, 32, seconds);
      m[n]!.uploads.push(ingested.uploads_per_s);
      m[n]!.ingestPeak.push(sampleProc(stack.pids.api!).peakRssMB);
      await stack.stop();
    }
  }
  return variants.map((variant, n) => {
    const s = (k: (typeof keys)[number]) => m[n]![k];
    return {
      variant,
      startup_ms: { api: s('startApi'), worker: s('startWorker') },
      idle_rss_mb: { api: s('idleApi'), worker: s('idleWorker') },
      ingest: { uploads_per_s: s('uploads'), api_peak_rss_mb: s('ingestPeak') },
      load: { jobs_per_s: s('jobs'), worker_peak_rss_mb: s('workerPeak'), api_peak_rss_mb: s('apiPeak') },
    };
  });
}

/** The markdown table of the runs, with the targets (API RSS < 150 MB under ingest, worker peak < 250 MB). */
export function footprintReport(
  machine: { cores: number; cpu: string | undefined; node: string; loadavg: number[] },
  runs: readonly Footprint[],
  { seconds, rounds }: { seconds: number; rounds: number },
): string {
  const range = (values: number[]) => {
    const { p50, max } = summarize(values);
    return values.length > 1 ? `${p50} (${Math.min(...values)}–${max})` : String(p50);
  };
  const target = (values: number[], limit: number) => `${range(values)}${Math.max(...values) < limit ? '' : summarize(values).p50 < limit ? ' ⚠' : ' ✗'}`;
  return [
    `## Footprint: tsx against compiled (${machine.cores} cores, ${machine.cpu}, Node ${machine.node})`,
    '',
    'Median (min–max) over the runs; ✗ marks a median over the target, ⚠ a run over it.',
    '',
    table(
      ['run as', 'API start ms', 'worker start ms', 'API RSS idle MB', 'worker RSS idle MB', 'API peak RSS, ingest MB (< 150)', 'worker peak RSS, c=16 MB (< 250)', 'API peak RSS, c=16 MB', 'uploads/s', 'jobs/s'],
      runs.map((r) => [
        r.variant.label,
        range(r.startup_ms.api),
        range(r.startup_ms.worker),
        range(r.idle_rss_mb.api),
        range(r.idle_rss_mb.worker),
        target(r.ingest.api_peak_rss_mb, 150),
        target(r.load.worker_peak_rss_mb, 250),
        range(r.load.api_peak_rss_mb),
        range(r.ingest.uploads_per_s),
        range(r.load.jobs_per_s),
      ]),
    ),
    '',
    `Start-up: spawn to the "listening"/"ready" log line, ${runs[0]?.startup_ms.api.length ?? 0} starts each, one process at a time (the worker's includes loading and warming up the model; ` +
      `tsx's transpile cache is warm after the first). Loads: ${rounds} rounds of ${seconds} s, the variants interleaved. Peak RSS is VmHWM. ` +
      `Load average at the end (1, 5, 15 min): ${machine.loadavg.join(', ')}: the machine is shared, so the timings and rates vary with it.`,
  ].join('\n');
}
