// One-off: tracing on vs off, interleaved, to see the overhead through the run-to-run noise.
import { readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { root, startRedis } from '../../scripts/lib.mjs';
import { closedLoop } from './load.js';
import { startSink } from './otlp-sink.js';
import { startStack } from './stack.js';

const dir = path.resolve(root, '..', 'shared', 'datasets', 'coco-val128', 'images');
const images = await Promise.all((await readdir(dir)).sort().map((f) => readFile(path.join(dir, f))));
const redis = await startRedis(path.join(os.tmpdir(), `spotter-ab-${process.pid}`));
const sink = await startSink();
const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 15);
const on: number[] = [];
const off: number[] = [];
for (let i = 0; i < rounds; i++) {
  for (const traced of i % 2 ? [false, true] : [true, false]) {
    const stack = await startStack(redis.url, 1, traced ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } : {});
    const r = await closedLoop(stack.url, images, 16, seconds);
    await stack.stop();
    (traced ? on : off).push(r.throughput_per_s);
    console.log(`round ${i + 1} tracing ${traced ? 'on ' : 'off'}: ${r.throughput_per_s} jobs/s`);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`mean on ${mean(on).toFixed(2)} vs off ${mean(off).toFixed(2)} jobs/s: ${((mean(on) / mean(off) - 1) * 100).toFixed(1)}%`);
sink.close();
await redis.stop();
