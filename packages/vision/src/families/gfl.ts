import type { Dim, ModelIO } from '../model-io.js';
import type { Candidate } from '../nms.js';
import { cellCount, sigmoid, unbatched, type DecodeContext, type Family, type LayoutContext, type OutputTensor, type Verdict } from './family.js';

const STRIDES = [8, 16, 32, 64, 128];

/** One head output seen as cells x columns, whatever its layout: [HW, K], [1, HW, K] or [1, K, H, W]. */
interface Map2 {
  index: number;
  cells: number;
  columns: number;
  /** Step between the columns of a cell, and between cells. */
  columnStep: number;
  cellStep: number;
  /** Grid rows and columns when the layout says them ([1, K, H, W]). */
  grid?: { rows: number; cols: number };
}

function asMap(shape: readonly Dim[], index: number): Map2 | null {
  if (shape.some((d) => d === null)) return null;
  const s = shape as readonly number[];
  const flat = unbatched(s, 2) as readonly number[] | null;
  if (flat && (s.length === 2 || s.length === 3)) return { index, cells: flat[0]!, columns: flat[1]!, columnStep: 1, cellStep: flat[1]! };
  const chw = unbatched(s, 3) as readonly number[] | null;
  if (chw && s.length === 4) return { index, cells: chw[1]! * chw[2]!, columns: chw[0]!, columnStep: chw[1]! * chw[2]!, cellStep: 1, grid: { rows: chw[1]!, cols: chw[2]! } };
  return null;
}

/** The stride and grid of a level of `cells` cells at this input size. */
function levelGrid(cells: number, width: number, height: number, grid?: { rows: number; cols: number }) {
  if (grid) return { stride: width / grid.cols, ...grid };
  const stride = STRIDES.find((s) => Math.ceil(width / s) * Math.ceil(height / s) === cells);
  return stride ? { stride, rows: Math.ceil(height / stride), cols: Math.ceil(width / stride) } : null;
}

interface Level {
  cls: Map2;
  box: Map2;
  bins: number;
  stride: number;
  rows: number;
  cols: number;
  /** Column offsets of the class scores and the box distribution within a shared map (NanoDet-Plus). */
  clsFrom: number;
  boxFrom: number;
}

type Plan = { levels: Level[]; concatenated: boolean; classes: number };

/**
 * Which of two maps of a level holds the class scores (C columns) and which the distances
 * (4 x bins, bins >= 2). When both could: 32 columns (8 bins, NanoDet's and PicoDet's) is the
 * distribution; with equal widths, class maps come first (the exporters' order).
 */
function pairMaps(a: Map2, b: Map2, classes: number | null): [Map2, Map2] | null {
  const fits = (cls: Map2, box: Map2) => box.columns % 4 === 0 && box.columns >= 8 && (classes === null || cls.columns === classes);
  const ab = fits(a, b);
  const ba = fits(b, a);
  if (ab && ba && classes === null && a.columns !== b.columns && (a.columns === 32 || b.columns === 32)) return b.columns === 32 ? [a, b] : [b, a];
  if (ab && ba) return a.index < b.index ? [a, b] : [b, a];
  return ab ? [a, b] : ba ? [b, a] : null;
}

/** Pairs class and distribution maps by cell count (never by name); or the single concatenated output. */
function plan(io: Pick<ModelIO, 'outputs'>, size: { width: number; height: number }, classes: number | null): Plan | string {
  const maps = io.outputs.map((o, i) => (o.type === 'float32' ? asMap(o.shape, i) : null));
  if (maps.some((m) => m === null)) return 'its outputs are not all float maps [HW, K], [1, HW, K] or [1, K, H, W] with fixed shapes';
  const all = maps as Map2[];
  if (all.length === 1) {
    // NanoDet-Plus: [1, N, C + 4 * bins] over the cells of every level, level by level.
    const m = all[0]!;
    const c = classes ?? (m.columns > 32 ? m.columns - 32 : 0);
    const bins = (m.columns - c) / 4;
    if (c < 1 || !Number.isInteger(bins) || bins < 2) return `its ${m.columns} columns are not C class scores + 4 x bins distances`;
    for (let n = 3; n <= STRIDES.length; n++) {
      if (cellCount(size.width, size.height, STRIDES.slice(0, n)) !== m.cells) continue;
      const levels = STRIDES.slice(0, n).map((stride) => ({ cls: m, box: m, bins, stride, rows: Math.ceil(size.height / stride), cols: Math.ceil(size.width / stride), clsFrom: 0, boxFrom: c }));
      return { levels, concatenated: true, classes: c };
    }
    return `its ${m.cells} rows are not the cells of 3 to 5 grid levels at ${size.width}x${size.height}`;
  }
  const byCells = new Map<number, Map2[]>();
  for (const m of all) byCells.set(m.cells, [...(byCells.get(m.cells) ?? []), m]);
  const levels: Level[] = [];
  let found = classes;
  for (const [cells, pair] of byCells) {
    if (pair.length !== 2) return `${pair.length} of its outputs have ${cells} cells; a GFL level has one class map and one distribution map`;
    const [a, b] = pair as [Map2, Map2];
    const pairing = pairMaps(a, b, found);
    if (!pairing) return `its ${cells}-cell outputs (${a.columns} and ${b.columns} columns) are not C class scores and 4 x bins distances${found === null ? '' : ` with C = ${found}`}`;
    const [cls, box] = pairing;
    found = cls.columns;
    const g = levelGrid(cells, size.width, size.height, cls.grid);
    if (!g) return `${cells} cells is no grid level of a ${size.width}x${size.height} input`;
    levels.push({ cls, box, bins: box.columns / 4, ...g, clsFrom: 0, boxFrom: 0 });
  }
  if (levels.some((l) => l.cls.columns !== found)) return 'its class maps do not all have the same number of classes';
  levels.sort((x, y) => x.stride - y.stride);
  return { levels, concatenated: false, classes: found! };
}

/**
 * Generalized Focal Loss heads: NanoDet, NanoDet-Plus, PP-PicoDet. Per level a class map
 * `[HW, C]` (sigmoid done) and a distribution map `[HW, 4 x bins]`, with or without batch or
 * as `[1, K, H, W]`, any number of levels and bins, matched by shape (their names often do
 * not match them); or NanoDet-Plus' single `[1, N, C + 4 x bins]`. Each side's distance is
 * the expected value of a softmax over its bins, times the stride, from the cell's anchor
 * point ((col + offset) x stride: offset 0.5 for per-level maps, 0 for NanoDet-Plus).
 */
export const gfl: Family = {
  name: 'gfl',
  title: 'GFL heads: NanoDet, NanoDet-Plus, PP-PicoDet',
  layout: 'per level a class map [HW, C] and a distribution map [HW, 4 x bins] (or one [1, N, C + 4 x bins]); distances = E[softmax(bins)] x stride',
  preprocess: { resize: 'letterbox', pad: 'center', padValue: 0, channels: 'bgr', scale: 1, mean: [103.53, 116.28, 123.675], std: [57.375, 57.12, 58.395], size: { width: 320, height: 320 } },
  nms: true,
  accepts(io, ctx: LayoutContext): Verdict {
    if (!ctx.size) return { ok: false, why: 'the input size is unknown, so its levels cannot be found' };
    const p = plan(io, ctx.size, ctx.classes);
    if (typeof p === 'string') return { ok: false, why: p };
    const strides = p.levels.map((l) => l.stride).join('/');
    const why = p.concatenated
      ? `one output of ${p.levels[0]!.cls.cells} cells over strides ${strides}: ${p.classes} class scores + 4 x ${p.levels[0]!.bins} bins`
      : `${io.outputs.length} outputs paired by cell count into ${p.levels.length} levels (strides ${strides}): ${p.classes} class scores and 4 x ${p.levels[0]!.bins} bins each`;
    return { ok: true, why, classes: p.classes };
  },
  decode(outputs: readonly OutputTensor[], ctx: DecodeContext): Candidate[] {
    const p = plan({ outputs: outputs.map((o) => ({ name: o.name, type: o.type, shape: o.dims })) }, ctx, ctx.classes);
    if (typeof p === 'string') throw new Error(p);
    const offset = ctx.options.gridOffset ?? (p.concatenated ? 0 : 0.5);
    const applySigmoid = ctx.options.scores === 'sigmoid';
    const out: Candidate[] = [];
    let first = 0;
    for (const level of p.levels) {
      const cls = outputs[level.cls.index]!.data;
      const box = outputs[level.box.index]!.data;
      const { bins, stride } = level;
      const dist = new Float64Array(4);
      for (let cell = 0; cell < level.rows * level.cols; cell++) {
        // Concatenated levels follow each other in one map.
        const at = (p.concatenated ? first + cell : cell) * level.cls.cellStep;
        let best = 0;
        let classId = 0;
        for (let c = 0; c < p.classes; c++) {
          const raw = cls[at + (level.clsFrom + c) * level.cls.columnStep]!;
          const s = applySigmoid ? sigmoid(raw) : raw;
          if (s > best) (best = s), (classId = c);
        }
        if (best < ctx.minScore || best <= 0) continue;
        const bAt = (p.concatenated ? first + cell : cell) * level.box.cellStep;
        for (let side = 0; side < 4; side++) {
          let max = -Infinity;
          const col = (k: number) => box[bAt + (level.boxFrom + side * bins + k) * level.box.columnStep]!;
          for (let k = 0; k < bins; k++) max = Math.max(max, col(k));
          let sum = 0;
          let expected = 0;
          for (let k = 0; k < bins; k++) {
            const e = Math.exp(col(k) - max);
            sum += e;
            expected += e * k;
          }
          dist[side] = (expected / sum) * stride;
        }
        const cx = ((cell % level.cols) + offset) * stride;
        const cy = (Math.floor(cell / level.cols) + offset) * stride;
        out.push({ x1: cx - dist[0]!, y1: cy - dist[1]!, x2: cx + dist[2]!, y2: cy + dist[3]!, score: best, classId });
      }
      first += level.rows * level.cols;
    }
    return out;
  },
};
