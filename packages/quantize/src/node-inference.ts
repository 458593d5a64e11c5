import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';

export interface Timing {
  runs: number;
  /** On a shared machine the fastest runs are the ones nobody else slowed down. */
  min_ms: number;
  p10_ms: number;
  median_ms: number;
  mean_ms: number;
  p90_ms: number;
  /** CPU time per inference, all threads summed: unaffected by waiting for a busy machine's cores. */
  cpu_ms?: number;
}

/** Minimum, p10, median, mean and p90 of a list of durations. */
export function summarizeTimes(times: number[]): Timing {
  const s = [...times].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const r = (v: number) => Math.round(v * 100) / 100;
  return { runs: s.length, min_ms: r(s[0]!), p10_ms: r(at(0.1)), median_ms: r(at(0.5)), mean_ms: r(s.reduce((a, b) => a + b, 0) / s.length), p90_ms: r(at(0.9)) };
}

export interface NodeRunOptions {
  runs: number;
  warmup?: number;
  /** ONNX Runtime intra-op threads (0: its default, one per core). */
  threads?: number;
}

/** Rounds the runs are split into, models taking turns, so that load from other processes hits every model alike. */
export const ROUNDS = 10;

/**
 * Times `runs` inferences of each model in onnxruntime-node (the session the workers use:
 * CPU, all graph optimizations), the models interleaved in rounds.
 */
export async function timeInNode(models: { name: string; bytes: Uint8Array }[], input: Float32Array, opts: NodeRunOptions): Promise<Map<string, Timing>> {
  const sessions = await Promise.all(models.map((m) => ort.InferenceSession.create(m.bytes, sessionOptions(opts.threads))));
  try {
    const times = models.map(() => [] as number[]);
    const cpu = models.map(() => 0);
    for (const s of sessions) await runTimes(s, input, { runs: 0, warmup: opts.warmup });
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, s] of sessions.entries()) {
        const c0 = process.cpuUsage();
        times[i]!.push(...(await runTimes(s, input, { runs: Math.ceil(opts.runs / ROUNDS), warmup: 0 })));
        const c = process.cpuUsage(c0);
        cpu[i]! += (c.user + c.system) / 1000;
      }
    }
    return new Map(models.map((m, i) => [m.name, { ...summarizeTimes(times[i]!), cpu_ms: Math.round((cpu[i]! / times[i]!.length) * 100) / 100 }]));
  } finally {
    for (const s of sessions) await s.release();
  }
}

/**
 * Where the time goes: ONNX Runtime's own profiler (enableProfiling) over `runs`
 * inferences, kernel time summed by op type, in ms per inference.
 */
export async function profileInNode(model: Uint8Array, input: Float32Array, opts: NodeRunOptions): Promise<OpProfile[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-profile-'));
  try {
    const session = await ort.InferenceSession.create(model, { ...sessionOptions(opts.threads), enableProfiling: true, profileFilePrefix: path.join(dir, 'profile') });
    await runTimes(session, input, opts);
    session.endProfiling();
    await session.release();
    const file = (await readdir(dir)).find((f) => f.endsWith('.json'));
    if (!file) throw new Error('onnxruntime wrote no profile');
    return profileByOp(JSON.parse(await readFile(path.join(dir, file), 'utf8')), opts.runs + (opts.warmup ?? 3));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface OpProfile {
  op: string;
  nodes: number;
  ms: number;
}

/** ONNX Runtime profile events -> kernel time per op type, in ms per inference, largest first. */
export function profileByOp(events: { cat: string; name: string; dur: number; args?: { op_name?: string } }[], inferences: number): OpProfile[] {
  const byOp = new Map<string, { nodes: Set<string>; us: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const entry = byOp.get(e.args.op_name) ?? { nodes: new Set(), us: 0 };
    entry.nodes.add(e.name);
    entry.us += e.dur;
    byOp.set(e.args.op_name, entry);
  }
  return [...byOp]
    .map(([op, v]) => ({ op, nodes: v.nodes.size, ms: Math.round(v.us / inferences) / 1000 }))
    .sort((x, y) => y.ms - x.ms);
}

function sessionOptions(threads = 0): ort.InferenceSession.SessionOptions {
  return { executionProviders: ['cpu'], graphOptimizationLevel: 'all', ...(threads ? { intraOpNumThreads: threads } : {}) };
}

async function runTimes(session: ort.InferenceSession, input: Float32Array, opts: NodeRunOptions): Promise<number[]> {
  const size = Math.round(Math.sqrt(input.length / 3));
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', input, [1, 3, size, size]) };
  for (let i = 0; i < (opts.warmup ?? 3); i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  return times;
}
