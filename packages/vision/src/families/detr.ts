import type { TensorInfo } from '../model-io.js';
import { shapeText } from '../model-io.js';
import type { Candidate } from '../nms.js';
import { sigmoid, unbatched, type DecodeContext, type Family, type OutputTensor, type Verdict } from './family.js';

const FLOAT = new Set(['float32', 'float16', 'float64']);
const INTEGER = new Set(['int64', 'int32']);
const rank = (t: TensorInfo, r: number) => unbatched(t.shape, r) !== null && t.shape.length === r + 1;

/** The size input of the labels/boxes/scores form: `[N, 2]` (or `[2]`), integer or float. */
const sizeInputs = (inputs: readonly TensorInfo[]) => inputs.filter((t) => (t.shape.length === 2 && (t.shape[1] === 2 || t.shape[1] === null)) || (t.shape.length === 1 && t.shape[0] === 2));

type Roles = { form: 'sizes'; labels: number; boxes: number; scores: number } | { form: 'logits'; logits: number; boxes: number };

/** Which output is which, by rank, element type and last dimension; names only break ties. */
function roles(outputs: readonly { name: string; type: string; shape: readonly (number | null)[] }[]): Roles | string {
  const idx = outputs.map((_, i) => i);
  const is = (i: number, r: number) => rank(outputs[i] as TensorInfo, r);
  const boxes = idx.filter((i) => is(i, 2) && FLOAT.has(outputs[i]!.type) && (outputs[i]!.shape.at(-1) === 4 || outputs[i]!.shape.at(-1) === null));
  if (outputs.length === 3) {
    const labels = idx.filter((i) => is(i, 1) && INTEGER.has(outputs[i]!.type));
    const scores = idx.filter((i) => is(i, 1) && FLOAT.has(outputs[i]!.type));
    if (boxes.length === 1 && labels.length === 1 && scores.length === 1) return { form: 'sizes', labels: labels[0]!, boxes: boxes[0]!, scores: scores[0]! };
    return 'its three outputs are not labels [N, K] (integer), boxes [N, K, 4] and scores [N, K]';
  }
  if (outputs.length === 2) {
    if (!idx.every((i) => is(i, 2) && FLOAT.has(outputs[i]!.type))) return 'its two outputs are not logits [N, Q, C] and boxes [N, Q, 4]';
    // Both may end in 4 (a four-class model): then the one named like boxes holds the boxes.
    const box = boxes.length === 1 ? boxes[0]! : idx.find((i) => /box|det/i.test(outputs[i]!.name));
    if (box === undefined) return 'neither of its two outputs is the boxes [N, Q, 4]';
    return { form: 'logits', boxes: box, logits: 1 - box };
  }
  return `it has ${outputs.length} outputs, not labels/boxes/scores or logits/boxes`;
}

/** Softmax when a no-object column follows the classes (DETR), sigmoid otherwise (RT-DETR, D-FINE, RF-DETR). */
function scoring(columns: number, ctx: { classes: number | null }, named: DecodeContext['options']['scores']): { scores: 'sigmoid' | 'softmax' | 'as-is'; classes: number } | string {
  if (named) return { scores: named, classes: named === 'softmax' ? columns - 1 : columns };
  if (ctx.classes !== null) {
    if (columns === ctx.classes) return { scores: 'sigmoid', classes: columns };
    if (columns === ctx.classes + 1) return { scores: 'softmax', classes: ctx.classes };
    return `its ${columns} class columns fit neither the labels' ${ctx.classes} classes nor ${ctx.classes} + no-object`;
  }
  // Without labels: 81 and 92 are COCO's 80 or 91 classes plus no-object.
  return columns === 81 || columns === 92 ? { scores: 'softmax', classes: columns - 1 } : { scores: 'sigmoid', classes: columns };
}

/**
 * DETR family. Two export forms:
 * - `labels [N, K]`, `boxes [N, K, 4]` (x1, y1, x2, y2 in the pixels of the size fed), `scores
 *   [N, K]`, with a second input `orig_target_sizes` int64 `[N, 2]` = [width, height]: D-FINE,
 *   RT-DETR (official exports), DEIM, DEIMv2. Post-processing is in the graph.
 * - `logits [N, Q, C]` and `pred_boxes [N, Q, 4]` (cx, cy, w, h normalised to the input): the
 *   raw heads of RT-DETR, RF-DETR (sigmoid; every class of a query above the threshold counts,
 *   as their top-k over queries x classes does) and DETR (softmax with a last no-object column;
 *   the best class of each query).
 * NMS-free; plain stretch to the input, RGB 0..1.
 */
export const detr: Family = {
  name: 'detr',
  title: 'DETR family: D-FINE, RT-DETR, DEIM, DEIMv2, RF-DETR, DETR',
  layout: 'labels [N, K], boxes [N, K, 4], scores [N, K] with an orig_target_sizes [N, 2] input; or logits [N, Q, C] and normalised cxcywh boxes [N, Q, 4]',
  preprocess: { resize: 'stretch', pad: 'top-left', padValue: 0, channels: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], size: { width: 640, height: 640 } },
  nms: false,
  extraInputs(inputs) {
    return Object.fromEntries(sizeInputs(inputs).map((t) => [t.name, 'original_wh' as const]));
  },
  accepts(io, ctx): Verdict {
    const r = roles(io.outputs);
    if (typeof r === 'string') return { ok: false, why: r };
    const extra = io.inputs.slice(1);
    if (r.form === 'sizes') {
      if (sizeInputs(extra).length !== 1) return { ok: false, why: 'its labels/boxes/scores outputs need one [N, 2] size input beside the image' };
      return { ok: true, why: `outputs labels, boxes, scores (${io.outputs.map((o) => o.name).join(', ')}) and a size input ${sizeInputs(extra)[0]!.name} ${shapeText(sizeInputs(extra)[0]!.shape)}`, classes: ctx.classes ?? 80 };
    }
    const columns = io.outputs[r.logits]!.shape.at(-1);
    if (columns === null || columns === undefined) return { ok: false, why: 'its logits have no fixed class count' };
    const s = scoring(columns, ctx, undefined);
    if (typeof s === 'string') return { ok: false, why: s };
    return { ok: true, why: `outputs logits ${shapeText(io.outputs[r.logits]!.shape)} and boxes ${shapeText(io.outputs[r.boxes]!.shape)} (${s.scores} scores, ${s.classes} classes)`, classes: s.classes };
  },
  decode(outputs, ctx) {
    const r = roles(outputs.map((o) => ({ name: o.name, type: o.type, shape: o.dims })));
    if (typeof r === 'string') throw new Error(r);
    return r.form === 'sizes' ? decodeSizes(outputs, r, ctx) : decodeLogits(outputs, r, ctx);
  },
};

function decodeSizes(outputs: readonly OutputTensor[], r: { labels: number; boxes: number; scores: number }, ctx: DecodeContext): Candidate[] {
  const [labels, boxes, scores] = [outputs[r.labels]!.data, outputs[r.boxes]!.data, outputs[r.scores]!.data];
  // Boxes come in the pixels of the size fed; the pipeline wants input pixels.
  const fed = ctx.fedSize ?? { width: ctx.width, height: ctx.height };
  const sx = ctx.width / fed.width;
  const sy = ctx.height / fed.height;
  const out: Candidate[] = [];
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (!(score >= ctx.minScore) || score <= 0) continue;
    out.push({ x1: boxes[4 * i]! * sx, y1: boxes[4 * i + 1]! * sy, x2: boxes[4 * i + 2]! * sx, y2: boxes[4 * i + 3]! * sy, score, classId: Math.round(labels[i]!) });
  }
  return out;
}

function decodeLogits(outputs: readonly OutputTensor[], r: { logits: number; boxes: number }, ctx: DecodeContext): Candidate[] {
  const logits = outputs[r.logits]!;
  const boxes = outputs[r.boxes]!.data;
  const columns = logits.dims.at(-1)!;
  const queries = logits.data.length / columns;
  const s = scoring(columns, { classes: ctx.classes }, ctx.options.scores);
  if (typeof s === 'string') throw new Error(s);
  const out: Candidate[] = [];
  const box = (q: number, score: number, classId: number): Candidate => {
    const [cx, cy, w, h] = [boxes[4 * q]! * ctx.width, boxes[4 * q + 1]! * ctx.height, boxes[4 * q + 2]! * ctx.width, boxes[4 * q + 3]! * ctx.height];
    return { x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, classId };
  };
  for (let q = 0; q < queries; q++) {
    const o = q * columns;
    if (s.scores === 'softmax') {
      let max = -Infinity;
      for (let c = 0; c < columns; c++) max = Math.max(max, logits.data[o + c]!);
      let sum = 0;
      for (let c = 0; c < columns; c++) sum += Math.exp(logits.data[o + c]! - max);
      let best = 0;
      let cls = 0;
      for (let c = 0; c < s.classes; c++) {
        const p = Math.exp(logits.data[o + c]! - max) / sum;
        if (p > best) (best = p), (cls = c);
      }
      if (best >= ctx.minScore) out.push(box(q, best, cls));
    } else {
      for (let c = 0; c < s.classes; c++) {
        const v = logits.data[o + c]!;
        const p = s.scores === 'sigmoid' ? sigmoid(v) : v;
        if (p >= ctx.minScore && p > 0) out.push(box(q, p, c));
      }
    }
  }
  return out;
}
