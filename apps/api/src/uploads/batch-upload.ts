import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { ValidationError } from '@spotter/shared';
import { archiveEntries, type ArchiveEntry, type ArchiveLimits } from './archive-entries.js';

/** Reads a part into memory up to `max` bytes; null (and the rest drained) when it is longer. */
async function readPart(stream: Readable, max: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > max) {
      stream.resume();
      return null;
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}

/**
 * Streams a multipart batch upload: several `images` parts, or one `archive` part (zip, tar,
 * tar.gz), plus text fields. Each image is handed to `onEntry` as it arrives (so the upload
 * is never held whole in memory), in order; the fields are returned at the end.
 */
export async function readBatchUpload(
  req: IncomingMessage,
  limits: ArchiveLimits,
  onEntry: (entry: ArchiveEntry) => Promise<void>,
): Promise<{ fields: Record<string, string>; source: 'images' | 'archive' }> {
  const fields: Record<string, string> = {};
  let source: 'images' | 'archive' | null = null;
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  let count = 0;
  const bb = busboy({
    headers: req.headers,
    limits: { fields: 10, fieldSize: 4096, files: limits.maxEntries, parts: limits.maxEntries + 10, fileSize: Math.max(limits.maxBytes, limits.maxEntryBytes) },
  });
  const handle = async (name: string, stream: Readable, filename: string | undefined) => {
    if (name !== 'images' && name !== 'archive') throw new ValidationError(`unexpected file field "${name}"; send "images" parts or one "archive"`);
    if (source && source !== name) throw new ValidationError('send either "images" parts or one "archive" part, not both');
    if (name === 'archive' && source === 'archive') throw new ValidationError('send one "archive" part');
    source = name;
    if (name === 'archive') {
      for await (const entry of archiveEntries(stream as AsyncIterable<Buffer>, limits)) await onEntry(entry);
      return;
    }
    const label = filename || `image-${count}`;
    count++;
    const bytes = await readPart(stream, limits.maxEntryBytes);
    await onEntry(bytes ? { name: label, bytes } : { name: label, skipped: { code: 'PAYLOAD_TOO_LARGE', reason: `the image is larger than ${limits.maxEntryBytes} bytes` } });
  };
  await new Promise<void>((resolve, reject) => {
    // A refusal answers at once: the rest of the body is read and thrown away, not parsed.
    const refuse = (err: unknown) => {
      failure ??= err;
      req.unpipe(bb);
      req.resume();
      reject(failure);
    };
    bb.on('field', (name, value) => (fields[name] = value));
    bb.on('file', (name, stream, info) => {
      chain = chain.then(() => (failure ? void stream.resume() : handle(name, stream, info.filename))).catch(refuse);
    });
    bb.on('filesLimit', () => refuse(new ValidationError(`more than ${limits.maxEntries} files in one request`, 'BATCH_TOO_MANY_ITEMS')));
    bb.on('error', (err) => refuse(new ValidationError(`malformed multipart body: ${(err as Error).message}`)));
    bb.on('close', () => void chain.then(resolve, refuse));
    req.pipe(bb);
  });
  if (!source) throw new ValidationError('no "images" or "archive" part (send multipart/form-data, or JSON with a source prefix)', 'MISSING_IMAGE');
  return { fields, source };
}
