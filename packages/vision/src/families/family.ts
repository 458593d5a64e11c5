import type { FileHints } from '../file-metadata.js';
import type { Dim, ModelIO, TensorInfo } from '../model-io.js';
import type { Candidate } from '../nms.js';
import type { ExtraInputSource, PreprocessSettings } from '../preprocess.js';

/** One output of a run: values as float32 (int64 labels included: small integers), and its dims. */
export interface OutputTensor {
  name: string;
  /** The element type the graph produced (`int64` labels arrive here as float32 values). */
  type: string;
  data: Float32Array;
  dims: readonly number[];
}

/** What a family may know when it judges a graph's outputs. */
export interface LayoutContext {
  /** The model input's size, when the graph, the manifest or the file's metadata gives it. */
  size: { width: number; height: number } | null;
  /** How many classes the labels have, when they are known. */
  classes: number | null;
  hints: FileHints;
  /** The format was named (manifest, --format), not guessed: checks that only serve guessing are off. */
  named: boolean;
}

/** Whether a family reads these outputs, and why (one clause, for the CLI's explanation and refusals). */
export type Verdict = { ok: true; why: string; classes: number } | { ok: false; why: string };

/** Decoder options a manifest may set (`decode`). */
export interface DecodeOptions {
  /** How class scores become probabilities: the graph did it (`as-is`), or apply `sigmoid` / `softmax`. */
  scores?: 'as-is' | 'sigmoid' | 'softmax';
  /** GFL: where a cell's anchor point sits, in cells (0.5: its centre, 0: its corner). */
  gridOffset?: number;
}

export interface DecodeContext {
  /** Model input size. */
  width: number;
  height: number;
  classes: number;
  minScore: number;
  options: DecodeOptions;
  /** The [width, height] fed to a size input (DETR's orig_target_sizes), when the model has one. */
  fedSize?: { width: number; height: number } | undefined;
}

/**
 * One export layout: its name, its pre-processing defaults, which outputs it reads, and how
 * they become boxes in the model input's pixels. Nothing else: I/O, thresholds, NMS and
 * rescaling to the picture are the pipeline's (pipeline.ts).
 */
export interface Family {
  readonly name: string;
  /** Who exports it, for people. */
  readonly title: string;
  /** The output layout in one line. */
  readonly layout: string;
  /** Pre-processing the family's own code does; `size` is used when neither graph nor manifest fixes one. */
  readonly preprocess: PreprocessSettings & { size: { width: number; height: number } };
  /** Whether candidates need class-wise non-maximum suppression (false for NMS-free layouts). */
  readonly nms: boolean;
  /** What the family feeds its non-image inputs with (DETR's original size). */
  extraInputs?(inputs: readonly TensorInfo[]): Record<string, ExtraInputSource>;
  accepts(io: ModelIO, ctx: LayoutContext): Verdict;
  decode(outputs: readonly OutputTensor[], ctx: DecodeContext): Candidate[];
}

/** The grids of a detection head: one per stride, ceil(size / stride) cells each way. */
export function grids(width: number, height: number, strides: readonly number[]) {
  return strides.map((stride) => ({ stride, cols: Math.ceil(width / stride), rows: Math.ceil(height / stride) }));
}

/** How many cells the grids of these strides have together. */
export const cellCount = (width: number, height: number, strides: readonly number[]) => grids(width, height, strides).reduce((n, g) => n + g.cols * g.rows, 0);

/** Detection heads on strides 8, 16, 32 (P3-P5) and with a stride-64 level (P6). */
export const P5 = [8, 16, 32] as const;
export const P6 = [8, 16, 32, 64] as const;

/** A shape without its leading batch dimension (1 or symbolic) when it has `rank + 1` dimensions. */
export function unbatched(shape: readonly Dim[], rank: number): readonly Dim[] | null {
  if (shape.length === rank) return shape;
  if (shape.length === rank + 1 && (shape[0] === 1 || shape[0] === null)) return shape.slice(1);
  return null;
}

/** The single float output of a one-output layout, as [rows, columns] without batch, or why not. */
export function singleOutput(io: ModelIO): { shape: readonly [Dim, Dim] } | { why: string } {
  if (io.outputs.length !== 1) return { why: `it has ${io.outputs.length} outputs, not one` };
  const out = io.outputs[0]!;
  if (out.type !== 'float32') return { why: `its output is ${out.type}, not float32` };
  const shape = unbatched(out.shape, 2);
  if (!shape) return { why: `its output has ${out.shape.length} dimensions, not [1, rows, columns]` };
  return { shape: [shape[0]!, shape[1]!] };
}

/** The one output's data and its dims without the batch dimension. */
export function onlyOutput(outputs: readonly OutputTensor[], rank: number): { data: Float32Array; dims: readonly number[] } {
  const out = outputs[0]!;
  const dims = unbatched(out.dims, rank) as readonly number[] | null;
  if (!dims) throw new Error(`output ${out.name} has dims [${out.dims.join(', ')}]`);
  return { data: out.data, dims };
}

export const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** The class count a layout's columns imply, checked against the labels' count when known. */
export function classesFrom(implied: number, ctx: LayoutContext, what: string): Verdict | number {
  if (implied < 1) return { ok: false, why: `${what} leaves no class columns` };
  if (ctx.classes !== null && ctx.classes !== implied) return { ok: false, why: `${what} says ${implied} classes, the labels have ${ctx.classes}` };
  return implied;
}
