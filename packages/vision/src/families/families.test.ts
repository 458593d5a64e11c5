import { describe, expect, it } from 'vitest';
import type { ModelIO, TensorInfo } from '../model-io.js';
import { detr } from './detr.js';
import { end2end } from './end2end.js';
import type { DecodeContext, Family, LayoutContext, OutputTensor } from './family.js';
import { gfl } from './gfl.js';
import { FAMILIES, familyNamed } from './index.js';
import { ultralytics } from './ultralytics.js';
import { yolov5 } from './yolov5.js';
import { yolox } from './yolox.js';

const image = (shape: (number | null)[] = [1, 3, 64, 64]): TensorInfo => ({ name: 'images', type: 'float32', shape });
const io = (outputs: [string, (number | null)[], string?][], inputs: TensorInfo[] = [image()]): ModelIO => ({ inputs, outputs: outputs.map(([name, shape, type]) => ({ name, type: type ?? 'float32', shape })) });
const ctx = (fields: Partial<LayoutContext> = {}): LayoutContext => ({ size: { width: 64, height: 64 }, classes: 3, hints: {}, named: false, ...fields });
const dctx = (fields: Partial<DecodeContext> = {}): DecodeContext => ({ width: 64, height: 64, classes: 3, minScore: 0.25, options: {}, ...fields });
const tensor = (name: string, dims: number[], fill?: (data: Float32Array) => void, type = 'float32'): OutputTensor => {
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  fill?.(data);
  return { name, type, dims, data };
};
const accepting = (model: ModelIO, c: LayoutContext) => FAMILIES.filter((f) => f.accepts(model, c).ok).map((f) => f.name);
const boxOf = (c: { x1: number; y1: number; x2: number; y2: number }) => [c.x1, c.y1, c.x2, c.y2].map((v) => Math.round(v * 1000) / 1000);

// Grids at 64x64: 8x8 + 4x4 + 2x2 = 84 cells (P5); P6 adds 1x1: 85.
describe('YOLOX', () => {
  it('decodes grid offsets, log sizes and score = objectness x class score', () => {
    const out = tensor('output', [1, 84, 8], (d) => {
      // Cell (col 2, row 1) of the stride-8 grid: index 1 * 8 + 2 = 10.
      d.set([0.5, 0.5, Math.log(2), Math.log(4), 0.9, 0.1, 0.8, 0.2], 10 * 8);
      // First cell of the stride-16 grid (index 64), below the threshold.
      d.set([0, 0, 0, 0, 0.2, 0.9, 0, 0], 64 * 8);
    });
    const found = yolox.decode([out], dctx());
    expect(found).toHaveLength(1);
    expect(found[0]!.classId).toBe(1);
    expect(found[0]!.score).toBeCloseTo(0.72);
    // cx = (0.5 + 2) * 8 = 20, cy = (0.5 + 1) * 8 = 12, w = 16, h = 32
    expect(boxOf(found[0]!)).toEqual([12, -4, 28, 28]);
  });

  it('reads non-square inputs row by row: 64 wide, 32 high', () => {
    // 8x4 + 4x2 + 2x1 = 42 cells; cell 9 is (col 1, row 1) of the stride-8 grid.
    const out = tensor('output', [42, 8], (d) => d.set([0, 0, 0, 0, 0.9, 0.9, 0, 0], 9 * 8));
    const [c] = yolox.decode([out], dctx({ width: 64, height: 32 }));
    expect(boxOf(c!)).toEqual([4, 4, 12, 12]);
    expect(yolox.accepts(io([['output', [42, 8]]]), ctx({ size: { width: 64, height: 32 } })).ok).toBe(true);
  });

  it('accepts one row per cell and 5 + C columns, with any batch dimension, and says why not otherwise', () => {
    expect(yolox.accepts(io([['output', [1, 84, 8]]]), ctx())).toMatchObject({ ok: true, classes: 3 });
    expect(yolox.accepts(io([['output', [null, 84, 8]]]), ctx())).toMatchObject({ ok: true });
    expect(yolox.accepts(io([['output', [84, 8]]]), ctx({ classes: null }))).toMatchObject({ ok: true, classes: 3 });
    expect(yolox.accepts(io([['output', [1, 3549, 85]]]), ctx({ size: { width: 416, height: 416 }, classes: 80 })).ok).toBe(true);
    expect(yolox.accepts(io([['output', [1, 85, 3549]]]), ctx({ size: { width: 416, height: 416 }, classes: 80 }))).toMatchObject({ ok: false, why: expect.stringMatching(/says 3544 classes, the labels have 80/) });
    expect(yolox.accepts(io([['output', [1, 252, 8]]]), ctx())).toMatchObject({ ok: false, why: expect.stringMatching(/252 rows, not the 84 cells/) });
  });
});

describe('Ultralytics [1, 4 + C, N]', () => {
  const fill = (n: number, transposed: boolean) => (d: Float32Array) => {
    const set = (ch: number, i: number, v: number) => (d[transposed ? i * 7 + ch : ch * n + i] = v);
    [100, 50, 20, 10, 0.1, 0.7, 0.2].forEach((v, ch) => set(ch, 1, v));
    set(4, 0, 0.1);
  };

  it('reads the channel-major layout and its transpose alike', () => {
    const expected = [{ x1: 90, y1: 45, x2: 110, y2: 55, score: expect.closeTo(0.7, 5), classId: 1 }];
    expect(ultralytics.decode([tensor('output0', [1, 7, 84], fill(84, false))], dctx())).toEqual(expected);
    expect(ultralytics.decode([tensor('output0', [1, 84, 7], fill(84, true))], dctx())).toEqual(expected);
    expect(ultralytics.decode([tensor('output0', [7, 84], fill(84, false))], dctx())).toEqual(expected);
  });

  it('accepts one box per grid cell at any input size and class count (P5 and P6), with or without batch', () => {
    expect(ultralytics.accepts(io([['output0', [1, 84, 8400]]]), ctx({ size: { width: 640, height: 640 }, classes: 80 })).ok).toBe(true);
    expect(ultralytics.accepts(io([['output0', [1, 84, 2100]]]), ctx({ size: { width: 320, height: 320 }, classes: null }))).toMatchObject({ ok: true, classes: 80 });
    // 640x480: 80x60 + 40x30 + 20x15 = 6300.
    expect(ultralytics.accepts(io([['output0', [null, 24, 6300]]]), ctx({ size: { width: 640, height: 480 }, classes: 20 })).ok).toBe(true);
    expect(ultralytics.accepts(io([['output0', [1, 7, 85]]]), ctx()).ok).toBe(true);
    expect(ultralytics.accepts(io([['output0', [1, 84, 7]]]), ctx()).ok).toBe(true);
    expect(ultralytics.accepts(io([['output0', [1, 7, 100]]]), ctx())).toMatchObject({ ok: false, why: expect.stringMatching(/100 boxes, not one per cell/) });
    expect(ultralytics.accepts(io([['output0', [1, 7, 100]]]), ctx({ named: true })).ok).toBe(true);
  });

  it('refuses what the file itself says is another task or end-to-end', () => {
    expect(ultralytics.accepts(io([['output0', [1, 7, 84]]]), ctx({ hints: { task: 'segment' } }))).toMatchObject({ ok: false, why: expect.stringMatching(/task segment/) });
    expect(ultralytics.accepts(io([['output0', [1, 7, 84]]]), ctx({ hints: { end2end: true } })).ok).toBe(false);
  });
});

describe('YOLOv5 classic [1, N, 5 + C]', () => {
  it('multiplies objectness by the class score and reads centre boxes in input pixels', () => {
    const out = tensor('output', [1, 252, 8], (d) => {
      d.set([32, 32, 10, 20, 0.8, 0.1, 0.2, 0.9], 5 * 8);
      d.set([10, 10, 4, 4, 0.2, 1, 0, 0], 6 * 8);
    });
    expect(yolov5.decode([out], dctx())).toEqual([{ x1: 27, y1: 22, x2: 37, y2: 42, score: expect.closeTo(0.72, 5), classId: 2 }]);
  });

  it('accepts three anchors per cell, which YOLOX does not', () => {
    const model = io([['output', [1, 252, 8]]]);
    expect(accepting(model, ctx())).toEqual(['yolov5']);
    expect(accepting(io([['output', [1, 84, 8]]]), ctx())).toEqual(['yolox']);
    expect(yolov5.accepts(io([['output', [1, 25200, 85]]]), ctx({ size: { width: 640, height: 640 }, classes: 80 })).ok).toBe(true);
  });
});

describe('end-to-end [1, K, 6]', () => {
  it('keeps rows above the threshold, skips empty rows, and needs no NMS', () => {
    const out = tensor('output0', [1, 300, 6], (d) => {
      d.set([10, 20, 30, 40, 0.9, 2], 0);
      d.set([11, 21, 31, 41, 0.3, 2], 6);
      d.set([0, 0, 0, 0, 0.1, 1], 12);
    });
    const found = end2end.decode([out], dctx());
    expect(found.map(boxOf)).toEqual([[10, 20, 30, 40], [11, 21, 31, 41]]);
    expect(found.map((c) => c.classId)).toEqual([2, 2]);
    expect(end2end.nms).toBe(false);
  });

  it('is told apart from a transposed two-class Ultralytics output by the row count or the metadata', () => {
    expect(accepting(io([['output0', [1, 300, 6]]]), ctx({ classes: 80 }))).toEqual(['end2end']);
    // 84 rows = one per grid cell: Ultralytics with C = 2, transposed.
    expect(accepting(io([['output0', [1, 84, 6]]]), ctx({ classes: 2 }))).toEqual(['ultralytics']);
    expect(accepting(io([['output0', [1, 84, 6]]]), ctx({ classes: 2, hints: { end2end: true } }))).toEqual(['end2end']);
    expect(end2end.accepts(io([['output0', [1, 300, 6]]]), ctx({ hints: { end2end: false } })).ok).toBe(false);
  });
});

describe('DETR family', () => {
  const sizes: TensorInfo = { name: 'orig_target_sizes', type: 'int64', shape: [null, 2] };
  const graph = io(
    [
      ['labels', [null, null], 'int64'],
      ['boxes', [null, null, 4]],
      ['scores', [null, null]],
    ],
    [image([null, 3, 64, 64]), sizes],
  );

  it('finds labels, boxes and scores by type and shape, and feeds the size input the original [width, height]', () => {
    expect(accepting(graph, ctx({ classes: 80 }))).toEqual(['detr']);
    expect(detr.extraInputs!([sizes])).toEqual({ orig_target_sizes: 'original_wh' });
    const renamed = io(
      [
        ['a', [1, 300], 'int64'],
        ['b', [1, 300]],
        ['c', [1, 300, 4]],
      ],
      graph.inputs,
    );
    expect(detr.accepts(renamed, ctx()).ok).toBe(true);
    expect(detr.accepts(io(graph.outputs.map((o) => [o.name, o.shape as (number | null)[], o.type])), ctx())).toMatchObject({ ok: false, why: expect.stringMatching(/need one \[N, 2\] size input/) });
  });

  it('takes boxes in the pixels of the size fed back to the input frame', () => {
    const outputs = [
      tensor('scores', [1, 3], (d) => d.set([0.9, 0.1, 0.5])),
      tensor('labels', [1, 3], (d) => d.set([3, 1, 7]), 'int64'),
      tensor('boxes', [1, 3, 4], (d) => d.set([100, 50, 300, 150, 0, 0, 1, 1, 10, 10, 20, 20])),
    ];
    // A 400x200 picture stretched to 64x64.
    const found = detr.decode(outputs, dctx({ fedSize: { width: 400, height: 200 } }));
    expect(found.map((c) => [c.classId, ...boxOf(c)])).toEqual([
      [3, 16, 16, 48, 48],
      [7, 1.6, 3.2, 3.2, 6.4],
    ]);
  });

  it('reads logits and normalised cxcywh boxes: sigmoid per class, or softmax with a no-object column', () => {
    const boxes = tensor('pred_boxes', [1, 2, 4], (d) => d.set([0.5, 0.5, 0.25, 0.5, 0.25, 0.25, 0.1, 0.1]));
    const logits3 = tensor('logits', [1, 2, 3], (d) => d.set([3, 2, -5, -5, -5, -5]));
    // Sigmoid: every class of a query above the threshold counts (the top-k over queries x classes).
    const sig = detr.decode([logits3, boxes], dctx());
    expect(sig.map((c) => [c.classId, Math.round(c.score * 1000) / 1000, ...boxOf(c)])).toEqual([
      [0, 0.953, 24, 16, 40, 48],
      [1, 0.881, 24, 16, 40, 48],
    ]);
    // Softmax over 3 classes + no-object: the best class of each query, no-object never reported.
    const logits4 = tensor('logits', [1, 2, 4], (d) => d.set([3, 1, 0, 0, 0, 0, 0, 9]));
    const soft = detr.decode([logits4, boxes], dctx());
    expect(soft).toHaveLength(1);
    expect(soft[0]!.classId).toBe(0);
    expect(soft[0]!.score).toBeCloseTo(Math.exp(3) / (Math.exp(3) + Math.exp(1) + 2), 5);
    expect(detr.accepts(io([['logits', [1, 100, 92]], ['pred_boxes', [1, 100, 4]]]), ctx({ classes: null }))).toMatchObject({ ok: true, classes: 91, why: expect.stringMatching(/softmax/) });
    expect(detr.accepts(io([['dets', [1, 300, 4]], ['labels', [1, 300, 91]]]), ctx({ classes: 91 }))).toMatchObject({ ok: true, classes: 91, why: expect.stringMatching(/sigmoid/) });
    expect(detr.accepts(io([['logits', [1, 300, 50]], ['boxes', [1, 300, 4]]]), ctx({ classes: 80 }))).toMatchObject({ ok: false, why: expect.stringMatching(/50 class columns fit neither/) });
  });
});

describe('GFL heads', () => {
  // 64x64 input: levels of 64, 16 and 4 cells (strides 8, 16, 32); 3 classes, 4 bins (16 columns).
  const LEVELS = [64, 16, 4];
  /** A distribution with all its weight on bin k, for every side of a cell. */
  const peak = (d: Float32Array, at: number, bins: number, ks: number[], step = 1) =>
    ks.forEach((k, side) => {
      for (let b = 0; b < bins; b++) d[at + (side * bins + b) * step] = b === k ? 20 : -20;
    });

  it('pairs class and distribution maps by cell count whatever their names and order, and decodes expected distances', () => {
    // Names shuffled as in NanoDet-m's export: every map named after another.
    const outputs = [
      ...LEVELS.map((n, i) => tensor(`bbox_pred${i}`, [n, 3], (d) => i === 0 && d.set([0, 0.9, 0], 9 * 3))),
      ...LEVELS.map((n, i) => tensor(`cls_score${i}`, [n, 16], (d) => i === 0 && peak(d, 9 * 16, 4, [1, 2, 3, 0]))),
    ];
    const model = io(outputs.map((o) => [o.name, [...o.dims]]));
    expect(gfl.accepts(model, ctx())).toMatchObject({ ok: true, classes: 3, why: expect.stringMatching(/3 levels \(strides 8\/16\/32\)/) });
    const [c, ...rest] = gfl.decode(outputs, dctx());
    expect(rest).toEqual([]);
    // Cell 9 of the 8x8 grid: col 1, row 1; centre (1.5 * 8, 1.5 * 8) = (12, 12); distances (1, 2, 3, 0) x 8.
    expect(c).toMatchObject({ classId: 1, score: expect.closeTo(0.9, 5) });
    expect(boxOf(c!)).toEqual([4, -4, 36, 12]);
  });

  it('reads [1, K, H, W] maps, more levels, other bin counts, and a corner anchor offset', () => {
    // Four levels (strides 8..64), 7 bins (28 columns), NCHW.
    const dims = [8, 4, 2, 1];
    const outputs = dims.flatMap((g, i) => [
      tensor(`c${i}`, [1, 3, g, g], (d) => i === 1 && (d[2 * 16 + 5] = 0.8)),
      tensor(`r${i}`, [1, 28, g, g], (d) => i === 1 && peak(d, 5, 7, [6, 6, 6, 6], 16)),
    ]);
    const model = io(outputs.map((o) => [o.name, [...o.dims]]));
    expect(gfl.accepts(model, ctx())).toMatchObject({ ok: true, why: expect.stringMatching(/4 levels \(strides 8\/16\/32\/64\).*4 x 7 bins/) });
    // Stride 16, cell 5 of the 4x4 grid: col 1, row 1; offset 0 puts the anchor at (16, 16); distances 6 x 16 = 96.
    const [c] = gfl.decode(outputs, dctx({ options: { gridOffset: 0 } }));
    expect(c).toMatchObject({ classId: 2 });
    expect(boxOf(c!)).toEqual([-80, -80, 112, 112]);
  });

  it("reads NanoDet-Plus' single [1, N, C + 4 x bins] output over four levels, anchors at cell corners", () => {
    // 64 + 16 + 4 + 1 = 85 cells, 3 classes + 4 x 8 bins = 35 columns.
    const out = tensor('output', [1, 85, 35], (d) => {
      const row = 64 + 3; // level 2 (stride 16), cell 3: col 3, row 0
      d[row * 35 + 0] = 0.7;
      peak(d, row * 35 + 3, 8, [1, 1, 1, 1]);
    });
    expect(gfl.accepts(io([['output', [1, 85, 35]]]), ctx())).toMatchObject({ ok: true, classes: 3 });
    const [c] = gfl.decode([out], dctx());
    expect(boxOf(c!)).toEqual([32, -16, 64, 16]);
  });

  it('says why maps do not pair', () => {
    expect(gfl.accepts(io([['a', [64, 3]], ['b', [16, 16]]]), ctx())).toMatchObject({ ok: false, why: expect.stringMatching(/1 of its outputs have 64 cells/) });
    expect(gfl.accepts(io([['a', [64, 3]], ['b', [64, 6]]]), ctx())).toMatchObject({ ok: false, why: expect.stringMatching(/not C class scores and 4 x bins/) });
    expect(gfl.accepts(io([['a', [50, 3]], ['b', [50, 16]]]), ctx())).toMatchObject({ ok: false, why: expect.stringMatching(/50 cells is no grid level/) });
  });
});

describe('the family list', () => {
  it('has one module per family, each accepting its own layout and named by format or alias', () => {
    expect(FAMILIES.map((f: Family) => f.name)).toEqual(['yolox', 'ultralytics', 'end2end', 'yolov5', 'detr', 'gfl']);
    expect(familyNamed('yolov8')).toBe(ultralytics);
    expect(familyNamed('nanodet')).toBe(gfl);
    expect(familyNamed('nope')).toBeUndefined();
  });
});
