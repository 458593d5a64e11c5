import type { Detection } from '@spotter/shared';
import type { OutputTensor } from './families/index.js';
import type { ModelPlan } from './model-plan.js';
import { nonMaxSuppression, type Candidate } from './nms.js';
import { extraInputValues, fillImageTensor, fitTarget, type FitTarget, type Frame, type ModelInput } from './preprocess.js';

/** One input tensor to run: onnxruntime's type name, values and dims. */
export interface Feed {
  name: string;
  type: string;
  data: Float32Array | BigInt64Array | Int32Array;
  dims: number[];
}

/** What a picture is resized to for this model (decodeToFit in the worker, a canvas in the browser). */
export const planFit = (plan: ModelPlan): FitTarget => fitTarget(plan.preprocess);

/** The model's inputs for one fitted picture: the image tensor, then each extra input. */
export function buildFeeds(plan: ModelPlan, img: ModelInput): Feed[] {
  return tensorFeeds(plan, fillImageTensor(img, plan.preprocess), img);
}

/**
 * The model's inputs for an image tensor already made (the caller pre-processed it, as the
 * inference protocol allows): the tensor, then each extra input, fed for the picture `frame`
 * describes (its original size and where it sits in the input).
 */
export function tensorFeeds(plan: ModelPlan, tensor: Float32Array, frame: Frame): Feed[] {
  const feeds: Feed[] = [{ name: plan.image.name, type: 'float32', data: tensor, dims: plan.image.dims }];
  for (const e of plan.extras) {
    const values = extraInputValues(e.source, frame, plan.preprocess);
    const data = e.type === 'int64' ? BigInt64Array.from(values.map((v) => BigInt(Math.round(v)))) : e.type === 'int32' ? Int32Array.from(values.map(Math.round)) : Float32Array.from(values);
    feeds.push({ name: e.name, type: e.type, data, dims: e.dims });
  }
  return feeds;
}

/** A run's output as onnxruntime gives it, in any numeric type. */
export interface RawOutput {
  name: string;
  type: string;
  data: ArrayLike<number | bigint>;
  dims: readonly number[];
}

/** Outputs as the decoders read them: float32 values (int64 labels are small integers). */
export function outputTensors(raw: readonly RawOutput[]): OutputTensor[] {
  return raw.map((o) => ({
    name: o.name,
    type: o.type,
    dims: o.dims,
    data: o.data instanceof Float32Array ? o.data : Float32Array.from(o.data as ArrayLike<number | bigint>, (v) => Number(v)),
  }));
}

/** The [width, height] a size input was fed with, for decoders whose boxes come in those pixels. */
function fedSize(plan: ModelPlan, img: Frame) {
  const source = plan.extras.find((e) => e.source.startsWith('original') || e.source.startsWith('input'))?.source;
  if (!source) return undefined;
  return source.startsWith('original') ? { width: img.width, height: img.height } : { width: plan.preprocess.width, height: plan.preprocess.height };
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** The family's candidates, in the input's pixels, NMS-ed when the family needs it, best first. */
export function candidates(plan: ModelPlan, outputs: readonly OutputTensor[], img: Frame, minScore: number): Candidate[] {
  const { spec, family, preprocess: p } = plan;
  const found = family.decode(outputs, { width: p.width, height: p.height, classes: plan.classes, minScore: Math.max(minScore, spec.minScore), options: spec.decode, fedSize: fedSize(plan, img) });
  if (family.nms) return nonMaxSuppression(found, spec.iouThreshold, spec.maxDetections);
  return found.sort((a, b) => b.score - a.score).slice(0, spec.maxDetections);
}

/** Raw outputs -> labelled boxes in the original picture's pixels: decode, NMS where needed, undo the fit. */
export function postprocess(plan: ModelPlan, outputs: readonly OutputTensor[], img: Frame, minScore: number): Detection[] {
  const clampX = (v: number) => round2(Math.min(Math.max((v - img.padX) / img.scaleX, 0), img.width));
  const clampY = (v: number) => round2(Math.min(Math.max((v - img.padY) / img.scaleY, 0), img.height));
  return candidates(plan, outputs, img, minScore).map((c) => ({
    label: plan.spec.labels[c.classId] ?? `class_${c.classId}`,
    class_id: c.classId,
    score: Math.round(c.score * 10000) / 10000,
    box: { x1: clampX(c.x1), y1: clampY(c.y1), x2: clampX(c.x2), y2: clampY(c.y2) },
  }));
}
