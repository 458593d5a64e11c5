import { once } from 'node:events';
import sharp from 'sharp';
import { VideoUnreadableError, type CountingLine, type VideoEventItem, type VideoFrameLine, type Zone } from '@spotter/shared';
import { decodeFrames } from './decode-frames.js';
import { overlaySvg } from './overlay.js';
import type { VideoProbe } from './probe-video.js';
import { annotatedEncoder, exited, start, Tail, type FfmpegTools } from './tools.js';

export interface RenderOptions {
  file: string;
  probe: VideoProbe;
  fps: number;
  frames: readonly VideoFrameLine[];
  events: readonly VideoEventItem[];
  lines: readonly CountingLine[];
  zones: readonly Zone[];
  out: string;
  maxPixels: number;
  /** The rendered frame fits in this box (pixels), keeping the aspect ratio. */
  maxWidth?: number;
  maxHeight?: number;
  stallMs: number;
}

/** An even size fitting `maxW` x `maxH` (H.264 in yuv420p needs even sides). */
export function renderSize(width: number, height: number, maxW: number, maxH: number) {
  const k = Math.min(1, maxW / width, maxH / height);
  const even = (v: number) => Math.max(2, Math.floor((v * k) / 2) * 2);
  return { width: even(width), height: even(height), scale: even(width) / width };
}

/**
 * The annotated MP4: the clip's sampled frames decoded again (the same grid, so each finds its
 * results by time), the boxes, ids, regions and counts drawn over each (an SVG composited by
 * sharp), encoded by a second ffmpeg at the sampling rate (libx264 when available).
 * Returns the codec and the number of frames written.
 */
export async function renderAnnotated(tools: FfmpegTools, o: RenderOptions): Promise<{ codec: string; frames: number }> {
  const size = renderSize(o.probe.info.width, o.probe.info.height, o.maxWidth ?? 1280, o.maxHeight ?? 720);
  const byTime = new Map(o.frames.map((f) => [f.time, f]));
  const rate = o.fps > 0 ? o.fps : 1 / o.probe.frameDurationS;
  const encoder = await annotatedEncoder(tools);
  const args = [
    ...['-hide_banner', '-nostdin', '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${size.width}x${size.height}`, '-r', rate.toFixed(6), '-i', 'pipe:0'],
    ...encoder.args,
    ...['-threads', String(tools.threads), '-movflags', '+faststart', '-y', '-f', 'mp4', o.out],
  ];
  const enc = start(tools.ffmpeg, args, true);
  const tail = new Tail();
  enc.stderr.setEncoding('utf8').on('data', (c: string) => tail.push(c));
  enc.stdout.resume();
  const done = exited(enc);
  const crossings: Record<string, { in: number; out: number }> = Object.fromEntries(o.lines.map((l) => [l.name, { in: 0, out: 0 }]));
  const lineEvents = o.events.filter((e) => e.type === 'line_crossing').sort((a, b) => a.time - b.time);
  let nextEvent = 0;
  let written = 0;
  const controller = new AbortController();
  const stdin = enc.stdin!;
  stdin.on('error', () => controller.abort());
  try {
    const decoded = decodeFrames(tools, {
      file: o.file,
      probe: o.probe,
      startS: 0,
      untilS: Number.MAX_SAFE_INTEGER,
      fps: o.fps,
      width: size.width,
      height: size.height,
      maxPixels: o.maxPixels,
      maxFrames: o.frames.length + 16,
      stallMs: o.stallMs,
      signal: controller.signal,
    });
    for await (const f of decoded) {
      const frame = byTime.get(f.time);
      for (; nextEvent < lineEvents.length && lineEvents[nextEvent]!.time <= f.time; nextEvent++) {
        const e = lineEvents[nextEvent]!;
        if (e.type === 'line_crossing') crossings[e.line]![e.direction]++;
      }
      const svg = overlaySvg(size.width, size.height, frame, { lines: o.lines, zones: o.zones, scale: size.scale }, crossings);
      const pixels = await sharp(f.pixels, { raw: { width: size.width, height: size.height, channels: 3 } })
        .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
        .removeAlpha()
        .raw()
        .toBuffer();
      if (!stdin.write(pixels)) await Promise.race([once(stdin, 'drain'), done]);
      written++;
    }
    stdin.end();
    const code = await done;
    if (code !== 0) throw new VideoUnreadableError(`encoding the annotated clip failed: ${tail.lines(o.out) || `ffmpeg exited with ${code}`}`, 'VIDEO_DECODE_FAILED');
    return { codec: encoder.codec, frames: written };
  } finally {
    if (enc.exitCode === null && enc.signalCode === null) enc.kill('SIGKILL');
    await done.catch(() => null);
  }
}
