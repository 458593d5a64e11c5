import { mkdtemp, open, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VideoUnreadableError } from '@spotter/shared';
import { decodeFrames } from './decode-frames.js';
import { planSegments } from './plan-segments.js';
import { probeVideo } from './probe-video.js';
import { SNIFF_BYTES, sniffVideo } from './sniff-video.js';

// The shared clips (../shared/datasets/videos beside the repository); read there, never copied in.
const CLIPS = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../shared/datasets/videos');
const tools = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe', threads: 1 };
const limits = { maxPixels: 3840 * 2160, maxDurationS: 3600, timeoutMs: 60_000 };
const clip = (name: string) => path.join(CLIPS, name);

async function head(file: string) {
  const fd = await open(file);
  try {
    const b = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await fd.read(b, 0, SNIFF_BYTES, 0);
    return b.subarray(0, bytesRead);
  } finally {
    await fd.close();
  }
}

async function collect(it: AsyncIterable<{ pts: number; time: number; pixels: Buffer }>) {
  const out: { pts: number; time: number; sum: number }[] = [];
  for await (const f of it) out.push({ pts: f.pts, time: f.time, sum: f.pixels.reduce((a, b) => a + b, 0) });
  return out;
}

describe('probing the shared clips', () => {
  // Figures from the clips' README (header and decoded frame counts, sizes, rates).
  it.each([
    ['supervision_walking.mp4', 'mp4', 'h264', 1280, 720, 25, 341],
    ['degirum_Traffic.mp4', 'mp4', 'h264', 960, 540, 29.97, 335],
    ['bgslibrary_video03.avi', 'avi', 'mpeg4', 320, 240, 60, 1702],
    ['intel-car-detection.mp4', 'mp4', 'h264', 768, 432, 12.5, 377],
  ] as const)('%s', async (name, container, codec, width, height, fps, frames) => {
    expect(sniffVideo(await head(clip(name)))).toBe(container);
    const p = await probeVideo(tools, clip(name), 1, limits);
    expect(p.info).toMatchObject({ codec, width, height, frames });
    expect(p.info.fps).toBeCloseTo(fps, 1);
    expect(p.info.duration_s).toBeCloseTo(frames / fps, 0);
    expect(p.keyframes[0]).toBe(0);
  });
});

describe('segments', () => {
  it('start on keyframes and answer for every time exactly once', () => {
    const keyframes = [0, 2.5, 5, 7.5, 10, 12.5];
    const plans = planSegments(keyframes, 14, 4, 1);
    expect(plans.map((p) => p.start_s)).toEqual([0, 5, 10]);
    for (let t = 0; t < 14; t += 0.01) expect(plans.filter((p) => p.from_s <= t && t < p.until_s)).toHaveLength(1);
    // Each later segment decodes a second before it answers: the warm-up where tracks are joined.
    expect(plans.slice(1).every((p) => p.from_s - p.start_s === 1)).toBe(true);
    expect(planSegments(keyframes, 14, 100, 1)).toHaveLength(1);
  });
});

describe('decoding', () => {
  it('gives the same frames, times and pixels whether a stretch is decoded from the start or from a keyframe inside it', async () => {
    const file = clip('degirum_Traffic.mp4');
    const probe = await probeVideo(tools, file, 1, limits);
    const k = probe.keyframes.find((t) => t > 2)!;
    const base = { file, probe, fps: 10, width: 96, height: 54, maxPixels: limits.maxPixels, maxFrames: 1000, stallMs: 60_000 };
    const whole = await collect(decodeFrames(tools, { ...base, startS: 0, untilS: k + 1 }));
    const later = await collect(decodeFrames(tools, { ...base, startS: k, untilS: k + 1 }));
    // One frame per 1/10 s step of the grid from the clip start, none twice.
    expect(new Set(whole.map((f) => Math.floor(f.time * 10 + 1e-6))).size).toBe(whole.length);
    expect(Math.abs(whole.length - (k + 1) * 10)).toBeLessThanOrEqual(1);
    expect(later.length).toBeGreaterThanOrEqual(9);
    expect(whole.filter((f) => f.time >= k - 0.01)).toEqual(later);
  });

  it('stops a stream that gives more frames than allowed', async () => {
    const file = clip('intel-car-detection.mp4');
    const probe = await probeVideo(tools, file, 1, limits);
    const run = collect(decodeFrames(tools, { file, probe, fps: 0, width: 32, height: 18, maxPixels: limits.maxPixels, maxFrames: 5, stallMs: 60_000, startS: 0, untilS: 10 }));
    await expect(run).rejects.toMatchObject({ code: 'VIDEO_TOO_MANY_FRAMES' });
  });
});

describe('stopping', () => {
  it('ends when its signal aborts, with frames still waiting in the pipe (a cancelled segment)', async () => {
    const file = clip('supervision_walking.mp4');
    const probe = await probeVideo(tools, file, 1, limits);
    const controller = new AbortController();
    const frames = decodeFrames(tools, { file, probe, fps: 0, width: 1280, height: 720, maxPixels: limits.maxPixels, maxFrames: 1000, stallMs: 60_000, startS: 0, untilS: 100, signal: controller.signal })[Symbol.asyncIterator]();
    expect((await frames.next()).done).toBe(false);
    // ffmpeg runs ahead until two frames wait and the pipe is full; then the reader pauses it.
    await new Promise((r) => setTimeout(r, 500));
    controller.abort();
    const ended = await Promise.race([frames.next(), new Promise((r) => setTimeout(() => r('still waiting after 20 s'), 20_000))]);
    expect(ended).toEqual({ done: true, value: undefined });
  });
});

describe('bad clips', () => {
  it('refuses what is not a clip, a clip cut short, and frames over the pixel limit, each with its own error', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spotter-video-bad-'));
    expect(sniffVideo(Buffer.from('<html>not a video</html>'))).toBeNull();
    const bytes = await readFile(clip('degirum_Traffic.mp4'));
    // The MP4's index is at its end here (no faststart), so the first half has no moov atom.
    const cut = path.join(dir, 'cut.mp4');
    await writeFile(cut, bytes.subarray(0, bytes.length >> 1));
    await expect(probeVideo(tools, cut, 1, limits)).rejects.toBeInstanceOf(VideoUnreadableError);
    const junk = path.join(dir, 'junk.mp4');
    await writeFile(junk, Buffer.concat([bytes.subarray(0, 64), Buffer.alloc(4096, 7)]));
    // An MP4 header over junk: ffprobe finds no video stream in it.
    await expect(probeVideo(tools, junk, 1, limits)).rejects.toMatchObject({ code: 'UNSUPPORTED_VIDEO' });
    await expect(probeVideo(tools, clip('degirum_Traffic.mp4'), 1, { ...limits, maxPixels: 640 * 480 })).rejects.toMatchObject({ code: 'VIDEO_TOO_MANY_PIXELS' });
    await expect(probeVideo(tools, clip('intel-car-detection.mp4'), 1, { ...limits, maxDurationS: 10 })).rejects.toMatchObject({ code: 'VIDEO_TOO_LONG' });
    const text = path.join(dir, 'list.m3u8');
    await writeFile(text, `#EXTM3U\n#EXTINF:10,\nfile://${clip('degirum_Traffic.mp4')}\n`);
    // A playlist would make ffmpeg open another file: its demuxer is not on the whitelist, and no path reaches the message.
    const refused = await probeVideo(tools, text, 1, limits).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(VideoUnreadableError);
    expect((refused as Error).message).not.toContain(dir);
  });
});
