/**
 * `npm run bench`: Spotter end to end against the model's in-process limit, on this
 * machine, in one run. Writes JSON and prints markdown tables.
 *   --images <dir>   images to use (default ../shared/datasets/coco-val128/images)
 *   --seconds <n>    length of each load level (default 10)
 *   --compare <json> print the differences with an earlier run
 *   --out <json>     where to write this run (default bench/results/latest.json)
 *   --soak <n>       also run n jobs and sample worker memory along the way
 *   --routing        only the routing ceiling of one Redis (no-op workers; see routing.ts),
 *                    written to bench/results/routing.{json,md}; --routing-processes (1,2,4),
 *                    --routing-concurrency (jobs per worker process, 16), --routing-producers (32)
 *   --footprint      only measure memory and start-up, tsx against compiled (bench/results/footprint.*);
 *                    --starts <n> start-ups (default 5) and --rounds <n> of each load (default 3)
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@spotter/config';
import { PRODUCTION_NODE_OPTIONS, root, startRedis } from '../../scripts/lib.mjs';
import { measureLimit } from './limit.js';
import { closedLoop, ingest, openLoop } from './load.js';
import { procUsage, sampleProc, type ProcSample } from './proc-stats.js';
import { footprintReport, measureFootprints, type Variant } from './footprint.js';
import { compare, table } from './report.js';
import { startStack } from './stack.js';

const { values: args } = parseArgs({
  options: {
    images: { type: 'string', default: path.resolve(root, '..', 'shared', 'datasets', 'coco-val128', 'images') },
    seconds: { type: 'string', default: '10' },
    compare: { type: 'string' },
    out: { type: 'string', default: path.join(root, 'bench', 'results', 'latest.json') },
    soak: { type: 'string' },
    levels: { type: 'string', default: '1,4,16,64' },
    routing: { type: 'boolean', default: false },
    'routing-processes': { type: 'string', default: '1,2,4' },
    'routing-concurrency': { type: 'string', default: '16' },
    'routing-producers': { type: 'string', default: '32' },
    footprint: { type: 'boolean', default: false },
    starts: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
  },
});
const seconds = Number(args.seconds);
const cores = os.cpus().length;
const config = loadConfig({ SPOTTER_MODEL_DIR: path.join(root, 'models') });
const say = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

if (args.routing) {
  const { measureRouting, realJobCost, routingMarkdown } = await import('./routing.js');
  const redisDir = path.join(os.tmpdir(), `spotter-bench-redis-${process.pid}`);
  const redis = await startRedis(redisDir);
  try {
    const opts = {
      seconds,
      processes: args['routing-processes'].split(',').map(Number),
      concurrency: Number(args['routing-concurrency']),
      producers: Number(args['routing-producers']),
      serialJobs: 200,
    };
    const routing = await measureRouting(redis.url, redis.child.pid!, opts, say);
    say('routing: real jobs for reference (API + 1 worker with the model)');
    const real = await realJobCost(redis.url, redis.child.pid!, await readFile(path.join(args.images, '000000000139.jpg')), 64);
    const machine = { cores, cpu: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString() };
    const result = { machine, options: opts, ...routing, real };
    const out = path.join(root, 'bench', 'results', 'routing.json');
    await writeFile(out, JSON.stringify(result, null, 2) + '\n');
    const md = routingMarkdown(result, machine).join('\n');
    await writeFile(out.replace(/\.json$/, '.md'), md + '\n');
    console.log(md);
  } finally {
    await redis.stop();
    await rm(redisDir, { recursive: true, force: true });
  }
  process.exit(0);
}

const files = (await readdir(args.images)).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).sort();
const images = await Promise.all(files.map((f) => readFile(path.join(args.images, f))));
say(`${images.length} images from ${args.images}; ${cores} cores; ${seconds} s per level`);

const redis = await startRedis(path.join(os.tmpdir(), `spotter-bench-redis-${process.pid}`));
const samples = (pids: Record<string, number>) =>
  Object.fromEntries(Object.entries({ ...pids, redis: redis.child.pid! }).map(([k, pid]) => [k, sampleProc(pid)])) as Record<string, ProcSample>;

// The ingest benchmark's upload: the image closest to 150 KB.
const sized = images.reduce((best, img) => (Math.abs(img.length - 150_000) < Math.abs(best.length - 150_000) ? img : best));

if (args.footprint) {
  const variants: Variant[] = [
    { label: 'tsx (npm start)', build: 'tsx' },
    { label: 'node dist/main.js', build: 'compiled' },
    { label: `node dist/main.js, NODE_OPTIONS=${PRODUCTION_NODE_OPTIONS} (images)`, build: 'compiled', nodeOptions: PRODUCTION_NODE_OPTIONS },
  ];
  say(`footprint: ${variants.map((v) => v.label).join('; ')}`);
  const opts = { seconds, starts: Number(args.starts), rounds: Number(args.rounds) };
  const runs = await measureFootprints(redis.url, variants, images, sized, opts);
  await redis.stop();
  // The machine may be shared: its load average says how far to trust the timings.
  const machine = { cores, cpu: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString(), loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10) };
  const out = path.join(root, 'bench', 'results', 'footprint');
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(`${out}.json`, JSON.stringify({ machine, ...opts, runs }, null, 2) + '\n');
  const md = footprintReport(machine, runs, opts);
  await writeFile(`${out}.md`, md + '\n');
  console.log(md);
  process.exit(0);
}

async function underLoad<T>(pids: Record<string, number>, run: () => Promise<T>) {
  const before = samples(pids);
  const t0 = Date.now();
  const result = await run();
  return { ...result, processes: procUsage(before, samples(pids), (Date.now() - t0) / 1000) };
}

// 1. The limit: in-process decode + inference, single stream and at the worker's concurrency.
say('limit: in-process loop');
const limitCount = Math.max(64, Math.round(images.length * 1.5));
const limit = {
  single: await measureLimit(config, images, 1, limitCount),
  concurrent: await measureLimit(config, images, config.worker.concurrency, limitCount),
};

// 2. End to end through the API, Redis, storage and one worker process.
const levels = args.levels.split(',').map(Number);
const e2e = [];
let stack = await startStack(redis.url, 1);
for (const c of levels) {
  say(`end to end: closed loop, concurrency ${c}`);
  e2e.push(await underLoad(stack.pids, () => closedLoop(stack.url, images, c, seconds)));
}
const saturated = Math.max(...e2e.map((r) => r.throughput_per_s));
const rate = Math.max(1, Math.round(saturated * 0.7));
say(`end to end: open loop at ${rate}/s (70% of saturation)`);
const open = await underLoad(stack.pids, () => openLoop(stack.url, images, rate, seconds));
await stack.stop();

// 3. Scaling with worker processes.
const scaling = [{ workers: 1, throughput_per_s: saturated }];
for (let w = 2; w <= cores; w++) {
  say(`scaling: ${w} worker processes`);
  stack = await startStack(redis.url, w, { SPOTTER_INTRA_OP_THREADS: String(Math.max(1, Math.floor(cores / w))) });
  const r = await closedLoop(stack.url, images, 16, seconds);
  scaling.push({ workers: w, throughput_per_s: r.throughput_per_s });
  await stack.stop();
}

// 4. Ingest only: no worker, the queue absorbs a burst of ~150 KB JPEGs.
say('ingest: uploads with no worker running');
stack = await startStack(redis.url, 0);
const ingestResult = await underLoad(stack.pids, () => ingest(stack.url, sized, 32, seconds));
await stack.stop();

// 5. Tracing on (exporting to a local sink) against off, same load.
say('tracing overhead: concurrency 16 with and without an OTLP endpoint');
const { startSink } = await import('./otlp-sink.js');
const sink = await startSink();
stack = await startStack(redis.url, 1, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
const traced = await closedLoop(stack.url, images, 16, seconds);
await stack.stop();
stack = await startStack(redis.url, 1);
const untraced = await closedLoop(stack.url, images, 16, seconds);
await stack.stop();
sink.close();

// 6. The synchronous FastAPI + OpenCV DNN endpoint people start from, same model, same cores.
say('baseline: FastAPI + OpenCV DNN (synchronous), closed loop c=16 and the same open-loop rate');
const { startBaseline } = await import('./baseline.js');
const baseline = await startBaseline(path.join(root, 'models', 'yolox_nano.onnx'));
const baselinePids = { fastapi: baseline.pid };
const baselineClosed = await underLoad(baselinePids, () => closedLoop(baseline.url, images, 16, seconds, '/predict'));
const baselineOpen = await underLoad(baselinePids, () => openLoop(baseline.url, images, rate, seconds, '/predict'));
await baseline.stop();

// 7. Optional soak: memory across many jobs.
let soak;
if (args.soak) {
  const total = Number(args.soak);
  say(`soak: ${total} jobs`);
  stack = await startStack(redis.url, 1);
  const rss: { jobs: number; worker_rss_mb: number; api_rss_mb: number }[] = [];
  let done = 0;
  let i = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (i < total) {
        i++;
        const form = new FormData();
        form.append('image', new Blob([images[i % images.length]!]), 'x.jpg');
        await (await fetch(`${stack.url}/v1/predict`, { method: 'POST', body: form })).arrayBuffer();
        if (++done % 1000 === 0) {
          const s = samples(stack.pids);
          rss.push({ jobs: done, worker_rss_mb: s.worker1!.rssMB, api_rss_mb: s.api!.rssMB });
          say(`soak: ${done} jobs, worker RSS ${s.worker1!.rssMB} MB`);
        }
      }
    }),
  );
  await stack.stop();
  soak = { jobs: total, rss };
}
await redis.stop();

const c1 = e2e.find((r) => r.concurrency === 1);
const result = {
  machine: { cores, cpu: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString() },
  config: { worker_concurrency: config.worker.concurrency, seconds_per_level: seconds, images: images.length },
  limit,
  e2e,
  open_loop: open,
  summary: {
    saturated_per_s: saturated,
    limit_per_s: limit.concurrent.images_per_s,
    ratio_to_limit: Math.round((saturated / limit.concurrent.images_per_s) * 1000) / 1000,
    added_latency_p50_ms_at_c1: c1 ? Math.round((c1.latency_ms.p50 - limit.single.ms.total!.p50) * 100) / 100 : null,
    tracing_throughput_change: Math.round(((traced.throughput_per_s - untraced.throughput_per_s) / untraced.throughput_per_s) * 1000) / 1000,
    throughput_vs_fastapi_opencv: Math.round((saturated / Math.max(0.1, baselineClosed.throughput_per_s)) * 100) / 100,
    p99_ms_at_same_open_load: { spotter: open.latency_ms.p99, fastapi_opencv: baselineOpen.latency_ms.p99 },
  },
  scaling,
  ingest: ingestResult,
  tracing: { on_per_s: traced.throughput_per_s, off_per_s: untraced.throughput_per_s },
  fastapi_opencv: { closed_c16: baselineClosed, open_loop: baselineOpen },
  soak,
};

await mkdir(path.dirname(args.out), { recursive: true });
await writeFile(args.out, JSON.stringify(result, null, 2) + '\n');

const ms = (s: { p50: number; p95: number; p99: number }) => `${s.p50} / ${s.p95} / ${s.p99}`;
const lines = [
  `## Spotter benchmark (${cores} cores, ${result.machine.cpu}, Node ${process.version})`,
  '',
  '### Limit (in-process decode + inference)',
  table(
    ['streams', 'images/s', 'decode ms p50', 'inference ms p50', 'postprocess ms p50', 'total ms p50'],
    [limit.single, limit.concurrent].map((l) => [l.concurrency, l.images_per_s, l.ms.decode!.p50, l.ms.inference!.p50, l.ms.postprocess!.p50, l.ms.total!.p50]),
  ),
  '',
  '### End to end (POST /v1/predict, 1 worker process)',
  table(
    ['load', 'jobs/s', 'latency ms p50/p95/p99', 'queue ms p50/p95', 'inference ms p50', 'errors', 'CPU cores api/worker/redis', 'RSS MB api/worker'],
    [...e2e.map((r) => ({ label: `closed c=${r.concurrency}`, r })), { label: `open ${rate}/s`, r: open }].map(({ label, r }) => [
      label,
      r.throughput_per_s,
      ms(r.latency_ms),
      `${r.stage_ms.queue?.p50 ?? 0} / ${r.stage_ms.queue?.p95 ?? 0}`,
      r.stage_ms.inference?.p50 ?? 0,
      JSON.stringify(r.errors),
      `${r.processes.api?.cpu_cores} / ${r.processes.worker1?.cpu_cores} / ${r.processes.redis?.cpu_cores}`,
      `${r.processes.api?.peak_rss_mb} / ${r.processes.worker1?.peak_rss_mb}`,
    ]),
  ),
  '',
  table(['summary', 'value'], Object.entries(result.summary).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])),
  '',
  '### Scaling (closed loop c=16)',
  table(['worker processes', 'jobs/s'], scaling.map((s) => [s.workers, s.throughput_per_s])),
  '',
  '### Ingest (no worker; ~150 KB JPEG)',
  table(
    ['uploads/s', 'latency ms p50/p95/p99', 'API RSS MB (peak)', 'API CPU cores', 'errors'],
    [[ingestResult.uploads_per_s, ms(ingestResult.latency_ms), ingestResult.processes.api!.peak_rss_mb, ingestResult.processes.api!.cpu_cores, JSON.stringify(ingestResult.errors)]],
  ),
  '',
  `Tracing: ${traced.throughput_per_s} jobs/s on vs ${untraced.throughput_per_s} off (${(result.summary.tracing_throughput_change * 100).toFixed(1)}%).`,
  '',
  '### Synchronous FastAPI + OpenCV DNN (same model, same machine)',
  table(
    ['load', 'requests/s', 'latency ms p50/p95/p99', 'errors', 'CPU cores', 'RSS MB'],
    [
      ['closed c=16', baselineClosed.throughput_per_s, ms(baselineClosed.latency_ms), JSON.stringify(baselineClosed.errors), baselineClosed.processes.fastapi!.cpu_cores, baselineClosed.processes.fastapi!.peak_rss_mb],
      [`open ${rate}/s`, baselineOpen.throughput_per_s, ms(baselineOpen.latency_ms), JSON.stringify(baselineOpen.errors), baselineOpen.processes.fastapi!.cpu_cores, baselineOpen.processes.fastapi!.peak_rss_mb],
    ],
  ),
  ...(soak ? ['', '### Soak', table(['jobs', 'worker RSS MB', 'API RSS MB'], soak.rss.map((r) => [r.jobs, r.worker_rss_mb, r.api_rss_mb]))] : []),
  '',
  `JSON: ${path.relative(root, args.out)}`,
];
console.log(lines.join('\n'));
if (args.compare) console.log(`\n### Compared with ${args.compare}\n\n${compare(JSON.parse(await readFile(args.compare, 'utf8')), result)}`);
