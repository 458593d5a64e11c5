import { UnsupportedVideoError, VideoTooLargeError, VideoUnreadableError, type VideoInfo } from '@spotter/shared';
import { INPUT_GUARDS, runTool, type FfmpegTools } from './tools.js';

export interface ProbeLimits {
  /** Pixels per frame (also passed to the decoder, so a stream cannot grow past it later). */
  maxPixels: number;
  maxDurationS: number;
  /** For each of the two ffprobe runs. */
  timeoutMs: number;
}

/** What decoding and planning need to know of a clip beyond `info`. */
export interface VideoProbe {
  info: VideoInfo;
  /** The video stream's time base, [numerator, denominator]. */
  timeBase: [number, number];
  /** The stream's first timestamp, in its time base: times are counted from it. */
  startPts: number;
  /** Seconds per frame at the nominal rate. */
  frameDurationS: number;
  /** Times of the keyframes, seconds from the clip start, ascending. */
  keyframes: number[];
}

const rational = (s: string | undefined): [number, number] | null => {
  const m = /^(\d+)\/(\d+)$/.exec(s ?? '');
  return m && Number(m[1]) > 0 && Number(m[2]) > 0 ? [Number(m[1]), Number(m[2])] : null;
};

interface ProbeJson {
  streams?: { codec_name?: string; width?: number; height?: number; r_frame_rate?: string; avg_frame_rate?: string; time_base?: string; start_pts?: number; nb_frames?: string; duration?: string }[];
  format?: { format_name?: string; duration?: string };
}

/**
 * Reads a clip's header and every packet of its video stream (demuxing only, no decoding) with
 * ffprobe, under the container whitelist and the pixel limit, and checks it against the
 * limits: a clip that is not a video, has no video stream, is cut short (fewer packets than its
 * header declares), is too long or too large is refused with the error a client can act on.
 */
export async function probeVideo(tools: FfmpegTools, file: string, bytes: number, limits: ProbeLimits): Promise<VideoProbe> {
  const guards = [...INPUT_GUARDS, '-max_pixels', String(limits.maxPixels)];
  const header = await runTool(
    tools.ffprobe,
    ['-v', 'error', '-hide_banner', ...guards, '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,r_frame_rate,avg_frame_rate,time_base,start_pts,nb_frames,duration:format=format_name,duration', '-of', 'json', file],
    { timeoutMs: limits.timeoutMs, maxStdout: 1 << 20 },
  );
  const why = header.stderr.lines(file);
  if (header.killed) throw new VideoUnreadableError(`reading the clip's header took longer than ${limits.timeoutMs / 1000} s`);
  if (/exceeds specified max pixel count/.test(why)) throw new VideoTooLargeError(`a frame is larger than ${limits.maxPixels} pixels (SPOTTER_VIDEO_MAX_PIXELS)`, 'VIDEO_TOO_MANY_PIXELS');
  if (/not on whitelist/.test(why)) throw new UnsupportedVideoError('the file is not in a video container Spotter reads (MP4/MOV, Matroska/WebM, AVI, MPEG-TS/PS, FLV, Ogg, ASF)');
  if (header.code !== 0) throw new VideoUnreadableError(`the clip cannot be read: ${why || `ffprobe exited with ${header.code}`}`);
  const parsed = JSON.parse(header.stdout || '{}') as ProbeJson;
  const stream = parsed.streams?.[0];
  if (!stream?.width || !stream.height) throw new UnsupportedVideoError('the file has no video stream');
  if (stream.width * stream.height > limits.maxPixels) throw new VideoTooLargeError(`frames of ${stream.width}x${stream.height} are more than ${limits.maxPixels} pixels (SPOTTER_VIDEO_MAX_PIXELS)`, 'VIDEO_TOO_MANY_PIXELS');
  const timeBase = rational(stream.time_base);
  if (!timeBase) throw new VideoUnreadableError('the video stream has no time base');
  const declared = Math.max(Number(stream.duration) || 0, Number(parsed.format?.duration) || 0);
  if (declared > limits.maxDurationS) throw new VideoTooLargeError(`the clip lasts ${Math.round(declared)} s, more than ${limits.maxDurationS} s (SPOTTER_VIDEO_MAX_DURATION_S)`, 'VIDEO_TOO_LONG');

  const packets = await runTool(tools.ffprobe, ['-v', 'error', '-hide_banner', ...guards, '-select_streams', 'v:0', '-show_entries', 'packet=pts,dts,flags', '-of', 'csv=p=0', file], {
    timeoutMs: limits.timeoutMs,
    // About 30 bytes a packet: room for the longest clip allowed at 240 frames per second.
    maxStdout: Math.max(1 << 20, limits.maxDurationS * 240 * 40),
  });
  if (packets.killed === 'timeout') throw new VideoUnreadableError(`reading the clip's packets took longer than ${limits.timeoutMs / 1000} s`);
  if (packets.killed === 'output') throw new VideoTooLargeError(`the clip has more frames than ${limits.maxDurationS} s at 240 frames per second`, 'VIDEO_TOO_LONG');
  const startPts = Number.isFinite(stream.start_pts) ? stream.start_pts! : 0;
  const [num, den] = timeBase;
  const seconds = (ts: number) => ((ts - startPts) * num) / den;
  const keyframes = new Set<number>();
  let count = 0;
  let last = 0;
  for (const line of packets.stdout.split('\n')) {
    const [pts, dts, flags] = line.split(',');
    if (flags === undefined) continue;
    const ts = Number(pts === 'N/A' ? dts : pts);
    if (!Number.isFinite(ts)) continue;
    count++;
    last = Math.max(last, seconds(ts));
    if (flags.includes('K')) keyframes.add(Math.max(0, seconds(ts)));
  }
  if (count === 0) throw new VideoUnreadableError(`no video frame can be read${packets.stderr.lines(file) ? `: ${packets.stderr.lines(file)}` : ''}`);
  const nominal = rational(stream.r_frame_rate) ?? rational(stream.avg_frame_rate);
  const fps = nominal ? nominal[0] / nominal[1] : count / Math.max(last, 1e-3);
  const frameDurationS = 1 / fps;
  const declaredFrames = Number(stream.nb_frames) || 0;
  if (declaredFrames > 0 && count < 0.9 * declaredFrames) throw new VideoUnreadableError(`the clip is cut short: its header declares ${declaredFrames} frames, ${count} can be read`);
  const duration = last + frameDurationS;
  if (duration > limits.maxDurationS) throw new VideoTooLargeError(`the clip lasts ${Math.round(duration)} s, more than ${limits.maxDurationS} s (SPOTTER_VIDEO_MAX_DURATION_S)`, 'VIDEO_TOO_LONG');
  keyframes.add(0);
  return {
    info: {
      container: (parsed.format?.format_name ?? 'unknown').split(',')[0]!,
      codec: stream.codec_name ?? 'unknown',
      width: stream.width,
      height: stream.height,
      fps: Math.round(fps * 1000) / 1000,
      duration_s: Math.round(duration * 1000) / 1000,
      frames: count,
      bytes,
    },
    timeBase,
    startPts,
    frameDurationS,
    keyframes: [...keyframes].sort((a, b) => a - b),
  };
}
