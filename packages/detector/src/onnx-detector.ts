import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { ModelError, type Detection } from '@spotter/shared';
import { fillLetterbox } from './letterbox.js';
import { nonMaxSuppression } from './nms.js';
import { outputDecoders, type OutputFormat } from './output-decoders.js';

/** What a detector needs to know about a model file. */
export interface ModelSpec {
  name: string;
  path: string;
  format: OutputFormat;
  labels: readonly string[];
  /** Channel order the model was trained with (YOLOX: BGR; Ultralytics: RGB scaled 0..1). */
  bgr: boolean;
  /** Pixel scale: 1 for YOLOX (0..255), 1/255 for Ultralytics exports. */
  pixelScale: number;
  iouThreshold: number;
  maxDetections: number;
}

export interface SessionOptions {
  executionProviders: readonly string[];
  intraOpThreads?: number | undefined;
}

/** Pixels already resized to fit the model input (see @spotter/imaging decodeToFit). */
export interface ModelInput {
  width: number;
  height: number;
  pixels: Uint8Array;
  fitWidth: number;
  fitHeight: number;
  scale: number;
}

export interface DetectOutput {
  detections: Detection[];
  timings: { preprocess: number; inference: number; postprocess: number };
}

const round2 = (v: number) => Math.round(v * 100) / 100;

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

/**
 * One ONNX Runtime session for one model, loaded, checked and warmed up before use.
 * `detect` is safe to call concurrently: each call has its own input tensor.
 */
export class OnnxDetector {
  private constructor(
    readonly spec: ModelSpec,
    readonly version: string,
    readonly inputSize: number,
    private readonly session: ort.InferenceSession,
    /** Milliseconds spent reading, loading and warming up the model. */
    readonly loadMs: number,
  ) {}

  get name() {
    return this.spec.name;
  }

  /** Loads a model and refuses it with a clear message when it is not what the spec says. */
  static async load(spec: ModelSpec, opts: SessionOptions): Promise<OnnxDetector> {
    const t0 = performance.now();
    let bytes: Buffer;
    try {
      bytes = await readFile(spec.path);
    } catch (err) {
      throw new ModelError(`model "${spec.name}": cannot read ${spec.path}: ${(err as Error).message}`);
    }
    const version = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
    checkProviders(opts.executionProviders);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
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
      throw new ModelError(`model "${spec.name}" (${spec.path}) does not load: ${reason}`);
    }
    const inputSize = inputSizeOf(session, spec);
    const detector = new OnnxDetector(spec, version, inputSize, session, 0);
    // Warm-up doubles as the output shape check.
    const decoder = outputDecoders[spec.format];
    const out = await detector.run(new Float32Array(3 * inputSize * inputSize).fill(114));
    try {
      decoder.checkShape(out.dims, inputSize, spec.labels.length);
    } catch (err) {
      throw new ModelError(`model "${spec.name}" (${spec.path}) has an unexpected output: ${(err as Error).message}`);
    }
    return new OnnxDetector(spec, version, inputSize, session, performance.now() - t0);
  }

  private async run(tensorData: Float32Array) {
    const input = new ort.Tensor('float32', tensorData, [1, 3, this.inputSize, this.inputSize]);
    const results = await this.session.run({ [this.session.inputNames[0]!]: input });
    const out = results[this.session.outputNames[0]!]!;
    return { data: out.data as Float32Array, dims: out.dims };
  }

  /** Runs the model on one fitted image; boxes come back in the original image's pixels. */
  async detect(img: ModelInput, minScore: number): Promise<DetectOutput> {
    const t0 = performance.now();
    const tensor = fillLetterbox(img.pixels, img.fitWidth, img.fitHeight, this.inputSize, new Float32Array(3 * this.inputSize ** 2), this.spec.bgr);
    if (this.spec.pixelScale !== 1) for (let i = 0; i < tensor.length; i++) tensor[i]! *= this.spec.pixelScale;
    const t1 = performance.now();
    const out = await this.run(tensor);
    const t2 = performance.now();
    const candidates = outputDecoders[this.spec.format].decode(out.data, out.dims, this.inputSize, minScore);
    const kept = nonMaxSuppression(candidates, this.spec.iouThreshold, this.spec.maxDetections);
    const clampX = (v: number) => round2(Math.min(Math.max(v / img.scale, 0), img.width));
    const clampY = (v: number) => round2(Math.min(Math.max(v / img.scale, 0), img.height));
    const detections = kept.map((c) => ({
      label: this.spec.labels[c.classId] ?? `class_${c.classId}`,
      class_id: c.classId,
      score: Math.round(c.score * 10000) / 10000,
      box: { x1: clampX(c.x1), y1: clampY(c.y1), x2: clampX(c.x2), y2: clampY(c.y2) },
    }));
    return { detections, timings: { preprocess: t1 - t0, inference: t2 - t1, postprocess: performance.now() - t2 } };
  }

  async close() {
    await this.session.release();
  }
}

function inputSizeOf(session: ort.InferenceSession, spec: ModelSpec): number {
  const meta = session.inputMetadata[0];
  const shape = meta && meta.isTensor ? meta.shape : [];
  const [n, c, h, w] = shape;
  if (session.inputNames.length !== 1 || shape.length !== 4 || c !== 3 || typeof h !== 'number' || h !== w || (n !== 1 && typeof n === 'number')) {
    throw new ModelError(
      `model "${spec.name}" (${spec.path}) has an unexpected input: expected one float32 [1, 3, S, S] tensor, got [${shape.join(', ')}]`,
    );
  }
  return h;
}
