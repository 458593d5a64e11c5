import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readOnnxFile } from './onnx-file.js';

const root = path.resolve(import.meta.dirname, '../../..');
const zoo = (f: string) => readFileSync(path.resolve(root, '../shared/models/zoo', f));

/** Protobuf bytes: a tag, then a varint or a length-delimited payload. */
const varint = (v: number) => {
  const out: number[] = [];
  for (; v >= 0x80; v = Math.floor(v / 128)) out.push((v % 128) | 0x80);
  return [...out, v];
};
const field = (n: number, body: number[] | string | number) =>
  typeof body === 'number' ? [...varint(n * 8), ...varint(body)] : ((b) => [...varint(n * 8 + 2), ...varint(b.length), ...b])(typeof body === 'string' ? [...new TextEncoder().encode(body)] : body);
const valueInfo = (name: string, elem: number, dims: (number | string)[]) =>
  [...field(1, name), ...field(2, field(1, [...field(1, elem), ...field(2, dims.flatMap((d) => field(1, typeof d === 'number' ? field(1, d) : field(2, d))))]))];

describe('readOnnxFile', () => {
  it("reads the zoo's inputs, outputs and Ultralytics metadata", () => {
    const v8 = readOnnxFile(zoo('yolov8n_int8.onnx'));
    expect(v8.io.inputs).toEqual([{ name: 'images', type: 'float32', shape: [1, 3, 640, 640] }]);
    expect(v8.io.outputs).toEqual([{ name: 'output0', type: 'float32', shape: [1, 84, 8400] }]);
    expect(v8.metadata).toMatchObject({ imgsz: '[640, 640]', end2end: 'False', task: 'detect' });
    const deim = readOnnxFile(zoo('deimv2_atto_320.onnx'));
    expect(deim.io.inputs).toEqual([
      { name: 'images', type: 'float32', shape: [null, 3, 320, 320] },
      { name: 'orig_target_sizes', type: 'int64', shape: [null, 2] },
    ]);
    expect(deim.io.outputs.map((o) => `${o.name} ${o.type} ${o.shape.length}`)).toEqual(['labels int64 2', 'boxes float32 3', 'scores float32 2']);
    expect(readOnnxFile(zoo('nanodet_m_320.onnx')).io.outputs.map((o) => o.shape)).toEqual([[1600, 80], [400, 80], [100, 80], [1600, 32], [400, 32], [100, 32]]);
  });

  it('leaves out initializers that old exporters list among the inputs, and reads symbolic dims as null', () => {
    const graph = [...field(5, field(8, 'weight')), ...field(11, valueInfo('x', 1, ['batch', 3, 8, 8])), ...field(11, valueInfo('weight', 1, [4])), ...field(12, valueInfo('y', 7, [1, 2]))];
    const model = Uint8Array.from([...field(1, 3), ...field(2, 'test'), ...field(7, graph), ...field(14, [...field(1, 'k'), ...field(2, 'v')])]);
    expect(readOnnxFile(model)).toEqual({
      io: { inputs: [{ name: 'x', type: 'float32', shape: [null, 3, 8, 8] }], outputs: [{ name: 'y', type: 'int64', shape: [1, 2] }] },
      metadata: { k: 'v' },
      irVersion: 3,
      producer: 'test',
    });
  });

  it('refuses bytes that are not a model', () => {
    expect(() => readOnnxFile(new TextEncoder().encode('not a model at all'))).toThrow(/not an ONNX model/);
    expect(() => readOnnxFile(Uint8Array.from(field(1, 7)))).toThrow(/not an ONNX model: no graph/);
  });
});
