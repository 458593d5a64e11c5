import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { ModelError, type Detection } from '@spotter/shared';
import { inputSizeOf, outputDecoders, postprocess, preprocess, type ModelInput, type ModelSpec } from '@spotter/vision';

export interface SessionOptions {
  executionProviders: readonly string[];
  intraOpThreads?: number | undefined;
}

export interface DetectOutput {
  detections: Detection[];
  timings: { preprocess: number; inference: number; sessionWait: number; postprocess: number };
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

interface ThreadReady {
  inputNames: string[];
  outputNames: string[];
  inputMetadata: { name: string; isTensor: boolean; shape: (number | string)[] }[];
}

interface RunOutput {
  data: Float32Array;
  dims: number[];
  /** Time the session itself spent, without waiting for earlier calls. */
  runMs: number;
}

/** Which runs go first when several wait: a realtime job's, then batch images and shadows. */
export type RunPriority = 'high' | 'low';

interface QueuedRun {
  data: Float32Array;
  dims: number[];
  resolve: (v: RunOutput) => void;
  reject: (e: Error) => void;
}

/**
 * The session, living in its own thread. One run is in the thread at a time; the others wait
 * here, high priority first, so a realtime job never queues behind batch images.
 */
class InferenceThread {
  private nextId = 0;
  private running: (QueuedRun & { id: number }) | null = null;
  private readonly waiting: Record<RunPriority, QueuedRun[]> = { high: [], low: [] };

  private constructor(private readonly worker: Worker, readonly info: ThreadReady) {
    worker.on('message', (msg: Partial<RunOutput> & { id: number; error?: string }) => {
      const run = this.running;
      if (!run || run.id !== msg.id) return;
      this.running = null;
      if (msg.error !== undefined) run.reject(new Error(msg.error));
      else run.resolve(msg as RunOutput);
      this.dispatch();
    });
    worker.on('error', (err) => {
      for (const run of [this.running, ...this.waiting.high, ...this.waiting.low]) run?.reject(err);
      this.running = null;
      this.waiting.high = [];
      this.waiting.low = [];
    });
  }

  static start(modelBytes: Buffer, options: ort.InferenceSession.SessionOptions): Promise<InferenceThread> {
    const bytes = modelBytes.buffer.slice(modelBytes.byteOffset, modelBytes.byteOffset + modelBytes.byteLength);
    const worker = new Worker(new URL('./inference-thread.mjs', import.meta.url), {
      workerData: { modelBytes: bytes, options },
      transferList: [bytes as ArrayBuffer],
    });
    return new Promise((resolve, reject) => {
      worker.once('message', (msg: ThreadReady & { type: string; message?: string }) => {
        if (msg.type === 'ready') return resolve(new InferenceThread(worker, msg));
        void worker.terminate();
        reject(new Error(msg.message));
      });
      worker.once('error', reject);
    });
  }

  /** Runs the model; the input buffer is moved to the thread, not copied. */
  run(data: Float32Array, dims: number[], priority: RunPriority = 'high'): Promise<RunOutput> {
    return new Promise((resolve, reject) => {
      this.waiting[priority].push({ data, dims, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch() {
    if (this.running) return;
    const next = this.waiting.high.shift() ?? this.waiting.low.shift();
    if (!next) return;
    this.running = { ...next, id: this.nextId++ };
    this.worker.postMessage({ id: this.running.id, data: next.data, dims: next.dims }, [next.data.buffer as ArrayBuffer]);
  }

  async close() {
    this.worker.postMessage({ type: 'close' });
    await new Promise((r) => this.worker.once('exit', r));
  }
}

/**
 * One ONNX Runtime session for one model, loaded, checked and warmed up before use.
 * `detect` is safe to call concurrently: each call has its own input tensor.
 */
export class OnnxDetector {
  private constructor(
    readonly spec: ModelSpec,
    readonly inputSize: number,
    private readonly session: InferenceThread,
    /** Milliseconds spent reading, loading and warming up the model. */
    readonly loadMs: number,
  ) {}

  get name() {
    return this.spec.name;
  }

  get version() {
    return this.spec.version;
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
    let session: InferenceThread;
    try {
      session = await InferenceThread.start(bytes, {
        executionProviders: [...opts.executionProviders],
        graphOptimizationLevel: 'all',
        ...(opts.intraOpThreads ? { intraOpNumThreads: opts.intraOpThreads } : {}),
      });
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
    let inputSize: number;
    try {
      inputSize = inputSizeOf(session.info, spec, file);
      // Warm-up doubles as the output shape check.
      const out = await session.run(new Float32Array(3 * inputSize * inputSize).fill(114), [1, 3, inputSize, inputSize]);
      try {
        outputDecoders[spec.format].checkShape(out.dims, inputSize, spec.labels.length);
      } catch (err) {
        throw new ModelError(`model "${spec.name}" (${file}) has an unexpected output: ${(err as Error).message}`);
      }
    } catch (err) {
      await session.close();
      throw err;
    }
    return new OnnxDetector(spec, inputSize, session, performance.now() - t0);
  }

  /** Runs the model on one fitted image; boxes come back in the original image's pixels. */
  async detect(img: ModelInput, minScore: number, priority: RunPriority = 'high'): Promise<DetectOutput> {
    const t0 = performance.now();
    const size = this.inputSize;
    const tensor = preprocess(img, this.spec, size);
    const t1 = performance.now();
    const out = await this.session.run(tensor, [1, 3, size, size], priority);
    const t2 = performance.now();
    // inference = the model's compute; waiting for the session (other jobs) is left to the job's total.
    const detections = postprocess(out.data, out.dims, img, this.spec, size, minScore);
    return { detections, timings: { preprocess: t1 - t0, inference: out.runMs, sessionWait: t2 - t1 - out.runMs, postprocess: performance.now() - t2 } };
  }

  async close() {
    await this.session.close();
  }
}
