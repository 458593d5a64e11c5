import { performance } from 'node:perf_hooks';
import { summarize } from './stats.js';

interface Answer {
  status: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  timings_ms: Record<'queue' | 'download' | 'decode' | 'inference' | 'postprocess', number> | null;
}

/** Wall-clock time in epoch milliseconds with sub-millisecond precision. */
const now = () => performance.timeOrigin + performance.now();

/**
 * Where one client's request spends its time: `n` sequential `/v1/predict` calls, cut at the
 * job's own timestamps (millisecond ISO times, same machine's clock: fine over a mean of many).
 *   intake      request sent -> job created (HTTP, multipart, sniff and probe, routing)
 *   admit+queue created -> a worker starts it (admission, storage put, enqueue, pickup)
 *   download, decode, inference, postprocess: the worker's stages
 *   record      stages done -> finished_at (the outcome written)
 *   answer      finished_at -> response received (completion event, waiter, JSON)
 */
export async function latencyBreakdown(url: string, images: readonly Buffer[], n: number) {
  const parts: Record<string, number[]> = {};
  const add = (k: string, v: number) => (parts[k] ??= []).push(v);
  for (let i = 0; i < n + 5; i++) {
    const form = new FormData();
    form.append('image', new Blob([images[i % images.length]!]), 'bench.jpg');
    const sent = now();
    const res = await fetch(`${url}/v1/predict`, { method: 'POST', body: form });
    const body = (await res.json()) as Answer;
    const received = now();
    if (i < 5 || res.status !== 200 || !body.timings_ms || !body.started_at || !body.finished_at) continue;
    const t = body.timings_ms;
    const created = Date.parse(body.created_at);
    const started = Date.parse(body.started_at);
    const finished = Date.parse(body.finished_at);
    const compute = t.download + t.decode + t.inference + t.postprocess;
    add('intake', created - sent);
    add('admit+queue', started - created);
    add('download', t.download);
    add('decode', t.decode);
    add('inference', t.inference);
    add('postprocess', t.postprocess);
    add('record', finished - started - compute);
    add('answer', received - finished);
    add('total', received - sent);
  }
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, summarize(v)]));
}
