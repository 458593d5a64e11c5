import type { Candidate } from '../nms.js';
import { shapeText } from '../model-io.js';
import { cellCount, onlyOutput, P5, P6, singleOutput, type Family } from './family.js';
import { ultralyticsTaskProblem } from './ultralytics.js';

/**
 * End-to-end (NMS-free) exports `[1, K, 6]`: YOLOv10, YOLO26 and any Ultralytics export with
 * `nms=True`. Per row `x1, y1, x2, y2` in input pixels, score, class id; unused rows score 0.
 */
export const end2end: Family = {
  name: 'end2end',
  title: 'End-to-end YOLO: YOLOv10, YOLO26, Ultralytics nms=True',
  layout: '[1, K, 6]: x1, y1, x2, y2 in input pixels, score, class id; no NMS',
  preprocess: { resize: 'letterbox', pad: 'center', padValue: 114, channels: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], size: { width: 640, height: 640 } },
  nms: false,
  accepts(io, ctx) {
    const task = ultralyticsTaskProblem(ctx);
    if (task) return { ok: false, why: task };
    const out = singleOutput(io);
    if ('why' in out) return { ok: false, why: out.why };
    const [k, columns] = out.shape;
    if (columns !== 6) return { ok: false, why: `its rows have ${columns ?? 'a symbolic number of'} values, not 6` };
    if (!ctx.named) {
      if (ctx.hints.end2end === false) return { ok: false, why: 'its metadata says end2end: False' };
      // [1, N, 6] with one row per grid cell is a transposed two-class Ultralytics output.
      const cells = ctx.size ? [P5, P6].map((s) => cellCount(ctx.size!.width, ctx.size!.height, s)) : [];
      if (ctx.hints.end2end !== true && k !== null && cells.includes(k)) return { ok: false, why: `its ${k} rows are one per grid cell, not a list of detections` };
    }
    const why = `one output ${shapeText(io.outputs[0]!.shape)}: a list of ${k ?? 'K'} boxes with score and class${ctx.hints.end2end ? ', and the metadata says end2end: True' : ''}`;
    return { ok: true, why, classes: ctx.classes ?? 80 };
  },
  decode(outputs, ctx) {
    const { data, dims } = onlyOutput(outputs, 2);
    const out: Candidate[] = [];
    for (let i = 0; i < dims[0]!; i++) {
      const o = i * 6;
      const score = data[o + 4]!;
      if (!(score >= ctx.minScore) || score <= 0) continue;
      out.push({ x1: data[o]!, y1: data[o + 1]!, x2: data[o + 2]!, y2: data[o + 3]!, score, classId: Math.round(data[o + 5]!) });
    }
    return out;
  },
};
