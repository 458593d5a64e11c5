import { calibratedRange, collectStats, type CalibrationMethod, type TensorStats } from './calibrate.js';
import { graphOf, readModel, writeModel, type Model } from './onnx-graph.js';
import { insertQdq, planQdq, QUANTIZABLE_OPS, type QdqOptions } from './qdq.js';
import { siluFloor } from './quant-math.js';

export interface QuantizeOptions extends QdqOptions {
  method: CalibrationMethod;
  /** For the percentile method: the share of values kept on each side. */
  percentile?: number;
}

/**
 * YOLOX's stem and dark2 stage (the 208x208 and 104x104 layers): with them int8 the model
 * loses 0.06-0.18 AP on coco-val128 whatever the calibration method; with them float, every
 * other layer together costs less than 0.01 with min-max (docs/quantization.md).
 */
export const YOLOX_SENSITIVE_LAYERS = /\/(stem|dark2)\//;

/**
 * The variant `spotter quantize` writes: the fastest in the browser of those within 0.01 AP
 * (docs/quantization.md has the others measured).
 */
export const DEFAULT_QUANTIZE: QuantizeOptions = {
  method: 'minmax',
  activationType: 'uint8',
  ops: QUANTIZABLE_OPS,
  keepOutputLayersFloat: true,
  keepDepthwiseFloat: true,
  keepFloat: YOLOX_SENSITIVE_LAYERS,
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
  const ranges = new Map(
    plan.tensors.map((t) => {
      const s = stats.get(t);
      if (!s) throw new Error(`tensor ${t} was not observed during calibration`);
      return [t, calibratedRange(s, opts.method, opts.percentile)];
    }),
  );
  // A SiLU input's far negative side all maps to SiLU outputs within half a step of 0:
  // clipping it there (as ReLU inputs are clipped at 0) gives the useful side finer steps.
  for (const [x, y] of plan.siluInputs) {
    const [lo, hi] = ranges.get(x)!;
    const out = ranges.get(y)!;
    ranges.set(x, [Math.max(lo, siluFloor((Math.max(out[1], 0) - Math.min(out[0], 0)) / 255)), hi]);
  }
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
