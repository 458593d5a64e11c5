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
 *   --video          only video: the shared clips decoded, run through the model and tracker in
 *                    one process, and through the stack with 1 and 2 workers (the realtime
 *                    factor), written to bench/results/video.{json,md}; --video-fps (15),
 *                    --video-clips (comma-separated names; all four by default)
 *   --quick          skip the slow comparisons (layouts, scaling, tracing, realtime under batch)
 *   --versus         only Spotter against FastAPI + onnxruntime and the seed's FastAPI + OpenCV
 *                    DNN side by side (dataset and phone photos, 16 clients, POST then wait and
 *                    /v1/predict, CPU ms by stage),
 *                    written to bench/results/versus.{json,md}; the full run includes it
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@spotter/config';
import { PRODUCTION_NODE_OPTIONS, root, startRedis } from '../../scripts/lib.mjs';
import { measureStageCpu } from './cpu-stages.js';
import { latencyBreakdown } from './latency-breakdown.js';
import { measureLayouts } from './layout.js';
import { measureLimit } from './limit.js';
import { makePhonePhotos, measureDecode } from './phone-photos.js';
import { closedLoop, ingest, openLoop, sampledOver, type WindowEdge } from './load.js';
import { machineTicks, sampleProc, stealShare, type ProcSample } from './proc-stats.js';
import { footprintReport, measureFootprints, type Variant } from './footprint.js';
import { compare, table } from './report.js';
import { startStack } from './stack.js';
import { versus, versusMarkdown } from './versus.js';

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
    quick: { type: 'boolean', default: false },
    versus: { type: 'boolean', default: false },
    video: { type: 'boolean', default: false },
    'video-fps': { type: 'string', default: '15' },
    'video-clips': { type: 'string' },
  },
});
const seconds = Number(args.seconds);
const ticksAtStart = machineTicks();
const cores = os.cpus().length;
const config = loadConfig({ SPOTTER_MODEL_DIR: path.join(root, 'models') });
const say = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

if (args.video) {
  const { measureVideo, videoMarkdown } = await import('./video-throughput.js');
  const redisDir = path.join(os.tmpdir(), `spotter-bench-redis-${process.pid}`);
  const redis = await startRedis(redisDir);
  try {
    const rows = await measureVideo(config, redis.url, Number(args['video-fps']), args['video-clips']?.split(','), say);
    const machine = { cores, cpu: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString(), loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10) };
    const out = path.join(root, 'bench', 'results', 'video.json');
    await writeFile(out, JSON.stringify({ machine, fps: Number(args['video-fps']), rows }, null, 2) + '\n');
    const md = [`Video at ${args['video-fps']} samples/s on ${cores} cores (${machine.cpu}), load ${machine.loadavg.join(' ')}`, '', ...videoMarkdown(rows)].join('\n');
    await writeFile(out.replace(/\.json$/, '.md'), md + '\n');
    console.log(md);
  } finally {
    await redis.stop();
    await rm(redisDir, { recursive: true, force: true });
  }
  process.exit(0);
}

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
// The load generator runs in this process: its CPU is shown too, since it shares the cores.
const samples = (pids: Record<string, number>) =>
  Object.fromEntries(Object.entries({ ...pids, redis: redis.child.pid!, client: process.pid }).map(([k, pid]) => [k, sampleProc(pid)])) as Record<string, ProcSample>;

// The ingest benchmark's upload: the image closest to 158 KB.
const sized = images.reduce((best, img) => (Math.abs(img.length - 158_000) < Math.abs(best.length - 158_000) ? img : best));

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

const machineLine = () =>
  `${cores} cores, ${os.cpus()[0]?.model}, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, CPU stolen by the hypervisor ${(stealShare(ticksAtStart, machineTicks()) * 100).toFixed(1)} %`;

if (args.versus) {
  say('phone photos: making 12 MP JPEGs from the dataset');
  const phones = await makePhonePhotos(images, 16);
  const sets = [{ name: 'dataset', images }, { name: '12 MP phone photos', images: phones }];
  const v = await versus({ config, redis: { url: redis.url, pid: redis.child.pid! }, sets, seconds, clients: 16, say });
  await redis.stop();
  const out = path.join(root, 'bench', 'results', 'versus');
  const machine = { cores, cpu: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString(), loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10), steal: stealShare(ticksAtStart, machineTicks()) };
  await writeFile(`${out}.json`, JSON.stringify({ machine, seconds, ...v }, null, 2) + '\n');
  const md = [`## Spotter against FastAPI + onnxruntime and the seed's FastAPI + OpenCV DNN (${machineLine()}; ${seconds} s per run)`, '', ...versusMarkdown(v)].join('\n');
  await writeFile(`${out}.md`, md + '\n');
  console.log(md);
  process.exit(0);
}

const underLoad = <T>(pids: Record<string, number>, run: (onWindow: WindowEdge) => Promise<T>) => sampledOver(() => samples(pids), run);

/** CPU milliseconds each process spent per completed image over a saturated run, and the ceiling they imply. */
function cpuPerImage(run: { throughput_per_s: number; processes: Record<string, { cpu_cores: number }> }) {
  const per = Object.fromEntries(Object.entries(run.processes).map(([k, v]) => [k, Math.round((v.cpu_cores * 1000 * 100) / Math.max(0.1, run.throughput_per_s)) / 100]));
  const server = Object.entries(per).filter(([k]) => k !== 'client').reduce((a, [, v]) => a + v, 0);
  return { ms_per_image: per, server_ms_per_image: Math.round(server * 100) / 100, ceiling_per_s: Math.round((cores * 1000 * 10) / server) / 10 };
}

// 1. The limit: in-process decode + inference, single stream and at the worker's concurrency.
say('limit: in-process loop');
const limitCount = Math.max(64, Math.round(images.length * 1.5));
const limit = {
  single: await measureLimit(config, images, 1, limitCount),
  concurrent: await measureLimit(config, images, config.worker.concurrency, limitCount),
};

// Which worker layout (sessions x intra-op threads x jobs in flight) the machine runs best.
const layouts = args.quick ? null : await measureLayouts(images, cores, limitCount, say);
say('stage CPU: one image at a time, in process');
const stageCpu = await measureStageCpu(config, images, Math.min(128, limitCount));

// 2. End to end through the API, Redis, storage and one worker process.
const levels = args.levels.split(',').map(Number);
const e2e = [];
let stack = await startStack(redis.url, 1);
for (const c of levels) {
  say(`end to end: closed loop, concurrency ${c}`);
  e2e.push(await underLoad(stack.pids, (w) => closedLoop(stack.url, images, c, seconds, '/v1/predict', {}, w)));
}
const saturated = Math.max(...e2e.map((r) => r.throughput_per_s));
const atC16 = e2e.find((r) => r.concurrency === 16) ?? e2e.at(-1)!;
say('latency at one client: where the milliseconds go');
const breakdown = await latencyBreakdown(stack.url, images, Math.max(50, seconds * 10));
const rate = Math.max(1, Math.round(saturated * 0.7));
say(`end to end: open loop at ${rate}/s (70% of saturation)`);
const open = await underLoad(stack.pids, () => openLoop(stack.url, images, rate, seconds));
await stack.stop();

// 3. Scaling with worker processes (the cores shared between them).
const scaling = [{ workers: 1, throughput_per_s: saturated }];
for (let w = 2; w <= (args.quick ? 1 : cores); w++) {
  say(`scaling: ${w} worker processes`);
  stack = await startStack(redis.url, w, { SPOTTER_INFERENCE_SESSIONS: String(Math.max(1, Math.floor(cores / w))), SPOTTER_INTRA_OP_THREADS: '1' });
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
let tracing = null;
if (!args.quick) {
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
  tracing = { on_per_s: traced.throughput_per_s, off_per_s: untraced.throughput_per_s, change: Math.round(((traced.throughput_per_s - untraced.throughput_per_s) / untraced.throughput_per_s) * 1000) / 1000 };
}

// 6. The synchronous FastAPI + OpenCV DNN endpoint people start from, same model, same cores.
say('baseline: FastAPI + OpenCV DNN (synchronous), closed loop c=16 and the same open-loop rate');
const { ensureOnnxBaselineVenv, startBaseline } = await import('./baseline.js');
// The venv carries the seed baseline's packages too (its problem, if any, is said again in the versus part).
ensureOnnxBaselineVenv(say);
const baseline = await startBaseline('opencv-dnn', path.join(root, 'models', 'yolox_nano.onnx'));
const baselinePids = { fastapi: baseline.pid };
const baselineClosed = await underLoad(baselinePids, (w) => closedLoop(baseline.url, images, 16, seconds, '/predict', {}, w));
const baselineOpen = await underLoad(baselinePids, () => openLoop(baseline.url, images, rate, seconds, '/predict'));

// 7. Phone-size photos: 12 MP JPEGs, through both.
say('phone photos: making 12 MP JPEGs from the dataset');
const phones = await makePhonePhotos(images, 16);
const phoneDecode = await measureDecode(phones.slice(0, 12), 416, config.images.maxPixels);
const phoneStages = await measureStageCpu(config, phones, phones.length);
say('phone photos: baseline, closed loop c=16');
const phoneBaseline = await underLoad(baselinePids, (w) => closedLoop(baseline.url, phones, 16, seconds, '/predict', {}, w));
await baseline.stop();
say('phone photos: Spotter, closed loop c=16 and ingest');
stack = await startStack(redis.url, 1);
const phoneE2e = await underLoad(stack.pids, (w) => closedLoop(stack.url, phones, 16, seconds, '/v1/predict', {}, w));
await stack.stop();
stack = await startStack(redis.url, 0);
const phoneIngest = await underLoad(stack.pids, () => ingest(stack.url, phones[0]!, 16, seconds));
await stack.stop();
const phone = {
  images: phones.length,
  mean_bytes: Math.round(phones.reduce((a, p) => a + p.length, 0) / phones.length),
  decode: phoneDecode,
  stage_cpu_ms: phoneStages,
  spotter_c16: { ...phoneE2e, cpu: cpuPerImage(phoneE2e) },
  ingest: phoneIngest,
  fastapi_opencv_c16: phoneBaseline,
  throughput_vs_fastapi_opencv: Math.round((phoneE2e.throughput_per_s / Math.max(0.1, phoneBaseline.throughput_per_s)) * 100) / 100,
};

// 8. Realtime requests while a large batch runs on the same worker.
let underBatch = null;
if (!args.quick) {
  say('realtime under batch: c=1 /v1/predict alone, then during a 2000-image batch');
  const { realtimeUnderBatch } = await import('./realtime-under-batch.js');
  underBatch = await realtimeUnderBatch(redis.url, images, seconds);
}

// 9. Side by side with the server a Python engineer would write (FastAPI + onnxruntime).
say('versus: Spotter against FastAPI + onnxruntime');
const sideBySide = await versus({ config, redis: { url: redis.url, pid: redis.child.pid! }, sets: [{ name: 'dataset', images }, { name: '12 MP phone photos', images: phones }], seconds, clients: 16, say });

// 10. Optional soak: memory across many jobs.
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
const cpu = { saturated_c16: cpuPerImage(atC16), stages_ms: stageCpu };
const result = {
  machine: { cores, cpu: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString(), loadavg: os.loadavg().map((l) => Math.round(l * 10) / 10), steal: stealShare(ticksAtStart, machineTicks()) },
  config: { layout: { sessions: config.model.sessions, intra_op_threads: config.model.intraOpThreads, worker_concurrency: config.worker.concurrency }, seconds_per_level: seconds, images: images.length },
  limit,
  layouts,
  e2e,
  open_loop: open,
  cpu,
  latency_c1: breakdown,
  summary: {
    saturated_per_s: saturated,
    limit_per_s: limit.concurrent.images_per_s,
    ratio_to_limit: Math.round((saturated / limit.concurrent.images_per_s) * 1000) / 1000,
    added_latency_p50_ms_at_c1: c1 ? Math.round((c1.latency_ms.p50 - limit.single.ms.total!.p50) * 100) / 100 : null,
    throughput_vs_fastapi_opencv_c16: Math.round((atC16.throughput_per_s / Math.max(0.1, baselineClosed.throughput_per_s)) * 100) / 100,
    phone_throughput_vs_fastapi_opencv_c16: phone.throughput_vs_fastapi_opencv,
    ingest_uploads_per_s: ingestResult.uploads_per_s,
    p99_ms_at_same_open_load: { spotter: open.latency_ms.p99, fastapi_opencv: baselineOpen.latency_ms.p99 },
  },
  scaling,
  ingest: ingestResult,
  tracing,
  fastapi_opencv: { closed_c16: baselineClosed, open_loop: baselineOpen },
  phone,
  versus: sideBySide,
  realtime_under_batch: underBatch,
  soak,
};

await mkdir(path.dirname(args.out), { recursive: true });
await writeFile(args.out, JSON.stringify(result, null, 2) + '\n');

const ms = (s: { p50: number; p95: number; p99: number }) => `${s.p50} / ${s.p95} / ${s.p99}`;
const cores3 = (p: Record<string, { cpu_cores: number }>) => ['api', 'worker1', 'redis', 'client'].map((k) => p[k]?.cpu_cores ?? '-').join(' / ');
const lines = [
  `## Spotter benchmark (${cores} cores, ${result.machine.cpu}, Node ${process.version}, load average ${result.machine.loadavg.join(' ')}, CPU stolen by the hypervisor ${(result.machine.steal * 100).toFixed(1)} %)`,
  '',
  "### Side by side: Spotter, FastAPI + onnxruntime and the seed's FastAPI + OpenCV DNN (16 clients)",
  ...versusMarkdown(sideBySide),
  `Worker layout: ${config.model.sessions} inference session(s) x ${config.model.intraOpThreads} intra-op thread(s), ${config.worker.concurrency} jobs in flight.`,
  '',
  '### Limit (in-process decode + inference)',
  table(
    ['streams', 'images/s', 'decode ms p50', 'inference ms p50', 'postprocess ms p50', 'total ms p50'],
    [limit.single, limit.concurrent].map((l) => [l.concurrency, l.images_per_s, l.ms.decode!.p50, l.ms.inference!.p50, l.ms.postprocess!.p50, l.ms.total!.p50]),
  ),
  ...(layouts
    ? [
        '',
        `### Worker layouts (in-process limit; default here: ${layouts.default.sessions} x ${layouts.default.intraOpThreads}, ${layouts.default.concurrency} in flight)`,
        table(
          ['sessions', 'intra-op threads', 'in flight', 'images/s', 'total ms p50', 'inference ms p50'],
          layouts.rows.map((r) => [r.sessions, r.intraOpThreads, r.concurrency, r.images_per_s, r.total_ms_p50, r.inference_ms_p50]),
        ),
      ]
    : []),
  '',
  '### End to end (POST /v1/predict, 1 worker process)',
  table(
    ['load', 'jobs/s', 'latency ms p50/p95/p99', 'queue ms p50/p95', 'inference ms p50', 'errors', 'CPU cores api/worker/redis/client', 'RSS MB api/worker'],
    [...e2e.map((r) => ({ label: `closed c=${r.concurrency}`, r })), { label: `open ${rate}/s`, r: open }].map(({ label, r }) => [
      label,
      r.throughput_per_s,
      ms(r.latency_ms),
      `${r.stage_ms.queue?.p50 ?? 0} / ${r.stage_ms.queue?.p95 ?? 0}`,
      r.stage_ms.inference?.p50 ?? 0,
      JSON.stringify(r.errors),
      cores3(r.processes),
      `${r.processes.api?.peak_rss_mb} / ${r.processes.worker1?.peak_rss_mb}`,
    ]),
  ),
  '',
  table(['summary', 'value'], Object.entries(result.summary).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)])),
  '',
  `### CPU per image (closed c=16: ${atC16.throughput_per_s} images/s; ceiling ${cpu.saturated_c16.ceiling_per_s}/s on ${cores} cores)`,
  table(['process', 'CPU ms per image'], [...Object.entries(cpu.saturated_c16.ms_per_image), ['server total', cpu.saturated_c16.server_ms_per_image]]),
  '',
  'Stages, one image at a time in one process (CPU ms per image):',
  table(['stage', 'COCO images', '12 MP phone photos'], Object.keys(stageCpu).map((k) => [k, stageCpu[k]!, phoneStages[k] ?? '-'])),
  '',
  '### Latency at one client, cut at the job\'s timestamps (ms)',
  table(['segment', 'mean', 'p50', 'p95'], Object.entries(breakdown).map(([k, v]) => [k, v.mean, v.p50, v.p95])),
  '',
  '### Scaling (closed loop c=16)',
  table(['worker processes', 'jobs/s'], scaling.map((s) => [s.workers, s.throughput_per_s])),
  '',
  '### Ingest (no worker)',
  table(
    ['image', 'clients', 'uploads/s', 'latency ms p50/p95/p99', 'API RSS MB (peak)', 'API CPU cores', 'errors'],
    [ingestResult, phoneIngest].map((r) => [`${r.image_kb} KB`, r.concurrency, r.uploads_per_s, ms(r.latency_ms), r.processes.api!.peak_rss_mb, r.processes.api!.cpu_cores, JSON.stringify(r.errors)]),
  ),
  '',
  ...(tracing ? [`Tracing: ${tracing.on_per_s} jobs/s on vs ${tracing.off_per_s} off (${(tracing.change * 100).toFixed(1)}%).`, ''] : []),
  '### Synchronous FastAPI + OpenCV DNN (same model, same machine)',
  table(
    ['load', 'requests/s', 'latency ms p50/p95/p99', 'errors', 'CPU cores', 'RSS MB'],
    [
      ['closed c=16', baselineClosed.throughput_per_s, ms(baselineClosed.latency_ms), JSON.stringify(baselineClosed.errors), baselineClosed.processes.fastapi!.cpu_cores, baselineClosed.processes.fastapi!.peak_rss_mb],
      [`open ${rate}/s`, baselineOpen.throughput_per_s, ms(baselineOpen.latency_ms), JSON.stringify(baselineOpen.errors), baselineOpen.processes.fastapi!.cpu_cores, baselineOpen.processes.fastapi!.peak_rss_mb],
    ],
  ),
  '',
  `### 12 MP phone photos (${phone.images} JPEGs, mean ${Math.round(phone.mean_bytes / 1024)} KB; every third EXIF-rotated)`,
  `Decode to 416 px: ${phoneDecode.shrink_on_load_ms.p50} ms p50 with shrink-on-load, ${phoneDecode.full_decode_then_resize_ms.p50} ms decoding the full 12 MP first.`,
  '',
  table(
    ['server, closed c=16', 'images/s', 'latency ms p50/p95/p99', 'errors', 'CPU cores api/worker/redis/client'],
    [
      ['Spotter', phoneE2e.throughput_per_s, ms(phoneE2e.latency_ms), JSON.stringify(phoneE2e.errors), cores3(phoneE2e.processes)],
      ['FastAPI + OpenCV', phoneBaseline.throughput_per_s, ms(phoneBaseline.latency_ms), JSON.stringify(phoneBaseline.errors), String(phoneBaseline.processes.fastapi!.cpu_cores)],
    ],
  ),
  ...(underBatch
    ? [
        '',
        `### Realtime under a ${underBatch.batch_images}-image batch (c=1 /v1/predict)`,
        table(
          ['', 'latency ms p50/p95/p99', 'batch images/s'],
          [
            ['idle', ms(underBatch.idle.latency_ms), '-'],
            ['during the batch', ms(underBatch.during_batch.latency_ms), underBatch.during_batch.batch_images_per_s],
          ],
        ),
      ]
    : []),
  ...(soak ? ['', '### Soak', table(['jobs', 'worker RSS MB', 'API RSS MB'], soak.rss.map((r) => [r.jobs, r.worker_rss_mb, r.api_rss_mb]))] : []),
  '',
  `JSON: ${path.relative(root, args.out)}`,
];
await writeFile(args.out.replace(/\.json$/, '.md'), lines.join('\n') + '\n');
console.log(lines.join('\n'));
if (args.compare) console.log(`\n### Compared with ${args.compare}\n\n${compare(JSON.parse(await readFile(args.compare, 'utf8')), result)}`);
