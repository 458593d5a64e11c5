import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { VideoView } from '@spotter/shared';
import type { SpotterClient } from '@spotter/client';
import { bar, multipart } from './batch-command.js';

export interface VideoOptions {
  file: string;
  /** Where the results go: detections.jsonl, tracks.json, counts.json, events.json, annotated.mp4. */
  out?: string | undefined;
  /** Form fields of POST /v1/videos as given (fps, model, min_score, classes, lines, zones, units, segment_s). */
  fields: Record<string, string>;
  pollMs?: number;
  onProgress?: (line: string) => void;
}

const RESULTS = [
  ['detections', 'detections.jsonl'],
  ['tracks', 'tracks.json'],
  ['counts', 'counts.json'],
  ['events', 'events.json'],
  ['annotated', 'annotated.mp4'],
] as const;

/**
 * `spotter video <file>`: streams the clip to POST /v1/videos, follows its progress, and
 * once it has succeeded writes its results to `out`. Returns the final video.
 */
export async function videoCommand(api: SpotterClient, opts: VideoOptions): Promise<VideoView> {
  const say = opts.onProgress ?? (() => undefined);
  const total = (await stat(opts.file)).size;
  let sent = 0;
  const boundary = `spotter-${randomBytes(12).toString('hex')}`;
  const body = Readable.from(
    multipart(boundary, opts.fields, createReadStream(opts.file), (n) => {
      sent += n;
      say(`uploading ${bar(sent, total)} ${Math.round(sent / 1e6)} MB`);
    }, 'video'),
  );
  const res = await api.fetch('/v1/videos', {
    method: 'POST',
    body: Readable.toWeb(body) as ReadableStream,
    duplex: 'half',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  } as RequestInit & { headers: Record<string, string> });
  let video = (await res.json()) as VideoView;
  say(`video ${video.id}: ${video.video.width}x${video.video.height}, ${video.video.duration_s} s, ${video.progress.segments_total} segments`);
  while (video.status === 'queued' || video.status === 'running') {
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    video = (await (await api.fetch(`/v1/videos/${video.id}`)).json()) as VideoView;
    const p = video.progress;
    say(`${bar(p.frames_done, p.frames_total)} ${p.frames_done}/${p.frames_total} frames, ${p.segments_done}/${p.segments_total} segments`);
  }
  if (video.status === 'succeeded' && opts.out) {
    await mkdir(opts.out, { recursive: true });
    for (const [what, file] of RESULTS) {
      if (what === 'annotated' && !video.summary?.annotated) continue;
      const r = await api.fetch(`/v1/videos/${video.id}/${what}`);
      // Streamed to disk, as the API streams it: an annotated MP4 is never held whole.
      await pipeline(Readable.fromWeb(r.body as import('node:stream/web').ReadableStream), createWriteStream(path.join(opts.out, file)));
    }
  }
  return video;
}
