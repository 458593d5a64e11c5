import { performance } from 'node:perf_hooks';
import { procUsage, type ProcSample } from './proc-stats.js';
import { summarize } from './stats.js';

interface JobJson {
  status: string;
  timings_ms: Record<string, number> | null;
}

/**
 * The route of a closed or open loop: a synchronous one (`/v1/predict`, a baseline's
 * `/predict`), or ASYNC: `POST /v1/jobs`, then `GET /v1/jobs/{id}?wait=30` for the answer.
 */
export const ASYNC = 'async';

async function predict(url: string, image: Buffer, headers: Record<string, string>, route: string) {
  const form = new FormData();
  form.append('image', new Blob([image]), 'bench.jpg');
  const t0 = performance.now();
  let res = await fetch(`${url}${route === ASYNC ? '/v1/jobs' : route}`, { method: 'POST', body: form, headers });
  if (route === ASYNC && res.status === 202) {
    const { id } = (await res.json()) as { id: string };
    res = await fetch(`${url}/v1/jobs/${id}?wait=30`, { headers });
  }
  const body = (await res.json()) as JobJson;
  return { ms: performance.now() - t0, ok: res.status === 200 && body.status === 'succeeded', status: res.status, body };
}

function collect() {
  const latencies: number[] = [];
  const stages: Record<string, number[]> = {};
  const errors: Record<string, number> = {};
  return {
    add(r: Awaited<ReturnType<typeof predict>>) {
      if (!r.ok) {
        errors[r.status] = (errors[r.status] ?? 0) + 1;
        return;
      }
      latencies.push(r.ms);
      for (const [k, v] of Object.entries(r.body.timings_ms ?? {})) (stages[k] ??= []).push(v);
    },
    result(seconds: number) {
      return {
        completed: latencies.length,
        throughput_per_s: Math.round((latencies.length / seconds) * 10) / 10,
        latency_ms: summarize(latencies),
        stage_ms: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, summarize(v)])),
        errors,
      };
    },
  };
}

/** Called at the edges of a loop's measured window (after the warm-up, at the end), so that CPU is sampled over the same time as the answers are counted. */
export type WindowEdge = (edge: 'start' | 'end') => void;

/**
 * `concurrency` clients, each sending the next request when the previous one answers. Only
 * answers that arrive inside the measured window count (not the warm-up's, not those still
 * in flight when it closes, which a short run would otherwise add to its rate).
 */
export async function closedLoop(url: string, images: readonly Buffer[], concurrency: number, seconds: number, route = '/v1/predict', headers: Record<string, string> = {}, onWindow?: WindowEdge) {
  const c = collect();
  let i = 0;
  let opened = 0;
  let closed = 0;
  const start = setTimeout(() => {
    opened = performance.now();
    onWindow?.('start');
  }, 1000);
  const stop = setTimeout(() => {
    closed = performance.now();
    onWindow?.('end');
  }, 1000 + seconds * 1000);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!closed) {
        const r = await predict(url, images[i++ % images.length]!, headers, route);
        if (opened && !closed) c.add(r);
      }
    }),
  );
  clearTimeout(start);
  clearTimeout(stop);
  return { concurrency, ...c.result((closed - opened) / 1000) };
}

/** Runs a load with its process samples taken at the loop's window edges (or around the whole run when it reports none): CPU share and RSS of each process. */
export async function sampledOver<T>(sample: () => Record<string, ProcSample>, run: (onWindow: WindowEdge) => Promise<T>) {
  let before = sample();
  let t0 = performance.now();
  let after: Record<string, ProcSample> | null = null;
  let t1 = 0;
  const result = await run((edge) => {
    if (edge === 'start') {
      before = sample();
      t0 = performance.now();
    } else {
      after = sample();
      t1 = performance.now();
    }
  });
  if (!after) {
    after = sample();
    t1 = performance.now();
  }
  return { ...result, processes: procUsage(before, after, (t1 - t0) / 1000) };
}

/** Requests at a fixed arrival rate, whether or not earlier ones have answered. */
export async function openLoop(url: string, images: readonly Buffer[], ratePerS: number, seconds: number, route = '/v1/predict', headers: Record<string, string> = {}) {
  const c = collect();
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = Math.round(ratePerS * seconds);
  for (let n = 0; n < total; n++) {
    const due = start + (n * 1000) / ratePerS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(predict(url, images[n % images.length]!, headers, route).then((r) => c.add(r)));
  }
  await Promise.all(pending);
  return { rate_per_s: ratePerS, ...c.result((performance.now() - start) / 1000) };
}

/** Uploads only (no worker running): how fast the API accepts and enqueues. */
export async function ingest(url: string, image: Buffer, concurrency: number, seconds: number) {
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const form = new FormData();
        form.append('image', new Blob([image]), 'bench.jpg');
        const t0 = performance.now();
        const res = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form });
        await res.arrayBuffer();
        if (res.status === 202) latencies.push(performance.now() - t0);
        else errors[res.status] = (errors[res.status] ?? 0) + 1;
      }
    }),
  );
  return {
    concurrency,
    image_kb: Math.round(image.length / 1024),
    accepted: latencies.length,
    uploads_per_s: Math.round((latencies.length / seconds) * 10) / 10,
    latency_ms: summarize(latencies),
    errors,
  };
}
