import {
  DataType,
  dimsOf,
  elemTypes,
  floatData,
  makeNode,
  makeTensor,
  num,
  graphOf,
  intAttr,
  onnx,
  opsetOf,
  type Graph,
  type Model,
  type Node,
  type Tensor,
} from './onnx-graph.js';
import { activationParams, quantizeBias, quantizeWeightsPerChannel, type ActivationType, type QParams } from './quant-math.js';

/** Ops whose integer version ONNX Runtime fuses from a DequantizeLinear -> op -> QuantizeLinear group. */
export const QUANTIZABLE_OPS = ['Conv', 'Sigmoid', 'Mul', 'Add', 'Concat', 'MaxPool', 'Resize', 'Slice'] as const;

/**
 * Ops that only move or select values: their output keeps the input's scale and zero point,
 * so ONNX Runtime drops the Q/DQ pair around them and runs them on the 8-bit data.
 */
const SAME_SCALE_OPS = new Set(['MaxPool', 'Resize', 'Slice', 'Reshape', 'Transpose']);

/** Which inputs of an op carry activations (the rest: weights, shapes, scales). */
const DATA_INPUTS: Record<string, (n: Node) => number[]> = {
  Conv: () => [0],
  Sigmoid: () => [0],
  Mul: () => [0, 1],
  Add: () => [0, 1],
  Concat: (n) => n.input.map((_, i) => i),
  MaxPool: () => [0],
  Resize: () => [0],
  Slice: () => [0],
  Reshape: () => [0],
  Transpose: () => [0],
};

/** Ops whose signature changed at opset 13: bumping an older model's opset would break them. */
const OPS_CHANGED_AT_13 = new Set(['Squeeze', 'Unsqueeze', 'Split', 'ReduceSum']);

export class QdqError extends Error {
  override name = 'QdqError';
}

export interface QdqOptions {
  activationType: ActivationType;
  /** Op types to quantize (a subset of QUANTIZABLE_OPS). */
  ops: readonly string[];
  /**
   * Keep the output layers in float: every node from which a graph output is reached
   * without crossing another Conv (YOLOX: the box, objectness and class predictors and the
   * decoding tail). Box offsets need finer steps than 8 bits give over their range.
   */
  keepOutputLayersFloat: boolean;
  /**
   * Keep depthwise convolutions (group > 1) and the SiLU after them in float: onnxruntime-web's
   * integer depthwise kernel is slower than its float one (docs/quantization.md).
   */
  keepDepthwiseFloat?: boolean | undefined;
  /** Nodes (matched on their first output's name) kept in float in addition. */
  keepFloat?: RegExp | undefined;
}

/** Depthwise (grouped) Convs and the SiLU (Sigmoid, Mul) reading each one's output. */
export function depthwiseLayers(graph: Graph): Set<number> {
  const silu = siluPairs(graph);
  const convOutputs = new Set(graph.node.filter((n) => n.opType === 'Conv' && intAttr(n, 'group', 1) > 1).map((n) => n.output[0]!));
  const siluOutputs = new Set([...silu].filter(([x]) => convOutputs.has(x)).map(([, y]) => y));
  const out = new Set<number>();
  graph.node.forEach((n, i) => {
    const isConv = convOutputs.has(n.output[0]!);
    const isSigmoid = n.opType === 'Sigmoid' && convOutputs.has(n.input[0]!) && silu.has(n.input[0]!);
    if (isConv || isSigmoid || siluOutputs.has(n.output[0]!)) out.add(i);
  });
  return out;
}

export interface QdqPlan {
  /** Nodes to quantize, by index in graph.node. */
  nodes: Set<number>;
  /** Activation tensors that get a QuantizeLinear/DequantizeLinear pair: they need a range. */
  tensors: string[];
  /** Tensors read only by a SiLU (x * Sigmoid(x)), with the SiLU's output. */
  siluInputs: Map<string, string>;
}

/** x -> y for every x whose only readers are Sigmoid(x) = s and Mul(x, s) = y. */
export function siluPairs(graph: Graph): Map<string, string> {
  const readers = new Map<string, Node[]>();
  for (const n of graph.node) for (const x of new Set(n.input)) readers.set(x, [...(readers.get(x) ?? []), n]);
  const pairs = new Map<string, string>();
  for (const [x, rs] of readers) {
    const sigmoid = rs.find((n) => n.opType === 'Sigmoid');
    const mul = rs.find((n) => n.opType === 'Mul' && sigmoid && n.input.includes(sigmoid.output[0]!));
    if (rs.length === 2 && sigmoid && mul && (readers.get(sigmoid.output[0]!) ?? []).length === 1) pairs.set(x, mul.output[0]!);
  }
  return pairs;
}

/** The nodes of the output layers: graph outputs' producers back to (and including) the last Convs. */
export function outputLayers(graph: Graph): Set<number> {
  const producer = new Map<string, number>();
  graph.node.forEach((n, i) => n.output.forEach((o) => producer.set(o, i)));
  const seen = new Set<number>();
  const stack = graph.output.map((o) => producer.get(o.name)).filter((i): i is number => i !== undefined);
  while (stack.length) {
    const i = stack.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    const n = graph.node[i]!;
    if (n.opType === 'Conv') continue;
    for (const input of n.input) {
      const p = producer.get(input);
      if (p !== undefined) stack.push(p);
    }
  }
  return seen;
}

/** Which nodes get quantized and which tensors need a calibrated range. */
export function planQdq(graph: Graph, opts: QdqOptions): QdqPlan {
  const types = elemTypes(graph);
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const constants = new Set(graph.node.filter((n) => n.opType === 'Constant').flatMap((n) => n.output));
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const tail = opts.keepOutputLayersFloat ? outputLayers(graph) : new Set<number>();
  const depthwise = opts.keepDepthwiseFloat ? depthwiseLayers(graph) : new Set<number>();
  const isActivation = (t: string) => types.get(t) === DataType.FLOAT && !initializers.has(t) && !constants.has(t);
  const nodes = new Set<number>();
  const tensors = new Set<string>();
  graph.node.forEach((n, i) => {
    if (!opts.ops.includes(n.opType) || tail.has(i) || depthwise.has(i) || opts.keepFloat?.test(n.output[0] ?? '')) return;
    const data = DATA_INPUTS[n.opType]?.(n) ?? [];
    const inputs = data.map((k) => n.input[k]!);
    if (!inputs.length || !inputs.every(isActivation)) return;
    const output = n.output[0]!;
    // A graph output stays float and unquantized: the node producing it stays float too.
    if (graphOutputs.has(output) || types.get(output) !== DataType.FLOAT) return;
    if (n.opType === 'Conv') {
      const [w, b] = [n.input[1]!, n.input[2]];
      if (!initializers.has(w) || (b && !initializers.has(b))) return;
    }
    nodes.add(i);
    for (const t of inputs) tensors.add(t);
    tensors.add(output);
  });
  const silu = siluPairs(graph);
  const siluInputs = new Map([...silu].filter(([x, y]) => tensors.has(x) && tensors.has(y)));
  return { nodes, tensors: [...tensors], siluInputs };
}

/**
 * Rewrites a float model to QDQ format: a QuantizeLinear -> DequantizeLinear pair on every
 * planned activation, per-channel symmetric int8 weights and int32 biases behind
 * DequantizeLinear for each planned Conv. The result is still a float-in, float-out model
 * that any ONNX runtime can run; ONNX Runtime turns the groups into integer kernels.
 */
export function insertQdq(model: Model, plan: QdqPlan, ranges: Map<string, [number, number]>, opts: Pick<QdqOptions, 'activationType'>): Model {
  const version = opsetOf(model);
  if (version < 11) throw new QdqError(`opset ${version} is too old: QDQ rewriting needs opset 11 or newer`);
  const changed = version < 13 ? graphOf(model).node.find((n) => OPS_CHANGED_AT_13.has(n.opType)) : undefined;
  if (changed) throw new QdqError(`${changed.opType} changed at opset 13; re-export the model at opset 13 to quantize it`);
  const out = onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());
  const graph = graphOf(out);
  const zpType = opts.activationType === 'uint8' ? DataType.UINT8 : DataType.INT8;
  const zpArray = (v: number) => (opts.activationType === 'uint8' ? Uint8Array.of(v) : Int8Array.of(v));
  const init = new Map(graph.initializer.map((t) => [t.name, t]));
  const newInits: Tensor[] = [];

  // Activation parameters: calibrated, except after ops that only move values.
  const params = new Map<string, QParams>();
  for (const t of graph.input) {
    if (plan.tensors.includes(t.name)) params.set(t.name, paramsFor(t.name));
  }
  function paramsFor(name: string): QParams {
    const r = ranges.get(name);
    if (!r) throw new QdqError(`no calibrated range for tensor ${name}`);
    return activationParams(r[0], r[1], opts.activationType);
  }
  const planned = new Set(plan.tensors);
  graph.node.forEach((n, i) => {
    for (const o of n.output) {
      if (!planned.has(o)) continue;
      const source = plan.nodes.has(i) && SAME_SCALE_OPS.has(n.opType) ? params.get(n.input[0]!) : undefined;
      params.set(o, source ?? paramsFor(o));
    }
  });

  // Short names for what the rewrite adds (qdq<k>/...): the pairs outnumber the original
  // nodes and repeating each long exported tensor name in them would cost ~0.3 MB.
  const short = new Map<string, string>();
  const idOf = (name: string) => short.get(name) ?? short.set(name, `qdq${short.size}`).get(name)!;
  const dequantized = (name: string) => `${idOf(name)}/dequantized`;
  const qdqNodes = (name: string): Node[] => {
    const p = params.get(name)!;
    const id = idOf(name);
    newInits.push(makeTensor(`${id}/scale`, DataType.FLOAT, [], Float32Array.of(p.scale)), makeTensor(`${id}/zero_point`, zpType, [], zpArray(p.zeroPoint)));
    const args = [`${id}/scale`, `${id}/zero_point`];
    return [makeNode('QuantizeLinear', [name, ...args], [`${id}/quantized`], ''), makeNode('DequantizeLinear', [`${id}/quantized`, ...args], [dequantized(name)], '')];
  };

  const nodes: Node[] = [];
  for (const v of graph.input) if (planned.has(v.name)) nodes.push(...qdqNodes(v.name));
  graph.node.forEach((n, i) => {
    // Every reader of a planned tensor reads its dequantized copy, float nodes included:
    // the producer's only consumer must be its QuantizeLinear for ONNX Runtime to fuse it.
    const input = n.input[0]!;
    n.input = n.input.map((x) => (planned.has(x) ? dequantized(x) : x));
    if (plan.nodes.has(i) && n.opType === 'Conv') quantizeConvWeights(n, params.get(input)!);
    nodes.push(n);
    for (const o of n.output) if (planned.has(o)) nodes.push(...qdqNodes(o));
  });

  function quantizeConvWeights(n: Node, inputParams: QParams) {
    const [wName, bName] = [n.input[1]!, n.input[2]];
    const w = init.get(wName)!;
    const dims = dimsOf(w);
    const { q, scales } = quantizeWeightsPerChannel(floatData(w), dims[0]!);
    if (!newInits.some((t) => t.name === `${wName}/quantized`)) {
      newInits.push(
        makeTensor(`${wName}/quantized`, DataType.INT8, dims, q),
        makeTensor(`${wName}/scale`, DataType.FLOAT, [dims[0]!], scales),
        makeTensor(`${wName}/zero_point`, DataType.INT8, [dims[0]!], new Int8Array(dims[0]!)),
      );
      nodes.push(makeNode('DequantizeLinear', [`${wName}/quantized`, `${wName}/scale`, `${wName}/zero_point`], [`${wName}/dequantized`], '', { axis: 0 }));
    }
    n.input[1] = `${wName}/dequantized`;
    if (bName) {
      const b = quantizeBias(floatData(init.get(bName)!), inputParams.scale, scales);
      // Bias scales depend on the input's scale: one set per Conv.
      const bias = `${idOf(n.output[0]!)}/bias`;
      newInits.push(makeTensor(`${bias}_quantized`, DataType.INT32, [b.q.length], b.q), makeTensor(`${bias}_scale`, DataType.FLOAT, [b.q.length], b.scales));
      // No zero point: int32 biases are symmetric, and it would take as much room as the bias.
      nodes.push(makeNode('DequantizeLinear', [`${bias}_quantized`, `${bias}_scale`], [`${bias}_dequantized`], '', { axis: 0 }));
      n.input[2] = `${bias}_dequantized`;
    }
  }

  graph.node = topologicalOrder(nodes, new Set([...graph.input.map((v) => v.name), ...graph.initializer.map((t) => t.name), ...newInits.map((t) => t.name)]));
  const used = new Set(graph.node.flatMap((n) => n.input));
  // Float weights now stored as int8 are dropped; anything still read stays.
  graph.initializer = [...graph.initializer.filter((t) => used.has(t.name)), ...newInits];
  // Per-channel DequantizeLinear (axis) needs opset 13; IR 7 is the first to declare it.
  const opset = out.opsetImport.find((o) => !o.domain)!;
  if (opsetOf(out) < 13) opset.version = 13;
  if (num(out.irVersion) < 7) out.irVersion = 7;
  return out;
}

/** Nodes sorted so that every input is produced before it is read (and a graph with an input nothing produces refused). */
function topologicalOrder(nodes: Node[], available: Set<string>): Node[] {
  const ready = new Set(available);
  ready.add('');
  const pending = [...nodes];
  const sorted: Node[] = [];
  while (pending.length) {
    const before = pending.length;
    for (let i = 0; i < pending.length; ) {
      const n = pending[i]!;
      if (n.input.every((x) => ready.has(x))) {
        sorted.push(n);
        for (const o of n.output) ready.add(o);
        pending.splice(i, 1);
      } else i++;
    }
    if (pending.length === before) throw new QdqError(`graph has inputs nothing produces: ${pending[0]!.name} reads ${pending[0]!.input.filter((x) => !ready.has(x)).join(', ')}`);
  }
  return sorted;
}

