import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { ValidationError, VideoTooLargeError } from '@spotter/shared';

/**
 * Streams a multipart video upload: one `video` part written to `file` as it arrives (never
 * held in memory), at most `maxBytes`, plus text fields. Returns the fields and the size.
 */
export async function readVideoUpload(req: IncomingMessage, file: string, maxBytes: number): Promise<{ fields: Record<string, string>; bytes: number }> {
  const fields: Record<string, string> = {};
  let bytes = -1;
  let failure: unknown = null;
  let writing: Promise<void> = Promise.resolve();
  const bb = busboy({ headers: req.headers, limits: { fields: 20, fieldSize: 64 * 1024, files: 1, parts: 22, fileSize: maxBytes } });
  const save = async (name: string, stream: Readable) => {
    if (name !== 'video') throw new ValidationError(`unexpected file field "${name}"; send the clip as "video"`);
    let size = 0;
    stream.on('data', (c: Buffer) => (size += c.length));
    let truncated = false;
    stream.on('limit', () => (truncated = true));
    await pipeline(stream, createWriteStream(file));
    if (truncated) throw new VideoTooLargeError(`the clip is larger than ${maxBytes} bytes (SPOTTER_VIDEO_MAX_BYTES)`, 'PAYLOAD_TOO_LARGE');
    bytes = size;
  };
  await new Promise<void>((resolve, reject) => {
    const refuse = (err: unknown) => {
      failure ??= err;
      req.unpipe(bb);
      req.resume();
      reject(failure);
    };
    bb.on('field', (name, value) => (fields[name] = value));
    bb.on('file', (name, stream) => {
      writing = failure ? Promise.resolve(void stream.resume()) : save(name, stream).catch(refuse);
    });
    bb.on('filesLimit', () => refuse(new ValidationError('send one "video" part')));
    bb.on('error', (err) => refuse(new ValidationError(`malformed multipart body: ${(err as Error).message}`)));
    bb.on('close', () => void writing.then(resolve, refuse));
    req.pipe(bb);
  });
  if (bytes < 0) throw new ValidationError('no "video" part (send multipart/form-data with the clip as "video", or JSON with a source key)', 'MISSING_VIDEO');
  return { fields, bytes };
}
