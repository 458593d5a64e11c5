import type { Candidate } from '../nms.js';
import { shapeText } from '../model-io.js';
import { cellCount, classesFrom, onlyOutput, P5, P6, singleOutput, type Family } from './family.js';

/**
 * YOLOv5 (classic, anchor-based) and YOLOv7 export `[1, N, 5 + C]`: per box `cx, cy, w, h` in
 * input pixels, objectness, C class scores (sigmoid and decoding done in the graph); N is
 * three anchors per cell of the stride 8/16/32 (or P6) grids. Score = objectness x class.
 */
export const yolov5: Family = {
  name: 'yolov5',
  title: 'YOLOv5 (classic, with objectness), YOLOv7',
  layout: '[1, N, 5 + C]: cx, cy, w, h in input pixels, objectness, C class scores, three anchors per grid cell',
  preprocess: { resize: 'letterbox', pad: 'center', padValue: 114, channels: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], size: { width: 640, height: 640 } },
  nms: true,
  accepts(io, ctx) {
    const out = singleOutput(io);
    if ('why' in out) return { ok: false, why: out.why };
    const [n, columns] = out.shape;
    if (columns === null) return { ok: false, why: 'its output has no fixed column count' };
    const classes = classesFrom(columns - 5, ctx, `[N, ${columns}] as 5 + C`);
    if (typeof classes !== 'number') return classes;
    if (!ctx.named) {
      if (!ctx.size) return { ok: false, why: 'the input size is unknown, so the anchor count cannot be checked' };
      const expected = [P5, P6].map((s) => 3 * cellCount(ctx.size!.width, ctx.size!.height, s));
      if (n === null || !expected.includes(n)) return { ok: false, why: `${n ?? 'a symbolic number of'} rows, not three anchors per grid cell at ${ctx.size.width}x${ctx.size.height} (${expected.join(' or ')})` };
    }
    return { ok: true, why: `one output ${shapeText(io.outputs[0]!.shape)}: three anchors per grid cell, 5 + ${classes} columns with objectness`, classes };
  },
  decode(outputs, ctx) {
    const { data, dims } = onlyOutput(outputs, 2);
    const [n, columns] = [dims[0]!, dims[1]!];
    const out: Candidate[] = [];
    for (let i = 0; i < n; i++) {
      const o = i * columns;
      const obj = data[o + 4]!;
      if (obj < ctx.minScore) continue;
      let best = 0;
      let cls = 0;
      for (let c = 5; c < columns; c++) {
        const s = data[o + c]!;
        if (s > best) {
          best = s;
          cls = c - 5;
        }
      }
      const score = obj * best;
      if (score < ctx.minScore) continue;
      const [cx, cy, w, h] = [data[o]!, data[o + 1]!, data[o + 2]!, data[o + 3]!];
      out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, classId: cls });
    }
    return out;
  },
};
