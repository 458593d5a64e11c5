// ONNX files are read and written with `onnx-proto`: the official onnx.proto (ONNX v1.10.2,
// IR version 8) compiled to static protobuf.js code, MIT, >1M downloads a month and the
// reader onnxruntime-web itself was built on. It needs no .proto file at run time and no
// Python. Its schema stops at IR 8, and protobuf.js drops fields it does not know when it
// decodes, so newer files are refused (assertReadable) rather than silently stripped.
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
// Decoded messages are class instances whose repeated fields are always arrays; these
// types say so, which the generated interfaces (every field optional) do not.
export type Model = onnxProto.onnx.ModelProto;
export type Node = onnxProto.onnx.NodeProto;
export type Tensor = onnxProto.onnx.TensorProto;
export type ValueInfo = onnxProto.onnx.ValueInfoProto;
export type Graph = Omit<onnxProto.onnx.GraphProto, 'node' | 'initializer' | 'input' | 'output'> & { node: Node[]; initializer: Tensor[]; input: ValueInfo[]; output: ValueInfo[] };

/** The graph of a decoded (or built) model. */
export function graphOf(model: Model): Graph {
  if (!model.graph) throw new OnnxGraphError('not an ONNX model: no graph');
  return model.graph as Graph;
}

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7 } as const;

/** The newest IR version the schema knows in full. */
export const MAX_IR_VERSION = 8;

export class OnnxGraphError extends Error {
  override name = 'OnnxGraphError';
}

/** An int64 field (a Long when protobuf.js has long.js) as a number. */
export const num = (v: number | { toNumber(): number } | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

/** Decodes an .onnx file; refuses IR versions whose fields this schema would drop. */
export function readModel(bytes: Uint8Array): Model {
  const model = onnx.ModelProto.decode(bytes);
  if (!model.graph) throw new OnnxGraphError('not an ONNX model: no graph');
  if (num(model.irVersion) > MAX_IR_VERSION) throw new OnnxGraphError(`IR version ${num(model.irVersion)} is newer than this reader's ${MAX_IR_VERSION}`);
  return model;
}

/** Encodes a model to .onnx bytes. */
export function writeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** Default-domain opset of a model. */
export function opsetOf(model: Model): number {
  const entry = model.opsetImport.find((o) => !o.domain);
  return num(entry?.version);
}

/** The declared shape of the first graph input (symbolic dimensions as 1: a batch of one). */
export function inputShape(model: Model): number[] {
  const dims = graphOf(model).input[0]?.type?.tensorType?.shape?.dim ?? [];
  return dims.map((d) => (d.dimValue != null && num(d.dimValue) > 0 ? num(d.dimValue) : 1));
}

export const dimsOf = (t: onnxProto.onnx.ITensorProto): number[] => (t.dims ?? []).map((d) => num(d));

/** A float initializer's values, from raw_data or float_data. */
export function floatData(t: onnxProto.onnx.ITensorProto): Float32Array {
  if (t.dataType !== DataType.FLOAT) throw new OnnxGraphError(`tensor ${t.name} is not float32 (data type ${t.dataType})`);
  if (t.rawData && t.rawData.length) {
    // Copy (a Buffer's slice() would not): raw_data may sit at an offset that is not a multiple of 4.
    return new Float32Array(new Uint8Array(t.rawData).buffer);
  }
  return Float32Array.from(t.floatData ?? []);
}

type TypedArray = Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array;

/** An initializer with its values stored as little-endian raw_data (what exporters write). */
export function makeTensor(name: string, dataType: number, dims: number[], data: TypedArray): Tensor {
  const size = dims.reduce((a, b) => a * b, 1);
  if (size !== data.length) throw new OnnxGraphError(`tensor ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
  return onnx.TensorProto.create({ name, dataType, dims, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
}

type AttrValue = number | number[] | string;

/** A node; integer attributes (or lists of them) and strings are all this rewrite needs. */
export function makeNode(opType: string, inputs: string[], outputs: string[], name: string, attrs: Record<string, AttrValue> = {}): Node {
  const attribute = Object.entries(attrs).map<onnxProto.onnx.IAttributeProto>(([key, v]) =>
    typeof v === 'string'
      ? { name: key, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) }
      : Array.isArray(v)
        ? { name: key, type: onnx.AttributeProto.AttributeType.INTS, ints: v }
        : { name: key, type: onnx.AttributeProto.AttributeType.INT, i: v },
  );
  return onnx.NodeProto.create({ opType, input: inputs, output: outputs, name, attribute });
}

/** An integer attribute of a node, or `fallback`. */
export function intAttr(node: Node, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a ? num(a.i) : fallback;
}

/** A typed graph output (or input) without a shape. */
export function valueInfo(name: string, elemType: number) {
  return onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType } } });
}

/**
 * The element type of every tensor in the graph: inputs and initializers as declared,
 * node outputs as their op defines them. Enough ops for CNN exports; unknown ops leave
 * their outputs untyped.
 */
export function elemTypes(graph: Graph): Map<string, number> {
  const types = new Map<string, number>();
  for (const v of graph.input) if (v.type?.tensorType?.elemType) types.set(v.name, v.type.tensorType.elemType);
  for (const t of graph.initializer) types.set(t.name, t.dataType);
  const firstInput = (n: Node) => types.get(n.input[0] ?? '');
  for (const n of graph.node) {
    let t: number | undefined;
    switch (n.opType) {
      case 'Constant':
        t = n.attribute.find((a) => a.name === 'value')?.t?.dataType ?? undefined;
        break;
      case 'Shape':
        t = DataType.INT64;
        break;
      case 'QuantizeLinear':
        t = types.get(n.input[2] ?? '') ?? DataType.UINT8;
        break;
      case 'DequantizeLinear':
        t = DataType.FLOAT;
        break;
      case 'Cast':
        t = intAttr(n, 'to', 0) || undefined;
        break;
      default:
        // Conv, activations, element-wise ops, pooling, Resize, Slice, Concat, Reshape,
        // Transpose...: the output has the type of the data input.
        t = firstInput(n);
    }
    if (t) for (const o of n.output) types.set(o, t);
  }
  return types;
}

/** The model with extra graph outputs (for calibration: every tensor to observe). */
export function withExtraOutputs(model: Model, names: string[], elemType: number = DataType.FLOAT): Model {
  const copy = onnx.ModelProto.decode(writeModel(model));
  const graph = graphOf(copy);
  const existing = new Set(graph.output.map((o) => o.name));
  graph.output = [...graph.output, ...names.filter((n) => !existing.has(n)).map((n) => valueInfo(n, elemType))];
  return copy;
}
