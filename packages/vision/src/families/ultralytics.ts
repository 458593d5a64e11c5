import type { Candidate } from '../nms.js';
import { shapeText } from '../model-io.js';
import { cellCount, classesFrom, onlyOutput, P5, P6, singleOutput, type Family, type LayoutContext } from './family.js';

/** Why an Ultralytics file's own metadata says it is not this layout, or null. */
export function ultralyticsTaskProblem(ctx: LayoutContext): string | null {
  if (ctx.hints.task && ctx.hints.task !== 'detect') return `its metadata says task ${ctx.hints.task}, and Spotter serves detection`;
  return null;
}

const cellsAt = (ctx: LayoutContext) => (ctx.size ? [P5, P6].map((s) => cellCount(ctx.size!.width, ctx.size!.height, s)) : []);

/**
 * Ultralytics YOLOv5u/v8/v9/11/12 export `[1, 4 + C, N]`, channel-major: rows 0-3 are `cx, cy,
 * w, h` in input pixels, then C class scores (sigmoid done, no objectness); N is one box per
 * cell of the stride 8/16/32 (or P6: 8..64) grids. Exports transposed to `[1, N, 4 + C]` are
 * read too.
 */
export const ultralytics: Family = {
  name: 'ultralytics',
  title: 'Ultralytics YOLOv5u, YOLOv8, YOLOv9, YOLO11, YOLO12',
  layout: '[1, 4 + C, N]: cx, cy, w, h in input pixels, then C class scores, one column per grid cell',
  preprocess: { resize: 'letterbox', pad: 'center', padValue: 114, channels: 'rgb', scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1], size: { width: 640, height: 640 } },
  nms: true,
  accepts(io, ctx) {
    const task = ultralyticsTaskProblem(ctx);
    if (task) return { ok: false, why: task };
    if (ctx.hints.end2end && !ctx.named) return { ok: false, why: 'its metadata says end2end: True' };
    const out = singleOutput(io);
    if ('why' in out) return { ok: false, why: out.why };
    const [a, b] = out.shape;
    const cells = cellsAt(ctx);
    // Channel-major unless the rows are the grid cells and the columns 4 + C.
    const transposed = a !== null && b !== null && (ctx.classes !== null ? b === 4 + ctx.classes && a !== 4 + ctx.classes : a > b && cells.includes(a));
    const [channels, n] = transposed ? [b, a] : [a, b];
    if (channels === null) return { ok: false, why: 'its output has no fixed channel count' };
    const classes = classesFrom(channels - 4, ctx, `${shapeText(io.outputs[0]!.shape)} as 4 + C`);
    if (typeof classes !== 'number') return classes;
    if (!ctx.named) {
      if (!cells.length) return { ok: false, why: 'the input size is unknown, so the box count cannot be checked' };
      if (n === null || !cells.includes(n)) return { ok: false, why: `${n ?? 'a symbolic number of'} boxes, not one per cell of the grids at ${ctx.size!.width}x${ctx.size!.height} (${cells.join(' or ')})` };
    }
    return { ok: true, why: `one output ${shapeText(io.outputs[0]!.shape)}: 4 + ${classes} ${transposed ? 'columns' : 'rows'}, one box per grid cell, no objectness`, classes };
  },
  decode(outputs, ctx) {
    const { data, dims } = onlyOutput(outputs, 2);
    const transposed = dims[1] === 4 + ctx.classes && dims[0] !== 4 + ctx.classes;
    const [channels, n] = transposed ? [dims[1]!, dims[0]!] : [dims[0]!, dims[1]!];
    // Value of channel c for box i, in either orientation.
    const [cStep, iStep] = transposed ? [1, channels] : [n, 1];
    const out: Candidate[] = [];
    for (let i = 0; i < n; i++) {
      const base = i * iStep;
      let best = 0;
      let cls = 0;
      for (let c = 4; c < channels; c++) {
        const s = data[base + c * cStep]!;
        if (s > best) {
          best = s;
          cls = c - 4;
        }
      }
      if (best < ctx.minScore) continue;
      const cx = data[base]!;
      const cy = data[base + cStep]!;
      const w = data[base + 2 * cStep]!;
      const h = data[base + 3 * cStep]!;
      out.push({ x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, score: best, classId: cls });
    }
    return out;
  },
};
