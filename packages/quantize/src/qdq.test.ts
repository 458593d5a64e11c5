import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { calibratedRange, collectStats } from './calibrate.js';
import { DataType, elemTypes, graphOf, floatData, makeNode, makeTensor, onnx, opsetOf, readModel, valueInfo, writeModel, type Model } from './onnx-graph.js';
import { depthwiseLayers, insertQdq, outputLayers, planQdq, QUANTIZABLE_OPS, type QdqOptions } from './qdq.js';
import { splitCalibration } from './calibrate.js';

const r = (() => {
  let s = 7;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
})();
const randoms = (n: number, scale = 1) => Float32Array.from({ length: n }, () => r() * scale);

/**
 * x [1,2,8,8] -> Conv 3x3 (2->4) -> SiLU (Sigmoid, Mul) -> MaxPool 2x2 -> Conv 1x1 (4->3) -> y:
 * a miniature of a YOLOX block, ending in an output layer.
 */
function tinyModel(): Model {
  return onnx.ModelProto.create({
    irVersion: 6,
    opsetImport: [{ domain: '', version: 11 }],
    graph: {
      name: 'tiny',
      input: [onnx.ValueInfoProto.create({ name: 'x', type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [1, 2, 8, 8].map((dimValue) => ({ dimValue })) } } } })],
      output: [valueInfo('y', DataType.FLOAT)],
      initializer: [
        makeTensor('w1', DataType.FLOAT, [4, 2, 3, 3], randoms(72, 0.5)),
        makeTensor('b1', DataType.FLOAT, [4], randoms(4, 0.2)),
        makeTensor('w2', DataType.FLOAT, [3, 4, 1, 1], randoms(12)),
        makeTensor('b2', DataType.FLOAT, [3], randoms(3, 0.1)),
      ],
      node: [
        makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], 'conv1', { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        makeNode('Sigmoid', ['c1'], ['s1'], 'sigmoid1'),
        makeNode('Mul', ['c1', 's1'], ['a1'], 'silu1'),
        makeNode('MaxPool', ['a1'], ['p1'], 'pool1', { kernel_shape: [2, 2], strides: [2, 2] }),
        makeNode('Conv', ['p1', 'w2', 'b2'], ['y'], 'head'),
      ],
    },
  });
}

const FULL: QdqOptions = { activationType: 'uint8', ops: QUANTIZABLE_OPS, keepOutputLayersFloat: true };
const inputs = Array.from({ length: 8 }, () => randoms(128, 3));

async function run(bytes: Uint8Array, x: Float32Array, level: 'disabled' | 'all' = 'all') {
  const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: level });
  const out = (await s.run({ x: new ort.Tensor('float32', x, [1, 2, 8, 8]) })).y!.data as Float32Array;
  await s.release();
  return out;
}

describe('ONNX graph I/O', () => {
  it('round-trips initializers through encode/decode (raw_data at any offset)', () => {
    const original = tinyModel();
    const model = readModel(writeModel(original));
    const w1 = graphOf(model).initializer!.find((t) => t.name === 'w1')!;
    expect(Array.from(floatData(w1))).toEqual(Array.from(floatData(graphOf(original).initializer![0]!)));
  });

  it('infers element types through the graph', () => {
    const g = graphOf(tinyModel());
    g.node!.push(makeNode('Shape', ['y'], ['shape'], 'shape'));
    const types = elemTypes(g);
    expect(types.get('a1')).toBe(DataType.FLOAT);
    expect(types.get('shape')).toBe(DataType.INT64);
  });
});

describe('calibration split', () => {
  it('calibrates on even positions and holds the odd ones out, whatever the input order', () => {
    const files = ['d.jpg', 'a.jpg', 'c.jpg', 'b.jpg', 'e.jpg'];
    expect(splitCalibration(files, (f) => f)).toEqual({ calibration: ['a.jpg', 'c.jpg', 'e.jpg'], heldOut: ['b.jpg', 'd.jpg'] });
  });
});

describe('QDQ rewrite', () => {
  it('plans the body and leaves the output layer in float', () => {
    const g = graphOf(tinyModel());
    expect([...outputLayers(g)]).toEqual([4]);
    const plan = planQdq(g, FULL);
    expect([...plan.nodes].sort()).toEqual([0, 1, 2, 3]);
    expect(plan.tensors.sort()).toEqual(['a1', 'c1', 'p1', 's1', 'x']);
    expect(planQdq(g, { ...FULL, keepOutputLayersFloat: false }).tensors).not.toContain('y');
    expect([...planQdq(g, { ...FULL, ops: ['Conv'] }).nodes]).toEqual([0]);
  });

  it('can keep depthwise convs and their SiLU in float', () => {
    const g = graphOf(tinyModel());
    expect(depthwiseLayers(g).size).toBe(0);
    g.node[0]!.attribute.push(onnx.AttributeProto.create({ name: 'group', type: onnx.AttributeProto.AttributeType.INT, i: 2 }));
    expect([...depthwiseLayers(g)].sort()).toEqual([0, 1, 2]);
    expect([...planQdq(g, { ...FULL, keepDepthwiseFloat: true }).nodes]).toEqual([3]);
  });

  it('writes a model onnxruntime-node runs, close to the float one, fused into integer kernels', async () => {
    const model = tinyModel();
    const plan = planQdq(graphOf(model), FULL);
    const stats = await collectStats(model, plan.tensors, inputs, { histograms: false });
    // Calibration saw exactly the input's extremes.
    const xs = inputs.flatMap((x) => Array.from(x));
    expect(stats.get('x')!.min).toBe(Math.min(...xs));
    expect(stats.get('x')!.max).toBe(Math.max(...xs));
    const ranges = new Map(plan.tensors.map((t) => [t, calibratedRange(stats.get(t)!, 'minmax')]));
    const q = insertQdq(model, plan, ranges, FULL);
    expect(opsetOf(q)).toBe(13);
    // MaxPool only selects values: its output shares its input's scale and zero point.
    const scaleOf = (tensor: string) => graphOf(q).node!.find((n) => n.opType === 'QuantizeLinear' && n.input![0] === tensor)!.input![1]!;
    const value = (name: string) => floatData(graphOf(q).initializer!.find((t) => t.name === name)!)[0];
    expect(value(scaleOf('p1'))).toBe(value(scaleOf('a1')));
    // Weights are stored as int8, the float copies dropped.
    const names = graphOf(q).initializer!.map((t) => t.name);
    expect(names).not.toContain('w1');
    expect(graphOf(q).initializer!.find((t) => t.name === 'w1/quantized')!.dataType).toBe(DataType.INT8);
    expect(names).toContain('w2');

    const bytes = writeModel(q);
    for (const x of inputs.slice(0, 3)) {
      const want = await run(writeModel(model), x);
      for (const level of ['disabled', 'all'] as const) {
        const got = await run(bytes, x, level);
        const err = Math.sqrt(want.reduce((a, v, i) => a + (v - got[i]!) ** 2, 0) / want.reduce((a, v) => a + v * v, 0));
        expect(err).toBeLessThan(0.05);
      }
    }

    const dir = await mkdtemp(path.join(os.tmpdir(), 'qdq-test-'));
    try {
      const optimized = path.join(dir, 'optimized.onnx');
      await (await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'extended', optimizedModelFilePath: optimized })).release();
      const ops = readModel(await readFile(optimized)).graph!.node!.map((n) => n.opType);
      expect(ops).toEqual(expect.arrayContaining(['QLinearConv', 'QLinearSigmoid', 'QLinearMul', 'Conv']));
      expect(ops).not.toContain('Sigmoid');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a model whose ops changed at opset 13', () => {
    const model = tinyModel();
    graphOf(model).node!.push(makeNode('Unsqueeze', ['y'], ['z'], 'unsqueeze', { axes: [0] }));
    expect(() => insertQdq(model, { nodes: new Set(), tensors: [], siluInputs: new Map() }, new Map(), FULL)).toThrow(/Unsqueeze changed at opset 13/);
  });
});
