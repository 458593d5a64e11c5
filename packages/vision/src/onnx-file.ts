// What an .onnx file says about itself, read straight from its protobuf: inputs, outputs and
// metadata_props. Pure (no onnxruntime, no Node), so the API checks an upload, the CLI
// inspects a file and a browser could read one, all with the same few fields of onnx.proto.
import type { Dim, ModelIO, TensorInfo } from './model-io.js';

/** The file's inputs and outputs, metadata_props and provenance. */
export interface OnnxFileInfo {
  io: ModelIO;
  metadata: Record<string, string>;
  irVersion: number;
  producer: string;
}

// TensorProto.DataType -> onnxruntime's type names.
const ELEM_TYPES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

/** The fields of one protobuf message: field number -> values (varints as numbers, length-delimited as byte views). */
function fields(buf: Uint8Array, wanted: ReadonlySet<number>): Map<number, (number | Uint8Array)[]> {
  const out = new Map<number, (number | Uint8Array)[]>();
  let at = 0;
  const varint = () => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (at >= buf.length) throw new Error('truncated varint');
      const b = buf[at++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  };
  while (at < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let value: number | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 1) (value = 0), (at += 8);
    else if (wire === 5) (value = 0), (at += 4);
    else if (wire === 2) {
      const len = varint();
      if (at + len > buf.length) throw new Error('truncated field');
      value = buf.subarray(at, at + len);
      at += len;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (!wanted.has(field)) continue;
    const list = out.get(field);
    if (list) list.push(value);
    else out.set(field, [value]);
  }
  return out;
}

const text = (v: number | Uint8Array | undefined) => (v instanceof Uint8Array ? new TextDecoder().decode(v) : '');
const bytesOf = (v: number | Uint8Array | undefined) => (v instanceof Uint8Array ? v : new Uint8Array());

function valueInfo(buf: Uint8Array): TensorInfo {
  const vi = fields(buf, new Set([1, 2]));
  const type = fields(bytesOf(vi.get(2)?.[0]), new Set([1]));
  const tensor = type.get(1)?.[0];
  if (!(tensor instanceof Uint8Array)) return { name: text(vi.get(1)?.[0]), type: 'non-tensor', shape: [] };
  const t = fields(tensor, new Set([1, 2]));
  const dims = fields(bytesOf(t.get(2)?.[0]), new Set([1])).get(1) ?? [];
  const shape: Dim[] = dims.map((d) => {
    const v = fields(bytesOf(d), new Set([1])).get(1)?.[0];
    return typeof v === 'number' && v > 0 ? v : null;
  });
  return { name: text(vi.get(1)?.[0]), type: ELEM_TYPES[Number(t.get(1)?.[0] ?? 0)] ?? 'unknown', shape };
}

/** Reads an .onnx file's inputs, outputs and metadata; throws when the bytes are not an ONNX model. */
export function readOnnxFile(bytes: Uint8Array): OnnxFileInfo {
  let model: Map<number, (number | Uint8Array)[]>;
  try {
    model = fields(bytes, new Set([1, 2, 7, 14]));
  } catch (err) {
    throw new Error(`not an ONNX model: ${(err as Error).message}`);
  }
  const graphBytes = model.get(7)?.[0];
  if (!(graphBytes instanceof Uint8Array)) throw new Error('not an ONNX model: no graph');
  const graph = fields(graphBytes, new Set([5, 11, 12]));
  // Old exporters list initializers among the inputs; they are weights, not inputs to feed.
  const initializers = new Set((graph.get(5) ?? []).map((t) => text(fields(bytesOf(t), new Set([8])).get(8)?.[0])));
  const inputs = (graph.get(11) ?? []).map((b) => valueInfo(bytesOf(b))).filter((t) => !initializers.has(t.name));
  const outputs = (graph.get(12) ?? []).map((b) => valueInfo(bytesOf(b)));
  if (!inputs.length || !outputs.length) throw new Error('not an ONNX model: the graph has no inputs or no outputs');
  const metadata: Record<string, string> = {};
  for (const entry of model.get(14) ?? []) {
    const kv = fields(bytesOf(entry), new Set([1, 2]));
    metadata[text(kv.get(1)?.[0])] = text(kv.get(2)?.[0]);
  }
  return { io: { inputs, outputs }, metadata, irVersion: Number(model.get(1)?.[0] ?? 0), producer: text(model.get(2)?.[0]) };
}
