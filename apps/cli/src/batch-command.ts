import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { SpotterApiError, type Batch, type SpotterClient } from '@spotter/client';

export interface BatchOptions {
  input: string;
  out: string;
  model?: string | undefined;
  minScore?: string | undefined;
  /** How often to ask for progress. */
  pollMs?: number;
  onProgress?: (line: string) => void;
}

/** What a run remembers next to its results file, so that a second run resumes instead of resubmitting. */
interface RunState {
  fingerprint: string;
  idempotency_key: string;
  batch_id: string | null;
}

/** The files of a folder (recursively, in name order, leaving out this run's own files), or the archive itself. */
async function inputFiles(input: string, own: Set<string>) {
  const s = await stat(input);
  if (s.isFile()) return { archive: true, files: [{ name: path.basename(input), file: input, size: s.size, mtime: s.mtimeMs }] };
  const files: { name: string; file: string; size: number; mtime: number }[] = [];
  const walk = async (dir: string, prefix: string) => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, e.name);
      if (own.has(path.resolve(full))) continue;
      const st = await stat(full); // follows links
      if (st.isDirectory()) await walk(full, `${prefix}${e.name}/`);
      else if (st.isFile()) files.push({ name: `${prefix}${e.name}`, file: full, size: st.size, mtime: st.mtimeMs });
    }
  };
  await walk(input, '');
  return { archive: false, files };
}

/** A folder as a tar stream, file by file: the upload never sits whole in memory. */
function tarOf(files: { name: string; file: string }[]) {
  const pack = tar.pack();
  void (async () => {
    try {
      for (const f of files) {
        const bytes = await readFile(f.file);
        await new Promise<void>((resolve, reject) => pack.entry({ name: f.name, size: bytes.length }, bytes, (err) => (err ? reject(err) : resolve())));
      }
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    }
  })();
  return pack;
}

/** The archive's bytes as they are read, counted. */
async function* counted(archive: AsyncIterable<Uint8Array>, onBytes: (n: number) => void) {
  for await (const chunk of archive) {
    onBytes(chunk.length);
    yield chunk;
  }
}

/** A multipart body streamed from a file: text fields, then the file as the `part` part (the video command's upload). */
export async function* multipart(boundary: string, fields: Record<string, string>, archive: AsyncIterable<Uint8Array>, onBytes: (n: number) => void, part = 'archive') {
  for (const [k, v] of Object.entries(fields)) yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part}"; filename="upload"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  yield* counted(archive, onBytes);
  yield Buffer.from(`\r\n--${boundary}--\r\n`);
}

export const bar = (done: number, total: number, width = 30) => `[${'#'.repeat(Math.round(Math.min(1, done / Math.max(1, total)) * width)).padEnd(width)}]`;

/**
 * `spotter batch <folder|archive> [--model m] [--min-score s] --out results.jsonl`: submits the
 * images as one batch through the HTTP API (a folder is streamed as a tar archive), follows
 * its progress, and writes the results (JSON Lines). A run that is interrupted resumes: the
 * batch id and the Idempotency-Key are kept in `<out>.state.json`, so finished images are
 * never submitted again.
 */
/**
 * The saved state of an earlier run, or null. One that cannot be read (cut short by an older
 * version) counts as none: the run submits again under the same idempotency key, which the
 * API answers with the batch it accepted before.
 */
async function readState(file: string): Promise<RunState | null> {
  const text = await readFile(file, 'utf8').catch(() => null);
  try {
    return text === null ? null : (JSON.parse(text) as RunState);
  } catch {
    return null;
  }
}

export async function batchCommand(client: SpotterClient, opts: BatchOptions): Promise<Batch> {
  const say = opts.onProgress ?? (() => undefined);
  const own = new Set(['', '.state.json', '.state.json.tmp', '.part'].map((ext) => path.resolve(`${opts.out}${ext}`)));
  const { archive, files } = await inputFiles(opts.input, own);
  if (files.length === 0) throw new Error(`no files in ${opts.input}`);
  const fields = { ...(opts.model ? { model: opts.model } : {}), ...(opts.minScore ? { min_score: Number(opts.minScore) } : {}) };
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ files: files.map((f) => [f.name, f.size, f.mtime]), fields }))
    .digest('hex');
  const stateFile = `${opts.out}.state.json`;
  const saved = await readState(stateFile);
  const state: RunState = saved?.fingerprint === fingerprint ? saved : { fingerprint, idempotency_key: `spotter-cli-${fingerprint.slice(0, 32)}`, batch_id: null };

  let batch: Batch | null = null;
  if (state.batch_id) {
    batch = await client.batch(state.batch_id).catch((err: unknown) => (err instanceof SpotterApiError && err.status === 404 ? null : Promise.reject(err)));
    if (batch) say(`resuming batch ${batch.id}`);
  }
  if (!batch) {
    const total = files.reduce((n, f) => n + f.size, 0);
    let sent = 0;
    const source = (archive ? createReadStream(files[0]!.file) : tarOf(files)) as AsyncIterable<Uint8Array>;
    const archiveStream = Readable.toWeb(Readable.from(counted(source, (n) => {
      sent += n;
      say(`uploading ${bar(sent, total)} ${Math.round(sent / 1e6)} MB`);
    }))) as ReadableStream<Uint8Array>;
    batch = await client.createBatch({ archive: archiveStream }, fields, { idempotencyKey: state.idempotency_key });
    // Written beside it, then renamed: an interrupted run never leaves half a state file.
    await writeFile(`${stateFile}.tmp`, JSON.stringify({ ...state, batch_id: batch.id }));
    await rename(`${stateFile}.tmp`, stateFile);
    say(`batch ${batch.id}: ${batch.counts.total} images, ${batch.counts.skipped} skipped`);
  }

  batch = await client.waitBatch(batch.id, {
    pollMs: opts.pollMs ?? 1000,
    onProgress: ({ counts: c }) => say(`${bar(c.succeeded + c.failed + c.cancelled, c.total)} ${c.succeeded} succeeded, ${c.failed} failed, ${c.running} running, ${c.queued} queued`),
  });
  const partial = `${opts.out}.part`;
  await pipeline(Readable.fromWeb((await client.batchResultsBody(batch.id)) as import('node:stream/web').ReadableStream), createWriteStream(partial));
  await rename(partial, opts.out);
  return batch;
}
