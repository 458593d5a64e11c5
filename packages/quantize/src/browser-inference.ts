import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { descendantsCpuSeconds } from './cpu-time.js';
import { profileByOp, ROUNDS, summarizeTimes, type OpProfile, type Timing } from './node-inference.js';

/** Debian's Chromium; never a downloaded browser build. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

// onnxruntime-web's dist/ (its ESM build, the .wasm binaries and their loaders), from node_modules.
const ORT_DIST = path.dirname(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'));

const TYPES: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.onnx': 'application/octet-stream', '.bin': 'application/octet-stream' };

// The page loads onnxruntime-web's WASM build and exposes one timing function.
const PAGE = `<!doctype html><meta charset="utf-8"><title>onnxruntime-web timing</title>
<script type="module">
import * as ort from '/ort/ort.wasm.min.mjs';
ort.env.wasm.wasmPaths = '/ort/';
// One session per model, warmed up; then Node runs blocks of them in turn (reading the
// browser's CPU time between blocks).
let sessions = [];
let feeds = [];
window.prepare = async (urls, warmup, threads) => {
  ort.env.wasm.numThreads = threads;
  const input = new Float32Array(await (await fetch('/input.bin')).arrayBuffer());
  const size = Math.round(Math.sqrt(input.length / 3));
  for (const url of urls) sessions.push(await ort.InferenceSession.create(url, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }));
  feeds = sessions.map((s) => ({ [s.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, size, size]) }));
  for (const [i, s] of sessions.entries()) for (let k = 0; k < warmup; k++) await s.run(feeds[i]);
  return crossOriginIsolated;
};
window.runBlock = async (i, runs) => {
  const times = [];
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    await sessions[i].run(feeds[i]);
    times.push(performance.now() - t0);
  }
  return times;
};
// ONNX Runtime's profiler: the WASM build prints its JSON events to the console.
window.profileModel = async (url, runs, warmup, threads) => {
  ort.env.wasm.numThreads = threads;
  const input = new Float32Array(await (await fetch('/input.bin')).arrayBuffer());
  const size = Math.round(Math.sqrt(input.length / 3));
  const session = await ort.InferenceSession.create(url, { executionProviders: ['wasm'], graphOptimizationLevel: 'all', enableProfiling: true });
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, size, size]) };
  for (let k = 0; k < warmup + runs; k++) await session.run(feeds);
  session.endProfiling();
  await session.release();
};
window.ready = true;
</script>`;

export interface BrowserRunOptions {
  runs: number;
  warmup?: number;
  /** WASM threads; more than 1 needs the cross-origin isolation this server sets up. */
  threads: number;
  executablePath?: string;
}

/** A page of the timing server in headless Chromium, for `use`; everything is closed after. */
async function withPage<T>(models: { bytes: Uint8Array }[], input: Float32Array, executablePath: string | undefined, use: (page: Page) => Promise<T>): Promise<T> {
  const files = new Map<string, Uint8Array>([['/input.bin', new Uint8Array(input.buffer, input.byteOffset, input.byteLength)]]);
  models.forEach((m, i) => files.set(`/models/${i}.onnx`, m.bytes));
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost').pathname;
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin', 'Cache-Control': 'no-store' };
    let body: Uint8Array | string | undefined = url === '/' ? PAGE : files.get(url);
    if (!body && url.startsWith('/ort/') && !url.includes('..')) body = await readFile(path.join(ORT_DIST, url.slice(5))).catch(() => undefined);
    if (body === undefined) {
      res.writeHead(404, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[url === '/' ? '.html' : path.extname(url)] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const browser = await chromium.launch({ executablePath: executablePath ?? DEFAULT_CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page.waitForFunction('window.ready === true');
      return await use(page);
    } finally {
      await browser.close();
    }
  } finally {
    server.close();
  }
}

/**
 * Times models in onnxruntime-web (WASM backend) inside real headless Chromium: a static
 * page served on 127.0.0.1, cross-origin isolated (COOP/COEP) so that SharedArrayBuffer,
 * and with it multi-threaded WASM, is available. The models take turns in rounds; besides
 * wall times, the CPU time of the browser's processes per inference (all threads summed).
 */
export async function timeInBrowser(models: { name: string; bytes: Uint8Array }[], input: Float32Array, opts: BrowserRunOptions): Promise<Map<string, Timing>> {
  return withPage(models, input, opts.executablePath, async (page) => {
    const urls = JSON.stringify(models.map((_, i) => `/models/${i}.onnx`));
    const isolated = (await page.evaluate(`prepare(${urls}, ${opts.warmup ?? 3}, ${opts.threads})`)) as boolean;
    if (opts.threads > 1 && !isolated) throw new Error('the page is not cross-origin isolated: WASM threads are unavailable');
    const times = models.map(() => [] as number[]);
    const cpu = models.map(() => 0);
    const perBlock = Math.ceil(opts.runs / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const i of models.keys()) {
        const c0 = descendantsCpuSeconds(process.pid);
        times[i]!.push(...((await page.evaluate(`runBlock(${i}, ${perBlock})`)) as number[]));
        cpu[i]! += descendantsCpuSeconds(process.pid) - c0;
      }
    }
    return new Map(models.map((m, i) => [m.name, { ...summarizeTimes(times[i]!), cpu_ms: Math.round((cpu[i]! * 1e5) / times[i]!.length) / 100 }]));
  });
}

/** Where the time goes in the browser: ONNX Runtime's profiler in onnxruntime-web, kernel ms per inference by op. */
export async function profileInBrowser(model: Uint8Array, input: Float32Array, opts: BrowserRunOptions): Promise<OpProfile[]> {
  return withPage([{ bytes: model }], input, opts.executablePath, async (page) => {
    const lines: string[] = [];
    page.on('console', (msg) => lines.push(msg.text()));
    const warmup = opts.warmup ?? 3;
    await page.evaluate(`profileModel('/models/0.onnx', ${opts.runs}, ${warmup}, ${opts.threads})`);
    const text = lines.join('\n');
    const start = text.indexOf('[');
    const end = text.lastIndexOf(']');
    if (start < 0 || end < start) throw new Error('onnxruntime-web printed no profile');
    return profileByOp(JSON.parse(text.slice(start, end + 1)), opts.runs + warmup);
  });
}
