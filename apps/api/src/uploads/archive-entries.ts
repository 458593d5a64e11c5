import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import tar from 'tar-stream';
import { BatchTooLargeError, ValidationError } from '@spotter/shared';

export interface ArchiveLimits {
  maxEntries: number;
  /** Uncompressed bytes of the whole archive. */
  maxBytes: number;
  /** Uncompressed bytes of one entry (the upload limit of one image). */
  maxEntryBytes: number;
  /** Uncompressed / compressed: images barely compress, a bomb does by orders of magnitude. */
  maxRatio: number;
}

/** One entry: its bytes, or why it was skipped. The name is a label only, never a path. */
export type ArchiveEntry = { name: string; bytes: Buffer } | { name: string; skipped: { code: string; reason: string } };

const skip = (name: string, code: string, reason: string): ArchiveEntry => ({ name, skipped: { code, reason } });

/** Names that would escape a folder if someone unpacked them: refused, to be safe for whoever reads the results. */
const unsafe = (name: string) => name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.split(/[\\/]/).includes('..');

// Slack so that small archives with headers and tiny entries never trip the ratio check.
const RATIO_SLACK = 1024 * 1024;

/** Reads the first `n` bytes of a stream without losing them. */
async function peek(stream: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = stream[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let size = 0;
  while (size < n) {
    const { value, done } = await it.next();
    if (done) break;
    seen.push(value);
    size += value.length;
  }
  const head = Buffer.concat(seen);
  async function* rest() {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  return { head, rest: rest() };
}

/**
 * Streams the images out of a zip, tar or tar.gz archive as it arrives, never writing it to
 * disk and never using an entry's name as a path. Entries that are directories are passed
 * over; entries over the per-entry size, with an absurd compression ratio, or with a name that
 * escapes are skipped with their reason; too many entries, too many bytes in all, or an
 * archive that expands like a bomb refuse the whole upload (BatchTooLargeError).
 */
export async function* archiveEntries(stream: AsyncIterable<Buffer>, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  const { head, rest } = await peek(stream, 512);
  if (head.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) yield* zipEntries(rest, limits);
  else if (head[0] === 0x1f && head[1] === 0x8b) yield* tarEntries(rest, limits, true);
  else if (head.toString('latin1', 257, 262) === 'ustar') yield* tarEntries(rest, limits, false);
  else throw new ValidationError('the archive is not a zip, tar or tar.gz file', 'ARCHIVE_FORMAT');
}

/** Counts what goes in and what comes out, and refuses as soon as a limit is passed. */
class Budget {
  entries = 0;
  in = 0;
  out = 0;
  constructor(private readonly limits: ArchiveLimits) {}
  entry() {
    if (++this.entries > this.limits.maxEntries) {
      throw new BatchTooLargeError(`the archive has more than ${this.limits.maxEntries} entries (SPOTTER_ARCHIVE_MAX_ENTRIES)`, 'ARCHIVE_TOO_MANY_ENTRIES');
    }
  }
  expanded(n: number) {
    this.out += n;
    if (this.out > this.limits.maxBytes) throw new BatchTooLargeError(`the archive expands to more than ${this.limits.maxBytes} bytes (SPOTTER_ARCHIVE_MAX_BYTES)`, 'ARCHIVE_TOO_LARGE');
    if (this.out > this.limits.maxRatio * this.in + RATIO_SLACK) {
      throw new BatchTooLargeError(`the archive expands more than ${this.limits.maxRatio} times its size: refused as a compression bomb`, 'ARCHIVE_COMPRESSION_RATIO');
    }
  }
}

async function* zipEntries(stream: AsyncIterable<Buffer>, limits: ArchiveLimits): AsyncGenerator<ArchiveEntry> {
  const budget = new Budget(limits);
  const ready: ArchiveEntry[] = [];
  let failure: Error | null = null;
  const onFile = (file: UnzipFile) => {
    const name = file.name;
    if (name.endsWith('/')) return;
    try {
      budget.entry();
    } catch (err) {
      failure ??= err as Error;
      return;
    }
    if (unsafe(name)) return void ready.push(skip(name, 'UNSAFE_NAME', 'the entry name points outside the archive'));
    if (file.originalSize !== undefined && file.originalSize > limits.maxEntryBytes) {
      return void ready.push(skip(name, 'ENTRY_TOO_LARGE', `the entry is larger than ${limits.maxEntryBytes} bytes`));
    }
    if (file.size !== undefined && file.originalSize !== undefined && file.originalSize > limits.maxRatio * Math.max(1, file.size) + RATIO_SLACK) {
      return void ready.push(skip(name, 'COMPRESSION_RATIO', `the entry expands more than ${limits.maxRatio} times`));
    }
    const parts: Uint8Array[] = [];
    let size = 0;
    let done = false;
    file.ondata = (err, chunk, final) => {
      if (done) return;
      if (err) {
        done = true;
        return void ready.push(skip(name, 'CORRUPT_ENTRY', `the entry cannot be decompressed: ${err.message}`));
      }
      size += chunk.length;
      try {
        budget.expanded(chunk.length);
      } catch (e) {
        failure ??= e as Error;
        done = true;
        return file.terminate();
      }
      if (size > limits.maxEntryBytes) {
        done = true;
        file.terminate();
        return void ready.push(skip(name, 'ENTRY_TOO_LARGE', `the entry is larger than ${limits.maxEntryBytes} bytes`));
      }
      parts.push(chunk);
      if (final) {
        done = true;
        ready.push({ name, bytes: Buffer.concat(parts) });
      }
    };
    if (file.compression !== 0 && file.compression !== 8) {
      return void ready.push(skip(name, 'UNSUPPORTED_COMPRESSION', `compression method ${file.compression} is not supported (stored or deflate only)`));
    }
    file.start();
  };
  const unzip = new Unzip(onFile);
  unzip.register(UnzipInflate);
  for await (const chunk of stream) {
    budget.in += chunk.length;
    unzip.push(chunk);
    if (failure) throw failure;
    while (ready.length) yield ready.shift()!;
  }
  unzip.push(new Uint8Array(0), true);
  if (failure) throw failure;
  while (ready.length) yield ready.shift()!;
}

async function* tarEntries(stream: AsyncIterable<Buffer>, limits: ArchiveLimits, gzipped: boolean): AsyncGenerator<ArchiveEntry> {
  const budget = new Budget(limits);
  const counted = Readable.from(
    (async function* () {
      for await (const chunk of stream) {
        budget.in += chunk.length;
        yield chunk;
      }
    })(),
  );
  const extract = tar.extract();
  (gzipped ? counted.pipe(createGunzip()) : counted).on('error', (err) => extract.destroy(err)).pipe(extract);
  for await (const entry of extract) {
    const { name, size = 0, type } = entry.header;
    if (type !== 'file') {
      entry.resume();
      continue;
    }
    budget.entry();
    if (unsafe(name) || size > limits.maxEntryBytes) {
      entry.resume();
      yield unsafe(name) ? skip(name, 'UNSAFE_NAME', 'the entry name points outside the archive') : skip(name, 'ENTRY_TOO_LARGE', `the entry is larger than ${limits.maxEntryBytes} bytes`);
      continue;
    }
    const parts: Buffer[] = [];
    for await (const chunk of entry) {
      budget.expanded((chunk as Buffer).length);
      parts.push(chunk as Buffer);
    }
    yield { name, bytes: Buffer.concat(parts) };
  }
}
