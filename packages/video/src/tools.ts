import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** Where ffmpeg and ffprobe are, and how many threads a decode may use. */
export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
  threads: number;
}

/**
 * The demuxers Spotter lets ffmpeg open: the usual video containers. Playlists (hls, concat),
 * image sequences and the rest stay closed, so an upload cannot make ffmpeg read another file
 * or a URL; only the `file` and `pipe` protocols are allowed for the same reason.
 */
export const FORMAT_WHITELIST = 'mov,matroska,avi,mpegts,mpeg,flv,ogg,asf';
export const INPUT_GUARDS = ['-protocol_whitelist', 'file,pipe', '-format_whitelist', FORMAT_WHITELIST];

/** The last lines a tool wrote to stderr, kept within `max` characters however much it writes. */
export class Tail {
  private text = '';
  constructor(private readonly max = 16_384) {}
  push(chunk: string) {
    this.text = (this.text + chunk).slice(-this.max);
  }
  /** The last meaningful lines, the input's path replaced so that no path reaches a client. */
  lines(path: string, n = 3): string {
    const lines = this.text.split('\n').map((l) => l.replaceAll(path, 'input').replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/, '').trim()).filter(Boolean);
    return [...new Set(lines)].slice(-n).join('; ').slice(0, 400);
  }
}

export type Spawned = ChildProcessByStdio<Writable | null, Readable, Readable>;

/** Starts a tool with no shell, its stdout and stderr piped; `stdin` piped when asked. */
export function start(bin: string, args: string[], stdin = false): Spawned {
  return spawn(bin, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] }) as Spawned;
}

/** Resolves with the exit code (a kill gives null) once the process has exited. */
export function exited(child: Spawned): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
}

/**
 * Runs a tool to its end within `timeoutMs` (then kills it), collecting at most `maxStdout`
 * bytes of its output (more kills it as well). Rejects when it cannot be started.
 */
export async function runTool(bin: string, args: string[], opts: { timeoutMs: number; maxStdout: number }) {
  const child = start(bin, args);
  const out: Buffer[] = [];
  let size = 0;
  let why: 'timeout' | 'output' | null = null;
  const err = new Tail();
  child.stderr.setEncoding('utf8').on('data', (c: string) => err.push(c));
  child.stdout.on('data', (c: Buffer) => {
    size += c.length;
    if (size > opts.maxStdout) {
      why ??= 'output';
      child.kill('SIGKILL');
    } else out.push(c);
  });
  const timer = setTimeout(() => {
    why ??= 'timeout';
    child.kill('SIGKILL');
  }, opts.timeoutMs);
  try {
    const code = await exited(child);
    return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: err, killed: why };
  } finally {
    clearTimeout(timer);
  }
}

let encoders: Promise<string> | null = null;

/** The H.264 encoder to use: libx264 when this ffmpeg has it, else MPEG-4 Part 2 (playable, larger). */
export async function annotatedEncoder(tools: FfmpegTools): Promise<{ codec: string; args: string[] }> {
  encoders ??= runTool(tools.ffmpeg, ['-hide_banner', '-encoders'], { timeoutMs: 10_000, maxStdout: 1 << 20 }).then((r) => r.stdout, () => '');
  return /\blibx264\b/.test(await encoders)
    ? { codec: 'h264', args: ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p'] }
    : { codec: 'mpeg4', args: ['-c:v', 'mpeg4', '-q:v', '4', '-pix_fmt', 'yuv420p'] };
}
