import { ModelError } from '@spotter/shared';
import { fileHints, type FileHints } from './file-metadata.js';
import { familyNamed, formatNames, type Family, type LayoutContext, type OutputTensor } from './families/index.js';
import { describeIO, shapeText, type Dim, type ModelIO, type TensorInfo } from './model-io.js';
import type { ModelSpec } from './model-spec.js';
import { readOnnxFile } from './onnx-file.js';
import type { ExtraInputSource, Preprocess, PreprocessSettings } from './preprocess.js';

/** The picture's input: which one it is, its layout, and the size the graph fixes (null: symbolic). */
export interface ImageInput {
  input: TensorInfo;
  layout: 'nchw' | 'nhwc';
  width: Dim;
  height: Dim;
}

/** A non-image input and what it is fed with. */
export interface ExtraInput {
  name: string;
  type: string;
  dims: number[];
  source: ExtraInputSource;
}

/** How one model is run: its family, its resolved pre-processing and the tensors it is fed. */
export interface ModelPlan {
  spec: ModelSpec;
  family: Family;
  preprocess: Preprocess;
  image: { name: string; dims: number[] };
  extras: ExtraInput[];
  /** Classes the outputs have (= the labels' count). */
  classes: number;
  /** Why the family reads these outputs. */
  why: string;
}

const FEEDABLE = new Set(['int64', 'int32', 'float32']);

/** The float [N, 3, H, W] (or [N, H, W, 3], or without N) input that takes the picture, or why there is none. */
export function findImageInput(io: ModelIO): ImageInput | string {
  for (const input of io.inputs) {
    const s = input.shape.length === 3 ? [1, ...input.shape] : input.shape;
    if (s.length !== 4) continue;
    const layout = s[1] === 3 ? 'nchw' : s[3] === 3 ? 'nhwc' : s[1] === null && s[3] === null ? 'nchw' : null;
    if (!layout) continue;
    if (input.type === 'float16') return `its image input ${input.name} is float16: export it with float32 inputs and outputs (keep_io_types)`;
    if (input.type !== 'float32') continue;
    const [height, width] = layout === 'nchw' ? [s[2]!, s[3]!] : [s[1]!, s[2]!];
    return { input, layout, width, height };
  }
  return `no input takes a picture: expected a float32 [1, 3, H, W] (or [1, H, W, 3]) tensor, got ${io.inputs.map((i) => `${i.name} ${i.type} ${shapeText(i.shape)}`).join(', ')}`;
}

/** The input size: fixed by the graph (and then checked against the manifest), else the manifest's, the file's or the family's. */
export function resolveSize(image: ImageInput, settings: PreprocessSettings, hints: FileHints, family: Family, name: string) {
  const fixed = image.width !== null && image.height !== null ? { width: image.width, height: image.height } : null;
  const asked = settings.size;
  if (fixed && asked && (asked.width !== fixed.width || asked.height !== fixed.height)) {
    const said = asked.width === asked.height ? String(asked.width) : `${asked.width}x${asked.height}`;
    throw new ModelError(`model "${name}" takes ${fixed.width}x${fixed.height} input, but its manifest says ${said}`);
  }
  if (fixed) return { ...fixed, from: 'the graph' };
  if (asked) return { ...asked, from: 'the manifest' };
  if (hints.size) return { ...hints.size, from: "the file's metadata (imgsz)" };
  return { ...family.preprocess.size, from: `the ${family.name} default` };
}

/** Resolved pre-processing: the family's defaults under the manifest's settings, sized and laid out as the graph says. */
export function resolvePreprocess(family: Family, settings: PreprocessSettings, size: { width: number; height: number }, layout: 'nchw' | 'nhwc', io: ModelIO, imageName: string): Preprocess {
  const { size: _f, ...defaults } = family.preprocess;
  const { size: _s, ...own } = settings;
  const others = io.inputs.filter((i) => i.name !== imageName);
  const inputs = { ...(family.extraInputs?.(others) ?? {}), ...(settings.inputs ?? {}) };
  return {
    resize: 'letterbox',
    pad: 'top-left',
    padValue: 114,
    channels: 'rgb',
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    ...defaults,
    ...own,
    inputs,
    width: size.width,
    height: size.height,
    layout,
  };
}

/**
 * How to run a model, from its spec and the graph's inputs and outputs: ModelError with a
 * one-line reason when the family does not read these outputs or an input cannot be fed.
 */
export function planModel(spec: ModelSpec, io: ModelIO, hints: FileHints = {}): ModelPlan {
  const family = familyNamed(spec.format);
  if (!family) throw new ModelError(`model "${spec.name}": unknown format "${spec.format}" (known: ${formatNames().join(', ')})`);
  const image = findImageInput(io);
  if (typeof image === 'string') throw new ModelError(`model "${spec.name}" has an unexpected input: ${image}`);
  const size = resolveSize(image, spec.preprocess, hints, family, spec.name);
  const preprocess = resolvePreprocess(family, spec.preprocess, size, image.layout, io, image.input.name);
  const extras: ExtraInput[] = [];
  for (const input of io.inputs) {
    if (input.name === image.input.name) continue;
    const source = preprocess.inputs[input.name];
    if (!source) throw new ModelError(`model "${spec.name}" has an input ${input.name} ${shapeText(input.shape)} that nothing feeds: name its source in preprocess.inputs (original_wh, original_hw, input_wh, input_hw, scale_wh, scale_hw)`);
    if (!FEEDABLE.has(input.type)) throw new ModelError(`model "${spec.name}": input ${input.name} is ${input.type}; Spotter feeds int64, int32 or float32`);
    const dims = input.shape.length ? input.shape.map((d, i) => d ?? (i === input.shape.length - 1 ? 2 : 1)) : [2];
    if (dims.reduce((a, b) => a * b, 1) !== 2) throw new ModelError(`model "${spec.name}": input ${input.name} ${shapeText(input.shape)} does not take two values`);
    extras.push({ name: input.name, type: input.type, dims, source });
  }
  const verdict = judge(spec.name, family, io, layoutContext(spec, size, hints));
  const batch = image.input.shape.length === 4 ? [1] : [];
  const dims = image.layout === 'nchw' ? [...batch, 3, size.height, size.width] : [...batch, size.height, size.width, 3];
  return { spec, family, preprocess, image: { name: image.input.name, dims }, extras, classes: verdict.classes, why: verdict.why };
}

const layoutContext = (spec: ModelSpec, size: { width: number; height: number }, hints: FileHints): LayoutContext => ({ size, classes: spec.labels.length, hints, named: true });

function judge(name: string, family: Family, io: ModelIO, ctx: LayoutContext) {
  const v = family.accepts(io, ctx);
  if (!v.ok) throw new ModelError(`model "${name}" has an unexpected output for format ${family.name} (${family.layout}): ${v.why}; the model has ${describeIO(io)}`);
  return v;
}

/** Checks a run's actual outputs (concrete dims) against the plan, and that they decode: ModelError otherwise. */
export function checkOutputs(plan: ModelPlan, outputs: readonly OutputTensor[]): void {
  const io: ModelIO = { inputs: [], outputs: outputs.map((o) => ({ name: o.name, type: o.type, shape: o.dims })) };
  judge(plan.spec.name, plan.family, { ...io, inputs: [{ name: plan.image.name, type: 'float32', shape: plan.image.dims }, ...plan.extras.map((e) => ({ name: e.name, type: e.type, shape: e.dims }))] }, layoutContext(plan.spec, plan.preprocess, {}));
  try {
    plan.family.decode(outputs, { width: plan.preprocess.width, height: plan.preprocess.height, classes: plan.classes, minScore: 0.5, options: plan.spec.decode });
  } catch (err) {
    throw new ModelError(`model "${plan.spec.name}" has outputs its ${plan.family.name} decoder cannot read: ${(err as Error).message}`);
  }
}

/** How to run a model from its spec and the bytes of its .onnx file (inputs, outputs and metadata read from them). */
export function planForFile(spec: ModelSpec, bytes: Uint8Array): ModelPlan {
  let info;
  try {
    info = readOnnxFile(bytes);
  } catch (err) {
    throw new ModelError(`model "${spec.name}": ${(err as Error).message}`);
  }
  return planModel(spec, info.io, fileHints(info.metadata));
}
