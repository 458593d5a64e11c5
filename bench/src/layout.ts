import path from 'node:path';
import { inferenceLayout, loadConfig } from '@spotter/config';
import { root } from '../../scripts/lib.mjs';
import { measureLimit } from './limit.js';

export interface Layout {
  sessions: number;
  intraOpThreads: number;
  concurrency: number;
}

/** The layouts worth comparing on `cores` cores: 1..cores sessions, threads filling the cores, 1-3 images in flight per session. */
export function candidateLayouts(cores: number): Layout[] {
  const out: Layout[] = [];
  for (const sessions of [...new Set([1, 2, Math.min(cores, 4)])].filter((s) => s <= Math.max(2, cores))) {
    for (const threads of [...new Set([1, Math.max(1, Math.floor(cores / sessions))])]) {
      for (const perSession of [1, 2, 3]) out.push({ sessions, intraOpThreads: threads, concurrency: sessions * perSession });
    }
  }
  return out;
}

/**
 * The in-process limit (decode + inference, no queue) of each worker layout, and which one
 * the configuration picks by default on this machine.
 */
export async function measureLayouts(images: readonly Buffer[], cores: number, count: number, say: (m: string) => void) {
  const rows = [];
  for (const l of candidateLayouts(cores)) {
    say(`layout: ${l.sessions} session(s) x ${l.intraOpThreads} thread(s), ${l.concurrency} in flight`);
    const config = loadConfig({
      SPOTTER_MODEL_DIR: path.join(root, 'models'),
      SPOTTER_INFERENCE_SESSIONS: String(l.sessions),
      SPOTTER_INTRA_OP_THREADS: String(l.intraOpThreads),
    });
    const r = await measureLimit(config, images, l.concurrency, count);
    rows.push({ ...l, images_per_s: r.images_per_s, total_ms_p50: r.ms.total!.p50, inference_ms_p50: r.ms.inference!.p50 });
  }
  return { default: inferenceLayout(cores), rows };
}
