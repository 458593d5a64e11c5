import type { Candidate } from '../nms.js';
import { shapeText } from '../model-io.js';
import { cellCount, classesFrom, grids, onlyOutput, P5, singleOutput, type Family } from './family.js';

/**
 * YOLOX (Megvii) raw head output `[1, A, 5 + C]`: per anchor `tx, ty, tw, th, objectness, C
 * class scores` (sigmoid already applied), one anchor per cell of the stride 8, 16 and 32
 * grids, row-major. Decoded as the YOLOX demo does: `cx = (tx + col) * stride`,
 * `w = exp(tw) * stride`, score = objectness x class score.
 */
export const yolox: Family = {
  name: 'yolox',
  title: 'YOLOX (Megvii)',
  layout: '[1, A, 5 + C]: tx, ty, tw, th, objectness, C class scores per cell of the stride 8/16/32 grids, raw',
  preprocess: { resize: 'letterbox', pad: 'top-left', padValue: 114, channels: 'bgr', scale: 1, mean: [0, 0, 0], std: [1, 1, 1], size: { width: 416, height: 416 } },
  nms: true,
  accepts(io, ctx) {
    const out = singleOutput(io);
    if ('why' in out) return { ok: false, why: out.why };
    const [anchors, columns] = out.shape;
    if (columns === null) return { ok: false, why: 'its output has no fixed column count' };
    const classes = classesFrom(columns - 5, ctx, `[A, ${columns}] as 5 + C`);
    if (typeof classes !== 'number') return classes;
    if (ctx.size) {
      const cells = cellCount(ctx.size.width, ctx.size.height, P5);
      if (anchors !== null && anchors !== cells) return { ok: false, why: `${anchors} rows, not the ${cells} cells of stride 8/16/32 grids at ${ctx.size.width}x${ctx.size.height}` };
    } else if (!ctx.named) return { ok: false, why: 'the input size is unknown, so the anchor count cannot be checked' };
    return { ok: true, why: `one output ${shapeText(io.outputs[0]!.shape)}: one row per grid cell, 5 + ${classes} columns`, classes };
  },
  decode(outputs, ctx) {
    const { data, dims } = onlyOutput(outputs, 2);
    const columns = dims[1]!;
    const numClasses = columns - 5;
    const { minScore } = ctx;
    const out: Candidate[] = [];
    let a = 0;
    for (const { stride, cols, rows } of grids(ctx.width, ctx.height, P5)) {
      for (let gy = 0; gy < rows; gy++) {
        for (let gx = 0; gx < cols; gx++, a++) {
          const o = a * columns;
          const obj = data[o + 4]!;
          if (obj < minScore) continue; // score = obj * cls <= obj
          let best = 0;
          let cls = 0;
          for (let c = 0; c < numClasses; c++) {
            const s = data[o + 5 + c]!;
            if (s > best) {
              best = s;
              cls = c;
            }
          }
          const score = obj * best;
          if (score < minScore) continue;
          const cx = (data[o]! + gx) * stride;
          const cy = (data[o + 1]! + gy) * stride;
          const w = Math.exp(data[o + 2]!) * stride;
          const h = Math.exp(data[o + 3]!) * stride;
          out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score, classId: cls });
        }
      }
    }
    return out;
  },
};
