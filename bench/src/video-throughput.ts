import { performance } from 'node:perf_hooks';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '@spotter/config';
import { TrackerOptions, type VideoOptions } from '@spotter/shared';
import { decodeFrames, planSegments, probeVideo, trackSegment } from '@spotter/video';
import { fitGeometry } from '@spotter/vision';
import { root } from '../../scripts/lib.mjs';
import { loadDefaultDetector } from './limit.js';
import { startStack } from './stack.js';

export const CLIPS_DIR = path.resolve(root, '..', 'shared', 'datasets', 'videos');
export const CLIPS = ['supervision_walking.mp4', 'degirum_Traffic.mp4', 'bgslibrary_video03.avi', 'intel-car-detection.mp4'];
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d;

/**
 * Video throughput on the shared clips at `fps` samples a second: decoding alone, decoding
 * plus the model and the tracker in one process (the limit), and the clip through the real
 * API and 1, then 2, workers (wall time from the POST to the final status: the realtime factor).
 */
export async function measureVideo(config: Config, redisUrl: string, fps: number, clips: readonly string[] = CLIPS, say: (m: string) => void = () => undefined) {
  const tools = config.videos.ffmpeg;
  const detector = await loadDefaultDetector({ ...config, model: { ...config.model, sessions: 1 } });
  const options: VideoOptions = { fps, min_score: 0.1, classes: null, tracker: TrackerOptions.parse({}), lines: [], zones: [], anchor: 'bottom_center', segment_s: 3600 };
  const limits = { maxPixels: config.videos.maxPixels, maxDurationS: config.videos.maxDurationS, timeoutMs: 60_000 };
  const rows = [];
  for (const name of clips) {
    const file = path.join(CLIPS_DIR, name);
    const probe = await probeVideo(tools, file, 0, limits);
    const fit = fitGeometry(probe.info.width, probe.info.height, detector.fit);
    let t0 = performance.now();
    let decoded = 0;
    for await (const _ of decodeFrames(tools, { file, probe, startS: 0, untilS: Number.MAX_SAFE_INTEGER, fps, width: fit.fitWidth, height: fit.fitHeight, maxPixels: limits.maxPixels, maxFrames: 1e6, stallMs: 60_000 })) decoded++;
    const decodeS = (performance.now() - t0) / 1000;
    t0 = performance.now();
    const [plan] = planSegments([0], probe.info.duration_s, 3600, 1);
    const run = await trackSegment(tools, { fit: detector.fit, detect: async (img, s) => (await detector.detect(img, s)).detections }, { file, probe, plan: plan!, options, maxPixels: limits.maxPixels, stallMs: 60_000 });
    const limitS = (performance.now() - t0) / 1000;
    const stack: Record<string, { wall_s: number; realtime_factor: number; segments: number }> = {};
    for (const workers of [1, 2]) {
      const s = await startStack(redisUrl, workers);
      try {
        const form = new FormData();
        form.append('video', new Blob([await readFile(file)]), name);
        form.append('fps', String(fps));
        // Segments of 5 s, so that two workers have pieces to share.
        form.append('segment_s', '5');
        const t = performance.now();
        const created = (await (await fetch(`${s.url}/v1/videos`, { method: 'POST', body: form })).json()) as { id: string };
        let v: { status: string; progress: { segments_total: number } };
        do {
          await new Promise((r) => setTimeout(r, 200));
          v = (await (await fetch(`${s.url}/v1/videos/${created.id}`)).json()) as typeof v;
        } while (v.status === 'queued' || v.status === 'running');
        const wall = (performance.now() - t) / 1000;
        if (v.status !== 'succeeded') throw new Error(`${name}: video ${v.status}`);
        stack[`workers_${workers}`] = { wall_s: round(wall), realtime_factor: round(probe.info.duration_s / wall), segments: v.progress.segments_total };
      } finally {
        await s.stop();
      }
    }
    const row = {
      clip: name,
      size: `${probe.info.width}x${probe.info.height}`,
      clip_s: probe.info.duration_s,
      frames_sampled: run.frames.length,
      decode_fps: round(decoded / decodeS, 1),
      limit_fps: round(run.frames.length / limitS, 1),
      limit_realtime_factor: round(probe.info.duration_s / limitS),
      workers_1: stack.workers_1!,
      workers_2: stack.workers_2!,
    };
    say(`video: ${JSON.stringify(row)}`);
    rows.push(row);
  }
  await detector.close();
  return rows;
}

/** The table of `measureVideo`'s rows. */
export function videoMarkdown(rows: Awaited<ReturnType<typeof measureVideo>>): string[] {
  const head = ['clip', 'size', 'clip s', 'frames', 'decode fps', 'decode+model fps (1 process)', 'realtime x (1 process)', 'stack, 1 worker: wall s / x', 'stack, 2 workers: wall s / x (segments)'];
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.clip} | ${r.size} | ${r.clip_s} | ${r.frames_sampled} | ${r.decode_fps} | ${r.limit_fps} | ${r.limit_realtime_factor} | ${r.workers_1.wall_s} / ${r.workers_1.realtime_factor} | ${r.workers_2.wall_s} / ${r.workers_2.realtime_factor} (${r.workers_2.segments}) |`),
  ];
}
