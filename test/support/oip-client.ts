import { gzipSync } from 'node:zlib';
import { validateOipRequest, validateOipResponse } from './oip-spec.js';

/**
 * The Open Inference Protocol on the wire the way the Python clients send it, for tests
 * that cannot install them: tritonclient.http (InferInput.set_data_from_numpy with
 * binary_data=True by default, `_get_inference_request`: no outputs named means
 * `parameters.binary_data_output: true`; Inference-Header-Content-Length when any tensor is
 * binary; optional gzip request compression; InferResult reading binary outputs in order) and
 * KServe's InferenceRESTClient (`InferRequest.to_rest()`: `id` and `model_name` in the body,
 * tensors as JSON, `Content-Type: application/json`). Every request and answer is checked
 * against the protocol's OpenAPI document on the way.
 */

type Datatype = 'BYTES' | 'FP32';

export class InferInput {
  data?: unknown[];
  raw?: Buffer;
  parameters: Record<string, unknown> = {};
  constructor(
    readonly name: string,
    readonly shape: number[],
    readonly datatype: Datatype,
  ) {}

  /**
   * tritonclient's set_data_from_numpy: binary by default (BYTES elements length-prefixed);
   * as JSON, FP32 values as numbers and BYTES as strings (base64 here: JSON holds no raw bytes).
   */
  setData(values: Float32Array | Buffer[], binary = true): this {
    if (binary) {
      this.raw = Array.isArray(values)
        ? Buffer.concat(values.flatMap((b) => [Buffer.from(Uint32Array.of(b.length).buffer), b]))
        : Buffer.from(values.buffer, values.byteOffset, values.byteLength);
      this.parameters.binary_data_size = this.raw.length;
      delete this.data;
    } else {
      this.data = Array.isArray(values) ? values.map((b) => b.toString('base64')) : Array.from(values);
      delete this.raw;
      delete this.parameters.binary_data_size;
    }
    return this;
  }

  tensor() {
    return { name: this.name, shape: this.shape, datatype: this.datatype, ...(Object.keys(this.parameters).length ? { parameters: this.parameters } : {}), ...(this.data ? { data: this.data } : {}) };
  }
}

export class InferRequestedOutput {
  constructor(
    readonly name: string,
    readonly binary = true,
  ) {}
  tensor() {
    return { name: this.name, parameters: { binary_data: this.binary } };
  }
}

/** tritonclient's InferResult: outputs by name, binary ones read from the bytes after the JSON in order. */
export class InferResult {
  private readonly tensors = new Map<string, { datatype: string; shape: number[]; values: number[] | Buffer[] }>();
  constructor(readonly json: { model_name: string; model_version?: string; id?: string; parameters?: Record<string, unknown>; outputs: { name: string; datatype: string; shape: number[]; data?: unknown[]; parameters?: { binary_data_size?: number } }[] }, binary: Buffer) {
    let offset = 0;
    for (const o of json.outputs) {
      let values: number[] | Buffer[];
      if (o.parameters?.binary_data_size !== undefined) {
        const bytes = binary.subarray(offset, offset + o.parameters.binary_data_size);
        offset += o.parameters.binary_data_size;
        if (o.datatype === 'BYTES') {
          const items: Buffer[] = [];
          for (let i = 0; i < bytes.length; i += 4 + bytes.readUInt32LE(i)) items.push(bytes.subarray(i + 4, i + 4 + bytes.readUInt32LE(i)));
          values = items;
        } else {
          const copy = new Uint8Array(bytes);
          values = Array.from(o.datatype === 'INT32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer));
        }
      } else values = o.datatype === 'BYTES' ? (o.data as string[]).map((s) => Buffer.from(s, 'utf8')) : (o.data as number[]);
      this.tensors.set(o.name, { datatype: o.datatype, shape: o.shape, values });
    }
  }

  /** An output's values (flat) and shape; BYTES elements as Buffers. */
  asArray(name: string) {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`no output ${name}`);
    return t;
  }
}

export interface InferOptions {
  outputs?: InferRequestedOutput[];
  requestId?: string;
  parameters?: Record<string, unknown>;
  modelVersion?: string;
  headers?: Record<string, string>;
  /** tritonclient's request_compression_algorithm='gzip'. */
  gzip?: boolean;
  /** How the body is laid out: tritonclient's or KServe's REST client's. */
  flavour?: 'tritonclient' | 'kserve';
}

/** Any OIP call, its request and answer checked against the document; the answer's JSON and trailing bytes. */
export async function oipCall(base: string, method: 'GET' | 'POST', path: string, init: { headers?: Record<string, string>; json?: object; binary?: Buffer[]; gzip?: boolean; contentType?: string } = {}) {
  const binary = Buffer.concat(init.binary ?? []);
  validateOipRequest(method, path, init.json as never, binary.length);
  const headers: Record<string, string> = { ...init.headers };
  let body: Buffer | undefined;
  if (init.json) {
    const json = Buffer.from(JSON.stringify(init.json));
    body = Buffer.concat([json, binary]);
    if (binary.length) headers['Inference-Header-Content-Length'] ??= String(json.length);
    if (init.contentType) headers['Content-Type'] = init.contentType;
    if (init.gzip) {
      body = gzipSync(body);
      headers['Content-Encoding'] = 'gzip';
    }
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body ? { body } : {}) });
  const bytes = Buffer.from(await res.arrayBuffer());
  const headerLength = res.headers.get('inference-header-content-length');
  const jsonLength = headerLength === null ? bytes.length : Number(headerLength);
  const json = bytes.length ? JSON.parse(bytes.subarray(0, jsonLength).toString('utf8')) : undefined;
  const trailing = bytes.subarray(jsonLength);
  validateOipResponse(method, path, res.status, json, trailing.length);
  return { status: res.status, headers: res.headers, json, trailing };
}

/** `client.infer(model_name, inputs, ...)` as tritonclient.http or KServe's REST client sends it. */
export async function infer(base: string, model: string, inputs: InferInput[], opts: InferOptions = {}) {
  const kserve = opts.flavour === 'kserve';
  const parameters: Record<string, unknown> = { ...opts.parameters };
  // tritonclient: no outputs named -> every output as binary data.
  if (!opts.outputs?.length && !kserve) parameters.binary_data_output = true;
  const json = {
    ...(kserve ? { id: opts.requestId ?? crypto.randomUUID(), model_name: model } : opts.requestId ? { id: opts.requestId } : {}),
    inputs: inputs.map((i) => i.tensor()),
    ...(opts.outputs?.length ? { outputs: opts.outputs.map((o) => (kserve && !o.binary ? { name: o.name } : o.tensor())) } : {}),
    ...(Object.keys(parameters).length ? { parameters } : {}),
  };
  const path = `/v2/models/${encodeURIComponent(model)}${opts.modelVersion ? `/versions/${opts.modelVersion}` : ''}/infer`;
  const binary = inputs.flatMap((i) => (i.raw ? [i.raw] : []));
  const contentType = kserve ? (binary.length ? 'application/octet-stream' : 'application/json') : undefined;
  const res = await oipCall(base, 'POST', path, { json, binary, ...(opts.headers ? { headers: opts.headers } : {}), ...(opts.gzip ? { gzip: true } : {}), ...(contentType ? { contentType } : {}) });
  return { ...res, result: res.status === 200 ? new InferResult(res.json, res.trailing) : null };
}
