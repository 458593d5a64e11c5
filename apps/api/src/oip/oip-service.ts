import type { Config } from '@spotter/config';
import type { ModelRegistry } from '@spotter/models';
import { isFinal, NotFoundError, ValidationError, WaitTimeoutError, type Detection, type RegisteredModel, type TensorSignature } from '@spotter/shared';
import { jobFailure, type JobService } from '../services/job-service.js';
import type { InferInput, InferRequest, Parameters } from './infer-request.js';
import { binaryData, decodeBytesElements, elementCount, flattenData, jsonData, type OutputTensor } from './tensor-data.js';

/** The input that takes an encoded picture (JPEG, PNG, ...: what /v1 accepts), one per request. */
export const IMAGE_INPUT = 'IMAGE';
/** Detections as tensors, N of them, in the order of the answer (best first). */
export const DETECTION_OUTPUTS: TensorSignature[] = [
  { name: 'detection_boxes', datatype: 'FP32', shape: [-1, 4] },
  { name: 'detection_scores', datatype: 'FP32', shape: [-1] },
  { name: 'detection_classes', datatype: 'INT32', shape: [-1] },
  { name: 'detection_labels', datatype: 'BYTES', shape: [-1] },
  { name: 'num_detections', datatype: 'INT32', shape: [1] },
];
/** The model's own output tensor, only when asked for by name. */
export const RAW_OUTPUT = 'raw_output';
const PARAMETERS = ['min_score', 'image_width', 'image_height', 'binary_data_output', 'priority', 'timeout'];

export interface OipDeps {
  config: Config;
  registry: ModelRegistry;
  jobs: JobService;
  /** The live model's name (the rollout's), read on each request. */
  liveModel: () => Promise<string>;
}

/** The model's FP32 input as its file declares it (YOLOX: `images`, [1, 3, 416, 416]). */
const tensorInput = (m: RegisteredModel): TensorSignature => ({ name: m.signature?.inputs[0]?.name ?? 'images', datatype: 'FP32', shape: m.signature?.inputs[0]?.shape ?? [1, 3, -1, -1] });

const detectionTensors = (d: readonly Detection[]): OutputTensor[] => [
  { name: 'detection_boxes', datatype: 'FP32', shape: [d.length, 4], values: d.flatMap((x) => [x.box.x1, x.box.y1, x.box.x2, x.box.y2]) },
  { name: 'detection_scores', datatype: 'FP32', shape: [d.length], values: d.map((x) => x.score) },
  { name: 'detection_classes', datatype: 'INT32', shape: [d.length], values: d.map((x) => x.class_id) },
  { name: 'detection_labels', datatype: 'BYTES', shape: [d.length], values: d.map((x) => x.label) },
  { name: 'num_detections', datatype: 'INT32', shape: [1], values: [d.length] },
];

/** The Open Inference Protocol (v2) over Spotter's registry and jobs: metadata, readiness, inference. */
export class OipService {
  constructor(private readonly deps: OipDeps) {}

  /** The named model, at `version` when given (its registry version); 404 otherwise. */
  async model(name: string, version?: string): Promise<RegisteredModel> {
    const { registry } = this.deps;
    const m = await registry.find(name).catch(() => null);
    if (!m) throw new NotFoundError('MODEL_NOT_FOUND', `unknown model ${JSON.stringify(name)}; available: ${registry.names().join(', ')}`);
    if (version !== undefined && version !== m.version) throw new NotFoundError('MODEL_VERSION_NOT_FOUND', `model "${name}" has version ${m.version}, not ${JSON.stringify(version)}`);
    return m;
  }

  /** Why a model cannot serve, or null: its file missing or altered, or not an ONNX graph at all. */
  notReady(m: RegisteredModel): string | null {
    return m.problem ?? (m.signature ? null : `the file ${m.file} is not an ONNX model (no graph could be read from it)`);
  }

  /** $metadata_model_response: both inputs (send one of them), the detection outputs and the raw one. */
  metadata(m: RegisteredModel) {
    const raw = m.signature?.outputs[0];
    return {
      name: m.name,
      versions: [m.version],
      platform: 'onnx_onnxv1',
      inputs: [{ name: IMAGE_INPUT, datatype: 'BYTES', shape: [1] }, tensorInput(m)],
      outputs: [...DETECTION_OUTPUTS, { name: RAW_OUTPUT, datatype: raw?.datatype ?? 'FP32', shape: raw?.shape ?? [-1] }],
    };
  }

  /**
   * One inference through the job queue, waited for like POST /v1/predict. A picture sent to
   * the live model's name goes through the rollout (a canary may answer: `model_name` says
   * which); a tensor runs on exactly the named model. Returns the response and the binary
   * tensor data that follows it.
   */
  async infer(owner: string, m: RegisteredModel, req: InferRequest, idempotencyKey?: string): Promise<{ jobId: string; body: object; binary: Buffer[] }> {
    const params = readParameters(req.parameters);
    const requested = this.requestedOutputs(req, params.binaryOutput);
    if (req.inputs.length !== 1) throw new ValidationError(`send exactly one input, ${IMAGE_INPUT} (BYTES) or ${tensorInput(m).name} (FP32); got ${req.inputs.length}`);
    const input = req.inputs[0]!;
    const fields = { min_score: params.minScore, model: m.name };
    const opts = { rawOutput: requested.some((o) => o.name === RAW_OUTPUT) };
    let id: string;
    if (input.name === IMAGE_INPUT && input.datatype === 'BYTES') {
      if (params.source) throw new ValidationError('image_width and image_height go with an FP32 tensor; a picture has its own size');
      const live = m.name === (await this.deps.liveModel());
      ({ id } = await this.deps.jobs.create(owner, imageBytes(input), live ? { min_score: params.minScore } : fields, idempotencyKey, opts));
    } else if (input.name === tensorInput(m).name && input.datatype === 'FP32') {
      const shape = input.shape;
      const tensor = { datatype: 'FP32' as const, shape, ...(params.source ? { source: params.source } : {}) };
      if (shape.length !== 4 || shape[0] !== 1 || shape[1] !== 3) throw new ValidationError(`input "${input.name}" must be [1, 3, H, W], not [${shape.join(', ')}]`, 'TENSOR_SHAPE_MISMATCH');
      ({ id } = await this.deps.jobs.createFromTensor(owner, tensorBytes(input), tensor, fields, idempotencyKey, opts));
    } else {
      throw new ValidationError(`unknown input "${input.name}" (${input.datatype}) for model "${m.name}": send ${IMAGE_INPUT} as BYTES (an encoded picture) or ${tensorInput(m).name} as FP32 [${tensorInput(m).shape.join(', ')}]`);
    }
    const view = await this.deps.jobs.wait(owner, id, this.deps.config.http.predictTimeoutMs / 1000);
    if (!isFinal(view.status)) throw new WaitTimeoutError(id, this.deps.config.http.predictTimeoutMs / 1000);
    if (view.status !== 'succeeded' || !view.result) throw jobFailure(view);
    const tensors = detectionTensors(view.result.detections);
    if (opts.rawOutput) {
      const raw = await this.deps.jobs.takeRawOutput(id);
      if (raw) tensors.push({ name: RAW_OUTPUT, datatype: 'FP32', shape: raw.dims, values: raw.data });
    }
    const binary: Buffer[] = [];
    const outputs = requested.map(({ name, binary: asBinary }) => {
      const t = tensors.find((x) => x.name === name);
      if (!t) throw new ValidationError(`output "${name}" is not available for this job`);
      const head = { name: t.name, datatype: t.datatype, shape: t.shape };
      if (!asBinary) return { ...head, data: jsonData(t) };
      const bytes = binaryData(t);
      binary.push(bytes);
      return { ...head, parameters: { binary_data_size: bytes.length } };
    });
    const { name, version } = view.result.model;
    return { jobId: id, body: { model_name: name, model_version: version, id: req.id ?? id, parameters: { job_id: id }, outputs }, binary };
  }

  /** The outputs asked for (all detection outputs when none are named), each as JSON or binary. */
  private requestedOutputs(req: InferRequest, binaryOutput: boolean) {
    const known = [...DETECTION_OUTPUTS.map((o) => o.name), RAW_OUTPUT];
    if (!req.outputs?.length) return DETECTION_OUTPUTS.map((o) => ({ name: o.name, binary: binaryOutput }));
    return req.outputs.map((o) => {
      if (!known.includes(o.name)) throw new ValidationError(`unknown output "${o.name}"; outputs: ${known.join(', ')}`);
      const extra = Object.keys(o.parameters).filter((k) => k !== 'binary_data');
      if (extra.length) throw new ValidationError(`output "${o.name}": parameter ${extra.join(', ')} is not supported (the classification extension is not; only binary_data is)`, 'UNSUPPORTED_FEATURE');
      const binary = o.parameters.binary_data;
      if (binary !== undefined && typeof binary !== 'boolean') throw new ValidationError(`output "${o.name}": binary_data must be true or false`);
      return { name: o.name, binary: binary ?? binaryOutput };
    });
  }
}

/** The request's parameters Spotter reads (others are refused, so that no option is silently ignored). */
function readParameters(p: Parameters) {
  const unknown = Object.keys(p).filter((k) => !PARAMETERS.includes(k));
  if (unknown.length) throw new ValidationError(`parameter ${unknown.join(', ')} is not supported; parameters: ${PARAMETERS.join(', ')}`, 'UNSUPPORTED_FEATURE');
  const minScore = p.min_score ?? 0.25;
  if (typeof minScore !== 'number' || !(minScore >= 0 && minScore <= 1)) throw new ValidationError('parameter min_score must be a number between 0 and 1');
  const { image_width: w, image_height: h } = p;
  if ((w === undefined) !== (h === undefined)) throw new ValidationError('parameters image_width and image_height go together');
  const whole = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= 100_000;
  if (w !== undefined && !(whole(w) && whole(h))) throw new ValidationError('parameters image_width and image_height must be whole numbers of pixels');
  const binaryOutput = p.binary_data_output ?? false;
  if (typeof binaryOutput !== 'boolean') throw new ValidationError('parameter binary_data_output must be true or false');
  return { minScore, binaryOutput, source: w === undefined ? undefined : { width: w as number, height: h as number } };
}

/** The picture in a BYTES input: one element, binary, or in JSON as base64 (JSON strings cannot hold bytes). */
function imageBytes(input: InferInput): Buffer {
  if (elementCount(input.shape) !== 1) throw new ValidationError(`input ${IMAGE_INPUT} holds one picture: shape [1], not [${input.shape.join(', ')}]`);
  if (input.binary) {
    const items = decodeBytesElements(input.binary);
    if (items.length !== 1) throw new ValidationError(`input ${IMAGE_INPUT} has ${items.length} elements in its binary data; send one picture`);
    return items[0]!;
  }
  const items = flattenData(input.data);
  const b64 = items[0];
  if (items.length !== 1 || typeof b64 !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(b64)) {
    throw new ValidationError(`input ${IMAGE_INPUT} as JSON is one base64 string (the encoded picture); use binary data for raw bytes`);
  }
  return Buffer.from(b64, 'base64');
}

/** An FP32 input's values as float32 little-endian bytes (what the worker reads). */
function tensorBytes(input: InferInput): Buffer {
  const count = elementCount(input.shape);
  if (input.binary) {
    if (input.binary.length !== 4 * count) throw new ValidationError(`input "${input.name}" [${input.shape.join(', ')}] needs ${4 * count} bytes of FP32 data, got ${input.binary.length}`);
    return Buffer.from(input.binary);
  }
  const values = flattenData(input.data);
  if (values.length !== count) throw new ValidationError(`input "${input.name}" [${input.shape.join(', ')}] needs ${count} values, got ${values.length}`);
  if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) throw new ValidationError(`input "${input.name}": FP32 data must be finite numbers`);
  const f32 = Float32Array.from(values as number[]);
  return Buffer.from(f32.buffer);
}
