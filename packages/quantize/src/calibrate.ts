import { readFile } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { decodeToFit } from '@spotter/imaging';
import { buildFeeds, planFit, type ModelPlan } from '@spotter/vision';
import { inputShape, withExtraOutputs, writeModel, type Model } from './onnx-graph.js';
import { entropyRange, Histogram, percentileRange } from './quant-math.js';

export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/** What calibration saw of one tensor: its extremes and, for percentile/entropy, a histogram. */
export interface TensorStats {
  min: number;
  max: number;
  histogram?: Histogram;
}

/**
 * Model input tensors made exactly as the workers make them: decodeToFit (decode + resize
 * in libvips) to the model's fit, then its pre-processing. One-input models only.
 */
export async function calibrationTensors(files: string[], plan: ModelPlan, maxPixels: number): Promise<Float32Array[]> {
  if (plan.extras.length) throw new Error(`model "${plan.spec.name}" takes more than a picture (${plan.extras.map((e) => e.name).join(', ')}); the quantizer calibrates one-input models`);
  const tensors: Float32Array[] = [];
  for (const file of files) {
    const img = await decodeToFit(await readFile(file), planFit(plan), maxPixels);
    tensors.push(buildFeeds(plan, img)[0]!.data as Float32Array);
  }
  return tensors;
}

/**
 * Runs the float model, augmented so that every tensor to observe is a graph output, over
 * the calibration inputs: a first pass for the extremes, and with `histograms` a second
 * one filling a fixed-range histogram per tensor (exact, no re-binning).
 */
export async function collectStats(
  model: Model,
  tensors: string[],
  inputs: Float32Array[],
  opts: { histograms: boolean; bins?: number; onProgress?: (pass: number, done: number, total: number) => void },
): Promise<Map<string, TensorStats>> {
  const augmented = withExtraOutputs(model, tensors);
  const session = await ort.InferenceSession.create(writeModel(augmented), { graphOptimizationLevel: 'basic' });
  const inputName = session.inputNames[0]!;
  const dims = inputShape(model);
  const stats = new Map<string, TensorStats>(tensors.map((t) => [t, { min: Infinity, max: -Infinity }]));
  const run = async (each: (name: string, data: Float32Array) => void, pass: number) => {
    for (const [i, input] of inputs.entries()) {
      const out = await session.run({ [inputName]: new ort.Tensor('float32', input, dims) });
      for (const name of tensors) each(name, out[name]!.data as Float32Array);
      for (const t of Object.values(out)) t.dispose();
      opts.onProgress?.(pass, i + 1, inputs.length);
    }
  };
  try {
    await run((name, data) => {
      const s = stats.get(name)!;
      let { min, max } = s;
      for (let i = 0; i < data.length; i++) {
        const v = data[i]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      s.min = min;
      s.max = max;
    }, 1);
    if (opts.histograms) {
      for (const s of stats.values()) s.histogram = new Histogram(s.min, s.max, opts.bins);
      await run((name, data) => stats.get(name)!.histogram!.add(data), 2);
    }
  } finally {
    await session.release();
  }
  return stats;
}

/** The range each tensor is quantized to, by calibration method. */
export function calibratedRange(s: TensorStats, method: CalibrationMethod, percentile = 99.99): [number, number] {
  if (method === 'minmax') return [s.min, s.max];
  if (!s.histogram) throw new Error(`${method} calibration needs histograms`);
  return method === 'percentile' ? percentileRange(s.histogram, percentile) : entropyRange(s.histogram);
}

/**
 * The calibration / held-out split: images sorted by file, even positions calibrate, odd
 * positions evaluate, so that accuracy is never measured on an image the ranges came from.
 */
export function splitCalibration<T>(items: T[], fileOf: (t: T) => string): { calibration: T[]; heldOut: T[] } {
  const sorted = [...items].sort((a, b) => (fileOf(a) < fileOf(b) ? -1 : fileOf(a) > fileOf(b) ? 1 : 0));
  return { calibration: sorted.filter((_, i) => i % 2 === 0), heldOut: sorted.filter((_, i) => i % 2 === 1) };
}
