import { calibratedRange, collectStats, type CalibrationMethod, type TensorStats } from './calibrate.js';
import { graphOf, readModel, writeModel, type Model } from './onnx-graph.js';
import { insertQdq, planQdq, QUANTIZABLE_OPS, type QdqOptions } from './qdq.js';

export interface QuantizeOptions extends QdqOptions {
  method: CalibrationMethod;
  /** For the percentile method: the share of values kept on each side. */
  percentile?: number;
}

/** The variant `spotter quantize` writes (see docs/quantization.md for the others measured). */
export const DEFAULT_QUANTIZE: QuantizeOptions = {
  method: 'entropy',
  activationType: 'uint8',
  ops: QUANTIZABLE_OPS,
  keepOutputLayersFloat: true,
};

export interface QuantizeResult {
  bytes: Uint8Array;
  /** Nodes turned into integer groups, by op type. */
  quantizedOps: Record<string, number>;
  /** Tensors with a Q/DQ pair. */
  activations: number;
}

/** Rewrites a model with ranges taken from already collected statistics (calibrate once, try many variants). */
export function quantizeWithStats(model: Model, stats: Map<string, TensorStats>, opts: QuantizeOptions): QuantizeResult {
  const plan = planQdq(graphOf(model), opts);
  const ranges = new Map(plan.tensors.map((t) => {
    const s = stats.get(t);
    if (!s) throw new Error(`tensor ${t} was not observed during calibration`);
    return [t, calibratedRange(s, opts.method, opts.percentile)] as const;
  }));
  const quantizedOps: Record<string, number> = {};
  for (const i of plan.nodes) {
    const op = graphOf(model).node[i]!.opType;
    quantizedOps[op] = (quantizedOps[op] ?? 0) + 1;
  }
  return { bytes: writeModel(insertQdq(model, plan, ranges, opts)), quantizedOps, activations: plan.tensors.length };
}

/**
 * Float .onnx bytes -> QDQ int8 .onnx bytes: plans the rewrite, runs the calibration
 * inputs through the float model to observe the planned tensors, and inserts the pairs.
 */
export async function quantizeModel(
  floatBytes: Uint8Array,
  inputs: Float32Array[],
  opts: QuantizeOptions,
  onProgress?: (pass: number, done: number, total: number) => void,
): Promise<QuantizeResult> {
  const model = readModel(floatBytes);
  const plan = planQdq(graphOf(model), opts);
  const stats = await collectStats(model, plan.tensors, inputs, { histograms: opts.method !== 'minmax', onProgress });
  return quantizeWithStats(model, stats, opts);
}
