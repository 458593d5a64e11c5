import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { ModelError, ValidationError, type Detection } from '@spotter/shared';
import {
  blankInput,
  buildFeeds,
  checkOutputs,
  fileHints,
  fitGeometry,
  ioFromSession,
  outputTensors,
  planFit,
  planModel,
  postprocess,
  readOnnxFile,
  tensorFeeds,
  type Feed,
  type FileHints,
  type FitTarget,
  type Frame,
  type ModelInput,
  type ModelPlan,
  type ModelSpec,
  type RawOutput,
  type SessionDescription,
} from '@spotter/vision';

export interface SessionOptions {
  executionProviders: readonly string[];
  intraOpThreads?: number | undefined;
  /** Sessions of the model run side by side (default 1). */
  sessions?: number | undefined;
  /** Milliseconds for the realtime reservation's window (performance.now; tests stop it). */
  clock?: (() => number) | undefined;
}

export interface DetectOutput {
  detections: Detection[];
  timings: { preprocess: number; inference: number; sessionWait: number; postprocess: number };
  /** The model's first output as it came, as float32, when asked for (`raw`). */
  raw?: { data: Float32Array; dims: number[] };
}

function checkProviders(requested: readonly string[]) {
  const supported = ort.listSupportedBackends();
  for (const name of requested) {
    const backend = supported.find((b) => b.name === name);
    if (!backend) {
      throw new ModelError(
        `execution provider "${name}" is not available in this onnxruntime-node build ` +
          `(available: ${supported.map((b) => b.name).join(', ')}); set SPOTTER_EXECUTION_PROVIDERS`,
      );
    }
  }
}

type ThreadReady = SessionDescription;

interface RunOutput {
  outputs: RawOutput[];
  /** Time the session itself spent, without waiting for earlier calls. */
  runMs: number;
}

/** Which runs go first when several wait: a realtime job's, then batch images and shadows. */
export type RunPriority = 'high' | 'low';

interface QueuedRun {
  feeds: Feed[];
  resolve: (v: RunOutput) => void;
  reject: (e: Error) => void;
}

/** One ONNX Runtime session in its own thread, running one input at a time. */
class SessionThread {
  running: QueuedRun | null = null;

  private constructor(readonly worker: Worker, readonly info: ThreadReady) {}

  static start(modelBytes: Buffer, options: ort.InferenceSession.SessionOptions): Promise<SessionThread> {
    // Each thread gets its own copy: the buffer is moved, not shared.
    const bytes = modelBytes.buffer.slice(modelBytes.byteOffset, modelBytes.byteOffset + modelBytes.byteLength);
    const worker = new Worker(new URL('./inference-thread.mjs', import.meta.url), {
      workerData: { modelBytes: bytes, options },
      transferList: [bytes as ArrayBuffer],
    });
    return new Promise((resolve, reject) => {
      worker.once('message', (msg: ThreadReady & { type: string; message?: string }) => {
        if (msg.type === 'ready') return resolve(new SessionThread(worker, msg));
        void worker.terminate();
        reject(new Error(msg.message));
      });
      worker.once('error', reject);
    });
  }

  async close() {
    this.worker.postMessage({ type: 'close' });
    await new Promise((r) => this.worker.once('exit', r));
  }
}

/**
 * The model's sessions, each in its own thread (onnxruntime-node's run() holds the JavaScript
 * thread for the whole inference, which would stall the worker's event loop). Several
 * single-threaded sessions run several images at once, which on few cores beats one session
 * with more intra-op threads (see docs/performance.md). Inputs wait here for the first free
 * session, high priority first, so a realtime job never queues behind batch images.
 */
class SessionPool {
  private readonly waiting: Record<RunPriority, QueuedRun[]> = { high: [], low: [] };
  /** When the last realtime input came (performance.now()). */
  private lastHigh = -Infinity;

  private constructor(
    private readonly threads: SessionThread[],
    private readonly now: () => number,
  ) {
    for (const t of threads) {
      t.worker.on('message', (msg: Partial<RunOutput> & { error?: string }) => {
        const run = t.running;
        if (!run) return;
        t.running = null;
        if (msg.error !== undefined) run.reject(new Error(msg.error));
        else run.resolve(msg as RunOutput);
        this.dispatch();
      });
      t.worker.on('error', (err) => {
        // A session that died takes every waiting input with it: the jobs fail and are retried.
        for (const run of [...threads.map((x) => x.running), ...this.waiting.high, ...this.waiting.low]) run?.reject(err);
        for (const x of threads) x.running = null;
        this.waiting.high = [];
        this.waiting.low = [];
      });
    }
  }

  static async start(modelBytes: Buffer, options: ort.InferenceSession.SessionOptions, count: number, now: () => number): Promise<SessionPool> {
    const started = await Promise.allSettled(Array.from({ length: count }, () => SessionThread.start(modelBytes, options)));
    const threads = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) {
      await Promise.all(threads.map((t) => t.close()));
      throw failed.reason;
    }
    return new SessionPool(threads, now);
  }

  get info() {
    return this.threads[0]!.info;
  }

  get size() {
    return this.threads.length;
  }

  /** Runs the model on the first free session; the input buffers are moved to its thread, not copied. */
  run(feeds: Feed[], priority: RunPriority = 'high'): Promise<RunOutput> {
    if (priority === 'high') this.lastHigh = this.now();
    return new Promise((resolve, reject) => {
      this.waiting[priority].push({ feeds, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Whether a low-priority input (a batch image, a shadow run) may take a free session now.
   * While realtime inputs keep coming (one within the last second), one session stays free
   * for them, so a realtime job never waits for a batch image's inference.
   */
  private mayRunLow(): boolean {
    if (this.threads.length < 2 || this.now() - this.lastHigh > 1000) return true;
    return this.threads.filter((t) => !t.running).length > 1;
  }

  /** Runs the same input once on every session (warm-up), returning the first output. */
  async runOnEach(make: () => Feed[]): Promise<RunOutput> {
    const outs = await Promise.all(this.threads.map(() => this.run(make())));
    return outs[0]!;
  }

  private dispatch() {
    for (const t of this.threads) {
      if (t.running) continue;
      const next = this.waiting.high.shift() ?? (this.mayRunLow() ? this.waiting.low.shift() : undefined);
      if (!next) return;
      t.running = next;
      t.worker.postMessage({ feeds: next.feeds }, next.feeds.map((f) => f.data.buffer as ArrayBuffer));
    }
  }

  async close() {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}

/** The file's metadata hints (Ultralytics' imgsz, say), or none when it cannot be read. */
function hintsOf(bytes: Uint8Array): FileHints {
  try {
    return fileHints(readOnnxFile(bytes).metadata);
  } catch {
    return {};
  }
}

/**
 * One model's ONNX Runtime sessions, loaded, checked and warmed up before use.
 * `detect` is safe to call concurrently: each call has its own input tensors.
 */
export class OnnxDetector {
  private constructor(
    /** How the model is fed and decoded (family, resolved pre-processing, extra inputs). */
    readonly plan: ModelPlan,
    private readonly sessions: SessionPool,
    /** Milliseconds spent reading, loading and warming up the model. */
    readonly loadMs: number,
  ) {}

  get spec(): ModelSpec {
    return this.plan.spec;
  }

  get name() {
    return this.plan.spec.name;
  }

  get version() {
    return this.plan.spec.version;
  }

  /** What a picture is decoded and resized to for this model. */
  get fit(): FitTarget {
    return planFit(this.plan);
  }

  /** The model input's size. */
  get input() {
    return { width: this.plan.preprocess.width, height: this.plan.preprocess.height };
  }

  /** Loads a model and refuses it with a clear message when it is not what the spec says. */
  static async load(spec: ModelSpec, file: string, opts: SessionOptions): Promise<OnnxDetector> {
    const t0 = performance.now();
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      throw new ModelError(`model "${spec.name}": cannot read ${file}: ${(err as Error).message}`);
    }
    checkProviders(opts.executionProviders);
    let sessions: SessionPool;
    const options = {
      executionProviders: [...opts.executionProviders],
      graphOptimizationLevel: 'all' as const,
      ...(opts.intraOpThreads ? { intraOpNumThreads: opts.intraOpThreads } : {}),
    };
    try {
      sessions = await SessionPool.start(bytes, options, Math.max(1, opts.sessions ?? 1), opts.clock ?? (() => performance.now()));
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0]!.slice(0, 300);
      const accelerators = opts.executionProviders.filter((p) => p !== 'cpu');
      if (accelerators.length && /provider|library|\.so/i.test(reason)) {
        throw new ModelError(
          `execution provider ${accelerators.join(', ')} could not be initialised (${reason}); ` +
            'install its runtime libraries or set SPOTTER_EXECUTION_PROVIDERS=cpu',
        );
      }
      throw new ModelError(`model "${spec.name}" (${file}) does not load: ${reason}`);
    }
    try {
      const plan = planModel(spec, ioFromSession(sessions.info), hintsOf(bytes));
      // Warm-up doubles as the output check: the real outputs' shapes must be the family's.
      const out = await sessions.runOnEach(() => buildFeeds(plan, blankInput(plan.preprocess)));
      checkOutputs(plan, outputTensors(out.outputs));
      return new OnnxDetector(plan, sessions, performance.now() - t0);
    } catch (err) {
      await sessions.close();
      if (err instanceof ModelError) throw new ModelError(`${err.message} (${file})`);
      throw err;
    }
  }

  /** Runs the model on one fitted picture (decodeToFit to `fit`); boxes come back in the original's pixels. */
  async detect(img: ModelInput, minScore: number, priority: RunPriority = 'high', opts: { raw?: boolean } = {}): Promise<DetectOutput> {
    const t0 = performance.now();
    const feeds = buildFeeds(this.plan, img);
    return this.run(feeds, img, minScore, priority, opts.raw ?? false, performance.now() - t0);
  }

  /**
   * Runs the model on an image tensor the caller pre-processed (the model's own input shape,
   * layout and scale). Boxes come back in the pixels of `source`, the picture the tensor was
   * fitted from (as `fit` places it), or in the tensor's without it. ValidationError
   * (TENSOR_SHAPE_MISMATCH) when the shape is not this model's.
   */
  detectTensor(tensor: Float32Array, shape: readonly number[], source: { width: number; height: number } | undefined, minScore: number, priority: RunPriority = 'high', opts: { raw?: boolean } = {}): Promise<DetectOutput> {
    const dims = this.plan.image.dims;
    if (shape.join(',') !== dims.join(',') || tensor.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new ValidationError(`model "${this.name}" takes a [${dims.join(', ')}] FP32 tensor, not [${shape.join(', ')}]`, 'TENSOR_SHAPE_MISMATCH');
    }
    const { width, height } = this.input;
    const frame: Frame = source ? { ...source, ...fitGeometry(source.width, source.height, this.fit) } : { width, height, fitWidth: width, fitHeight: height, scaleX: 1, scaleY: 1, padX: 0, padY: 0 };
    return this.run(tensorFeeds(this.plan, tensor, frame), frame, minScore, priority, opts.raw ?? false, 0);
  }

  private async run(feeds: Feed[], frame: Frame, minScore: number, priority: RunPriority, raw: boolean, preprocessMs: number): Promise<DetectOutput> {
    const t1 = performance.now();
    const out = await this.sessions.run(feeds, priority);
    const t2 = performance.now();
    // inference = the model's compute; waiting for the session (other jobs) is left to the job's total.
    const outputs = outputTensors(out.outputs);
    const detections = postprocess(this.plan, outputs, frame, minScore);
    const timings = { preprocess: preprocessMs, inference: out.runMs, sessionWait: t2 - t1 - out.runMs, postprocess: performance.now() - t2 };
    return { detections, timings, ...(raw ? { raw: { data: outputs[0]!.data, dims: [...outputs[0]!.dims] } } : {}) };
  }

  /** How many inputs the model runs at once. */
  get parallelism() {
    return this.sessions.size;
  }

  async close() {
    await this.sessions.close();
  }
}
