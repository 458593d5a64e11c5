import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './api-types.js';
import { retryingFetch } from './retry.js';

export type Job = components['schemas']['Job'];
export type JobCreated = components['schemas']['JobCreated'];
export type Batch = components['schemas']['Batch'];
/** The text fields of POST /v1/jobs and /v1/predict (model, min_score, webhook_url). */
export type JobFields = Omit<paths['/v1/jobs']['post']['requestBody']['content']['multipart/form-data'], 'image'>;
/** The text fields of POST /v1/batches (as for jobs, plus webhook_each). */
export type BatchFields = Omit<paths['/v1/batches']['post']['requestBody']['content']['multipart/form-data'], 'images' | 'archive'>;
/** One line of a batch's JSON Lines results. */
export interface BatchResult {
  item: number;
  source: string;
  job_id: string;
  status: Job['status'];
  detections: NonNullable<Job['result']>['detections'] | null;
  error: Job['error'];
}
/** A picture to upload: bytes, or a Blob/File (its name is kept). */
export type ImageInput = Blob | Uint8Array;

export interface SpotterClientOptions {
  /** The API's base URL (SPOTTER_URL), e.g. http://localhost:8080; '' in a page served by Spotter. */
  url: string;
  /** An API key (Bearer), or a function read on every request (a key typed into a page). */
  apiKey?: string | (() => string | null | undefined);
  /** Repeats after 429/503 with Retry-After (default 3), waiting at most maxRetryWaitS each (default 60). */
  retries?: number;
  maxRetryWaitS?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

/** A refused call: Spotter's error code and message, the status, and Retry-After when given. */
export class SpotterApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown,
    readonly retryAfter: string | null,
  ) {
    super(`${status} ${code}: ${message}`);
    this.name = 'SpotterApiError';
  }
  /** The job a timed-out /v1/predict left running (504 WAIT_TIMEOUT). */
  get jobId(): string | undefined {
    return (this.body as { error?: { job_id?: string } } | null)?.error?.job_id;
  }
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled']);
const newKey = () => globalThis.crypto.randomUUID();
const asBlob = (b: ImageInput) => (b instanceof Blob ? b : new Blob([b as Uint8Array<ArrayBuffer>]));

function form(fields: Record<string, unknown>, files: [string, ImageInput, string][]) {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) f.append(k, String(v));
  for (const [k, b, name] of files) f.append(k, asBlob(b), (b as File).name || name);
  return f;
}

/**
 * Spotter's /v1 API, typed from its OpenAPI document: `api` reaches every route (openapi-fetch),
 * the methods wrap the common flows. Every call carries the key, repeats what Spotter refused
 * with Retry-After, and throws SpotterApiError for an error answer.
 */
export class SpotterClient {
  /** The typed client for any route: `client.api.GET('/v1/rollout')`. */
  readonly api: Client<paths>;
  /** fetch with the key, the retries and the error mapping, for routes read as streams or bytes. */
  readonly fetch: (path: string, init?: RequestInit) => Promise<Response>;

  constructor(opts: SpotterClientOptions) {
    const base = opts.fetch ?? globalThis.fetch.bind(globalThis);
    const retrying = retryingFetch(base, { retries: opts.retries ?? 3, maxWaitS: opts.maxRetryWaitS ?? 60, sleep: opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))) });
    const baseUrl = opts.url.replace(/\/$/, '');
    const withKey = (request: Request) => {
      const key = typeof opts.apiKey === 'function' ? opts.apiKey() : opts.apiKey;
      if (key && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${key}`);
      return request;
    };
    const checked = async (request: Request, once = false) => {
      const res = await (once ? base(withKey(request)) : retrying(withKey(request)));
      if (!res.ok && res.status !== 304) throw await errorOf(res);
      return res;
    };
    this.api = createClient<paths>({ baseUrl, fetch: (request: Request) => checked(request), bodySerializer: (b: unknown) => (b instanceof FormData ? b : JSON.stringify(b)) });
    this.fetch = (path, init = {}) => checked(new Request(`${baseUrl}${path}`, init), isStream(init.body));
  }

  /** Submits a picture (POST /v1/jobs); a fresh Idempotency-Key unless given, so a repeat never makes a second job. */
  async submit(image: ImageInput, fields: JobFields = {}, opts: { idempotencyKey?: string } = {}): Promise<JobCreated> {
    const { data } = await this.api.POST('/v1/jobs', { body: form(fields, [['image', image, 'image']]) as never, headers: { 'idempotency-key': opts.idempotencyKey ?? newKey() } });
    return data!;
  }

  /** A job as it is now. */
  async job(id: string): Promise<Job> {
    return (await this.api.GET('/v1/jobs/{id}', { params: { path: { id } } })).data!;
  }

  /** Waits for a job to be final (long polls of up to 30 s), at most `timeoutS` (default 120): the job as it is then. */
  async wait(id: string, { timeoutS = 120 } = {}): Promise<Job> {
    const until = Date.now() + timeoutS * 1000;
    for (;;) {
      const left = Math.max(0, Math.min(30, Math.floor((until - Date.now()) / 1000)));
      const { data } = await this.api.GET('/v1/jobs/{id}', { params: { path: { id }, query: { wait: left } } });
      if (FINAL.has(data!.status) || left === 0) return data!;
    }
  }

  /** Submits and waits (POST /v1/predict); if Spotter's own wait runs out, goes on waiting for the job. */
  async predict(image: ImageInput, fields: JobFields = {}, opts: { idempotencyKey?: string; timeoutS?: number } = {}): Promise<Job> {
    try {
      const { data } = await this.api.POST('/v1/predict', { body: form(fields, [['image', image, 'image']]) as never, headers: { 'idempotency-key': opts.idempotencyKey ?? newKey(), accept: 'application/json' } });
      return data as Job;
    } catch (err) {
      if (err instanceof SpotterApiError && err.status === 504 && err.jobId) return this.wait(err.jobId, { timeoutS: opts.timeoutS ?? 120 });
      throw err;
    }
  }

  /**
   * Creates a batch from pictures, from one archive (zip, tar, tar.gz: a Blob, or a stream that
   * is sent as it is read and so never repeated), or from an intake prefix in Spotter's bucket.
   */
  async createBatch(source: { images: ImageInput[] } | { archive: ImageInput | ReadableStream<Uint8Array> } | { prefix: string }, fields: BatchFields = {}, opts: { idempotencyKey?: string } = {}): Promise<Batch> {
    const headers = { 'idempotency-key': opts.idempotencyKey ?? newKey() };
    if ('prefix' in source) return (await this.api.POST('/v1/batches', { body: { ...fields, source: { prefix: source.prefix } } as never, headers })).data!;
    if ('archive' in source && source.archive instanceof ReadableStream) {
      const { body, type } = streamedForm(fields, source.archive);
      return (await this.fetch('/v1/batches', { method: 'POST', body, headers: { ...headers, 'content-type': type }, duplex: 'half' } as RequestInit)).json() as Promise<Batch>;
    }
    const files: [string, ImageInput, string][] = 'images' in source ? source.images.map((b, i) => ['images', b, `image-${i}`]) : [['archive', source.archive as ImageInput, 'archive']];
    return (await this.api.POST('/v1/batches', { body: form(fields, files) as never, headers })).data!;
  }

  /** A batch as it is now. */
  async batch(id: string): Promise<Batch> {
    return (await this.api.GET('/v1/batches/{id}', { params: { path: { id } } })).data!;
  }

  /** Polls a batch until it is final, telling `onProgress` each time. */
  async waitBatch(id: string, { pollMs = 1000, onProgress }: { pollMs?: number; onProgress?: (b: Batch) => void } = {}): Promise<Batch> {
    for (let b = await this.batch(id); ; b = await this.batch(id)) {
      onProgress?.(b);
      if (FINAL.has(b.status)) return b;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Cancels what has not started. */
  async cancelBatch(id: string): Promise<Batch> {
    return (await this.api.DELETE('/v1/batches/{id}', { params: { path: { id } } })).data!;
  }

  /** A batch's results file as it streams (JSON Lines, or COCO results with format 'coco'). */
  async batchResultsBody(id: string, format: 'jsonl' | 'coco' = 'jsonl'): Promise<ReadableStream<Uint8Array>> {
    return (await this.fetch(`/v1/batches/${encodeURIComponent(id)}/results?format=${format}`)).body!;
  }

  /** A batch's results, one line at a time as they arrive. */
  async *batchResults(id: string): AsyncGenerator<BatchResult> {
    const reader = (await this.batchResultsBody(id)).pipeThrough(new TextDecoderStream()).getReader();
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      rest += value ?? '';
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const line of lines) if (line.trim()) yield JSON.parse(line) as BatchResult;
      if (done) break;
    }
    if (rest.trim()) yield JSON.parse(rest) as BatchResult;
  }
}

const isStream = (body: unknown) => typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;

/** An error answer as SpotterApiError (`{"error": {"code", "message"}}`). */
async function errorOf(res: Response): Promise<SpotterApiError> {
  const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  return new SpotterApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? res.statusText, body, res.headers.get('retry-after'));
}

/** A multipart body whose `archive` part is a stream: fields first, then the archive as it is read. */
function streamedForm(fields: BatchFields, archive: ReadableStream<Uint8Array>) {
  const boundary = `spotter-${newKey()}`;
  const enc = new TextEncoder();
  const head = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`)
    .join('');
  const reader = archive.getReader();
  let stage = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (stage === 0) {
        stage = 1;
        return c.enqueue(enc.encode(`${head}--${boundary}\r\nContent-Disposition: form-data; name="archive"; filename="upload"\r\nContent-Type: application/octet-stream\r\n\r\n`));
      }
      const { done, value } = await reader.read();
      if (!done) return c.enqueue(value);
      c.enqueue(enc.encode(`\r\n--${boundary}--\r\n`));
      c.close();
    },
    cancel: (why) => reader.cancel(why),
  });
  return { body, type: `multipart/form-data; boundary=${boundary}` };
}

/** A client for Spotter at `url` (SPOTTER_URL) with `apiKey` (SPOTTER_API_KEY). */
export const createSpotterClient = (opts: SpotterClientOptions) => new SpotterClient(opts);
