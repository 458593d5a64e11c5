import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '@spotter/config';
import { nativeJpegAvailable } from '@spotter/imaging';
import { root } from '../../scripts/lib.mjs';
import { baselineStages, ensureOnnxBaselineVenv, startBaseline, type BaselineKind } from './baseline.js';
import { measureStageCpu } from './cpu-stages.js';
import { measureLimit } from './limit.js';
import { ASYNC, closedLoop, sampledOver, type WindowEdge } from './load.js';
import { sampleProc, sampleTree, type ProcSample } from './proc-stats.js';
import { table } from './report.js';
import { startStack } from './stack.js';

type Run = Awaited<ReturnType<typeof closedLoop>> & { processes: Record<string, { cpu_cores: number; peak_rss_mb: number }> };

export interface VersusOptions {
  config: Config;
  redis: { url: string; pid: number };
  sets: { name: string; images: readonly Buffer[] }[];
  seconds: number;
  clients: number;
  say: (msg: string) => void;
}

/** CPU ms each process spent per completed image over a run. */
function msPerImage(run: Run) {
  return Object.fromEntries(Object.entries(run.processes).map(([k, v]) => [k, Math.round((v.cpu_cores * 1000 * 100) / Math.max(0.1, run.throughput_per_s)) / 100]));
}

function measured(pids: Record<string, number>, trees: Set<string>, run: (onWindow: WindowEdge) => Promise<Awaited<ReturnType<typeof closedLoop>>>): Promise<Run> {
  const sample = () => Object.fromEntries(Object.entries({ ...pids, client: process.pid }).map(([k, pid]) => [k, trees.has(k) ? sampleTree(pid) : sampleProc(pid)])) as Record<string, ProcSample>;
  return sampledOver(sample, run);
}

const r1 = (v: number) => Math.round(v * 10) / 10;

type Baseline = { closed: Run; stages_cpu_ms: Record<string, number> } | null;

/** A baseline's stage CPU on the set's first 64 pictures, then its server at `clients` clients; null, said, when it cannot run. */
async function runBaseline(kind: BaselineKind, label: string, images: readonly Buffer[], workers: number, clients: number, seconds: number, say: (msg: string) => void): Promise<Baseline> {
  const model = path.join(root, 'models', 'yolox_nano.onnx');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-versus-'));
  try {
    const files = await Promise.all(images.slice(0, 64).map(async (b, i) => {
      const f = path.join(dir, `${i}.jpg`);
      await writeFile(f, b);
      return f;
    }));
    const stages = baselineStages(kind, model, files);
    say(`versus: ${label}, ${workers} worker process(es), ${clients} clients`);
    const server = await startBaseline(kind, model, workers);
    try {
      return { closed: await measured({ fastapi: server.pid }, new Set(['fastapi']), (w) => closedLoop(server.url, images, clients, seconds, '/predict', {}, w)), stages_cpu_ms: stages };
    } finally {
      await server.stop();
    }
  } catch (err) {
    say(`baseline: ${label} is left out: ${(err as Error).message}`);
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Spotter against the server a Python engineer would write instead (FastAPI + onnxruntime,
 * bench/baseline/fastapi_onnxruntime.py) and the seed's FastAPI + OpenCV DNN, in one run on
 * this machine: the in-process limit, Spotter at `clients` clients POST-then-wait and
 * `/v1/predict`, each baseline at the same load, on each image set; and the CPU ms per image
 * by stage of all three.
 */
export async function versus(opts: VersusOptions) {
  const { config, redis, sets, seconds, clients, say } = opts;
  const venvProblem = ensureOnnxBaselineVenv(say);
  if (venvProblem) say(`baseline: FastAPI + onnxruntime is left out: ${venvProblem}`);
  const results = [];
  for (const set of sets) {
    say(`versus (${set.name}): in-process limit`);
    const limit = await measureLimit(config, set.images, config.worker.concurrency, Math.max(64, set.images.length));
    say(`versus (${set.name}): stage CPU, one image at a time`);
    const spotterStages = await measureStageCpu(config, set.images, Math.min(64, set.images.length));
    const stack = await startStack(redis.url, 1);
    const pids = { ...stack.pids, redis: redis.pid };
    say(`versus (${set.name}): Spotter, ${clients} clients, POST then wait`);
    const spotterAsync = await measured(pids, new Set(), (w) => closedLoop(stack.url, set.images, clients, seconds, ASYNC, {}, w));
    say(`versus (${set.name}): Spotter, ${clients} clients, /v1/predict`);
    const spotterPredict = await measured(pids, new Set(), (w) => closedLoop(stack.url, set.images, clients, seconds, '/v1/predict', {}, w));
    await stack.stop();
    const onnx = venvProblem ? null : await runBaseline('onnxruntime', `FastAPI + onnxruntime (${set.name})`, set.images, os.cpus().length, clients, seconds, say);
    const dnn = await runBaseline('opencv-dnn', `FastAPI + OpenCV DNN, the seed's (${set.name})`, set.images, 1, clients, seconds, say);
    results.push({ set: set.name, limit, spotter: { async: spotterAsync, predict: spotterPredict, stages_cpu_ms: spotterStages }, fastapi_onnxruntime: onnx, fastapi_opencv_dnn: dnn });
  }
  return { clients, native_jpeg: nativeJpegAvailable, sets: results };
}

export type Versus = Awaited<ReturnType<typeof versus>>;

/** The side-by-side tables (markdown lines): throughput and ratios, then CPU ms per image by stage. */
export function versusMarkdown(v: Versus): string[] {
  const lines: string[] = [];
  const rate = (r: Run | null | undefined) => (r ? r.throughput_per_s : '-');
  lines.push(
    table(
      ['server', ...v.sets.flatMap((s) => [`${s.set}: images/s`, 'p99 ms'])],
      [
        ['in-process limit (decode + inference, no HTTP or queue)', ...v.sets.flatMap((s) => [s.limit.images_per_s, '-'])],
        ['Spotter, POST then wait', ...v.sets.flatMap((s) => [rate(s.spotter.async), s.spotter.async.latency_ms.p99])],
        ['Spotter, /v1/predict', ...v.sets.flatMap((s) => [rate(s.spotter.predict), s.spotter.predict.latency_ms.p99])],
        ['FastAPI + onnxruntime (a worker per core)', ...v.sets.flatMap((s) => [rate(s.fastapi_onnxruntime?.closed), s.fastapi_onnxruntime?.closed.latency_ms.p99 ?? '-'])],
        ["FastAPI + OpenCV DNN (the seed's, one process)", ...v.sets.flatMap((s) => [rate(s.fastapi_opencv_dnn?.closed), s.fastapi_opencv_dnn?.closed.latency_ms.p99 ?? '-'])],
      ],
    ),
    '',
  );
  const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}x` : '-');
  lines.push(
    table(
      ['ratio (target)', ...v.sets.map((s) => s.set)],
      [
        ['Spotter POST then wait / FastAPI + onnxruntime (>= 1.2)', ...v.sets.map((s) => ratio(s.spotter.async.throughput_per_s, s.fastapi_onnxruntime?.closed.throughput_per_s))],
        ['Spotter /v1/predict / FastAPI + onnxruntime (>= 1.2)', ...v.sets.map((s) => ratio(s.spotter.predict.throughput_per_s, s.fastapi_onnxruntime?.closed.throughput_per_s))],
        ["Spotter /v1/predict / the seed's FastAPI + OpenCV DNN", ...v.sets.map((s) => ratio(s.spotter.predict.throughput_per_s, s.fastapi_opencv_dnn?.closed.throughput_per_s))],
        ['in-process limit / FastAPI + onnxruntime (>= 1.3)', ...v.sets.map((s) => ratio(s.limit.images_per_s, s.fastapi_onnxruntime?.closed.throughput_per_s))],
        ['Spotter /v1/predict / in-process limit (>= 0.9)', ...v.sets.map((s) => ratio(s.spotter.predict.throughput_per_s, s.limit.images_per_s))],
      ],
    ),
    '',
  );
  for (const s of v.sets) {
    const sp = msPerImage(s.spotter.predict);
    const st = s.spotter.stages_cpu_ms;
    const sum = (prefix: string) => Object.entries(st).filter(([k]) => k.startsWith(prefix)).reduce((a, [, x]) => a + x, 0);
    const rows: (string | number)[][] = [
      ...Object.entries(st).map(([k, x]) => [`Spotter ${k}`, x]),
      ['Spotter API: the rest (HTTP, multipart, admission, enqueue, answer), from its process total', r1((sp.api ?? 0) - sum('api:'))],
      ['Spotter worker: the rest (BullMQ, Redis replies, record claim, webhook scheduling), from its process total', r1((sp.worker1 ?? 0) - sum('worker:'))],
      ['Spotter Redis (server process)', sp.redis ?? '-'],
      ['Spotter server total (API + worker + Redis, /proc)', r1((sp.api ?? 0) + (sp.worker1 ?? 0) + (sp.redis ?? 0))],
      ['load generator, Spotter run', sp.client ?? '-'],
    ];
    for (const [name, b] of [['FastAPI + onnxruntime', s.fastapi_onnxruntime], ['FastAPI + OpenCV DNN', s.fastapi_opencv_dnn]] as const) {
      if (!b) continue;
      const bp = msPerImage(b.closed);
      const stages = Object.values(b.stages_cpu_ms).reduce((a, x) => a + x, 0);
      rows.push(
        ...Object.entries(b.stages_cpu_ms).map(([k, x]) => [`${name}: ${k}`, x]),
        [`${name}: the rest (HTTP, multipart, FastAPI, threads), from its processes' total`, r1((bp.fastapi ?? 0) - stages)],
        [`${name} server total (/proc)`, bp.fastapi ?? '-'],
        [`load generator, ${name} run`, bp.client ?? '-'],
      );
    }
    lines.push(
      `CPU ms per image, ${s.set} (stages: one image at a time in one process; "the rest" and totals: /proc over the /v1/predict run at ${v.clients} clients):`,
      '',
      table(['stage', 'CPU ms'], rows),
      '',
      // The stage clock is the whole process's: garbage collection and libuv threads land in whichever stage runs.
      'A negative "rest" means the stages, timed alone, cost more than the same work inside the loaded run (GC and helper threads counted in the stage they coincide with, a busy machine); the /proc totals are the firmer figures.',
      '',
    );
  }
  return lines;
}
