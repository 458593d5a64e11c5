import { VideoTooLargeError, VideoUnreadableError } from '@spotter/shared';
import { exited, INPUT_GUARDS, start, Tail, type FfmpegTools } from './tools.js';
import type { VideoProbe } from './probe-video.js';

export interface DecodeOptions {
  file: string;
  probe: Pick<VideoProbe, 'timeBase' | 'startPts' | 'frameDurationS'>;
  /** Clip seconds: decode from the keyframe at `startS`, up to (not including) `untilS`. */
  startS: number;
  untilS: number;
  /** Frames per second to keep on a grid from the clip start (the first frame of each 1/fps step); 0 keeps every frame. */
  fps: number;
  /** Size of the frames handed out (the model's fitted input), RGB. */
  width: number;
  height: number;
  maxPixels: number;
  /** More frames than this fails the decode (a stream that does not end where its packets said). */
  maxFrames: number;
  /** ffmpeg giving no frame for this long, while one is waited for, fails the decode. */
  stallMs: number;
  /** Aborting stops ffmpeg; the iteration then ends quietly. */
  signal?: AbortSignal;
}

export interface DecodedFrame {
  /** Timestamp in the stream's time base: the same frame has the same pts whoever decodes it. */
  pts: number;
  /** Seconds from the clip start, computed from pts exactly the same way everywhere. */
  time: number;
  pixels: Buffer;
}

const num = (v: number) => v.toFixed(9);

/**
 * The ffmpeg filter that keeps the frames of the sampling grid in [startS, ...): a frame is kept
 * when it is the first of its 1/fps step. The step of a frame is taken from its own time and
 * its predecessor's (or, for the first frame decoded, one nominal frame earlier), never from
 * where decoding began, so any split of the clip keeps the same frames.
 */
export function selectExpression(o: Pick<DecodeOptions, 'probe' | 'startS' | 'fps'>): string {
  const [n, d] = o.probe.timeBase;
  const t0 = (o.probe.startPts * n) / d;
  const from = `gte(t,${num(t0 + o.startS - o.probe.frameDurationS / 2)})`;
  if (o.fps <= 0) return from;
  const step = (t: string) => `floor((${t}-${num(t0)})*${num(o.fps)}+1e-6)`;
  const before = `if(isnan(prev_t),t-${num(o.probe.frameDurationS)},prev_t)`;
  return `${from}*not(eq(${step('t')},${step(before)}))`;
}

/**
 * Decodes the sampled frames of [startS, untilS) of a clip with ffmpeg, scaled to
 * `width` x `height`, one at a time (ffmpeg waits while the consumer works: backpressure).
 * ffmpeg seeks to the keyframe at startS without trimming, the select filter keeps the
 * grid's frames, and showinfo tells each frame's pts on stderr; decoding stops at the first
 * frame past untilS. Timestamps are kept as the file has them (-copyts), so times agree
 * between segments. Errors are VideoUnreadableError (VIDEO_DECODE_FAILED, VIDEO_DECODE_TIMEOUT)
 * with ffmpeg's last words, the file's path replaced.
 */
export async function* decodeFrames(tools: FfmpegTools, o: DecodeOptions): AsyncGenerator<DecodedFrame> {
  const [n, d] = o.probe.timeBase;
  const seek = o.startS > 0 ? ['-noaccurate_seek', '-ss', num(o.startS + o.probe.frameDurationS / 2)] : [];
  const filter = `select='${selectExpression(o)}',scale=${o.width}:${o.height}:flags=bilinear,showinfo`;
  const args = [
    ...['-hide_banner', '-nostdin', '-v', 'info', '-threads', String(tools.threads), ...INPUT_GUARDS, '-max_pixels', String(o.maxPixels)],
    ...seek,
    ...['-copyts', '-i', o.file, '-map', '0:v:0', '-an', '-sn', '-dn', '-vf', filter, '-filter_threads', '1'],
    ...['-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
  ];
  const child = start(tools.ffmpeg, args);
  const frameBytes = o.width * o.height * 3;
  const tail = new Tail();
  const ptsQueue: number[] = [];
  const frames: Buffer[] = [];
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineBuffer = '';
  let wake: (() => void) | null = null;
  let ended = false;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    lineBuffer += chunk;
    const lines = lineBuffer.split('\n');
    lineBuffer = lines.pop()!;
    for (const line of lines) {
      const m = /Parsed_showinfo.* n: *\d+ +pts: *(-?\d+)/.exec(line);
      if (m) ptsQueue.push(Number(m[1]));
      else if (!/Parsed_showinfo/.test(line)) tail.push(`${line}\n`);
    }
    notify();
  });
  child.stdout.on('data', (chunk: Buffer) => {
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes >= frameBytes) {
      const all = Buffer.concat(pending);
      frames.push(all.subarray(0, frameBytes));
      pending = [all.subarray(frameBytes)];
      pendingBytes -= frameBytes;
    }
    // Two frames ahead at most: ffmpeg then blocks on the pipe.
    if (frames.length >= 2) child.stdout.pause();
    notify();
  });
  const exit = exited(child).then((code) => {
    ended = true;
    notify();
    return code;
  });
  const abort = () => child.kill('SIGKILL');
  o.signal?.addEventListener('abort', abort);
  let count = 0;
  try {
    for (;;) {
      if (o.signal?.aborted) return;
      if (frames.length && ptsQueue.length) {
        const pts = ptsQueue.shift()!;
        const pixels = frames.shift()!;
        if (frames.length < 2) child.stdout.resume();
        const time = ((pts - o.probe.startPts) * n) / d;
        if (time >= o.untilS) return;
        if (++count > o.maxFrames) throw new VideoTooLargeError(`the segment gives more than ${o.maxFrames} frames`, 'VIDEO_TOO_MANY_FRAMES');
        yield { pts, time, pixels };
        continue;
      }
      if (ended) break;
      let stalled = false;
      const timer = setTimeout(() => {
        stalled = true;
        child.kill('SIGKILL');
      }, o.stallMs);
      await new Promise<void>((r) => (wake = r));
      clearTimeout(timer);
      if (stalled) throw new VideoUnreadableError(`ffmpeg gave no frame for ${o.stallMs / 1000} s`, 'VIDEO_DECODE_TIMEOUT');
    }
    const code = await exit;
    if (o.signal?.aborted) return;
    if (code !== 0) throw new VideoUnreadableError(`the clip cannot be decoded: ${tail.lines(o.file) || `ffmpeg exited with ${code}`}`, 'VIDEO_DECODE_FAILED');
    if (frames.length !== ptsQueue.length || pendingBytes !== 0) throw new VideoUnreadableError('ffmpeg ended in the middle of a frame', 'VIDEO_DECODE_FAILED');
  } finally {
    o.signal?.removeEventListener('abort', abort);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    // The child's 'close' waits for its stdout to end, and a paused stdout with frames left in
    // it never does: what is left is read and dropped (an abort otherwise hung here).
    child.stdout.removeAllListeners('data');
    child.stdout.resume();
    await exit.catch(() => null);
  }
}
