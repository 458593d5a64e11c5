import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { BatchView } from '@spotter/shared';
import type { ApiClient } from './api-client.js';

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

/** A multipart body streamed from a file: text fields, then the file as the `part` part (`archive` for batches). */
export async function* multipart(boundary: string, fields: Record<string, string>, archive: AsyncIterable<Uint8Array>, onBytes: (n: number) => void, part = 'archive') {
  for (const [k, v] of Object.entries(fields)) yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  yield Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${part}"; filename="upload"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  for await (const chunk of archive) {
    onBytes(chunk.length);
    yield chunk;
  }
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
export async function batchCommand(api: ApiClient, opts: BatchOptions): Promise<BatchView> {
  const say = opts.onProgress ?? (() => undefined);
  const own = new Set(['', '.state.json', '.part'].map((ext) => path.resolve(`${opts.out}${ext}`)));
  const { archive, files } = await inputFiles(opts.input, own);
  if (files.length === 0) throw new Error(`no files in ${opts.input}`);
  const fields = { ...(opts.model ? { model: opts.model } : {}), ...(opts.minScore ? { min_score: opts.minScore } : {}) };
  const fingerprint = createHash('sha256')
    .update(JSON.stringify({ files: files.map((f) => [f.name, f.size, f.mtime]), fields }))
    .digest('hex');
  const stateFile = `${opts.out}.state.json`;
  const saved = JSON.parse(await readFile(stateFile, 'utf8').catch(() => 'null')) as RunState | null;
  const state: RunState = saved?.fingerprint === fingerprint ? saved : { fingerprint, idempotency_key: `spotter-cli-${fingerprint.slice(0, 32)}`, batch_id: null };

  let batch: BatchView | null = null;
  if (state.batch_id) {
    batch = await api.json<BatchView>('GET', `/v1/batches/${state.batch_id}`).catch((err: { status?: number }) => (err.status === 404 ? null : Promise.reject(err)));
    if (batch) say(`resuming batch ${batch.id}`);
  }
  if (!batch) {
    const total = files.reduce((n, f) => n + f.size, 0);
    let sent = 0;
    const source = (archive ? createReadStream(files[0]!.file) : tarOf(files)) as AsyncIterable<Uint8Array>;
    const boundary = `spotter-${randomBytes(12).toString('hex')}`;
    const body = Readable.from(multipart(boundary, fields, source, (n) => {
      sent += n;
      say(`uploading ${bar(sent, total)} ${Math.round(sent / 1e6)} MB`);
    }));
    const res = await api.request('POST', '/v1/batches', {
      body: Readable.toWeb(body) as ReadableStream,
      duplex: 'half',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'idempotency-key': state.idempotency_key },
    } as RequestInit & { headers: Record<string, string> });
    batch = (await res.json()) as BatchView;
    await writeFile(stateFile, JSON.stringify({ ...state, batch_id: batch.id }));
    say(`batch ${batch.id}: ${batch.counts.total} images, ${batch.counts.skipped} skipped`);
  }

  while (batch.status === 'queued' || batch.status === 'running') {
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1000));
    batch = await api.json<BatchView>('GET', `/v1/batches/${batch.id}`);
    const c = batch.counts;
    say(`${bar(c.succeeded + c.failed + c.cancelled, c.total)} ${c.succeeded} succeeded, ${c.failed} failed, ${c.running} running, ${c.queued} queued`);
  }
  const res = await api.request('GET', `/v1/batches/${batch.id}/results`);
  const partial = `${opts.out}.part`;
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(partial));
  await rename(partial, opts.out);
  return batch;
}
